"""GitLab Code Quality: the JSON report the merge-request widget and the pipeline's Code
Quality tab show (artifacts:reports:codequality). An array of issues, each with a
description, the rule as `check_name`, a fingerprint unique to the issue, a severity and
its place (`location.path` relative to the repository root, `location.lines.begin`).

Suppressed findings are left out: the widget has no notion of an accepted issue.
"""

from __future__ import annotations

import json
from typing import IO, Any

from mcplint.findings import Finding
from mcplint.report import Report

SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


def issue(report: Report, finding: Finding, manifests: list[str]) -> dict[str, Any]:
    kind = " (not verified)" if finding.not_verified else ""  # no problem, not a pass either
    description = f"{finding.code} {finding.name}{kind}: {finding.message}"
    if len(manifests) > 1:
        description += f" (used by {', '.join(report.path(m) for m in manifests)})"
    if finding.file is None:  # probe: a URL, not a file
        path = str((finding.evidence or {}).get("url") or "")
    else:
        path = report.path(finding.file)
    return {
        "type": "issue",
        "description": description,
        "check_name": finding.code,
        "fingerprint": finding.fingerprint,
        "severity": "info" if finding.not_verified else SEVERITIES[finding.severity],
        "location": {"path": path, "lines": {"begin": finding.line or 1}},
    }


def document(report: Report) -> list[dict[str, Any]]:
    import hashlib

    issues, seen = [], set()
    for finding, manifests in report.distinct():
        if finding.suppressed:
            continue
        entry = issue(report, finding, manifests)
        if entry["fingerprint"] in seen:  # GitLab needs one per issue: the same finding,
            # differently worded for another manifest, gets one of its own
            entry["fingerprint"] = hashlib.sha256(
                f"{entry['fingerprint']}\0{manifests[0]}".encode()).hexdigest()[:32]
        seen.add(entry["fingerprint"])
        issues.append(entry)
    return issues


def write(report: Report, out: IO[str]) -> None:
    json.dump(document(report), out, indent=2)
    out.write("\n")
