"""The probes of `mcplint verify` in a process of their own (on Linux, forked).

A verification is mostly waiting on the network; the static check of the same manifest is
all CPU. In one interpreter they share one lock, and the live stack's imports (ssl, h11,
dnspython) queue behind the static ones. So `verify` forks a worker first thing, before
it reads the config or any manifest: the worker imports the live stack on the other core
while the parent imports the linter and reads the manifest; the parent sends each manifest
(with the live options, which the config may set) as a job the moment it has loaded, and
checks it statically while the worker's requests wait for their answers. The worker also
keeps a hostile server's effects (memory, stuck threads) out of the process that writes
the report.

Jobs go one way and results the other, in order, as length-prefixed JSON frames over two
pipes. Where fork is not the safe default (macOS, Windows), `InProcess` runs the same
verification in a thread of the parent instead.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from mcplint.errors import UsageError

if TYPE_CHECKING:
    import ssl

BACKSTOP = 15.0  # seconds past a job's deadline before the worker is given up for stuck
_HEADER = 8  # bytes of a frame's length
_FAILED = 70  # the worker's exit code after reporting an error
_ON_WAY = {"on_way": True}  # a job's first requests are out: the frame before its answer
ON_WAY_WAIT = 0.05  # seconds the parent waits for that, at most, before going on


class WorkerError(RuntimeError):
    """The probing process failed or ended without answering."""


def forking() -> bool:
    """Whether verifications run in a forked worker (Linux) or in a thread (elsewhere)."""
    return sys.platform == "linux" and hasattr(os, "fork")


def _write_frame(fd: int, message: dict[str, Any]) -> None:
    payload = json.dumps(message).encode()
    view = memoryview(len(payload).to_bytes(_HEADER, "big") + payload)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes, or None at end of file before the first; a frame cut short raises."""
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            if left == size:
                return None
            raise WorkerError("the probing process's answer was cut short")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> dict[str, Any] | None:
    header = _read_exactly(fd, _HEADER)
    if header is None:
        return None
    payload = _read_exactly(fd, int.from_bytes(header, "big"))
    return json.loads(payload or b"null")  # type: ignore[no-any-return]


class Worker:
    """A forked process that runs one verification per job, in the order sent.

    Jobs are {"manifest", "declared", "data", "profile", "options"} (the live options as
    JSON: LiveOptions.to_json); answers are {"live", "records"}."""

    def __init__(self, ca_bundle: Path | None) -> None:
        jobs_read, self._jobs = os.pipe()
        self._results, results_write = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
            stream.flush()
        pid = os.fork()
        if pid == 0:
            os.close(self._jobs)
            os.close(self._results)
            _serve(jobs_read, results_write, ca_bundle)
        os.close(jobs_read)
        os.close(results_write)
        self.pid: int | None = pid
        self._outstanding = 0  # jobs sent and not yet answered
        self._deadline = 0.0  # of the last job: how long an answer may take
        self._on_way_pending = False  # the last job's "on its way" frame is still to come
        self._early: dict[str, Any] | None = None  # a frame read while waiting for that

    def submit(self, job: dict[str, Any], last: bool = False) -> None:
        """Send a job; after answering the `last` one the worker ends by itself, while
        the parent is still judging the answer (and not after it, at close)."""
        try:
            _write_frame(self._jobs, {**job, "last": last})
        except BrokenPipeError:
            raise WorkerError(f"the probing process ended before its job ({self._reap()})") \
                from None
        self._outstanding += 1
        self._deadline = job["options"]["deadline"]
        self._on_way_pending = True

    def wait_on_way(self) -> None:
        """Wait (at most ON_WAY_WAIT) until the last job's first requests are out: the
        parent's own work then does not compete with them for the processor."""
        if self._on_way_pending and select.select([self._results], [], [], ON_WAY_WAIT)[0]:
            self._on_way_pending = False
            frame = _read_frame(self._results)
            if frame != _ON_WAY:  # the worker failed before: keep what it said
                self._early = frame

    def result(self) -> dict[str, Any]:
        """The answer to the oldest job not yet answered."""
        while True:
            answer, self._early = self._early, None
            if answer is None:
                answer = self._next_frame()
            if answer == _ON_WAY:
                continue
            self._on_way_pending = False
            self._outstanding -= 1
            return _answer(answer)

    def _next_frame(self) -> dict[str, Any]:
        wait = self._deadline + BACKSTOP
        ready, _, _ = select.select([self._results], [], [], wait)
        if not ready:
            self.close()
            raise WorkerError(f"the probing process gave no answer within {wait:.0f} s")
        frame = _read_frame(self._results)
        if frame is None:
            raise WorkerError(f"the probing process ended without answering ({self._reap()})")
        return frame

    def close(self) -> None:
        """End the worker: with no job left it exits at the end of the jobs pipe; one still
        probing (the run was interrupted) is killed."""
        if self._jobs >= 0:
            os.close(self._jobs)
            self._jobs = -1
        if self.pid is not None:
            if self._outstanding:  # interrupted mid-job
                os.kill(self.pid, signal.SIGKILL)
            self._reap()
        if self._results >= 0:
            os.close(self._results)
            self._results = -1

    def _reap(self, grace: float = 2.0) -> str:
        """Wait for the worker to end (killing it after `grace`); how it ended. The end
        shows on the results pipe first: the worker's end of it closes when it exits."""
        if self.pid is None:
            return "already ended"
        pid, self.pid = self.pid, None
        ends = time.monotonic() + grace
        while self._results >= 0 and time.monotonic() < ends:
            ready, _, _ = select.select([self._results], [], [], ends - time.monotonic())
            if not ready or not os.read(self._results, 1 << 16):
                break  # the grace is over, or the pipe is at its end
        done, status = os.waitpid(pid, os.WNOHANG)
        if not done:
            if time.monotonic() >= ends:
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        return f"exit code {code}" if code >= 0 else f"signal {-code}"


def _answer(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer, or the error it reports raised here (a usage error stays one)."""
    if "error" in answer:
        if answer.get("usage"):
            raise UsageError(answer["error"])
        raise WorkerError(f"the probing process failed: {answer['error']}")
    return answer


def _verify(job: dict[str, Any], tls: ssl.SSLContext,
            on_way: Callable[[], None]) -> dict[str, Any]:
    """One job, start to end: the live facts and, with --record, the requests. `on_way`
    is called once the first requests are out (or, at the latest, before returning)."""
    from mcplint.live.options import LiveOptions
    from mcplint.live.verify import Verification

    told = False

    def tell() -> None:
        nonlocal told
        if not told:
            told = True
            on_way()

    try:
        options = LiveOptions.from_json(job["options"])
        verification = Verification(job["manifest"], job["declared"], job["data"], options,
                                    job["profile"], tls=tls)
        live = verification.run(on_way=tell)
    finally:
        tell()
    return {"live": live,
            "records": verification.records() if options.record is not None else None}


def _failure(error: BaseException) -> dict[str, Any]:
    usage = isinstance(error, UsageError)
    return {"error": str(error) if usage else f"{type(error).__name__}: {error}",
            "usage": usage}


def _serve(jobs: int, results: int, ca_bundle: Path | None) -> NoReturn:
    """The worker's whole life: import the live stack, then answer jobs until the parent
    closes the pipe or the last job is answered. It never returns into the parent's code."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: the parent speaks for both
        from mcplint.live.net.http import ssl_context

        tls = ssl_context(ca_bundle)  # ready before the first job arrives, shared by all
        while (job := _read_frame(jobs)) is not None:
            answer = _verify(job, tls, lambda: _write_frame(results, _ON_WAY))
            _write_frame(results, answer)
            if job["last"]:
                break
    except BaseException as error:  # reported to the parent, which decides what it means
        code = _FAILED
        try:
            _write_frame(results, _failure(error))
        except BaseException:
            pass
    finally:
        os._exit(code)


class InProcess:
    """The same jobs, run in a thread of this process (where forking is not safe)."""

    def __init__(self, ca_bundle: Path | None) -> None:
        from mcplint.live.net.http import ssl_context

        self._tls = ssl_context(ca_bundle)
        self._pending: list[tuple[threading.Thread, dict[str, Any]]] = []
        self._on_way = threading.Event()

    def submit(self, job: dict[str, Any], last: bool = False) -> None:
        answer: dict[str, Any] = {}
        self._on_way.clear()

        def run() -> None:
            try:
                answer.update(_verify(job, self._tls, self._on_way.set))
            except BaseException as error:
                answer.update(_failure(error))

        thread = threading.Thread(target=run, daemon=True, name="mcplint-verification")
        thread.start()
        self._pending.append((thread, answer))

    def wait_on_way(self) -> None:
        self._on_way.wait(ON_WAY_WAIT)

    def result(self) -> dict[str, Any]:
        thread, answer = self._pending.pop(0)
        thread.join()
        return _answer(answer)

    def close(self) -> None:
        self._pending.clear()
