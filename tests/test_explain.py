"""`mcplint explain` and the rule pages show the live examples: the manifest, then what
`mcplint verify` saw (the evidence lines of the example's facts)."""

from __future__ import annotations

from support import REPO_ROOT, run_mcplint

from mcplint.commands.explain import render
from mcplint.policy.catalog import load_builtin
from mcplint.report.ruledocs import live_evidence

SEEN = "POST https://mcp.acme.com/mcp -> 307 header: location: https://api.acme.com/mcp"


def test_explain_shows_the_live_examples() -> None:
    text = run_mcplint("explain", "MCP305").stdout
    bad = text[text.index("Bad example (live)"):text.index("Good example (live)")]
    assert "url: https://mcp.acme.com/mcp   # <- MCP305" in bad
    assert bad.index("# <- MCP305") < bad.index("mcplint verify saw:") < bad.index(SEEN)
    good = text[text.index("Good example (live)"):text.index("Sources")]
    assert "POST https://mcp.acme.com/mcp -> 200" in good and "307" not in good


def test_every_live_example_shows_what_was_seen() -> None:
    catalog = load_builtin()
    for code, rule in catalog.rules.items():
        examples = catalog.documentation(code).get("examples", {})
        if "live-bad" not in examples:
            continue
        text = render(catalog, rule)
        for kind, title in (("live-bad", "Bad example (live)"), ("live-good", "Good example (live)")):
            assert title in text, code
            twin = examples["live-good" if kind == "live-bad" else "live-bad"]["facts"]
            lines = live_evidence(examples[kind]["facts"], twin)
            assert lines, (code, kind)
            assert all(f"    {line}" in text for line in lines), (code, kind)


def test_live_evidence_walks_nested_facts_in_order() -> None:
    facts = {"as": {"evidence": {"method": "GET", "url": "https://auth.acme.com/x", "status": 200},
                    "openid_documents": [{"evidence": {"url": "https://auth.acme.com/y",
                                                       "status": 200}}]},
             "dns": [{"evidence": {"answers": "104.18.32.7", "resolver": "1.1.1.1"}}],
             "drift": []}
    assert live_evidence(facts) == ["GET https://auth.acme.com/x -> 200",
                                    "https://auth.acme.com/y -> 200",
                                    "answers: 104.18.32.7 resolver: 1.1.1.1"]


def test_the_rule_page_shows_the_live_example() -> None:
    page = (REPO_ROOT / "docs" / "rules" / "MCP305.md").read_text()
    live = page[page.index("## Live example"):page.index("## Suppressing it")]
    assert "url: https://mcp.acme.com/mcp   # <- MCP305" in live
    assert f"```text\n{SEEN}\n```" in live
    assert "Passes, with the same manifest, when it sees:" in live


def _seen(text: str, title: str) -> str:
    """The 'mcplint verify saw:' part of one live example in explain's text."""
    part = text[text.index(title):]
    part = part[part.index("mcplint verify saw:"):]
    return part.split("\n\n", 1)[0]


def test_every_live_rule_shows_its_own_evidence_for_bad_and_good() -> None:
    """Issue 16: 13 rules showed the same request for both; a document rule's evidence is
    the body, narrowed to the members that differ."""
    catalog = load_builtin()
    same = []
    # (catalog 2 registers some live rules ahead of their checks: no live example yet)
    live_rules = [r for r in catalog.rules.values() if "live" in r.modes
                  and "live-bad" in catalog.documentation(r.code).get("examples", {})]
    assert len(live_rules) > 40
    assert all("live-good" in catalog.documentation(r.code)["examples"] for r in live_rules)
    for rule in live_rules:
        text = render(catalog, rule)
        bad, good = _seen(text, "Bad example (live)"), _seen(text, "Good example (live)")
        if bad.splitlines()[1:] == good.splitlines()[1:]:
            same.append(rule.code)
    assert same == [], same
    page = run_mcplint("explain", "407").stdout  # the command itself, as a person runs it
    assert '  body: {"resource": "https://mcp.acme.com/mcp/", …}' in _seen(page, "Bad example (live)")
    assert '  body: {"resource": "https://mcp.acme.com/mcp", …}' in _seen(page, "Good example (live)")


def test_explain_shows_the_hosted_client_facts_a_rule_rests_on() -> None:
    """MCP111 judges the newest recorded first contact: explain shows every observation
    of policies/data/hosted-client.yaml it rests on, with its source and date."""
    completed = run_mcplint("explain", "MCP111")
    assert completed.returncode == 0, completed.stderr
    text = completed.stdout
    assert "What the hosted client does, as recorded (policies/data/)" in text
    assert "hosted-client.yaml first_contacts[0]: opens_with initialize" in text
    assert "anthropics/claude-ai-mcp#217" in text and "seen 2026-04" in text
    assert "first_contacts[1]: opens_with server/discover" in text
    page = (REPO_ROOT / "docs" / "rules" / "MCP605.md").read_text()
    assert "hosted-client.yaml budget_seconds.token: 10 (" in page
