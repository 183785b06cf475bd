"""Legacy-only MCP server of the live stack: the official SDK ``mcp`` 1.x (FastMCP).

Usage: <.cache/livestack-mcp1>/bin/python server.py CONFIG.json

CONFIG.json (written by stack.py):
    {"hosts": ["generation-legacy-only.mcplint-stack.com"],
     "ports_file": ".../legacy-mcp-ports.json"}

Runs in its own virtualenv (tests/livestack/install.sh), so it must not import the
stack's modules (they need mcp 2.x). An open server (no authorization), as a team on
mcp 1.x deploys it: it answers the ``initialize`` handshake of 2025-11-25 and earlier
and nothing of 2026-07-28 (``server/discover`` gets the SDK's own 400). nginx
terminates TLS and forwards the public name in ``Host``; the SDK's DNS-rebinding
protection allows exactly the configured names.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import uvicorn
from mcp.server.fastmcp import FastMCP
from mcp.server.transport_security import TransportSecuritySettings


class ReadyServer(uvicorn.Server):
    """Writes its port to the ports file once it listens."""

    def __init__(self, config: uvicorn.Config, ports_file: Path, port: int) -> None:
        super().__init__(config)
        self._ports_file = ports_file
        self._port = port

    async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        await super().startup(sockets)
        if not self.should_exit:
            temporary = self._ports_file.with_suffix(".tmp")
            temporary.write_text(json.dumps({"legacy_mcp": self._port}))
            temporary.replace(self._ports_file)


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    hosts = list(config["hosts"])
    server = FastMCP(
        name="livestack legacy",
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=hosts,
            allowed_origins=[f"https://{host}" for host in hosts],
        ),
    )

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))  # bound here, so no other process takes the port
    port = listener.getsockname()[1]
    uvicorn_config = uvicorn.Config(
        server.streamable_http_app(),
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=1,
    )
    print(f"legacy mcp server (mcp 1.x) starting on 127.0.0.1:{port}", flush=True)
    ReadyServer(uvicorn_config, Path(config["ports_file"]), port).run(sockets=[listener])


if __name__ == "__main__":
    main()
