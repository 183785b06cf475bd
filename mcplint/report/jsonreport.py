"""The JSON report: versioned, documented by `mcplint schema report`."""

from __future__ import annotations

import json
from typing import IO, Any

from mcplint import __version__
from mcplint.escape import json_value
from mcplint.findings import Finding
from mcplint.load.schemacheck import KNOWN_VERSIONS
from mcplint.policy.catalog import CATALOG_VERSION
from mcplint.report import REPORT_VERSION, Report


def finding_json(report: Report, finding: Finding) -> dict[str, Any]:
    span = finding.location.span
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity,
        "outcome": finding.outcome,
        "message": finding.message,
        "file": finding.file,
        "line": span.line if span and finding.file else None,
        "column": span.column if span and finding.file else None,
        "end_line": span.end_line if span and finding.file else None,
        "end_column": span.end_column if span and finding.file else None,
        "pointer": finding.location.pointer,
        "manifest": finding.manifest,
        "symptom": finding.symptom,
        "source": finding.source,
        "evidence": finding.evidence,
        "fingerprint": finding.fingerprint,
        "caused_by": finding.root or None,
        "suppression": finding.suppression,
        "help_uri": report.help_uri(finding.code),
    }


def document(report: Report) -> dict[str, Any]:
    return {
        "report_version": REPORT_VERSION,
        "tool": {"name": "mcplint", "version": __version__, "catalog_version": CATALOG_VERSION,
                 "manifest_versions": list(KNOWN_VERSIONS)},
        "command": report.command,
        "files": [{"path": r.path, "rules_run": sorted(r.rules_run),
                   "findings": sum(1 for f in r.findings
                                   if not f.suppressed and not f.not_verified),
                   "not_verified": sum(1 for f in r.findings
                                       if not f.suppressed and f.not_verified)}
                  for r in report.results],
        "findings": [finding_json(report, f) for f in report.findings],
        "summary": report.counts(),
        **report.extras,
    }


def write(report: Report, out: IO[str]) -> None:
    json.dump(json_value(document(report)), out, indent=2)
    out.write("\n")
