"""MCP resource server of the live stack: the official MCP SDK, one app per host name.

Usage: python mcp_server.py CONFIG.json

CONFIG.json (written by stack.py):
    {"zone": "mcplint-stack.com",
     "default_issuer": "https://auth.mcplint-stack.com",
     "token_issuers": ["https://auth.mcplint-stack.com", "https://as-tenant-path.../tenant1"],
     "scopes": ["mcp:read", "mcp:write"],
     "public_key_file": ".../as-signing-key.pub.pem",
     "delay_file": ".../delay_ms",
     "ports_file": ".../mcp-ports.json"}

nginx terminates TLS and forwards with the public host name in ``Host``. For each host
under the zone this server builds, on first use, an ``MCPServer`` with ``AuthSettings``
(resource ``https://<host>/mcp``, the issuer nginx names in ``X-Livestack-Issuer`` or
the default one, required scopes from ``X-Livestack-Scopes``) and a JWT token verifier,
so the SDK itself serves the path-inserted protected resource metadata and answers
``/mcp`` with its 401 Bearer challenge; with ``X-Livestack-Open: 1`` the host's server
has no authorization at all (an ``auth: none`` deployment). Either way it serves both
protocol generations (``initialize`` and ``server/discover``), as mcp 2.x does. The SDK's DNS-rebinding protection is enabled
with the public host name as the allowed Host: without it, mcp>=2 answers 421 to a
public name, as it does for a deployment behind a proxy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import jwt
import uvicorn
from anyio.abc import TaskGroup, TaskStatus
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

ISSUER_HEADER = b"x-livestack-issuer"
SCOPES_HEADER = b"x-livestack-scopes"
OPEN_HEADER = b"x-livestack-open"  # serve this host without authorization (auth: none)


@dataclass(frozen=True)
class Config:
    zone: str
    default_issuer: str
    token_issuers: list[str]
    scopes: list[str]
    public_key_file: str
    delay_file: str
    ports_file: str


class JwtTokenVerifier:
    """Accepts the JWT access tokens oidc-provider issues for this resource (RFC 9068)."""

    def __init__(self, public_key: str, issuers: list[str], audience: str) -> None:
        self._public_key = public_key
        self._issuers = issuers
        self._audience = audience

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                audience=self._audience,
                issuer=self._issuers,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError:
            return None  # malformed, forged, expired or for another resource: 401
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id", "")),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            resource=self._audience,
            subject=claims.get("sub"),
            claims=claims,
        )


def build_app(
    config: Config, public_key: str, host: str, issuer: str, scopes: list[str], *, open_server: bool = False
) -> Starlette:
    resource = f"https://{host}/mcp"
    if open_server:
        server = MCPServer(name=f"livestack {host}")
    else:
        server = MCPServer(
            name=f"livestack {host}",
            token_verifier=JwtTokenVerifier(public_key, config.token_issuers, resource),
            auth=AuthSettings(
                issuer_url=issuer,
                resource_server_url=resource,
                required_scopes=scopes,
                validate_token_resource=True,
            ),
        )

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[host],
        allowed_origins=[f"https://{host}"],
    )
    return server.streamable_http_app(transport_security=security)


class HostDispatcher:
    """ASGI app: one SDK app per (host, issuer, scopes, open), built on first use.

    Each SDK app has a lifespan (its session manager's task group); it is entered in
    a task of this dispatcher's own lifespan and held open until shutdown.
    """

    def __init__(self, config: Config) -> None:
        self._config = config
        self._public_key = Path(config.public_key_file).read_text()
        self._apps: dict[tuple[str, str, tuple[str, ...], bool], Starlette] = {}
        self._lock = asyncio.Lock()
        self._task_group: TaskGroup | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1").split(":", 1)[0].lower()
        if not host.endswith("." + self._config.zone):
            await _plain(send, 404, f"unknown host {host!r}")
            return
        issuer = headers.get(ISSUER_HEADER, b"").decode() or self._config.default_issuer
        scopes = tuple(headers.get(SCOPES_HEADER, b"").decode().split()) or tuple(self._config.scopes)
        open_server = headers.get(OPEN_HEADER) == b"1"
        await _delay(self._config.delay_file)
        app = await self._app_for(host, issuer, scopes, open_server)
        await app(scope, receive, send)

    async def _app_for(self, host: str, issuer: str, scopes: tuple[str, ...], open_server: bool) -> Starlette:
        key = (host, issuer, scopes, open_server)
        async with self._lock:
            if key not in self._apps:
                app = build_app(self._config, self._public_key, host, issuer, list(scopes), open_server=open_server)
                assert self._task_group is not None
                await self._task_group.start(_hold_lifespan, app)
                self._apps[key] = app
            return self._apps[key]

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        async with anyio.create_task_group() as task_group:
            self._task_group = task_group
            await send({"type": "lifespan.startup.complete"})
            message = await receive()  # lifespan.shutdown
            task_group.cancel_scope.cancel()
        await send({"type": "lifespan.shutdown.complete"})


async def _hold_lifespan(app: Starlette, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
    async with app.router.lifespan_context(app):
        task_status.started()
        await anyio.sleep_forever()


async def _delay(delay_file: str) -> None:
    """Injected latency for the benchmark: milliseconds read from a file, 0 without it."""
    try:
        milliseconds = int(Path(delay_file).read_text().strip() or 0)
    except (OSError, ValueError):
        return
    if milliseconds > 0:
        await asyncio.sleep(milliseconds / 1000)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ReadyServer(uvicorn.Server):
    """A uvicorn server that writes its port to the ports file once it listens."""

    def __init__(self, config: uvicorn.Config, ports_file: str, port: int) -> None:
        super().__init__(config)
        self._ports_file = Path(ports_file)
        self._port = port

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            temporary = self._ports_file.with_suffix(".tmp")
            temporary.write_text(json.dumps({"mcp": self._port}))
            temporary.replace(self._ports_file)


def main() -> None:
    config = Config(**json.loads(Path(sys.argv[1]).read_text()))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s mcp_server %(levelname)s %(name)s: %(message)s")
    # Bound here on port 0, so no other process can take the port between choice and use.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    uvicorn_config = uvicorn.Config(
        HostDispatcher(config),
        lifespan="on",
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=1,
    )
    server = ReadyServer(uvicorn_config, config.ports_file, port)
    print(f"mcp_server starting on 127.0.0.1:{port}", flush=True)
    server.run(sockets=[listener])


if __name__ == "__main__":
    main()
