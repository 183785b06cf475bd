"""Users' own policies with --policies DIR: same format, their own codes."""

from __future__ import annotations

from pathlib import Path

from support import run_json, run_mcplint, write_files

POLICY = """\
code: ACME001
name: server-under-acme-domain
severity: error
modes: [static]
symptom: none
summary: The MCP server lives under acme.com.
checks:
  - given: /facts/server
    when: this.valid
    expect: ends_with(this.host, '.acme.com')
    message: "{this.host} is not under acme.com"
docs:
  what: Our connectors live under acme.com.
  why: Our WAF and certificates cover only acme.com.
  fix: Move the server under acme.com.
examples:
  bad: |
    version: 1
    server: {url: 'https://mcp.example.org/mcp'}   # <- ACME001
    auth: {type: none}
"""
MANIFEST = ("version: 1\nserver:\n  url: https://mcp.other.org/mcp\nauth:\n  type: none\n"
            "hosts:\n  mcp.other.org: {}\n")


def test_user_policy_runs_and_is_documented(tmp_path: Path) -> None:
    write_files(tmp_path, {"policies/acme.yaml": POLICY, "mcp-connector.yaml": MANIFEST})
    code, report = run_json("check", "--policies", "policies", cwd=tmp_path)
    assert code == 1
    (finding,) = report["findings"]
    assert (finding["code"], finding["line"], finding["message"]) == (
        "ACME001", 3, "mcp.other.org is not under acme.com")
    assert finding["help_uri"] is None


def test_user_policy_may_not_use_mcp_codes(tmp_path: Path) -> None:
    write_files(tmp_path, {"policies/p.yaml": POLICY.replace("ACME001", "MCP999"),
                           "mcp-connector.yaml": MANIFEST})
    completed = run_mcplint("check", "--policies", "policies", cwd=tmp_path)
    assert completed.returncode == 2
    assert "code MCP999 starts with MCP, which is reserved" in completed.stderr
    assert len(completed.stderr.splitlines()) == 1


def test_invalid_policy_file_is_a_one_line_error(tmp_path: Path) -> None:
    write_files(tmp_path, {"policies/p.yaml": POLICY.replace("severity: error", "severity: fatal"),
                           "mcp-connector.yaml": MANIFEST})
    completed = run_mcplint("check", "--policies", "policies", cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.startswith("mcplint: error: policies/p.yaml:3:11: /severity:")
    assert len(completed.stderr.splitlines()) == 1


def test_invalid_jmespath_is_a_one_line_error(tmp_path: Path) -> None:
    write_files(tmp_path, {"policies/p.yaml": POLICY.replace("ends_with(this.host", "ends_with((this.host"),
                           "mcp-connector.yaml": MANIFEST})
    completed = run_mcplint("check", "--policies", "policies", cwd=tmp_path)
    assert completed.returncode == 2 and "invalid JMESPath" in completed.stderr


def test_user_policy_with_a_schema_check(tmp_path: Path) -> None:
    policy = POLICY.replace("""    when: this.valid
    expect: ends_with(this.host, '.acme.com')
""", """    schema: {properties: {port: {type: 'null'}}}
""").replace("is not under acme.com", "has an explicit port")
    write_files(tmp_path, {"policies/p.yaml": policy,
                           "mcp-connector.yaml": MANIFEST.replace("other.org/", "other.org:443/")})
    code, report = run_json("check", "--policies", "policies", "--select", "ACME", cwd=tmp_path)
    assert [f["code"] for f in report["findings"]] == ["ACME001"]
