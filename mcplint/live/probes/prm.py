"""Protected resource metadata (RFC 9728), found the way the client looks for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mcplint.facts.urls import looks_like_url, prm_urls
from mcplint.live import evidence
from mcplint.live.net.http import Exchange

if TYPE_CHECKING:
    from mcplint.live.session import Session


def discover(session: Session, hint: str | None) -> dict[str, Any] | None:
    """Protected resource metadata in the clients' order: the challenge's URL, then the
    path-inserted and the root well-known URLs. A 200 ends the search (even with a bad
    document: that is what the client got); anything else moves on (where the SDK clients
    stop, at a 5xx, is recorded as `aborted`, and the search goes on to report the rest)."""
    candidates = [hint] if looks_like_url(hint) else []
    candidates += [u for u in prm_urls(session.server_url) if u not in candidates]
    attempts, found = [], None
    tried: list[tuple[Exchange, dict[str, Any]]] = []
    for url in candidates:
        exchange = session.fetch("prm", "GET", url, session.at_server, "discovery")
        attempt = evidence.document_fetch(exchange)
        attempts.append(attempt)
        if exchange.status == 200:
            found = (exchange, attempt)
            break
        tried.append((exchange, attempt))
    if found:
        session.time_again(found[0])
        session.add_drift(evidence.drift_fact(
            "resource_metadata", session.declared.get("resource_metadata"),
            found[1].get("document"), found[0].url))
    fact = evidence.prm_fact(session.at_server, attempts, found)
    if hint is not None:  # the hint is authoritative (2026-07-28): judged on its own
        fact["hint"] = evidence.hint_fact(session.at_server, hint,
                                          attempts[0] if candidates[:1] == [hint] else None)
    else:  # the well-known URLs, which clients walk only without a hint (a 200 ends it)
        aborted = evidence.aborted_fact(session.at_server, tried)
        if aborted is not None:
            fact["aborted"] = aborted
    if not found:
        fact["legacy_fallback"] = _legacy_fallback(session)
    downgrade = evidence.downgrade_fact(session.at_server, [e for e, _ in tried])
    if downgrade is not None:
        fact["downgrade"] = downgrade
    session.set(("prm",), fact)
    return fact.get("document")


def _legacy_fallback(session: Session) -> dict[str, Any]:
    """Without any PRM, claude.ai still looks for authorization server metadata on the MCP
    origin (the 2025-03-26 fallback; hosted-client.yaml `discovery.without_prm`): whether
    it finds a document there decides whether it still connects."""
    parts = urlsplit(session.server_url)
    path = session.client["discovery"]["without_prm"]["value"][0]
    exchange = session.fetch("as-metadata", "GET", f"{parts.scheme}://{parts.netloc}{path}",
                             session.at_server, "discovery")
    return evidence.legacy_fallback_fact(session.at_server, exchange)


def open_server_discovery(session: Session) -> None:
    """An endpoint that needs no OAuth: does its origin still look like OAuth to the hosted
    client (PRM or AS metadata at the well-known URLs, or a 401 there)? These GETs go
    without the static headers, as the hosted client's discovery calls do."""
    parts = urlsplit(session.server_url)
    legacy = session.client["discovery"]["without_prm"]["value"][0]
    urls = [*prm_urls(session.server_url), f"{parts.scheme}://{parts.netloc}{legacy}"]
    kinds = ["prm"] * (len(urls) - 1) + ["as"]

    def fetch(url: str) -> Callable[[], Exchange]:
        return lambda: session.fetch("prm" if url != urls[-1] else "as-metadata", "GET", url,
                                     session.at_server, "discovery")

    exchanges = session.in_order([fetch(url) for url in urls], leading=len(urls)).finish()
    tried = [(kind, e) for kind, e in zip(kinds, exchanges) if e is not None]
    session.set(("oauth_discovery",), evidence.oauth_discovery_fact(session.at_server, tried))
