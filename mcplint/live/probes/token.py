"""The token endpoint, probed with a refresh that must fail the way RFC 6749 says."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from mcplint.facts import dig
from mcplint.facts.urls import canonical, looks_like_url
from mcplint.live import evidence

if TYPE_CHECKING:
    from mcplint.live.session import Session

_PROBE_CLIENT = "mcplint-probe"
_PROBE_REFRESH_TOKEN = "mcplint-probe-invalid-refresh-token"


def refresh(session: Session, document: dict[str, Any], registered: str | None) -> None:
    """A refresh with an invalid token, form-encoded, carrying the canonical resource:
    judged for its media type (MCP602), its error code (MCP603) and the resource (MCP606).
    The client is the best one at hand (rules: "Probe clients")."""
    url = document.get("token_endpoint")
    if not looks_like_url(url):
        return
    preregistered = dig(session.manifest, "auth", "client", "client_id")
    if registered:
        client_id, kind = registered, "registered"
    elif isinstance(preregistered, str) and preregistered:
        client_id, kind = preregistered, "preregistered"
    else:
        client_id, kind = _PROBE_CLIENT, "made-up"
    form = {"grant_type": "refresh_token", "refresh_token": _PROBE_REFRESH_TOKEN,
            "client_id": client_id,
            "resource": canonical(session.server_url) or session.server_url}
    exchange = session.fetch("token-refresh", "POST", url, session.at_issuer, "token",
                             body=urlencode(form).encode())
    session.time_again(exchange)
    session.set(("token",), evidence.token_fact(
        session.at_issuer, url, exchange, kind, bool(session.options.probe_registration)))
