"""`mcplint verify` and `mcplint probe`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mcplint import runner
from mcplint.live.runner import LiveRunner, options_from

EXIT_NO_NETWORK = 3


def _live_options(options: dict[str, Any]) -> Any:
    settings = runner.settings_from(options)
    return options_from(options, getattr(settings, "live_timeout", None),
                        tuple(getattr(settings, "live_nameservers", ()) or ()))


def _no_resolver(code: int) -> int:
    """Exit code 3: the network of the machine running mcplint is at fault, not the
    connector (a usage problem, exit 2, still wins)."""
    if code == 2:
        return code
    print("mcplint: none of the resolvers answered any query: check this machine's network "
          "or --nameserver (findings about DNS are not about the connector)", file=sys.stderr)
    return EXIT_NO_NETWORK


def verify(paths: tuple[str, ...], options: dict[str, Any]) -> int:
    live = LiveRunner(_live_options(options))
    code = runner.run("verify", paths, options, live=live)
    live.write_record()
    return _no_resolver(code) if live.no_resolver else code


def probe(url: str, options: dict[str, Any]) -> int:
    """A verification of a bare URL: a synthetic manifest, live rules and the URL rules."""
    from mcplint.catalog import Check
    from mcplint.engine import Context, Evaluator, drop_overridden
    from mcplint.facts import static as static_facts
    from mcplint.lint import Linter, _schema_test
    from mcplint.live.verify import Verification
    from mcplint.report import Report, write_atomically, writer
    from mcplint.settings import UsageError

    if not url.lower().startswith(("https://", "http://")):
        raise UsageError(f"probe: '{url}' is not an http(s) URL")
    settings = runner.settings_from(options)
    catalog = runner.catalog_for(options)
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
    tests: dict[int, Any] = {}

    def schema_test(check: Check) -> Any:
        return tests.setdefault(id(check), _schema_test(check))

    rules = [r for r in catalog.rules.values()
             if r.checks and ("live" in r.modes or r.code.startswith("MCP1"))]
    findings = Evaluator(Context(document, [], manifest=None), schema_test).run(rules)
    linter = Linter(catalog, settings, mode="live")
    result = linter.finish(url, drop_overridden(findings, catalog.rules), profile, texts={})
    result.live = live
    if live_options.record is not None:
        recorder = LiveRunner(live_options)
        recorder.records.append({"manifest": None, "url": url, "requests": verification.records()})
        recorder.write_record()
    verbosity = -1 if options.get("quiet") else options.get("verbose", 0)
    for format_name, file in pairs:
        report = Report("probe", [result], catalog, verbosity=verbosity,
                        color=runner.use_color(options.get("color", "auto"), file is None))
        render = _probe_text if format_name == "text" else writer(format_name)
        if file is None:
            render(report, sys.stdout)
        else:
            write_atomically(Path(file), lambda out, r=report, w=render: w(r, out))
    code = runner.exit_code([result], settings.fail_on)
    return _no_resolver(code) if live.get("resolvers_answered") is False else code


def _probe_text(report: Any, out: Any) -> None:
    from mcplint.live.checklist import write

    write(report, out)

