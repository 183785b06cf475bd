"""`path:line:col: CODE severity name: message`, per file, then a summary by symptom."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from mcplint.findings import SYMPTOMS, Finding
from mcplint.report import Report, bounded
from mcplint.report.escape import log_line, visible

_COLORS = {"error": "red", "warning": "yellow", "info": "blue"}


def _style(report: Report, text: str, **style: Any) -> str:
    if not report.color:
        return text
    import click

    return click.style(text, **style)


def location(finding: Finding, report: Report | None = None) -> str:
    """`file:line:col` as one visible line (a file name can hold anything); with a report,
    the file as named relative to its root (the CI-facing formats), else as typed."""
    if finding.file is None:
        return visible((finding.evidence or {}).get("url") or finding.location.pointer or "-")
    file = report.path(finding.file) if report is not None else finding.file
    return visible(f"{file}:{finding.line or 1}:{finding.column or 1}")


def evidence_line(evidence: dict[str, Any]) -> str:
    """One line a reader can reproduce: the request, what came back, what is at fault
    (visible: servers chose most of it)."""
    return visible(_evidence_line(evidence))


def _evidence_line(evidence: dict[str, Any]) -> str:
    parts = []
    if evidence.get("method") or evidence.get("url"):
        parts.append(" ".join(str(evidence[k]) for k in ("method", "url") if evidence.get(k)))
    elif evidence.get("host"):  # DNS evidence: the name that was asked
        parts.append(f"host {evidence['host']}")
    if evidence.get("status") is not None:
        parts.append(f"-> {evidence['status']}")
    if (evidence.get("elapsed_ms") or 0) >= 1000:  # slowness is the evidence itself
        parts.append(f"after {evidence['elapsed_ms'] / 1000:.1f} s")
    if evidence.get("error"):
        parts.append(f"({evidence['error']})")
    for key in ("header", "field", "answers", "resolver"):
        if evidence.get(key):
            parts.append(f"{key}: {evidence[key]}")
    return " ".join(parts)


def _finding_lines(report: Report, finding: Finding) -> Iterable[str]:
    severity = _style(report, finding.severity, fg=_COLORS[finding.severity], bold=True)
    head = _style(report, location(finding), bold=True)
    line = f"{head}: {finding.code} {severity} {finding.name}: {visible(finding.message)}"
    if finding.suppressed:
        reason = visible((finding.suppression or {}).get("reason") or "")
        line += _style(report, f"  [suppressed{': ' + reason if reason else ''}]", dim=True)
    yield log_line(line)
    if finding.evidence:
        yield f"    evidence: {evidence_line(finding.evidence)}"
    if report.verbosity > 0:
        uri = report.help_uri(finding.code)
        if uri:
            yield f"    docs: {uri}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def baseline_line(report: Report) -> str | None:
    """How many baseline entries matched nothing: fixed, or changed, so due a refresh."""
    stale = (report.extras.get("baseline") or {}).get("stale")
    if not stale:
        return None
    entries = "1 baseline entry no longer matches" if stale == 1 else \
        f"{stale} baseline entries no longer match"
    return f"{entries} (fixed or changed; refresh it with --write-baseline)"


def summary_lines(report: Report) -> Iterable[str]:
    counts = report.counts()
    manifests = plural(counts["manifests"], "manifest")
    suppressed = f" ({counts['suppressed']} suppressed)" if counts["suppressed"] else ""
    stale = baseline_line(report)
    if not counts["findings"]:
        yield _style(report, f"No problems found in {manifests}{suppressed}.", fg="green")
        if stale:
            yield stale
        return
    severities = ", ".join(plural(n, s) for s, n in counts["by_severity"].items() if n)
    yield (f"Found {plural(counts['findings'], 'problem')} ({severities}) in "
           f"{counts['manifests_with_findings']} of {manifests}{suppressed}.")
    # Only problems map to what the user sees; info findings are notes, listed apart.
    problems = [f for f in report.active if f.severity != "info"]
    for symptom, text in SYMPTOMS.items():
        findings = [f for f in problems if f.symptom == symptom]
        if findings:
            codes = ", ".join(sorted({f.code for f in findings}))
            yield f"  {text}: {len(findings)}  ({codes})"
    notes = [f for f in report.active if f.severity == "info"]
    if notes:
        yield f"  Notes (info): {len(notes)}  ({', '.join(sorted({f.code for f in notes}))})"
    if stale:
        yield stale


def write(report: Report, out: IO[str]) -> None:
    for result in report.results:
        shown = [f for f in result.findings if not f.suppressed or report.verbosity > 0]
        if not shown:
            continue
        shown, rest = bounded(shown)
        for finding in shown:
            for line in _finding_lines(report, finding):
                out.write(line + "\n")
        for note in rest:
            out.write(f"  ... {visible(note)}\n")
        out.write("\n")
    if report.verbosity >= 0:
        for line in summary_lines(report):
            out.write(line + "\n")
