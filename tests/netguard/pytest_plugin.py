"""pytest plugin: the network guard for the test process, and the check after each test.

Loaded from tests/conftest.py. Importing it installs the guard, so it must come
before anything that could open a socket.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

import pytest

from . import guard

guard.install()

# One violation log per run, shared with every child process through the
# environment (livestack.env.child_env passes it on). Removed at the end of the run
# if this plugin made it: what it held was reported by the failing tests.
_own_log: str | None = None
if not os.environ.get(guard.LOG_ENV):
    _fd, _own_log = tempfile.mkstemp(prefix="mcplint-netguard-", suffix=".log")
    os.close(_fd)
    os.environ[guard.LOG_ENV] = _own_log


def pytest_unconfigure(config: pytest.Config) -> None:
    if _own_log is not None:
        with contextlib.suppress(OSError):
            os.unlink(_own_log)


@pytest.fixture(autouse=True)
def _netguard_check() -> Iterator[None]:
    """Fail the test if anything, in this process or a child, tried to leave loopback.

    The exception the guard raises may have been caught by the code under test; the
    record kept by the guard, and the log lines of child processes, cannot be.
    """
    guard.clear()
    log_before = len(guard.log_lines())
    yield
    in_process = guard.violations()
    own = f"pid={os.getpid()} "
    children = [line for line in guard.log_lines()[log_before:] if own not in line]
    guard.clear()
    if in_process or children:
        lines = [f"in this process: {v.event} {v.describe()}" for v in in_process]
        lines += [f"in a child process: {line}" for line in children]
        pytest.fail("netguard: the test tried to reach beyond loopback:\n  " + "\n  ".join(lines))
