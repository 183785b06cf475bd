"""The probing process of `mcplint verify` (mcplint/live/worker.py): jobs are answered in
order, a forked worker and the in-process fallback see the same, and a worker that dies
is one clear error, not a hang."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support import ScriptedServer

from mcplint.live import worker
from mcplint.live.options import LiveOptions
from mcplint.policy.catalog import load_builtin


def _answer(status: int, body: bytes) -> Any:
    def answer(connection: socket.socket) -> None:
        connection.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return answer


@pytest.fixture
def servers() -> Iterator[tuple[ScriptedServer, ScriptedServer]]:
    mcp = ScriptedServer(_answer(200, b'{"jsonrpc": "2.0", "id": 1, "result": {}}'))
    missing = ScriptedServer(_answer(404, b'{"error": "no"}'))
    yield mcp, missing
    mcp.close()
    missing.close()


def _options() -> LiveOptions:
    # Loopback literals only: nothing is resolved, so no resolver is ever asked; loopback
    # opened as --profile local on the command line does.
    return LiveOptions(timeout=5, deadline=20, system_resolver_off=True, loopback=True)


def _job(server: ScriptedServer, options: LiveOptions | None = None) -> dict[str, Any]:
    manifest = {"version": 1, "server": {"url": server.url("/mcp")}, "auth": {"type": "none"}}
    return {"manifest": manifest, "declared": {}, "data": load_builtin().data,
            "profile": "local", "options": (options or _options()).to_json()}


def _post(answer: dict[str, Any]) -> dict[str, Any]:
    post = dict(answer["live"]["mcp"]["post"])
    post["evidence"] = {k: v for k, v in post["evidence"].items() if k != "elapsed_ms"}
    return post


def test_jobs_are_answered_in_order(servers: tuple[ScriptedServer, ScriptedServer]) -> None:
    mcp, missing = servers
    probes = worker.Worker(None)
    pid = probes.pid
    try:
        probes.submit(_job(mcp))
        probes.submit(_job(missing))
        first, second = probes.result(), probes.result()
    finally:
        probes.close()
    assert (_post(first)["status"], _post(second)["status"]) == (200, 404)
    assert _post(first)["looks_like_mcp"] is True
    assert _post(second)["not_mcp_reason"] == "404 to POST"
    assert first["records"] is None  # recorded only with --record
    _assert_gone(pid or 0)


def _assert_gone(pid: int) -> None:
    """The process ended and was reaped (a zombie would still take signal 0)."""
    ends = time.monotonic() + 5
    while time.monotonic() < ends:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} is still there")


@pytest.mark.parametrize("kind", [worker.Worker, worker.InProcess])
def test_the_caller_learns_when_the_first_requests_are_out(
        kind: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "ON_WAY_WAIT", 5.0)  # only the news can end the wait early

    def slow(connection: socket.socket) -> None:
        time.sleep(0.5)  # the answer is late, the request is long out
        _answer(200, b'{"jsonrpc": "2.0", "id": 1, "result": {}}')(connection)

    late = ScriptedServer(slow)
    probes = kind(None)
    try:
        probes.submit(_job(late))
        started = time.monotonic()
        probes.wait_on_way()
        waited = time.monotonic() - started
        answer = probes.result()
    finally:
        probes.close()
        late.close()
    assert waited < 0.3  # told long before the answer came (0.5 s) or the wait ended
    assert _post(answer)["status"] == 200


def test_the_worker_ends_by_itself_after_the_last_job(
        servers: tuple[ScriptedServer, ScriptedServer]) -> None:
    mcp, _ = servers
    probes = worker.Worker(None)
    pid = probes.pid or 0
    try:
        probes.submit(_job(mcp), last=True)
        assert _post(probes.result())["status"] == 200
        ended = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # blocks until it ends
        assert ended is not None and ended.si_status == 0
    finally:
        probes.close()
    _assert_gone(pid)


def test_the_fallback_in_process_sees_the_same(
        servers: tuple[ScriptedServer, ScriptedServer]) -> None:
    mcp, _ = servers
    answers = []
    for kind in (worker.Worker, worker.InProcess):
        probes = kind(None)
        try:
            probes.submit(_job(mcp))
            answers.append(probes.result())
        finally:
            probes.close()
    forked, in_process = answers
    assert _post(forked) == _post(in_process)
    assert forked["live"]["connections"][0]["outcome"] == "ok"
    assert (forked["live"]["connections"][0]["outcome"]
            == in_process["live"]["connections"][0]["outcome"])


def test_a_worker_killed_mid_job_is_a_clean_error(
        servers: tuple[ScriptedServer, ScriptedServer]) -> None:
    def never(connection: socket.socket) -> None:
        connection.recv(1)  # hold the request: the worker stays mid-job

    silent = ScriptedServer(never)
    probes = worker.Worker(None)
    try:
        probes.submit(_job(silent))
        os.kill(probes.pid or 0, signal.SIGKILL)
        with pytest.raises(worker.WorkerError, match=r"ended without answering \(signal 9\)"):
            probes.result()
    finally:
        probes.close()
        silent.close()


def test_a_job_for_a_dead_worker_is_a_clean_error(
        servers: tuple[ScriptedServer, ScriptedServer]) -> None:
    mcp, _ = servers
    probes = worker.Worker(None)
    os.kill(probes.pid or 0, signal.SIGKILL)
    os.waitid(os.P_PID, probes.pid or 0, os.WEXITED | os.WNOWAIT)  # it is gone
    try:
        with pytest.raises(worker.WorkerError, match=r"ended before its job \(signal 9\)"):
            probes.submit(_job(mcp))
    finally:
        probes.close()


def test_live_options_cross_over_as_json() -> None:
    from mcplint.live.jobs import options_from

    options = options_from({"timeout": 7, "deadline": 9, "nameserver": ["127.0.0.1:5353"],
                            "system_resolver": "[::1]:53",
                            "connect_to": ["a.example.com:443:127.0.0.1:8443"],
                            "ca_bundle": "/tmp/ca.pem", "user_agent": "ua",
                            "probe_registration": True, "record": "/tmp/r.json"})
    again = LiveOptions.from_json(json.loads(json.dumps(options.to_json())))
    assert again.to_json() == options.to_json()
    assert str(again.system_resolver) == "[::1]:53"
    assert str(again.connect_to[("a.example.com", 443)]) == "127.0.0.1:8443"
    assert (again.timeout, again.deadline, again.probe_registration) == (7.0, 9.0, True)


@pytest.mark.parametrize("kind", [worker.Worker, worker.InProcess])
def test_a_usage_error_in_the_verification_reaches_the_caller_as_one(
        servers: tuple[ScriptedServer, ScriptedServer], monkeypatch: pytest.MonkeyPatch,
        kind: Any) -> None:
    from mcplint.errors import UsageError

    mcp, _ = servers
    monkeypatch.delenv("MCPLINT_WORKER_TEST_TOKEN", raising=False)
    options = _options()
    options.send_credentials = True
    options.credential_env = ("MCPLINT_WORKER_TEST_TOKEN",)
    job = _job(mcp, options)
    job["manifest"]["auth"] = {"type": "static-headers",
                               "headers": {"X-Key": "${MCPLINT_WORKER_TEST_TOKEN}"}}
    probes = kind(None)
    try:
        probes.submit(job)
        with pytest.raises(UsageError, match="MCPLINT_WORKER_TEST_TOKEN"):
            probes.result()
    finally:
        probes.close()
