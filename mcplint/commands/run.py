"""One run of check/verify/probe: settings, catalog, manifests, reports, exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from mcplint.config import discover
from mcplint.config.settings import Settings, checked
from mcplint.errors import UsageError
from mcplint.files import write_atomically
from mcplint.findings import FileResult, fails
from mcplint.lint import Linter, LiveProbes
from mcplint.policy.catalog import Catalog, load_builtin, load_policy_dir
from mcplint.report import FORMATS, Report, Writer, writer


def settings_from(options: dict[str, Any]) -> Settings:
    """The command line's options over the config file's (mcplint/config/file.py)."""
    from mcplint.config import file as config

    return config.settings_for(options)


def outputs(options: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(format, file or None for stdout) pairs, in order."""
    formats = list(options.get("formats") or ())
    files = list(options.get("outputs") or ())
    if not formats:
        formats = ["github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"]
    if len(files) > len(formats):
        raise UsageError("more --output files than --format options: pair each --output "
                         "with a --format, in order")
    pairs = [(f, files[i] if i < len(files) else None) for i, f in enumerate(formats)]
    if sum(1 for _, file in pairs if file is None) > 1:
        raise UsageError("only one report can go to stdout: give --output for the others")
    for name, _ in pairs:
        if name not in FORMATS:
            raise UsageError(f"--format {name} is not available in this build")
    return pairs


def use_color(choice: str, to_stdout: bool) -> bool:
    if choice == "always":
        return True
    if choice == "never" or "NO_COLOR" in os.environ:
        return False
    return to_stdout and sys.stdout.isatty()


def catalog_for(options: dict[str, Any], settings: Settings | None = None) -> Catalog:
    """The built-in rules, plus the config's and --policies' folders, with the config's
    egress ranges."""
    catalog = load_builtin()
    folders = [*(settings.policy_dirs if settings else ()),
               *map(Path, options.get("policy_dirs") or ())]
    loaded: set[Path] = set()
    for folder in folders:
        if folder.resolve() not in loaded:  # named by the config and by --policies
            loaded.add(folder.resolve())
            load_policy_dir(catalog, folder)
    if settings is not None and settings.egress_ranges is not None:
        from mcplint.config.file import load_egress_ranges

        catalog.data["egress"] = load_egress_ranges(settings)
    return catalog


PARALLEL_FROM = 48  # manifests; below this, starting workers costs more than it saves


def lint_all(linter: Linter, manifests: list[tuple[Path, str]]) -> list[FileResult]:
    """Check manifests, on every core when there are many (a monorepo's CI run).

    Workers are forked, so they inherit the loaded catalog instead of loading it again;
    only paths go to them and results come back. Elsewhere than Linux (no cheap, safe
    fork) and for few manifests, one process does it all."""
    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                  else os.cpu_count() or 1, 8)
    if len(manifests) < PARALLEL_FROM or workers < 2 or sys.platform != "linux":
        return [linter.lint(path, shown) for path, shown in manifests]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, len(manifests) // (workers * 4))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=_adopt, initargs=(linter,)) as pool:
        return list(pool.map(_lint_in_worker, manifests, chunksize=chunk))


_WORKER_LINTER: list[Linter] = []  # set once in each forked worker by _adopt


def _adopt(linter: Linter) -> None:
    _WORKER_LINTER.append(linter)


def _lint_in_worker(item: tuple[Path, str]) -> FileResult:
    return _WORKER_LINTER[0].lint(*item)


def exit_code(results: list[FileResult], fail_on: str) -> int:
    failing = any(fails(f, fail_on) for r in results for f in r.findings)
    return 1 if failing else 0


def run(command: str, paths: tuple[str, ...], options: dict[str, Any],
        live: LiveProbes | None = None) -> int:
    from mcplint.config.file import Configs

    configs = Configs(options)
    settings = configs.run
    catalog = catalog_for(options, settings)
    pairs = outputs(options)
    # Check rule names (options and config) before any work: a typo is exit 2, not "no finding".
    settings = checked(catalog, settings)
    stdin = _stdin(paths, options)
    try:
        manifests = discover.select(stdin or paths, settings.exclude, settings.force_exclude,
                                    settings.relative, must_exist=not stdin)
    except discover.NoManifest as error:
        if not options.get("allow_no_manifest"):
            raise
        print(f"mcplint: {error}; nothing to check", file=sys.stderr)
        return 0
    linters = _linters(configs, options, manifests, (settings, catalog), live)
    if stdin and manifests:
        linters[0].sources[manifests[0][0]] = sys.stdin.buffer.read()
    if live is not None:
        live.begin(settings, len(manifests))
    by_linter: dict[int, list[tuple[Path, str]]] = {}
    for item, linter in zip(manifests, linters):
        by_linter.setdefault(id(linter), []).append(item)
    done: dict[str, FileResult] = {}
    for linter in {id(linter): linter for linter in linters}.values():
        group = by_linter[id(linter)]
        found = lint_all(linter, group) if live is None else [
            linter.lint(path, shown) for path, shown in group]
        done.update((shown, result) for (_, shown), result in zip(group, found))
    results = [done[shown] for _, shown in manifests]
    extras: dict[str, Any] = {}
    if settings.baseline is not None or options.get("write_baseline"):
        from mcplint.results import baseline

        summary = baseline.use(results, settings, options.get("write_baseline"),
                               catalog.split_from)
        extras = {"baseline": summary} if summary else {}
    emit(command, results, _report_catalog(catalog, linters), settings, options, pairs, extras)
    return exit_code(results, settings.fail_on)


def _stdin(paths: tuple[str, ...], options: dict[str, Any]) -> tuple[str, ...]:
    """`check - --stdin-filename PATH`: the manifest is read from standard input and named
    PATH (findings carry it, references and the config are found from its folder)."""
    name = options.get("stdin_filename")
    if "-" in paths and len(paths) > 1:
        raise UsageError("'-' (standard input) is for `check - --stdin-filename PATH` alone")
    if paths != ("-",):
        if name:
            raise UsageError("--stdin-filename names standard input: give '-' as the only path")
        return ()
    if not name:
        raise UsageError("'-' reads the manifest from standard input: give --stdin-filename "
                         "PATH, the name its findings carry")
    return (name,)


def _linters(configs: Any, options: dict[str, Any], manifests: list[tuple[Path, str]],
             run: tuple[Settings, Catalog], live: LiveProbes | None) -> list[Linter]:
    """The linter of each manifest: one per config, so that each manifest gets the rule keys
    of the config nearest to it (with the catalog its policies and egress ranges make)."""
    mode = "live" if live else "static"
    catalogs: dict[tuple[Any, ...], Catalog] = {}
    linters: dict[int, Linter] = {}
    chosen = []
    for path, _ in manifests:
        settings = configs.settings_for(path)
        if id(settings) not in linters:
            if settings is configs.run:
                linters[id(settings)] = Linter(run[1], run[0], mode=mode, live=live)
            else:
                key = (settings.policy_dirs, settings.egress_ranges)
                if key == (run[0].policy_dirs, run[0].egress_ranges):
                    catalogs.setdefault(key, run[1])
                if key not in catalogs:
                    catalogs[key] = catalog_for(options, settings)
                linters[id(settings)] = Linter(catalogs[key], checked(catalogs[key], settings),
                                               mode=mode, live=live)
        chosen.append(linters[id(settings)])
    return chosen


def _report_catalog(catalog: Catalog, linters: list[Linter]) -> Catalog:
    """The run's catalog, with the rules other configs' policies added (reports describe
    every rule that ran)."""
    others = [linter.catalog for linter in linters if linter.catalog is not catalog]
    if not others:
        return catalog
    rules, docs = dict(catalog.rules), dict(catalog.user_docs)
    for other in others:
        for code, rule in other.rules.items():
            rules.setdefault(code, rule)
        for code, documentation in other.user_docs.items():
            docs.setdefault(code, documentation)
    return Catalog(rules, catalog.data, docs)


def emit(command: str, results: list[FileResult], catalog: Catalog, settings: Settings,
         options: dict[str, Any], pairs: list[tuple[str, str | None]],
         extras: dict[str, Any] | None = None, text: Writer | None = None) -> None:
    """Write each requested report (`text` replaces the text format's writer: probe)."""
    verbosity = -1 if options.get("quiet") else options.get("verbose", 0)
    for format_name, file in pairs:
        report = Report(command, results, catalog, verbosity=verbosity, extras=extras or {},
                        fail_on=settings.fail_on, root=settings.report_root,
                        color=use_color(options.get("color", "auto"), file is None))
        render = text if text is not None and format_name == "text" else writer(format_name)
        if file is None:
            render(report, sys.stdout)
        else:
            write_atomically(Path(file), lambda out, r=report, w=render: w(r, out))
