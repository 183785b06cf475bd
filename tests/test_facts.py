"""Unit tests of the pure fact functions."""

from __future__ import annotations

import ipaddress

import pytest

from mcplint.facts.addresses import (
    classify_address,
    classify_network,
    covers,
    is_loopback_host,
)
from mcplint.facts.urls import (
    as_metadata_urls,
    canonical,
    credential_params,
    glob_regex,
    host_kind,
    noncanonical_reasons,
    path_exempt,
    prm_urls,
)


@pytest.mark.parametrize(("url", "expected"), [
    ("https://mcp.acme.com/mcp", "https://mcp.acme.com/mcp"),
    ("HTTPS://MCP.Acme.COM/MCP", "https://mcp.acme.com/MCP"),
    ("https://mcp.acme.com:443/mcp/", "https://mcp.acme.com/mcp"),
    ("https://mcp.acme.com:8443/mcp", "https://mcp.acme.com:8443/mcp"),
    ("https://mcp.acme.com/", "https://mcp.acme.com"),
    ("https://mcp.acme.com/mcp?", "https://mcp.acme.com/mcp"),
    ("https://mcp.acme.com/mcp#frag", "https://mcp.acme.com/mcp"),
    ("https://mcp.acme.com/mcp?tenant=a", "https://mcp.acme.com/mcp?tenant=a"),
    ("http://localhost:80/mcp", "http://localhost/mcp"),
    ("https://[::1]:8443/mcp", "https://[::1]:8443/mcp"),
    ("not a url", None),
])
def test_canonical(url: str, expected: str | None) -> None:
    assert canonical(url) == expected


def test_noncanonical_reasons() -> None:
    assert noncanonical_reasons("HTTPS://MCP.acme.com:443/mcp/#x") == [
        "uppercase scheme", "uppercase host", "explicit default port :443", "trailing slash",
        "fragment"]
    assert noncanonical_reasons("https://mcp.acme.com/MCP") == []


@pytest.mark.parametrize(("address", "kind"), [
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("100.64.1.2", "cgnat"), ("127.0.0.1", "loopback"), ("169.254.169.254", "link-local"),
    ("192.0.2.5", "reserved"), ("198.18.0.1", "reserved"), ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"), ("104.18.1.1", "global"), ("160.79.104.10", "global"),
    ("::1", "loopback"), ("fe80::1", "link-local"), ("fd00::1", "private"),
    ("2001:db8::1", "reserved"), ("2606:4700::1", "global"), ("::ffff:10.0.0.1", "private"),
])
def test_classify_address(address: str, kind: str) -> None:
    assert classify_address(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(("network", "kind"), [
    ("104.18.0.0/16", "global"), ("10.0.0.0/16", "private"), ("100.0.0.0/8", "partly-non-global"),
    ("0.0.0.0/0", "partly-non-global"), ("192.0.2.0/24", "reserved"), ("2606:4700::/32", "global"),
])
def test_classify_network(network: str, kind: str) -> None:
    assert classify_network(ipaddress.ip_network(network)) == kind


@pytest.mark.parametrize(("allowlist", "result"), [
    (["160.79.104.0/21"], True),
    (["160.79.104.0/22"], False),
    (["160.79.104.0/22", "160.79.108.0/22"], True),
    (["160.0.0.0/8"], True),
    (["160.79.104.0/21", "2600::/16"], True),
    ([], False),
])
def test_covers(allowlist: list[str], result: bool) -> None:
    networks = [ipaddress.ip_network(n) for n in allowlist]
    assert covers(networks, ipaddress.ip_network("160.79.104.0/21")) is result


def test_loopback_hosts() -> None:
    assert is_loopback_host("localhost") and is_loopback_host("127.0.0.5")
    assert is_loopback_host("::1") and not is_loopback_host("10.0.0.1")


@pytest.mark.parametrize(("host", "public"), [
    ("mcp.acme.com", True), ("mcp.acme.internal", False), ("mcp.local", False),
    ("intranet", False), ("x.home.arpa", False), ("mcp.test", False), ("10.0.0.1", False),
    ("104.18.1.1", True), ("example.com", True), ("mcp.example", False),
])
def test_host_kind(host: str, public: bool) -> None:
    suffixes = ["localhost", "local", "internal", "home.arpa", "test", "example"]
    assert (host_kind(host, suffixes)[1] is None) is public


def test_credential_params() -> None:
    names = ["api_key", "token", "sig"]
    assert credential_params("a=1&API-KEY=2&Token=3&sig=", names) == ["API-KEY", "Token", "sig"]


def test_prm_discovery_order() -> None:
    assert prm_urls("https://mcp.acme.com/mcp") == [
        "https://mcp.acme.com/.well-known/oauth-protected-resource/mcp",
        "https://mcp.acme.com/.well-known/oauth-protected-resource"]
    assert prm_urls("https://mcp.acme.com/") == [
        "https://mcp.acme.com/.well-known/oauth-protected-resource"]


def test_as_metadata_discovery_order() -> None:
    assert as_metadata_urls("https://auth.example.com/tenant1/") == [
        "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
        "https://auth.example.com/.well-known/openid-configuration/tenant1",
        "https://auth.example.com/tenant1/.well-known/openid-configuration"]
    assert as_metadata_urls("https://auth.example.com") == [
        "https://auth.example.com/.well-known/oauth-authorization-server",
        "https://auth.example.com/.well-known/openid-configuration"]


@pytest.mark.parametrize(("path", "globs", "exempt"), [
    ("/mcp", ["/mcp"], True), ("/mcp/", ["/mcp"], False),
    ("/.well-known/oauth-protected-resource/mcp", ["/.well-known/*"], True),
    ("/.well-known/", ["/.well-known/*"], False),
    ("/a/b/c", ["/a/*"], True), ("/token", ["/.well-known/*", "/token"], True),
])
def test_exempt_paths(path: str, globs: list[str], exempt: bool) -> None:
    assert path_exempt(path, globs) is exempt


def test_glob_escapes_regex_characters() -> None:
    assert glob_regex("/a.b").match("/a.b") and not glob_regex("/a.b").match("/axb")
