"""The token endpoint, probed with a refresh that must fail the way RFC 6749 says."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from mcplint.facts import dig
from mcplint.facts.urls import canonical, looks_like_url
from mcplint.live import evidence

if TYPE_CHECKING:
    from mcplint.live.probes.registration import Client
    from mcplint.live.session import Session

_PROBE_CLIENT = "mcplint-probe"
_PROBE_REFRESH_TOKEN = "mcplint-probe-invalid-refresh-token"


def refresh(session: Session, document: dict[str, Any], registered: Client | None) -> None:
    """A refresh with an invalid token, form-encoded, carrying the canonical resource:
    judged for its media type (MCP602), its error code (MCP603) and the resource (MCP606).
    The client is the best one at hand (rules: "Probe clients")."""
    url = document.get("token_endpoint")
    if not looks_like_url(url):
        return
    preregistered = dig(session.manifest, "auth", "client", "client_id")
    headers: dict[str, str] = {}
    if registered:
        client_id, kind = registered.client_id, "registered"
    elif isinstance(preregistered, str) and preregistered:
        client_id, kind = preregistered, "preregistered"
    else:
        client_id, kind = _PROBE_CLIENT, "made-up"
    form = {"grant_type": "refresh_token", "refresh_token": _PROBE_REFRESH_TOKEN,
            "client_id": client_id,
            "resource": canonical(session.server_url) or session.server_url}
    if registered and registered.secret:  # authenticated as the answer said, as Claude does
        if registered.auth_method == "client_secret_post":
            form["client_secret"] = registered.secret
        elif registered.auth_method == "client_secret_basic":  # RFC 6749 section 2.3.1
            pair = f"{quote(client_id, safe='')}:{quote(registered.secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    exchange = session.fetch("token-refresh", "POST", url, session.at_issuer, "token",
                             headers=headers, body=urlencode(form).encode())
    session.time_again(exchange)
    session.set(("token",), evidence.token_fact(
        session.at_issuer, url, exchange, kind, bool(session.options.probe_registration)))
