"""URLs as a hosted client sees them: canonical form, host kind, discovery URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from mcplint.facts.addresses import classify_address, is_loopback_host, parse_address

_DEFAULT_PORTS = {"https": 443, "http": 80}


def looks_like_url(value: object) -> bool:
    return isinstance(value, str) and value[:8].lower().startswith(("https://", "http://"))


_SPECIAL = ("http:", "https:", "ws:", "wss:", "ftp:", "file:")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_TAB_AND_NEWLINE = str.maketrans("", "", "\t\n\r")
_FULL_STOPS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})  # UTS 46 maps them


def browser_form(url: str) -> str:
    """`url` as a browser's (WHATWG) or Node's URL parser reads it, before splitting it:
    leading and trailing controls and spaces go, tabs and newlines anywhere go, and in an
    http(s) URL a backslash is a path separator (`https://a\\@b/` is host a, not b)."""
    url = url.strip(_C0_AND_SPACE).translate(_TAB_AND_NEWLINE)
    if url[:6].lower().startswith(_SPECIAL):
        url = url.replace("\\", "/")
    return url


def _ipv4_number(part: str) -> int | None:
    """One part of a WHATWG IPv4 host: decimal, 0x hex or 0-led octal."""
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
        if not digits:
            return 0
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    try:
        return int(digits, base) if digits.isalnum() and digits.isascii() else None
    except ValueError:
        return None


def _ends_in_number(labels: list[str]) -> bool:
    last = labels[-1]
    if last.isascii() and last.isdigit():
        return True
    return last[:2].lower() == "0x" and all(c in "0123456789abcdefABCDEF" for c in last[2:])


def browser_host(host: str) -> str | None:
    """The host a browser or Node connects to for a URL's host text: percent-decoded,
    mapped as IDNA does (lower case, full-width forms), and every IPv4 form they accept
    (`0x7f.1`, `127.1`, `0177.0.0.1`, `2130706433`) as the dotted address. None when
    they would reject the URL (a numeric last label that is no IPv4 address)."""
    if "%" in host:
        host = unquote(host, errors="replace")
    if not host.isascii():
        import unicodedata

        host = unicodedata.normalize("NFKC", host.translate(_FULL_STOPS))
    host = host.lower()
    if ":" in host:  # an IPv6 literal (urlsplit took the brackets off)
        return host
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not labels or not labels[-1] or not _ends_in_number(labels):
        return host
    numbers = [_ipv4_number(label) for label in labels] if len(labels) <= 4 else [None]
    if any(n is None for n in numbers) or any(n > 255 for n in numbers[:-1]):  # type: ignore[operator]
        return None
    last = numbers[-1]
    if last >= 256 ** (5 - len(numbers)):  # type: ignore[operator]
        return None
    value = sum(n << (8 * (3 - i)) for i, n in enumerate(numbers[:-1])) + last  # type: ignore[operator]
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


def _split(url: str) -> tuple[SplitResult, int | None] | None:
    try:
        parts = urlsplit(browser_form(url))
        return parts, parts.port
    except ValueError:  # a bad port or IPv6 literal
        return None


def _canonical(parts: SplitResult, port: int | None) -> str | None:
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    host = browser_host(parts.hostname)
    if host is None:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}"


def canonical(url: str) -> str | None:
    """The canonical resource URI (RFC 8707, MCP authorization): lowercase scheme and host,
    no default port, no fragment, no empty query, no trailing slash; path case kept."""
    split = _split(url)
    return _canonical(*split) if split else None


def _noncanonical(url: str, parts: SplitResult, port: int | None) -> list[str]:
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
    if parts.query == "" and "?" in url.split("#", 1)[0]:
        reasons.append("empty query")
    if "#" in url:
        reasons.append("fragment")
    return reasons


def noncanonical_reasons(url: str) -> list[str]:
    """Why `url` is not canonical, in words a user recognises."""
    split = _split(url)
    return _noncanonical(url, *split) if split else []


@lru_cache(maxsize=16)
def _suffix_set(suffixes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(suffixes)


def _matching_suffix(name: str, suffixes: Iterable[str]) -> str | None:
    """The longest of `suffixes` that `name` is, or is under."""
    wanted = _suffix_set(tuple(suffixes))
    labels = name.split(".")
    for index in range(len(labels)):
        candidate = ".".join(labels[index:])
        if candidate in wanted:
            return candidate
    return None


def host_kind(host: str, nonpublic_suffixes: Iterable[str]) -> tuple[str, str | None]:
    """('ip'|'name', why the host is not public or None)."""
    address = parse_address(host)
    if address is not None:
        kind = classify_address(address)
        return "ip", None if kind == "global" else f"{host} is a {kind} address"
    name = host.rstrip(".")
    if "." not in name:
        return "name", f"'{name}' is a single-label name, which public DNS does not resolve"
    suffix = _matching_suffix(name, nonpublic_suffixes)
    if suffix is not None:
        return "name", f"'{name}' is under '{suffix}', a suffix that is not public DNS"
    return "name", None


def zone_of(host: str, zones: Iterable[str]) -> str | None:
    return _matching_suffix(host.rstrip("."), zones)


_SEPARATORS = str.maketrans("", "", "-_.")


def _normalise_param(name: str) -> str:
    return name.lower().translate(_SEPARATORS)


@lru_cache(maxsize=8)
def _wanted(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_normalise_param(n) for n in names)


def credential_params(query: str, names: Iterable[str]) -> list[str]:
    if not query:
        return []
    wanted = _wanted(tuple(names))
    found = []
    for key, _ in parse_qsl(query, keep_blank_values=True):
        if _normalise_param(key) in wanted and key not in found:
            found.append(key)
    return found


def url_facts(url: str, data: dict[str, Any]) -> dict[str, Any]:
    """Everything the rules ask about one URL. `valid` is False if it cannot be parsed."""
    split = _split(url)
    if split is None:
        return {"url": url, "valid": False, "error": "not a URL (bad port or address)"}
    parts, port = split
    host = browser_host(parts.hostname or "")
    if host is None:
        return {"url": url, "valid": False, "scheme": parts.scheme.lower(),
                "error": "the host ends in a number but is no IPv4 address"}
    if not parts.scheme or not host:
        return {"url": url, "valid": False, "scheme": parts.scheme.lower(),
                "error": "no scheme or host"}
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
        "canonical": _canonical(parts, port),
        "noncanonical": _noncanonical(url, parts, port),
        "userinfo": "@" in parts.netloc,
        "credential_params": credential_params(parts.query, data["credential_params"]),
        "loopback": is_loopback_host(host),
        "host_kind": kind,
        "nonpublic_reason": nonpublic,
        "dyndns_zone": zone_of(host, data["dyndns_zones"]),
    }


def host_of(url: str) -> str | None:
    try:
        return browser_host(urlsplit(browser_form(url)).hostname or "") or None
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


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """An exempt-path glob: `*` stands for one or more path segments."""
    pieces = (re.escape(piece) for piece in pattern.split("*"))
    return re.compile("[^/]+(?:/[^/]+)*/?".join(pieces) + r"\Z")


def path_exempt(path: str, globs: Iterable[str]) -> bool:
    return any(glob_regex(g).match(path) for g in globs)
