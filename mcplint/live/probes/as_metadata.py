"""Authorization server metadata (RFC 8414 / OpenID Connect discovery), in the spec's order."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcplint.facts.urls import as_metadata_urls
from mcplint.live import evidence
from mcplint.live.net.http import Exchange

if TYPE_CHECKING:
    from mcplint.live.session import Session


def discover(session: Session, issuer: str,
             follow: Callable[[dict[str, Any]], None]) -> None:
    """Every candidate URL at once, the first leading. The client takes the first document
    in the spec's order: `follow` goes on with it as soon as that one is known, and the
    other candidates' answers only complete the facts."""
    urls = as_metadata_urls(issuer)

    def fetch(url: str) -> Callable[[], tuple[Exchange, dict[str, Any]]]:
        def call() -> tuple[Exchange, dict[str, Any]]:
            exchange = session.fetch("as-metadata", "GET", url, session.at_issuer, "discovery")
            return exchange, evidence.document_fetch(exchange)
        return call

    candidates = session.in_order([fetch(url) for url in urls])
    found = next((r for r in candidates if r is not None and r[1]["object_ok"]), None)
    if found is not None:
        follow(found[1]["document"])
    results = [r for r in candidates.finish() if r is not None]
    if found is not None:
        session.time_again(found[0])
    fact = evidence.as_fact(session.at_issuer, issuer, urls, results, found)
    # The candidates the client walks before the document it takes (all, without one).
    before = results[:results.index(found)] if found is not None else results
    aborted = evidence.aborted_fact(session.at_issuer, before)
    if aborted is not None:
        fact["aborted"] = aborted
    downgrade = evidence.downgrade_fact(session.at_issuer, [e for e, _ in before])
    if downgrade is not None:
        fact["downgrade"] = downgrade
    session.as_results[issuer] = fact
    if found is not None:
        session.add_drift(evidence.drift_fact(
            "authorization_server_metadata",
            session.declared.get("authorization_server_metadata"), found[1]["document"],
            found[0].url))
