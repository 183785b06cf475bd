"""`mcplint init`: a commented starter manifest.

`render(values)` writes a manifest from whatever is known about a connector: nothing (the
placeholders below, each marked TODO) or what live discovery found (`init --from URL`
passes the discovered values, with a note per field saying where each came from, which
replaces the TODO). Either way the result is a valid manifest, and every field carries a
comment saying what it means, so the file teaches its own format; the placeholders (hosts
under example.com) are MCP009 findings until they are replaced, so an unfilled starter
cannot pass CI.

Values (all optional): name, server_url, transport, auth_type, issuer, audience,
registration (list), scopes (list), hosts ({hostname: entry mapping}), and notes
({field: comment}) for the fields that came from somewhere.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mcplint.errors import UsageError
from mcplint.facts import urls

SCHEMA_URL = "https://github.com/mcplint/mcplint/raw/main/schemas/mcp-connector.schema.json"
PLACEHOLDERS: dict[str, Any] = {
    "name": "my-connector",
    "server_url": "https://mcp.example.com/mcp",
    "transport": "streamable-http",
    "auth_type": "oauth",
    "issuer": "https://auth.example.com",
    "registration": ["dcr"],
    "scopes": ["mcp"],
}
HELP = {
    "name": "a label for reports",
    "server_url": "exactly what users paste into the client",
    "transport": "streamable-http | sse (deprecated)",
    "auth_type": "oauth | none | static-headers",
    "issuer": "the authorization server: PRM authorization_servers[0]",
    "audience": "the aud your resource server accepts: server.url, canonical",
    "registration": "one or more of preregistered | cimd | dcr",
    "scopes": "scopes the connector requests (optional)",
}
TODO = {"name", "server_url", "issuer", "registration", "scopes"}  # placeholders to replace
COMMENT_COLUMN = 40
_PLAIN = re.compile(r"[A-Za-z0-9_./:@$*\-]+\Z")  # no flow indicators, no '#', no spaces
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "~"}  # YAML 1.1 readers too


def scalar(value: Any) -> str:
    """A YAML scalar: plain when that is unambiguous, else JSON (valid YAML) quoting.
    Plain only if mcplint's own loader reads it back as the same string (`1e5`, `0x1f`,
    `.inf` are numbers there), it starts with no YAML indicator (`@` and `` ` `` are
    reserved, `-*&!:%` mean something) and it is no YAML 1.1 boolean."""
    from mcplint.load.yamlsource import resolve_plain

    if (isinstance(value, str) and _PLAIN.match(value) and value.lower() not in _RESERVED
            and value[0] not in "-*&!:@%`" and not value.endswith(":")
            and not re.fullmatch(r"[0-9.:+-]+", value)  # 1:30 is 90 to YAML 1.1 readers
            and resolve_plain(value) == value):
        return value
    # JSON's escapes are YAML's, except that YAML reads no surrogate pair: \U instead.
    return _PAIR.sub(_astral, json.dumps(value))


_PAIR = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})")


def _astral(match: re.Match[str]) -> str:
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"


def flow(values: list[Any]) -> str:
    return "[" + ", ".join(scalar(v) for v in values) + "]"


def _line(indent: int, text: str, comment: str | None = None) -> str:
    line = " " * indent + text
    if comment:
        line = f"{line.ljust(COMMENT_COLUMN - 1)} # {comment}"
    return line


class _Fields:
    """The values to write and the comment for each: where it came from, or what it means
    and TODO when it is a placeholder."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.given = {k: v for k, v in values.items() if v is not None and k != "notes"}
        self.notes: Mapping[str, str] = values.get("notes") or {}

    def value(self, key: str) -> Any:
        if key == "audience" and key not in self.given:  # the canonical server URL
            server_url = str(self.value("server_url"))
            return urls.canonical(server_url) or server_url
        return self.given.get(key, PLACEHOLDERS.get(key))

    def comment(self, key: str) -> str:
        if key in self.notes:
            return self.notes[key]
        todo = key in TODO and key not in self.given
        return f"TODO: {HELP[key]}" if todo else HELP[key]


def render(values: Mapping[str, Any] | None = None) -> str:
    """The starter manifest, from known values (see the module docstring) or placeholders."""
    fields = _Fields(values or {})
    return "\n".join(_manifest(fields)) + "\n"


def _manifest(fields: _Fields) -> Iterator[str]:
    yield f"# yaml-language-server: $schema={SCHEMA_URL}"
    yield "# How this MCP connector is meant to be deployed (mcp-connector.yaml, format 1)."
    yield "# `mcplint check` validates it on every commit; `mcplint verify` compares it with the"
    if TODO - set(fields.given):
        yield "# live endpoints. Replace the values marked TODO: until then `mcplint check`"
        yield "# reports the example hosts as placeholders (MCP009). `mcplint explain CODE`"
        yield "# explains a finding, `mcplint schema manifest` prints every field."
    else:
        yield "# live endpoints. Review each value; `mcplint explain CODE` explains a"
        yield "# finding, `mcplint schema manifest` prints every field."
    yield "version: 1"
    yield _line(0, f"name: {scalar(fields.value('name'))}", fields.comment("name"))
    yield "# profile: claude-ai                    # claude-ai (default) | spec | local"
    yield ""
    yield "server:"
    yield _line(2, f"url: {scalar(fields.value('server_url'))}", fields.comment("server_url"))
    yield _line(2, f"transport: {scalar(fields.value('transport'))}",
                fields.comment("transport"))
    yield ""
    yield from _auth(fields)
    yield ""
    yield from _hosts(fields)


def _auth(fields: _Fields) -> Iterator[str]:
    auth_type = fields.value("auth_type")
    yield "auth:"
    yield _line(2, f"type: {scalar(auth_type)}", fields.comment("auth_type"))
    if auth_type != "oauth":
        return
    for key, field in (("issuer", "issuer"), ("audience", "audience")):
        yield _line(2, f"{field}: {scalar(fields.value(key))}", fields.comment(key))
    for key in ("registration", "scopes"):
        yield _line(2, f"{key}: {flow(fields.value(key))}", fields.comment(key))
    yield "  # With registration: preregistered, the client Claude uses:"
    yield "  # client:"
    yield "  #   client_id: my-client"
    yield "  #   client_secret: ${MY_CLIENT_SECRET}   # an environment reference, never the secret"
    yield "  #   redirect_uris:"
    yield "  #     - https://claude.ai/api/mcp/auth_callback"
    yield "  #     - https://claude.com/api/mcp/auth_callback"
    yield "  # The documents you serve, checked before they are deployed (JSON or YAML, relative"
    yield "  # to this file, or inline mappings):"
    yield "  # resource_metadata: ./public/.well-known/oauth-protected-resource.json"
    yield "  # authorization_server_metadata: ./deploy/openid-configuration.json"


def _hosts(fields: _Fields) -> Iterator[str]:
    hosts: dict[str, Any] = dict(fields.given.get("hosts") or {})
    for key in ("server_url", "issuer"):
        if key == "issuer" and fields.value("auth_type") != "oauth":
            continue
        host = urls.host_of(str(fields.value(key)))
        if host:
            hosts.setdefault(host, {})
    yield "# Every host the connector depends on, with DNS and edge (WAF, CDN) expectations, e.g.:"
    yield "#   mcp.example.com:"
    yield "#     dns: {addresses: [203.0.113.0/24]}     # what public DNS must answer within"
    yield "#     waf:"
    yield "#       provider: cloudflare"
    yield "#       ip_allowlist: [160.79.104.0/21]      # Anthropic's outbound range, or exempt:"
    yield "#       exempt_paths: [/mcp, /.well-known/*]"
    yield "hosts:"
    for host, entry in hosts.items():  # discovered hosts first, then the server's and issuer's
        yield from _host(host, entry, fields.notes.get(f"hosts.{host}"))


def _host(host: str, entry: Mapping[str, Any], note: str | None) -> Iterator[str]:
    if not entry:
        yield _line(2, f"{scalar(host)}: {{}}", note)
        return
    yield _line(2, f"{scalar(host)}:", note)
    for section, content in entry.items():
        yield f"    {section}:"
        for key, value in content.items():
            text = flow(value) if isinstance(value, list) else scalar(value)
            yield f"      {key}: {text}"


def write(output: str, values: Mapping[str, Any] | None = None, todo: bool = True) -> int:
    """Write the starter to `output` ('-' is stdout), never over an existing file; `todo`:
    whether values are left to fill in."""
    text = render(values)
    if output == "-":
        sys.stdout.write(text)
        return 0
    path = Path(output)
    if path.exists():
        raise UsageError(f"{output} already exists; choose another file with -o, or remove it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if todo:
        print(f"mcplint: wrote {output}; fill in the values marked TODO (until then "
              f"`mcplint check {output}` reports them, MCP009)", file=sys.stderr)
    else:
        print(f"mcplint: wrote {output}; review each value, then run `mcplint check {output}`",
              file=sys.stderr)
    return 0


def discovered_values(url: str, live: dict[str, Any], auth_type: str) -> dict[str, Any]:
    """What live discovery says about a connector, as starter-manifest values with a note
    per field saying where it came from (`mcplint init --from URL`)."""
    from urllib.parse import urlsplit

    from mcplint.facts.urls import canonical, looks_like_url

    host = (urlsplit(url).hostname or "").lower()
    values: dict[str, Any] = {"server_url": url, "auth_type": auth_type, "notes": {}}
    notes = values["notes"]
    notes["server_url"] = "the URL given to init --from"
    notes["auth_type"] = ("it answered 401 with a Bearer challenge" if auth_type == "oauth"
                          else "it answered initialize without asking for credentials")
    values["name"] = host.split(".")[0] or None
    values["transport"] = "sse" if urlsplit(url).path.rstrip("/").endswith("/sse") else None
    hosts: dict[str, dict[str, Any]] = {host: {}} if host else {}
    prm = live.get("prm") or {}
    document = prm.get("document") or {}
    servers = document.get("authorization_servers")
    if auth_type == "oauth" and isinstance(servers, list) and servers and looks_like_url(servers[0]):
        values["issuer"] = servers[0]
        notes["issuer"] = "authorization_servers[0] of the protected resource metadata"
        values["audience"] = canonical(url) or url
        notes["audience"] = "the canonical server URL, what clients send as resource"
    scopes = [s for s in document.get("scopes_supported") or [] if s != "offline_access"]
    if scopes:
        values["scopes"] = scopes
        notes["scopes"] = "scopes_supported of the protected resource metadata"
    metadata = (live.get("as") or {}).get("document") or {}
    registration = []
    if metadata.get("client_id_metadata_document_supported") is True and "none" in (
            metadata.get("token_endpoint_auth_methods_supported") or []):
        registration.append("cimd")
    if looks_like_url(metadata.get("registration_endpoint")):
        registration.append("dcr")
    if registration:
        values["registration"] = registration
        notes["registration"] = "what the authorization server metadata offers"
    for field in ("issuer", "token_endpoint", "registration_endpoint", "authorization_endpoint"):
        target = metadata.get(field) if field != "issuer" else values.get("issuer")
        if looks_like_url(target):
            hosts.setdefault((urlsplit(target).hostname or "").lower(), {})
    values["hosts"] = hosts
    return values


# Findings that make discovery's answers no manifest at all: what answered is not the
# connector's MCP endpoint (not https, a redirect elsewhere, an edge block, bad TLS, no MCP
# answer), so a manifest written from it would be wrong. init --from refuses on them.
REFUSED_ON = ("MCP101", "MCP103", "MCP108", "MCP305", "MCP306", "MCP307", "MCP309")


def _refusal(url: str, findings: list[Any]) -> int | None:
    """One line naming the first finding that makes the URL no MCP endpoint; exit 1."""
    found = next((f for f in findings if f.code in REFUSED_ON and not f.not_verified
                  and f.severity == "error"), None)
    if found is None:
        return None
    print(f"mcplint: init --from: {url}: {found.code} {found.name}: {found.message}; no file "
          f"written (`mcplint probe {url}` shows every step)", file=sys.stderr)
    return 1


def _url_findings(url: str, options: dict[str, Any]) -> list[Any]:
    """The static URL rules (MCP1xx) on the URL, before anything is sent to it: plain http
    is refused without a request (the local profile allows it on loopback, as MCP101 says)."""
    from mcplint.commands import run as runner
    from mcplint.facts import static as static_facts
    from mcplint.lint import Linter
    from mcplint.policy.engine import Context, Evaluator

    settings = runner.settings_from(options)
    catalog = runner.catalog_for(options, settings)
    profile = settings.profile_for(None)
    manifest: dict[str, Any] = {"version": 1, "server": {"url": url}, "auth": {"type": "oauth"}}
    document = {"manifest": manifest, "declared": {}, "live": {},
                "facts": static_facts.build(manifest, {}, catalog.data),
                "profile": profile, "data": catalog.data}
    rules = [r for r in catalog.rules.values()
             if r.checks and "static" in r.modes and r.code.startswith("MCP1")
             and profile in r.profiles]
    linter = Linter(catalog, settings)
    return Evaluator(Context(document, [], manifest=None), linter.schema_test).run(rules)


def init_from(url: str, output: str, options: dict[str, Any]) -> int:
    """`mcplint init --from URL`: a starter manifest filled in from live discovery; refused
    (exit 1, nothing written) when the URL is no MCP endpoint a hosted client could use."""
    from mcplint.commands.verify import no_resolver, probe_url

    if not url.lower().startswith(("https://", "http://")):
        raise UsageError(f"init --from: '{url}' is not an http(s) URL")
    refused = _refusal(url, _url_findings(url, options))
    if refused is not None:
        return refused
    probed = probe_url(url, options)
    live = probed.facts
    if live.get("resolvers_answered") is False:
        return no_resolver(0)
    post = (live.get("mcp") or {}).get("post") or {}
    if post.get("status") is None:
        raise UsageError(f"init --from: {url} did not answer "
                         f"({(post.get('evidence') or {}).get('error', 'no answer')}); run "
                         f"`mcplint probe {url}` to see why")
    refused = _refusal(url, probed.result.findings)
    if refused is not None:
        return refused
    values = discovered_values(url, live, probed.auth_type)
    missing = todo_fields(values, live)
    code = write(output, values, todo=bool(missing))
    if missing:
        print("mcplint: init --from could not discover, so marked TODO: "
              + "; ".join(f"{field} ({why})" for field, why in missing), file=sys.stderr)
    return code


def todo_fields(values: Mapping[str, Any], live: dict[str, Any]) -> list[tuple[str, str]]:
    """The placeholders left in a discovered manifest, each with why it was not found."""
    from mcplint.facts import dig

    oauth = values.get("auth_type") == "oauth"
    prm_found = bool(dig(live, "prm", "found"))
    as_found = bool(dig(live, "as", "found"))
    reasons = {
        "name": "the URL has no host name to take it from",
        "server_url": "no URL",
        "issuer": ("the protected resource metadata names no authorization_servers"
                   if prm_found else "no protected resource metadata was found"),
        "registration": ("the authorization server metadata offers neither DCR nor CIMD"
                         if as_found else "no authorization server metadata was found"),
        "scopes": ("the protected resource metadata has no scopes_supported" if prm_found
                   else "no protected resource metadata was found"),
    }
    shown = {"name", "server_url"} | ({"issuer", "registration", "scopes"} if oauth else set())
    return [(field, reasons[field]) for field in ("name", "server_url", "issuer",
                                                   "registration", "scopes")
            if field in TODO and field in shown and values.get(field) is None]
