"""What the edge (nginx) does for each host name: the data model of a site.

A site is one nginx server block: a host name, a certificate, and for each path one
action: a static answer, a redirect, a proxy to a backend, or a conditional answer.
The catalog (catalog.py) describes every scenario with these; nginx.py renders them.
Tests add their own sites with ``Stack.static_site``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Static:
    """A fixed answer: status, body, content type and extra headers.

    A header name may repeat (e.g. two WWW-Authenticate fields).
    """

    status: int
    body: str = ""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, status: int, document: Any, headers: tuple[tuple[str, str], ...] = ()) -> Static:
        return cls(status, json.dumps(document, separators=(",", ":")), "application/json", headers)

    @classmethod
    def html(cls, status: int, page: str, headers: tuple[tuple[str, str], ...] = ()) -> Static:
        return cls(status, page, "text/html; charset=utf-8", headers)


@dataclass(frozen=True)
class Redirect:
    status: int  # 301, 302, 303, 307 or 308
    location: str


@dataclass(frozen=True)
class Proxy:
    """Forward to a backend of the stack, through nginx's X-Forwarded-* headers.

    backend: "mcp" (the MCP SDK server, mcp 2.x: both protocol generations),
    "legacy_mcp" (mcp 1.x: initialize only, open), "modern_mcp" (TypeScript SDK 2.x:
    2026-07-28 only, open), "as" (oidc-provider, issuer of the healthy AS host),
    "tenant" (oidc-provider mounted at /tenant1), "as_no_post" (oidc-provider that
    refuses client_secret_post).
    path: replaces the request path (an alias), only for exact-path routes.
    issuer, scopes: for "mcp", what the MCP server puts in this host's protected
    resource metadata (authorization_servers[0], scopes_supported); default: the
    healthy authorization server and the stack's scopes.
    open: for "mcp", serve this host without authorization (``auth: none``).
    delay_seconds: for the oidc-provider backends, answer this much later.
    """

    backend: str
    path: str | None = None
    issuer: str | None = None
    scopes: tuple[str, ...] | None = None
    open: bool = False
    delay_seconds: float | None = None


@dataclass(frozen=True)
class Slow:
    """A JSON document answered 200 after ``seconds`` (by the stack's slow backend)."""

    seconds: float
    document: Mapping[str, Any]


@dataclass(frozen=True)
class When:
    """Answer ``then`` when the nginx condition holds, else do ``otherwise``.

    condition: the inside of an nginx ``if (...)``, e.g. ``$http_authorization`` or
    ``$content_type ~* "x-www-form-urlencoded"``.
    """

    condition: str
    then: Static | Redirect
    otherwise: Action


Action = Static | Redirect | Proxy | Slow | When

NOT_FOUND = Static.json(404, {"error": "not_found"})


@dataclass(frozen=True)
class Site:
    """One host name served by nginx.

    routes: path -> action. A key is an exact path ("/mcp"), or a prefix when it ends
    with "*" ("/token*" matches /token and /token/revocation). Exact beats prefix;
    the longest prefix wins; ``default`` answers everything else.
    cert_host: present the certificate of this other name (wrong-certificate scenario).
    """

    host: str
    routes: Mapping[str, Action] = field(default_factory=dict)
    default: Action = NOT_FOUND
    cert_host: str | None = None
