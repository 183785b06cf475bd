"""The command line as users meet it: outputs, exit codes, selection, discovery."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from support import REPO_ROOT, run_json, run_mcplint, write_files

EXAMPLES = REPO_ROOT / "examples"
LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>MCP\d{3}) "
                  r"(?P<severity>error|warning|info) (?P<name>[a-z0-9-]+): (?P<message>.+)$")
OPEN = "version: 1\nserver:\n  url: {url}\nauth:\n  type: none\nhosts:\n  {host}: {{}}\n"


def _manifest(url: str = "https://mcp.acme.com/mcp", host: str = "mcp.acme.com") -> str:
    return OPEN.format(url=url, host=host)


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    return tmp_path


def test_healthy_example_passes(examples: Path) -> None:
    completed = run_mcplint("check", "examples/healthy", cwd=examples)
    assert completed.returncode == 0, completed.stdout
    assert completed.stdout == "No problems found in 1 manifest.\n"


def test_broken_example_fails_with_located_lines(examples: Path) -> None:
    completed = run_mcplint("check", "examples/broken", cwd=examples)
    assert completed.returncode == 1
    findings = [LINE.match(l) for l in completed.stdout.splitlines() if l.startswith("examples/")]
    assert findings and all(findings), completed.stdout
    codes = {m["code"] for m in findings if m}
    assert {"MCP102", "MCP202", "MCP301", "MCP407", "MCP409", "MCP505", "MCP601"} <= codes
    assert "Couldn't reach the MCP server:" in completed.stdout
    assert "Authorization with the MCP server failed:" in completed.stdout
    assert re.search(r"Found \d+ problems \(\d+ errors, \d+ warnings\) in 1 of 1 manifest\.",
                     completed.stdout)


def test_json_report_matches_its_schema(examples: Path) -> None:
    code, report = run_json("check", "examples/broken", "examples/healthy", cwd=examples)
    assert code == 1
    schema = json.loads(run_mcplint("schema", "report").stdout)
    jsonschema.Draft202012Validator(schema).validate(report)
    assert report["summary"]["manifests"] == 2
    files = {f["file"] for f in report["findings"]}
    assert "examples/broken/mcp-connector.yaml" in files
    assert "examples/broken/public/.well-known/oauth-protected-resource.json" in files
    for finding in report["findings"]:
        assert finding["line"] >= 1 and finding["column"] >= 1 and finding["fingerprint"]
        assert finding["help_uri"].endswith(f"/docs/rules/{finding['code']}.md")
        assert finding["manifest"] == "examples/broken/mcp-connector.yaml"


def test_fail_on_and_select_and_ignore(tmp_path: Path) -> None:
    # A legacy SSE URL is MCP105, a warning (catalog 1's example, port 8443, is an error in 2).
    write_files(tmp_path, {"mcp-connector.yaml": _manifest("https://mcp.acme.com/sse")})
    assert run_mcplint("check", cwd=tmp_path).returncode == 0  # MCP105 is a warning
    assert run_mcplint("check", "--fail-on", "warning", cwd=tmp_path).returncode == 1
    assert run_mcplint("check", "--fail-on", "never", "--select", "MCP1", cwd=tmp_path).returncode == 0
    _, report = run_json("check", "--select", "transport-sse-deprecated", cwd=tmp_path)
    assert [f["code"] for f in report["findings"]] == ["MCP105"]
    _, report = run_json("check", "--ignore", "MCP1", cwd=tmp_path)
    assert report["findings"] == []
    assert "MCP105" not in report["files"][0]["rules_run"]


def test_unknown_selector_is_a_usage_error(tmp_path: Path) -> None:
    write_files(tmp_path, {"mcp-connector.yaml": _manifest()})
    completed = run_mcplint("check", "--select", "MCP9,nonsense", cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr == ("mcplint: error: --select: 'MCP9' is not a rule code, name or "
                                "code prefix (see `mcplint rules`)\n")


def test_profile_local_accepts_http_on_loopback(tmp_path: Path) -> None:
    write_files(tmp_path, {"mcp-connector.yaml": _manifest("http://localhost:8080/mcp", "localhost")})
    _, report = run_json("check", cwd=tmp_path)
    assert {f["code"] for f in report["findings"]} >= {"MCP101", "MCP104", "MCP106"}
    code, report = run_json("check", "--profile", "local", cwd=tmp_path)
    assert code == 0 and report["findings"] == []


def test_profile_precedence(tmp_path: Path) -> None:
    text = _manifest("http://localhost:8080/mcp", "localhost") + "profile: local\n"
    write_files(tmp_path, {"mcp-connector.yaml": text})
    assert run_mcplint("check", cwd=tmp_path).returncode == 0  # the manifest's profile
    assert run_mcplint("check", "--profile", "claude-ai", cwd=tmp_path).returncode == 1


def test_discovery_skips_hidden_and_ignored(tmp_path: Path) -> None:
    good, bad = _manifest(), _manifest("http://mcp.acme.com/mcp")
    write_files(tmp_path, {
        "mcp-connector.yaml": good,
        "deploy/prod.mcp-connector.yml": good,
        "deploy/other.yaml": bad,
        ".hidden/mcp-connector.yaml": bad,
        "build/mcp-connector.yaml": bad,
        ".gitignore": "build/\n",
    })
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    code, report = run_json("check", cwd=tmp_path)
    assert code == 0
    assert sorted(f["path"] for f in report["files"]) == [
        "deploy/prod.mcp-connector.yml", "mcp-connector.yaml"]
    # A path given explicitly is always checked.
    assert run_mcplint("check", "build/mcp-connector.yaml", cwd=tmp_path).returncode == 1


def test_discovery_without_git(tmp_path: Path) -> None:
    write_files(tmp_path, {"a/mcp-connector.yaml": _manifest(), ".x/mcp-connector.yaml": _manifest()})
    _, report = run_json("check", cwd=tmp_path)
    assert [f["path"] for f in report["files"]] == ["a/mcp-connector.yaml"]


def test_no_manifest_found(tmp_path: Path) -> None:
    completed = run_mcplint("check", cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.startswith("mcplint: error: no manifest found in the current folder")


def test_several_reports_in_one_run(tmp_path: Path, examples: Path) -> None:
    completed = run_mcplint("check", "examples/broken", "--format", "json", "--output",
                            "report.json", "--format", "text", cwd=examples)
    assert completed.returncode == 1
    assert json.loads((examples / "report.json").read_text())["findings"]
    assert "Found" in completed.stdout
    assert not list(examples.glob(".report.json.*"))  # the temporary file is gone
    two_stdout = run_mcplint("check", "examples/broken", "--format", "json", "--format", "text",
                             cwd=examples)
    assert two_stdout.returncode == 2 and "only one report can go to stdout" in two_stdout.stderr


def test_quiet_and_color(examples: Path) -> None:
    quiet = run_mcplint("check", "examples/broken", "-q", cwd=examples)
    assert "Found" not in quiet.stdout and quiet.stdout.strip()
    colored = run_mcplint("check", "examples/broken", "--color", "always", cwd=examples)
    assert "\x1b[" in colored.stdout
    plain = run_mcplint("check", "examples/broken", cwd=examples)
    assert "\x1b[" not in plain.stdout


def test_verbose_shows_documentation_links(examples: Path) -> None:
    completed = run_mcplint("check", "examples/broken", "-v", cwd=examples)
    assert "    docs: https://" in completed.stdout


@pytest.mark.parametrize("command", ["check", "rules", "explain", "schema"])
def test_help_has_examples(command: str) -> None:
    completed = run_mcplint(command, "--help")
    assert completed.returncode == 0 and "Examples:" in completed.stdout


def test_findings_in_document_files_are_located_there(examples: Path) -> None:
    _, report = run_json("check", "examples/broken", cwd=examples)
    prm = [f for f in report["findings"] if f["code"] == "MCP407"]
    assert prm[0]["file"].endswith("oauth-protected-resource.json")
    assert (prm[0]["line"], prm[0]["pointer"]) == (2, "/resource")


def test_many_manifests_in_parallel_match_one_by_one(tmp_path: Path) -> None:
    from support import lint_folder

    count = 60  # above the threshold where workers are used
    texts = {f"team{i:02d}/mcp-connector.yaml": _manifest(
        f"https://mcp{i}.acme.com{':8443' if i % 4 == 0 else ''}/mcp{'/' if i % 5 == 0 else ''}",
        f"mcp{i}.acme.com") for i in range(count)}
    write_files(tmp_path, texts)
    _, report = run_json("check", cwd=tmp_path)
    assert report["summary"]["manifests"] == count
    by_file: dict[str, list[tuple[str, int]]] = {}
    for finding in report["findings"]:
        by_file.setdefault(finding["file"], []).append((finding["code"], finding["line"]))
    for name, text in texts.items():
        alone = lint_folder(tmp_path / "single", text)
        assert by_file.get(name, []) == [(f.code, f.line) for f in alone], name


def test_a_reader_that_leaves_early_is_no_error(examples: Path) -> None:
    from livestack.env import child_env, venv_script

    for index in range(40):  # far more output than a pipe buffers, so the write must fail
        shutil.copytree(examples / "examples" / "broken", examples / "many" / str(index))
    completed = subprocess.run(f"{venv_script('mcplint')} check many | head -n 1",
                               shell=True, cwd=examples, env=child_env(), capture_output=True,
                               text=True, timeout=60, check=False)
    assert completed.stdout.count("\n") == 1 and completed.stderr == ""
