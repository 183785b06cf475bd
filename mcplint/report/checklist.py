"""`mcplint probe`'s text output: the troubleshooting checklist, in the order a hosted
client goes through it, each step passed, failed (with the finding, its evidence and the
error the user sees) or not reached."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from mcplint.facts import dig
from mcplint.findings import SYMPTOMS, Finding
from mcplint.report import Report
from mcplint.report.escape import visible
from mcplint.report.text import evidence_line

Reached = Callable[[dict[str, Any]], bool]


def _post_answered(live: dict[str, Any]) -> bool:
    return dig(live, "mcp", "post", "status") is not None


# (title, rule codes, reached when) in the order the hosted client meets them.
STEPS: tuple[tuple[str, tuple[str, ...], Reached], ...] = (
    ("Public DNS", ("MCP201", "MCP202", "MCP203", "MCP204", "MCP205", "MCP206"),
     lambda live: bool(live.get("dns"))),
    ("Reachability and TLS", ("MCP308", "MCP309"), lambda live: bool(live.get("connections"))),
    ("Redirects", ("MCP305", "MCP306", "MCP311"), _post_answered),
    ("Edge blocks (WAF, CDN, bot rules)", ("MCP307",), _post_answered),
    ("The MCP endpoint and its challenge",
     ("MCP101", "MCP102", "MCP103", "MCP104", "MCP105", "MCP106", "MCP107", "MCP108",
      "MCP109", "MCP110", "MCP111", "MCP401", "MCP402", "MCP403", "MCP404", "MCP604"),
     _post_answered),
    ("Protected resource metadata", ("MCP405", "MCP406", "MCP408", "MCP410", "MCP411",
                                     "MCP412", "MCP413", "MCP414", "MCP415"),
     lambda live: bool(dig(live, "prm", "attempted"))),
    ("The authorization server", ("MCP501", "MCP504", "MCP509", "MCP511", "MCP512", "MCP514",
                                  "MCP515", "MCP605"),
     lambda live: bool(dig(live, "as", "attempted"))),
    ("Client registration", ("MCP506", "MCP507", "MCP508", "MCP513"),
     lambda live: bool(dig(live, "as", "found"))),
    ("PKCE", ("MCP505",), lambda live: bool(dig(live, "as", "found"))),
    ("Issuer", ("MCP409", "MCP502"), lambda live: bool(dig(live, "as", "found"))),
    ("Audience and resource", ("MCP407", "MCP606", "MCP601"),
     lambda live: bool(dig(live, "prm", "found") or dig(live, "token", "attempted"))),
    ("Refresh errors", ("MCP602", "MCP603"), lambda live: bool(dig(live, "token", "attempted"))),
)


def _mark(report: Report, text: str, color: str) -> str:
    if not report.color:
        return text
    import click

    return click.style(text, fg=color, bold=True)


def _finding_lines(finding: Finding) -> list[str]:
    lines = [f"      {finding.code} {finding.severity} {finding.name}: "
             f"{visible(finding.message)}"]
    if finding.evidence:
        lines.append(f"        evidence: {evidence_line(finding.evidence)}")
    if finding.symptom in ("reach", "auth") and finding.severity != "info":
        lines.append(f"        the user sees: \"{SYMPTOMS[finding.symptom]}\"")
    return lines


def write(report: Report, out: IO[str]) -> None:
    for result in report.results:
        live = result.live or {}
        findings = [f for f in result.findings if not f.suppressed]
        out.write(f"mcplint probe {visible(result.path)}\n\n")
        placed: set[int] = set()
        failed_symptoms = []
        for title, codes, reached in STEPS:
            mine = [f for f in findings if f.code in codes]
            placed |= {id(f) for f in mine}
            problems = [f for f in mine if f.severity != "info"]
            if problems:
                mark = _mark(report, "FAIL", "red")
                failed_symptoms += [f.symptom for f in problems]
            elif reached(live):
                mark = _mark(report, "pass", "green")
            else:
                mark = _mark(report, "----", "white")
            suffix = "" if problems or reached(live) else "  (not reached)"
            out.write(f"  [{mark}] {title}{suffix}\n")
            for finding in mine:
                for line in _finding_lines(finding):
                    out.write(line + "\n")
        others = [f for f in findings if id(f) not in placed]
        failed_symptoms += [f.symptom for f in others if f.severity != "info"]
        if others:
            out.write("  Other findings\n")
            for finding in others:
                for line in _finding_lines(finding):
                    out.write(line + "\n")
        out.write("\n")
        if live.get("resolvers_answered") is False:  # nothing was judged (exit code 3)
            out.write("Not judged: no resolver answered, so no step could be checked.\n")
            continue
        if not failed_symptoms:
            out.write("No step failed: a hosted client should be able to connect.\n")
            continue
        for symptom in ("reach", "auth"):
            if symptom in failed_symptoms:
                out.write(f"Users would see: \"{SYMPTOMS[symptom]}\"\n")
