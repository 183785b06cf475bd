"""One documentation page per rule, in Markdown, made from its policy file.

The same text serves as the pages under `docs/rules/` (written by `scripts/regen.py`; a test
fails when they drift from the policies), which `helpUri`, `explain` and `-v` link to, and
as the help a SARIF report carries, so a code-scanning alert shows the page itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from mcplint.findings import SYMPTOMS
from mcplint.policy.catalog import Rule

MODES = {"static": "static (`mcplint check`)", "live": "live (`mcplint verify`)"}
_FENCES = {"json": "json", "yaml": "yaml", "yml": "yaml"}


def page(rule: Rule, documentation: dict[str, Any], source: str | None = None,
         data: dict[str, Any] | None = None) -> str:
    """The page of one rule; `source` names the policy file it was generated from, `data`
    holds the data files whose facts the rule rests on."""
    return "\n".join(_lines(rule, documentation, source, data or {})).rstrip() + "\n"


def data_facts(data: dict[str, Any], paths: list[str]) -> list[str]:
    """The facts of the data files at `paths` (docs `rests-on`), one line each, with their
    sources and dates: `file: where: value (source, seen date; ...)`."""
    lines: list[str] = []
    for path in paths:
        name, *keys = path.split(".")
        value: Any = data.get(name)
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        _facts_of(value, f"{name.replace('_', '-')}.yaml", keys, lines)
    return lines


def _facts_of(value: Any, file: str, keys: list[str], lines: list[str]) -> None:
    where = ".".join(keys)
    if isinstance(value, dict) and "value" in value:
        seen = "; ".join(f"{s.get('source')}, seen {s.get('seen')}"
                         + (f": {_short(s['value'])}" if "value" in s else "")
                         for s in value.get("sources") or [])
        lines.append(f"{file} {where}: {_short(value['value'])} ({seen})")
    elif isinstance(value, dict):
        for key, item in value.items():
            _facts_of(item, file, [*keys, key], lines)
    elif isinstance(value, list) and all(isinstance(i, dict) and "seen" in i for i in value):
        for index, item in enumerate(value):
            what = ", ".join(f"{k} {_short(v)}" for k, v in item.items()
                             if k not in ("source", "seen"))
            lines.append(f"{file} {where}[{index}]: {what} ({item.get('source')}, "
                         f"seen {item.get('seen')})")


def _short(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _lines(rule: Rule, documentation: dict[str, Any], source: str | None,
           data: dict[str, Any]) -> Iterator[str]:
    docs, examples = documentation.get("docs", {}), documentation.get("examples", {})
    yield f"# {rule.code} {rule.name}"
    yield ""
    yield rule.summary
    yield ""
    yield "| severity | checked | profiles | what a claude.ai user sees |"
    yield "|---|---|---|---|"
    yield (f"| {rule.severity} | {', '.join(MODES[m] for m in rule.modes)} | "
           f"{', '.join(rule.profiles)} | {SYMPTOMS[rule.symptom]} |")
    for title, key in (("What it checks", "what"), ("Why it matters", "why"),
                       ("How to fix it", "fix")):
        if docs.get(key):
            yield from ("", f"## {title}", "", docs[key].strip())
    if examples.get("bad") or examples.get("good"):
        yield from ("", "## Example")
    if examples.get("bad"):
        yield from ("", f"Reported (the line marked `# <- {rule.code}`):", "")
        yield from _fenced(examples["bad"], "yaml")
    if examples.get("good"):
        yield from ("", "Passes:", "")
        yield from _fenced(examples["good"], "yaml")
    for name, text in sorted((examples.get("files") or {}).items()):
        yield from ("", f"`{name}`, beside the manifest:", "")
        yield from _fenced(text, _FENCES.get(name.rsplit(".", 1)[-1], ""))
    yield from _live_example(rule, examples)
    if examples.get("note"):
        yield from ("", examples["note"].strip())
    yield from ("", "## Suppressing it", "",
                "With a reason, on the reported line or the line above it:", "",
                "```yaml", f"# mcplint: disable={rule.code} -- why this is acceptable here",
                "```")
    facts = data_facts(data, docs.get("rests-on") or [])
    if facts:
        yield from ("", "## What the hosted client does, as recorded", "",
                    "From the data files under `policies/data/`, each with its source and the "
                    "date it was seen:", "")
        yield from (f"- {line}" for line in facts)
    if docs.get("sources"):
        yield from ("", "## Sources", "")
        yield from (f"- [{s['title']}]({s['url']})" for s in docs["sources"])
    if source:
        yield from ("", "---", "",
                    f"Generated from [`{source}`](../../{source}) by `scripts/regen.py`; "
                    "edit the policy, not this page.")


def _live_example(rule: Rule, examples: dict[str, Any]) -> Iterator[str]:
    """The live examples: the manifest, then what `mcplint verify` saw (evidence lines)."""
    bad, good = examples.get("live-bad"), examples.get("live-good")
    if not bad and not good:
        return
    yield from ("", "## Live example")
    if bad:
        yield from ("", f"`mcplint verify` reports the line marked `# <- {rule.code}`:", "")
        yield from _fenced(bad["manifest"], "yaml")
        yield from ("", "when it sees:", "")
        yield from _fenced("\n".join(live_evidence(bad["facts"], (good or {}).get("facts")))
                           or "(nothing)", "text")
    if good:
        if good.get("manifest"):
            yield from ("", "Passes with this manifest:", "")
            yield from _fenced(good["manifest"], "yaml")
            yield from ("", "when it sees:", "")
        else:
            yield from ("", "Passes, with the same manifest, when it sees:", "")
        yield from _fenced("\n".join(live_evidence(good["facts"], (bad or {}).get("facts")))
                           or "(nothing)", "text")


def live_evidence(facts: Any, other: Any = None) -> list[str]:
    """What mcplint saw, as the evidence line of every fact of a live example (a fact's own
    evidence first, then that of the facts inside it), in the order of the facts. A fact
    that holds a fetched document shows its body under the request: for the rules about a
    document's content, the body is where bad and good differ. With `other` (the facts of
    the other example), a body shows only the members that differ from the other's."""
    from mcplint.report.text import evidence_line

    lines: list[str] = []

    def walk(value: Any, twin: Any) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, twin[index] if isinstance(twin, list) and index < len(twin) else None)
        elif isinstance(value, dict):
            twin = twin if isinstance(twin, dict) else {}
            line = evidence_line(value["evidence"]) if isinstance(value.get("evidence"),
                                                                  dict) else ""
            if line:
                lines.append(line)
                body = _body(value.get("document"), twin.get("document"), other is not None)
                if body:
                    lines.append(f"  body: {body}")
                if isinstance(value.get("missing"), list) and value["missing"]:
                    lines.append("  missing: " + ", ".join(map(str, value["missing"])))
            for key, item in value.items():
                if key not in ("evidence", "document"):
                    walk(item, twin.get(key))

    walk(facts, other)
    return lines


def _body(document: Any, twin: Any, focus: bool) -> str:
    """A fetched document as one line of JSON; focused: only the members that differ from
    the twin's (the rest elided)."""
    if not isinstance(document, dict):
        return ""
    if not focus or not isinstance(twin, dict):
        return json.dumps(document)
    shown = {k: v for k, v in document.items() if twin.get(k, object()) != v}
    if not shown:
        return ""
    text = json.dumps(shown)
    return text[:-1] + ", …}" if len(shown) < len(document) else text


def _fenced(text: str, language: str) -> Iterator[str]:
    fence = "````" if "```" in text else "```"
    yield f"{fence}{language}"
    yield text.rstrip("\n")
    yield fence


def index(rules: list[Rule]) -> str:
    """docs/rules/README.md: the catalog, every rule on one line, linking to its page."""
    lines = ["# Rules", "",
             "The catalog of mcplint's built-in rules, one page per rule, generated from "
             "`policies/` by `scripts/regen.py`. `mcplint rules` lists the same catalog; "
             "`mcplint explain CODE` prints a page. Codes, names, severities, modes, profiles "
             "and symptoms are a stable interface. The facts the rules rest on are "
             "[../facts.md](../facts.md); what a policy may read, "
             "[../contract.md](../contract.md).", "",
             "*checked*: `static` by `mcplint check` (and `verify`), `live` by `mcplint verify` "
             "only. *profiles*: the `--profile` values under which the rule runs. *symptom*: "
             "what a claude.ai user sees when the problem is there.", "",
             "| code | name | severity | checked | profiles | symptom |",
             "|---|---|---|---|---|---|"]
    for rule in sorted(rules, key=lambda r: r.code):
        lines.append(f"| [{rule.code}]({rule.code}.md) | {rule.name} | {rule.severity} | "
                     f"{', '.join(rule.modes)} | {', '.join(rule.profiles)} | "
                     f"{SYMPTOMS[rule.symptom]} |")
    return "\n".join(lines) + "\n"
