"""One live verification: the choreography of the probes (mcplint/live/probes/), run as the
hosted client would, concurrently where they do not depend on each other, and the live
facts they leave for the policies.

Chains (each a thread): the MCP chain (first contact -> challenge -> protected resource
metadata -> the authorization server it names), the authorization server chain for the
issuer the manifest names (metadata -> [registration] -> token probe), the invalid-token
probe, and DNS for every host involved. The wall time approaches the longest chain.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

from mcplint.facts import dig
from mcplint.facts.secrets import scrub
from mcplint.facts.urls import as_metadata_urls, looks_like_url
from mcplint.live import evidence
from mcplint.live.options import LiveOptions
from mcplint.live.probes import as_metadata, first_contact, prm, registration, token
from mcplint.live.session import DNS_DEFERRAL, GRACE, Session, spawn
from mcplint.load.sourcemap import pointer


class Verification:
    """Probes one manifest's deployment and returns the live facts."""

    def __init__(self, manifest: dict[str, Any], declared: dict[str, Any],
                 data: dict[str, Any], options: LiveOptions, profile: str,
                 infer_auth: bool = False, tls: ssl.SSLContext | None = None) -> None:
        self.session = Session(manifest, declared, data, options, profile, infer_auth, tls)
        self.session.credentials = first_contact.credentials(self.session)
        self._as_running: dict[str, threading.Event] = {}

    @property
    def auth_type(self) -> str | None:
        """What the verification found the auth to be (probe infers it)."""
        return self.session.auth_type

    # -- the run -------------------------------------------------------------------------
    def run(self, on_way: Callable[[], None] | None = None) -> dict[str, Any]:
        """The live facts. `on_way` is called once the first requests are on the wire (or
        have failed): what else the caller has to do can then run without slowing them."""
        s = self.session
        s.note_url(s.server_url, s.at_server)
        if s.issuer:
            s.note_url(s.issuer, s.at_issuer)
        for field in ("token_endpoint", "registration_endpoint"):
            s.note_url(dig(s.declared, "authorization_server_metadata", field), s.at_issuer)
        # The first request of each chain goes out first; the requests nothing waits on (the
        # invalid-token probe, the other metadata candidates) once those are on the wire, so
        # that the servers take them after the ones the chains wait on.
        # Both first contacts lead (else the MCP chains send nothing: no URL).
        posts = len(first_contact.STEPS) if looks_like_url(s.server_url) else 0
        candidates = len(as_metadata_urls(s.issuer)) if s.issuer else 0
        chains = [spawn(self._mcp_chain)]
        if s.issuer:
            chains.append(spawn(self._as_chain, s.issuer))
        s.fetcher.wait_settled(posts + min(candidates, 1), DNS_DEFERRAL)
        s.leaders_out.set()
        if s.oauth:
            chains.append(spawn(first_contact.invalid_token, s))
        invalid_token = 1 if posts and s.oauth else 0
        s.fetcher.wait_settled(posts + invalid_token + candidates, DNS_DEFERRAL)
        if on_way is not None:
            on_way()
        s.start_deferred_dns()
        # Requests stop at the deadline; the grace lets a chain record what its last request
        # saw ("no answer before the deadline") before the facts are taken.
        # One grace for all chains: a grace per chain would add up past the deadline.
        ends = time.monotonic() + s.time_left() + GRACE
        for chain in chains:
            chain.join(max(0.0, ends - time.monotonic()))
        with s.lock:
            s.closed = True
            facts = json.loads(json.dumps(s.facts))  # a snapshot late threads cannot touch
        live = self._assemble(facts)
        s.fetcher.close()
        return live

    def _assemble(self, facts: dict[str, Any]) -> dict[str, Any]:
        s = self.session
        exchanges = list(s.fetcher.exchanges)
        issuer = s.effective_issuer or s.issuer
        facts["as"] = s.as_results.get(issuer or "", {"at": s.at_issuer, "attempted": False})
        for key, name in (("prm", "resource_metadata"), ("as", "authorization_server_metadata")):
            fact = facts.get(key)
            if isinstance(fact, dict) and isinstance(fact.get("document"), dict):
                fact["member_types"] = evidence.member_type_facts(
                    fact["at"], name, fact["document"], fact.get("url"), s.data)
        if not s.oauth:  # probe found an open server: the invalid-token probe went for nothing
            facts["mcp"].pop("invalid_token", None)
        facts["requests"] = evidence.request_facts(exchanges, s.data["edge_signatures"])
        facts["connections"] = evidence.connection_facts(exchanges)
        facts["dns"] = self._dns_facts()
        facts["slow"] = evidence.slow_facts(s.slow, s.client["budget_seconds"])
        facts["urls"] = evidence.url_facts_of(facts, s.at_server, s.at_issuer, s.data)
        facts["resolvers_answered"] = s.resolvers.public_answered_any()
        if facts["resolvers_answered"] is False:  # nothing was reached: nothing to blame
            facts["as"] = {"at": s.at_issuer, "attempted": False}
        facts["elapsed_ms"] = round((time.monotonic() - s.started) * 1000)
        # What was sent as a credential never comes back out in evidence, even echoed.
        return scrub(facts, [*s.credentials.values(), *s.secrets])  # type: ignore[no-any-return]

    # -- the chains -----------------------------------------------------------------------
    def _mcp_chain(self) -> None:
        s = self.session
        if not looks_like_url(s.server_url):
            return
        challenge = first_contact.first_contacts(s)
        if challenge is None:
            # An endpoint that needs no OAuth (open, or static headers): whether its origin
            # still looks like OAuth to the hosted client (MCP110).
            answered = dig(s.facts, "mcp", "post", "outcome") == "answered"
            if s.auth_type == "static-headers" or (s.auth_type == "none" and answered):
                prm.open_server_discovery(s)
            return
        document = prm.discover(s, challenge["resource_metadata"])
        servers = dig(document, "authorization_servers")
        first = servers[0] if isinstance(servers, list) and servers else None
        # With a manifest naming the issuer, its authorization server is the one judged (a
        # PRM naming another is MCP409, not also everything that follows from it); without
        # one (probe), the PRM's is what the client would use.
        if s.issuer is None and looks_like_url(first):
            s.effective_issuer = first
            self._as_chain(first)

    def _as_chain(self, issuer: str) -> None:
        s = self.session
        with s.lock:
            running = self._as_running.get(issuer)
            if running is None:
                self._as_running[issuer] = threading.Event()
        if running is not None:  # the other chain is on it: wait for its result
            running.wait(s.time_left())
            return
        try:
            as_metadata.discover(s, issuer, self._follow_metadata)
        finally:
            self._as_running[issuer].set()

    def _follow_metadata(self, document: dict[str, Any]) -> None:
        """What the client does with the authorization server's metadata: its hosts, the
        opt-in registration, the token endpoint probe."""
        s = self.session
        for field in ("token_endpoint", "registration_endpoint"):
            s.note_url(document.get(field), s.at_issuer)
        client = registration.register(s, document) if s.options.probe_registration else None
        token.refresh(s, document, client)
        registration.delete(s)  # after the token probe, which uses the client

    # -- after the chains -----------------------------------------------------------------
    def _dns_facts(self) -> list[dict[str, Any]]:
        s = self.session
        hosts = dig(s.manifest, "hosts")
        hosts = hosts if isinstance(hosts, dict) else {}
        facts = []
        for host, at in sorted(s.hosts.items()):
            public = s.answer(host, "public")
            if public is None:  # the deadline passed first: nothing to judge
                continue
            system = s.answer(host, "system") if s.resolvers.has_system else None
            entry = hosts.get(host)
            entry_at = pointer("manifest", "hosts", host) if isinstance(entry, dict) else None
            declared = dig(entry, "dns", "addresses")
            facts.append(evidence.dns_fact(
                host, entry_at or at, public, system,
                declared if isinstance(declared, list) else None,
                f"{entry_at}/dns/addresses" if entry_at else None))
        return facts

    def records(self) -> list[dict[str, Any]]:
        """Every request made and what came back, secrets redacted (for --record)."""
        return [e.record(self.session.credentials) for e in self.session.fetcher.exchanges]
