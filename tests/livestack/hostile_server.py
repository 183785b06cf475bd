"""Hostile HTTPS servers of the live stack, and its slow backend.

Usage: python hostile_server.py CONFIG.json

CONFIG.json (written by stack.py):
    {"zone": "mcplint-stack.com", "cert_file": ..., "key_file": ...,
     "static_dir": ..., "ports_file": ...}

Two listeners on 127.0.0.1, ports reported in ports_file as {"hostile": P, "slow": P}:

- hostile (TLS, reached directly through --connect-to, no nginx in between so that
  nothing smooths the misbehaviour): the host name (Host header) picks the behaviour:
    hostile-drip          status line and headers one byte per second, forever
    hostile-drip-body     headers at once, then the body one byte per second, forever
    hostile-endless       200 application/json, chunked, an endless body
    hostile-invalid-json  POST /mcp: 401 Bearer challenge with resource_metadata pointing
                          at this host; any other request: 200 application/json, invalid
    hostile-deep-json     same, with a valid but 100,000-deep array [[[...]]]
    hostile-reset         reads the request, then resets the connection (TCP RST)
    hostile-ssrf          a whole OAuth deployment whose answers carry what the test asks
                          for: the path holds /t/TOKEN/, TOKEN the URL-safe base64 of a JSON
                          object (see Hostile.hostile_ssrf), so a test names the challenge's
                          resource_metadata, the PRM's authorization_servers, the AS
                          endpoints and the strings the answers hold
- slow (plain HTTP, behind nginx): GET /slow/<milliseconds>/<file> answers the JSON
  file from static_dir after that delay.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import socket
import ssl
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_HEAD = 64 * 1024
DEEP_JSON_DEPTH = 100_000
ENDLESS_BYTES = 64 * 1024 * 1024
CHUNK = b"x" * 65536


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    host: str


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The request line and Host header; the body, if any, is left unread."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    host = ""
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "host":
            host = value.strip().split(":", 1)[0].lower()
    return Request(parts[0], parts[1], host)


def response(status: str, body: bytes, content_type: str = "application/json", extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        f"{extra}Connection: close\r\n\r\n"
    ).encode() + body


class Hostile:
    def __init__(self, zone: str) -> None:
        self.zone = zone

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await read_request(reader)
            if request is None:
                writer.transport.abort()
                return
            label = request.host.removesuffix("." + self.zone)
            behaviour = getattr(self, label.replace("-", "_"), None)
            if behaviour is None or not label.startswith("hostile-"):
                writer.write(response("421 Misdirected Request", b'{"error":"unknown host"}'))
            else:
                await behaviour(request, writer)
            if not writer.transport.is_closing():
                await writer.drain()
                writer.close()
                await asyncio.wait_for(writer.wait_closed(), 5)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            writer.transport.abort()  # the client gave up, which is the point

    async def hostile_drip(self, request: Request, writer: asyncio.StreamWriter) -> None:
        await self._drip(writer, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", b"X-Drip: 1\r\n")

    async def hostile_drip_body(self, request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n")
        await self._drip(writer, b'{"resource": "', b"x")

    async def _drip(self, writer: asyncio.StreamWriter, prefix: bytes, filler: bytes) -> None:
        """One byte a second: prefix, then filler over and over, until the client leaves."""
        index = 0
        while not writer.is_closing():
            data = prefix if index < len(prefix) else filler
            position = index if index < len(prefix) else (index - len(prefix)) % len(filler)
            writer.write(data[position : position + 1])
            await writer.drain()
            await asyncio.sleep(1.0)
            index += 1

    async def hostile_endless(self, request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"1\r\n[\r\n")
        chunk = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n"
        # drain() waits while the client does not read: no memory grows here. Once the client
        # has left, a TLS transport may accept writes without ever pausing or raising, and
        # drain() then never yields: so yield explicitly, and stop after 64 MiB (endless to
        # any client that caps what it reads, as it must).
        for _ in range(ENDLESS_BYTES // len(chunk)):
            if writer.is_closing():
                break
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0)

    async def hostile_invalid_json(self, request: Request, writer: asyncio.StreamWriter) -> None:
        resource = f"https://{request.host}/mcp"
        body = (
            '{"resource": "' + resource + '", "authorization_servers": ["https://auth.' + self.zone + '"], '
            '"scopes_supported": ["mcp:read",'
        ).encode()
        await self._challenge_then(request, writer, body)

    async def hostile_deep_json(self, request: Request, writer: asyncio.StreamWriter) -> None:
        body = b"[" * DEEP_JSON_DEPTH + b"]" * DEEP_JSON_DEPTH
        await self._challenge_then(request, writer, body)

    async def _challenge_then(self, request: Request, writer: asyncio.StreamWriter, body: bytes) -> None:
        """POST /mcp gets a proper challenge, so the hostile document is the PRM itself."""
        if request.method == "POST" and request.path.split("?", 1)[0] == "/mcp":
            metadata = f"https://{request.host}/.well-known/oauth-protected-resource/mcp"
            challenge = f'WWW-Authenticate: Bearer error="invalid_token", resource_metadata="{metadata}"\r\n'
            writer.write(response("401 Unauthorized", b'{"error":"invalid_token"}', extra=challenge))
        else:
            writer.write(response("200 OK", body))

    async def hostile_ssrf(self, request: Request, writer: asyncio.StreamWriter) -> None:
        """Answers steered by the request's /t/TOKEN/ (hostile_config), each key optional:
        hint (the challenge's resource_metadata), authorization_servers (the PRM's list),
        token_endpoint, registration_endpoint (the AS metadata's), registration (the DCR
        answer's members), token (the token endpoint's JSON answer), header (one raw header
        line added to every answer). Unnamed URLs point back at this host."""
        config, token = hostile_config(request.path)
        own = f"https://{request.host}/t/{token}"
        path = request.path.split("?", 1)[0]
        extra = config.get("header", "")
        extra = f"{extra}\r\n" if extra else ""
        if request.method == "POST" and path.endswith("/mcp"):
            hint = config.get("hint", f"https://{request.host}/.well-known/oauth-protected-resource/t/{token}/mcp")
            challenge = f'WWW-Authenticate: Bearer error="invalid_token", resource_metadata="{hint}"\r\n'
            writer.write(response("401 Unauthorized", b'{"error":"invalid_token"}', extra=challenge + extra))
        elif "oauth-protected-resource" in path:
            prm = {"resource": f"{own}/mcp", "authorization_servers": config.get("authorization_servers", [own])}
            writer.write(response("200 OK", json.dumps(prm).encode(), extra=extra))
        elif "oauth-authorization-server" in path or "openid-configuration" in path:
            metadata = {
                "issuer": own,
                "authorization_endpoint": f"{own}/authorize",
                "token_endpoint": config.get("token_endpoint", f"{own}/token"),
                "registration_endpoint": config.get("registration_endpoint", f"{own}/register"),
                "code_challenge_methods_supported": ["S256"],
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_methods_supported": ["none"],
            }
            writer.write(response("200 OK", json.dumps(metadata).encode(), extra=extra))
        elif request.method == "POST" and path.endswith("/register"):
            answer = {"client_id": "hostile-client", **config.get("registration", {})}
            writer.write(response("201 Created", json.dumps(answer).encode(), extra=extra))
        elif request.method == "POST" and path.endswith("/token"):
            answer = config.get("token", {"error": "invalid_grant"})
            writer.write(response("400 Bad Request", json.dumps(answer).encode(), extra=extra))
        else:
            writer.write(response("404 Not Found", b'{"error":"not_found"}', extra=extra))

    async def hostile_reset(self, request: Request, writer: asyncio.StreamWriter) -> None:
        # SO_LINGER with a zero timeout turns close() into a TCP RST.
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()


def hostile_token(config: dict) -> str:
    """The /t/TOKEN/ path piece that makes hostile-ssrf answer with `config`."""
    return base64.urlsafe_b64encode(json.dumps(config).encode()).decode().rstrip("=")


def hostile_config(path: str) -> tuple[dict, str]:
    """(the config, its token) of a hostile-ssrf request path; ({}, "-") without one."""
    parts = path.split("?", 1)[0].split("/")
    if "t" not in parts or parts.index("t") + 1 >= len(parts):
        return {}, "-"
    token = parts[parts.index("t") + 1]
    try:
        config = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        return {}, token
    return (config if isinstance(config, dict) else {}), token


class Slow:
    def __init__(self, static_dir: Path) -> None:
        self.static_dir = static_dir

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await read_request(reader)
            writer.write(await self._answer(request))
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _answer(self, request: Request | None) -> bytes:
        parts = request.path.strip("/").split("/") if request else []
        if (
            len(parts) != 3
            or parts[0] != "slow"
            or not parts[1].isdigit()
            or "/" in parts[2]
            or parts[2].startswith(".")
        ):
            return response("404 Not Found", b'{"error":"not_found"}')
        path = self.static_dir / parts[2]
        if not path.is_file():
            return response("404 Not Found", b'{"error":"not_found"}')
        await asyncio.sleep(int(parts[1]) / 1000)
        return response("200 OK", path.read_bytes())


async def serve(config: dict[str, str]) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config["cert_file"], config["key_file"])
    hostile = await asyncio.start_server(Hostile(config["zone"]).handle, "127.0.0.1", 0, ssl=context, limit=MAX_HEAD)
    slow = await asyncio.start_server(Slow(Path(config["static_dir"])).handle, "127.0.0.1", 0, limit=MAX_HEAD)
    ports = {"hostile": hostile.sockets[0].getsockname()[1], "slow": slow.sockets[0].getsockname()[1]}
    ports_file = Path(config["ports_file"])
    ports_file.with_suffix(".tmp").write_text(json.dumps(ports))
    ports_file.with_suffix(".tmp").replace(ports_file)
    print(f"hostile_server listening: {ports}", flush=True)
    async with hostile, slow:
        await asyncio.gather(hostile.serve_forever(), slow.serve_forever())


if __name__ == "__main__":
    asyncio.run(serve(json.loads(Path(sys.argv[1]).read_text())))
