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

from mcplint.escape import code_span, mermaid
from mcplint.findings import (
    INVALID_MANIFEST_TEXT,
    SYMPTOMS,
    FileResult,
    Finding,
    summary_group,
)
from mcplint.report import Report, bounded
from mcplint.report.text import baseline_line, evidence_line, location, plural

ICONS = {"error": "❌ error", "warning": "⚠️ warning", "info": "ℹ️ info"}
FAILED_STEP = "rgb(255, 228, 228)"
HEADLINE_ICONS = {"error": "❌", "warning": "⚠️", "info": "✅", None: "✅"}


def headline(report: Report) -> str:
    """The worst severity found sets the icon: ❌ errors, ⚠️ warnings at most, else ✅."""
    counts = report.counts()
    manifests = plural(counts["manifests"], "manifest")
    if report.command == "probe":  # a URL, not a manifest
        manifests = ", ".join(code_span(report.path(r.path), in_table=False)
                              for r in report.results)
    icon = HEADLINE_ICONS[report.worst()]
    unverified = (f"; {plural(counts['not_verified'], 'check')} not verified"
                  if counts["not_verified"] else "")
    if not counts["findings"]:
        return f"## {icon} mcplint {report.command}: no problems in {manifests}{unverified}"
    severities = ", ".join(plural(n, s) for s, n in counts["by_severity"].items() if n)
    where = (f"in {counts['manifests_with_findings']} of {manifests}"
             if counts["manifests"] > 1 and report.command != "probe" else f"in {manifests}")
    return (f"## {icon} mcplint {report.command}: {plural(counts['findings'], 'problem')} "
            f"({severities}) {where}{unverified}")


def _symptoms(report: Report) -> Iterator[str]:
    """Problems by what the user would see; info findings are notes, counted apart."""
    groups = [(text, [f for f in report.problems
                      if summary_group(f) == text and f.severity != "info"])
              for text in (INVALID_MANIFEST_TEXT, *SYMPTOMS.values())]
    groups.append(("Notes (info)", [f for f in report.problems if f.severity == "info"]))
    groups.append(("Not verified (no problem, not a pass)", report.not_verified))
    rows = [f"| {text} | {len(found)} | {', '.join(sorted({f.code for f in found}))} |"
            for text, found in groups if found]
    if rows:
        yield from ("| What a claude.ai user would see | Findings | Rules |", "|---|---|---|",
                    *rows, "")


def _rule_link(report: Report, finding: Finding) -> str:
    uri = report.help_uri(finding.code)
    code = f"[{finding.code}]({uri})" if uri else finding.code
    return f"{code} `{finding.name}`"


NOT_VERIFIED = "❔ not verified"


def _table(report: Report, findings: Iterable[Finding], reason: bool = False) -> Iterator[str]:
    yield "| Severity | Where | Rule | Message |" + (" Reason |" if reason else "")
    yield "|---|---|---|---|" + ("---|" if reason else "")
    for finding in findings:
        message = code_span(finding.message)
        if finding.evidence:
            message += f"<br>evidence: {code_span(evidence_line(finding.evidence))}"
        icon = NOT_VERIFIED if finding.not_verified else ICONS[finding.severity]
        if finding.root:
            icon = f"↳ {icon}"
            root = next((f.code for f in report.findings if f.fingerprint == finding.root), "")
            message = f"(same cause as {root} above) {message}"
        row = (f"| {icon} | {code_span(location(finding, report))} | "
               f"{_rule_link(report, finding)} | {message} |")
        if reason:
            row += f" {code_span((finding.suppression or {}).get('reason') or '')} |"
        yield row


def _manifest(report: Report, result: FileResult) -> Iterator[str]:
    active = [f for f in result.findings if not f.suppressed and not f.not_verified]
    unverified = [f for f in result.findings if not f.suppressed and f.not_verified]
    suppressed = [f for f in result.findings if f.suppressed]
    diagram = list(sequence_diagram(result))
    if not (active or unverified or suppressed or diagram):
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
    if unverified:
        yield "Not verified (the check could not be made; no problem, not a pass):"
        yield ""
        yield from _table(report, unverified)
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
def walk_order(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The requests in the order the hosted client makes them: the dependency order of
    the discovery chain (mcplint/facts/steps.py), then the order they were sent in."""
    from mcplint.facts import steps

    return sorted(requests, key=lambda r: (steps.rank(str(r.get("step") or "")),
                                           r.get("started_ms") or 0, r.get("id") or 0))


def sequence_diagram(result: FileResult) -> Iterator[str]:
    """A Mermaid sequence diagram of `result.live["requests"]` (nothing after `check`).

    The hosted client's walk: one arrow per request, in dependency order, named for a
    person ("protected resource metadata"), answered by its status (or its error). A host
    joins the diagram at the first request to it (`create participant`), since the client
    learns of it only then. A failing step is shaded, with a note saying what was
    expected and what came back (the finding's message)."""
    live = result.live or {}
    requests = walk_order(live.get("requests") or [])
    if not requests:
        return
    blamed: dict[str, list[str]] = {}
    for finding in result.findings:
        url = (finding.evidence or {}).get("url")
        # A note (info) is not a failing step: "not verifiable" is no fault of the server.
        if (url and not finding.suppressed and finding.severity != "info"
                and not finding.not_verified):
            blamed.setdefault(str(url), []).append(f"{finding.code}: {finding.message}")
    walked, extra = _known_hosts_split(requests, live)
    alias: dict[str, str] = {}
    yield "```mermaid"
    yield "sequenceDiagram"
    yield "    participant C as Hosted client"
    for request in walked:
        yield from _arrows(request, alias, blamed)
    if extra:  # e.g. the manifest's issuer, when the walk stopped before the PRM named it
        yield ("    Note over C: not part of the client's walk: mcplint also asked hosts the "
               "client had not learnt of, from the manifest")
        for request in extra:
            yield from _arrows(request, alias, blamed)
    yield "```"


def _host(url: object) -> str:
    return (urlsplit(str(url)).hostname or "").lower() if url else ""


def _known_hosts_split(requests: list[dict[str, Any]], live: dict[str, Any]
                       ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The requests to hosts the client knows of at that step (the MCP server's, then those
    the answers named: the PRM's authorization server, the AS metadata's endpoints), and
    the others, which only mcplint could send (it read them in the manifest)."""
    prm = (live.get("prm") or {}).get("document")
    servers = prm.get("authorization_servers") if isinstance(prm, dict) else None
    named_by_prm = {_host(u) for u in servers} if isinstance(servers, list) else set()
    metadata = (live.get("as") or {}).get("document")
    named_by_as = ({_host(metadata.get(k)) for k in ("token_endpoint", "registration_endpoint",
                                                     "authorization_endpoint")}
                   if isinstance(metadata, dict) else set())
    known = {_host(requests[0].get("url"))}  # the first contact's: the URL the user gave
    walked, extra = [], []
    for request in requests:
        host = _host(request.get("url"))
        if host not in known:
            extra.append(request)
            continue
        walked.append(request)
        if request.get("status") == 200:  # what this answer names, the client knows now
            step = request.get("step")
            known |= named_by_prm if step == "prm" else named_by_as if step == "as-metadata" \
                else set()
    return walked, extra


def _arrows(request: dict[str, Any], alias: dict[str, str],
            blamed: dict[str, list[str]]) -> Iterator[str]:
    from mcplint.facts import steps

    url = str(request.get("url") or "")
    parts = urlsplit(url)
    name = str(request.get("host") or parts.hostname)
    created = name not in alias
    if created:
        alias[name] = f"H{len(alias) + 1}"
    host = alias[name]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    ask = f"{request.get('method') or 'GET'} {target} ({steps.label(str(request.get('step')))})"
    status, error = request.get("status"), request.get("error")
    answer = str(status) if status is not None else (error or "no answer")
    elapsed = request.get("elapsed_ms")
    if isinstance(elapsed, (int, float)):
        answer += f", {elapsed:.0f} ms"
    reasons = blamed.pop(url, []) + ([f"error: {error}"] if error else [])  # once: its first
    indent = "        " if reasons else "    "
    if reasons:
        yield f"    rect {FAILED_STEP}"
    if created:  # the client learns of this host only now
        yield f"{indent}create participant {host} as {mermaid(name)}"
    yield f"{indent}C->>{host}: {mermaid(ask, 120)}"
    yield f"{indent}{host}-{'-x' if reasons else '->>'}C: {mermaid(answer)}"
    if reasons:
        yield f"{indent}Note over C,{host}: ❌ {mermaid('; '.join(reasons), 240)}"
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
