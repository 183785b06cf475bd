"""Dynamic client registration (RFC 7591), opt-in: it creates a client on the server."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mcplint.facts.urls import looks_like_url
from mcplint.live import evidence

if TYPE_CHECKING:
    from mcplint.live.session import Session


def register(session: Session, document: dict[str, Any]) -> str | None:
    """A DCR registration like Claude's; the client id it got, if it got one."""
    url = document.get("registration_endpoint")
    if not looks_like_url(url):
        return None
    body = json.dumps({
        "client_name": "mcplint probe (safe to delete)",
        "redirect_uris": session.data["callbacks"]["hosted"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"], "token_endpoint_auth_method": "none",
    }).encode()
    exchange = session.fetch("registration", "POST", url, session.at_registration,
                             "registration", body=body)
    session.time_again(exchange)
    fact = evidence.registration_fact(session.at_registration, exchange)
    session.set(("registration",), fact)
    return fact["client_id"] if fact["ok"] else None
