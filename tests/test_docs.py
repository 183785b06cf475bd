"""The per-rule pages under docs/rules/: one per rule, where helpUri and `explain` point.
(That they match the policy files is scripts/regen.py --check, run by test_catalog.)"""

from __future__ import annotations

from support import REPO_ROOT, run_mcplint

from mcplint.catalog import load_builtin

DOCS = REPO_ROOT / "docs" / "rules"


def test_one_page_per_rule_and_nothing_else() -> None:
    catalog = load_builtin()
    pages = {p.stem for p in DOCS.glob("*.md")} - {"README"}
    assert pages == set(catalog.rules)
    index = (DOCS / "README.md").read_text()
    assert all(f"[{code}]({code}.md)" in index for code in catalog.rules)


def test_links_point_at_the_pages() -> None:
    catalog = load_builtin()
    base = str(catalog.data["docs_url"])
    assert base.endswith("/docs/rules/{code}.md")
    explained = run_mcplint("explain", "MCP301").stdout
    assert f"Documentation: {base.format(code='MCP301')}" in explained


def test_a_page_has_every_section() -> None:
    page = (DOCS / "MCP301.md").read_text()
    for heading in ("# MCP301 waf-egress-not-allowed", "## What it checks", "## Why it matters",
                    "## How to fix it", "## Example", "## Sources", "| severity |"):
        assert heading in page
    assert "# <- MCP301" in page and "policies/MCP301-waf-egress-not-allowed.yaml" in page
