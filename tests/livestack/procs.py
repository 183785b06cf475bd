"""Starting and stopping the stack's processes, and waiting for them to be ready.

Every process gets its own session (so its whole group, nginx workers included, can
be killed at once) and its output in a log file. An atexit hook stops whatever is
still running when the interpreter ends. If the test process dies without cleaning
up (SIGKILL, a crash), a small reaper process, which learns every process group
through a pipe, sees the pipe close and kills the groups still registered; the
kernel's PR_SET_PDEATHSIG is a second net for children that keep their credentials
(dnsmasq and nginx workers drop it when they change user).
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

# Generous: the machine has 2 cores and may be busy with the rest of the suite.
STARTUP_TIMEOUT = 30.0
_POLL_INTERVAL = 0.02

_PR_SET_PDEATHSIG = 1
_running: set[ManagedProcess] = set()


class StackError(RuntimeError):
    """A part of the live stack could not be started or did not behave."""


class ManagedProcess:
    """A child process in its own session, logging to a file, stopped by process group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        try:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except OSError as error:
            self._log.close()
            raise StackError(f"{name}: cannot run {self.argv[0]}: {error}") from error
        _running.add(self)
        _reaper.register(self.pid)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def fail(self, reason: str) -> StackError:
        """An error naming the process, why it failed, and the end of its log."""
        status = "running" if self.alive() else f"exited with {self.popen.returncode}"
        return StackError(
            f"{self.name} ({status}): {reason}\ncommand: {' '.join(self.argv)}\nlog {self.log_path}:\n{self.log_tail()}"
        )

    def signal(self, signum: int) -> None:
        if self.alive():
            os.kill(self.pid, signum)

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the whole process group; kill it if it does not go in time."""
        _running.discard(self)
        _reaper.unregister(self.pid)
        try:
            if self.alive():
                _kill_group(self.pid, signal.SIGTERM)
                try:
                    self.popen.wait(timeout)
                except subprocess.TimeoutExpired:
                    _kill_group(self.pid, signal.SIGKILL)
                    self.popen.wait(timeout)
            # Workers that outlived their master (nginx) go with the group.
            _kill_group(self.pid, signal.SIGKILL)
        finally:
            self._log.close()


def _kill_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


# Loaded here, not in the child: only async-signal-safe work may run between fork and exec.
_LIBC = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    """In the child, before exec: ask the kernel for SIGKILL when the test process dies."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


_REAPER_CODE = """
import os, signal, sys
groups = set()
for line in sys.stdin:
    pgid = int(line)
    groups.add(pgid) if pgid > 0 else groups.discard(-pgid)
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class _Reaper:
    """Kills registered process groups once this process is gone (its stdin closes)."""

    def __init__(self) -> None:
        self._popen: subprocess.Popen[bytes] | None = None

    def register(self, pgid: int) -> None:
        self._send(pgid)

    def unregister(self, pgid: int) -> None:
        self._send(-pgid)

    def _send(self, value: int) -> None:
        if self._popen is None or self._popen.poll() is not None:
            self._popen = subprocess.Popen(
                [sys.executable, "-S", "-c", _REAPER_CODE],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # not in the terminal's group: Ctrl-C must not end it first
            )
        assert self._popen.stdin is not None
        self._popen.stdin.write(f"{value}\n".encode())
        self._popen.stdin.flush()


_reaper = _Reaper()


@atexit.register
def _stop_all() -> None:
    for process in list(_running):
        process.stop(timeout=2.0)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port the kernel just handed out and took back.

    For programs that cannot listen on port 0 and report it (nginx, dnsmasq); callers
    retry on a bind failure, since another process could take the port meanwhile.
    """
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_pair() -> int:
    """A loopback port free for both UDP and TCP (what a DNS server needs)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise StackError("no loopback port free for both UDP and TCP")


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(
    process: ManagedProcess,
    ready: Callable[[], bool],
    what: str,
    timeout: float = STARTUP_TIMEOUT,
) -> None:
    """Poll ``ready`` until true; fail early, with the log, if the process exits."""
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            return
        if not process.alive():
            raise process.fail(f"exited before {what}")
        if time.monotonic() > deadline:
            raise process.fail(f"not {what} after {timeout:.0f} s")
        time.sleep(_POLL_INTERVAL)


START_ATTEMPTS = 3


def start_on_free_port(launch: Callable[[], ManagedProcess], ready: Callable[[], bool],
                       what: str) -> ManagedProcess:
    """Start a server on a port picked free a moment ago, and again on a new one when
    another process took it in between ("Address already in use")."""
    for attempt in range(START_ATTEMPTS):
        process = launch()
        try:
            wait_until(process, ready, what)
            return process
        except StackError:
            address_taken = "Address already in use" in process.log_tail()
            process.stop()
            if not address_taken or attempt == START_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def wait_for_port(process: ManagedProcess, port: int, timeout: float = STARTUP_TIMEOUT) -> None:
    wait_until(process, lambda: port_open(port), f"listening on 127.0.0.1:{port}", timeout)


def wait_for_ports_file(process: ManagedProcess, path: Path, timeout: float = STARTUP_TIMEOUT) -> dict[str, int]:
    """Wait for the JSON file a server writes (atomically) once it listens, and read it."""
    wait_until(process, path.exists, f"ready (no {path.name})", timeout)
    ports: dict[str, int] = json.loads(path.read_text())
    for name, port in ports.items():
        if not port_open(port):
            raise process.fail(f"reported {name} port {port} but nothing listens there")
    return ports
