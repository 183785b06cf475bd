"""The network guard blocks, records and reports anything but loopback.

Targets are in 192.0.2.0/24 (TEST-NET-1, RFC 5737), so nothing would leave even if
the guard failed. Each test that trips the guard on purpose clears the record before
it ends, so the suite's own check (pytest_plugin._netguard_check) stays quiet.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from livestack.env import TESTS_DIR, child_env

from netguard import guard

BLOCKED = ("192.0.2.1", 443)


@pytest.fixture
def expect_violations() -> Iterator[list[guard.Violation]]:
    """Collects what the test tripped, then clears it (this test meant to)."""
    found: list[guard.Violation] = []
    yield found
    found.extend(guard.violations())
    guard.clear()


def test_guard_is_installed() -> None:
    assert guard.is_installed()


def test_connect_to_non_loopback_is_blocked_and_recorded(expect_violations: list[guard.Violation]) -> None:
    with socket.socket() as sock, pytest.raises(guard.NetguardViolation, match="192.0.2.1:443"):
        sock.connect(BLOCKED)
    assert [(v.event, v.host, v.port) for v in guard.violations()] == [("socket.connect", "192.0.2.1", 443)]


def test_violation_is_recorded_even_when_caught(expect_violations: list[guard.Violation]) -> None:
    # What mcplint does with a connection error: catch it broadly and go on.
    try:
        socket.create_connection(BLOCKED, timeout=1)
    except Exception:  # noqa: BLE001 - the point of the test
        pass
    assert guard.violations(), "a caught violation must still be on record"


def test_name_lookup_is_blocked(expect_violations: list[guard.Violation]) -> None:
    with pytest.raises(guard.NetguardViolation):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(guard.NetguardViolation):
        socket.gethostbyname("example.com")
    with pytest.raises(guard.NetguardViolation):
        socket.gethostbyaddr("192.0.2.1")  # a PTR query to the system resolver
    assert {v.event for v in guard.violations()} == {
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
    }


def test_udp_sendto_and_ipv6_are_blocked(expect_violations: list[guard.Violation]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, pytest.raises(guard.NetguardViolation):
        sock.sendto(b"\0" * 12, ("192.0.2.1", 53))
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock, pytest.raises(guard.NetguardViolation):
        sock.connect(("2001:db8::1", 443, 0, 0))
    # An IPv4 address mapped into IPv6 is judged as the IPv4 address it is.
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock, pytest.raises(guard.NetguardViolation):
        sock.connect(("::ffff:192.0.2.1", 443, 0, 0))
    assert len(guard.violations()) == 3


def test_asyncio_connection_is_blocked(expect_violations: list[guard.Violation]) -> None:
    async def connect() -> None:
        await asyncio.open_connection(*BLOCKED)

    with pytest.raises(OSError):
        asyncio.run(connect())
    assert guard.violations()


def test_httpx_is_blocked(expect_violations: list[guard.Violation]) -> None:
    import httpx

    with pytest.raises(httpx.HTTPError):
        httpx.get("https://192.0.2.1/", timeout=1, trust_env=False)
    with pytest.raises(httpx.HTTPError):
        httpx.get("https://example.com/", timeout=1, trust_env=False)
    assert {v.event for v in guard.violations()} >= {"socket.connect", "socket.getaddrinfo"}


def test_loopback_and_local_sockets_are_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        for host in ("127.0.0.1", "localhost"):
            with socket.create_connection((host, port), timeout=2):
                pass
            server.accept()[0].close()
    socket.getaddrinfo("localhost", 80)
    socket.getaddrinfo(None, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("")  # abstract namespace: no file left behind
    assert guard.violations() == []


def _run_child(code: str, log: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=child_env({guard.LOG_ENV: str(log)}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("code", "target"),
    [
        ("import socket\nsocket.create_connection(('192.0.2.1', 443), timeout=1)", "192.0.2.1:443"),
        # Caught: the child is ended anyway, before it could carry on.
        (
            "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 443), timeout=1)\n"
            "except Exception:\n    pass\nprint('carried on')",
            "192.0.2.1:443",
        ),
        ("import socket\nsocket.getaddrinfo('example.com', 443)", "example.com:443"),
    ],
    ids=["connect", "caught-connect", "lookup"],
)
def test_child_process_violation_exits_97(code: str, target: str, tmp_path: Path) -> None:
    log = tmp_path / "netguard.log"
    result = _run_child(code, log)
    assert result.returncode == guard.CHILD_EXIT_CODE, result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"netguard: blocked connection to {target}"
    assert "carried on" not in result.stdout
    assert target in log.read_text()


def test_child_process_loopback_is_allowed(tmp_path: Path) -> None:
    log = tmp_path / "netguard.log"
    result = _run_child(
        """
        import socket, sys
        server = socket.create_server(("127.0.0.1", 0))
        socket.create_connection(server.getsockname(), timeout=2).close()
        socket.getaddrinfo("localhost", 80)
        sys.exit(0 if "guard" in sys.modules else 3)
        """,
        log,
    )
    assert result.returncode == 0, result.stderr
    assert not log.exists() or log.read_text() == ""


def test_suite_fails_a_test_that_swallowed_a_violation(tmp_path: Path) -> None:
    """The plugin's check fails tests whose code caught the guard's exception, in
    process or in a child whose exit code the test ignored."""
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            import socket, subprocess, sys
            from livestack.env import child_env

            def test_swallows():
                try:
                    socket.create_connection(("192.0.2.1", 443), timeout=1)
                except OSError:
                    pass

            def test_child_ignored():
                code = "import socket; socket.create_connection(('192.0.2.1', 443), timeout=1)"
                subprocess.run([sys.executable, "-c", code], env=child_env(), check=False)

            def test_clean():
                pass
            """
        )
    )
    env = {key: value for key, value in child_env().items() if key != guard.LOG_ENV}
    # The inner pytest must not load sitecustomize (it would exit 97 at once): only tests/.
    env["PYTHONPATH"] = str(TESTS_DIR)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "netguard.pytest_plugin", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_inner.py")],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "2 errors" in output and "3 passed" in output, output
    assert "in this process: socket.connect 192.0.2.1:443" in output
    assert "in a child process:" in output
