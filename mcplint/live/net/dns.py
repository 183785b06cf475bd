"""DNS as the hosted client sees it (the public resolvers) and as this machine sees it (the
system resolver, for split-horizon), with dnspython.

Lookups run in daemon threads and are shared: the HTTP side waits for the public answer of
a host before connecting there, DNS facts read both. dnspython itself is imported in the
first lookup's thread, so its import overlaps the first HTTP round trips.
"""

from __future__ import annotations

import threading
from typing import Any

from mcplint.facts.addresses import parse_address
from mcplint.live.options import Endpoint, LiveOptions

LOOKUP_SECONDS = 10.0


# A plain class: its lists must not be shared defaults (a NamedTuple's would be), and they
# must stay lists, which JMESPath treats as arrays and tuples not (README, Development).
class Lookup:
    """One resolver group's answers for one name."""

    def __init__(self, a: list[str] | None = None, aaaa: list[str] | None = None,
                 error: str | None = None, answered: bool = False,
                 resolver: str | None = None) -> None:
        self.a = [] if a is None else a
        self.aaaa = [] if aaaa is None else aaaa
        self.error = error  # NXDOMAIN, SERVFAIL, REFUSED, timeout, no answer...
        self.answered = answered  # some resolver responded (an NXDOMAIN is a response)
        self.resolver = resolver

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "aaaa": self.aaaa, "error": self.error, "answered": self.answered,
                "resolver": self.resolver}


class PendingLookup:
    """A lookup running in its own thread (concurrent.futures would do, at the price of
    importing it and logging, a tenth of a verification's start-up)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Lookup | None = None

    def set_result(self, value: Lookup) -> None:
        self._value = value
        self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, timeout: float | None = None) -> Lookup | None:
        """The answers, waiting at most `timeout` seconds; None if they are not in yet."""
        return self._value if self._done.wait(timeout) else None


def _make_resolver(servers: tuple[Endpoint, ...] | None, timeout: float) -> Any:
    import dns.nameserver
    import dns.resolver

    if servers is None:  # the machine's own configuration (/etc/resolv.conf)
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(s.host, s.port) for s in servers]
    resolver.lifetime = timeout
    resolver.timeout = min(timeout, 3.0)
    return resolver


def _query(resolver: Any, name: str, rdtype: str) -> tuple[list[str], str | None, bool, str | None]:
    """(addresses, error, answered, resolver that answered) for one record type."""
    import dns.exception
    import dns.resolver

    try:
        answer = resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
    except dns.resolver.NXDOMAIN:
        return [], "NXDOMAIN (the name does not exist)", True, None
    except dns.resolver.NoNameservers as error:
        responses = [e for e in error.kwargs.get("errors", []) if len(e) > 4 and e[4] is not None]
        if responses:
            rcode = responses[0][4].rcode()
            import dns.rcode

            return [], dns.rcode.to_text(rcode), True, str(responses[0][0])
        return [], "no resolver answered", False, None
    except dns.exception.Timeout:
        return [], "timeout: no resolver answered", False, None
    except dns.exception.DNSException as error:
        return [], f"lookup failed: {type(error).__name__}", False, None
    addresses = sorted({item.address for item in answer})
    server = str(getattr(answer, "nameserver", "") or "") or None
    return addresses, None, True, server


class Resolvers:
    """The public resolvers and the system resolver of one verification."""

    def __init__(self, options: LiveOptions) -> None:
        self.options = options
        self.timeout = min(options.timeout, LOOKUP_SECONDS, options.deadline)
        self._lookups: dict[tuple[str, str], PendingLookup] = {}
        self._lock = threading.Lock()
        self._resolvers: dict[str, Any] = {}
        self._resolver_lock = threading.Lock()

    def _resolver(self, group: str) -> Any:
        with self._resolver_lock:
            if group not in self._resolvers:
                servers = (self.options.nameservers if group == "public"
                           else (self.options.system_resolver,) if self.options.system_resolver
                           else None)
                self._resolvers[group] = _make_resolver(servers, self.timeout)
            return self._resolvers[group]

    @property
    def has_system(self) -> bool:
        return not self.options.system_resolver_off

    def lookup(self, host: str, group: str = "public") -> PendingLookup:
        """A shared, started lookup of `host` (A and AAAA) in a resolver group."""
        key = (group, host)
        with self._lock:
            future = self._lookups.get(key)
            if future is None:
                future = self._lookups[key] = PendingLookup()
                threading.Thread(target=self._run, args=(host, group, future), daemon=True,
                                 name=f"mcplint-dns-{group}").start()
        return future

    def _run(self, host: str, group: str, future: PendingLookup) -> None:
        try:
            future.set_result(self._resolve(host, group))
        except Exception as error:  # a bug must not hang the verification
            future.set_result(Lookup(error=f"lookup failed: {type(error).__name__}: {error}"))

    def _resolve(self, host: str, group: str) -> Lookup:
        literal = parse_address(host)
        if literal is not None:  # nothing to ask: the URL names the address
            field_name = "a" if literal.version == 4 else "aaaa"
            return Lookup(**{field_name: [str(literal)]}, answered=True, resolver="literal")
        resolver = self._resolver(group)
        a, a_error, a_answered, a_server = _query(resolver, host, "A")
        aaaa, aaaa_error, aaaa_answered, aaaa_server = _query(resolver, host, "AAAA")
        error = None
        if not a and not aaaa:
            error = a_error or aaaa_error or "no answer (no A or AAAA record)"
        return Lookup(a, aaaa, error, a_answered or aaaa_answered, a_server or aaaa_server)

    def ipv4(self, host: str) -> tuple[list[str], str | None]:
        """The public IPv4 answers the HTTP side may connect to (waits for the lookup)."""
        lookup = self.lookup(host).result()
        assert lookup is not None  # no timeout: a lookup always ends (its lifetime is bounded)
        return lookup.a, lookup.error

    def public_answered_any(self) -> bool | None:
        """Whether any public lookup got a response; None when nothing was asked."""
        # A lookup still waiting (the verification's deadline came first) got no answer
        # either: resolvers that never answer must end in "no resolver answered" (exit 3),
        # not in "nothing was asked".
        asked = [f.result(0) for (group, _), f in list(self._lookups.items())
                 if group == "public"]
        real = [lookup for lookup in asked if lookup is None or lookup.resolver != "literal"]
        if not real:
            return None
        return any(lookup is not None and lookup.answered for lookup in real)
