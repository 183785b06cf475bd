"""HTTP as the hosted client does it, and safely: resolve, check, connect only to an
address that passed, keep Host/SNI/certificate checks on the name, never follow
redirects, cap every body and every wait.

HTTP/1.1 is spoken with h11 over sockets this module opens itself: a connection is pinned
to the address that passed the checks, TLS verifies the certificate for the name, and
every connect, handshake and read is bounded by the request's own end (its timeout, or the
verification's deadline, whichever comes first), so a server dripping one byte a second
cannot hold a request past it. A full client library would add nothing the probes use
(no redirects, no proxies, no pooling across names) and costs most of a verification's
own time to import; h11 is the HTTP/1.1 engine such libraries are built on.
"""

from __future__ import annotations

import glob
import ipaddress
import json
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import h11

from mcplint.facts.addresses import (
    classify_address,
    is_loopback_address,
    is_loopback_host,
    parse_address,
)
from mcplint.facts.secrets import (
    redact_header,
    redact_json,
    redact_text,
    redact_url,
    scrub,
)
from mcplint.live.options import LiveOptions
from mcplint.load.limits import MAX_DEPTH

BODY_LIMIT = 1024 * 1024
RECORD_BODY_LIMIT = 64 * 1024
NOT_REPEATABLE = {"registration"}  # steps that create something: never sent twice
# Statuses that send the client elsewhere with `Location` (mcplint never follows them).
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class Target(NamedTuple):
    """Where a request goes, or why it does not go anywhere."""

    address: str | None = None
    port: int = 443
    error: str | None = None  # dns, not-public
    detail: str | None = None
    explicit: bool = False  # chosen by --connect-to


# A plain class: filled in as the request goes, and a dataclass would cost more at start-up
# than Target's NamedTuple for no comparison anyone makes (README, Development).
class Exchange:
    """One request and what came back: the evidence behind live facts."""

    def __init__(self, id: str, step: str, method: str, url: str, host: str, at: str,
                 request_headers: dict[str, str] | None = None, request_body: bytes = b"",
                 status: int | None = None, headers: list[tuple[str, str]] | None = None,
                 body: bytes = b"", truncated: bool = False, elapsed_ms: float = 0.0,
                 started_ms: float = 0.0, error: str | None = None, detail: str | None = None,
                 connected_to: str | None = None) -> None:
        self.id = id
        self.step = step
        self.method = method
        self.url = url
        self.host = host
        self.at = at  # the manifest field findings about this request are located at
        self.request_headers = {} if request_headers is None else request_headers
        self.request_body = request_body
        self.status = status
        self.headers = [] if headers is None else headers  # lower-case names
        self.body = body
        self.truncated = truncated
        self.elapsed_ms = elapsed_ms
        self.started_ms = started_ms  # since the verification started: the timeline of the run
        self.error = error  # dns, not-public, refused, timeout, reset, tls, protocol, deadline
        self.detail = detail
        self.connected_to = connected_to

    @property
    def answered(self) -> bool:
        return self.status is not None and self.error is None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> tuple[Any, str | None]:
        """(the body as JSON, None) or (None, why it is not JSON)."""
        if self.truncated:
            return None, f"the body is larger than {BODY_LIMIT // 1024} KiB"
        try:
            value = json.loads(self.body.decode("utf-8"), parse_constant=_not_json)
        except RecursionError:
            return None, "the JSON is nested too deeply to read"
        except _NotJson as error:
            return None, f"not valid JSON ({error} is not a JSON value)"
        except (UnicodeDecodeError, ValueError) as error:
            return None, f"not valid JSON ({str(error).split(':')[0]})"
        if _too_deep(value):  # what Python reads can still overflow every later recursion
            return None, f"the JSON is nested deeper than {MAX_DEPTH} levels"
        if _SURROGATE_ESCAPE.search(self.body):
            value = _without_lone_surrogates(value)
        return value, None

    def text(self, limit: int = 300) -> str:
        return self.body[:limit].decode("utf-8", "replace")

    def evidence(self, **extra: Any) -> dict[str, Any]:
        evidence = {"method": self.method, "url": redact_url(self.url), "status": self.status}
        if self.error:
            evidence["error"] = f"{self.error}: {self.detail}" if self.detail else self.error
        evidence["elapsed_ms"] = round(self.elapsed_ms)
        evidence.update({k: redact_text(v) if k == "header" and isinstance(v, str) else v
                         for k, v in extra.items() if v is not None})
        return evidence

    def summary(self) -> dict[str, Any]:
        """The request as the markdown diagram and reports show it."""
        return {"id": self.id, "step": self.step, "method": self.method, "url": self.url,
                "host": self.host, "status": self.status, "error": self.error,
                "started_ms": round(self.started_ms, 1), "elapsed_ms": round(self.elapsed_ms, 1),
                "at": self.at}

    def record(self, credentials: dict[str, str] | None = None) -> dict[str, Any]:
        """Everything sent and received, for --record, with secrets redacted by rule
        (mcplint/facts/secrets.py): credential-like headers and JSON or form members, every
        header sent from auth.headers (`credentials`), and their values wherever they recur."""
        credentials = credentials or {}
        body, error = self.json()
        response_body: Any = (redact_json(body) if error is None else redact_text(
            self.body[:RECORD_BODY_LIMIT].decode("utf-8", "replace")))
        record = {
            **self.summary(),
            "url": redact_url(self.url),
            "connected_to": self.connected_to,
            "detail": self.detail,
            "request": {"headers": _redact_headers(self.request_headers.items(), credentials),
                        "body": _redact_body(self.request_body)},
            "response": None if self.status is None else {
                "status": self.status, "headers": _redact_headers(self.headers, credentials),
                "body": response_body, "truncated": self.truncated},
        }
        return scrub(record, credentials.values())  # type: ignore[no-any-return]


class _NotJson(ValueError):
    pass


def _not_json(name: str) -> Any:
    """NaN, Infinity, -Infinity: Python reads them, JSON has none, and --record would then
    write a file no JSON reader accepts."""
    raise _NotJson(name)


def _too_deep(value: Any) -> bool:
    """Whether containers nest deeper than MAX_DEPTH (the manifest loader's limit); iterative,
    so that the check cannot overflow the stack itself."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, (dict, list)))
    return False


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """JSON may escape half a UTF-16 pair (`"\\ud800"`); Python keeps it as a lone surrogate,
    which no UTF-8 output can encode. Such halves become U+FFFD (a valid pair was already
    joined by the parser)."""
    def fix(item: Any) -> Any:
        return _LONE_SURROGATE.sub("\ufffd", item) if isinstance(item, str) else item

    root = [value]
    stack: list[Any] = [root]
    while stack:
        container = stack.pop()
        if isinstance(container, list):
            container[:] = [fix(item) for item in container]
            children = container
        else:
            items = [(fix(key), fix(item)) for key, item in container.items()]
            container.clear()
            container.update(items)
            children = list(container.values())
        stack.extend(child for child in children if isinstance(child, (dict, list)))
    return root[0]


def _redact_headers(headers: Any, credentials: dict[str, str]) -> list[list[str]]:
    sent = {name.lower() for name in credentials}
    redacted = []
    for name, value in headers:
        value = redact_header(name, value, always=name.lower() in sent)
        if name.lower() == "location":  # a redirect may carry ?code= or ?access_token=
            value = redact_url(value)
        redacted.append([name, value])
    return redacted


def _redact_body(body: bytes) -> Any:
    text = body.decode("utf-8", "replace")
    try:
        return json.dumps(redact_json(json.loads(text)))
    except (ValueError, RecursionError):
        pass
    if "=" in text and "{" not in text:  # a form
        from urllib.parse import parse_qsl, urlencode

        from mcplint.facts.secrets import REDACTED, secret_member

        pairs = [(k, REDACTED if secret_member(k) else v)
                 for k, v in parse_qsl(text, keep_blank_values=True)]
        return urlencode(pairs, safe="<>")
    return redact_text(text)


def ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Verification against the system's CAs (plus --ca-bundle), TLS 1.2 at least."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # hostname and chain checks on
    paths = ssl.get_default_verify_paths()
    if paths.capath and glob.glob(os.path.join(paths.capath, "*.0")):
        # A hashed CA directory is read per issuer, on demand: loading the whole bundle up
        # front costs ~30 ms of every verification's start-up.
        context.load_verify_locations(capath=paths.capath)
    else:
        context.load_default_certs()
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # older TLS is a finding (MCP309)
    if ca_bundle is not None:
        context.load_verify_locations(cafile=str(ca_bundle))
    return context


class _Timeout(Exception):
    """The request's end came before its answer did."""


class _ClosedBeforeAnswer(Exception):
    """The server closed the connection without a byte of answer."""


def classify(error: BaseException) -> tuple[str, str]:
    """(error class, one-line detail) of a failed request."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return "tls", f"certificate verification failed: {error.verify_message}"
    if isinstance(error, (_Timeout, TimeoutError)):  # TimeoutError is socket.timeout
        return "timeout", "no complete answer in time"
    if isinstance(error, ssl.SSLError) and not isinstance(error, ssl.SSLEOFError):
        reason = getattr(error, "reason", None) or str(error)
        return "tls", f"TLS handshake failed: {reason}"
    if isinstance(error, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(error, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError,
                          ssl.SSLEOFError)):
        return "reset", "connection reset by the server"
    if isinstance(error, _ClosedBeforeAnswer):
        return "reset", "the server closed the connection without answering"
    if isinstance(error, h11.RemoteProtocolError):
        message = str(error)
        return ("reset" if "closed" in message.lower() else "protocol"), message
    if isinstance(error, h11.LocalProtocolError):  # e.g. a header value mcplint was given
        return "protocol", f"the request could not be sent: {error}"
    if isinstance(error, OSError):  # unreachable network or host, refused by a firewall
        return "refused", f"could not connect: {error.strerror or error}"
    return "protocol", f"{type(error).__name__}: {error}"


def _left(ends_at: float) -> float:
    """Seconds left until `ends_at`, for the next blocking socket call."""
    left = ends_at - time.monotonic()
    if left <= 0:
        raise _Timeout()
    return left


class _Connection:
    """One HTTP/1.1 connection, pinned to an address, for one host name."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.protocol = h11.Connection(h11.CLIENT, max_incomplete_event_size=64 * 1024)
        self.reused = False  # it carried an earlier request

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Fetcher:
    """Makes the live requests of one verification and keeps every exchange."""

    def __init__(self, options: LiveOptions, profile: str,
                 resolve: Callable[[str], tuple[list[str], str | None]],
                 deadline_at: float, user_agent: str,
                 context: ssl.SSLContext | None = None) -> None:
        self.options = options
        self.profile = profile
        self.resolve = resolve  # host -> (IPv4 answers, error)
        self.deadline_at = deadline_at
        self.started_at = deadline_at - options.deadline
        self.user_agent = user_agent
        self.context = context or ssl_context(options.ca_bundle)
        self.exchanges: list[Exchange] = []
        self._settled: set[str] = set()  # ids of requests sent, or failed before they could be
        self._settled_changed = threading.Condition()
        # Kept-alive connections by (name, port, address): a connection pinned for one
        # name is never used for another, even on the same address (SNI and Host differ).
        self._idle: dict[tuple[str, int, str], list[_Connection]] = {}
        self._lock = threading.Lock()

    def _refused(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        """Why mcplint does not connect to `address`, or None. Only global addresses, and
        loopback when the operator typed --profile local: never what a manifest, a config
        or a server says (options.loopback comes from the command line alone)."""
        if self.options.loopback and is_loopback_address(address):
            return None
        kind = classify_address(address)
        if kind != "global":
            return f"a {kind} address"
        return None

    def target(self, host: str, port: int) -> Target:
        explicit = self.options.connect_to.get((host, port))
        if explicit is not None:  # the operator's choice
            return Target(explicit.host, explicit.port, explicit=True)
        literal = parse_address(host)
        if literal is not None:
            refused = self._refused(literal)
            if refused is not None:
                return Target(error="not-public", detail=f"{host} is {refused}; the hosted "
                              "client does not connect there (and neither does mcplint)")
            if literal.version == 6 and self.profile == "claude-ai" and not literal.is_loopback:
                return Target(error="not-public", detail=f"{host} is an IPv6 address; the "
                              "hosted client connects over IPv4 only (and so does mcplint "
                              "under the claude-ai profile)")
            return Target(str(literal), port)
        if self.options.loopback and is_loopback_host(host):  # RFC 6761: never asked of DNS
            return Target("127.0.0.1", port)
        answers, error = self.resolve(host)
        if error is not None or not answers:
            return Target(error="dns", detail=error or f"{host} has no IPv4 address")
        bad = [a for a in answers if self._refused(ipaddress.ip_address(a)) is not None]
        if bad:
            return Target(error="not-public", detail=f"{host} resolves to non-public "
                          f"{', '.join(bad)}; the hosted client does not connect there")
        return Target(answers[0], port)

    def fetch(self, step: str, method: str, url: str, at: str, *,
              headers: dict[str, str] | None = None, body: bytes = b"") -> Exchange:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        request_headers = {"User-Agent": self.user_agent, "Accept-Encoding": "identity",
                           **(headers or {})}
        exchange = Exchange(id="", step=step, method=method, url=url, host=host, at=at,
                            request_headers=request_headers, request_body=body,
                            started_ms=(time.monotonic() - self.started_at) * 1000)
        with self._lock:
            self.exchanges.append(exchange)
            exchange.id = str(len(self.exchanges))
        try:
            return self._fetch(exchange, parts, scheme, port)
        finally:
            self._settle(exchange)

    def _settle(self, exchange: Exchange) -> None:
        """Count the request as out of the way: sent, or failed before it could be."""
        with self._settled_changed:
            if exchange.id not in self._settled:
                self._settled.add(exchange.id)
                self._settled_changed.notify_all()

    def wait_settled(self, count: int, timeout: float) -> None:
        """Wait (at most `timeout`) until `count` requests are sent or have failed."""
        with self._settled_changed:
            self._settled_changed.wait_for(lambda: len(self._settled) >= count, timeout)

    def _fetch(self, exchange: Exchange, parts: Any, scheme: str, port: int) -> Exchange:
        started = time.monotonic()
        remaining = self.deadline_at - started
        if remaining <= 0:
            exchange.error, exchange.detail = "deadline", "the verification's deadline passed"
            return exchange
        target = self.target(exchange.host, port)
        if target.error is not None:
            exchange.error, exchange.detail = target.error, target.detail
            return exchange
        exchange.connected_to = f"{target.address}:{target.port}"
        wait = min(self.options.timeout, remaining)
        try:
            self._send(exchange, target, scheme == "https", parts, started + wait)
        except Exception as error:  # every failure is evidence, never a crash
            exchange.error, exchange.detail = classify(error)
            if exchange.error == "timeout":
                exchange.detail = (
                    f"no complete answer within {wait:.0f} s" if wait >= self.options.timeout
                    else f"no complete answer before the verification's deadline "
                         f"({self.options.deadline:.0f} s)")
        exchange.elapsed_ms = (time.monotonic() - started) * 1000
        return exchange

    def _send(self, exchange: Exchange, target: Target, tls: bool, parts: Any,
              ends_at: float) -> None:
        default = 443 if tls else 80
        host_header = parts.hostname if (parts.port or default) == default else parts.netloc
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = [("Host", host_header or ""), *exchange.request_headers.items()]
        if exchange.request_body:
            headers.append(("Content-Length", str(len(exchange.request_body))))
        request = h11.Request(method=exchange.method, target=path, headers=headers)
        key = (exchange.host, target.port, target.address or "")
        # A server may close a kept-alive connection just as a request goes out on it (nginx
        # does after answering without reading a request's body): like browsers, send a
        # request that changes nothing once more, on a new connection, when a reused one
        # broke before any answer.
        while True:
            connection = self._take(key) or self._connect(target, parts.hostname, tls, ends_at)
            try:
                self._exchange(connection, request, exchange, ends_at)
            except (_ClosedBeforeAnswer, ConnectionResetError, BrokenPipeError, ssl.SSLEOFError):
                connection.close()
                if connection.reused and exchange.step not in NOT_REPEATABLE:
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            self._keep(key, connection, exchange.truncated)
            return

    def _take(self, key: tuple[str, int, str]) -> _Connection | None:
        with self._lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def _keep(self, key: tuple[str, int, str], connection: _Connection, cut: bool) -> None:
        """Keep the connection for the next request if the server lets it be reused."""
        protocol = connection.protocol
        if cut or protocol.our_state is not h11.DONE or protocol.their_state is not h11.DONE:
            connection.close()
            return
        protocol.start_next_cycle()
        connection.reused = True
        with self._lock:
            self._idle.setdefault(key, []).append(connection)

    def _connect(self, target: Target, hostname: str | None, tls: bool,
                 ends_at: float) -> _Connection:
        assert target.address is not None
        # The address is checked and numeric: no getaddrinfo (create_connection's first
        # call costs milliseconds of resolver set-up), just the socket of its family.
        family = socket.AF_INET6 if ":" in target.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(_left(ends_at))
            sock.connect((target.address, target.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls:  # the handshake is bounded by the socket's timeout as a whole
                sock.settimeout(_left(ends_at))
                sock = self.context.wrap_socket(sock, server_hostname=hostname)
        except BaseException:
            sock.close()
            raise
        return _Connection(sock)

    def _exchange(self, connection: _Connection, request: h11.Request, exchange: Exchange,
                  ends_at: float) -> None:
        protocol, sock = connection.protocol, connection.sock
        data = protocol.send(request) or b""
        if exchange.request_body:
            data += protocol.send(h11.Data(data=exchange.request_body)) or b""
        data += protocol.send(h11.EndOfMessage()) or b""
        sock.settimeout(_left(ends_at))
        sock.sendall(data)
        self._settle(exchange)
        chunks: list[bytes] = []
        size, received = 0, 0
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                sock.settimeout(_left(ends_at))
                data = sock.recv(65536)
                if not data and not received:
                    raise _ClosedBeforeAnswer()
                received += len(data)
                protocol.receive_data(data)
            elif isinstance(event, h11.Response):
                exchange.status = event.status_code
                exchange.headers = [(name.decode("latin-1"), value.decode("latin-1"))
                                    for name, value in event.headers]  # names: lower case
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
                size += len(event.data)
                if size > BODY_LIMIT:
                    exchange.truncated = True
                    break
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
            # h11.InformationalResponse (1xx): the real answer follows
        exchange.body = b"".join(chunks)[:BODY_LIMIT]

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()
