"""Dynamic client registration (RFC 7591), opt-in: it creates a client on the server, shaped
like the hosted client's, and deletes it again where RFC 7592 offers that."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple

from mcplint.facts.urls import looks_like_url
from mcplint.live import evidence
from mcplint.live.net.http import Exchange

if TYPE_CHECKING:
    from mcplint.live.session import Session

# mcplint's own words, not the hosted client's: whoever finds the client knows what it is.
_CLIENT_NAME = "mcplint probe (safe to delete)"


class Client(NamedTuple):
    """A client the registration got: what the token probe authenticates with."""

    client_id: str
    secret: str | None
    auth_method: str  # the answer's token_endpoint_auth_method (RFC 7591's default if absent)


def register(session: Session, document: dict[str, Any]) -> Client | None:
    """A DCR registration like Claude's (hosted-client.yaml `registration.dcr_request`, its
    callbacks); the client it got, if it got one."""
    url = document.get("registration_endpoint")
    if not looks_like_url(url):
        return None
    body = json.dumps({"client_name": _CLIENT_NAME,
                       "redirect_uris": session.data["callbacks"]["hosted"],
                       **session.client["registration"]["dcr_request"]["value"]}).encode()
    exchange = session.fetch("registration", "POST", url, session.at_registration,
                             "registration", body=body)
    again = session.time_again(exchange)
    for created in (exchange, again):  # what it registered, mcplint never needs afterwards
        if created is not None:
            _keep_for_deletion(session, created)
    fact = evidence.registration_fact(session.at_registration, exchange)
    session.set(("registration",), fact)
    if not fact["ok"]:
        return None
    answer, _ = exchange.json()
    secret = answer.get("client_secret")
    return Client(fact["client_id"], secret if isinstance(secret, str) else None,
                  fact["auth_method"])


def _keep_for_deletion(session: Session, exchange: Exchange) -> None:
    answer, _ = exchange.json() if exchange.status in (200, 201) else (None, None)
    if not isinstance(answer, dict):
        return
    for key in ("client_secret", "registration_access_token"):
        if isinstance(answer.get(key), str):
            session.secrets.append(answer[key])
    uri, token = answer.get("registration_client_uri"), answer.get("registration_access_token")
    if looks_like_url(uri) and isinstance(token, str) and token:
        session.registered.append((uri, token))


def delete(session: Session) -> None:
    """RFC 7592: delete the clients the probe created where the answers offered management
    (a registration_client_uri with a registration_access_token)."""
    outcomes = []
    for uri, token in session.registered:
        exchange = session.fetch("registration-delete", "DELETE", uri, session.at_registration,
                                 "registration", headers={"Authorization": f"Bearer {token}"})
        outcomes.append(exchange.status in (200, 204))
    if outcomes:
        with session.lock:
            fact = session.facts.get("registration")
            if isinstance(fact, dict) and not session.closed:
                fact["deleted"] = all(outcomes)
