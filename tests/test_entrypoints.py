"""The doors CI users reach mcplint through: standard input (editors), GitLab Code Quality,
the GitHub Action's script, required-version, and "no manifest" under pre-commit
(tests/test_precommit.py runs the hook itself)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from livestack.env import child_env, venv_script
from support import REPO_ROOT, run_json, run_mcplint, valid_sarif, write_files

from mcplint import __version__

EXAMPLES = REPO_ROOT / "examples"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "broken", repo / "infra" / "docs")
    shutil.copytree(EXAMPLES / "healthy", repo / "billing")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def comparable(report: dict) -> list[tuple]:
    return sorted((f["code"], f["file"], f["line"], f["column"], f["message"], f["fingerprint"],
                   f["severity"]) for f in report["findings"])


def test_stdin_gives_the_same_findings_as_the_file(repo: Path) -> None:
    name = "infra/docs/mcp-connector.yaml"
    _, from_file = run_json("check", name, cwd=repo)
    text = (repo / name).read_text()
    completed = subprocess.run([venv_script("mcplint"), "check", "-", "--stdin-filename", name,
                                "--format", "json"], cwd=repo, input=text, text=True,
                               capture_output=True, env=child_env(), timeout=60, check=False)
    assert completed.returncode == 1, completed.stderr
    from_stdin = json.loads(completed.stdout)
    assert comparable(from_stdin) == comparable(from_file)
    assert any(f["file"].endswith(".json") for f in from_stdin["findings"])  # references
    # the buffer, not the file on disk: an editor checks what is being typed
    edited = text.replace("https://mcp.billing.acme.com/mcp/\n  transport",
                          "https://mcp.billing.acme.com/mcp\n  transport")
    completed = subprocess.run([venv_script("mcplint"), "check", "-", "--stdin-filename", name,
                                "--format", "json"], cwd=repo, input=edited, text=True,
                               capture_output=True, env=child_env(), timeout=60, check=False)
    assert "MCP102" not in {f["code"] for f in json.loads(completed.stdout)["findings"]}
    # the config is the one for that path
    write_files(repo, {"infra/.mcplint.yaml": "ignore: [MCP3]\n"})
    completed = subprocess.run([venv_script("mcplint"), "check", "-", "--stdin-filename", name,
                                "--format", "json"], cwd=repo, input=text, text=True,
                               capture_output=True, env=child_env(), timeout=60, check=False)
    assert not any(f["code"].startswith("MCP3") for f in json.loads(completed.stdout)["findings"])


@pytest.mark.parametrize(("args", "expected"), [
    (("-",), "'-' reads the manifest from standard input: give --stdin-filename PATH"),
    (("x.yaml", "--stdin-filename", "x.yaml"), "--stdin-filename names standard input"),
    (("-", "billing", "--stdin-filename", "x.yaml"), "'-' (standard input) is for"),
])
def test_stdin_mistakes(repo: Path, args: tuple[str, ...], expected: str) -> None:
    completed = run_mcplint("check", *args, cwd=repo)
    assert completed.returncode == 2 and completed.stderr.count("\n") == 1
    assert completed.stderr.startswith(f"mcplint: error: {expected}"), completed.stderr


def test_gitlab_code_quality_report(repo: Path) -> None:
    completed = run_mcplint("check", "--format", "gitlab", cwd=repo / "infra")
    assert completed.returncode == 1, completed.stderr
    issues = json.loads(completed.stdout)
    _, report = run_json("check", cwd=repo / "infra")
    assert len(issues) == len([f for f in report["findings"] if not f["suppression"]]) > 0
    required = {"description", "check_name", "fingerprint", "severity", "location"}
    for issue in issues:
        assert required <= set(issue), issue
        assert isinstance(issue["description"], str) and issue["description"]
        assert re.fullmatch(r"MCP\d{3}", issue["check_name"])
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["path"].startswith("infra/docs/")  # from the repository root
        assert isinstance(issue["location"]["lines"]["begin"], int)
        assert issue["location"]["lines"]["begin"] >= 1
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    by_code = {i["check_name"]: i["severity"] for i in issues}
    severity = {f["code"]: f["severity"] for f in report["findings"]}
    mapping = {"error": "major", "warning": "minor", "info": "info"}
    assert by_code == {code: mapping[severity[code]] for code in by_code}
    assert {"major", "minor"} <= set(by_code.values())


def test_required_version(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": f"required-version: '=={__version__}'\n"})
    assert run_mcplint("check", "billing", cwd=repo).returncode == 0
    write_files(repo, {".mcplint.yaml": "required-version: '>=99'\n"})
    completed = run_mcplint("check", "billing", cwd=repo)
    assert completed.returncode == 2
    assert completed.stderr == (f"mcplint: error: .mcplint.yaml:1: required-version: this is "
                                f"mcplint {__version__}, the config requires >=99; install a "
                                "matching release\n")
    write_files(repo, {".mcplint.yaml": "required-version: 'newest'\n"})
    completed = run_mcplint("check", "billing", cwd=repo)
    assert completed.returncode == 2 and "a PEP 440 version specifier" in completed.stderr


def test_packaging_is_imported_only_for_required_version(repo: Path) -> None:
    probe = ("import sys\nfrom mcplint.cli import main\ntry:\n    main(['check', '-q', 'billing'])\n"
             "except SystemExit as e:\n    code = e.code\n"
             "print(code, 'packaging' in sys.modules, file=sys.stderr)\n")
    write_files(repo, {".mcplint.yaml": "fail-on: warning\n"})
    completed = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True,
                               text=True, check=False)
    assert completed.stderr.strip() == "0 False", completed.stderr
    write_files(repo, {".mcplint.yaml": "required-version: '>=0'\n"})
    completed = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True,
                               text=True, check=False)
    assert completed.stderr.strip() == "0 True", completed.stderr


def test_no_manifest_is_exit_2_unless_allowed(tmp_path: Path) -> None:
    completed = run_mcplint("check", cwd=tmp_path)
    assert completed.returncode == 2 and "no manifest found" in completed.stderr
    completed = run_mcplint("check", "--allow-no-manifest", cwd=tmp_path)
    assert completed.returncode == 0 and completed.stdout == ""
    assert completed.stderr.startswith("mcplint: no manifest found in the current folder")
    assert completed.stderr.endswith("; nothing to check\n") and completed.stderr.count("\n") == 1


# -- the GitHub Action ----------------------------------------------------------------------
def action_env(repo: Path, tmp: Path, **inputs: str) -> dict[str, str]:
    return child_env({
        "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(repo),
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"), "GITHUB_OUTPUT": str(tmp / "output"),
        "MCPLINT": venv_script("mcplint"),
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()}})


def test_the_action_script_annotates_summarises_and_leaves_sarif(repo: Path,
                                                                 tmp_path: Path) -> None:
    script = REPO_ROOT / "action" / "run.py"
    env = action_env(repo, tmp_path, command="check", paths="", profile="", fail_on="warning",
                     args="--ignore MCP410", sarif_file="mcplint.sarif")
    completed = subprocess.run([sys.executable, str(script), "run"], cwd=repo, env=env,
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert re.search(r"^::error file=infra/docs/mcp-connector\.yaml,line=\d+", completed.stdout,
                     re.M), completed.stdout
    assert "title=MCP410" not in completed.stdout  # the extra arguments reached mcplint
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("## ❌ mcplint check:") and "infra/docs/mcp-connector.yaml" in summary
    sarif = valid_sarif((repo / "mcplint.sarif").read_text())
    assert sarif["runs"][0]["results"]
    outputs = (tmp_path / "output").read_text().splitlines()
    assert outputs == ["sarif-file=mcplint.sarif", "exit-code=1"]
    # healthy manifests only: the step passes
    (tmp_path / "output").unlink()
    env = action_env(repo, tmp_path, paths="billing", sarif_file="out/healthy.sarif")
    (repo / "out").mkdir()
    completed = subprocess.run([sys.executable, str(script), "run"], cwd=repo, env=env,
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert valid_sarif((repo / "out" / "healthy.sarif").read_text())["runs"][0]["results"] == []
    assert (tmp_path / "output").read_text().splitlines() == [
        "sarif-file=out/healthy.sarif", "exit-code=0"]


def test_action_yml_calls_only_its_script() -> None:
    import yaml

    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert [s["run"] for s in steps] == [
        'python3 "$GITHUB_ACTION_PATH/action/run.py" install',
        'python3 "$GITHUB_ACTION_PATH/action/run.py" run']
    assert {"command", "paths", "profile", "fail-on", "args", "sarif-file"} <= set(action["inputs"])
    env = steps[1]["env"]
    assert {name: env[f"INPUT_{name.upper().replace('-', '_')}"]
            for name in action["inputs"]} == {
        name: "${{ inputs.%s }}" % name for name in action["inputs"]}
