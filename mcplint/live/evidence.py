"""Turning exchanges and DNS answers into live facts: what was seen, classified, never
judged (the policies judge). Each fact carries `at`, the manifest field it is about, and
`evidence`, what a reader needs to reproduce it."""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import urljoin, urlsplit

from mcplint.facts import dig
from mcplint.facts.addresses import DESCRIPTIONS, classify_address, parse_network
from mcplint.facts.urls import looks_like_url, url_facts
from mcplint.live.net.challenge import parse as parse_challenges
from mcplint.live.net.dns import Lookup
from mcplint.live.net.http import REDIRECT_STATUSES, Exchange

BODY_PEEK = 64 * 1024  # how much of an SSE stream is read for its first event
TRANSPORT_ERRORS = {"refused", "reset", "timeout", "protocol", "tls"}
PRM_FIELDS = ("resource", "authorization_servers", "scopes_supported", "bearer_methods_supported")
AS_FIELDS = ("issuer", "authorization_endpoint", "token_endpoint", "registration_endpoint",
             "jwks_uri", "revocation_endpoint", "code_challenge_methods_supported",
             "client_id_metadata_document_supported", "token_endpoint_auth_methods_supported",
             "grant_types_supported", "response_types_supported")
OIDC_FIELDS = ("jwks_uri", "subject_types_supported", "id_token_signing_alg_values_supported")
_DRIFT_FIELDS = {"resource_metadata": PRM_FIELDS, "authorization_server_metadata": AS_FIELDS}


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
    """Every request made, with the edge that blocked it if any (once per host: the
    invalid-token probe blocked where the first POST was, or a second discovery URL of
    the same host, is the same block)."""
    facts, blocked = [], set()
    for exchange in exchanges:
        edge = edge_signature(exchange, signatures) if exchange.answered else None
        if edge and exchange.host in blocked:
            edge = None
        if edge:
            blocked.add(exchange.host)
        facts.append({**exchange.summary(), "edge": edge,
                      "evidence": exchange.evidence(header=edge)})
    return facts


# JSON-RPC errors only a 2026-07-28 server sends (HeaderMismatch,
# MissingRequiredClientCapability, UnsupportedProtocolVersion): with -32601 on a 404 (an
# unknown method), they identify that generation (its backward-compatibility section).
MODERN_ERRORS = (-32020, -32021, -32022)
METHOD_NOT_FOUND = -32601


def jsonrpc(exchange: Exchange) -> dict[str, Any] | None:
    """The JSON-RPC message of a response, sent as JSON or as the first SSE event."""
    kind = body_kind(exchange)
    if kind == "sse":
        data = [line[5:].strip() for line in exchange.text(BODY_PEEK).splitlines()
                if line.startswith("data:")]
        try:
            message = json.loads(data[0]) if data else None
        except (ValueError, RecursionError):
            message = None
    elif kind == "json":
        message, _ = exchange.json()
    else:
        message = None
    if isinstance(message, dict) and message.get("jsonrpc") == "2.0" and (
            "result" in message or isinstance(message.get("error"), dict)):
        return message
    return None


def mcp_post(exchange: Exchange, expects_mcp: bool, signatures: dict[str, Any],
             method: str = "initialize") -> dict[str, Any]:
    """A first contact: the unauthenticated POST of `method` to the MCP URL."""
    fact: dict[str, Any] = {"at": exchange.at, "url": exchange.url, "status": exchange.status,
                            "method": method,
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
            fact["to_http"] = _to_http(exchange.url, location)
            evidence["header"] = f"location: {location}"
        elif edge:
            fact["outcome"] = "edge-block"
        message = jsonrpc(exchange)
        error = message.get("error") if message else None
        fact["rpc"] = None if message is None else ("error" if error else "result")
        fact["error_code"] = error.get("code") if isinstance(error, dict) else None
        reason = None if message else _not_mcp_reason(exchange, kind, expects_mcp, method)
        fact["looks_like_mcp"] = reason is None
        fact["not_mcp_reason"] = reason
        fact["served"] = _served(exchange, message, method)
        if reason:
            evidence["field"] = reason
        elif error:
            evidence["field"] = f"JSON-RPC error {error.get('code')}: {error.get('message')}"
        elif exchange.truncated:
            evidence["field"] = "the body went on past 1 MiB and was cut"
    fact["evidence"] = exchange.evidence(**evidence)
    return fact


def _served(exchange: Exchange, message: dict[str, Any] | None, method: str) -> bool | None:
    """Whether the answer shows the contact's generation served: None when it cannot
    tell (a 401: the authorization layer answered before the protocol did)."""
    if message is None:
        return None if exchange.status == 401 else False
    result, error = message.get("result"), message.get("error")
    if method == "initialize":
        return isinstance(result, dict) and "protocolVersion" in result
    if isinstance(result, dict):  # a DiscoverResult names the versions it serves
        return isinstance(result.get("supportedVersions"), list)
    code = error.get("code") if isinstance(error, dict) else None
    return code in MODERN_ERRORS or (code == METHOD_NOT_FOUND and exchange.status == 404)


def generations(facts: dict[str, dict[str, Any]], contacts: dict[str, Any],
                at: str) -> dict[str, Any]:
    """Which protocol generations the endpoint serves, from both first contacts."""
    judged = all(f["outcome"] == "answered" for f in facts.values())
    served = [m for m, f in facts.items() if f.get("served")]
    unknown = [m for m, f in facts.items() if f.get("served") is None]
    failing = [m for m in facts if m not in served]
    mcp_like = [f for f in facts.values() if f.get("looks_like_mcp")]
    reasons = "; ".join(f"{m} got {f.get('not_mcp_reason')}" for m, f in facts.items())
    return {
        "at": at, "judged": judged, "verifiable": not unknown,
        "looks_like_mcp": bool(mcp_like), "not_mcp_reason": reasons,
        "served": served,
        "served_text": (", ".join(f"{m} ({contacts[m]['generation']})" for m in served)
                        or "neither first contact"),
        "failing_clients": "; ".join(contacts[m]["clients"] for m in failing),
        "answers": "; ".join(_answer_text(m, f) for m, f in facts.items()),
        "evidence": {"url": next(iter(facts.values()))["url"],
                     "field": "; ".join(_answer_text(m, f) for m, f in facts.items())},
    }


def _answer_text(method: str, fact: dict[str, Any]) -> str:
    if fact.get("rpc") == "error":
        return f"{method}: {fact['status']} with JSON-RPC error {fact['error_code']}"
    if fact.get("rpc") == "result":
        return f"{method}: {fact['status']} with a result"
    return f"{method}: {fact.get('status') or fact['evidence'].get('error')}"


def _not_mcp_reason(exchange: Exchange, kind: str, expects_mcp: bool,
                    method: str = "initialize") -> str | None:
    """Why an answer that holds no JSON-RPC message is not an MCP answer (None: it may be)."""
    if exchange.status in (404, 405):
        return f"{exchange.status} to POST"
    if kind == "html" and exchange.status is not None and exchange.status < 300:
        # A page where the protocol's answer belongs; an HTML body on a 401 or 403 is just
        # the error page of a server or proxy, judged by the challenge rules instead.
        return "an HTML page"
    if expects_mcp and exchange.status == 200:
        if kind == "sse":
            return None
        return f"no JSON-RPC or SSE reply to {method}"
    if expects_mcp and exchange.status is not None and exchange.status >= 400:
        return f"{exchange.status} to {method}"
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


def aborted_fact(at: str, tried: list[tuple[Exchange, dict[str, Any]]]) -> dict[str, Any] | None:
    """The first of the discovery URLs `tried` (in the client's order, up to the one it
    uses) where the SDK clients stop instead of trying the next one: a 5xx, or a 200 whose
    body is not JSON. None when discovery went on past every one of them."""
    for exchange, attempt in tried:
        status = attempt["status"]
        if status is not None and 500 <= status <= 599:
            answer = f"{status}"
        elif status == 200 and not attempt["json_ok"]:
            answer = f"200 with a body that is not JSON ({attempt['content_type'] or 'no type'})"
        else:
            continue
        return {"at": at, "url": attempt["url"], "status": status, "answer": answer,
                "evidence": exchange.evidence(field=attempt["json_error"])}
    return None


def legacy_fallback_fact(at: str, exchange: Exchange) -> dict[str, Any]:
    """The AS metadata on the MCP origin that claude.ai falls back to without a PRM."""
    fetched = document_fetch(exchange)
    return {"at": at, "url": exchange.url, "status": exchange.status,
            "found": fetched["object_ok"],
            "evidence": exchange.evidence(field=fetched["json_error"])}


def _to_http(url: str, location: str) -> bool:
    """The redirect leads to plain http (a relative Location keeps the request's scheme)."""
    return urlsplit(urljoin(url, location)).scheme.lower() == "http"


def downgrade_fact(at: str, fetched: list[Exchange]) -> dict[str, Any] | None:
    """The first discovery URL that redirects to plain http, which the hosted client does
    not follow; None when none does."""
    for exchange in fetched:
        location = exchange.header("location")
        if exchange.status in REDIRECT_STATUSES and location and _to_http(exchange.url,
                                                                           location):
            return {"at": at, "url": exchange.url, "status": exchange.status,
                    "location": location,
                    "evidence": exchange.evidence(header=f"location: {location}")}
    return None


# What makes a served JSON object protected resource metadata or authorization server
# metadata, for an open server's origin (a catch-all's JSON error page is neither).
_DISCOVERY_MARKS = {"prm": ("resource", "authorization_servers"),
                    "as": ("issuer", "authorization_endpoint", "token_endpoint")}


def oauth_discovery_fact(at: str, tried: list[tuple[str, Exchange]]) -> dict[str, Any]:
    """Whether the origin of an endpoint that needs no OAuth serves OAuth discovery: a PRM
    or AS metadata document at a well-known URL (`kind` "prm" or "as"), or a 401 there."""
    advertising = None
    for kind, exchange in tried:
        body, _ = exchange.json() if exchange.status == 200 else (None, None)
        if isinstance(body, dict) and any(k in body for k in _DISCOVERY_MARKS[kind]):
            what = ("serves protected resource metadata" if kind == "prm"
                    else "serves authorization server metadata")
        elif exchange.status == 401:
            what = "answers 401"
        else:
            continue
        advertising = (exchange, what)
        break
    fact: dict[str, Any] = {
        "at": at, "advertised": advertising is not None,
        "attempts": [{"url": e.url, "status": e.status, "error": e.error} for _, e in tried]}
    if advertising is not None:
        exchange, what = advertising
        fact.update(url=exchange.url, status=exchange.status, what=what,
                    evidence=exchange.evidence())
    else:
        fact["evidence"] = {"url": ", ".join(e.url for _, e in tried),
                            "status": ", ".join(str(e.status or e.error) for _, e in tried)}
    return fact


def member_type_facts(at: str, name: str, document: dict[str, Any], url: str | None,
                      data: dict[str, Any]) -> list[dict[str, Any]]:
    """The members of a served metadata document (`name`: resource_metadata or
    authorization_server_metadata) of another JSON type than the one defined, as the
    declared documents' (facts.static.member_types), located at the field the document is
    about and grouped by member (`document_member`: one member, one root cause)."""
    from mcplint.facts.static import member_types

    facts = []
    for wrong in member_types({name: document}, data):
        member = wrong["member"]
        shown = json.dumps(document[member])
        facts.append({**wrong, "at": at, "document_member": member,
                      "evidence": {"url": url, "field": f"{member}: {_short(shown)}"}})
    return facts


def _attempts(attempts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: a[k] for k in ("url", "status", "error")} for a in attempts]


def prm_fact(at: str, attempts: list[dict[str, Any]],
             found: tuple[Exchange, dict[str, Any]] | None) -> dict[str, Any]:
    """The PRM search: every URL tried and, if one answered 200, what it served."""
    fact: dict[str, Any] = {"at": at, "attempted": True, "found": bool(found),
                            "attempts": _attempts(attempts)}
    if found:
        exchange, attempt = found
        fact.update(attempt)
        fact["evidence"] = exchange.evidence(field=attempt["json_error"])
    else:
        last = attempts[-1] if attempts else {}
        fact["evidence"] = {"url": ", ".join(a["url"] for a in attempts),
                            "status": last.get("status"), "error": last.get("error")}
    return fact


def hint_fact(at: str, hint: str, attempt: dict[str, Any] | None) -> dict[str, Any]:
    """The challenge's resource_metadata: clients fetch it and nothing else, so it must be
    an absolute https URL answering 200 with a JSON object. Not judged when the request
    could not go out for DNS or address reasons (the MCP2xx rules say why)."""
    reason = None
    judged = True
    if attempt is None:
        reason = "is not an absolute URL"
    elif not hint.lower().startswith("https://"):
        reason = "is not an https URL"
    elif attempt["error"] in ("dns", "not-public", "deadline"):
        judged = False
    elif attempt["status"] != 200:  # a 200 with a bad document is MCP406's
        reason = f"answers {attempt['status'] or attempt['error']}"
    return {"at": at, "url": hint, "judged": judged, "ok": reason is None, "reason": reason,
            "evidence": {"url": hint, "status": attempt["status"] if attempt else None,
                         "field": f"resource_metadata: {hint}"}}


def as_fact(at: str, issuer: str, urls: list[str],
            results: list[tuple[Exchange, dict[str, Any]]],
            found: tuple[Exchange, dict[str, Any]] | None) -> dict[str, Any]:
    """The AS metadata search: every candidate's answer, and the document the client takes."""
    attempts = [attempt for _, attempt in results]
    fact: dict[str, Any] = {
        "at": at, "issuer": issuer, "attempted": True, "found": bool(found),
        "attempts": _attempts(attempts),
        "oauth_found": any(a["object_ok"] and "oauth-authorization-server" in a["url"]
                           for a in attempts),
        "openid_documents": [
            {"url": a["url"], "at": at,
             "missing": [f for f in OIDC_FIELDS if f not in a["document"]],
             "evidence": {"url": a["url"], "status": a["status"]}}
            for a in attempts if a["object_ok"] and "openid-configuration" in a["url"]],
    }
    if found is None:
        fact["evidence"] = {"url": ", ".join(urls),
                            "status": ", ".join(str(a["status"] or a["error"]) for a in attempts)}
        return fact
    exchange, attempt = found
    fact.update(url=exchange.url, document=attempt["document"],
                served_as=("oauth-authorization-server"
                           if "oauth-authorization-server" in exchange.url
                           else "openid-configuration"),
                evidence=exchange.evidence())
    return fact


def registration_fact(at: str, exchange: Exchange) -> dict[str, Any]:
    """What the registration POST got: a client id, a refusal, or a redirect."""
    answer, error = exchange.json() if exchange.answered else (None, None)
    client_id = answer.get("client_id") if isinstance(answer, dict) else None
    redirect = exchange.status in REDIRECT_STATUSES
    ok = exchange.status in (200, 201) and isinstance(client_id, str) and bool(client_id)
    method = answer.get("token_endpoint_auth_method") if isinstance(answer, dict) else None
    return {
        "at": at, "attempted": True, "answered": exchange.answered,
        "status": exchange.status, "ok": ok, "redirect": redirect,
        "client_id": client_id, "json_error": error,
        # The method the client is to use: the answer's (the hosted client follows it), else
        # RFC 7591's default.
        "auth_method": method if isinstance(method, str) else "client_secret_basic",
        "evidence": exchange.evidence(
            header=f"location: {exchange.header('location')}" if redirect else None,
            field=(f"error: {answer.get('error')}" if isinstance(answer, dict)
                   and answer.get("error") else error))}


def token_fact(at: str, url: str, exchange: Exchange, client: str,
               registration_asked: bool) -> dict[str, Any]:
    """What the token endpoint answered to the invalid refresh (`registration_asked`: the run
    had --probe-registration, so MCP606 does not tell the user to use it)."""
    answer, error = exchange.json() if exchange.answered else (None, None)
    code = answer.get("error") if isinstance(answer, dict) else None
    return {
        "at": at, "attempted": True, "answered": exchange.answered,
        "url": url, "status": exchange.status, "content_type": exchange.content_type or None,
        "json_ok": isinstance(answer, dict), "error_code": code, "client": client,
        "registration_asked": registration_asked,
        "evidence": exchange.evidence(field=f"error: {code}" if code else error)}


def drift_fact(document: str, declared: dict[str, Any] | None, served: dict[str, Any] | None,
               url: str) -> dict[str, Any] | None:
    """The fields that matter where the served document differs from the declared one."""
    fields = drift(declared, served, _DRIFT_FIELDS[document])
    if not fields:
        return None
    return {"at": f"/manifest/auth/{document}", "document": document, "fields": fields,
            "evidence": {"url": url}}


def budget_seconds(step: str, budgets: dict[str, Any]) -> float:
    """How long the hosted client waits for a request of this step (hosted-client.yaml's
    budget_seconds)."""
    # The token probe is a refresh, but the endpoint also serves the code exchange, whose
    # budget is the tighter one: a slow probe means a slow login.
    kind = {"token-refresh": "token", "registration": "registration"}.get(step, "discovery")
    return float(budgets[kind]["value"])


def is_slow(exchange: Exchange, budgets: dict[str, Any]) -> bool:
    return exchange.answered and exchange.elapsed_ms > budget_seconds(exchange.step,
                                                                       budgets) * 1000


def slow_facts(timings: list[tuple[Exchange, Exchange | None]],
               budgets: dict[str, Any]) -> list[dict[str, Any]]:
    """The requests that answered later than the hosted client waits, both times they were
    timed (`timings`: each answer, and the same request again when the first was slow)."""
    facts = []
    for first, again in timings:
        if again is None or not (is_slow(first, budgets) and is_slow(again, budgets)):
            continue
        facts.append({"at": first.at, "url": first.url, "step": first.step,
                      "seconds": round(first.elapsed_ms / 1000, 1),
                      "seconds_again": round(again.elapsed_ms / 1000, 1),
                      "evidence": again.evidence()})
    return facts


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
            "detail": first.detail, "later": False, "evidence": first.evidence()}


def connection_facts(exchanges: list[Exchange]) -> list[dict[str, Any]]:
    """How the first contact with each host went, and a later transport failure of a host
    that answered first."""
    first: dict[str, Exchange] = {}
    for exchange in exchanges:
        first.setdefault(exchange.host, exchange)
    facts = []
    for host, exchange in first.items():
        fact = connection_fact(host, exchange.at, exchange)
        if fact is not None:
            facts.append(fact)
    # A host that answered its first request may still fail a later one at the transport
    # (a token endpoint that resets, drips, speaks HTTP/0.9 or sends 1xx forever): the
    # client's login fails there, so that is the host's outcome too (once per host).
    failed_later: set[str] = set()
    for exchange in exchanges:
        if (exchange.host in failed_later or exchange is first[exchange.host]
                or not first[exchange.host].answered
                or exchange.error not in TRANSPORT_ERRORS):
            continue
        fact = connection_fact(exchange.host, exchange.at, exchange)
        if fact is not None:
            failed_later.add(exchange.host)
            fact["later"] = True  # the evidence names the request that failed
            facts.append(fact)
    return facts


def url_facts_of(facts: dict[str, Any], at_server: str, at_issuer: str,
                 data: dict[str, Any]) -> list[dict[str, Any]]:
    """URL facts of the challenge's hint and of the served documents."""
    urls = []
    hint = dig(facts, "mcp", "challenge", "resource_metadata")
    if looks_like_url(hint):
        urls += document_urls({"resource_metadata": hint}, "prm", at_server, data)
    prm = dig(facts, "prm", "document")
    if isinstance(prm, dict):
        urls += document_urls(prm, "prm", at_server, data)
    as_document = dig(facts, "as", "document")
    if isinstance(as_document, dict):
        urls += document_urls(as_document, "as", at_issuer, data)
    return urls
