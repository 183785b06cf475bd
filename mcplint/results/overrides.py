"""One root cause, one finding: where one fault trips several rules, only the most specific
is reported, so counts, baselines and exit codes mean the same in every build."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcplint.findings import Finding
    from mcplint.policy.catalog import Rule


def _encloses(outer: str, inner: str) -> bool:
    return inner == outer or inner.startswith(outer + "/")


def drop_overridden(findings: list[Finding], rules: dict[str, Rule]) -> list[Finding]:
    """One root cause, one finding: drop a finding when a rule listed in its rule's
    `overridden-by` reports on the same node or an enclosing one, from the same source."""
    by_code: dict[str, list[Finding]] = {}
    for finding in findings:
        by_code.setdefault(finding.code, []).append(finding)
    kept = []
    for finding in findings:
        rule = rules.get(finding.code)
        overriding = rule.overridden_by if rule else ()
        if any(other.source == finding.source and other.manifest == finding.manifest
               and _encloses(other.location.anchor, finding.location.anchor)
               for code in overriding for other in by_code.get(code, ())):
            continue
        kept.append(finding)
    return kept

