"""SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps) and SARIF viewers.

Rules carry their documentation page as help (the same text as docs/rules/CODE.md) and
their default level; results carry regions, the JSON pointer as a logical location,
`partialFingerprints` (code + file + pointer + value hash, never the line, so an alert
survives edits elsewhere in the file) and suppressions with their justification (inline
comments are `inSource`, the baseline is `external`), so code scanning closes them itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from mcplint import __version__
from mcplint.escape import json_value, visible
from mcplint.findings import SYMPTOMS, Finding, Location
from mcplint.policy.catalog import CATALOG_VERSION
from mcplint.report import Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "mcplint/v1"
ROOT_ID = "%SRCROOT%"


def document(report: Report) -> dict[str, Any]:
    codes = sorted({c for r in report.results for c in r.rules_run}
                   | {f.code for f in report.findings})
    codes = [c for c in codes if c in report.catalog.rules]
    index = {code: i for i, code in enumerate(codes)}
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "mcplint", "version": __version__,
                            "semanticVersion": __version__,
                            "properties": {"catalogVersion": CATALOG_VERSION},
                            "rules": [_rule(report, code) for code in codes]}},
        # The repository root (report.root): a code-scanning upload resolves the relative
        # URIs below against its checkout, whatever folder mcplint ran in.
        "originalUriBaseIds": {ROOT_ID: {"uri": (report.root or Path.cwd()).as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": True}],
        "results": [_result(report, f, index, manifests)
                    for f, manifests in report.distinct()],
        "properties": {"command": report.command, "summary": report.counts(),
                       **report.extras},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _rule(report: Report, code: str) -> dict[str, Any]:
    from mcplint.report import ruledocs

    rule = report.catalog.rules[code]
    documentation = report.catalog.documentation(code)
    docs = documentation.get("docs", {})
    plain = "\n\n".join(docs[k].strip() for k in ("what", "why", "fix") if docs.get(k))
    entry: dict[str, Any] = {
        "id": code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": (docs.get("what") or rule.summary).strip()},
        "help": {"text": plain or rule.summary,
                 "markdown": ruledocs.page(rule, documentation,
                                              data=report.catalog.data)},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": [SYMPTOMS[rule.symptom], *rule.modes],
                       "symptom": rule.symptom, "profiles": list(rule.profiles)},
    }
    uri = report.help_uri(code)
    if uri:
        entry["helpUri"] = uri
    return entry


def _result(report: Report, finding: Finding, index: dict[str, int],
            manifests: list[str]) -> dict[str, Any]:
    shown = [report.path(m) for m in manifests]
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": LEVELS[finding.severity],
        "message": {"text": visible(finding.message)},
        "locations": [_location(report, finding.location, finding)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {"symptom": finding.symptom, "source": finding.source,
                       "manifest": shown[0] if finding.manifest else None,
                       "manifests": shown if finding.manifest else []},
    }
    if finding.not_verified:
        # SARIF's "open": evaluated, but not enough information for a verdict (3.27.9);
        # a kind other than "fail" takes level "none".
        result["kind"], result["level"] = "open", "none"
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if finding.evidence:
        result["properties"]["evidence"] = finding.evidence
    if finding.related:
        result["relatedLocations"] = [
            {"id": number, **_location(report, location, None), "message": {"text": visible(text)}}
            for number, (location, text) in enumerate(finding.related, start=1)]
    if finding.suppression:
        kind = "inSource" if finding.suppression.get("kind") == "inline" else "external"
        result["suppressions"] = [{"kind": kind, "status": "accepted",
                                   "justification": finding.suppression.get("reason") or ""}]
    return result


def _location(report: Report, location: Location, finding: Finding | None) -> dict[str, Any]:
    """A file region; a finding about a URL with no manifest (probe) points at the URL."""
    if location.file is None:
        url = str(((finding and finding.evidence) or {}).get("url") or "")
        physical: dict[str, Any] = {"artifactLocation": {"uri": url}} if url else {}
    else:
        physical = {"artifactLocation": _artifact(report.path(location.file))}
        span = location.span
        if span is not None:
            physical["region"] = {"startLine": span.line, "startColumn": span.column,
                                  "endLine": span.end_line, "endColumn": span.end_column}
    place: dict[str, Any] = {}
    if physical:
        place["physicalLocation"] = physical
    if location.pointer:
        place["logicalLocations"] = [{"fullyQualifiedName": location.pointer}]
    return place


def _artifact(file: str) -> dict[str, str]:
    path = Path(file)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(path.as_posix()), "uriBaseId": ROOT_ID}


def write(report: Report, out: IO[str]) -> None:
    json.dump(json_value(document(report)), out, indent=2)
    out.write("\n")
