"""A Markdown report for a pull-request comment or a CI job summary.

A headline, findings per manifest in a table linking each rule's page, the summary by the
symptom a user would see, and, after live verification, a Mermaid sequence diagram of the
discovery chain (the hosted client and each host, one arrow per request with its status)
with the failing step marked. Everything a manifest or a server chose (messages, paths,
evidence, URLs) is shown literally, in code spans and escaped Mermaid labels
(mcplint/report/escape.py): a report must not carry links, images, mentions, HTML or
Mermaid from the servers it checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any
from urllib.parse import urlsplit

from mcplint.findings import SYMPTOMS, FileResult, Finding
from mcplint.report import Report, bounded
from mcplint.report.escape import code_span, mermaid
from mcplint.report.text import baseline_line, evidence_line, location, plural

ICONS = {"error": "❌ error", "warning": "⚠️ warning", "info": "ℹ️ info"}
FAILED_STEP = "rgb(255, 228, 228)"


def headline(report: Report) -> str:
    counts = report.counts()
    manifests = plural(counts["manifests"], "manifest")
    if not counts["findings"]:
        return f"## ✅ mcplint {report.command}: no problems in {manifests}"
    severities = ", ".join(plural(n, s) for s, n in counts["by_severity"].items() if n)
    return (f"## ❌ mcplint {report.command}: {plural(counts['findings'], 'problem')} "
            f"({severities}) in {counts['manifests_with_findings']} of {manifests}")


def _symptoms(report: Report) -> Iterator[str]:
    """Problems by what the user would see; info findings are notes, counted apart."""
    groups = [(text, [f for f in report.active if f.symptom == symptom and f.severity != "info"])
              for symptom, text in SYMPTOMS.items()]
    groups.append(("Notes (info)", [f for f in report.active if f.severity == "info"]))
    rows = [f"| {text} | {len(found)} | {', '.join(sorted({f.code for f in found}))} |"
            for text, found in groups if found]
    if rows:
        yield from ("| What a claude.ai user would see | Findings | Rules |", "|---|---|---|",
                    *rows, "")


def _rule_link(report: Report, finding: Finding) -> str:
    uri = report.help_uri(finding.code)
    code = f"[{finding.code}]({uri})" if uri else finding.code
    return f"{code} `{finding.name}`"


def _table(report: Report, findings: Iterable[Finding], reason: bool = False) -> Iterator[str]:
    yield "| Severity | Where | Rule | Message |" + (" Reason |" if reason else "")
    yield "|---|---|---|---|" + ("---|" if reason else "")
    for finding in findings:
        message = code_span(finding.message)
        if finding.evidence:
            message += f"<br>evidence: {code_span(evidence_line(finding.evidence))}"
        row = (f"| {ICONS[finding.severity]} | {code_span(location(finding, report))} | "
               f"{_rule_link(report, finding)} | {message} |")
        if reason:
            row += f" {code_span((finding.suppression or {}).get('reason') or '')} |"
        yield row


def _manifest(report: Report, result: FileResult) -> Iterator[str]:
    active = [f for f in result.findings if not f.suppressed]
    suppressed = [f for f in result.findings if f.suppressed]
    diagram = list(sequence_diagram(result))
    if not (active or suppressed or diagram):
        return
    yield f"### {code_span(report.path(result.path), in_table=False)}"
    yield ""
    if active:
        shown, rest = bounded(active)
        yield from _table(report, shown)
        yield ""
        for note in rest:
            yield code_span(note, in_table=False)  # it names a file: shown literally
            yield ""
    if diagram:
        yield "Discovery chain, as the hosted client walked it:"
        yield ""
        yield from diagram
        yield ""
    if suppressed:
        yield f"<details><summary>{plural(len(suppressed), 'suppressed finding')}</summary>"
        yield ""
        yield from _table(report, suppressed, reason=True)
        yield ""
        yield "</details>"
        yield ""


# -- the discovery chain after `verify` -----------------------------------------------------
def sequence_diagram(result: FileResult) -> Iterator[str]:
    """A Mermaid sequence diagram of `result.live["requests"]` (nothing after `check`).

    The hosted client and each host are participants; each request is an arrow with its
    step and path, answered by its status (or its error). A step is marked as failing,
    in a shaded block with a note, when a finding's evidence points at its URL or the
    request failed outright."""
    requests = (result.live or {}).get("requests") or []
    if not requests:
        return
    blamed: dict[str, list[str]] = {}
    for finding in result.findings:
        url = (finding.evidence or {}).get("url")
        # A note (info) is not a failing step: "not verifiable" is no fault of the server.
        if url and not finding.suppressed and finding.severity != "info":
            blamed.setdefault(str(url), []).append(f"{finding.code} {finding.name}")
    hosts = list(dict.fromkeys(str(r.get("host") or urlsplit(str(r.get("url"))).hostname)
                               for r in requests))
    alias = {host: f"H{number}" for number, host in enumerate(hosts, start=1)}
    yield "```mermaid"
    yield "sequenceDiagram"
    yield "    participant C as Hosted client"
    for host in hosts:
        yield f"    participant {alias[host]} as {mermaid(host)}"
    for request in requests:
        yield from _arrows(request, alias, blamed)
    yield "```"


def _arrows(request: dict[str, Any], alias: dict[str, str],
            blamed: dict[str, list[str]]) -> Iterator[str]:
    url = str(request.get("url") or "")
    parts = urlsplit(url)
    host = alias[str(request.get("host") or parts.hostname)]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    ask = f"{request.get('method') or 'GET'} {target} ({request.get('step')})"
    status, error = request.get("status"), request.get("error")
    answer = str(status) if status is not None else (error or "no answer")
    elapsed = request.get("elapsed_ms")
    if isinstance(elapsed, (int, float)):
        answer += f", {elapsed:.0f} ms"
    reasons = blamed.get(url, []) + ([f"error: {error}"] if error else [])
    indent = "        " if reasons else "    "
    if reasons:
        yield f"    rect {FAILED_STEP}"
    yield f"{indent}C->>{host}: {mermaid(ask)}"
    yield f"{indent}{host}-{'-x' if reasons else '->>'}C: {mermaid(answer)}"
    if reasons:
        yield f"{indent}Note over C,{host}: ❌ {mermaid('; '.join(reasons), 140)}"
        yield "    end"


def lines(report: Report) -> Iterator[str]:
    yield headline(report)
    yield ""
    counts = report.counts()
    if counts["suppressed"]:
        yield f"{plural(counts['suppressed'], 'finding')} suppressed (inline or baseline)."
        yield ""
    stale = baseline_line(report)
    if stale:
        yield f"{stale}."
        yield ""
    yield from _symptoms(report)
    for result in report.results:
        yield from _manifest(report, result)


def write(report: Report, out: IO[str]) -> None:
    for line in lines(report):
        out.write(line + "\n")
