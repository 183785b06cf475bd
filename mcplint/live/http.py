"""HTTP as the hosted client does it, and safely: resolve, check, connect only to an
address that passed, keep Host/SNI/certificate checks on the name, never follow
redirects, cap every body and every wait.

Requests are blocking httpx calls run in threads: the probes are a few short chains, and
threads start in a fraction of what asyncio plus anyio cost to import (start-up is most of
a verification's own time). Each request runs in a daemon thread that the caller waits for
at most the request's timeout (or what is left of the deadline): a server dripping one
byte a second cannot hold a verification past either.
"""

from __future__ import annotations

import glob
import ipaddress
import json
import os
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from mcplint.facts.addresses import classify_address, parse_address
from mcplint.live.options import LiveOptions

BODY_LIMIT = 1024 * 1024
RECORD_BODY_LIMIT = 64 * 1024
_SECRET_HEADERS = {"authorization", "cookie", "set-cookie", "proxy-authorization"}
NOT_REPEATABLE = {"registration"}  # steps that create something: never sent twice
_SECRET_FIELDS = {"client_secret", "refresh_token", "code", "code_verifier", "password"}


@dataclass
class Target:
    """Where a request goes, or why it does not go anywhere."""

    address: str | None = None
    port: int = 443
    error: str | None = None  # dns, not-public
    detail: str | None = None
    explicit: bool = False  # chosen by --connect-to


@dataclass
class Exchange:
    """One request and what came back: the evidence behind live facts."""

    id: str
    step: str
    method: str
    url: str
    host: str
    at: str  # the manifest field findings about this request are located at
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: bytes = b""
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)  # lower-case names
    body: bytes = b""
    truncated: bool = False
    elapsed_ms: float = 0.0
    started_ms: float = 0.0  # since the verification started: the timeline of the run
    error: str | None = None  # dns, not-public, refused, timeout, reset, tls, protocol, deadline
    detail: str | None = None
    connected_to: str | None = None

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
            return json.loads(self.body.decode("utf-8")), None
        except RecursionError:
            return None, "the JSON is nested too deeply to read"
        except (UnicodeDecodeError, ValueError) as error:
            return None, f"not valid JSON ({str(error).split(':')[0]})"

    def text(self, limit: int = 300) -> str:
        return self.body[:limit].decode("utf-8", "replace")

    def evidence(self, **extra: Any) -> dict[str, Any]:
        evidence = {"method": self.method, "url": self.url, "status": self.status}
        if self.error:
            evidence["error"] = f"{self.error}: {self.detail}" if self.detail else self.error
        evidence["elapsed_ms"] = round(self.elapsed_ms)
        evidence.update({k: v for k, v in extra.items() if v is not None})
        return evidence

    def summary(self) -> dict[str, Any]:
        """The request as the markdown diagram and reports show it."""
        return {"id": self.id, "step": self.step, "method": self.method, "url": self.url,
                "host": self.host, "status": self.status, "error": self.error,
                "started_ms": round(self.started_ms, 1), "elapsed_ms": round(self.elapsed_ms, 1),
                "at": self.at}

    def record(self) -> dict[str, Any]:
        """Everything sent and received, secrets redacted, for --record."""
        body, error = self.json()
        response_body: Any = body if error is None else self.body[:RECORD_BODY_LIMIT].decode(
            "utf-8", "replace")
        return {
            **self.summary(),
            "connected_to": self.connected_to,
            "detail": self.detail,
            "request": {"headers": _redact_headers(self.request_headers.items()),
                        "body": _redact_body(self.request_body)},
            "response": None if self.status is None else {
                "status": self.status, "headers": _redact_headers(self.headers),
                "body": response_body, "truncated": self.truncated},
        }


def _redact_headers(headers: Any) -> list[list[str]]:
    redacted = []
    for name, value in headers:
        if name.lower() in _SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} <redacted>".strip()
        redacted.append([name, value])
    return redacted


def _redact_body(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    if "=" in text and "{" not in text:  # a form
        from urllib.parse import parse_qsl, urlencode

        pairs = [(k, "<redacted>" if k in _SECRET_FIELDS else v) for k, v in parse_qsl(text)]
        return urlencode(pairs)
    return text


def ssl_context(options: LiveOptions) -> ssl.SSLContext:
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
    if options.ca_bundle is not None:
        context.load_verify_locations(cafile=str(options.ca_bundle))
    return context


def _chain(error: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return chain


def classify(error: BaseException) -> tuple[str, str]:
    """(error class, one-line detail) of a failed request."""
    for cause in _chain(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "tls", f"certificate verification failed: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            reason = getattr(cause, "reason", None) or str(cause)
            return "tls", f"TLS handshake failed: {reason}"
        if isinstance(cause, ConnectionRefusedError):
            return "refused", "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "reset", "connection reset by the server"
    if isinstance(error, httpx.TimeoutException):
        return "timeout", f"no answer in time ({type(error).__name__})"
    if isinstance(error, httpx.RemoteProtocolError):
        message = str(error)
        if "disconnected" in message.lower() or "closed" in message.lower():
            return "reset", message
        return "protocol", message
    if isinstance(error, (httpx.ReadError, httpx.WriteError)):
        return "reset", str(error) or "the connection broke"
    if isinstance(error, httpx.ConnectError):
        return "refused", str(error) or "could not connect"
    return "protocol", f"{type(error).__name__}: {error}"


class Fetcher:
    """Makes the live requests of one verification and keeps every exchange."""

    def __init__(self, options: LiveOptions, profile: str,
                 resolve: Callable[[str], tuple[list[str], str | None]],
                 deadline_at: float, user_agent: str) -> None:
        self.options = options
        self.profile = profile
        self.resolve = resolve  # host -> (IPv4 answers, error)
        self.deadline_at = deadline_at
        self.started_at = deadline_at - options.deadline
        self.user_agent = user_agent
        self.context = ssl_context(options)
        self.exchanges: list[Exchange] = []
        self.first_sent = threading.Event()  # a request is on the wire: waiting starts
        self._clients: dict[tuple[str, int, str], httpx.Client] = {}
        self._lock = threading.Lock()

    def target(self, host: str, port: int) -> Target:
        explicit = self.options.connect_to.get((host, port))
        if explicit is not None:
            return Target(explicit.host, explicit.port, explicit=True)
        literal = parse_address(host)
        if literal is not None:
            kind = classify_address(literal)
            if kind != "global" and self.profile != "local":
                return Target(error="not-public", detail=f"{host} is a {kind} address; the "
                              "hosted client does not connect there (and neither does mcplint)")
            return Target(str(literal), port)
        answers, error = self.resolve(host)
        if error is not None or not answers:
            return Target(error="dns", detail=error or f"{host} has no IPv4 address")
        if self.profile != "local":
            bad = [a for a in answers if classify_address(ipaddress.ip_address(a)) != "global"]
            if bad:
                return Target(error="not-public", detail=f"{host} resolves to non-public "
                              f"{', '.join(bad)}; the hosted client does not connect there")
        return Target(answers[0], port)

    def _client(self, host: str, target: Target) -> httpx.Client:
        # One pool per pinned name: pools are keyed by origin (here the address), not by
        # SNI, so two names pinned to one address must not share connections.
        key = (host, target.port, target.address or "")
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                timeout = httpx.Timeout(self.options.timeout)
                client = httpx.Client(verify=self.context, trust_env=False, http2=False,
                                      follow_redirects=False, timeout=timeout)
                self._clients[key] = client
            return client

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
        remaining = self.deadline_at - time.monotonic()
        if remaining <= 0:
            exchange.error, exchange.detail = "deadline", "the verification's deadline passed"
            return exchange
        target = self.target(host, port)
        if target.error is not None:
            exchange.error, exchange.detail = target.error, target.detail
            return exchange
        exchange.connected_to = f"{target.address}:{target.port}"
        wait = min(self.options.timeout, remaining)
        outcome: dict[str, Any] = {}  # filled by the worker; read only if it finished
        worker = threading.Thread(target=self._send, args=(exchange, target, scheme, parts,
                                                           outcome),
                                  daemon=True, name=f"mcplint-{step}")
        started = time.monotonic()
        worker.start()
        worker.join(wait)
        if worker.is_alive():  # abandoned: a daemon thread ends with the process
            exchange.elapsed_ms = (time.monotonic() - started) * 1000
            exchange.error = "timeout"
            exchange.detail = (f"no complete answer within {wait:.0f} s" if wait >= self.options.timeout
                               else f"no complete answer before the verification's deadline "
                                    f"({self.options.deadline:.0f} s)")
            return exchange
        for name, value in outcome.items():
            setattr(exchange, name, value)
        return exchange

    def _send(self, exchange: Exchange, target: Target, scheme: str, parts: Any,
              outcome: dict[str, Any]) -> None:
        address = f"[{target.address}]" if ":" in (target.address or "") else target.address
        pinned = f"{scheme}://{address}:{target.port}{parts.path or '/'}"
        if parts.query:
            pinned += f"?{parts.query}"
        default = 443 if scheme == "https" else 80
        host_header = parts.hostname if (parts.port or default) == default else parts.netloc
        headers = {"Host": host_header or "", **exchange.request_headers}
        extensions: dict[str, Any] = {"trace": self._trace}
        if scheme == "https":
            extensions["sni_hostname"] = parts.hostname
        started = time.monotonic()
        client = self._client(exchange.host, target)
        # A server may close a kept-alive connection just as a request goes out on it (nginx
        # does after answering without reading a request's body): like browsers, send a
        # request that changes nothing once more, on a new connection, when the old one
        # broke before any answer.
        attempts = 1 if exchange.step in NOT_REPEATABLE else 2
        for attempt in range(attempts):
            try:
                outcome.update(self._exchange(client, exchange, pinned, headers, extensions))
                outcome.pop("error", None)
                outcome.pop("detail", None)
                break
            except Exception as error:  # every failure is evidence, never a crash
                outcome["error"], outcome["detail"] = classify(error)
                if not (isinstance(error, httpx.RemoteProtocolError)
                        and "without sending a response" in str(error)):
                    break
        outcome["elapsed_ms"] = (time.monotonic() - started) * 1000

    @staticmethod
    def _exchange(client: httpx.Client, exchange: Exchange, url: str, headers: dict[str, str],
                  extensions: dict[str, Any]) -> dict[str, Any]:
        with client.stream(exchange.method, url, headers=headers,
                           content=exchange.request_body or None,
                           extensions=extensions) as response:
            header_list = [(k.decode("latin-1").lower(), v.decode("latin-1"))
                           for k, v in response.headers.raw]
            chunks, size = [], 0
            for chunk in response.iter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size > BODY_LIMIT:
                    break
            return {"status": response.status_code, "headers": header_list,
                    "body": b"".join(chunks)[:BODY_LIMIT], "truncated": size > BODY_LIMIT}

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event == "http11.send_request_body.complete":
            self.first_sent.set()

    def close(self) -> None:
        for client in list(self._clients.values()):
            try:
                client.close()
            except Exception:  # a connection abandoned mid-read may refuse to close
                pass
