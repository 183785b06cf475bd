"""Self-tests of the live stack: every scenario behaves as README.md says.

HTTP goes to nginx (or the hostile server) on 127.0.0.1 with SNI and Host set to the
scenario's name and the stack's CA trusted, as ``--connect-to`` does; redirects are
never followed. DNS questions go to the stack's dnsmasq instances only.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import dns.exception
import dns.resolver
import httpx
import pytest
import yaml

from livestack import (
    CLAUDE_CALLBACK,
    SCOPES,
    SLOW_SECONDS,
    Proxy,
    Stack,
    StackError,
    Static,
)
from livestack.catalog import DNS_ANSWERS, HOSTILE, PRM_PATH

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "selftest", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}
CHALLENGE_RE = re.compile(r'resource_metadata="([^"]+)"')


def host(stack: Stack, label: str) -> str:
    return stack.host(label)


def post_mcp(stack: Stack, label: str, **kwargs: Any) -> httpx.Response:
    headers = {**MCP_HEADERS, **kwargs.pop("headers", {})}
    return stack.request("POST", host(stack, label), "/mcp", json=INITIALIZE, headers=headers, **kwargs)


def get_json(stack: Stack, label: str, path: str) -> Any:
    response = stack.request("GET", host(stack, label), path)
    assert response.status_code == 200, (path, response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def register(stack: Stack, label: str = "auth", **metadata: Any) -> dict[str, Any]:
    """A DCR registration like Claude's (public client), or with the given metadata."""
    body = {
        "client_name": "Claude",
        "redirect_uris": [CLAUDE_CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    response = stack.request("POST", host(stack, label), "/reg", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def token_request(stack: Stack, data: dict[str, str], label: str = "auth") -> httpx.Response:
    return stack.request("POST", host(stack, label), "/token", data=data)


# -- DNS -----------------------------------------------------------------------------


def answers(stack: Stack, name: str, rdtype: str = "A", which: str = "public") -> list[str]:
    try:
        return sorted(str(record) for record in stack.resolver(which).resolve(name, rdtype))
    except dns.resolver.NoAnswer:
        return []


def test_every_scenario_host_resolves_to_a_global_address(livestack: Stack) -> None:
    for scenario in livestack.scenarios.values():
        label = scenario.mcp_host.removesuffix("." + livestack.zone)
        if label in DNS_ANSWERS:
            continue
        for name in scenario.hosts:
            for address in answers(livestack, name) + answers(livestack, name, which="system"):
                assert ipaddress.ip_address(address).is_global, (name, address)


@pytest.mark.parametrize(
    ("label", "rdtype", "public", "system"),
    [
        ("dns-private", "A", ["10.0.0.5"], ["10.0.0.5"]),
        ("dns-cgnat", "A", ["100.64.1.2"], ["100.64.1.2"]),
        ("dns-linklocal", "A", ["169.254.10.10"], ["169.254.10.10"]),
        ("dns-loopback", "A", ["127.0.0.1"], ["127.0.0.1"]),
        ("dns-v6only", "A", [], []),
        ("dns-v6only", "AAAA", ["2606:4700:10::6"], ["2606:4700:10::6"]),
        ("mcp", "AAAA", [], []),
    ],
)
def test_dns_answers(livestack: Stack, label: str, rdtype: str, public: list[str], system: list[str]) -> None:
    name = livestack.host(label)
    assert answers(livestack, name, rdtype) == public
    assert answers(livestack, name, rdtype, "system") == system


def test_dns_mixed_and_split_horizon(livestack: Stack) -> None:
    mixed = answers(livestack, livestack.host("dns-mixed"))
    assert "10.0.0.6" in mixed and len(mixed) == 2
    assert any(ipaddress.ip_address(a).is_global for a in mixed)
    split = livestack.host("dns-split")
    public, system = answers(livestack, split), answers(livestack, split, which="system")
    assert ipaddress.ip_address(public[0]).is_global and system == ["10.0.0.7"]
    assert ipaddress.ip_address("2606:4700:10::6").is_global


def test_dns_nxdomain_and_nothing_forwarded(livestack: Stack) -> None:
    for which in ("public", "system"):
        with pytest.raises(dns.resolver.NXDOMAIN):
            livestack.resolver(which).resolve(livestack.host("dns-nxdomain"), "A")
        with pytest.raises(dns.resolver.NXDOMAIN):
            livestack.resolver(which).resolve(livestack.host("no-such-name"), "A")
        # Outside the zone: refused, never asked upstream.
        with pytest.raises(dns.resolver.NoNameservers):
            livestack.resolver(which).resolve("example.com", "A")


def test_dns_over_tcp(livestack: Stack) -> None:
    answer = livestack.resolver().resolve(livestack.host("mcp"), "A", tcp=True)
    assert [str(r) for r in answer] == answers(livestack, livestack.host("mcp"))


def test_dead_resolver_never_answers(livestack: Stack) -> None:
    resolver = livestack.resolver("dead", lifetime=0.3)
    for tcp in (False, True):
        started = time.monotonic()
        with pytest.raises(dns.exception.Timeout):
            resolver.resolve(livestack.host("mcp"), "A", tcp=tcp)
        assert time.monotonic() - started >= 0.25


# -- the healthy deployment ------------------------------------------------------------


def test_healthy_mcp_answers_401_with_resource_metadata(livestack: Stack) -> None:
    scenario = livestack.scenario("healthy")
    response = post_mcp(livestack, "mcp")
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert CHALLENGE_RE.search(challenge).group(1) == f"https://{scenario.mcp_host}{PRM_PATH}/mcp"


def test_healthy_prm(livestack: Stack) -> None:
    scenario = livestack.scenario("healthy")
    document = get_json(livestack, "mcp", PRM_PATH + "/mcp")
    assert document["resource"] == scenario.server_url == f"https://{scenario.mcp_host}/mcp"
    assert document["authorization_servers"] == [scenario.issuer]
    assert document["scopes_supported"] == list(SCOPES)
    assert "offline_access" not in document["scopes_supported"]
    # Only the path-inserted URL: the root one is not served for this resource.
    assert livestack.request("GET", scenario.mcp_host, PRM_PATH).status_code == 404


def test_healthy_as_metadata_at_both_urls(livestack: Stack) -> None:
    scenario = livestack.scenario("healthy")
    rfc8414 = get_json(livestack, "auth", "/.well-known/oauth-authorization-server")
    oidc = get_json(livestack, "auth", "/.well-known/openid-configuration")
    assert rfc8414 == oidc == livestack.healthy_as_metadata
    assert rfc8414["issuer"] == scenario.issuer
    assert "S256" in rfc8414["code_challenge_methods_supported"]
    assert rfc8414["registration_endpoint"] == f"{scenario.issuer}/reg"
    assert rfc8414["token_endpoint"] == f"{scenario.issuer}/token"
    assert "code" in rfc8414["response_types_supported"]
    assert {"authorization_code", "refresh_token"} <= set(rfc8414["grant_types_supported"])
    assert "none" in rfc8414["token_endpoint_auth_methods_supported"]
    assert "client_id_metadata_document_supported" not in rfc8414


def test_healthy_dcr_and_refresh_errors(livestack: Stack) -> None:
    client = register(livestack)
    assert client["client_id"] and client["redirect_uris"] == [CLAUDE_CALLBACK]
    resource = livestack.scenario("healthy").server_url
    unknown = token_request(
        livestack,
        {"grant_type": "refresh_token", "refresh_token": "bogus", "client_id": "mcplint-probe", "resource": resource},
    )
    assert unknown.status_code in (400, 401) and unknown.json()["error"] == "invalid_client"
    known = token_request(
        livestack,
        {
            "grant_type": "refresh_token",
            "refresh_token": "bogus",
            "client_id": client["client_id"],
            "resource": resource,
        },
    )
    assert known.status_code == 400 and known.json()["error"] == "invalid_grant"


def test_healthy_resource_indicators(livestack: Stack) -> None:
    client = register(
        livestack,
        grant_types=["client_credentials"],
        response_types=[],
        redirect_uris=[],
        token_endpoint_auth_method="client_secret_post",
    )
    credentials = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "scope": " ".join(SCOPES),
    }
    canonical = livestack.scenario("healthy").server_url
    accepted = token_request(livestack, {**credentials, "resource": canonical})
    assert accepted.status_code == 200, accepted.text
    rejected = token_request(livestack, {**credentials, "resource": "https://elsewhere.example.org/mcp"})
    assert rejected.status_code == 400 and rejected.json()["error"] == "invalid_target"
    slash = token_request(livestack, {**credentials, "resource": canonical + "/"})
    assert slash.json()["error"] == "invalid_target"


def client_credentials_token(stack: Stack, resource: str) -> str:
    client = register(
        stack,
        grant_types=["client_credentials"],
        response_types=[],
        redirect_uris=[],
        token_endpoint_auth_method="client_secret_post",
    )
    response = token_request(
        stack,
        {
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "scope": " ".join(SCOPES),
            "resource": resource,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_healthy_token_reaches_the_mcp_server(livestack: Stack) -> None:
    """A JWT from oidc-provider is accepted by the SDK server behind nginx (no 421)."""
    token = client_credentials_token(livestack, livestack.scenario("healthy").server_url)
    response = post_mcp(livestack, "mcp", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert "serverInfo" in response.text
    # The same token for another resource is refused.
    other = post_mcp(livestack, "dns-private", headers={"Authorization": f"Bearer {token}"})
    assert other.status_code == 401


def test_healthy_malformed_token_gets_401_bearer(livestack: Stack) -> None:
    response = post_mcp(livestack, "mcp", headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")


# -- DNS scenarios are served healthy over HTTP -------------------------------------------


@pytest.mark.parametrize("label", list(DNS_ANSWERS))
def test_dns_scenarios_are_healthy_over_http(livestack: Stack, label: str) -> None:
    response = post_mcp(livestack, label)
    assert response.status_code == 401
    assert get_json(livestack, label, PRM_PATH + "/mcp")["resource"] == livestack.scenario(label).server_url


# -- edge ----------------------------------------------------------------------------------


def test_redirects(livestack: Stack) -> None:
    cross = post_mcp(livestack, "redirect-cross-host")
    assert cross.status_code == 307 and cross.headers["location"] == f"https://{livestack.host('mcp')}/mcp"
    same_host = livestack.host("redirect-same-host")
    same = post_mcp(livestack, "redirect-same-host")
    assert same.status_code == 308 and same.headers["location"] == f"https://{same_host}/mcp/"
    followed = livestack.request("POST", same_host, "/mcp/", json=INITIALIZE, headers=MCP_HEADERS)
    assert followed.status_code == 401
    loop_host = livestack.host("redirect-loop")
    first = post_mcp(livestack, "redirect-loop")
    second = livestack.request("POST", loop_host, "/mcp/", json=INITIALIZE)
    assert first.headers["location"] == f"https://{loop_host}/mcp/"
    assert second.headers["location"] == f"https://{loop_host}/mcp"


def test_edge_blocks(livestack: Stack) -> None:
    cloudflare = post_mcp(livestack, "edge-cloudflare-block")
    assert cloudflare.status_code == 403
    assert cloudflare.headers["cf-mitigated"] == "challenge" and "cf-ray" in cloudflare.headers
    assert cloudflare.headers["content-type"].startswith("text/html") and "Just a moment" in cloudflare.text
    limited = livestack.request("GET", livestack.host("edge-rate-limit"), PRM_PATH + "/mcp")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60" and "1015" in limited.text
    aws = post_mcp(livestack, "edge-aws-waf-block")
    assert aws.status_code == 403 and aws.headers["x-amzn-waf-action"] == "block"
    assert "x-amzn-requestid" in aws.headers and "cloudfront" in aws.text


def test_wrong_certificate(livestack: Stack) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED|match"):
        post_mcp(livestack, "tls-wrong-cert")


def test_unreachable(livestack: Stack) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", livestack.connect_port(livestack.host("unreachable-refused"))), 2)
    port = livestack.connect_port(livestack.host("unreachable-timeout"))
    started = time.monotonic()
    with pytest.raises(httpx.ConnectTimeout):
        post_mcp(livestack, "unreachable-timeout", timeout=httpx.Timeout(1.0))
    assert time.monotonic() - started >= 0.9
    assert port == livestack.ports["blackhole"]


# -- protected resource discovery -------------------------------------------------------------


def test_challenge_without_resource_metadata(livestack: Stack) -> None:
    for label in ("challenge-root-prm", "challenge-path-prm"):
        response = post_mcp(livestack, label)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer ")
        assert "resource_metadata" not in response.headers["www-authenticate"]
    root = livestack.host("challenge-root-prm")
    assert get_json(livestack, "challenge-root-prm", PRM_PATH)["resource"] == f"https://{root}/mcp"
    assert livestack.request("GET", root, PRM_PATH + "/mcp").status_code == 404
    path = livestack.host("challenge-path-prm")
    assert get_json(livestack, "challenge-path-prm", PRM_PATH + "/mcp")["resource"] == f"https://{path}/mcp"
    assert livestack.request("GET", path, PRM_PATH).status_code == 404


def test_prm_missing(livestack: Stack) -> None:
    challenge = post_mcp(livestack, "prm-missing").headers["www-authenticate"]
    url = CHALLENGE_RE.search(challenge).group(1)
    assert livestack.request("GET", livestack.host("prm-missing"), httpx.URL(url).path).status_code == 404
    assert livestack.request("GET", livestack.host("prm-missing"), PRM_PATH).status_code == 404


def test_prm_variants(livestack: Stack) -> None:
    slash = get_json(livestack, "prm-resource-slash", PRM_PATH + "/mcp")
    assert slash["resource"] == livestack.scenario("prm-resource-slash").server_url + "/"
    issuer = get_json(livestack, "prm-issuer-slash", PRM_PATH + "/mcp")
    assert issuer["authorization_servers"] == [livestack.scenario("prm-issuer-slash").issuer + "/"]
    offline = get_json(livestack, "prm-offline-access", PRM_PATH + "/mcp")
    assert "offline_access" in offline["scopes_supported"]
    empty = get_json(livestack, "prm-no-authorization-servers", PRM_PATH + "/mcp")
    assert empty["authorization_servers"] == []
    html = livestack.request("GET", livestack.host("prm-html"), PRM_PATH + "/mcp")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    invalid = livestack.request("GET", livestack.host("prm-invalid-json"), PRM_PATH + "/mcp")
    assert invalid.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(invalid.text)


def test_mcp_endpoint_variants(livestack: Stack) -> None:
    none = post_mcp(livestack, "challenge-none")
    assert none.status_code == 200 and none.json()["result"]["isError"] is True
    assert "www-authenticate" not in none.headers
    no_header = post_mcp(livestack, "challenge-no-header")
    assert no_header.status_code == 401 and "www-authenticate" not in no_header.headers
    not_bearer = post_mcp(livestack, "challenge-not-bearer")
    fields = not_bearer.headers.get_list("www-authenticate")
    assert not_bearer.status_code == 401 and fields[0].startswith("Basic ") and fields[1].startswith("Bearer ")
    assert post_mcp(livestack, "endpoint-404").status_code == 404
    not_allowed = post_mcp(livestack, "endpoint-405")
    assert not_allowed.status_code == 405 and not_allowed.headers["allow"] == "GET, HEAD"
    page = post_mcp(livestack, "endpoint-html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    lenient = livestack.host("token-accepts-malformed")
    assert post_mcp(livestack, "token-accepts-malformed").status_code == 401
    accepted = post_mcp(livestack, "token-accepts-malformed", headers={"Authorization": "Bearer not.a.jwt"})
    assert accepted.status_code == 200 and accepted.json()["result"]["serverInfo"]["name"] == "lenient"
    assert get_json(livestack, "token-accepts-malformed", PRM_PATH + "/mcp")["resource"] == f"https://{lenient}/mcp"


def test_ssrf_challenges(livestack: Stack) -> None:
    metadata = CHALLENGE_RE.search(post_mcp(livestack, "ssrf-metadata").headers["www-authenticate"]).group(1)
    assert metadata == "https://169.254.169.254/latest/meta-data/"
    loopback = CHALLENGE_RE.search(post_mcp(livestack, "ssrf-loopback").headers["www-authenticate"]).group(1)
    assert loopback == "https://127.0.0.1/.well-known/oauth-protected-resource/mcp"


# -- authorization servers ------------------------------------------------------------------


def as_metadata(stack: Stack, label: str, path: str = "/.well-known/oauth-authorization-server") -> dict[str, Any]:
    return get_json(stack, label, path)


def test_as_variants_share_the_mcp_host(livestack: Stack) -> None:
    """MCP and AS on one host: PRM names https://<host> and the metadata agrees."""
    for label in ("as-no-s256", "as-no-registration", "as-cimd-no-none", "token-415", "registration-400"):
        issuer = f"https://{livestack.host(label)}"
        assert livestack.scenario(label).issuer == issuer
        assert get_json(livestack, label, PRM_PATH + "/mcp")["authorization_servers"] == [issuer]
        document = as_metadata(livestack, label)
        assert document == as_metadata(livestack, label, "/.well-known/openid-configuration")
        assert document["issuer"] == issuer and document["token_endpoint"] == issuer + "/token"


def test_as_metadata_variants(livestack: Stack) -> None:
    slash = as_metadata(livestack, "as-issuer-slash")
    assert slash["issuer"] == f"https://{livestack.host('as-issuer-slash')}/"
    assert as_metadata(livestack, "as-no-s256")["code_challenge_methods_supported"] == ["plain"]
    no_registration = as_metadata(livestack, "as-no-registration")
    assert "registration_endpoint" not in no_registration
    assert "client_id_metadata_document_supported" not in no_registration
    cimd = as_metadata(livestack, "as-cimd-no-none")
    assert cimd["client_id_metadata_document_supported"] is True
    assert "none" not in cimd["token_endpoint_auth_methods_supported"]
    oidc_only = livestack.host("as-oidc-only")
    assert livestack.request("GET", oidc_only, "/.well-known/oauth-authorization-server").status_code == 404
    assert (
        as_metadata(livestack, "as-oidc-only", "/.well-known/openid-configuration")["issuer"] == f"https://{oidc_only}"
    )
    missing = livestack.host("as-missing")
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        assert livestack.request("GET", missing, path).status_code == 404


def test_as_tenant_path(livestack: Stack) -> None:
    scenario = livestack.scenario("as-tenant-path")
    tenant = scenario.mcp_host
    assert scenario.issuer == f"https://{tenant}/tenant1"
    assert get_json(livestack, "as-tenant-path", PRM_PATH + "/mcp")["authorization_servers"] == [scenario.issuer]
    # The discovery order for an issuer with a path: only the third URL answers.
    assert livestack.request("GET", tenant, "/.well-known/oauth-authorization-server/tenant1").status_code == 404
    assert livestack.request("GET", tenant, "/.well-known/openid-configuration/tenant1").status_code == 404
    document = get_json(livestack, "as-tenant-path", "/tenant1/.well-known/openid-configuration")
    assert document["issuer"] == scenario.issuer
    assert document["registration_endpoint"] == f"{scenario.issuer}/reg"
    assert livestack.request("GET", tenant, "/tenant1/.well-known/oauth-authorization-server").status_code == 404
    response = livestack.request(
        "POST", tenant, "/tenant1/reg", json={"redirect_uris": [CLAUDE_CALLBACK], "token_endpoint_auth_method": "none"}
    )
    assert response.status_code == 201 and response.json()["client_id"]


def test_token_endpoint_variants(livestack: Stack) -> None:
    refresh = {"grant_type": "refresh_token", "refresh_token": "bogus", "client_id": "mcplint-probe"}
    invalid_request = token_request(livestack, refresh, "token-invalid-request")
    assert invalid_request.status_code == 400 and invalid_request.json()["error"] == "invalid_request"
    unsupported = token_request(livestack, refresh, "token-415")
    assert unsupported.status_code == 415
    as_json = livestack.request("POST", livestack.host("token-415"), "/token", json=refresh)
    assert as_json.status_code == 400  # not form-encoded: oidc-provider itself refuses it
    server_error = token_request(livestack, refresh, "token-500")
    assert server_error.status_code == 500 and server_error.headers["content-type"].startswith("text/html")
    # A variant host's other endpoints are oidc-provider's: RFC 6749 errors.
    healthy_path = token_request(livestack, refresh, "as-no-s256")
    assert healthy_path.status_code == 401 and healthy_path.json()["error"] == "invalid_client"


def test_registration_variants(livestack: Stack) -> None:
    body = {"redirect_uris": [CLAUDE_CALLBACK], "token_endpoint_auth_method": "none"}
    refused = livestack.request("POST", livestack.host("registration-400"), "/reg", json=body)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client_metadata"
    redirected = livestack.request("POST", livestack.host("registration-redirect"), "/reg", json=body)
    assert redirected.status_code == 302 and redirected.headers["location"].endswith("/login")
    # The healthy registration endpoint is reachable through a variant host too.
    assert register(livestack, "as-no-s256")["client_id"]


def test_resource_rejected(livestack: Stack) -> None:
    rejected = livestack.scenario("resource-rejected").server_url
    client = register(livestack)
    response = token_request(
        livestack,
        {
            "grant_type": "refresh_token",
            "refresh_token": "bogus",
            "client_id": client["client_id"],
            "resource": rejected,
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_target"
    unknown_client = token_request(
        livestack,
        {"grant_type": "refresh_token", "refresh_token": "bogus", "client_id": "mcplint-probe", "resource": rejected},
    )
    assert unknown_client.json()["error"] == "invalid_client"
    assert post_mcp(livestack, "resource-rejected").status_code == 401


# -- hostile servers ---------------------------------------------------------------------------


@pytest.fixture
def tls_to(livestack: Stack) -> Iterator[Any]:
    """Open a TLS connection to a scenario host through loopback; closed after the test."""
    opened: list[ssl.SSLSocket] = []

    def connect(label: str, request: bytes | None = None, timeout: float = 3.0) -> ssl.SSLSocket:
        name = livestack.host(label)
        raw = socket.create_connection(("127.0.0.1", livestack.connect_port(name)), timeout=timeout)
        tls = livestack.ssl_context().wrap_socket(raw, server_hostname=name)
        opened.append(tls)
        if request is not None:
            tls.sendall(request.replace(b"HOST", name.encode()))
        return tls

    yield connect
    for sock in opened:
        sock.close()


GET_PRM = b"GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nHost: HOST\r\n\r\n"


def read_for(sock: ssl.SSLSocket, seconds: float, limit: int = 1 << 30) -> bytes:
    data = b""
    deadline = time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < deadline and len(data) < limit:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            break
        data += chunk
    return data


def test_hostile_drip(tls_to: Any) -> None:
    drip, drip_body = tls_to("hostile-drip", GET_PRM), tls_to("hostile-drip-body", GET_PRM)
    data = read_for(drip, 2.5)
    assert 2 <= len(data) <= 4 and b"HTTP/1.1 200 OK".startswith(data)
    # Meanwhile the other one dripped into its socket buffer.
    head, _, rest = read_for(drip_body, 0.3).partition(b"\r\n\r\n")
    assert b"Content-Length: 100000000" in head and 2 <= len(rest) <= 4


def test_hostile_endless(tls_to: Any) -> None:
    data = read_for(tls_to("hostile-endless", GET_PRM), 10, limit=4 << 20)
    assert b"Transfer-Encoding: chunked" in data and len(data) >= 4 << 20


def test_hostile_documents(livestack: Stack) -> None:
    for label in ("hostile-invalid-json", "hostile-deep-json"):
        challenge = post_mcp(livestack, label)
        assert challenge.status_code == 401
        url = CHALLENGE_RE.search(challenge.headers["www-authenticate"]).group(1)
        assert url == f"https://{livestack.host(label)}{PRM_PATH}/mcp"
        document = livestack.request("GET", livestack.host(label), PRM_PATH + "/mcp")
        assert document.status_code == 200 and document.headers["content-type"] == "application/json"
        with pytest.raises((json.JSONDecodeError, RecursionError)):
            json.loads(document.text)
    deep = livestack.request("GET", livestack.host("hostile-deep-json"), PRM_PATH + "/mcp").text
    assert deep.startswith("[" * 100_000) and len(deep) == 200_000


def test_hostile_reset(livestack: Stack) -> None:
    name = livestack.host("hostile-reset")
    raw = socket.create_connection(("127.0.0.1", livestack.connect_port(name)), timeout=3)
    # Python's ssl reports a reset as SSLEOFError (OpenSSL 3), as it would a missing
    # close_notify: a duplicate of the TCP socket tells a reset from a close.
    tcp = raw.dup()
    with livestack.ssl_context().wrap_socket(raw, server_hostname=name) as tls, tcp:
        tls.sendall(GET_PRM.replace(b"HOST", name.encode()))
        with pytest.raises(ConnectionResetError):
            # TLS 1.3 session tickets may still be unread ahead of the reset.
            for _ in range(100):
                assert tcp.recv(65536) != b"", "closed with a FIN instead of a reset"


def test_hostile_hosts_are_listed(livestack: Stack) -> None:
    assert {s.mcp_host for s in livestack.scenarios.values() if s.group == "hostile"} == {
        livestack.host(label) for label in HOSTILE
    }


# -- the stack's own API ------------------------------------------------------------------------


def test_cli_args_and_manifest(livestack: Stack, tmp_path: Path) -> None:
    scenario = livestack.scenario("healthy")
    args = livestack.cli_args(scenario)
    assert args[:4] == [
        "--nameserver",
        f"127.0.0.1:{livestack.dns_public_port}",
        "--system-resolver",
        f"127.0.0.1:{livestack.dns_system_port}",
    ]
    assert f"{scenario.mcp_host}:443:127.0.0.1:{livestack.nginx_port}" in args
    assert f"{livestack.host('auth')}:443:127.0.0.1:{livestack.nginx_port}" in args
    assert args[-2:] == ["--ca-bundle", str(livestack.ca_file)]
    hostile = livestack.cli_args("hostile-reset", nameserver="dead", system_resolver="none")
    assert f"127.0.0.1:{livestack.dead_dns_port}" in hostile and "none" in hostile
    assert f"{livestack.host('hostile-reset')}:443:127.0.0.1:{livestack.ports['hostile']}" in hostile
    manifest = yaml.safe_load(livestack.write_manifest(scenario, tmp_path).read_text())
    assert manifest == {
        "version": 1,
        "name": "livestack-healthy",
        "server": {"url": scenario.server_url},
        "auth": {"type": "oauth", "issuer": scenario.issuer, "audience": scenario.server_url, "registration": ["dcr"]},
        "hosts": {scenario.mcp_host: {}, livestack.host("auth"): {}},
    }
    changed = livestack.manifest(scenario, auth={"registration": ["cimd"], "audience": None})
    assert changed["auth"]["registration"] == ["cimd"] and "audience" not in changed["auth"]


def test_every_scenario_manifest_is_statically_clean(livestack: Stack, tmp_path: Path, run_mcplint: Any) -> None:
    """The manifests written for the scenarios state a healthy intent: `mcplint check`
    finds nothing in them, so a live test sees only what the deployment does wrong."""
    for scenario in livestack.scenarios.values():
        (tmp_path / scenario.id).mkdir()
        livestack.write_manifest(scenario, tmp_path / scenario.id)
    result = run_mcplint("check", "--fail-on", "warning", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_static_site(livestack: Stack) -> None:
    name = livestack.static_site(
        "selftest",
        {
            "/mcp": Static.json(418, {"error": "teapot"}, (("X-Test", 'a $dollar "quoted" value'),)),
            "/.well-known/oauth-protected-resource/mcp": Proxy("mcp"),
        },
    )
    assert name == f"selftest.site.{livestack.zone}"
    response = post_mcp(livestack, "selftest.site")
    assert response.status_code == 418 and response.headers["x-test"] == 'a $dollar "quoted" value'
    assert get_json(livestack, "selftest.site", PRM_PATH + "/mcp")["resource"] == f"https://{name}/mcp"
    assert livestack.request("GET", name, "/other").status_code == 404
    for which in ("public", "system"):
        assert ipaddress.ip_address(answers(livestack, name, which=which)[0]).is_global
        assert answers(livestack, name, "AAAA", which) == []
    livestack.remove_site(name)
    # Gone: nginx's default server answers, with a certificate for no scenario name.
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        post_mcp(livestack, "selftest.site")


def test_delay_covers_the_healthy_path(livestack: Stack) -> None:
    def timed(method: str, label: str, path: str, **kwargs: Any) -> float:
        started = time.monotonic()
        livestack.request(method, livestack.host(label), path, **kwargs)
        return time.monotonic() - started

    calls = [
        ("POST", "mcp", "/mcp", {"json": INITIALIZE}),
        ("GET", "mcp", PRM_PATH + "/mcp", {}),
        ("GET", "auth", "/.well-known/oauth-authorization-server", {}),
        ("GET", "auth", "/.well-known/openid-configuration", {}),
        ("POST", "auth", "/token", {"data": {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "y"}}),
        ("POST", "auth", "/reg", {"json": {"redirect_uris": [CLAUDE_CALLBACK], "token_endpoint_auth_method": "none"}}),
    ]
    with livestack.delay(150):
        delayed = [timed(method, label, path, **kwargs) for method, label, path, kwargs in calls]
    assert all(elapsed >= 0.15 for elapsed in delayed), delayed
    assert not livestack.delay_file.exists()  # back to no delay


def test_readme_documents_every_scenario(livestack: Stack) -> None:
    readme = (Path(__file__).parent / "README.md").read_text()
    missing = [
        s.id
        for s in livestack.scenarios.values()
        if f"| `{s.id}` | {s.summary.replace('|', chr(92) + '|')} |" not in readme
    ]
    assert not missing, f"README.md scenario table is out of date for: {missing}"


def test_missing_peer_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without a peer fails the tests that need it, with the way out."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no nginx
    with pytest.raises(StackError, match="install.sh"):
        Stack(tmp_path / "stack").start()


def test_access_log_names_hosts(livestack: Stack) -> None:
    post_mcp(livestack, "mcp")
    assert any(line.startswith(livestack.host("mcp") + ' "POST /mcp') for line in livestack.access_log())


# -- the slow AS: its request starts with the first test (autouse), is checked last ------------------


@pytest.fixture(scope="module", autouse=True)
def slow_metadata(livestack: Stack) -> Future[tuple[float, httpx.Response]]:
    """The 11 s request to the slow AS, started with the module's first test and
    collected by its last, so the wait overlaps the other tests."""
    future: Future[tuple[float, httpx.Response]] = Future()

    def fetch() -> None:
        started = time.monotonic()
        try:
            response = livestack.request(
                "GET", livestack.host("as-slow"), "/.well-known/oauth-authorization-server", timeout=SLOW_SECONDS + 20
            )
            future.set_result((time.monotonic() - started, response))
        except BaseException as error:  # noqa: BLE001 - handed to the test
            future.set_exception(error)

    threading.Thread(target=fetch, daemon=True).start()
    return future


def test_as_slow_does_not_answer_in_the_budget(livestack: Stack, slow_metadata: Future[Any]) -> None:
    with pytest.raises(httpx.ReadTimeout):
        livestack.request("GET", livestack.host("as-slow"), "/.well-known/openid-configuration", timeout=1)


def test_as_slow_answers_after_the_budget(slow_metadata: Future[tuple[float, httpx.Response]]) -> None:
    elapsed, response = slow_metadata.result(timeout=SLOW_SECONDS + 30)
    assert SLOW_SECONDS - 0.5 <= elapsed < SLOW_SECONDS + 10
    assert response.status_code == 200 and response.json()["issuer"].startswith("https://as-slow.")
