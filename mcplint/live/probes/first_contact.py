"""The first contact with the MCP URL: the unauthenticated POST the client opens with, the
challenge it reads from a 401, and the invalid-token probe."""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any

from mcplint import __version__
from mcplint.errors import UsageError
from mcplint.facts.urls import looks_like_url
from mcplint.live import evidence
from mcplint.live.net.http import Exchange

if TYPE_CHECKING:
    from mcplint.live.session import Session

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_INVALID_TOKEN = "Bearer mcplint.invalid.token"


def credentials(session: Session) -> dict[str, str]:
    """Static headers to send: only with --send-credentials, values from the environment
    variables --credential-env names (a manifest in a pull request must not pick any
    variable of the CI job and have it sent to a URL of its choosing)."""
    headers = session.auth.get("headers")
    if session.auth_type != "static-headers" or not session.options.send_credentials:
        return {}
    allowed = set(session.options.credential_env)
    values = {}
    for name, template in (headers or {}).items():
        def expand(match: re.Match[str], header: str = name) -> str:
            if match.group(1) not in allowed:
                raise UsageError(f"--send-credentials: auth.headers.{header} names "
                                 f"${{{match.group(1)}}}, which no --credential-env names "
                                 f"(add --credential-env {match.group(1)} to send it)")
            value = os.environ.get(match.group(1))
            if value is None:
                raise UsageError(f"--send-credentials: environment variable {match.group(1)} "
                                 f"(for auth.headers.{header}) is not set")
            return value
        values[name] = _ENV_REFERENCE.sub(expand, str(template))
    return values


DISCOVER, INITIALIZE = "server/discover", "initialize"
STEPS = {DISCOVER: "mcp-discover", INITIALIZE: "mcp-post"}


def _body(session: Session, method: str) -> bytes:
    """The first contact `method` of its generation (hosted-client.yaml `contacts`)."""
    client_info = {"name": "mcplint", "version": __version__}
    if method == DISCOVER:
        version = session.client["contacts"][DISCOVER]["generation"]
        params: dict[str, Any] = {"_meta": {
            "io.modelcontextprotocol/protocolVersion": version,
            "io.modelcontextprotocol/clientInfo": client_info,
            "io.modelcontextprotocol/clientCapabilities": {}}}
    else:
        params = {"protocolVersion":
                  session.client["contacts"][INITIALIZE]["protocol_version"]["value"],
                  "capabilities": {}, "clientInfo": client_info}
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()


def _contact_headers(session: Session, method: str) -> dict[str, str]:
    headers = session.client["contacts"][method].get("headers")
    return {**(headers["value"] if headers else {}), **session.credentials}


def _contact(session: Session, method: str) -> Exchange:
    return session.fetch(STEPS[method], "POST", session.server_url, session.at_server,
                             "mcp", headers=_contact_headers(session, method),
                             body=_body(session, method))


def first_contacts(session: Session) -> dict[str, Any] | None:
    """Both generations' first contacts at once: `server/discover` with the 2026-07-28
    headers and `initialize` of 2025-11-25. Records what each got and which generations
    the endpoint serves; returns the challenge the OAuth chain goes on from (the
    `initialize` POST's 401, as before the 2026-07-28 generation), else None."""
    methods = (DISCOVER, INITIALIZE)
    contacts = session.in_order([lambda m=m: _contact(session, m) for m in methods],
                                leading=len(methods)).finish()
    answered = {m: c for m, c in zip(methods, contacts) if c is not None}
    post = answered.get(INITIALIZE)
    if post is None:  # the deadline passed before the thread could record anything
        return None
    if session.infer_auth and post.answered and post.status != 401:
        session.auth_type, session.oauth = "none", False  # an open server, as far as we know
    expects_mcp = session.auth_type == "none" or bool(session.credentials)
    signatures = session.data["edge_signatures"]
    facts = {m: evidence.mcp_post(e, expects_mcp, signatures, m) for m, e in answered.items()}
    session.set(("mcp", "post"), facts[INITIALIZE])
    if DISCOVER in facts:
        session.set(("mcp", "discover"), facts[DISCOVER])
        session.set(("mcp", "generations"), evidence.generations(
            facts, session.client["contacts"], session.at_server))
    fact = facts[INITIALIZE]
    if not session.oauth or fact["outcome"] != "answered" or post.status != 401:
        return None
    challenge = evidence.challenge(post)
    session.set(("mcp", "challenge"), challenge)
    return challenge


def invalid_token(session: Session) -> None:
    """A malformed bearer token: the server must answer 401 with a Bearer challenge."""
    if not looks_like_url(session.server_url):
        return
    headers = {**_contact_headers(session, INITIALIZE), "Authorization": _INVALID_TOKEN}
    exchange = session.fetch("invalid-token", "POST", session.server_url, session.at_server,
                             "mcp", headers=headers, body=_body(session, INITIALIZE))
    if exchange.answered:
        session.set(("mcp", "invalid_token"), evidence.invalid_token(exchange))
