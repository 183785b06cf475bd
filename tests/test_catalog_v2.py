"""Catalog v2: realistic manifests of the causes it added, "one root cause, one finding"
between rules that ran only, and an upgrade from catalog 1 that reopens nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from support import (
    DATA,
    MARKER,
    REPO_ROOT,
    lint_folder,
    marked_lines,
    run_json,
    write_files,
)

from mcplint.policy.catalog import load_builtin

REALISTIC = sorted((DATA / "realistic").glob("*.yaml"))


def visible(findings: list[Any], at_least: str = "info") -> list[tuple[str, int]]:
    order = ["error", "warning", "info"]
    return sorted((f.code, f.line) for f in findings if not f.suppressed
                  and order.index(f.severity) <= order.index(at_least))


@pytest.mark.parametrize("path", REALISTIC, ids=[p.stem for p in REALISTIC])
def test_realistic_manifest_gives_exactly_its_marked_findings(tmp_path: Path, path: Path) -> None:
    text = path.read_text()
    expected = sorted((code, line) for code in set(MARKER.findall(text))
                      for line in marked_lines(text, code))
    assert expected, f"{path.name} marks no finding"
    assert visible(lint_folder(tmp_path, text)) == expected


def _realistic(name: str) -> str:
    return (DATA / "realistic" / f"{name}.yaml").read_text()


# -- the CIMD condition of MCP506 ------------------------------------------------------------

def test_cimd_without_none_counts_as_a_method_outside_claude_ai(tmp_path: Path) -> None:
    findings = lint_folder(tmp_path, _realistic("home-assistant-cimd"), cli_profile="spec")
    assert visible(findings, "warning") == []  # CIMD is a method to a spec client


def test_cimd_without_none_is_mcp507_when_mcp506_is_left_out(tmp_path: Path) -> None:
    findings = lint_folder(tmp_path, _realistic("home-assistant-cimd"), ignore=("MCP506",))
    assert visible(findings) == [("MCP507", 27)]


def test_cimd_without_none_but_with_dcr_is_the_warning(tmp_path: Path) -> None:
    text = _realistic("home-assistant-cimd").replace(
        "    revocation_endpoint:", "    registration_endpoint: https://home.acme.com/register\n"
        "    revocation_endpoint:").replace("   # <- MCP506", "")
    assert visible(lint_folder(tmp_path, text)) == [("MCP507", 28)]


# -- a member of the wrong type ---------------------------------------------------------------

def test_wrong_types_are_reported_by_their_value_rules_when_mcp520_is_left_out(
        tmp_path: Path) -> None:
    findings = lint_folder(tmp_path, _realistic("boolean-as-string"), ignore=("MCP520",))
    assert visible(findings) == [("MCP505", 19), ("MCP506", 20)]


def test_the_wrong_type_message_names_the_member(tmp_path: Path) -> None:
    findings = lint_folder(tmp_path, _realistic("boolean-as-string"))
    messages = sorted(f.message for f in findings)
    assert messages[0].startswith("client_id_metadata_document_supported holds a JSON string")
    assert messages[1].startswith("code_challenge_methods_supported holds a JSON string")


# -- selection never hides a finding whose overriding rule did not run ----------------------

MIXED = ("version: 1\nserver:\n  url: https://mcp.acme.com/mcp\nauth:\n  type: none\n"
         "hosts:\n  mcp.acme.com:\n    dns:\n      addresses: [104.18.1.1, 10.0.0.1]\n")
CLIENT_CREDENTIALS = """\
version: 1
server:
  url: https://mcp.acme.com/mcp
auth:
  type: oauth
  issuer: https://auth.acme.com
  audience: https://mcp.acme.com/mcp
  registration: [dcr]
  authorization_server_metadata:
    issuer: https://auth.acme.com
    authorization_endpoint: https://auth.acme.com/authorize
    token_endpoint: https://auth.acme.com/token
    registration_endpoint: https://auth.acme.com/register
    response_types_supported: [code]
    grant_types_supported: [client_credentials]
    code_challenge_methods_supported: [S256]
hosts:
  mcp.acme.com: {}
  auth.acme.com: {}
"""
URL_TOKEN = ("version: 1\nserver:\n  url: https://mcp.acme.com/mcp?token=abc\nauth:\n"
             "  type: none\nhosts:\n  mcp.acme.com: {}\n")


def _cli_codes(tmp_path: Path, text: str, *args: str) -> list[tuple[str, int]]:
    write_files(tmp_path, {"mcp-connector.yaml": text})
    _, report = run_json("check", *args, cwd=tmp_path)
    return [(f["code"], f["line"]) for f in report["findings"] if not f["suppression"]]


def test_mixed_answers_are_mcp202_and_select_mcp201_shows_mcp201(tmp_path: Path) -> None:
    assert _cli_codes(tmp_path, MIXED) == [("MCP202", 9)]
    assert _cli_codes(tmp_path, MIXED, "--select", "MCP201") == [("MCP201", 9)]
    assert _cli_codes(tmp_path, MIXED, "--ignore", "MCP202") == [("MCP201", 9)]


def test_client_credentials_only_keeps_mcp514_where_mcp607_does_not_run(tmp_path: Path) -> None:
    assert _cli_codes(tmp_path, CLIENT_CREDENTIALS) == [("MCP607", 15)]
    assert _cli_codes(tmp_path, CLIENT_CREDENTIALS, "--profile", "spec",
                      "--ignore", "cimd-not-offered,iss-parameter-not-advertised") == [("MCP514", 15)]
    assert _cli_codes(tmp_path, CLIENT_CREDENTIALS, "--ignore", "MCP607") == [("MCP514", 15)]
    write_files(tmp_path, {".mcplint.yaml": "ignore: [unsupported-auth-design]\n"})
    assert _cli_codes(tmp_path, CLIENT_CREDENTIALS) == [("MCP514", 15)]  # the config's too


def test_credentials_in_the_url_keep_mcp607_where_mcp103_does_not_run(tmp_path: Path) -> None:
    assert _cli_codes(tmp_path, URL_TOKEN) == [("MCP103", 3)]
    assert _cli_codes(tmp_path, URL_TOKEN, "--ignore", "MCP103") == [("MCP607", 3)]


def test_per_file_ignores_do_not_hide_either(tmp_path: Path) -> None:
    write_files(tmp_path, {".mcplint.yaml": "per-file-ignores:\n  'mcp-connector.yaml': [MCP202]\n"})
    assert _cli_codes(tmp_path, MIXED) == [("MCP201", 9)]


# Every pair of spec "One root cause, one finding": (the specific rule, the one it overrides).
# Those between live rules whose checks come with the live issues are declared here, and
# judged by the engine exactly like the static pairs above.
PAIRS = [
    ("MCP202", "MCP201"), ("MCP203", "MCP204"),
    *[(edge, rule) for edge in ("MCP305", "MCP306", "MCP307", "MCP308", "MCP309")
      for rule in ("MCP401", "MCP402", "MCP108")],
    ("MCP103", "MCP607"),
    ("MCP311", "MCP305"), ("MCP311", "MCP306"),
    ("MCP416", "MCP405"), ("MCP416", "MCP501"),
    ("MCP520", "MCP505"), ("MCP520", "MCP506"), ("MCP520", "MCP507"),
    ("MCP111", "MCP109"), ("MCP108", "MCP109"), ("MCP108", "MCP111"),
    ("MCP607", "MCP514"),
    ("MCP506", "MCP507"), ("MCP414", "MCP405"),
]


@pytest.mark.parametrize(("specific", "general"), PAIRS)
def test_every_root_cause_pair_is_declared(specific: str, general: str) -> None:
    assert specific in load_builtin().rules[general].overridden_by


def test_no_registration_at_all_is_mcp506_not_mcp508(tmp_path: Path) -> None:
    """The last pair is MCP508's own condition: it judges the method named only where the
    authorization server offers some method."""
    text = CLIENT_CREDENTIALS.replace("    registration_endpoint: https://auth.acme.com/register\n",
                                      "").replace("[client_credentials]",
                                                  "[authorization_code, refresh_token]")
    assert _cli_codes(tmp_path, text) == [("MCP506", 9)]
    assert _cli_codes(tmp_path, text, "--ignore", "MCP506") == []


# -- MCP303 narrowed to allowlists built for the hosted client, widened to the issuer -------

def _allowlisted(allowlist: str, metadata: bool, exempt: str = "") -> str:
    text = CLIENT_CREDENTIALS.replace("[client_credentials]", "[authorization_code, refresh_token]")
    if not metadata:
        text = text.split("  authorization_server_metadata:")[0] + "hosts:\n  mcp.acme.com: {}\n"
    else:
        text = text.replace("  auth.acme.com: {}\n", "")
    return text + f"  auth.acme.com:\n    waf:\n      ip_allowlist: {allowlist}\n{exempt}"


@pytest.mark.parametrize(("allowlist", "metadata", "exempt", "expected"), [
    ("[160.79.104.0/21]", True, "", ["MCP303"]),
    ("[160.79.104.0/22, 160.79.108.0/22]", True, "", ["MCP303"]),
    ("[160.79.104.0/21, 198.51.100.0/24]", True, "", []),  # an office's range: not narrowed
    ("[160.79.104.0/21]", True, "      exempt_paths: [/authorize]\n", []),
    ("[160.79.104.0/21]", False, "", ["MCP303"]),  # widened: the issuer's host
    ("[160.79.104.0/21]", False, "      exempt_paths: [/oauth/*]\n", []),
    ("[160.79.104.0/21, 198.51.100.0/24]", False, "", []),
])
def test_mcp303(tmp_path: Path, allowlist: str, metadata: bool, exempt: str,
                expected: list[str]) -> None:
    findings = lint_folder(tmp_path, _allowlisted(allowlist, metadata, exempt))
    assert [f.code for f in findings if f.code == "MCP303"] == expected
    assert all(f.line == findings[0].line for f in findings if f.code == "MCP303")


# -- upgrading from catalog 1 ----------------------------------------------------------------

def test_a_v1_baseline_of_examples_broken_still_hides_what_it_hid(tmp_path: Path) -> None:
    """tests/data/broken-v1-baseline.json was written by catalog 1 (the code before catalog
    2). Everything it recorded stays hidden: MCP510's entry also covers MCP516, which catalog
    1 reported as MCP510; only what catalog 2 adds (MCP517) shows."""
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    baseline = tmp_path / "broken-v1-baseline.json"  # beside examples/: paths one level up
    baseline.write_text((DATA / baseline.name).read_text().replace("../../examples/", "examples/"))
    code, report = run_json("check", "examples/broken", "--baseline", baseline.name, cwd=tmp_path)
    assert code == 1
    assert [(f["code"], f["file"]) for f in report["findings"] if not f["suppression"]] == [
        ("MCP517", "examples/broken/deploy/openid-configuration.json")]
    hidden = {f["code"] for f in report["findings"] if f["suppression"]}
    assert "MCP516" in hidden and "MCP510" not in hidden
    assert report["baseline"] == {"file": baseline.name, "matched": 14, "stale": 0}


def test_a_changed_severity_is_not_a_new_finding(tmp_path: Path) -> None:
    """A catalog 1 baseline recorded MCP104 as a warning; catalog 2's error is the same
    finding, still hidden."""
    folder = tmp_path / "realistic"
    folder.mkdir()
    shutil.copy(DATA / "realistic" / "port-8443.yaml", folder)
    shutil.copy(DATA / "port-8443-v1-baseline.json", tmp_path)
    code, report = run_json("check", "realistic/port-8443.yaml", "--baseline",
                            "port-8443-v1-baseline.json", cwd=tmp_path)
    assert code == 0
    assert [(f["code"], f["severity"], f["suppression"]["kind"]) for f in report["findings"]] == [
        ("MCP104", "error", "baseline")] * 2
    assert report["baseline"]["stale"] == 0


V1_SUPPRESSED = """\
version: 1
server:
  url: https://mcp.acme.com/mcp
auth:
  type: oauth
  issuer: https://auth.acme.com
  audience: https://mcp.acme.com/mcp
  registration: [preregistered]
  client:
    client_id: claude-connector
    # mcplint: disable=MCP510 -- our IdP admin adds the callbacks next quarter
    redirect_uris:
      - https://claude.ai/api/mcp/auth_callback
hosts:
  mcp.acme.com: {}
  auth.acme.com: {}
"""


def test_a_v1_suppression_of_mcp510_covers_mcp516_and_is_not_unused(tmp_path: Path) -> None:
    findings = lint_folder(tmp_path, V1_SUPPRESSED)
    assert [(f.code, f.line, f.suppression) for f in findings] == [
        ("MCP516", 12, {"kind": "inline",
                        "reason": "our IdP admin adds the callbacks next quarter"})]
    # Both callbacks missing: the one suppression covers both findings.
    both = V1_SUPPRESSED.replace("https://claude.ai/api/mcp/auth_callback",
                                 "https://acme.com/callback")
    assert sorted((f.code, f.suppressed) for f in lint_folder(tmp_path, both)) == [
        ("MCP510", True), ("MCP516", True)]
