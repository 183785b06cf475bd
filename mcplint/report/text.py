"""`path:line:col: CODE severity name: message`, per file, then a summary by symptom."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from mcplint.escape import log_line, visible
from mcplint.findings import (
    INVALID_MANIFEST_TEXT,
    SYMPTOMS,
    Finding,
    severity_rank,
    summary_group,
)
from mcplint.report import Report, bounded

# Readable on dark and light backgrounds alike: no blue (dark on dark), and info in the
# terminal's own foreground colour, made bold.
_COLORS = {"error": "red", "warning": "yellow", "info": None}


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


def _root_code(report: Report, finding: Finding) -> str:
    return next((f.code for f in report.findings if f.fingerprint == finding.root), "the finding")


def _finding_lines(report: Report, finding: Finding) -> Iterable[str]:
    severity = (_style(report, "not verified", dim=True) if finding.not_verified else
                _style(report, finding.severity, fg=_COLORS[finding.severity], bold=True))
    head = _style(report, location(finding), bold=True)
    line = f"{head}: {finding.code} {severity} {finding.name}: {visible(finding.message)}"
    if finding.root:  # listed right under the finding whose cause it shares; the line
        # keeps its path:line:col form, which editors and scripts read
        line += f"  (same cause as {_root_code(report, finding)} above)"
    if finding.suppressed:
        reason = visible((finding.suppression or {}).get("reason") or "")
        line += _style(report, f"  [suppressed{': ' + reason if reason else ''}]", dim=True)
    yield log_line(line)
    if finding.code in _SYNTAX and finding.file is not None and finding.line:
        yield from source_excerpt(finding.file, finding.line, finding.column or 1)
    if finding.evidence:
        yield f"    evidence: {evidence_line(finding.evidence)}"
    if report.verbosity > 0:
        uri = report.help_uri(finding.code)
        if uri:
            yield f"    docs: {uri}"


_SYNTAX = frozenset({"MCP001", "MCP002", "MCP003"})  # YAML itself: show where, in the text
_EXCERPT_LIMIT = 160  # characters of the line shown around the column


def source_excerpt(file: str, line: int, column: int) -> list[str]:
    """The line the finding is on, and a caret under its column (nothing when the file
    cannot be read again, or the finding is past its end, e.g. at the end of the stream)."""
    try:
        with open(file, encoding="utf-8-sig", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                if number == line:
                    break
            else:
                return []
    except OSError:
        return []
    text = text.rstrip("\r\n").replace("\t", " ")  # a tab would shift the caret
    start = max(0, column - 1 - _EXCERPT_LIMIT // 2)
    shown = text[start:start + _EXCERPT_LIMIT]
    shown = "".join(c if c.isprintable() else "?" for c in shown)
    gutter = f"    {line} | "
    return [f"{gutter}{shown}", f"{' ' * (len(gutter) - 2)}| {' ' * (column - 1 - start)}^"]


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


def not_verified_line(report: Report) -> str | None:
    """The checks that could not be made: no problem, but not a pass either."""
    found = report.not_verified
    if not found:
        return None
    return (f"Not verified (no problem, not a pass): {len(found)}  "
            f"({', '.join(sorted({f.code for f in found}))})")


def summary_lines(report: Report) -> Iterable[str]:
    counts = report.counts()
    manifests = plural(counts["manifests"], "manifest")
    suppressed = f" ({counts['suppressed']} suppressed)" if counts["suppressed"] else ""
    stale = baseline_line(report)
    unverified = not_verified_line(report)
    if not counts["findings"]:
        yield _style(report, f"No problems found in {manifests}{suppressed}.", fg="green")
        if unverified:
            yield f"  {unverified}"
        if stale:
            yield stale
        return
    severities = ", ".join(plural(n, s) for s, n in counts["by_severity"].items() if n)
    yield (f"Found {plural(counts['findings'], 'problem')} ({severities}) in "
           f"{counts['manifests_with_findings']} of {manifests}{suppressed}.")
    # Only problems map to what the user sees; info findings are notes, listed apart.
    problems = [f for f in report.problems if f.severity != "info"]
    for text in (INVALID_MANIFEST_TEXT, *SYMPTOMS.values()):
        findings = [f for f in problems if summary_group(f) == text]
        if findings:
            codes = ", ".join(sorted({f.code for f in findings}))
            yield f"  {text}: {len(findings)}  ({codes})"
    notes = [f for f in report.problems if f.severity == "info"]
    if notes:
        yield f"  Notes (info): {len(notes)}  ({', '.join(sorted({f.code for f in notes}))})"
    if unverified:
        yield f"  {unverified}"
    if stale:
        yield stale
    if report.problems:  # the first of the most severe: where to start
        leading = min(report.problems, key=lambda f: severity_rank(f.severity))
        yield (f"What a rule checks and how to fix it: mcplint explain {leading.code}")


def write(report: Report, out: IO[str]) -> None:
    for result in report.results:
        shown = [f for f in result.findings if not f.suppressed or report.verbosity > 0]
        # Problems first (in the order of mcplint/results/order.py); the checks that could
        # not be made after them, apart.
        shown.sort(key=lambda f: f.not_verified)
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
