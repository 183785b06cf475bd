"""One live verification: the probes, run as the hosted client would, concurrently where
they do not depend on each other, and the live facts they leave for the policies.

Chains (each a thread): the MCP chain (POST initialize -> challenge -> protected resource
metadata -> the authorization server it names), the authorization server chain for the
issuer the manifest names (metadata -> [registration] -> token probe), the invalid-token
probe, and DNS for every host involved. The wall time approaches the longest chain.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from mcplint import __version__
from mcplint.errors import UsageError
from mcplint.facts import dig, steps
from mcplint.facts.secrets import scrub
from mcplint.facts.urls import as_metadata_urls, canonical, looks_like_url, prm_urls
from mcplint.live import evidence
from mcplint.live.net.dns import Lookup, Resolvers
from mcplint.live.net.http import REDIRECT_STATUSES, Exchange, Fetcher
from mcplint.live.options import LiveOptions
from mcplint.live.progress import shared as shared_progress
from mcplint.load.sourcemap import pointer

PRM_FIELDS = ("resource", "authorization_servers", "scopes_supported", "bearer_methods_supported")
AS_FIELDS = ("issuer", "authorization_endpoint", "token_endpoint", "registration_endpoint",
             "jwks_uri", "revocation_endpoint", "code_challenge_methods_supported",
             "client_id_metadata_document_supported", "token_endpoint_auth_methods_supported",
             "grant_types_supported", "response_types_supported")
OIDC_FIELDS = ("jwks_uri", "subject_types_supported", "id_token_signing_alg_values_supported")
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PROBE_CLIENT = "mcplint-probe"
GRACE = 1.0  # seconds after the deadline for chains to record their last results
DNS_DEFERRAL = 0.25  # seconds the facts-only DNS lookups wait for the first request to go out
_PROBE_REFRESH_TOKEN = "mcplint-probe-invalid-refresh-token"


def _spawn(target: Any, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True, name="mcplint-chain")
    thread.start()
    return thread


class Verification:
    """Probes one manifest's deployment and returns the live facts."""

    def __init__(self, manifest: dict[str, Any], declared: dict[str, Any],
                 data: dict[str, Any], options: LiveOptions, profile: str,
                 infer_auth: bool = False, tls: ssl.SSLContext | None = None) -> None:
        self.manifest = manifest
        self.declared = declared
        self.data = data
        self.options = options
        self.client = data["hosted_client"]
        self.started = time.monotonic()
        self.resolvers = Resolvers(options)
        user_agent = options.user_agent or self.client["user_agent"].format(version=__version__)
        self.fetcher = Fetcher(options, profile, self._ipv4, self.started + options.deadline,
                               user_agent, tls)
        self.server_url: str = dig(manifest, "server", "url")
        auth = dig(manifest, "auth") or {}
        self.auth_type = auth.get("type") if isinstance(auth, dict) else None
        self.oauth = self.auth_type == "oauth"
        issuer = auth.get("issuer") if isinstance(auth, dict) else None
        self.issuer = issuer if self.oauth and looks_like_url(issuer) else None
        self.at_server = "/manifest/server/url"
        self.at_issuer = "/manifest/auth/issuer" if self.issuer else self.at_server
        self.at_registration = ("/manifest/auth/registration"
                                if isinstance(auth.get("registration"), list) else self.at_issuer)
        self.credentials = self._credentials(auth)
        self.infer_auth = infer_auth  # probe: no manifest says whether OAuth is in use
        self._lock = threading.Lock()
        self._closed = False
        self.facts: dict[str, Any] = {"mcp": {}, "prm": {}, "as": {}, "token": {},
                                      "registration": {}, "drift": []}
        self._as_results: dict[str, dict[str, Any]] = {}
        self._as_running: dict[str, threading.Event] = {}
        self.effective_issuer: str | None = None
        self._hosts: dict[str, str] = {}  # host -> the manifest field it came from
        self._connect_to_hosts = {host for host, _ in options.connect_to}
        self._dns_deferred: list[str] | None = []
        self._slow: list[Exchange] = []
        self._leaders_out = threading.Event()  # each chain's first request is on the wire

    # -- plumbing ----------------------------------------------------------------------
    def _credentials(self, auth: dict[str, Any]) -> dict[str, str]:
        """Static headers to send: only with --send-credentials, values from the environment
        variables --credential-env names (a manifest in a pull request must not pick any
        variable of the CI job and have it sent to a URL of its choosing)."""
        headers = auth.get("headers") if isinstance(auth, dict) else None
        if self.auth_type != "static-headers" or not self.options.send_credentials:
            return {}
        allowed = set(self.options.credential_env)
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

    def _ipv4(self, host: str) -> tuple[list[str], str | None]:
        self._note_host(host, self.at_server)
        return self.resolvers.ipv4(host)

    def _note_host(self, host: str, at: str) -> None:
        """A host the connector depends on: resolve it publicly and with the system resolver.
        Hosts reached through --connect-to need DNS only for the facts: their lookups wait
        for the first requests (_start_deferred_dns)."""
        with self._lock:
            if host in self._hosts:
                return
            self._hosts[host] = at
            if self._dns_deferred is not None and host in self._connect_to_hosts:
                self._dns_deferred.append(host)
                return
        self._resolve_for_facts(host)

    def _resolve_for_facts(self, host: str) -> None:
        self.resolvers.lookup(host)
        if self.resolvers.has_system:
            self.resolvers.lookup(host, "system")

    def _start_deferred_dns(self) -> None:
        """Once the first requests are on the wire (or DNS_DEFERRAL has passed), resolve
        the hosts that needed DNS only for the facts: importing dnspython then overlaps the
        wait for answers instead of slowing the requests down."""
        with self._lock:
            deferred, self._dns_deferred = self._dns_deferred or [], None
        for host in deferred:
            self._resolve_for_facts(host)

    def _note_url(self, url: str | None, at: str) -> None:
        if looks_like_url(url):
            host = urlsplit(url).hostname
            if host:
                self._note_host(host.lower(), at)

    def _set(self, path: tuple[str, ...], value: Any) -> None:
        """Record a fact, unless the deadline already closed the verification."""
        with self._lock:
            if self._closed:
                return
            target = self.facts
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = value

    def _drift(self, name: str, fields: list[str], url: str) -> None:
        if not fields:
            return
        at = f"/manifest/auth/{name}"
        with self._lock:
            if not self._closed:
                self.facts["drift"].append({"at": at, "document": name, "fields": fields,
                                            "evidence": {"url": url}})

    def _fetch(self, step: str, method: str, url: str, at: str, **kwargs: Any) -> Exchange:
        self._note_url(url, at)
        progress = shared_progress() if self.options.progress else None
        token = progress.begin(f"{steps.label(step)}: {method} {url}") if progress else 0
        exchange = self.fetcher.fetch(step, method, url, at, **kwargs)
        if progress:
            outcome = exchange.status if exchange.status is not None else exchange.error
            progress.end(token, f"  {method} {url} -> {outcome} ({exchange.elapsed_ms:.0f} ms, "
                                f"{steps.label(step)})")
        return exchange

    # -- the run -------------------------------------------------------------------------
    def run(self, on_way: Callable[[], None] | None = None) -> dict[str, Any]:
        """The live facts. `on_way` is called once the first requests are on the wire (or
        have failed): what else the caller has to do can then run without slowing them."""
        self._note_url(self.server_url, self.at_server)
        if self.issuer:
            self._note_url(self.issuer, self.at_issuer)
        for field in ("token_endpoint", "registration_endpoint"):
            self._note_url(dig(self.declared, "authorization_server_metadata", field),
                           self.at_issuer)
        # The first request of each chain goes out first; the requests nothing waits on (the
        # invalid-token probe, the other metadata candidates) once those are on the wire, so
        # that the servers take them after the ones the chains wait on.
        posts = 1 if looks_like_url(self.server_url) else 0  # else the MCP chains send nothing
        candidates = len(as_metadata_urls(self.issuer)) if self.issuer else 0
        chains = [_spawn(self._mcp_chain)]
        if self.issuer:
            chains.append(_spawn(self._as_chain, self.issuer))
        self.fetcher.wait_settled(posts + min(candidates, 1), DNS_DEFERRAL)
        self._leaders_out.set()
        if self.oauth:
            chains.append(_spawn(self._invalid_token_probe))
        self.fetcher.wait_settled(posts * (1 + int(self.oauth)) + candidates, DNS_DEFERRAL)
        if on_way is not None:
            on_way()
        self._start_deferred_dns()
        # Requests stop at the deadline; the grace lets a chain record what its last request
        # saw ("no answer before the deadline") before the facts are taken.
        # One grace for all chains: a grace per chain would add up past the deadline.
        ends = time.monotonic() + self._time_left() + GRACE
        for chain in chains:
            chain.join(max(0.0, ends - time.monotonic()))
        with self._lock:
            self._closed = True
            facts = json.loads(json.dumps(self.facts))  # a snapshot late threads cannot touch
        live = self._assemble(facts)
        self.fetcher.close()
        return live

    def _assemble(self, facts: dict[str, Any]) -> dict[str, Any]:
        signatures = self.data["edge_signatures"]
        exchanges = list(self.fetcher.exchanges)
        issuer = self.effective_issuer or self.issuer
        facts["as"] = self._as_results.get(issuer or "", {"at": self.at_issuer,
                                                          "attempted": False})
        facts["requests"] = evidence.request_facts(exchanges, signatures)
        facts["connections"] = self._connections(exchanges)
        facts["dns"] = self._dns_facts()
        facts["slow"] = [self._slow_fact(e) for e in self._slow if self._is_slow(e)]
        facts["urls"] = self._urls(facts)
        facts["resolvers_answered"] = self.resolvers.public_answered_any()
        if facts["resolvers_answered"] is False:  # nothing was reached: nothing to blame
            facts["as"] = {"at": self.at_issuer, "attempted": False}
        facts["elapsed_ms"] = round((time.monotonic() - self.started) * 1000)
        # What was sent as a credential never comes back out in evidence, even echoed.
        return scrub(facts, self.credentials.values())  # type: ignore[no-any-return]

    # -- the MCP chain --------------------------------------------------------------------
    def _mcp_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json",
                "Accept": "application/json, text/event-stream", **self.credentials}

    def _initialize(self) -> bytes:
        return json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": self.client["protocol_version"], "capabilities": {},
                       "clientInfo": {"name": "mcplint", "version": __version__}},
        }).encode()

    def _mcp_chain(self) -> None:
        if not looks_like_url(self.server_url):
            return
        post = self._fetch("mcp-post", "POST", self.server_url, self.at_server,
                           headers=self._mcp_headers(), body=self._initialize())
        if self.infer_auth and post.answered and post.status != 401:
            self.auth_type, self.oauth = "none", False  # an open server, as far as we can tell
        expects_mcp = self.auth_type == "none" or bool(self.credentials)
        fact = evidence.mcp_post(post, expects_mcp, self.data["edge_signatures"])
        self._set(("mcp", "post"), fact)
        if not self.oauth or fact["outcome"] != "answered" or post.status != 401:
            return
        challenge = evidence.challenge(post)
        self._set(("mcp", "challenge"), challenge)
        document = self._discover_prm(challenge["resource_metadata"])
        servers = dig(document, "authorization_servers")
        first = servers[0] if isinstance(servers, list) and servers else None
        # With a manifest naming the issuer, its authorization server is the one judged (a
        # PRM naming another is MCP409, not also everything that follows from it); without
        # one (probe), the PRM's is what the client would use.
        if self.issuer is None and looks_like_url(first):
            self.effective_issuer = first
            self._as_chain(first)

    def _invalid_token_probe(self) -> None:
        if not looks_like_url(self.server_url):
            return
        headers = {**self._mcp_headers(), "Authorization": "Bearer mcplint.invalid.token"}
        exchange = self._fetch("invalid-token", "POST", self.server_url, self.at_server,
                               headers=headers, body=self._initialize())
        if exchange.answered:
            self._set(("mcp", "invalid_token"), evidence.invalid_token(exchange))

    def _discover_prm(self, hint: str | None) -> dict[str, Any] | None:
        """Protected resource metadata in the clients' order: the challenge's URL, then the
        path-inserted and the root well-known URLs. A 200 ends the search (even with a bad
        document: that is what the client got); anything else moves on."""
        candidates = [hint] if looks_like_url(hint) else []
        candidates += [u for u in prm_urls(self.server_url) if u not in candidates]
        attempts, found = [], None
        for url in candidates:
            exchange = self._fetch("prm", "GET", url, self.at_server,
                                   headers={"Accept": "application/json"})
            attempt = evidence.document_fetch(exchange)
            attempts.append(attempt)
            if exchange.status == 200:
                found = (exchange, attempt)
                break
        fact: dict[str, Any] = {"at": self.at_server, "attempted": True, "found": bool(found),
                                "attempts": [{k: a[k] for k in ("url", "status", "error")}
                                             for a in attempts]}
        if found:
            exchange, attempt = found
            self._slow.append(exchange)
            fact.update(attempt)
            fact["evidence"] = exchange.evidence(field=attempt["json_error"])
            self._drift("resource_metadata", evidence.drift(
                self.declared.get("resource_metadata"), attempt.get("document"), PRM_FIELDS),
                exchange.url)
        else:
            last = attempts[-1] if attempts else {}
            fact["evidence"] = {"url": ", ".join(a["url"] for a in attempts),
                                "status": last.get("status"), "error": last.get("error")}
        self._set(("prm",), fact)
        return fact.get("document")

    # -- the authorization server chain ---------------------------------------------------
    def _as_chain(self, issuer: str) -> None:
        with self._lock:
            running = self._as_running.get(issuer)
            if running is None:
                self._as_running[issuer] = threading.Event()
        if running is not None:  # the other chain is on it: wait for its result
            running.wait(self._time_left())
            return
        try:
            self._discover_as(issuer)
        finally:
            self._as_running[issuer].set()

    def _discover_as(self, issuer: str) -> None:
        urls = as_metadata_urls(issuer)
        # (exchange, what it fetched) per candidate, in the spec's order
        results: list[tuple[Exchange, dict[str, Any]] | None] = [None] * len(urls)

        def fetch(index: int, url: str) -> None:
            exchange = self._fetch("as-metadata", "GET", url, self.at_issuer,
                                   headers={"Accept": "application/json"})
            results[index] = (exchange, evidence.document_fetch(exchange))

        # Every candidate, the first one leading (run). The client takes the first document
        # in the spec's order: the chain goes on as soon as that one is known, and the other
        # candidates' answers only complete the facts.
        threads = [_spawn(fetch, 0, urls[0])]
        self._leaders_out.wait(DNS_DEFERRAL)
        threads += [_spawn(fetch, i, u) for i, u in enumerate(urls) if i]
        found = None
        for index, thread in enumerate(threads):
            thread.join(self._time_left())
            result = results[index]
            if result is not None and result[1]["object_ok"]:
                found = result
                break
        if found is not None:
            self._follow_metadata(found[1]["document"])
        for thread in threads:
            thread.join(self._time_left())
        attempts = [attempt for _, attempt in filter(None, results)]
        fact: dict[str, Any] = {
            "at": self.at_issuer, "issuer": issuer, "attempted": True, "found": bool(found),
            "attempts": [{k: a[k] for k in ("url", "status", "error")} for a in attempts],
            "oauth_found": any(a["object_ok"] and "oauth-authorization-server" in a["url"]
                               for a in attempts),
            "openid_documents": [
                {"url": a["url"], "at": self.at_issuer,
                 "missing": [f for f in OIDC_FIELDS if f not in a["document"]],
                 "evidence": {"url": a["url"], "status": a["status"]}}
                for a in attempts if a["object_ok"] and "openid-configuration" in a["url"]],
        }
        if found is None:
            fact["evidence"] = {"url": ", ".join(urls),
                                "status": ", ".join(str(a["status"] or a["error"]) for a in attempts)}
            self._as_results[issuer] = fact
            return
        exchange, attempt = found
        document = attempt["document"]
        self._slow.append(exchange)
        fact.update(url=exchange.url, document=document,
                    served_as=("oauth-authorization-server"
                               if "oauth-authorization-server" in exchange.url
                               else "openid-configuration"),
                    evidence=exchange.evidence())
        self._as_results[issuer] = fact
        self._drift("authorization_server_metadata", evidence.drift(
            self.declared.get("authorization_server_metadata"), document, AS_FIELDS), exchange.url)

    def _follow_metadata(self, document: dict[str, Any]) -> None:
        """What the client does with the authorization server's metadata: its hosts, the
        opt-in registration, the token endpoint probe."""
        for field in ("token_endpoint", "registration_endpoint"):
            self._note_url(document.get(field), self.at_issuer)
        client = self._register(document) if self.options.probe_registration else None
        self._token_probe(document, client)

    def _time_left(self) -> float:
        return max(0.0, self.started + self.options.deadline - time.monotonic())

    def _register(self, document: dict[str, Any]) -> str | None:
        """Opt-in: a DCR registration like Claude's (it creates a client on the server)."""
        url = document.get("registration_endpoint")
        if not looks_like_url(url):
            return None
        body = json.dumps({
            "client_name": "mcplint probe (safe to delete)",
            "redirect_uris": self.data["callbacks"]["hosted"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"], "token_endpoint_auth_method": "none",
        }).encode()
        exchange = self._fetch("registration", "POST", url, self.at_registration,
                               headers={"Content-Type": "application/json",
                                        "Accept": "application/json"}, body=body)
        self._slow.append(exchange)
        answer, error = exchange.json() if exchange.answered else (None, None)
        client_id = answer.get("client_id") if isinstance(answer, dict) else None
        redirect = exchange.status in REDIRECT_STATUSES
        ok = exchange.status in (200, 201) and isinstance(client_id, str) and bool(client_id)
        self._set(("registration",), {
            "at": self.at_registration, "attempted": True, "answered": exchange.answered,
            "status": exchange.status, "ok": ok, "redirect": redirect,
            "client_id": client_id, "json_error": error,
            "evidence": exchange.evidence(
                header=f"location: {exchange.header('location')}" if redirect else None,
                field=(f"error: {answer.get('error')}" if isinstance(answer, dict)
                       and answer.get("error") else error))})
        return client_id if ok else None

    def _token_probe(self, document: dict[str, Any], registered: str | None) -> None:
        """A refresh with an invalid token, form-encoded, carrying the canonical resource:
        judged for its media type (MCP602), its error code (MCP603) and the resource (MCP606)."""
        url = document.get("token_endpoint")
        if not looks_like_url(url):
            return
        preregistered = dig(self.manifest, "auth", "client", "client_id")
        if registered:
            client_id, kind = registered, "registered"
        elif isinstance(preregistered, str) and preregistered:
            client_id, kind = preregistered, "preregistered"
        else:
            client_id, kind = _PROBE_CLIENT, "made-up"
        form = {"grant_type": "refresh_token", "refresh_token": _PROBE_REFRESH_TOKEN,
                "client_id": client_id, "resource": canonical(self.server_url) or self.server_url}
        exchange = self._fetch("token-refresh", "POST", url, self.at_issuer,
                               headers={"Content-Type": "application/x-www-form-urlencoded",
                                        "Accept": "application/json"},
                               body=urlencode(form).encode())
        self._slow.append(exchange)
        answer, error = exchange.json() if exchange.answered else (None, None)
        code = answer.get("error") if isinstance(answer, dict) else None
        self._set(("token",), {
            "at": self.at_issuer, "attempted": True, "answered": exchange.answered,
            "url": url, "status": exchange.status, "content_type": exchange.content_type or None,
            "json_ok": isinstance(answer, dict), "error_code": code, "client": kind,
            "registration_asked": bool(self.options.probe_registration),
            "evidence": exchange.evidence(field=f"error: {code}" if code else error)})

    # -- after the chains -----------------------------------------------------------------
    def _is_slow(self, exchange: Exchange) -> bool:
        budgets = self.client["budget_seconds"]
        # The token probe is a refresh, but the endpoint also serves the code exchange,
        # whose budget is the tighter one: a slow probe means a slow login.
        budget = budgets["token"] if exchange.step == "token-refresh" else (
            budgets["registration"] if exchange.step == "registration" else budgets["discovery"])
        return exchange.answered and exchange.elapsed_ms > budget * 1000

    def _slow_fact(self, exchange: Exchange) -> dict[str, Any]:
        return {"at": exchange.at, "url": exchange.url, "step": exchange.step,
                "seconds": round(exchange.elapsed_ms / 1000, 1), "evidence": exchange.evidence()}

    def _connections(self, exchanges: list[Exchange]) -> list[dict[str, Any]]:
        first: dict[str, Exchange] = {}
        for exchange in exchanges:
            first.setdefault(exchange.host, exchange)
        facts = []
        for host, exchange in first.items():
            fact = evidence.connection_fact(host, exchange.at, exchange)
            if fact is not None:
                facts.append(fact)
        # A host that answered its first request may still fail a later one at the transport
        # (a token endpoint that resets, drips, speaks HTTP/0.9 or sends 1xx forever): the
        # client's login fails there, so that is the host's outcome too (once per host).
        failed_later: set[str] = set()
        for exchange in exchanges:
            if (exchange.host in failed_later or exchange is first[exchange.host]
                    or not first[exchange.host].answered
                    or exchange.error not in evidence.TRANSPORT_ERRORS):
                continue
            fact = evidence.connection_fact(exchange.host, exchange.at, exchange)
            if fact is not None:
                failed_later.add(exchange.host)
                fact["detail"] = f"{exchange.method} {exchange.url} failed: {exchange.detail}"
                facts.append(fact)
        return facts

    def _dns_facts(self) -> list[dict[str, Any]]:
        hosts = dig(self.manifest, "hosts")
        hosts = hosts if isinstance(hosts, dict) else {}
        facts = []
        for host, at in sorted(self._hosts.items()):
            public = self._answer(host, "public")
            if public is None:  # the deadline passed first: nothing to judge
                continue
            system = self._answer(host, "system") if self.resolvers.has_system else None
            entry = hosts.get(host)
            entry_at = pointer("manifest", "hosts", host) if isinstance(entry, dict) else None
            declared = dig(entry, "dns", "addresses")
            facts.append(evidence.dns_fact(
                host, entry_at or at, public, system,
                declared if isinstance(declared, list) else None,
                f"{entry_at}/dns/addresses" if entry_at else None))
        return facts

    def _answer(self, host: str, group: str) -> Lookup | None:
        return self.resolvers.lookup(host, group).result(timeout=self._time_left())

    def _urls(self, facts: dict[str, Any]) -> list[dict[str, Any]]:
        urls = []
        hint = dig(facts, "mcp", "challenge", "resource_metadata")
        if looks_like_url(hint):
            urls += evidence.document_urls({"resource_metadata": hint}, "prm", self.at_server,
                                           self.data)
        prm = dig(facts, "prm", "document")
        if isinstance(prm, dict):
            urls += evidence.document_urls(prm, "prm", self.at_server, self.data)
        as_document = dig(facts, "as", "document")
        if isinstance(as_document, dict):
            urls += evidence.document_urls(as_document, "as", self.at_issuer, self.data)
        return urls

    def records(self) -> list[dict[str, Any]]:
        """Every request made and what came back, secrets redacted (for --record)."""
        return [e.record(self.credentials) for e in self.fetcher.exchanges]
