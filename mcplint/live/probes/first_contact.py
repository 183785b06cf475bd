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

if TYPE_CHECKING:
    from mcplint.live.session import Session

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_INVALID_TOKEN = "Bearer mcplint.invalid.token"


def credentials(session: Session) -> dict[str, str]:
    """Static headers to send: only with --send-credentials, values from the environment."""
    headers = session.auth.get("headers")
    if session.auth_type != "static-headers" or not session.options.send_credentials:
        return {}
    values = {}
    for name, template in (headers or {}).items():
        def expand(match: re.Match[str], header: str = name) -> str:
            value = os.environ.get(match.group(1))
            if value is None:
                raise UsageError(f"--send-credentials: environment variable {match.group(1)} "
                                 f"(for auth.headers.{header}) is not set")
            return value
        values[name] = _ENV_REFERENCE.sub(expand, str(template))
    return values


def _headers(session: Session) -> dict[str, str]:
    return {"Content-Type": "application/json",
            "Accept": "application/json, text/event-stream", **session.credentials}


def _initialize(session: Session) -> bytes:
    return json.dumps({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": session.client["protocol_version"], "capabilities": {},
                   "clientInfo": {"name": "mcplint", "version": __version__}},
    }).encode()


def first_post(session: Session) -> dict[str, Any] | None:
    """POST the first contact; record what came back. The challenge if it was a 401 the
    OAuth chain goes on from, else None."""
    post = session.fetch("mcp-post", "POST", session.server_url, session.at_server,
                         headers=_headers(session), body=_initialize(session))
    if session.infer_auth and post.answered and post.status != 401:
        session.auth_type, session.oauth = "none", False  # an open server, as far as we know
    expects_mcp = session.auth_type == "none" or bool(session.credentials)
    fact = evidence.mcp_post(post, expects_mcp, session.data["edge_signatures"])
    session.set(("mcp", "post"), fact)
    if not session.oauth or fact["outcome"] != "answered" or post.status != 401:
        return None
    challenge = evidence.challenge(post)
    session.set(("mcp", "challenge"), challenge)
    return challenge


def invalid_token(session: Session) -> None:
    """A malformed bearer token: the server must answer 401 with a Bearer challenge."""
    if not looks_like_url(session.server_url):
        return
    headers = {**_headers(session), "Authorization": _INVALID_TOKEN}
    exchange = session.fetch("invalid-token", "POST", session.server_url, session.at_server,
                             headers=headers, body=_initialize(session))
    if exchange.answered:
        session.set(("mcp", "invalid_token"), evidence.invalid_token(exchange))
