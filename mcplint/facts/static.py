"""Static facts: what can be computed from the manifest and its declared documents alone.

Each fact is a small JSON-like object with `at`, the JSON pointer (into the evaluated
document: /manifest/..., /declared/...) of the field it comes from; a finding about the fact
is located there. Facts never judge; policies do. Inputs may break the schema (the schema
finding is reported separately), so every accessor checks types and skips what it cannot read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mcplint.facts import dig
from mcplint.facts.addresses import (
    DESCRIPTIONS,
    classify_network,
    covers,
    parse_network,
    parse_networks,
)
from mcplint.facts.urls import (
    as_metadata_urls,
    canonical,
    host_of,
    looks_like_url,
    path_exempt,
    path_of,
    prm_urls,
    url_facts,
)
from mcplint.load.sourcemap import join, pointer

# Which URLs in the declared documents the hosted client's backend fetches.
_AS_CLOUD_FIELDS = ("token_endpoint", "registration_endpoint")


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def walk_urls(value: Any, at: str) -> Iterator[tuple[str, str]]:
    """Every URL-shaped string in a document, with its pointer."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(item, str):
            if looks_like_url(item):
                yield join(at, key), item
        elif isinstance(item, (dict, list)):
            yield from walk_urls(item, join(at, key))


def _url_role(pointer: str) -> tuple[str, bool]:
    """(role, contacted by the hosted client's backend) for a URL found at `pointer`."""
    if pointer == "/manifest/server/url":
        return "server", True
    if pointer == "/manifest/auth/issuer":
        return "issuer", True
    if pointer.startswith("/declared/resource_metadata/"):
        return "prm", False
    if pointer.startswith("/declared/authorization_server_metadata/"):
        field = pointer.split("/")[3]
        if field == "issuer":
            return "as-issuer", False
        if field.endswith("_endpoint") or field == "jwks_uri":
            return "as-endpoint", field in _AS_CLOUD_FIELDS
        return "as-other", False
    return "other", False


def _urls(manifest: Any, declared: dict[str, Any], data: dict[str, Any]) -> list[dict[str, Any]]:
    roots = [("/manifest", manifest)] + [(f"/declared/{k}", v) for k, v in declared.items()]
    urls = []
    for root, document in roots:
        if not isinstance(document, (dict, list)):
            continue
        for at, value in walk_urls(document, root):
            role, cloud = _url_role(at)
            urls.append({**url_facts(value, data), "at": at, "role": role, "cloud": cloud})
    return urls


class _Dependencies:
    """The hosts a connector depends on, what is fetched from each, and by whom."""

    def __init__(self) -> None:
        self.hosts: dict[str, dict[str, Any]] = {}

    def host(self, url: str, at: str) -> dict[str, Any] | None:
        host = host_of(url)
        if host is None:
            return None
        return self.hosts.setdefault(host, {"host": host, "at": at, "cloud": [], "browser": []})

    def cloud(self, url: str, at: str, purpose: str, urls: list[str]) -> None:
        entry = self.host(url, at)
        if entry is not None:
            entry["cloud"].append({"purpose": purpose, "paths": [path_of(u) for u in urls]})

    def browser(self, url: str, at: str, purpose: str) -> None:
        entry = self.host(url, at)
        if entry is not None:
            entry["browser"].append({"purpose": purpose, "paths": [path_of(url)]})


def _dependencies(manifest: Any, declared: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = _Dependencies()
    server_url = dig(manifest, "server", "url")
    oauth = dig(manifest, "auth", "type") == "oauth"
    if looks_like_url(server_url):
        at = "/manifest/server/url"
        deps.cloud(server_url, at, "the MCP endpoint", [server_url])
        if oauth:
            deps.cloud(server_url, at, "protected resource metadata", prm_urls(server_url))
    issuer = dig(manifest, "auth", "issuer")
    if oauth and looks_like_url(issuer):
        deps.cloud(issuer, "/manifest/auth/issuer", "authorization server metadata",
                   as_metadata_urls(issuer))
    as_doc = declared.get("authorization_server_metadata")
    if oauth and isinstance(as_doc, dict):
        base = "/declared/authorization_server_metadata"
        for field in _AS_CLOUD_FIELDS:
            url = as_doc.get(field)
            if looks_like_url(url):
                deps.cloud(url, f"{base}/{field}", field.replace("_", " "), [url])
        url = as_doc.get("authorization_endpoint")
        if looks_like_url(url):
            deps.browser(url, f"{base}/authorization_endpoint", "authorization endpoint")
    return deps.hosts


def _unmet(requirements: list[dict[str, Any]], exempt: list[str]) -> list[str]:
    """Requirements none of whose paths is exempt, as 'purpose (first path)'."""
    return [f"{r['purpose']} ({r['paths'][0]})" for r in requirements
            if not any(path_exempt(p, exempt) for p in r["paths"])]


def _waf(host: str, entry: dict[str, Any], dependency: dict[str, Any] | None,
         data: dict[str, Any]) -> dict[str, Any] | None:
    waf = entry.get("waf")
    if not isinstance(waf, dict):
        return None
    at = pointer("manifest", "hosts", host, "waf")
    exempt = _strings(waf.get("exempt_paths"))
    cloud = dependency["cloud"] if dependency else []
    browser = dependency["browser"] if dependency else []
    allowlist_raw = waf.get("ip_allowlist")
    facts: dict[str, Any] = {
        "at": at, "host": host, "depended_on": dependency is not None,
        "has_allowlist": isinstance(allowlist_raw, list),
        "ai_bot_blocking": waf.get("ai_bot_blocking") is True,
        "cloud_not_exempt": _unmet(cloud, exempt),
        "browser_not_exempt": _unmet(browser, exempt),
    }
    if isinstance(allowlist_raw, list):
        networks = [n for n in map(parse_network, _strings(allowlist_raw)) if n is not None]
        required = parse_networks(tuple(data["egress"]["required"]))
        missing = [str(r) for r in required if not covers(networks, r)]
        facts["egress_missing"] = missing
        facts["covers_egress"] = not missing
    return facts


def _host_entries(manifest: Any) -> dict[str, dict[str, Any]]:
    hosts = dig(manifest, "hosts")
    if not isinstance(hosts, dict):
        return {}
    return {h: e for h, e in hosts.items() if isinstance(e, dict)}


def _networks(host: str, entry: dict[str, Any], *path: str) -> Iterator[tuple[str, str, Any]]:
    """(pointer, text, network) of each readable address in a host entry's list at `path`."""
    values = dig(entry, *path)
    if not isinstance(values, list):
        return
    base = pointer("manifest", "hosts", host, *path)
    for index, text in enumerate(values):
        network = parse_network(text) if isinstance(text, str) else None
        if network is not None:
            yield join(base, index), text, network


def _declared_dns(host: str, entry: dict[str, Any]) -> tuple[list[dict[str, Any]], dict | None]:
    items = []
    for at, text, network in _networks(host, entry, "dns", "addresses"):
        kind = classify_network(network)
        items.append({
            "at": at, "host": host, "value": text, "version": network.version,
            "global": kind == "global", "kind": kind, "description": DESCRIPTIONS.get(kind, kind),
        })
    summary = {
        "at": pointer("manifest", "hosts", host, "dns", "addresses"), "host": host,
        "global": [i["value"] for i in items if i["global"]],
        "non_global": [i["value"] for i in items if not i["global"]],
        "has_ipv4": any(i["version"] == 4 for i in items),
    }
    return items, summary if items else None


def _allowlist_entries(host: str, entry: dict[str, Any], data: dict[str, Any]) -> list[dict]:
    retired = parse_networks(tuple(data["egress"]["retired"]))
    entries = []
    for at, text, network in _networks(host, entry, "waf", "ip_allowlist"):
        # A narrow entry holding a retired address was put there for Anthropic; a wide one
        # (a cloud provider's whole block) was not, and is not this rule's business.
        held = [str(r.network_address) for r in retired
                if r.version == network.version and r.subnet_of(network)]  # type: ignore[arg-type]
        narrow = network.prefixlen >= (24 if network.version == 4 else 64)
        entries.append({"at": at, "host": host, "value": text,
                        "retired": held if narrow else []})
    return entries


def _hosted_only_allowlist(host: str, entry: dict[str, Any],
                           data: dict[str, Any]) -> dict[str, Any] | None:
    """The host's allowlist if it admits only the hosted client's ranges (required, also
    seen, retired): one built for the hosted client, which the user's browser never passes.
    Kept apart from the `waf` facts so that their findings keep their value hashes (the
    baseline keys) across catalog versions."""
    networks = [n for _, _, n in _networks(host, entry, "waf", "ip_allowlist")]
    if not networks:
        return None
    egress = data["egress"]
    hosted = parse_networks(tuple(egress["required"]) + tuple(egress.get("also_seen") or ())
                            + tuple(egress["retired"]))
    if not all(any(n.version == h.version and n.subnet_of(h) for h in hosted)  # type: ignore[arg-type]
               for n in networks):
        return None
    return {"at": pointer("manifest", "hosts", host, "waf", "ip_allowlist"), "host": host,
            "exempt_paths": _strings(dig(entry, "waf", "exempt_paths"))}


def _client(manifest: Any, data: dict[str, Any]) -> dict[str, Any] | None:
    client = dig(manifest, "auth", "client")
    if not isinstance(client, dict):
        return None
    uris = _strings(client.get("redirect_uris"))
    has_uris = isinstance(client.get("redirect_uris"), list)
    at = "/manifest/auth/client/redirect_uris" if has_uris else "/manifest/auth/client"
    # MCP510 and MCP516 judge redirect_uris against data.callbacks themselves; the fact keeps
    # missing_callbacks so that its value hash (the key of their baseline entries) is the one
    # catalog 1's MCP510 recorded.
    return {"at": at, "redirect_uris": uris,
            "missing_callbacks": [c for c in data["callbacks"]["hosted"] if c not in uris]}


def _url_fact(manifest: Any, by_pointer: dict[str, dict[str, Any]], pointer: str,
              path: tuple[str, ...], data: dict[str, Any]) -> dict[str, Any] | None:
    """The facts of a URL field even when it is not URL-shaped (no scheme: not https)."""
    if pointer in by_pointer:
        return by_pointer[pointer]
    value = dig(manifest, *path)
    if not isinstance(value, str):
        return None
    role, cloud = _url_role(pointer)
    return {**url_facts(value, data), "at": pointer, "role": role, "cloud": cloud}


def build(manifest: Any, declared: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The static facts of one manifest and the documents it declares."""
    urls = _urls(manifest, declared, data)
    by_pointer = {u["at"]: u for u in urls}
    facts: dict[str, Any] = {"urls": urls}

    server = _url_fact(manifest, by_pointer, "/manifest/server/url", ("server", "url"), data)
    if server is not None:
        facts["server"] = server
        transport = dig(manifest, "server", "transport")
        facts["transport"] = {
            "at": "/manifest/server/transport" if transport == "sse" else server["at"],
            "declared": transport,
            "sse": transport == "sse" or server.get("path", "").rstrip("/").endswith("/sse"),
        }
    oauth = dig(manifest, "auth", "type") == "oauth"
    issuer = _url_fact(manifest, by_pointer, "/manifest/auth/issuer", ("auth", "issuer"), data)
    if oauth and issuer is not None:
        facts["issuer"] = issuer
    audience = dig(manifest, "auth", "audience")
    server_url = dig(manifest, "server", "url")
    if oauth and isinstance(audience, str) and looks_like_url(server_url):
        facts["audience"] = {"at": "/manifest/auth/audience", "value": audience,
                             "expected": canonical(server_url)}

    dependencies = _dependencies(manifest, declared)
    entries = _host_entries(manifest)
    for host, dependency in dependencies.items():
        dependency["declared"] = host in entries
    facts["hosts"] = list(dependencies.values())
    facts["waf"] = [w for h, e in entries.items()
                    if (w := _waf(h, e, dependencies.get(h), data)) is not None]
    facts["declared_addresses"], facts["declared_dns"] = [], []
    facts["allowlist_entries"], facts["hosted_only_allowlists"] = [], []
    for host, entry in entries.items():
        items, summary = _declared_dns(host, entry)
        facts["declared_addresses"] += items
        if summary:
            facts["declared_dns"].append(summary)
        facts["allowlist_entries"] += _allowlist_entries(host, entry, data)
        hosted_only = _hosted_only_allowlist(host, entry, data)
        if hosted_only is not None:
            facts["hosted_only_allowlists"].append(hosted_only)
    client = _client(manifest, data)
    if client is not None:
        facts["client"] = client
    facts["member_types"] = member_types(declared, data)
    facts["placeholder_urls"] = [{"at": u["at"], "url": u["url"], "host": u["host"]}
                                 for u in urls if _documentation_host(u)]
    return facts


# A JSON value's type, in JMESPath's words (what policy messages print).
_JSON_TYPES = {bool: "boolean", str: "string", int: "number", float: "number", list: "array",
               dict: "object", type(None): "null"}
_EXPECTED = {"boolean": "a boolean (true or false, unquoted): clients ignore any other value",
             "string": "a string: clients ignore it or reject the document",
             "strings": "an array of strings (a single value too goes in brackets): clients "
                        "ignore it or reject the document"}


def member_types(documents: dict[str, Any], data: dict[str, Any],
                 root: str = "/declared") -> list[dict[str, Any]]:
    """The members of the metadata documents whose JSON type is not the one the
    specifications define (policies/data/metadata-members.yaml), each located at the member.
    Checked in Python rather than by one JSONPath per member: fifty lookups a manifest."""
    wrong = []
    for name, kinds in data["metadata_members"].items():
        document = documents.get(name)
        if not isinstance(document, dict):
            continue
        for kind, members in kinds.items():
            for member in members:
                if member not in document:
                    continue
                value = document[member]
                actual = _JSON_TYPES.get(type(value), "value")
                if kind == "strings":
                    ok = actual == "array" and all(isinstance(v, str) for v in value)
                    if actual == "array" and not ok:
                        actual = "array with items that are not strings"
                else:
                    ok = actual == kind
                if not ok:
                    wrong.append({"at": pointer(root.strip("/"), name, member), "member": member,
                                  "actual": actual, "expected": _EXPECTED[kind]})
    return wrong


_DOCUMENTATION_DOMAINS = ("example.com", "example.net", "example.org")


def _documentation_host(url: dict[str, Any]) -> bool:
    """A host RFC 2606 reserves for documentation (what `mcplint init` writes), or one of
    its subdomains."""
    host = url.get("host") or ""
    return bool(url.get("valid")) and any(
        host == domain or host.endswith("." + domain) for domain in _DOCUMENTATION_DOMAINS)

