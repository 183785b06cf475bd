"""Paths of the repository and the environment given to every child process."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

LIVESTACK_DIR = Path(__file__).resolve().parent
TESTS_DIR = LIVESTACK_DIR.parent
REPO_ROOT = TESTS_DIR.parent
NETGUARD_DIR = TESTS_DIR / "netguard"
AUTHSERVER_DIR = LIVESTACK_DIR / "authserver"
MODERN_MCP_DIR = LIVESTACK_DIR / "modern_mcp"  # TypeScript SDK 2.x, 2026-07-28 only (npm ci)
LEGACY_MCP_DIR = LIVESTACK_DIR / "legacy_mcp"  # Python SDK 1.x, initialize only
# The legacy server's own virtualenv (mcp 1.x cannot share the project's, which has mcp 2.x);
# install.sh creates it.
LEGACY_MCP_VENV = REPO_ROOT / ".cache" / "livestack-mcp1"

LOG_ENV = "MCPLINT_NETGUARD_LOG"

# Proxy settings would route a child's requests away from loopback (or make it try).
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy", "socks_proxy")


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a subprocess started by the tests.

    The network guard's sitecustomize comes first on PYTHONPATH, so a Python child is
    guarded from its first line and reports violations to the shared log; proxies are
    removed; NO_COLOR keeps output plain for assertions.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in _PROXY_VARIABLES and key != "PYTHONSTARTUP"
    }
    paths = [str(NETGUARD_DIR)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))  # keep order, drop duplicates
    if os.environ.get(LOG_ENV):
        env[LOG_ENV] = os.environ[LOG_ENV]
    env["NO_COLOR"] = "1"
    env.pop("FORCE_COLOR", None)
    # A test that runs under a CI system must see what it sees elsewhere: mcplint reads these
    # for the report root, the default format and the job summary; tests set them themselves.
    for variable in ("GITHUB_ACTIONS", "GITHUB_WORKSPACE", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT",
                     "CI_PROJECT_DIR"):
        env.pop(variable, None)
    env["PYTHONUNBUFFERED"] = "1"  # logs of a failed start must not sit in a buffer
    if extra:
        env.update(extra)
    return env


def python() -> str:
    """The interpreter running the tests (the project's venv)."""
    return sys.executable


def legacy_python() -> Path:
    """The interpreter of the legacy MCP server's virtualenv (mcp 1.x)."""
    return LEGACY_MCP_VENV / "bin" / "python"


def venv_script(name: str) -> str:
    """Path of a console script installed next to the interpreter (e.g. ``mcplint``)."""
    return str(Path(sys.executable).with_name(name))
