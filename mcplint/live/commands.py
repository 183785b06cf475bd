"""`mcplint verify` and `mcplint probe`."""

from __future__ import annotations

import sys
from typing import Any

from mcplint.live.runner import LiveRunner, options_from, write_record

EXIT_NO_NETWORK = 3


def _live_options(options: dict[str, Any]) -> Any:
    from mcplint import config

    settings = config.settings_for(options)
    return options_from(options, settings.live_timeout, settings.live_nameservers)


def _no_resolver(code: int) -> int:
    """Exit code 3: the network of the machine running mcplint is at fault, not the
    connector (a usage problem, exit 2, still wins)."""
    if code == 2:
        return code
    print("mcplint: none of the resolvers answered any query: check this machine's network "
          "or --nameserver (findings about DNS are not about the connector)", file=sys.stderr)
    return EXIT_NO_NETWORK


def verify(paths: tuple[str, ...], options: dict[str, Any]) -> int:
    with LiveRunner(options) as live:
        # Imported once the probing process has started, so that its imports and the
        # linter's run side by side (mcplint/live/worker.py).
        from mcplint import runner

        code = runner.run("verify", paths, options, live=live)
    live.write_record()
    return _no_resolver(code) if live.no_resolver else code


def probe(url: str, options: dict[str, Any]) -> int:
    """A verification of a bare URL: a synthetic manifest, live rules and the URL rules."""
    from mcplint import runner
    from mcplint.engine import Context, Evaluator, drop_overridden
    from mcplint.facts import static as static_facts
    from mcplint.lint import Linter
    from mcplint.live.checklist import write as checklist
    from mcplint.live.verify import Verification
    from mcplint.settings import UsageError, checked

    if not url.lower().startswith(("https://", "http://")):
        raise UsageError(f"probe: '{url}' is not an http(s) URL")
    settings = runner.settings_from(options)
    catalog = runner.catalog_for(options, settings)
    settings = checked(catalog, settings)
    pairs = runner.outputs(options)
    live_options = _live_options(options)
    profile = settings.profile_for(None)
    manifest: dict[str, Any] = {"version": 1, "server": {"url": url}, "auth": {"type": "oauth"}}
    verification = Verification(manifest, {}, catalog.data, live_options, profile,
                                infer_auth=True)
    live = verification.run()
    manifest["auth"]["type"] = verification.auth_type
    document = {"manifest": manifest, "declared": {},
                "facts": static_facts.build(manifest, {}, catalog.data), "live": live,
                "profile": profile, "data": catalog.data}
    rules = [r for r in catalog.rules.values()
             if r.checks and ("live" in r.modes or r.code.startswith("MCP1"))]
    linter = Linter(catalog, settings, mode="live")
    findings = Evaluator(Context(document, [], manifest=None), linter.schema_test).run(rules)
    result = linter.finish(url, drop_overridden(findings, catalog.rules), profile, texts={})
    result.live = live
    if live_options.record is not None:
        write_record(live_options.record,
                     [{"manifest": None, "url": url, "requests": verification.records()}])
    runner.emit("probe", [result], catalog, settings, options, pairs, text=checklist)
    code = runner.exit_code([result], settings.fail_on)
    return _no_resolver(code) if live.get("resolvers_answered") is False else code


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


def init_from(url: str, output: str, options: dict[str, Any]) -> int:
    """`mcplint init --from URL`: a starter manifest filled in from live discovery."""
    from mcplint import runner, starter
    from mcplint.catalog import load_builtin
    from mcplint.live.verify import Verification
    from mcplint.settings import UsageError

    if not url.lower().startswith(("https://", "http://")):
        raise UsageError(f"init --from: '{url}' is not an http(s) URL")
    catalog = load_builtin()
    manifest: dict[str, Any] = {"version": 1, "server": {"url": url}, "auth": {"type": "oauth"}}
    settings = runner.settings_from(options)
    verification = Verification(manifest, {}, catalog.data, _live_options(options),
                                settings.profile_for(None), infer_auth=True)
    live = verification.run()
    if live.get("resolvers_answered") is False:
        return _no_resolver(0)
    post = (live.get("mcp") or {}).get("post") or {}
    if post.get("status") is None:
        raise UsageError(f"init --from: {url} did not answer "
                         f"({(post.get('evidence') or {}).get('error', 'no answer')}); run "
                         f"`mcplint probe {url}` to see why")
    return starter.write(output, discovered_values(url, live, verification.auth_type))
