"""Every rule on realistic manifests (beyond each policy's own examples), and the
"one root cause, one finding" promises of the rule catalog (docs/rules/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support import lint_folder

HEALTHY_AS = """\
  authorization_server_metadata:
    issuer: {issuer}
    authorization_endpoint: https://auth.acme.com/authorize
    token_endpoint: https://auth.acme.com/token
    registration_endpoint: https://auth.acme.com/register
    response_types_supported: [code]
    grant_types_supported: [authorization_code, refresh_token]
    code_challenge_methods_supported: [S256]
"""


def manifest(*, url: str = "https://mcp.acme.com/mcp", issuer: str = "https://auth.acme.com",
             audience: str | None = None, registration: str = "[dcr]", extra_auth: str = "",
             hosts: str = "  mcp.acme.com: {}\n  auth.acme.com: {}\n", profile: str = "") -> str:
    audience = audience if audience is not None else url
    return (f"version: 1\n{profile}server:\n  url: {url}\nauth:\n  type: oauth\n"
            f"  issuer: {issuer}\n  audience: {audience}\n  registration: {registration}\n"
            f"{extra_auth}hosts:\n{hosts}")


def codes(findings: list[Any], at_least: str = "info") -> list[str]:
    order = ["error", "warning", "info"]
    return sorted(f.code for f in findings if order.index(f.severity) <= order.index(at_least)
                  and not f.suppressed)


def test_healthy_manifest_is_clean(tmp_path: Path) -> None:
    findings = lint_folder(tmp_path, manifest(extra_auth=HEALTHY_AS.format(issuer="https://auth.acme.com")))
    assert codes(findings) == []


def test_trailing_slash_on_the_audience(tmp_path: Path) -> None:
    findings = lint_folder(tmp_path, manifest(audience="https://mcp.acme.com/mcp/"))
    assert codes(findings) == ["MCP601"]
    assert findings[0].line == 7 and "https://mcp.acme.com/mcp" in findings[0].message


def test_issuer_differs_by_a_slash_in_prm(tmp_path: Path) -> None:
    prm = ("  resource_metadata:\n    resource: https://mcp.acme.com/mcp\n"
           "    authorization_servers: ['https://auth.acme.com/']\n"
           "    scopes_supported: [mcp]\n")
    assert codes(lint_folder(tmp_path, manifest(extra_auth=prm))) == ["MCP409"]


def test_issuer_differs_by_a_slash_in_as_metadata(tmp_path: Path) -> None:
    text = manifest(extra_auth=HEALTHY_AS.format(issuer="https://auth.acme.com/"))
    findings = lint_folder(tmp_path, text)
    assert codes(findings) == ["MCP502"]


def test_issuer_with_path_and_metadata_file(tmp_path: Path) -> None:
    text = manifest(issuer="https://login.acme.com/realms/mcp",
                    hosts="  mcp.acme.com: {}\n  login.acme.com: {}\n",
                    extra_auth="  authorization_server_metadata: deploy/as.json\n")
    document = ('{"issuer": "https://login.acme.com/realms/mcp",\n'
                ' "authorization_endpoint": "https://login.acme.com/realms/mcp/auth",\n'
                ' "token_endpoint": "https://login.acme.com/realms/mcp/token",\n'
                ' "response_types_supported": ["code"],\n'
                ' "code_challenge_methods_supported": ["S256", "plain"]}\n')
    findings = lint_folder(tmp_path, text, {"deploy/as.json": document})
    # registration [dcr] but the metadata offers no registration endpoint, no CIMD: MCP506.
    assert codes(findings) == ["MCP506"]
    assert findings[0].file == "deploy/as.json" and findings[0].line == 1


def test_cimd_advertised_without_none(tmp_path: Path) -> None:
    metadata = HEALTHY_AS.format(issuer="https://auth.acme.com") + (
        "    client_id_metadata_document_supported: true\n"
        "    token_endpoint_auth_methods_supported: [private_key_jwt]\n")
    findings = lint_folder(tmp_path, manifest(registration="[cimd, dcr]", extra_auth=metadata))
    assert codes(findings) == ["MCP507"]
    # Outside the claude-ai profile the rule does not run (catalog 2's spec advice, MCP519,
    # is an info there).
    assert codes(lint_folder(tmp_path, manifest(registration="[cimd, dcr]", extra_auth=metadata),
                             cli_profile="spec"), at_least="warning") == []


@pytest.mark.parametrize(("allowlist", "exempt", "expected"), [
    ("[160.79.104.0/22]", "", ["MCP301"]),
    ("[160.79.104.0/22, 160.79.108.0/22]", "", []),
    ("[160.79.104.0/22]", "\n      exempt_paths: [/mcp, /.well-known/*]", []),
    ("[160.79.104.0/22]", "\n      exempt_paths: [/mcp]", ["MCP301"]),
    ("[]", "", ["MCP301"]),
])
def test_allowlist_coverage(tmp_path: Path, allowlist: str, exempt: str,
                            expected: list[str]) -> None:
    hosts = f"  mcp.acme.com:\n    waf:\n      ip_allowlist: {allowlist}{exempt}\n  auth.acme.com: {{}}\n"
    assert codes(lint_folder(tmp_path, manifest(hosts=hosts))) == expected


def test_as_host_allowlist_needs_token_and_registration_paths(tmp_path: Path) -> None:
    hosts = ("  mcp.acme.com: {}\n  auth.acme.com:\n    waf:\n      ip_allowlist: [192.0.2.0/24]\n"
             "      exempt_paths: [/.well-known/*, /authorize, /token]\n")
    findings = lint_folder(tmp_path, manifest(hosts=hosts, extra_auth=HEALTHY_AS.format(
        issuer="https://auth.acme.com")))
    assert codes(findings) == ["MCP301"]
    assert "registration endpoint (/register)" in findings[0].message


def test_mixed_answers_are_one_finding(tmp_path: Path) -> None:
    hosts = ("  mcp.acme.com:\n    dns:\n      addresses: [104.18.1.1, 10.0.0.1, 100.64.0.1]\n"
             "  auth.acme.com: {}\n")
    assert codes(lint_folder(tmp_path, manifest(hosts=hosts))) == ["MCP202"]


@pytest.mark.parametrize("address", ["10.0.0.1", "100.64.0.1", "169.254.1.1", "127.0.0.1",
                                     "192.168.0.0/24"])
def test_non_public_declared_address(tmp_path: Path, address: str) -> None:
    hosts = f"  mcp.acme.com:\n    dns:\n      addresses: [{address}]\n  auth.acme.com: {{}}\n"
    findings = lint_folder(tmp_path, manifest(hosts=hosts))
    assert codes(findings) == ["MCP201"] and findings[0].line == 12


def test_aaaa_only(tmp_path: Path) -> None:
    hosts = "  mcp.acme.com:\n    dns:\n      addresses: ['2606:4700::1']\n  auth.acme.com: {}\n"
    assert codes(lint_folder(tmp_path, manifest(hosts=hosts))) == ["MCP203"]
    assert codes(lint_folder(tmp_path, manifest(hosts=hosts), cli_profile="spec")) == []


def test_credentials_in_the_url_are_mcp103_not_mcp607(tmp_path: Path) -> None:
    url = "https://mcp.acme.com/mcp?token=abc"
    findings = lint_folder(tmp_path, manifest(url=url, audience=url))
    # Two URLs carry the token (server.url and the audience); MCP607 stays silent.
    assert [(f.code, f.line) for f in findings] == [("MCP103", 3), ("MCP103", 7)]


def test_client_credentials_only_is_mcp607_not_mcp514(tmp_path: Path) -> None:
    metadata = HEALTHY_AS.format(issuer="https://auth.acme.com").replace(
        "[authorization_code, refresh_token]", "[client_credentials]")
    assert codes(lint_folder(tmp_path, manifest(extra_auth=metadata))) == ["MCP607"]


def test_no_registration_method_is_mcp506_not_mcp508(tmp_path: Path) -> None:
    metadata = HEALTHY_AS.format(issuer="https://auth.acme.com").replace(
        "    registration_endpoint: https://auth.acme.com/register\n", "")
    assert codes(lint_folder(tmp_path, manifest(extra_auth=metadata))) == ["MCP506"]
    both = manifest(registration="[cimd, dcr]", extra_auth=metadata)
    assert codes(lint_folder(tmp_path, both)) == ["MCP506"]


def test_static_headers_design(tmp_path: Path) -> None:
    base = ("version: 1\nserver:\n  url: https://mcp.acme.com/mcp\nauth:\n  type: static-headers\n"
            "  headers:\n    Authorization: {value}\nhosts:\n  mcp.acme.com: {{}}\n")
    assert codes(lint_folder(tmp_path, base.format(value="Bearer ${ACME_TOKEN}"))) == []
    findings = lint_folder(tmp_path, base.format(value="Bearer abc.def.ghi"))
    assert codes(findings) == ["MCP007"] and findings[0].line == 7


def test_oauth_fields_are_required_with_oauth(tmp_path: Path) -> None:
    text = ("version: 1\nserver:\n  url: https://mcp.acme.com/mcp\nauth:\n  type: oauth\n"
            "hosts:\n  mcp.acme.com: {}\n")
    findings = lint_folder(tmp_path, text)
    assert [(f.code, f.line) for f in findings] == [("MCP004", 4)] * 3
    assert sorted(f.message.rsplit("'", 2)[1] for f in findings) == ["audience", "issuer", "registration"]


def test_client_refused_without_preregistered(tmp_path: Path) -> None:
    text = manifest(extra_auth="  client:\n    client_id: abc\n")
    findings = lint_folder(tmp_path, text)
    assert codes(findings) == ["MCP004"]
    assert "only used with registration `preregistered`" in findings[0].message


def test_typo_gets_a_suggestion(tmp_path: Path) -> None:
    hosts = "  mcp.acme.com:\n    waf:\n      ip_allowlst: [1.2.3.4]\n  auth.acme.com: {}\n"
    (finding,) = lint_folder(tmp_path, manifest(hosts=hosts))
    assert finding.code == "MCP004" and (finding.line, finding.column) == (12, 7)
    assert finding.message == ("unknown field 'ip_allowlst' in hosts.\"mcp.acme.com\".waf; "
                               "did you mean 'ip_allowlist'?")


def test_uppercase_host_key(tmp_path: Path) -> None:
    hosts = "  MCP.acme.com: {}\n  auth.acme.com: {}\n"
    findings = lint_folder(tmp_path, manifest(hosts=hosts))
    assert "MCP004" in codes(findings)


def test_metadata_file_outside_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (tmp_path / "secret.json").write_text('{"resource": "x"}')
    findings = lint_folder(repo, manifest(extra_auth="  resource_metadata: ../secret.json\n"))
    assert codes(findings) == ["MCP008"]
    assert "outside the repository" in findings[0].message and '"x"' not in findings[0].message


def test_metadata_symlink_escaping_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "link.json").symlink_to(outside)
    findings = lint_folder(folder, manifest(extra_auth="  resource_metadata: link.json\n"))
    assert codes(findings) == ["MCP008"]


def test_metadata_document_that_is_a_list(tmp_path: Path) -> None:
    findings = lint_folder(tmp_path, manifest(extra_auth="  resource_metadata: prm.yaml\n"),
                           {"prm.yaml": "- a\n- b\n"})
    assert codes(findings) == ["MCP008"] and "a list" in findings[0].message


def test_duplicate_key_in_a_metadata_file_is_located_there(tmp_path: Path) -> None:
    document = ("resource: https://mcp.acme.com/mcp\nauthorization_servers: [https://auth.acme.com]\n"
                "scopes_supported: [a]\nresource: https://mcp.acme.com/mcp\n")
    findings = lint_folder(tmp_path, manifest(extra_auth="  resource_metadata: prm.yaml\n"),
                           {"prm.yaml": document})
    assert [(f.code, f.file, f.line) for f in findings] == [("MCP002", "prm.yaml", 4)]


def test_auth_none_skips_oauth_rules(tmp_path: Path) -> None:
    text = ("version: 1\nserver:\n  url: https://mcp.acme.com/mcp\nauth:\n  type: none\n"
            "  issuer: http://auth.acme.com\nhosts:\n  mcp.acme.com: {}\n")
    # issuer under auth none is accepted by the schema but no OAuth rule judges it.
    assert "MCP503" not in codes(lint_folder(tmp_path, text))


def test_undeclared_hosts_are_info(tmp_path: Path) -> None:
    findings = lint_folder(tmp_path, manifest(hosts="  mcp.acme.com: {}\n",
                                              extra_auth=HEALTHY_AS.format(issuer="https://auth.acme.com")))
    assert [(f.code, f.severity) for f in findings] == [("MCP310", "info")]
    assert "auth.acme.com" in findings[0].message
