"""mcplint's live test stack: real DNS, TLS, edge, MCP and OAuth servers on loopback.

See README.md in this folder. Tests use the ``livestack`` fixture (fixtures.py); a
script can use ``Stack`` directly:

    from livestack import Stack
    with Stack(Path(tmpdir)) as stack:
        print(stack.cli_args("healthy"))
"""

from .catalog import (
    CLAUDE_CALLBACK,
    DISCOVERY_AGENT_PATTERN,
    SCOPES,
    SLOW_SECONDS,
    SLOW_TOKEN_SECONDS,
    STATIC_HEADER,
    STATIC_KEY,
    STATIC_KEY_ENV,
    ZONE,
    Scenario,
)
from .env import child_env
from .procs import StackError
from .sites import NOT_FOUND, Proxy, Redirect, Site, Slow, Static, When
from .stack import Stack

__all__ = [
    "CLAUDE_CALLBACK",
    "DISCOVERY_AGENT_PATTERN",
    "NOT_FOUND",
    "SCOPES",
    "SLOW_SECONDS",
    "SLOW_TOKEN_SECONDS",
    "STATIC_HEADER",
    "STATIC_KEY",
    "STATIC_KEY_ENV",
    "ZONE",
    "Proxy",
    "Redirect",
    "Scenario",
    "Site",
    "Slow",
    "Stack",
    "StackError",
    "Static",
    "When",
    "child_env",
]
