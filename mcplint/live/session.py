"""The state one verification shares between its chains, and the choreography primitives
the probes use: threads, the order requests go out in, the deadline, and where facts are
recorded. No protocol knowledge lives here (that is mcplint/live/probes/); no fact is
shaped here (that is mcplint/live/evidence.py).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from mcplint import __version__
from mcplint.facts import dig, steps
from mcplint.facts.urls import looks_like_url
from mcplint.live import evidence
from mcplint.live.net.dns import Lookup, Resolvers
from mcplint.live.net.http import Exchange, Fetcher
from mcplint.live.options import LiveOptions
from mcplint.live.progress import shared as shared_progress

GRACE = 1.0  # seconds after the deadline for chains to record their last results
DNS_DEFERRAL = 0.25  # seconds the facts-only DNS lookups wait for the first request to go out

T = TypeVar("T")


def spawn(target: Any, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True, name="mcplint-chain")
    thread.start()
    return thread


class InOrder(Generic[T]):
    """Calls made concurrently whose results are taken in a given order: the first call
    leads (it goes out at once), the others once every chain's first request is on the
    wire, so that servers take the requests a chain waits on first."""

    def __init__(self, session: Session, calls: list[Callable[[], T]],
                 leading: int = 1) -> None:
        self.session = session
        self.results: list[T | None] = [None] * len(calls)

        def run(index: int) -> None:
            self.results[index] = calls[index]()

        self.threads = [spawn(run, i) for i in range(min(leading, len(calls)))]
        if len(calls) > leading:
            session.leaders_out.wait(DNS_DEFERRAL)
            self.threads += [spawn(run, i) for i in range(leading, len(calls))]

    def __iter__(self) -> Any:
        """Each result in order, as soon as it is known (None if the deadline came first)."""
        # Each request ends by the deadline; the grace lets it record how it ended. One
        # grace for all calls: a grace per call would add up past the deadline.
        ends = time.monotonic() + self.session.time_left() + GRACE
        for index, thread in enumerate(self.threads):
            thread.join(max(0.0, ends - time.monotonic()))
            yield self.results[index]

    def finish(self) -> list[T | None]:
        """Every result, once every call has ended (or the deadline has passed)."""
        return list(self)


class Session:
    """One verification's shared state: the manifest fields the probes need, the fetcher,
    the facts recorded so far, the hosts met and the requests to time."""

    def __init__(self, manifest: dict[str, Any], declared: dict[str, Any],
                 data: dict[str, Any], options: LiveOptions, profile: str,
                 infer_auth: bool = False, tls: ssl.SSLContext | None = None) -> None:
        self.manifest = manifest
        self.declared = declared
        self.data = data
        self.options = options
        self.profile = profile
        self.client = data["hosted_client"]
        self.started = time.monotonic()
        self.resolvers = Resolvers(options)
        self.fetcher = Fetcher(options, profile, self._ipv4, self.started + options.deadline,
                               self.headers("mcp")["User-Agent"], tls)
        self.server_url: str = dig(manifest, "server", "url")
        auth = dig(manifest, "auth") or {}
        self.auth = auth if isinstance(auth, dict) else {}
        self.auth_type = self.auth.get("type")
        self.oauth = self.auth_type == "oauth"
        issuer = self.auth.get("issuer")
        self.issuer = issuer if self.oauth and looks_like_url(issuer) else None
        self.at_server = "/manifest/server/url"
        self.at_issuer = "/manifest/auth/issuer" if self.issuer else self.at_server
        self.at_registration = ("/manifest/auth/registration"
                                if isinstance(self.auth.get("registration"), list)
                                else self.at_issuer)
        self.infer_auth = infer_auth  # probe: no manifest says whether OAuth is in use
        self.credentials: dict[str, str] = {}  # static headers to send (first_contact sets)
        self.secrets: list[str] = []  # what servers gave mcplint (never shown in evidence)
        self.registered: list[tuple[str, str]] = []  # RFC 7592 (uri, token) to delete
        self.lock = threading.Lock()
        self.closed = False
        self.facts: dict[str, Any] = {"mcp": {}, "prm": {}, "as": {}, "token": {},
                                      "registration": {}, "drift": []}
        self.as_results: dict[str, dict[str, Any]] = {}
        self.effective_issuer: str | None = None
        self.hosts: dict[str, str] = {}  # host -> the manifest field it came from
        self._connect_to_hosts = {host for host, _ in options.connect_to}
        self._dns_deferred: list[str] | None = []
        # Answers to judge against the client's budgets, each with its second timing.
        self.slow: list[tuple[Exchange, Exchange | None]] = []
        self.leaders_out = threading.Event()  # each chain's first request is on the wire

    # -- hosts and DNS ------------------------------------------------------------------
    def _ipv4(self, host: str) -> tuple[list[str], str | None]:
        self.note_host(host, self.at_server)
        return self.resolvers.ipv4(host)

    def note_host(self, host: str, at: str) -> None:
        """A host the connector depends on: resolve it publicly and with the system resolver.
        Hosts reached through --connect-to need DNS only for the facts: their lookups wait
        for the first requests (start_deferred_dns)."""
        with self.lock:
            if host in self.hosts:
                return
            self.hosts[host] = at
            if self._dns_deferred is not None and host in self._connect_to_hosts:
                self._dns_deferred.append(host)
                return
        self._resolve_for_facts(host)

    def _resolve_for_facts(self, host: str) -> None:
        self.resolvers.lookup(host)
        if self.resolvers.has_system:
            self.resolvers.lookup(host, "system")

    def start_deferred_dns(self) -> None:
        """Once the first requests are on the wire (or DNS_DEFERRAL has passed), resolve
        the hosts that needed DNS only for the facts: importing dnspython then overlaps the
        wait for answers instead of slowing the requests down."""
        with self.lock:
            deferred, self._dns_deferred = self._dns_deferred or [], None
        for host in deferred:
            self._resolve_for_facts(host)

    def note_url(self, url: str | None, at: str) -> None:
        if looks_like_url(url):
            host = urlsplit(url).hostname
            if host:
                self.note_host(host.lower(), at)

    def answer(self, host: str, group: str) -> Lookup | None:
        return self.resolvers.lookup(host, group).result(timeout=self.time_left())

    # -- requests and facts -------------------------------------------------------------
    def headers(self, kind: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The headers the hosted client sends on this kind of request (hosted-client.yaml):
        its agent (or --user-agent), Accept and protocol headers, then `extra`."""
        request = self.client["requests"][kind]
        agent = self.options.user_agent or request["user_agent"]["value"].format(
            version=__version__)
        return {"User-Agent": agent, "Accept": request["accept"]["value"],
                **request["headers"]["value"], **(extra or {})}

    def fetch(self, step: str, method: str, url: str, at: str, kind: str, *,
              headers: dict[str, str] | None = None, body: bytes = b"") -> Exchange:
        """One request of a kind hosted-client.yaml describes (`mcp`, `discovery`,
        `registration`, `token`), with that kind's headers plus `headers`."""
        self.note_url(url, at)
        return self._send(step, method, url, at, self.headers(kind, headers), body)

    def _send(self, step: str, method: str, url: str, at: str, headers: dict[str, str],
              body: bytes) -> Exchange:
        """One request, shown on a terminal while it is in flight and when it ends."""
        progress = shared_progress() if self.options.progress else None
        token = progress.begin(f"{steps.label(step)}: {method} {url}") if progress else 0
        exchange = self.fetcher.fetch(step, method, url, at, headers=headers, body=body)
        if progress:
            outcome = exchange.status if exchange.status is not None else exchange.error
            progress.end(token, f"  {method} {url} -> {outcome} ({exchange.elapsed_ms:.0f} ms, "
                                f"{steps.label(step)})")
        return exchange

    def time_again(self, exchange: Exchange) -> Exchange | None:
        """Keep an answer for the hosted client's budgets. One slower than its budget is
        sent again at once, and counts as slow only if it is slow twice (a cold start or a
        hiccup is not the endpoint's speed). The second answer, if there was one."""
        again = None
        if evidence.is_slow(exchange, self.client["budget_seconds"]):
            again = self._send(exchange.step, exchange.method, exchange.url, exchange.at,
                               exchange.request_headers, exchange.request_body)
        with self.lock:
            self.slow.append((exchange, again))
        return again

    def set(self, path: tuple[str, ...], value: Any) -> None:
        """Record a fact, unless the deadline already closed the verification."""
        with self.lock:
            if self.closed:
                return
            target = self.facts
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = value

    def add_drift(self, fact: dict[str, Any] | None) -> None:
        if fact is None:
            return
        with self.lock:
            if not self.closed:
                self.facts["drift"].append(fact)

    def time_left(self) -> float:
        return max(0.0, self.started + self.options.deadline - time.monotonic())

    def in_order(self, calls: list[Callable[[], T]], leading: int = 1) -> InOrder[T]:
        """`calls` concurrently, the first `leading` of them at once (InOrder)."""
        return InOrder(self, calls, leading)

