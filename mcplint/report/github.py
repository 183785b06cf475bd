"""GitHub Actions: one workflow command per finding, which GitHub shows as an annotation on
the pull request's diff, then the text summary for the log; and, when the job has a
`$GITHUB_STEP_SUMMARY`, the Markdown report appended to it (the job's summary page).

    ::error file=mcp-connector.yaml,line=13,col=3,endLine=13,endColumn=40,title=MCP601 \
audience-not-canonical::auth.audience is …
"""

from __future__ import annotations

import os
from typing import IO

from mcplint.escape import log_line, visible
from mcplint.findings import Finding
from mcplint.report import Report, bounded
from mcplint.report.text import evidence_line, summary_lines

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    """Escaping of a command's message (GitHub's toolkit: %, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """Escaping of a command's property value (also ':' and ',')."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def command(finding: Finding, file: str | None = None, manifests: list[str] | None = None) -> str:
    """The workflow command for one finding; `file` is its path relative to the root the
    runner resolves annotations against (the finding's own path when not given)."""
    properties = []
    span = finding.location.span
    if finding.file is not None:
        properties.append(f"file={_property(visible(file or finding.file))}")
        if span is not None:
            properties += [f"line={span.line}", f"col={span.column}",
                           f"endLine={span.end_line}"]
            if span.end_line == span.line:  # GitHub takes a column range on one line only
                properties.append(f"endColumn={span.end_column}")
    title = f"{finding.code} {finding.name}" + (" (not verified)" if finding.not_verified else "")
    properties.append(f"title={_property(title)}")
    message = visible(finding.message)  # one line: the only line break is the one below
    if finding.evidence:
        message += f"\nevidence: {evidence_line(finding.evidence)}"
    if finding.file is None and finding.evidence and finding.evidence.get("url"):
        message = f"{visible(finding.evidence['url'])}: {message}"
    if manifests and len(manifests) > 1:  # one annotation for a document several manifests use
        message += f"\nused by: {', '.join(manifests)}"
    kind = "notice" if finding.not_verified else COMMANDS[finding.severity]
    return f"::{kind} {','.join(properties)}::{_data(message)}"


def write(report: Report, out: IO[str]) -> None:
    groups = [(f, manifests) for f, manifests in report.distinct() if not f.suppressed]
    shown, rest = bounded([f for f, _ in groups])
    kept = {id(f) for f in shown}
    for finding, manifests in groups:
        if id(finding) in kept:
            file = report.path(finding.file) if finding.file is not None else None
            out.write(command(finding, file, [report.path(m) for m in manifests]) + "\n")
    for note in rest:  # plain log lines: GitHub caps annotations per step anyway
        out.write(f"mcplint: {visible(note)}\n")
    if report.verbosity >= 0:
        for line in summary_lines(report):
            out.write(log_line(line) + "\n")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        from mcplint.report import markdown

        with open(summary_file, "a", encoding="utf-8") as summary:
            markdown.write(report, summary)
            summary.write("\n")
