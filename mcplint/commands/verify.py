"""`mcplint verify` and `mcplint probe`: the live commands (init --from is in commands/init.py)."""

from __future__ import annotations

import sys
from typing import Any

from mcplint.errors import ExitCode
from mcplint.live.jobs import LiveRunner, options_from, write_record


def live_options(options: dict[str, Any]) -> Any:
    from mcplint.config import file as config

    settings = config.settings_for(options)
    return options_from(options, settings.live_timeout)


def no_resolver(code: int) -> int:
    """Exit code 3: the network of the machine running mcplint is at fault, not the
    connector (a usage problem, exit 2, still wins)."""
    if code == ExitCode.USAGE:
        return code
    print("mcplint: none of the resolvers answered any query: check this machine's network "
          "or --nameserver (findings about DNS are not about the connector)", file=sys.stderr)
    return ExitCode.NO_NETWORK


def verify(paths: tuple[str, ...], options: dict[str, Any]) -> int:
    with LiveRunner(options) as live:
        # Imported once the probing process has started, so that its imports and the
        # linter's run side by side (mcplint/live/worker.py).
        from mcplint.commands import run as runner

        code = runner.run("verify", paths, options, live=live)
    live.write_record()
    return no_resolver(code) if live.no_resolver else code


def probe(url: str, options: dict[str, Any]) -> int:
    """A verification of a bare URL: a synthetic manifest, live rules and the URL rules."""
    from mcplint.commands import run as runner
    from mcplint.config.settings import checked
    from mcplint.errors import UsageError
    from mcplint.facts import static as static_facts
    from mcplint.lint import Linter
    from mcplint.live.verify import Verification
    from mcplint.policy.engine import Context, Evaluator
    from mcplint.report.checklist import write as checklist
    from mcplint.results.overrides import drop_overridden

    if not url.lower().startswith(("https://", "http://")):
        raise UsageError(f"probe: '{url}' is not an http(s) URL")
    settings = runner.settings_from(options)
    catalog = runner.catalog_for(options, settings)
    settings = checked(catalog, settings)
    pairs = runner.outputs(options)
    live = live_options(options)
    profile = settings.profile_for(None)
    manifest: dict[str, Any] = {"version": 1, "server": {"url": url}, "auth": {"type": "oauth"}}
    verification = Verification(manifest, {}, catalog.data, live, profile,
                                infer_auth=True)
    facts = verification.run()
    manifest["auth"]["type"] = verification.auth_type
    document = {"manifest": manifest, "declared": {},
                "facts": static_facts.build(manifest, {}, catalog.data), "live": facts,
                "profile": profile, "data": catalog.data}
    rules = [r for r in catalog.rules.values()
             if r.checks and ("live" in r.modes or r.code.startswith("MCP1"))]
    linter = Linter(catalog, settings, mode="live")
    findings = Evaluator(Context(document, [], manifest=None), linter.schema_test).run(rules)
    result = linter.finish(url, drop_overridden(findings, catalog.rules), profile, texts={})
    result.live = facts
    if live.record is not None:
        write_record(live.record,
                     [{"manifest": None, "url": url, "requests": verification.records()}])
    runner.emit("probe", [result], catalog, settings, options, pairs, text=checklist)
    code = runner.exit_code([result], settings.fail_on)
    return no_resolver(code) if facts.get("resolvers_answered") is False else code
