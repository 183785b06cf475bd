"""`mcplint explain`: a rule's documentation in fixed sections."""

from __future__ import annotations

import textwrap
from typing import Any

from mcplint.findings import SYMPTOMS
from mcplint.policy.catalog import Catalog, Rule
from mcplint.report.ruledocs import data_facts, live_evidence


def _section(title: str, body: str) -> str:
    return f"{title}\n{textwrap.indent(body.strip(), '  ')}\n"


def _live(example: dict[str, Any], other: dict[str, Any] | None) -> str:
    """A live example: its manifest, then what `mcplint verify` saw (the facts' evidence,
    bodies narrowed to where they differ from the other example's)."""
    manifest = example.get("manifest")
    head = manifest.rstrip() if manifest else "(the manifest of the bad example)"
    seen = live_evidence(example.get("facts") or {},
                         (other or {}).get("facts")) or ["(nothing)"]
    return f"{head}\n\nmcplint verify saw:\n" + textwrap.indent("\n".join(seen), "  ")


def render(catalog: Catalog, rule: Rule) -> str:
    documentation = catalog.documentation(rule.code)
    docs = documentation.get("docs", {})
    examples = documentation.get("examples", {})
    lines = [
        f"{rule.code} {rule.name}",
        f"  severity: {rule.severity}   mode: {rule.mode_label}   "
        f"profiles: {', '.join(rule.profiles)}",
        f"  symptom: {SYMPTOMS[rule.symptom]}",
        "",
        _section("What it checks", docs.get("what", rule.summary)),
    ]
    if docs.get("why"):
        lines.append(_section("Why it matters", docs["why"]))
    if docs.get("fix"):
        lines.append(_section("How to fix it", docs["fix"]))
    if examples.get("bad"):
        lines.append(_section("Bad example", examples["bad"]))
    if examples.get("good"):
        lines.append(_section("Good example", examples["good"]))
    bad, good = examples.get("live-bad"), examples.get("live-good")
    if bad:
        lines.append(_section("Bad example (live)", _live(bad, good)))
    if good:
        lines.append(_section("Good example (live)", _live(good, bad)))
    if examples.get("note"):
        lines.append(_section("Note", examples["note"]))
    facts = data_facts(catalog.data, docs.get("rests-on") or [])
    if facts:
        lines.append(_section("What the hosted client does, as recorded (policies/data/)",
                              "\n".join(facts)))
    if docs.get("sources"):
        lines.append(_section("Sources", "\n".join(f"{s['title']}: {s['url']}"
                                                   for s in docs["sources"])))
    if rule.origin == "builtin":
        lines.append(f"Documentation: {str(catalog.data['docs_url']).format(code=rule.code)}")
    else:
        lines.append(f"Defined in: {rule.origin}")
    return "\n".join(lines).rstrip() + "\n"
