"""The configuration file: discovery, precedence, every key, and one-line mistakes (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from support import REPO_ROOT, run_json, run_mcplint, write_files

# MCP105 (a warning) on line 3, nothing else. (Catalog 1's example was a server on port 8443,
# MCP104, which catalog 2 made an error.)
SSE_URL = ("version: 1\nserver:\n  url: https://mcp.acme.com/sse\nauth:\n  type: none\n"
           "hosts:\n  mcp.acme.com: {}\n")


def codes(report: dict) -> list[str]:
    return [f["code"] for f in report["findings"] if not f["suppression"]]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one manifest in services/a."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write_files(tmp_path, {"services/a/mcp-connector.yaml": SSE_URL})
    return tmp_path


def test_no_config_means_defaults(repo: Path) -> None:
    assert codes(run_json("check", cwd=repo)[1]) == ["MCP105"]
    assert run_mcplint("check", cwd=repo).returncode == 0


def test_found_upward_from_a_subfolder(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": "fail-on: warning\n"})
    assert run_mcplint("check", cwd=repo / "services").returncode == 1
    assert run_mcplint("check", cwd=repo / "services" / "a").returncode == 1


def test_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    write_files(tmp_path, {".mcplint.yaml": "fail-on: warning\n"})
    inner = tmp_path / "checkout"
    subprocess.run(["git", "init", "-q", str(inner)], check=True)
    write_files(inner, {"mcp-connector.yaml": SSE_URL})
    assert run_mcplint("check", cwd=inner).returncode == 0


def test_closest_wins_and_yaml_before_pyproject(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": "fail-on: warning\n",
                       "services/pyproject.toml": "[tool.mcplint]\nignore = ['MCP105']\n"})
    _, report = run_json("check", cwd=repo / "services")
    assert codes(report) == []  # services/pyproject.toml is closer than the root's YAML
    write_files(repo, {"services/.mcplint.yaml": "select: [MCP1]\n"})
    assert codes(run_json("check", cwd=repo / "services")[1]) == ["MCP105"]


def test_pyproject_without_a_tool_table_is_not_a_config(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": "fail-on: warning\n",
                       "services/pyproject.toml": "[project]\nname = 'mcplint-user'\n"})
    assert run_mcplint("check", cwd=repo / "services").returncode == 1  # the root's applies


def test_pyproject_table(repo: Path) -> None:
    write_files(repo, {"pyproject.toml": "[project]\nname = 'x'\n\n[tool.mcplint]\n"
                                         "fail-on = 'warning'\n\n[tool.mcplint.severity]\n"
                                         "transport-sse-deprecated = 'info'\n"})
    completed = run_mcplint("check", cwd=repo)
    assert completed.returncode == 0, completed.stdout + completed.stderr  # info < warning
    assert "MCP105 info" in completed.stdout


def test_command_line_overrides_the_config(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": "fail-on: warning\nignore: [MCP105]\n"
                                        "select: [MCP2]\nprofile: local\n"})
    assert codes(run_json("check", cwd=repo)[1]) == []
    _, report = run_json("check", "--select", "MCP1", cwd=repo)
    assert codes(report) == []  # --select replaces the config's select; its ignore stays
    _, report = run_json("check", "--select", "MCP1", "--ignore", "MCP310", cwd=repo)
    assert codes(report) == ["MCP105"]
    completed = run_mcplint("check", "--select", "MCP1", "--ignore", "MCP3",
                            "--fail-on", "error", cwd=repo)
    assert completed.returncode == 0


def test_config_and_no_config_options(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": "fail-on: warning\n",
                       "other.yaml": "ignore: MCP105, MCP310\n"})
    assert run_mcplint("check", "--no-config", cwd=repo).returncode == 0
    assert codes(run_json("check", "--config", "other.yaml", cwd=repo)[1]) == []
    completed = run_mcplint("check", "--config", "other.yaml", "--no-config", cwd=repo)
    assert completed.returncode == 2 and "contradict" in completed.stderr


def test_severity_overrides_by_code_or_name(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": "severity:\n  transport-sse-deprecated: error\n"})
    code, report = run_json("check", cwd=repo)
    assert code == 1 and report["findings"][0]["severity"] == "error"


def test_exclude_and_force_exclude_relative_to_the_config(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": "exclude: [services/legacy]\n",
                       "services/legacy/mcp-connector.yaml": SSE_URL})
    _, report = run_json("check", cwd=repo)
    assert [f["path"] for f in report["files"]] == ["services/a/mcp-connector.yaml"]
    _, report = run_json("check", cwd=repo / "services")  # same meaning from a subfolder
    assert [f["path"] for f in report["files"]] == ["a/mcp-connector.yaml"]
    named = "services/legacy/mcp-connector.yaml"
    assert len(run_json("check", named, cwd=repo)[1]["files"]) == 1  # a name is always checked
    completed = run_mcplint("check", "--force-exclude", named, cwd=repo)
    assert completed.returncode == 0 and "0 manifests" in completed.stdout


def test_exclude_glob_without_slash_matches_any_folder(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": "exclude: ['legacy', '*.staging.mcp-connector.yaml']\n",
                       "x/legacy/y/mcp-connector.yaml": SSE_URL,
                       "services/b/api.staging.mcp-connector.yaml": SSE_URL})
    _, report = run_json("check", cwd=repo)
    assert [f["path"] for f in report["files"]] == ["services/a/mcp-connector.yaml"]


def test_per_file_ignores(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": "per-file-ignores:\n  'services/a/*': [MCP105]\n",
                       "services/b/mcp-connector.yaml": SSE_URL})
    _, report = run_json("check", cwd=repo)
    assert [f["file"] for f in report["findings"]] == ["services/b/mcp-connector.yaml"]
    _, report = run_json("check", cwd=repo / "services" / "a")  # globs: the config's folder
    assert report["findings"] == []


def test_policy_folders_relative_to_the_config(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": "policies: [org-policies]\n",
                       "org-policies/acme.yaml": ACME_POLICY})
    _, report = run_json("check", cwd=repo / "services")
    assert "ACME001" in codes(report)
    # --policies adds to the config's folders; naming the same folder twice loads it once
    _, report = run_json("check", "--policies", "../org-policies", cwd=repo / "services")
    assert codes(report).count("ACME001") == 1


ACME_POLICY = """\
code: ACME001
name: server-path-mcp
severity: warning
modes: [static]
symptom: none
summary: Our connectors serve /mcp.
checks:
  - given: /facts/server
    expect: this.path == '/mcp'
    message: "{this.host} serves {this.path}, not /mcp"
docs:
  what: The path is /mcp.
  why: Our edge routes /mcp only.
  fix: Serve /mcp.
"""


def test_egress_ranges_replace_the_builtin_file(repo: Path) -> None:
    manifest = ("version: 1\nserver:\n  url: https://mcp.acme.com/mcp\nauth:\n  type: none\n"
                "hosts:\n  mcp.acme.com:\n    waf:\n      ip_allowlist: [198.51.100.0/24]\n")
    write_files(repo, {"services/a/mcp-connector.yaml": manifest})
    assert "MCP301" in codes(run_json("check", cwd=repo)[1])
    write_files(repo, {".mcplint.yaml": "egress-ranges: data/egress.yaml\n",
                       "data/egress.yaml": "required: [198.51.100.0/25]\nretired: []\n"})
    assert "MCP301" not in codes(run_json("check", cwd=repo / "services")[1])


@pytest.mark.parametrize(("config", "expected"), [
    ("fail-on: warning\nexlude: [x]\n",
     ".mcplint.yaml:2: unknown key 'exlude' (did you mean 'exclude'?); allowed: baseline, "
     "egress-ranges, exclude, extend, fail-on, ignore, live, per-file-ignores, policies, "
     "profile, required-version, select, severity, suppress"),
    ("severity:\n  MCP104: fatal\n",
     ".mcplint.yaml:2: severity.MCP104 is \"fatal\"; allowed: error, warning, info"),
    ("severity:\n  MCP999: error\n",
     ".mcplint.yaml:1: severity: 'MCP999' is not a rule code or name (see `mcplint rules`)"),
    ("select: [MCP1, MCP9]\n",
     ".mcplint.yaml:1: select: 'MCP9' is not a rule code, name or code prefix "
     "(see `mcplint rules`)"),
    ("per-file-ignores:\n  '*': nonsense\n",
     ".mcplint.yaml:1: per-file-ignores: 'nonsense' is not a rule code, name or code prefix "
     "(see `mcplint rules`)"),
    ("live:\n  timeout: 0\n", ".mcplint.yaml:2: live.timeout is 0; allowed: a number greater than 0"),
    ("live:\n  dns: []\n",
     ".mcplint.yaml:2: unknown key 'live.dns'; allowed in live: timeout"),
    ("exclude: legacy\n", ".mcplint.yaml:1: exclude is \"legacy\"; allowed: a list of strings"),
    ("profile: claude\n", ".mcplint.yaml:1: profile is \"claude\"; allowed: claude-ai, spec, local"),
    ("select: 5\n", ".mcplint.yaml:1: select is 5; allowed: a list of rule codes, names or code "
                    "prefixes (MCP3), or one comma-separated string of them"),
    ("- fail-on\n", ".mcplint.yaml: a config file is a mapping of keys (see `mcplint schema config`)"),
    ("fail-on: warning\nfail-on: info\n", ".mcplint.yaml:2:1: key 'fail-on' appears twice"),
    ("baseline: missing.json\n", ".mcplint.yaml:1: baseline: missing.json does not exist "
                                 "(record one with --write-baseline FILE)"),
    ("policies: [ci/policies]\n", ".mcplint.yaml:1: policies: ci/policies is not a folder; "
                                  "allowed: folders of policy files, relative to the config's folder"),
])
def test_config_mistakes_are_one_line_naming_file_key_and_allowed(
        repo: Path, config: str, expected: str) -> None:
    write_files(repo, {".mcplint.yaml": config})
    completed = run_mcplint("check", cwd=repo)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1, completed.stderr
    assert completed.stderr.startswith(f"mcplint: error: {expected}"), completed.stderr


@pytest.mark.parametrize(("table", "expected"), [
    ("fail_on = 'warning'", "pyproject.toml [tool.mcplint]: unknown key 'fail_on' "
                            "(did you mean 'fail-on'?); allowed: baseline,"),
    ("[tool.mcplint.severity]\nMCP104 = 'high'",
     "pyproject.toml [tool.mcplint]: severity.MCP104 is \"high\"; allowed: error, warning, info"),
    ("ignore = ['MCP9']", "pyproject.toml [tool.mcplint]: ignore: 'MCP9' is not a rule code, "
                          "name or code prefix"),
])
def test_pyproject_mistakes(repo: Path, table: str, expected: str) -> None:
    header = "" if table.startswith("[") else "[tool.mcplint]\n"
    write_files(repo, {"pyproject.toml": f"{header}{table}\n"})
    completed = run_mcplint("check", cwd=repo)
    assert completed.returncode == 2 and completed.stderr.count("\n") == 1
    assert completed.stderr.startswith(f"mcplint: error: {expected}"), completed.stderr


def test_bad_egress_file_names_the_file_and_entry(repo: Path) -> None:
    write_files(repo, {".mcplint.yaml": "egress-ranges: egress.yaml\n",
                       "egress.yaml": "required:\n  - 160.79.104.0/21\n  - 160.79.104.300/21\n"})
    completed = run_mcplint("check", cwd=repo)
    assert completed.returncode == 2
    assert completed.stderr == ("mcplint: error: egress.yaml:3: required[1] is "
                                "\"160.79.104.300/21\"; allowed: an IPv4 or IPv6 address or CIDR\n")


def test_live_settings_for_verify(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcplint.config.file import settings_for

    # live.nameservers is no longer read (the resolvers are the operator's: test_security.py)
    write_files(repo, {".mcplint.yaml": "live:\n  timeout: 5\n"})
    monkeypatch.chdir(repo / "services")
    settings = settings_for({})
    assert settings.live_timeout == 5
    assert settings.config_file == "../.mcplint.yaml"


def test_schema_config_prints_the_schema() -> None:
    printed = json.loads(run_mcplint("schema", "config").stdout)
    assert printed == json.loads((REPO_ROOT / "schemas" / "config.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(printed)
    assert printed["additionalProperties"] is False


def test_happy_path_imports_neither_tomllib_nor_jsonschema(repo: Path) -> None:
    """check runs on every commit: a valid config costs no jsonschema, and a pyproject.toml
    without [tool.mcplint] is not parsed."""
    write_files(repo, {".mcplint.yaml": "fail-on: warning\nseverity: {MCP105: info}\n",
                       "services/pyproject.toml": "[project]\nname = 'mcplint-like'\n"})
    probe = ("import sys\nfrom mcplint.cli import main\ntry:\n    main(['check', '-q'])\n"
             "except SystemExit as e:\n    code = e.code\n"
             "print(code, sorted(m for m in ('tomllib', 'tomli', 'jsonschema') if m in sys.modules),"
             " file=sys.stderr)\n")
    completed = subprocess.run([sys.executable, "-c", probe], cwd=repo / "services",
                               capture_output=True, text=True, check=False)
    assert completed.stderr.strip() == "0 []", completed.stderr
