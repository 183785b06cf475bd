"""One documentation page per rule, in Markdown, made from its policy file.

The same text serves as the pages under `docs/rules/` (written by `scripts/regen.py`; a test
fails when they drift from the policies), which `helpUri`, `explain` and `-v` link to, and
as the help a SARIF report carries, so a code-scanning alert shows the page itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mcplint.catalog import SYMPTOMS, Rule

MODES = {"static": "static (`mcplint check`)", "live": "live (`mcplint verify`)"}
_FENCES = {"json": "json", "yaml": "yaml", "yml": "yaml"}


def page(rule: Rule, documentation: dict[str, Any], source: str | None = None) -> str:
    """The page of one rule; `source` names the policy file it was generated from."""
    return "\n".join(_lines(rule, documentation, source)).rstrip() + "\n"


def _lines(rule: Rule, documentation: dict[str, Any], source: str | None) -> Iterator[str]:
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
    if examples.get("note"):
        yield from ("", examples["note"].strip())
    yield from ("", "## Suppressing it", "",
                "With a reason, on the reported line or the line above it:", "",
                "```yaml", f"# mcplint: disable={rule.code} -- why this is acceptable here",
                "```")
    if docs.get("sources"):
        yield from ("", "## Sources", "")
        yield from (f"- [{s['title']}]({s['url']})" for s in docs["sources"])
    if source:
        yield from ("", "---", "",
                    f"Generated from [`{source}`](../../{source}) by `scripts/regen.py`; "
                    "edit the policy, not this page.")


def _fenced(text: str, language: str) -> Iterator[str]:
    fence = "````" if "```" in text else "```"
    yield f"{fence}{language}"
    yield text.rstrip("\n")
    yield fence


def index(rules: list[Rule]) -> str:
    """docs/rules/README.md: every rule, one line each, linking to its page."""
    lines = ["# Rules", "",
             "One page per rule, generated from `policies/` by `scripts/regen.py`. "
             "`mcplint rules` lists the same catalog; `mcplint explain CODE` prints a page.",
             "", "| code | name | severity | checked | symptom |", "|---|---|---|---|---|"]
    for rule in sorted(rules, key=lambda r: r.code):
        lines.append(f"| [{rule.code}]({rule.code}.md) | {rule.name} | {rule.severity} | "
                     f"{', '.join(rule.modes)} | {SYMPTOMS[rule.symptom]} |")
    return "\n".join(lines) + "\n"
