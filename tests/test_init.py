"""`mcplint init`: a commented starter manifest that passes `mcplint check` as written, and
the renderer `init --from` fills with discovered values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import run_json, run_mcplint, write_files

from mcplint.commands.init import render
from mcplint.load.yamlsource import parse


def fill_in(text: str) -> str:
    """The starter with its placeholder hosts replaced, as a user fills it in."""
    return text.replace("example.com", "acme.com")


def test_init_writes_a_starter_that_draws_mcp009_until_filled_in(tmp_path: Path) -> None:
    """Catalog 2: the unfilled starter fails check (MCP009 at each placeholder URL), so it
    cannot pass CI; filled in, it passes in every profile. (Catalog 1's starter passed as
    written.)"""
    completed = run_mcplint("init", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ""
    assert "wrote mcp-connector.yaml" in completed.stderr and "MCP009" in completed.stderr
    text = (tmp_path / "mcp-connector.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=https://")
    assert text.count("# TODO: ") == 5  # name, server.url, issuer, registration, scopes
    assert "(MCP009)" in text  # the starter says so
    lines = text.splitlines()
    placeholders = [n for n, line in enumerate(lines, start=1)
                    if re.match(r"\s+(url|issuer|audience): https://\S+example\.com", line)]
    assert len(placeholders) == 3
    for profile in ("claude-ai", "spec", "local"):
        code, report = run_json("check", "--profile", profile, cwd=tmp_path)
        assert code == 1, profile
        assert [(f["code"], f["line"]) for f in report["findings"]] == [
            ("MCP009", n) for n in placeholders], (profile, report["findings"])
    write_files(tmp_path, {"mcp-connector.yaml": fill_in(text)})
    for profile in ("claude-ai", "spec", "local"):
        code, report = run_json("check", "--profile", profile, cwd=tmp_path)
        assert code == 0 and report["findings"] == [], (profile, report["findings"])


def test_every_field_is_commented(tmp_path: Path) -> None:
    text = render()
    for line in text.splitlines():
        if re.match(r"\s+[a-z_]+: \S", line) and not line.lstrip().startswith("#"):
            assert " # " in line, line


def test_init_never_overwrites(tmp_path: Path) -> None:
    write_files(tmp_path, {"mcp-connector.yaml": "mine\n"})
    completed = run_mcplint("init", cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr == ("mcplint: error: mcp-connector.yaml already exists; choose "
                                "another file with -o, or remove it\n")
    assert (tmp_path / "mcp-connector.yaml").read_text() == "mine\n"


def test_output_file_and_stdout(tmp_path: Path) -> None:
    completed = run_mcplint("init", "-o", "deploy/docs.mcp-connector.yaml", cwd=tmp_path)
    assert completed.returncode == 0
    written = tmp_path / "deploy" / "docs.mcp-connector.yaml"
    written.write_text(fill_in(written.read_text()))
    assert run_mcplint("check", cwd=tmp_path).stdout == "No problems found in 1 manifest.\n"
    printed = run_mcplint("init", "-o", "-", cwd=tmp_path)
    assert printed.stdout == render() and printed.stderr == ""


def test_the_commented_client_block_is_valid_when_used(tmp_path: Path) -> None:
    """Uncommenting the pre-registered client (as a user would) gives a valid manifest."""
    text = render().replace("registration: [dcr]", "registration: [preregistered]")
    block = re.search(r"  # client:\n(?:  #   .*\n)+", text)
    assert block
    uncommented = re.sub(r"^  # ", "  ", block.group(), flags=re.M)
    uncommented = re.sub(r"\s+# an environment reference.*", "", uncommented)
    write_files(tmp_path, {"mcp-connector.yaml": fill_in(text.replace(block.group(), uncommented))})
    code, report = run_json("check", cwd=tmp_path)
    assert code == 0 and report["findings"] == [], report["findings"]


DISCOVERED = {
    "name": "acme-docs",
    "server_url": "https://mcp.acme.com/mcp",
    "issuer": "https://login.acme.com/realms/docs",
    "registration": ["dcr", "cimd"],
    "scopes": ["mcp:read", "files #1", "yes", "*all", "{x}"],
    "hosts": {"mcp.acme.com": {"dns": {"addresses": ["104.18.0.1"]}},
              "cdn.acme.com": {}},
    "notes": {"issuer": "from PRM authorization_servers[0]",
              "hosts.cdn.acme.com": "the token endpoint's host"},
}


def test_render_from_discovered_values() -> None:
    text = render(DISCOVERED)
    loaded = parse(text)
    assert not loaded.problems
    assert loaded.data == {
        "version": 1, "name": "acme-docs",
        "server": {"url": "https://mcp.acme.com/mcp", "transport": "streamable-http"},
        "auth": {"type": "oauth", "issuer": "https://login.acme.com/realms/docs",
                 "audience": "https://mcp.acme.com/mcp", "registration": ["dcr", "cimd"],
                 "scopes": ["mcp:read", "files #1", "yes", "*all", "{x}"]},
        "hosts": {"mcp.acme.com": {"dns": {"addresses": ["104.18.0.1"]}},
                  "cdn.acme.com": {}, "login.acme.com": {}},
    }
    assert "# from PRM authorization_servers[0]" in text
    assert "cdn.acme.com: {}" in text and "# the token endpoint's host" in text
    assert "TODO" not in text  # every placeholder was replaced by a discovered value


@pytest.mark.parametrize("url", ["https://MCP.Acme.com:443/mcp/", "https://mcp.acme.com/"])
def test_audience_is_the_canonical_server_url(url: str) -> None:
    data = parse(render({"server_url": url})).data
    assert data["auth"]["audience"] in ("https://mcp.acme.com/mcp", "https://mcp.acme.com")
    assert data["server"]["url"] == url


def test_without_oauth_there_is_no_auth_block() -> None:
    data = parse(render({"auth_type": "none", "server_url": "https://mcp.acme.com/mcp"})).data
    assert data["auth"] == {"type": "none"}
    assert data["hosts"] == {"mcp.acme.com": {}}
