"""The per-rule pages under docs/rules/: one per rule, where helpUri and `explain` point.
(That they match the policy files is scripts/regen.py --check, run by test_catalog.)"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from support import REPO_ROOT, run_mcplint, valid_sarif

from mcplint.policy.catalog import load_builtin

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


# -- the README's adoption examples work as written ----------------------------------------
def readme_blocks(language: str) -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def block_starting(first_line: str) -> str:
    (block,) = [b for b in readme_blocks("yaml") if b.startswith(first_line)]
    return block


def test_readme_config_example_is_valid(tmp_path: Path) -> None:
    from mcplint.config.file import settings_for
    from mcplint.config.settings import checked

    config = tmp_path / ".mcplint.yaml"
    config.write_text(block_starting("# .mcplint.yaml\n"))
    (tmp_path / "ci" / "mcplint-policies").mkdir(parents=True)  # the folder it names
    checked(load_builtin(), settings_for({"config_file": str(config)}))  # raises if not


def test_readme_pre_commit_example_is_valid(tmp_path: Path) -> None:
    from pre_commit.clientlib import load_config

    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(block_starting("# .pre-commit-config.yaml\n"))
    (repo,) = load_config(str(config))["repos"]
    assert [hook["id"] for hook in repo["hooks"]] == ["mcplint"]


def test_readme_github_workflow_uses_the_action_with_its_inputs() -> None:
    """The GitHub example uses the action (action.yml) rather than a command line since
    issue 15; what it passes must be inputs the action has."""
    import yaml

    workflow = yaml.safe_load(block_starting("# .github/workflows/mcplint.yml\n"))
    (step,) = [s for s in workflow["jobs"]["mcplint"]["steps"]
               if s.get("uses", "").startswith("mcplint/mcplint@")]
    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text())
    assert set(step["with"]) <= set(action["inputs"])
    assert "sarif-file" in action["outputs"]


@pytest.mark.parametrize("ci", ["# .gitlab-ci.yml\n"])
def test_readme_ci_commands_write_their_reports(tmp_path: Path, ci: str) -> None:
    """The mcplint command of each CI example, run on a healthy manifest: every --output
    it names is written, and the format paired with it is the one the job expects."""
    shutil.copytree(REPO_ROOT / "examples" / "healthy", tmp_path, dirs_exist_ok=True)
    (line,) = [l for l in block_starting(ci).splitlines() if "mcplint check" in l]
    args = shlex.split(line.split("mcplint check", 1)[1])
    completed = run_mcplint("check", *args, cwd=tmp_path, env={"GITHUB_ACTIONS": "true"})
    assert completed.returncode == 0, completed.stderr
    outputs = [args[i + 1] for i, a in enumerate(args) if a == "--output"]
    assert outputs and all((tmp_path / o).is_file() for o in outputs)
    for name in outputs:
        content = (tmp_path / name).read_text()
        if name.endswith(".sarif"):
            assert valid_sarif(content)["version"] == "2.1.0"
        if name.endswith(".xml"):
            assert content.startswith("<?xml") and "<testsuites" in content
        if name.endswith(".md"):
            assert content.startswith("## ✅ mcplint check")
        if name.endswith(".json"):  # GitLab Code Quality: no issue in a healthy manifest
            assert json.loads(content) == []
