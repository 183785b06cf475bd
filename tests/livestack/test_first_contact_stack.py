"""Self-tests of the stack's variants for both protocol generations and for discovery as
the hosted client walks it: each behaves as README.md says, seen with a plain HTTP client
(httpx over loopback, SNI and Host pinned as ``--connect-to`` does, no redirects followed).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from livestack import (
    CLAUDE_CALLBACK,
    SLOW_TOKEN_SECONDS,
    STATIC_HEADER,
    STATIC_KEY,
    STATIC_KEY_ENV,
    Stack,
)
from livestack.catalog import NO_POST_AUTH_METHODS, PRM_PATH
from livestack.test_stack import client_credentials_token

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
CLIENT_INFO = {"name": "selftest", "version": "0"}
# The two first contacts: server/discover with the 2026-07-28 headers, initialize of 2025-11-25.
DISCOVER = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "server/discover",
    "params": {
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    },
}
DISCOVER_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": MODERN,
    "Mcp-Method": "server/discover",
}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "initialize",
    "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": CLIENT_INFO},
}
INITIALIZE_HEADERS = {"Accept": "application/json, text/event-stream"}
# JSON-RPC errors only a 2026-07-28 server sends (HeaderMismatch, MissingRequiredClientCapability,
# UnsupportedProtocolVersion); with -32601 on a 404 they identify the modern generation.
MODERN_ERROR_CODES = {-32020, -32021, -32022}
DISCOVERY_AGENT = "python-httpx/0.28.1"
MCP_AGENT = "Claude-User"
CHALLENGE_RE = re.compile(r'resource_metadata="([^"]*)"')


def discover(stack: Stack, label: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return stack.request("POST", stack.host(label), "/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **(headers or {})})


def initialize(stack: Stack, label: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return stack.request(
        "POST", stack.host(label), "/mcp", json=INITIALIZE, headers={**INITIALIZE_HEADERS, **(headers or {})}
    )


def jsonrpc(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC message of a response, sent as JSON or as one SSE event."""
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
        assert len(data) == 1, response.text
        message: dict[str, Any] = json.loads(data[0])
    else:
        assert content_type.startswith("application/json"), (response.status_code, content_type, response.text)
        message = response.json()
    assert message["jsonrpc"] == "2.0", message
    return message


def get(stack: Stack, label: str, path: str, **headers: str) -> httpx.Response:
    return stack.request("GET", stack.host(label), path, headers=headers)


# -- both generations -----------------------------------------------------------------------


def assert_serves_both(stack: Stack, label: str, headers: Mapping[str, str] | None = None) -> None:
    modern = discover(stack, label, headers)
    assert modern.status_code == 200, modern.text
    assert MODERN in jsonrpc(modern)["result"]["supportedVersions"]
    legacy = initialize(stack, label, headers)
    assert legacy.status_code == 200, legacy.text
    assert jsonrpc(legacy)["result"]["protocolVersion"] == LEGACY


def test_healthy_mcp_2x_serves_both_generations_to_a_token(livestack: Stack) -> None:
    token = client_credentials_token(livestack, livestack.scenario("healthy").server_url)
    assert_serves_both(livestack, "mcp", {"Authorization": f"Bearer {token}"})


def test_healthy_without_a_token_both_first_contacts_get_the_same_401(livestack: Stack) -> None:
    """Behind OAuth the generation cannot be told from outside: the SDK answers the
    challenge before it looks at the method."""
    modern, legacy = discover(livestack, "mcp"), initialize(livestack, "mcp")
    assert modern.status_code == legacy.status_code == 401
    assert modern.headers["www-authenticate"] == legacy.headers["www-authenticate"]
    assert modern.headers["www-authenticate"].startswith("Bearer ")


def test_open_healthy_serves_both_generations(livestack: Stack) -> None:
    assert_serves_both(livestack, "open-healthy")
    # No OAuth anywhere on the origin.
    for path in (PRM_PATH, PRM_PATH + "/mcp", "/.well-known/oauth-authorization-server"):
        assert get(livestack, "open-healthy", path).status_code == 404, path


def test_legacy_only_answers_initialize_but_not_discover(livestack: Stack) -> None:
    legacy = initialize(livestack, "generation-legacy-only")
    assert legacy.status_code == 200, legacy.text
    result = jsonrpc(legacy)["result"]
    assert result["protocolVersion"] == LEGACY
    assert result["serverInfo"]["version"].startswith("1.")  # FastMCP reports the mcp release
    modern = discover(livestack, "generation-legacy-only")
    assert modern.status_code == 400, modern.text
    error = jsonrpc(modern)["error"]
    # mcp 1.x: a request without a session is an invalid request, not a modern error.
    assert error["code"] == -32600 and error["code"] not in MODERN_ERROR_CODES, error
    assert "result" not in jsonrpc(modern)


def test_new_only_answers_discover_but_turns_initialize_away(livestack: Stack) -> None:
    modern = discover(livestack, "generation-new-only")
    assert modern.status_code == 200, modern.text
    result = jsonrpc(modern)["result"]
    assert result["supportedVersions"] == [MODERN]
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "livestack modern"
    legacy = initialize(livestack, "generation-new-only")
    assert legacy.status_code == 400, legacy.text
    message = jsonrpc(legacy)
    assert message["id"] == INITIALIZE["id"]
    # UnsupportedProtocolVersion, naming the one revision served (versioning: backward compatibility).
    assert message["error"]["code"] == -32022
    assert message["error"]["data"] == {"supported": [MODERN], "requested": LEGACY}
    # An unknown method of the new generation: 404 with -32601 in the body.
    unknown = livestack.request(
        "POST",
        livestack.host("generation-new-only"),
        "/mcp",
        json={**DISCOVER, "method": "no/such-method"},
        headers={**DISCOVER_HEADERS, "Mcp-Method": "no/such-method"},
    )
    assert unknown.status_code == 404 and jsonrpc(unknown)["error"]["code"] == -32601


def test_generation_variants_are_open(livestack: Stack) -> None:
    for label in ("open-healthy", "generation-legacy-only", "generation-new-only"):
        scenario = livestack.scenario(label)
        assert scenario.auth == "none" and scenario.hosts == (scenario.mcp_host,)
        assert livestack.manifest(scenario)["auth"] == {"type": "none"}
        assert "www-authenticate" not in initialize(livestack, label).headers


# -- bot management keyed on the discovery calls' agent ---------------------------------------


def test_bot_variant_blocks_only_the_discovery_agent(livestack: Stack) -> None:
    label = "edge-bot-discovery"
    prm_path = PRM_PATH + "/mcp"
    blocked = get(livestack, label, prm_path, **{"User-Agent": DISCOVERY_AGENT})
    assert blocked.status_code == 403
    assert blocked.headers["cf-ray"] and blocked.headers["content-type"].startswith("text/html")
    assert "1010" in blocked.text and "browser's signature" in blocked.text
    # The same WAF rule covers every path of the host, the MCP URL included.
    assert discover(livestack, label, {"User-Agent": DISCOVERY_AGENT}).status_code == 403
    # The MCP calls' agent, and any other, reach the healthy deployment.
    for agent in (MCP_AGENT, "mcplint-selftest/1"):
        prm = get(livestack, label, prm_path, **{"User-Agent": agent})
        assert prm.status_code == 200 and prm.json()["resource"] == livestack.scenario(label).server_url
        challenge = initialize(livestack, label, {"User-Agent": agent})
        assert challenge.status_code == 401 and "cf-ray" not in challenge.headers
        assert CHALLENGE_RE.search(challenge.headers["www-authenticate"])


# -- discovery as the client walks it (issue: discovery and registration) ----------------------


def hint(response: httpx.Response) -> str | None:
    assert response.status_code == 401, response.text
    match = CHALLENGE_RE.search(response.headers["www-authenticate"])
    return match.group(1) if match else None


def test_hint_relative(livestack: Stack) -> None:
    assert hint(discover(livestack, "hint-relative")) == PRM_PATH + "/mcp"
    prm = get(livestack, "hint-relative", PRM_PATH + "/mcp")
    assert prm.status_code == 200 and prm.json()["resource"] == livestack.scenario("hint-relative").server_url


def test_hint_404(livestack: Stack) -> None:
    host = livestack.host("hint-404")
    url = hint(initialize(livestack, "hint-404"))
    assert url == f"https://{host}/mcp{PRM_PATH}"
    assert get(livestack, "hint-404", f"/mcp{PRM_PATH}").status_code == 404
    prm = get(livestack, "hint-404", PRM_PATH + "/mcp")
    assert prm.status_code == 200 and prm.json()["resource"] == f"https://{host}/mcp"


def test_prm_path_500(livestack: Stack) -> None:
    assert hint(initialize(livestack, "prm-path-500")) is None
    aborted = get(livestack, "prm-path-500", PRM_PATH + "/mcp")
    assert aborted.status_code == 500 and aborted.headers["content-type"].startswith("text/html")
    root = get(livestack, "prm-path-500", PRM_PATH)
    assert root.status_code == 200 and root.json()["resource"] == livestack.scenario("prm-path-500").server_url


def test_as_html_200(livestack: Stack) -> None:
    html = get(livestack, "as-html-200", "/.well-known/oauth-authorization-server")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    oidc = get(livestack, "as-html-200", "/.well-known/openid-configuration")
    assert oidc.status_code == 200 and oidc.json()["issuer"] == livestack.scenario("as-html-200").issuer


def test_prm_missing_as_root(livestack: Stack) -> None:
    label = "prm-missing-as-root"
    scenario = livestack.scenario(label)
    url = hint(discover(livestack, label))
    assert url == f"https://{scenario.mcp_host}{PRM_PATH}/mcp"
    for path in (PRM_PATH + "/mcp", PRM_PATH):
        assert get(livestack, label, path).status_code == 404, path
    metadata = get(livestack, label, "/.well-known/oauth-authorization-server")
    assert metadata.status_code == 200
    assert metadata.json()["issuer"] == scenario.issuer == f"https://{scenario.mcp_host}"
    # The fallback leads somewhere real: the origin registers clients.
    registration = livestack.request(
        "POST",
        scenario.mcp_host,
        "/reg",
        json={"redirect_uris": [CLAUDE_CALLBACK], "token_endpoint_auth_method": "none"},
    )
    assert registration.status_code == 201 and registration.json()["client_id"]


def test_open_server_serves_as_metadata(livestack: Stack) -> None:
    label = "open-as-metadata"
    assert_serves_both(livestack, label)  # no credentials needed
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        metadata = get(livestack, label, path)
        assert metadata.status_code == 200 and metadata.json()["issuer"] == f"https://{livestack.host(label)}", path
    assert livestack.manifest(label)["auth"] == {"type": "none"}


def test_static_headers_variants(livestack: Stack) -> None:
    key = {STATIC_HEADER: STATIC_KEY}
    for label in ("static-headers-healthy", "static-headers-prm-401"):
        assert initialize(livestack, label).status_code == 401, label
        assert_serves_both(livestack, label, key)
        assert livestack.manifest(label)["auth"] == {
            "type": "static-headers",
            "headers": {STATIC_HEADER: "${" + STATIC_KEY_ENV + "}"},
        }
    paths = (PRM_PATH + "/mcp", PRM_PATH, "/.well-known/oauth-authorization-server")
    for path in paths:
        assert get(livestack, "static-headers-healthy", path).status_code == 404, path
        refused = get(livestack, "static-headers-prm-401", path)
        assert refused.status_code == 401 and "www-authenticate" not in refused.headers, path
        # With the key, the request reaches the MCP server, which has nothing there.
        assert get(livestack, "static-headers-prm-401", path, **{STATIC_HEADER: STATIC_KEY}).status_code == 404


def test_redirect_to_http(livestack: Stack) -> None:
    response = initialize(livestack, "redirect-to-http")
    assert response.status_code == 307
    assert response.headers["location"] == f"http://{livestack.host('redirect-to-http')}/mcp"


def test_registration_refuses_client_secret_post(livestack: Stack) -> None:
    label = "registration-no-secret-post"
    scenario = livestack.scenario(label)
    assert scenario.issuer == f"https://{scenario.mcp_host}"
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        metadata = get(livestack, label, path).json()
        assert metadata["issuer"] == scenario.issuer
        assert sorted(metadata["token_endpoint_auth_methods_supported"]) == sorted(NO_POST_AUTH_METHODS)
    prm = get(livestack, label, PRM_PATH + "/mcp").json()
    assert prm["authorization_servers"] == [scenario.issuer]
    claude_like = {
        "client_name": "Claude",
        "redirect_uris": [CLAUDE_CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_post",
        "application_type": "web",
    }
    refused = livestack.request("POST", scenario.mcp_host, "/reg", json=claude_like)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_client_metadata"
    public = livestack.request("POST", scenario.mcp_host, "/reg", json={**claude_like, "token_endpoint_auth_method": "none"})
    assert public.status_code == 201, public.text
    # The healthy authorization server registers the same request.
    healthy = livestack.request("POST", livestack.host("auth"), "/reg", json=claude_like)
    assert healthy.status_code == 201 and healthy.json()["token_endpoint_auth_method"] == "client_secret_post"


def test_variant_manifests_are_the_teams_intent(livestack: Stack, tmp_path: Path) -> None:
    scenario = livestack.scenario("registration-no-secret-post")
    manifest = yaml.safe_load(livestack.write_manifest(scenario, tmp_path).read_text())
    assert manifest["auth"]["issuer"] == scenario.issuer and list(manifest["hosts"]) == [scenario.mcp_host]
    assert livestack.manifest("edge-bot-discovery")["auth"]["issuer"] == livestack.catalog.healthy_issuer


# -- the slow token endpoint: started with the module's first test, checked by its last -------


@pytest.fixture(scope="module", autouse=True)
def slow_token(livestack: Stack) -> Future[tuple[float, httpx.Response]]:
    future: Future[tuple[float, httpx.Response]] = Future()

    def fetch() -> None:
        started = time.monotonic()
        try:
            response = livestack.request(
                "POST",
                livestack.host("token-slow"),
                "/token",
                data={"grant_type": "refresh_token", "refresh_token": "invalid", "client_id": "mcplint-probe"},
                timeout=SLOW_TOKEN_SECONDS + 20,
            )
            future.set_result((time.monotonic() - started, response))
        except BaseException as error:  # noqa: BLE001 - handed to the test
            future.set_exception(error)

    threading.Thread(target=fetch, daemon=True).start()
    return future


def test_token_slow_keeps_only_the_token_endpoint_slow(livestack: Stack) -> None:
    started = time.monotonic()
    metadata = get(livestack, "token-slow", "/.well-known/oauth-authorization-server")
    assert metadata.status_code == 200 and time.monotonic() - started < 5
    assert metadata.json()["token_endpoint"] == f"https://{livestack.host('token-slow')}/token"


def test_token_slow_answers_like_oidc_provider_after_the_budget(
    slow_token: Future[tuple[float, httpx.Response]],
) -> None:
    elapsed, response = slow_token.result(timeout=SLOW_TOKEN_SECONDS + 30)
    assert SLOW_TOKEN_SECONDS - 0.5 <= elapsed < SLOW_TOKEN_SECONDS + 10, elapsed
    # oidc-provider's own answer to an unknown client, only late.
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client", response.text
