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


class Probed:
    """A verification of a bare URL and what the rules found: for probe and init --from."""

    def __init__(self, result: Any, facts: dict[str, Any], auth_type: str, records: list[Any],
                 settings: Any, catalog: Any, live: Any) -> None:
        self.result = result
        self.facts = facts
        self.auth_type = auth_type
        self.records = records
        self.settings = settings
        self.catalog = catalog
        self.live = live  # the live options (LiveOptions)


def probe_url(url: str, options: dict[str, Any], header: tuple[str, ...] = ()) -> Probed:
    """Verify a bare URL: a synthetic manifest, the live rules and the URL rules. The lines
    of `header` are written first on a terminal, before any request."""
    from mcplint.commands import run as runner
    from mcplint.config.settings import checked
    from mcplint.facts import static as static_facts
    from mcplint.lint import Linter
    from mcplint.live.verify import Verification
    from mcplint.policy.engine import Context, Evaluator
    from mcplint.results.overrides import drop_overridden

    settings = runner.settings_from(options)
    catalog = runner.catalog_for(options, settings)
    settings = checked(catalog, settings)
    live = live_options(options)
    if live.progress and header:
        from mcplint.live.progress import shared

        for line in header:
            shared().line(line)
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
    return Probed(result, facts, verification.auth_type, verification.records(), settings,
                  catalog, live)


def probe(url: str, options: dict[str, Any]) -> int:
    """`mcplint probe URL`: the troubleshooting checklist of a bare URL."""
    from mcplint.commands import run as runner
    from mcplint.errors import UsageError
    from mcplint.report.checklist import write as checklist

    if not url.lower().startswith(("https://", "http://")):
        raise UsageError(f"probe: '{url}' is not an http(s) URL")
    pairs = runner.outputs(options)
    from mcplint.results.order import WALK

    steps = ", ".join(title for title, _ in WALK)
    probed = probe_url(url, options, header=(f"mcplint probe {url}", f"  steps: {steps}"))
    record = probed.live.record
    if record is not None:
        write_record(record, [{"manifest": None, "url": url, "requests": probed.records}])
    runner.emit("probe", [probed.result], probed.catalog, probed.settings, options, pairs,
                text=checklist)
    code = runner.exit_code([probed.result], probed.settings.fail_on)
    return no_resolver(code) if probed.facts.get("resolvers_answered") is False else code
