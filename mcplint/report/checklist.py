"""`mcplint probe`'s text output: the troubleshooting checklist, in the order a hosted
client goes through it, each step passed, failed (with the finding, its evidence and the
error the user sees), not verified (a check that needs what mcplint does not have), or not
checked, with why (not reached; the MCP URL redirects, so its answer says nothing about the
endpoint). A step passes only when mcplint judged it and found nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from mcplint.escape import visible
from mcplint.facts import dig
from mcplint.findings import SYMPTOMS, Finding
from mcplint.report import Report
from mcplint.report.text import evidence_line
from mcplint.results.order import WALK

Checked = Callable[[dict[str, Any]], "str | None"]


def _post(live: dict[str, Any]) -> str | None:
    """None when the first contact got an MCP answer (the endpoint could be judged), else
    why it could not be."""
    outcome = dig(live, "mcp", "post", "outcome")
    if outcome == "answered":
        return None
    if outcome == "redirect":
        return "not checked: the MCP URL redirects, so its answer is not the endpoint's"
    if outcome == "edge-block":
        return "not checked: the edge blocked the request before the endpoint"
    return "not reached"


def _needs(*path: str, reason: str = "not reached") -> Checked:
    return lambda live: None if dig(live, *path) else reason


def _any(*checks: Checked) -> Checked:
    def check(live: dict[str, Any]) -> str | None:
        reasons = [c(live) for c in checks]
        return None if None in reasons else reasons[0]
    return check


# For each step of the walk (mcplint/results/order.py): None when mcplint could judge it,
# else why not. A step passes only when it was judged and nothing was found.
CHECKED: dict[str, Checked] = {
    "Public DNS": lambda live: None if live.get("dns") else "not reached",
    "Reachability and TLS": lambda live: None if live.get("connections") else "not reached",
    "Redirects": lambda live: None if dig(live, "mcp", "post", "status") is not None
    else "not reached",
    "Edge blocks (WAF, CDN, bot rules)":
        lambda live: None if dig(live, "mcp", "post", "outcome") in ("answered", "edge-block")
        else _post(live),
    "The MCP endpoint and its challenge": _post,
    "Protected resource metadata": _needs("prm", "attempted"),
    "The authorization server": _needs("as", "attempted"),
    "Client registration": _needs("as", "found"),
    "PKCE": _needs("as", "found"),
    "Issuer": _needs("as", "found"),
    "Audience and resource": _any(_needs("prm", "found"), _needs("token", "answered")),
    "Refresh errors": _needs("token", "answered"),
}
STEPS: tuple[tuple[str, tuple[str, ...], Checked], ...] = tuple(
    (title, codes, CHECKED[title]) for title, codes in WALK)
MARKS = {"pass": ("pass", "green"), "fail": ("FAIL", "red"), "open": (" ?? ", "yellow"),
         "none": ("----", None)}


def _mark(report: Report, state: str) -> str:
    text, color = MARKS[state]
    if not report.color:
        return text
    import click

    return click.style(text, fg=color, bold=True)


def _finding_lines(finding: Finding) -> list[str]:
    kind = "not verified" if finding.not_verified else finding.severity
    lines = [f"      {finding.code} {kind} {finding.name}: {visible(finding.message)}"]
    if finding.evidence:
        lines.append(f"        evidence: {evidence_line(finding.evidence)}")
    if (finding.symptom in ("reach", "auth") and finding.severity != "info"
            and not finding.not_verified):
        lines.append(f"        the user sees: \"{SYMPTOMS[finding.symptom]}\"")
    return lines


def write(report: Report, out: IO[str]) -> None:
    for result in report.results:
        live = result.live or {}
        findings = [f for f in result.findings if not f.suppressed]
        out.write(f"mcplint probe {visible(result.path)}\n\n")
        placed: set[int] = set()
        failed_symptoms = []
        open_steps = []
        for title, codes, checked in STEPS:
            mine = [f for f in findings if f.code in codes]
            placed |= {id(f) for f in mine}
            problems = [f for f in mine if f.severity != "info" and not f.not_verified]
            why_not = checked(live)
            suffix = ""
            if problems:
                state = "fail"
                failed_symptoms += [f.symptom for f in problems]
            elif any(f.not_verified for f in mine):
                state = "open"
                open_steps.append(title)
                suffix = "  (not verified: see below)"
            elif why_not is None:
                state = "pass"
            else:  # never a pass for what was not judged
                state, suffix = "none", f"  ({why_not})"
            out.write(f"  [{_mark(report, state)}] {title}{suffix}\n")
            for finding in mine:
                for line in _finding_lines(finding):
                    out.write(line + "\n")
        others = [f for f in findings if id(f) not in placed]
        # A finding of no step (a user's policy) is a failure all the same.
        failed_symptoms += [f.symptom for f in others
                            if f.severity != "info" and not f.not_verified]
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
            unverified = f" (not verified: {', '.join(open_steps)})" if open_steps else ""
            out.write(f"No step failed: a hosted client should be able to connect{unverified}.\n")
            continue
        for symptom in ("reach", "auth"):
            if symptom in failed_symptoms:
                out.write(f"Users would see: \"{SYMPTOMS[symptom]}\"\n")
        leading = next((f for f in findings if f.severity == "error" and not f.not_verified),
                       None)
        if leading is not None:
            out.write(f"What a rule checks and how to fix it: mcplint explain {leading.code}\n")
