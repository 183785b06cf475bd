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
from mcplint.results.order import WALK

Reached = Callable[[dict[str, Any]], bool]


def _post_answered(live: dict[str, Any]) -> bool:
    return dig(live, "mcp", "post", "status") is not None


# When each step of the walk (mcplint/results/order.py) counts as reached.
REACHED: dict[str, Reached] = {
    "Public DNS": lambda live: bool(live.get("dns")),
    "Reachability and TLS": lambda live: bool(live.get("connections")),
    "Redirects": _post_answered,
    "Edge blocks (WAF, CDN, bot rules)": _post_answered,
    "The MCP endpoint and its challenge": _post_answered,
    "Protected resource metadata": lambda live: bool(dig(live, "prm", "attempted")),
    "The authorization server": lambda live: bool(dig(live, "as", "attempted")),
    "Client registration": lambda live: bool(dig(live, "as", "found")),
    "PKCE": lambda live: bool(dig(live, "as", "found")),
    "Issuer": lambda live: bool(dig(live, "as", "found")),
    "Audience and resource":
        lambda live: bool(dig(live, "prm", "found") or dig(live, "token", "attempted")),
    "Refresh errors": lambda live: bool(dig(live, "token", "attempted")),
}
STEPS: tuple[tuple[str, tuple[str, ...], Reached], ...] = tuple(
    (title, codes, REACHED[title]) for title, codes in WALK)


def _mark(report: Report, text: str, color: str | None) -> str:
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
                mark = _mark(report, "----", None)  # the terminal's own colour
            suffix = "" if problems or reached(live) else "  (not reached)"
            out.write(f"  [{mark}] {title}{suffix}\n")
            for finding in mine:
                for line in _finding_lines(finding):
                    out.write(line + "\n")
        others = [f for f in findings if id(f) not in placed]
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
