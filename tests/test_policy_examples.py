"""Every policy's own examples, run as tests: the bad one fires the rule on each line
marked `# <- CODE`, the good one does not fire it (and is clean above `info`).
Driven by the policy files: a new policy is tested without new test code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support import lint_folder, marked_lines

from mcplint.policy.files import read_policy

POLICIES = sorted((Path(__file__).resolve().parent.parent / "policies").glob("MCP*.yaml"))


KINDS = ("bad", "good", "live-bad", "live-good")


def _examples() -> list[Any]:
    cases = []
    for path in POLICIES:
        policy, docs = read_policy(path)
        examples = docs["examples"]
        for kind in KINDS:
            if kind in examples:
                cases.append(pytest.param(policy["code"], kind, examples,
                                          id=f"{policy['code']}-{kind}"))
    return cases


def _example(kind: str, examples: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """(manifest text, live facts or None) of one example."""
    if not kind.startswith("live-"):
        return examples[kind], None
    example = examples[kind]
    manifest = example.get("manifest") or examples["live-bad"]["manifest"]
    return manifest, example["facts"]


@pytest.mark.parametrize(("code", "kind", "examples"), _examples())
def test_example(tmp_path: Path, code: str, kind: str, examples: dict[str, Any]) -> None:
    text, live = _example(kind, examples)
    findings = lint_folder(tmp_path, text, examples.get("files"), live=live)
    fired = {f.line for f in findings if f.code == code and not f.suppressed}
    if kind.endswith("bad"):
        expected = marked_lines(text, code)
        assert expected, f"the {kind} example of {code} marks no line with '# <- {code}'"
        assert fired == expected, [(f.code, f.line, f.message) for f in findings]
    else:
        assert not fired, [(f.code, f.line, f.message) for f in findings if f.code == code]
        noisy = [(f.code, f.line, f.message) for f in findings
                 if f.severity != "info" and not f.suppressed]
        assert not noisy, f"the {kind} example of {code} is not clean: {noisy}"


def test_every_rule_has_both_examples() -> None:
    missing = []
    for path in POLICIES:
        policy, docs = read_policy(path)
        examples = set(docs["examples"])
        if "static" in policy["modes"] and not {"bad", "good"} <= examples:
            missing.append(policy["code"])
        live_checks = [c for c in policy.get("checks", [])
                       if any(g.startswith("/live") for g in
                              ([c["given"]] if isinstance(c["given"], str) else c["given"]))
                       or "live." in c.get("when", "") + c.get("expect", "")]
        if live_checks and not {"live-bad", "live-good"} <= examples:
            missing.append(f"{policy['code']} (live)")
    assert not missing, f"rules without a bad and a good example: {missing}"
