"""Unit tests of the live HTTP layer (mcplint/live/http.py) with small loopback servers;
the behaviour against real software is in test_live.py."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from support import ScriptedServer

from mcplint.live.net.http import BODY_LIMIT, Fetcher
from mcplint.live.options import LiveOptions


def _answer_then_drop(connection: socket.socket) -> bool:
    """Answer the first request of a connection with keep-alive, then close the connection
    without answering the next one: the race clients must survive."""
    body = b'{"ok": true}'
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       b"Connection: keep-alive\r\nContent-Length: "
                       + str(len(body)).encode() + b"\r\n\r\n" + body)
    connection.recv(65536)  # the next request on this connection: no answer
    return False


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    instance = ScriptedServer(_answer_then_drop)
    yield instance
    instance.close()


def _fetcher() -> Fetcher:
    options = LiveOptions(timeout=5, deadline=30, loopback=True)  # as --profile local does
    return Fetcher(options, "local", lambda host: ([], "no DNS here"),
                   time.monotonic() + options.deadline, "mcplint-test")


def test_a_request_is_sent_again_when_a_kept_alive_connection_was_closed(
        server: ScriptedServer) -> None:
    fetcher = _fetcher()
    url = f"http://127.0.0.1:{server.port}/.well-known/oauth-protected-resource"
    first = fetcher.fetch("prm", "GET", url, "/manifest/server/url")
    second = fetcher.fetch("prm", "GET", url, "/manifest/server/url")
    assert (first.status, second.status) == (200, 200), second.detail
    assert server.connections == 2


def test_a_registration_is_never_sent_twice(server: ScriptedServer) -> None:
    fetcher = _fetcher()
    url = f"http://127.0.0.1:{server.port}/register"
    fetcher.fetch("prm", "GET", url, "/manifest/server/url")
    registration = fetcher.fetch("registration", "POST", url, "/manifest/auth/registration",
                                 body=b"{}")
    assert registration.status is None and registration.error == "reset"
    assert server.connections == 1


def test_non_public_literal_is_refused_outside_the_local_profile() -> None:
    options = LiveOptions(timeout=5, deadline=30)
    fetcher = Fetcher(options, "claude-ai", lambda host: ([], None), time.monotonic() + 30, "t")
    exchange = fetcher.fetch("prm", "GET", "https://169.254.169.254/latest/meta-data/", "/x")
    assert exchange.error == "not-public" and exchange.connected_to is None
    assert "link-local" in (exchange.detail or "")


def _json_answer(connection: socket.socket) -> None:
    body = b'{"ok": true}'
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                       + str(len(body)).encode() + b"\r\n\r\n" + body)


def test_a_kept_alive_connection_carries_the_next_request() -> None:
    server = ScriptedServer(_json_answer)
    fetcher = _fetcher()
    try:
        answers = [fetcher.fetch("prm", "GET", server.url(), "/x") for _ in range(3)]
    finally:
        fetcher.close()
        server.close()
    assert [a.status for a in answers] == [200, 200, 200]
    assert answers[0].json() == ({"ok": True}, None)
    assert (server.connections, server.requests) == (1, 3)


def test_chunked_bodies_are_read_whole() -> None:
    def chunked(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n"
                           b"6\r\n{\"a\": \r\n2\r\n1}\r\n0\r\n\r\n")

    server = ScriptedServer(chunked)
    try:
        exchange = _fetcher().fetch("prm", "GET", server.url(), "/x")
    finally:
        server.close()
    assert exchange.json() == ({"a": 1}, None)


def test_a_dripping_answer_is_cut_at_the_timeout() -> None:
    def drip(connection: socket.socket) -> bool:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" * 100:
            connection.sendall(bytes([byte]))
            time.sleep(0.05)
        return False

    server = ScriptedServer(drip)
    options = LiveOptions(timeout=1, deadline=30, loopback=True)
    fetcher = Fetcher(options, "local", lambda host: ([], "no DNS here"),
                      time.monotonic() + options.deadline, "mcplint-test")
    started = time.monotonic()
    try:
        exchange = fetcher.fetch("mcp-post", "POST", server.url("/mcp"), "/x", body=b"{}")
    finally:
        server.close()
    assert exchange.error == "timeout" and exchange.status is None
    assert exchange.detail == "no complete answer within 1 s"
    assert 0.9 < time.monotonic() - started < 2.0


def test_an_endless_body_is_cut_at_the_limit() -> None:
    def endless(connection: socket.socket) -> bool:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           b"Content-Length: 1000000000\r\n\r\n")
        block = b"[" * 65536
        try:
            while True:
                connection.sendall(block)
        except OSError:
            return False

    server = ScriptedServer(endless)
    try:
        exchange = _fetcher().fetch("prm", "GET", server.url(), "/x")
    finally:
        server.close()
    assert exchange.status == 200 and exchange.truncated
    assert len(exchange.body) == BODY_LIMIT
    assert exchange.json()[1] == f"the body is larger than {BODY_LIMIT // 1024} KiB"


def test_a_refused_connection_is_evidence() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens once it is closed
    exchange = _fetcher().fetch("mcp-post", "POST", f"http://127.0.0.1:{port}/mcp", "/x")
    assert (exchange.error, exchange.detail) == ("refused", "connection refused")


def test_loopback_is_the_operators_to_open() -> None:
    """The rule profile (a manifest's `profile: local`) opens nothing; options.loopback
    (--profile local on the command line) opens loopback, and only loopback."""
    def fetcher(loopback: bool) -> Fetcher:
        return Fetcher(LiveOptions(timeout=5, deadline=30, loopback=loopback), "local",
                       lambda host: (["127.0.0.1"], None), time.monotonic() + 30, "t")

    closed, opened = fetcher(False), fetcher(True)
    assert closed.target("127.0.0.1", 80).error == "not-public"
    assert closed.target("mcp.rebinding.example", 80).error == "not-public"
    assert opened.target("127.0.0.1", 80).address == "127.0.0.1"
    assert opened.target("localhost", 80).address == "127.0.0.1"
    for address in ("10.0.0.1", "169.254.169.254", "64:ff9b::7f00:1", "2002:7f00:1::1"):
        assert opened.target(address, 80).error == "not-public", address
