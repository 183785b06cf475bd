"""pytest fixtures of the live stack (loaded by tests/conftest.py as a plugin).

def test_healthy(livestack, tmp_path, run_mcplint):
    manifest = livestack.write_manifest("healthy", tmp_path)
    result = run_mcplint("verify", str(manifest), *livestack.cli_args("healthy"))
    assert result.returncode == 0, result.stdout + result.stderr
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .env import child_env, venv_script
from .stack import Stack

MCPLINT_TIMEOUT = 180.0


@pytest.fixture(scope="session")
def livestack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole stack, started once per test session (about 1-2 s) and stopped at its end.

    A missing peer (nginx, dnsmasq, node, oidc-provider) is an error, never a skip:
    run tests/livestack/install.sh.
    """
    with Stack(tmp_path_factory.mktemp("livestack")) as stack:
        yield stack


RunMcplint = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def run_mcplint(tmp_path: Path) -> RunMcplint:
    """Run the installed ``mcplint`` command as a child process, guarded by netguard.

    run_mcplint("verify", "mcp-connector.yaml", *livestack.cli_args("healthy"), cwd=...)
    returns the CompletedProcess (text, stdout and stderr captured). A child that tries
    to leave loopback exits with 97 and fails the test (see tests/conftest.py).
    """

    def run(
        *args: str,
        cwd: Path | None = None,
        timeout: float = MCPLINT_TIMEOUT,
        env: dict[str, str] | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [venv_script("mcplint"), *args],
            cwd=cwd or tmp_path,
            env=child_env(env),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
