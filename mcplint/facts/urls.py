"""URLs as a hosted client sees them: canonical form, host kind, discovery URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mcplint.facts.addresses import classify_address, is_loopback_host, parse_address

_DEFAULT_PORTS = {"https": 443, "http": 80}


def looks_like_url(value: object) -> bool:
    return isinstance(value, str) and value[:8].lower().startswith(("https://", "http://"))


def canonical(url: str) -> str | None:
    """The canonical resource URI (RFC 8707, MCP authorization): lowercase scheme and host,
    no default port, no fragment, no empty query, no trailing slash; path case kept."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}"


def noncanonical_reasons(url: str) -> list[str]:
    """Why `url` is not canonical, in words a user recognises."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return []
    reasons = []
    scheme = url.split(":", 1)[0]  # urlsplit lowercases the scheme it returns
    if scheme != scheme.lower():
        reasons.append("uppercase scheme")
    host_and_port = parts.netloc.rpartition("@")[2]
    if host_and_port != host_and_port.lower():
        reasons.append("uppercase host")
    if port is not None and port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        reasons.append(f"explicit default port :{port}")
    if parts.path.endswith("/"):
        reasons.append("trailing slash")
    if url.endswith("?") or (parts.query == "" and "?" in url.split("#", 1)[0]):
        reasons.append("empty query")
    if "#" in url:
        reasons.append("fragment")
    return reasons


def host_kind(host: str, nonpublic_suffixes: Iterable[str]) -> tuple[str, str | None]:
    """('ip'|'name', why the host is not public or None)."""
    address = parse_address(host)
    if address is not None:
        kind = classify_address(address)
        return "ip", None if kind == "global" else f"{host} is a {kind} address"
    name = host.rstrip(".")
    if "." not in name:
        return "name", f"'{name}' is a single-label name, which public DNS does not resolve"
    for suffix in nonpublic_suffixes:
        if name == suffix or name.endswith("." + suffix):
            return "name", f"'{name}' is under '{suffix}', a suffix that is not public DNS"
    return "name", None


def zone_of(host: str, zones: Iterable[str]) -> str | None:
    name = host.rstrip(".")
    for zone in zones:
        if name == zone or name.endswith("." + zone):
            return zone
    return None


def _normalise_param(name: str) -> str:
    return re.sub(r"[-_.]", "", name.lower())


def credential_params(query: str, names: Iterable[str]) -> list[str]:
    wanted = {_normalise_param(n) for n in names}
    found = []
    for key, _ in parse_qsl(query, keep_blank_values=True):
        if _normalise_param(key) in wanted and key not in found:
            found.append(key)
    return found


def url_facts(url: str, data: dict[str, Any]) -> dict[str, Any]:
    """Everything the rules ask about one URL. `valid` is False if it cannot be parsed."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        return {"url": url, "valid": False, "error": str(error)}
    host = (parts.hostname or "").lower()
    if not parts.scheme or not host:
        return {"url": url, "valid": False, "error": "no scheme or host"}
    kind, nonpublic = host_kind(host, data["nonpublic_suffixes"])
    return {
        "url": url,
        "valid": True,
        "scheme": parts.scheme.lower(),
        "host": host,
        "port": port,
        "path": parts.path,
        "query": parts.query,
        "fragment": parts.fragment,
        "has_query": "?" in url.split("#", 1)[0],
        "has_fragment": "#" in url,
        "canonical": canonical(url),
        "noncanonical": noncanonical_reasons(url),
        "userinfo": "@" in parts.netloc,
        "credential_params": credential_params(parts.query, data["credential_params"]),
        "loopback": is_loopback_host(host),
        "host_kind": kind,
        "nonpublic_reason": nonpublic,
        "dyndns_zone": zone_of(host, data["dyndns_zones"]),
    }


def host_of(url: str) -> str | None:
    try:
        return urlsplit(url.strip()).hostname or None
    except ValueError:
        return None


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def prm_urls(server_url: str) -> list[str]:
    """Protected resource metadata URLs in the order clients try them without a
    `resource_metadata` hint: path-inserted (unless the path is empty), then the root."""
    parts = urlsplit(server_url)
    base = f"{parts.scheme}://{parts.netloc}/.well-known/oauth-protected-resource"
    path = parts.path.rstrip("/")
    return [f"{base}{path}", base] if path else [base]


def as_metadata_urls(issuer: str) -> list[str]:
    """Authorization server metadata URLs for `issuer`, in the MCP spec's order."""
    parts = urlsplit(issuer)
    root = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if not path:
        return [f"{root}/.well-known/oauth-authorization-server",
                f"{root}/.well-known/openid-configuration"]
    return [
        f"{root}/.well-known/oauth-authorization-server{path}",
        f"{root}/.well-known/openid-configuration{path}",
        f"{root}{path}/.well-known/openid-configuration",
    ]


def path_of(url: str) -> str:
    return urlsplit(url).path or "/"


def glob_regex(pattern: str) -> re.Pattern[str]:
    """An exempt-path glob: `*` stands for one or more path segments."""
    pieces = (re.escape(piece) for piece in pattern.split("*"))
    return re.compile("[^/]+(?:/[^/]+)*/?".join(pieces) + r"\Z")


def path_exempt(path: str, globs: Iterable[str]) -> bool:
    return any(glob_regex(g).match(path) for g in globs)
