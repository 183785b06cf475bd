"""Safe on an untrusted pull request: the manifest, the repository's config and the servers
they name may be hostile. Each class of issue 10 has tests here: addresses (IPv6 forms that
embed IPv4, URL host forms browsers read as addresses), the guard being the operator's
(loopback, resolvers, credential variables), secrets in --record, and output that cannot be
steered (control characters, workflow commands, Markdown)."""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from livestack.hostile_server import hostile_token
from support import ScriptedServer, run_mcplint

from mcplint.facts.addresses import classify_address
from mcplint.facts.urls import url_facts

URL_DATA = {"nonpublic_suffixes": ["localhost", "internal"], "credential_params": [],
            "dyndns_zones": []}


# -- addresses ---------------------------------------------------------------------------
@pytest.mark.parametrize(("address", "kind"), [
    ("64:ff9b::7f00:1", "loopback"),           # NAT64 well-known prefix, embeds 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),      # ... 169.254.169.254
    ("64:ff9b::a00:1", "private"),             # ... 10.0.0.1
    ("64:ff9b:1::a00:1", "reserved"),          # local-use NAT64 (RFC 8215): never global
    ("::127.0.0.1", "loopback"),               # IPv4-compatible (deprecated)
    ("::a9fe:a9fe", "link-local"),
    ("::ffff:0:127.0.0.1", "loopback"),        # IPv4-translated (SIIT)
    ("::ffff:0:a00:1", "private"),
    ("2002:7f00:1::1", "loopback"),            # 6to4 embeds 127.0.0.1
    ("2002:a9fe:a9fe::", "link-local"),
    ("2002:a00:1::1", "private"),
    ("fec0::1", "site-local"),                 # deprecated site-local
    ("3fff::1", "reserved"),                   # documentation (RFC 9637)
    ("4000::1", "reserved"),                   # outside global unicast 2000::/3
    ("64:ff9b::8.8.8.8", "global"),            # NAT64 of a public address is public
    ("2002:808:808::1", "global"),
    ("2606:4700::1", "global"),
])
def test_embedded_and_non_global_ipv6(address: str, kind: str) -> None:
    assert classify_address(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(("url", "host"), [
    ("https://0x7f.1/mcp", "127.0.0.1"),
    ("https://127.1/mcp", "127.0.0.1"),
    ("https://0177.0.0.1/mcp", "127.0.0.1"),
    ("https://2130706433/mcp", "127.0.0.1"),
    ("https://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254"),
    ("https://10.1/", "10.0.0.1"),
    ("https://127.0.0.1./mcp", "127.0.0.1"),
    ("https://%31%32%37.0.0.1/mcp", "127.0.0.1"),     # the host is percent-decoded
    ("https://\uff11\uff12\uff17.0.0.1/mcp", "127.0.0.1"),  # full-width digits (IDNA mapping)
    ("https://mcp.acme.internal\\@mcp.acme.com/mcp", "mcp.acme.internal"),  # \ is a /
    ("https://a\\@8.8.8.8/", "a"),
    ("https://[::ffff:7f00:1]/mcp", "::ffff:7f00:1"),
    ("https://[64:ff9b::7f00:1]/mcp", "64:ff9b::7f00:1"),
])
def test_check_judges_the_host_a_browser_connects_to(url: str, host: str) -> None:
    facts = url_facts(url, URL_DATA)
    assert facts["valid"], facts
    assert facts["host"] == host
    assert facts["nonpublic_reason"] is not None, facts


@pytest.mark.parametrize("url", ["https://mcp.acme.com/mcp", "https://8.8.8.8/mcp",
                                 "https://0x8.8.8.8/", "https://1.2.3.4.example.com/"])
def test_public_hosts_stay_public(url: str) -> None:
    facts = url_facts(url, {**URL_DATA, "nonpublic_suffixes": ["internal"]})
    assert facts["nonpublic_reason"] is None, facts


@pytest.mark.parametrize("url", ["https://0x100000000/", "https://1.2.3.256/",
                                 "https://1.2.3.09/"])
def test_numeric_hosts_that_are_no_address_are_invalid(url: str) -> None:
    # WHATWG fails these (the last label is numeric but no IPv4): no client connects anywhere.
    assert url_facts(url, URL_DATA)["valid"] is False


# -- live: no connection to an embedded address from any of the five places ----------------
# The network guard (tests/netguard) fails a test whose mcplint child tried to connect
# anywhere but loopback: these addresses are not loopback to it, so it is the audit.
EMBEDDED = {
    "server.url": "https://[64:ff9b::7f00:1]/mcp",          # NAT64 of 127.0.0.1
    "issuer": "https://[::ffff:0:a9fe:a9fe]",                # SIIT form of 169.254.169.254
    "hint": "https://[2002:a9fe:a9fe::1]/prm",               # 6to4 of 169.254.169.254
    "authorization_servers": "https://[::a00:1]",            # IPv4-compatible 10.0.0.1
    "token_endpoint": "https://[64:ff9b:1::a00:1]/token",    # local-use NAT64
    "registration_endpoint": "https://[fec0::1]/register",   # site-local
}


def _hostile_url(stack: Any, config: dict[str, Any], path: str = "/mcp") -> str:
    return f"https://{stack.host('hostile-ssrf')}/t/{hostile_token(config)}{path}"


def _run(stack: Any, folder: Path, command: str, target: str | dict[str, Any], *args: str,
         config: str | None = None) -> tuple[subprocess.CompletedProcess[str], list[Any]]:
    """Run verify (a manifest) or probe (a URL) against the stack; (completed, requests
    of the --record)."""
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "record.json"
    if config is not None:
        (folder / ".mcplint.yaml").write_text(config)
    if isinstance(target, dict):
        path = folder / "mcp-connector.yaml"
        path.write_text(yaml.safe_dump(target, sort_keys=False))
        target = str(path)
    completed = run_mcplint(
        command, target, "--format", "json", "--timeout", "4", "--deadline", "30",
        "--record", str(record), *args, *stack.cli_args(None, hosts=[stack.host("hostile-ssrf")]),
        cwd=folder)
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    requests = [r for v in json.loads(record.read_text())["verifications"] for r in v["requests"]]
    return completed, requests


def _refused(requests: list[Any], url: str) -> bool:
    return any(r["url"].startswith(url) and r["error"] == "not-public"
               and r["connected_to"] is None for r in requests)


def _manifest(stack: Any, server_url: str, issuer: str, **extra: Any) -> dict[str, Any]:
    return {"version": 1, "name": "hostile", "server": {"url": server_url},
            "auth": {"type": "oauth", "issuer": issuer, "registration": ["dcr"]}, **extra}


def test_no_connection_to_embedded_addresses_the_manifest_names(livestack: Any,
                                                               tmp_path: Path) -> None:
    manifest = _manifest(livestack, EMBEDDED["server.url"], EMBEDDED["issuer"])
    _, requests = _run(livestack, tmp_path, "verify", manifest)
    assert _refused(requests, EMBEDDED["server.url"]), requests
    assert _refused(requests, EMBEDDED["issuer"]), requests


def test_no_connection_to_embedded_addresses_servers_name(livestack: Any,
                                                         tmp_path: Path) -> None:
    config = {key: EMBEDDED[key] for key in ("hint", "token_endpoint",
                                             "registration_endpoint")}
    config["authorization_servers"] = [EMBEDDED["authorization_servers"]]
    issuer = _hostile_url(livestack, config, "")
    _, requests = _run(livestack, tmp_path / "verify", "verify",
                       _manifest(livestack, _hostile_url(livestack, config), issuer),
                       "--probe-registration")
    for key in ("hint", "token_endpoint", "registration_endpoint"):
        assert _refused(requests, EMBEDDED[key]), (key, requests)
    # Without a manifest, the PRM's authorization server is the one followed.
    _, requests = _run(livestack, tmp_path / "probe", "probe", _hostile_url(livestack, config))
    assert _refused(requests, EMBEDDED["hint"]), requests
    assert _refused(requests, EMBEDDED["authorization_servers"]), requests


def test_ipv6_literals_are_refused_under_claude_ai(livestack: Any, tmp_path: Path) -> None:
    """The hosted client connects over IPv4 only: so does mcplint under claude-ai."""
    config = {"hint": "https://[2606:4700::1]/prm"}
    _, requests = _run(livestack, tmp_path, "probe", _hostile_url(livestack, config))
    (hint,) = [r for r in requests if r["url"] == config["hint"]]
    assert hint["error"] == "not-public" and "IPv4" in hint["detail"], hint


# -- live: the guard is the operator's -----------------------------------------------------
@pytest.fixture
def sink() -> Iterator[ScriptedServer]:
    """A loopback listener that counts the connections mcplint must not make."""
    server = ScriptedServer(lambda connection: False)
    yield server
    server.close()


def _loopback_config(sink: ScriptedServer) -> dict[str, Any]:
    return {"hint": sink.url("/prm"), "token_endpoint": sink.url("/token"),
            "registration_endpoint": f"http://localhost:{sink.port}/register"}


@pytest.mark.parametrize("where", ["manifest", "config"])
def test_profile_local_from_the_repository_opens_no_loopback(
        livestack: Any, tmp_path: Path, sink: ScriptedServer, where: str) -> None:
    config = _loopback_config(sink)
    extra = {"profile": "local"} if where == "manifest" else {}
    manifest = _manifest(livestack, _hostile_url(livestack, config),
                         _hostile_url(livestack, config, ""), **extra)
    completed, requests = _run(livestack, tmp_path, "verify", manifest, "--probe-registration",
                               config="profile: local\n" if where == "config" else None)
    assert sink.connections == 0, requests
    assert _refused(requests, config["hint"]) and _refused(requests, config["token_endpoint"])
    assert json.loads(completed.stdout)["findings"] is not None


def test_profile_local_on_the_command_line_opens_loopback_only(
        livestack: Any, tmp_path: Path, sink: ScriptedServer) -> None:
    config = {**_loopback_config(sink), "authorization_servers": ["https://169.254.169.254"]}
    _, requests = _run(livestack, tmp_path, "probe", _hostile_url(livestack, config),
                       "--profile", "local", "--probe-registration")
    assert sink.connections >= 1  # the operator opened loopback
    assert _refused(requests, "https://169.254.169.254"), requests


def test_live_nameservers_in_a_config_is_an_error_naming_the_flag(tmp_path: Path) -> None:
    (tmp_path / ".mcplint.yaml").write_text("live:\n  nameservers: ['10.0.0.53']\n")
    (tmp_path / "mcp-connector.yaml").write_text(
        "version: 1\nserver:\n  url: https://mcp.acme.com/mcp\nauth:\n  type: none\n")
    completed = run_mcplint("check", cwd=tmp_path)
    assert completed.returncode == 2
    (line,) = completed.stderr.strip().splitlines()
    assert ".mcplint.yaml:2" in line and "live.nameservers" in line and "--nameserver" in line


# -- secrets -------------------------------------------------------------------------------
SECRETS = {name: f"s3cr3t-{name.lower()}-value" for name in (
    "API_KEY", "PRIVATE_TOKEN", "PLAIN", "CLIENT_SECRET", "REGISTRATION_TOKEN", "ACCESS",
    "REFRESH", "ID_TOKEN", "SESSION", "ECHO")}


def test_record_holds_no_secret(livestack: Any, tmp_path: Path) -> None:
    """--record of a run with --send-credentials --credential-env and --probe-registration,
    against servers that answer with credentials in JSON members and headers, and one that
    echoes what it was sent: no secret value is in the file, nor in any report."""
    registration = {"client_secret": SECRETS["CLIENT_SECRET"],
                    "registration_access_token": SECRETS["REGISTRATION_TOKEN"]}
    token = {"access_token": SECRETS["ACCESS"], "refresh_token": SECRETS["REFRESH"],
             "id_token": SECRETS["ID_TOKEN"], "token_type": "Bearer"}
    config = {"registration": registration, "token": token,
              "header": f"X-Session-Token: {SECRETS['SESSION']}"}
    oauth = _manifest(livestack, _hostile_url(livestack, config),
                      _hostile_url(livestack, config, ""))
    echo = {"header": f"X-Echo: you sent {SECRETS['PLAIN']} as X-Tenant"}
    static = {"version": 1, "name": "static", "server": {"url": _hostile_url(livestack, echo)},
              "auth": {"type": "static-headers", "headers": {
                  "X-Api-Key": "${API_KEY}", "Private-Token": "${PRIVATE_TOKEN}",
                  "X-Tenant": "${PLAIN}"}}}
    for name, manifest in (("oauth", oauth), ("static", static)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mcp-connector.yaml").write_text(yaml.safe_dump(manifest))
    record = tmp_path / "record.json"
    variables = [a for n in ("API_KEY", "PRIVATE_TOKEN", "PLAIN") for a in ("--credential-env", n)]
    outputs = []
    for format_name in ("json", "text", "markdown", "sarif", "junit", "github"):
        outputs += ["--format", format_name, "--output", str(tmp_path / f"report.{format_name}")]
    completed = run_mcplint(
        "verify", str(tmp_path / "oauth"), str(tmp_path / "static"), "--timeout", "4",
        "--deadline", "30", "--record", str(record), "--send-credentials", *variables,
        "--probe-registration", "-v", *outputs,
        *livestack.cli_args(None, hosts=[livestack.host("hostile-ssrf")]),
        env={n: v for n, v in SECRETS.items() if n in ("API_KEY", "PRIVATE_TOKEN", "PLAIN")})
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    text = record.read_text()
    steps = [r["step"] for v in json.loads(text)["verifications"] for r in v["requests"]]
    assert "registration" in steps and "token-refresh" in steps and "mcp-post" in steps
    files = [record, *tmp_path.glob("report.*")]
    for path in files:
        content = path.read_text()
        leaked = [name for name, value in SECRETS.items() if value in content]
        assert not leaked, (path.name, leaked)
    assert "<redacted>" in text


def test_a_manifest_naming_a_variable_the_operator_did_not_is_a_usage_error(
        tmp_path: Path) -> None:
    (tmp_path / "mcp-connector.yaml").write_text(yaml.safe_dump({
        "version": 1, "server": {"url": "https://[64:ff9b::7f00:1]/mcp"},
        "auth": {"type": "static-headers", "headers": {"X-Key": "${HOME}"}}}))
    completed = run_mcplint("verify", "mcp-connector.yaml", "--send-credentials",
                            "--credential-env", "API_KEY", "--system-resolver", "none",
                            cwd=tmp_path, env={"API_KEY": "x"})
    assert completed.returncode == 2, completed.stdout + completed.stderr
    (line,) = completed.stderr.strip().splitlines()
    assert "${HOME}" in line and "--credential-env HOME" in line


@pytest.mark.parametrize(("name", "secret"), [
    ("Authorization", True), ("Cookie", True), ("Set-Cookie", True), ("X-Api-Key", True),
    ("Private-Token", True), ("X-Auth-Token", True), ("Mcp-Session-Id", True),
    ("X-Hub-Signature", True), ("DPoP", True), ("Proxy-Authorization", True),
    ("WWW-Authenticate", False), ("Content-Type", False), ("Location", False),
    ("Server", False), ("Keep-Alive", False),
])
def test_credential_like_headers(name: str, secret: bool) -> None:
    from mcplint.facts.secrets import secret_header

    assert secret_header(name) is secret


@pytest.mark.parametrize(("name", "secret"), [
    ("client_secret", True), ("registration_access_token", True), ("access_token", True),
    ("refresh_token", True), ("id_token", True), ("password", True), ("code", True),
    ("code_verifier", True), ("client_assertion", True), ("api_key", True),
    ("device_code", True), ("session_state", True),
    ("token_endpoint", False), ("token_type", False), ("authorization_servers", False),
    ("token_endpoint_auth_methods_supported", False), ("client_id", False),
    ("code_challenge_methods_supported", False), ("expires_in", False), ("error", False),
])
def test_credential_like_members(name: str, secret: bool) -> None:
    from mcplint.facts.secrets import secret_member

    assert secret_member(name) is secret


def test_redaction_of_bodies_and_urls() -> None:
    from mcplint.facts.secrets import redact_json, redact_text, redact_url

    assert redact_json({"a": [{"client_secret": "x", "client_id": "c"}]}) == {
        "a": [{"client_secret": "<redacted>", "client_id": "c"}]}
    assert "abc" not in redact_text('{"access_token": "abc", "x": [')
    assert redact_url("https://app/cb?code=abc&state=1") == "https://app/cb?code=<redacted>&state=1"
    assert "abc" not in redact_text("location: https://app/cb?code=abc")


# -- output that cannot be steered ---------------------------------------------------------
FORMATS = ("text", "github", "markdown", "junit", "json", "sarif")
HOSTILE_TEXT = ("\x1b]8;;https://evil\x07click\x1b]8;;\x07\x1b[2J\r\n::error::forged\x85\u202e"
                " [x](https://evil.example) ![i](https://evil.example/i.png) @admin <b>b</b>"
                " | `tick` ``two``;#35;%%")
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _reports(folder: Path, command: str, *args: str) -> dict[str, str]:
    """Every format's output of one run (files written with --output)."""
    outputs = []
    for name in FORMATS:
        outputs += ["--format", name, "--output", str(folder / f"report.{name}")]
    completed = run_mcplint(command, *args, *outputs, env={"GITHUB_ACTIONS": "true"})
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    assert not RAW_CONTROL.search(completed.stdout + completed.stderr)
    return {name: (folder / f"report.{name}").read_text(encoding="utf-8", errors="strict")
            for name in FORMATS}


def _outside_code(markdown: str) -> str:
    """The Markdown with code spans and the Mermaid block taken out."""
    markdown = re.sub(r"```mermaid\n.*?\n```", "", markdown, flags=re.S)
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", markdown)


def _assert_unsteerable(reports: dict[str, str], findings: int) -> None:
    for name, text in reports.items():
        assert not RAW_CONTROL.search(text), (name, RAW_CONTROL.search(text))
        text.encode("utf-8")  # no lone surrogate (write would have failed, or here)
    commands = [line for line in reports["github"].splitlines() if line.lstrip().startswith("::")]
    assert len(commands) == findings, commands  # one per finding: none forged
    assert not any(line.lstrip().startswith(("::", "##["))
                   for line in reports["text"].splitlines())
    ET.fromstring(reports["junit"])
    for name in ("json", "sarif"):
        json.loads(reports[name])
    prose = _outside_code(reports["markdown"])
    for markup in ("](https://evil", "<b>", "@admin", "\\x1b"):
        assert markup not in prose, markup
    assert "\\x1b" in reports["markdown"] and "\\x1b" in reports["text"]  # shown, escaped


def test_hostile_manifest_strings_cannot_steer_any_format(tmp_path: Path) -> None:
    folder = tmp_path / "::warning::x\x1b[31m\n::error::folder"
    folder.mkdir()
    url = "http://mcp.acme.com/" + HOSTILE_TEXT
    (folder / "mcp-connector.yaml").write_text(
        'version: 1\nserver:\n  url: "' + url.encode("unicode_escape").decode().replace(
            '"', '\\"') + '"\nauth:\n  type: none\n', encoding="utf-8")
    reports = _reports(tmp_path, "check", str(folder / "mcp-connector.yaml"))
    findings = len(json.loads(reports["json"])["findings"])
    assert findings >= 1
    assert "MCP101" in reports["json"]
    _assert_unsteerable(reports, findings)


def test_hostile_server_strings_cannot_steer_any_format(livestack: Any, tmp_path: Path) -> None:
    config = {"token": {"error": HOSTILE_TEXT + "\ud800"},
              "registration_endpoint": "PLACEHOLDER"}
    own = _hostile_url(livestack, config, "")
    config["registration_endpoint"] = own + "/register/" + HOSTILE_TEXT
    manifest = _manifest(livestack, _hostile_url(livestack, config),
                         _hostile_url(livestack, config, ""))
    path = tmp_path / "mcp-connector.yaml"
    path.write_text(yaml.safe_dump(manifest))
    reports = _reports(tmp_path, "verify", str(path), "--timeout", "4", "--deadline", "30",
                       "--probe-registration",
                       *livestack.cli_args(None, hosts=[livestack.host("hostile-ssrf")]))
    findings = json.loads(reports["json"])["findings"]
    assert any("forged" in json.dumps(f["evidence"]) for f in findings), findings
    assert "```mermaid" in reports["markdown"]
    _assert_unsteerable(reports, len(findings))
