"""Turning exchanges and DNS answers into live facts: what was seen, classified, never
judged (the policies judge). Each fact carries `at`, the manifest field it is about, and
`evidence`, what a reader needs to reproduce it."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from mcplint.facts.addresses import DESCRIPTIONS, classify_address, parse_network
from mcplint.facts.urls import looks_like_url, url_facts
from mcplint.live.net.challenge import parse as parse_challenges
from mcplint.live.net.dns import Lookup
from mcplint.live.net.http import REDIRECT_STATUSES, Exchange

TRANSPORT_ERRORS = {"refused", "reset", "timeout", "protocol", "tls"}


def edge_signature(exchange: Exchange, signatures: dict[str, Any]) -> str | None:
    """The edge (CDN/WAF) a 403/429 came from, if its headers or page say so."""
    if exchange.status not in (403, 429):
        return None
    for name, vendor in signatures["headers"].items():
        if exchange.header(name) is not None:
            return f"{vendor} ({name}: {exchange.header(name)})"
    if exchange.content_type == "application/json" or exchange.body.lstrip()[:1] in (b"{", b"["):
        return None  # the application's own JSON error: not the edge
    server = (exchange.header("server") or "").lower()
    for needle, vendor in signatures["servers"].items():
        if needle in server:
            return f"{vendor} (server: {exchange.header('server')})"
    page = exchange.text(64 * 1024)
    for marker, vendor in signatures["bodies"].items():
        if marker in page:
            return f"{vendor} (page says \"{marker}\")"
    return None


def body_kind(exchange: Exchange) -> str:
    """json, sse, html or other: what the body is, by type and by its first bytes."""
    content_type = exchange.content_type
    start = exchange.body.lstrip()[:15].lower()
    if content_type == "text/event-stream":
        return "sse"
    if content_type == "text/html" or start.startswith((b"<!doctype", b"<html")):
        return "html"
    if content_type.endswith("json") or start[:1] in (b"{", b"["):
        return "json"
    return "other"


def request_facts(exchanges: list[Exchange], signatures: dict[str, Any]) -> list[dict[str, Any]]:
    """Every request made, with the edge that blocked it if any (once per URL: the
    invalid-token probe blocked where the first POST was is the same block)."""
    facts, blocked = [], set()
    for exchange in exchanges:
        edge = edge_signature(exchange, signatures) if exchange.answered else None
        if edge and exchange.url in blocked:
            edge = None
        if edge:
            blocked.add(exchange.url)
        facts.append({**exchange.summary(), "edge": edge,
                      "evidence": exchange.evidence(header=edge)})
    return facts


def mcp_post(exchange: Exchange, expects_mcp: bool, signatures: dict[str, Any]) -> dict[str, Any]:
    """The first contact: the unauthenticated POST of `initialize` to the MCP URL."""
    fact: dict[str, Any] = {"at": exchange.at, "url": exchange.url, "status": exchange.status,
                            "outcome": "unanswered" if not exchange.answered else "answered"}
    evidence: dict[str, Any] = {}
    if exchange.answered:
        kind = body_kind(exchange)
        fact["kind"] = kind
        location = exchange.header("location")
        edge = edge_signature(exchange, signatures)
        if exchange.status in REDIRECT_STATUSES and location:
            target = urlsplit(location)
            fact["outcome"] = "redirect"
            fact["location"] = location
            fact["cross_host"] = bool(target.hostname) and target.hostname.lower() != exchange.host
            evidence["header"] = f"location: {location}"
        elif edge:
            fact["outcome"] = "edge-block"
        reason = _not_mcp_reason(exchange, kind, expects_mcp)
        fact["looks_like_mcp"] = reason is None
        fact["not_mcp_reason"] = reason
        if reason:
            evidence["field"] = reason
        elif exchange.truncated:
            evidence["field"] = "the body went on past 1 MiB and was cut"
    fact["evidence"] = exchange.evidence(**evidence)
    return fact


def _not_mcp_reason(exchange: Exchange, kind: str, expects_mcp: bool) -> str | None:
    if exchange.status in (404, 405):
        return f"{exchange.status} to POST"
    if kind == "html" and exchange.status is not None and exchange.status < 300:
        # A page where the protocol's answer belongs; an HTML body on a 401 or 403 is just
        # the error page of a server or proxy, judged by the challenge rules instead.
        return "an HTML page"
    if expects_mcp and exchange.status == 200:
        if kind == "sse":
            return None
        body, error = exchange.json()
        if error is None and isinstance(body, dict) and body.get("jsonrpc") == "2.0":
            return None
        return "no JSON-RPC or SSE reply to initialize"
    if expects_mcp and exchange.status is not None and exchange.status >= 400:
        return f"{exchange.status} to initialize"
    return None


def challenge(exchange: Exchange) -> dict[str, Any]:
    """What the 401 says: schemes in order, the Bearer challenge's parameters."""
    values = exchange.header_values("www-authenticate")
    challenges = parse_challenges(values)
    bearer = next((c for c in challenges if c.scheme.lower() == "bearer"), None)
    scope = bearer.params.get("scope") if bearer else None
    return {
        "at": exchange.at, "status": exchange.status, "header": bool(values),
        "schemes": [c.scheme for c in challenges],
        "first_scheme": challenges[0].scheme if challenges else None,
        "bearer": bearer is not None,
        "resource_metadata": bearer.params.get("resource_metadata") if bearer else None,
        "scope": scope, "scopes": scope.split() if scope else [],
        "evidence": exchange.evidence(header="www-authenticate: " + " | ".join(values)
                                      if values else "no WWW-Authenticate header"),
    }


def invalid_token(exchange: Exchange) -> dict[str, Any]:
    challenges = parse_challenges(exchange.header_values("www-authenticate"))
    return {"at": exchange.at, "answered": exchange.answered, "status": exchange.status,
            "bearer_challenge": any(c.scheme.lower() == "bearer" for c in challenges),
            "evidence": exchange.evidence(header="; ".join(exchange.header_values(
                "www-authenticate")) or None)}


def document_fetch(exchange: Exchange) -> dict[str, Any]:
    """A metadata document fetch: status, media type, and the JSON object if there is one."""
    body, error = exchange.json() if exchange.status == 200 else (None, None)
    fact: dict[str, Any] = {
        "url": exchange.url, "status": exchange.status, "error": exchange.error,
        "content_type": exchange.content_type or None,
        "json_ok": exchange.status == 200 and error is None,
        "object_ok": isinstance(body, dict),
        "json_error": error,
    }
    if isinstance(body, dict):
        fact["document"] = body
    return fact


def drift(declared: dict[str, Any] | None, served: dict[str, Any] | None,
          fields: tuple[str, ...]) -> list[str]:
    """Fields that matter and differ between the declared and the served document."""
    if not isinstance(declared, dict) or not isinstance(served, dict):
        return []
    differing = []
    for name in fields:
        a, b = declared.get(name), served.get(name)
        if isinstance(a, list) and isinstance(b, list):
            same = sorted(map(str, a)) == sorted(map(str, b))
        else:
            same = a == b
        if not same:
            differing.append(f"{name} (declared {_short(a)}, served {_short(b)})")
    return differing


def _short(value: Any) -> str:
    text = "absent" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def document_urls(document: dict[str, Any], role: str, at: str,
                  data: dict[str, Any]) -> list[dict[str, Any]]:
    """URL facts of a served document, located at the manifest field it is about."""
    urls = []
    for key, value in document.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not looks_like_url(item):
                continue
            item_role = role
            if role == "as":
                item_role = ("as-endpoint" if key.endswith("_endpoint") or key == "jwks_uri"
                             else "as-issuer" if key == "issuer" else "as-other")
            urls.append({**url_facts(item, data), "role": item_role, "field": key, "at": at,
                         "evidence": {"field": f"{key}: {item}"}})
    return urls


def dns_fact(host: str, at: str, public: Lookup, system: Lookup | None,
             declared: list[str] | None, declared_at: str | None) -> dict[str, Any]:
    addresses = []
    for text in public.a + public.aaaa:
        kind = classify_address(ipaddress.ip_address(text))
        addresses.append({"address": text, "kind": kind, "global": kind == "global",
                          "description": DESCRIPTIONS.get(kind, kind)})
    non_global = [f"{a['address']} ({a['description']})" for a in addresses if not a["global"]]
    fact: dict[str, Any] = {
        "at": at, "host": host, "literal": public.resolver == "literal",
        "answered": public.answered, "error": public.error,
        "a": public.a, "aaaa": public.aaaa,
        "global": [a["address"] for a in addresses if a["global"]],
        "non_global": non_global,
        "evidence": {"host": host, "resolver": public.resolver,
                     "answers": ", ".join(public.a + public.aaaa) or None,
                     "error": public.error},
    }
    if system is not None and public.resolver != "literal":
        fact["system"] = system.to_json()
        fact["split"] = bool(system.answered and public.answered
                             and set(system.a) != set(public.a))
        if fact["split"]:
            fact["evidence"]["field"] = (f"system resolver: {', '.join(system.a) or system.error}; "
                                         f"public: {', '.join(public.a) or public.error}")
    if declared is not None:
        networks = [n for n in map(parse_network, declared) if n is not None]
        outside = [a for a in public.a + public.aaaa
                   if not any(ipaddress.ip_address(a) in n for n in networks)]
        fact["declared_at"] = declared_at
        fact["outside_declared"] = outside
    return fact


def connection_fact(host: str, at: str, first: Exchange) -> dict[str, Any] | None:
    """How the first contact with a host went: the connection-level outcome."""
    if first.answered:
        outcome = "ok"
    elif first.error == "tls":
        outcome = "tls"
    elif first.error in TRANSPORT_ERRORS:
        outcome = "unreachable"
    else:  # dns, not-public, deadline: reported by other rules, or not at all
        return None
    return {"at": at, "host": host, "outcome": outcome, "error": first.error,
            "detail": first.detail, "evidence": first.evidence()}
