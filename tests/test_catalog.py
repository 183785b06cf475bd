"""The rule catalog matches the requirements (the fixture under tests/data), is listed and
explained by the CLI, and the generated files (compiled catalog, schemas, validators) are in
sync with their sources."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import REPO_ROOT, catalog_fixture, run_mcplint

from mcplint.commands.explain import render
from mcplint.policy.catalog import load_builtin

SPEC = catalog_fixture()


def test_spec_table_was_read() -> None:
    assert len(SPEC) >= 60 and "MCP001" in SPEC and "MCP607" in SPEC


def test_rules_json_lists_every_code_as_the_spec_says() -> None:
    completed = run_mcplint("rules", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    listed = {row["code"]: row for row in json.loads(completed.stdout)}
    assert set(listed) == set(SPEC)
    for code, spec in SPEC.items():
        row = listed[code]
        for key in ("name", "severity", "modes", "symptom", "profiles"):
            assert row[key] == spec[key], (code, key)


def test_rules_text_has_one_line_per_rule() -> None:
    completed = run_mcplint("rules")
    assert completed.returncode == 0
    lines = completed.stdout.splitlines()
    assert len(lines) == len(SPEC) + 1
    assert lines[1].startswith("MCP001  yaml-invalid")


@pytest.mark.parametrize("code", sorted(SPEC))
def test_every_rule_is_documented(code: str) -> None:
    catalog = load_builtin()
    text = render(catalog, catalog.rules[code])
    for section in ("What it checks", "Why it matters", "How to fix it", "Documentation:"):
        assert section in text, f"{code} lacks {section}"


def test_explain_by_code_and_by_name() -> None:
    by_code = run_mcplint("explain", "MCP407")
    by_name = run_mcplint("explain", "prm-resource-mismatch")
    assert by_code.returncode == 0 and by_code.stdout == by_name.stdout
    assert "RFC 9728" in by_code.stdout and "Bad example" in by_code.stdout
    unknown = run_mcplint("explain", "MCP999")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == ("mcplint: error: 'MCP999' is not a rule code or name "
                                      "(see `mcplint rules`)")


def test_static_rules_have_checks_and_emitted_rules_name_their_stage() -> None:
    for rule in load_builtin().rules.values():
        if "static" in rule.modes:
            assert rule.checks or rule.emitted_by, rule.code


def test_overriding_rules_exist() -> None:
    rules = load_builtin().rules
    for rule in rules.values():
        for code in rule.overridden_by:
            assert code in rules, (rule.code, code)


def test_generated_files_are_in_sync() -> None:
    completed = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "regen.py"), "--check"],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr


@pytest.mark.parametrize("which", ["manifest", "report", "config", "policy"])
def test_schema_command_prints_the_schema(which: str) -> None:
    completed = run_mcplint("schema", which)
    assert completed.returncode == 0
    names = {"manifest": "mcp-connector", "report": "report", "config": "config",
             "policy": "policy"}
    source = REPO_ROOT / "schemas" / f"{names[which]}.schema.json"
    assert json.loads(completed.stdout) == json.loads(source.read_text())


def test_every_manifest_field_has_a_description() -> None:
    schema = json.loads((REPO_ROOT / "schemas" / "mcp-connector.schema.json").read_text())
    missing = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if "description" not in sub:
                    missing.append(f"{where}/{name}")
            for key, sub in node.items():
                if key not in ("if", "then", "else", "not"):  # conditions, not fields
                    walk(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for index, sub in enumerate(node):
                walk(sub, f"{where}/{index}")

    walk(schema, "")
    assert not missing, missing


def test_version_output() -> None:
    completed = run_mcplint("--version")
    assert completed.returncode == 0
    assert completed.stdout.strip() == "mcplint 0.1.0 (rule catalog 1, manifest format 1)"
