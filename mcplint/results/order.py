"""The order findings are shown in, and which of them share one root cause.

Static findings read like a compiler's: file, line, column. Live ones (`verify`, `probe`)
lead with what broke the connection: by severity, then in the order the hosted client
walks the discovery chain, so an info about the token endpoint never comes before the
error that stopped the client at DNS. A finding whose rule is the `root-of` another's, in
the same manifest, is shown first with the others under it (`Finding.root`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcplint.findings import severity_rank

if TYPE_CHECKING:
    from mcplint.findings import Finding
    from mcplint.policy.catalog import Rule

# The steps of the hosted client's walk, in order, with the rules judging each (the probe
# checklist shows the same steps).
WALK: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Public DNS", ("MCP201", "MCP202", "MCP203", "MCP204", "MCP205", "MCP206")),
    ("Reachability and TLS", ("MCP308", "MCP309")),
    ("Redirects", ("MCP305", "MCP306", "MCP311")),
    ("Edge blocks (WAF, CDN, bot rules)", ("MCP307",)),
    ("The MCP endpoint and its challenge",
     ("MCP101", "MCP102", "MCP103", "MCP104", "MCP105", "MCP106", "MCP107", "MCP108",
      "MCP109", "MCP110", "MCP111", "MCP401", "MCP402", "MCP403", "MCP404", "MCP415",
      "MCP604")),
    ("Protected resource metadata", ("MCP405", "MCP406", "MCP408", "MCP410", "MCP411",
                                     "MCP412", "MCP413", "MCP414", "MCP416")),
    ("The authorization server", ("MCP501", "MCP504", "MCP509", "MCP511", "MCP512", "MCP514",
                                  "MCP515", "MCP519", "MCP520", "MCP605")),
    ("Client registration", ("MCP506", "MCP507", "MCP508", "MCP513", "MCP517", "MCP518")),
    ("PKCE", ("MCP505",)),
    ("Issuer", ("MCP409", "MCP502")),
    ("Audience and resource", ("MCP407", "MCP606", "MCP601")),
    ("Refresh errors", ("MCP602", "MCP603")),
)
_WALK_RANK = {code: rank for rank, (_, codes) in enumerate(WALK) for code in codes}


def _live_key(finding: Finding) -> tuple[Any, ...]:
    return (finding.not_verified, severity_rank(finding.severity),
            _WALK_RANK.get(finding.code, len(WALK)), *finding.sort_key())


def arrange(findings: list[Finding], rules: dict[str, Rule], live: bool) -> list[Finding]:
    """The findings in the order they are shown, each root cause followed by what it
    caused (marked with `root`, the root finding's fingerprint)."""
    static = sorted((f for f in findings if f.source != "live"), key=lambda f: f.sort_key())
    found = sorted((f for f in findings if f.source == "live"), key=_live_key) if live else []
    ordered = [*found, *static] if live else sorted(findings, key=lambda f: f.sort_key())
    roots: dict[str, Finding] = {}  # code -> the first unsuppressed problem of a root rule
    for finding in ordered:
        rule = rules.get(finding.code)
        if rule is not None and rule.root_of and not finding.suppressed:
            roots.setdefault(finding.code, finding)
    # Each group (a root and what it caused) is shown where its first member would be.
    groups: dict[int, list[Finding]] = {}
    for finding in ordered:
        root = next((r for r in roots.values() if r is not finding and not finding.suppressed
                     and not finding.not_verified and r.manifest == finding.manifest
                     and finding.code in rules[r.code].root_of), None)
        if root is None:
            groups.setdefault(id(finding), []).insert(0, finding)
        else:
            groups.setdefault(id(root), []).append(finding.with_(root=root.fingerprint))
    return [finding for group in groups.values() for finding in group]
