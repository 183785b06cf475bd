"""The rule catalog matches the requirements (the fixture under tests/data), is listed and
explained by the CLI, and the generated files (compiled catalog, schemas, validators) are in
sync with their sources."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import (
    DATA,
    REPO_ROOT,
    catalog_fixture,
    run_json,
    run_mcplint,
    valid_sarif,
    write_files,
)

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
    assert completed.stdout.strip() == "mcplint 0.1.0 (rule catalog 2, manifest format 1)"


def test_reports_name_the_catalog_version(tmp_path: Path) -> None:
    write_files(tmp_path, {"mcp-connector.yaml": "version: 1\nserver:\n  url: https://mcp.acme.com/mcp\n"
                           "auth:\n  type: none\nhosts:\n  mcp.acme.com: {}\n"})
    _, report = run_json("check", cwd=tmp_path)
    assert report["tool"]["catalog_version"] == "2"
    sarif = valid_sarif(run_mcplint("check", "--format", "sarif", cwd=tmp_path).stdout)
    assert sarif["runs"][0]["tool"]["driver"]["properties"]["catalogVersion"] == "2"


def test_rules_marks_what_is_new_or_changed_in_catalog_2() -> None:
    """New: the codes catalog 1 lacks; changed: those the v2 fixture lists (severity, profile
    or meaning changed)."""
    v1, v2 = catalog_fixture(1), json.loads((DATA / "catalog-v2.json").read_text())
    new = set(SPEC) - set(v1)
    assert new == {"MCP009", "MCP109", "MCP110", "MCP111", "MCP311", "MCP414", "MCP415",
                   "MCP416", "MCP516", "MCP517", "MCP518", "MCP519", "MCP520", "MCP608"}
    listed = {row["code"]: row for row in json.loads(run_mcplint("rules", "--format", "json").stdout)}
    for code, row in listed.items():
        expected = "new" if code in new else "changed" if code in v2["changed"] else None
        assert row["catalog_change"] == expected, code
    text = run_mcplint("rules").stdout.splitlines()
    assert text[0].split()[5] == "v2"
    marked = {line.split()[0]: line.split()[5] for line in text[1:] if len(line.split()) == 7}
    assert marked == {code: row["catalog_change"] for code, row in listed.items()
                      if row["catalog_change"]}


def test_h_marked_rules_run_only_outside_claude_ai() -> None:
    rules = load_builtin().rules
    for code in ("MCP518", "MCP519"):
        assert rules[code].profiles == ("spec", "local"), code
