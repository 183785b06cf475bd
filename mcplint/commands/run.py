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
from mcplint.findings import FileResult, at_least
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
    failing = any(at_least(f.severity, fail_on) for r in results for f in r.findings
                  if not f.suppressed)
    return 1 if failing else 0


def run(command: str, paths: tuple[str, ...], options: dict[str, Any],
        live: LiveProbes | None = None) -> int:
    settings = settings_from(options)
    catalog = catalog_for(options, settings)
    pairs = outputs(options)
    # Check rule names (options and config) before any work: a typo is exit 2, not "no finding".
    settings = checked(catalog, settings)
    manifests = discover.select(paths, settings.exclude, settings.force_exclude, settings.relative)
    linter = Linter(catalog, settings, mode="live" if live else "static", live=live)
    if live is not None:
        live.begin(settings, len(manifests))
    results = lint_all(linter, manifests) if live is None else [
        linter.lint(path, shown) for path, shown in manifests]
    extras: dict[str, Any] = {}
    if settings.baseline is not None or options.get("write_baseline"):
        from mcplint.results import baseline

        summary = baseline.use(results, settings, options.get("write_baseline"),
                               catalog.split_from)
        extras = {"baseline": summary} if summary else {}
    emit(command, results, catalog, settings, options, pairs, extras)
    return exit_code(results, settings.fail_on)


def emit(command: str, results: list[FileResult], catalog: Catalog, settings: Settings,
         options: dict[str, Any], pairs: list[tuple[str, str | None]],
         extras: dict[str, Any] | None = None, text: Writer | None = None) -> None:
    """Write each requested report (`text` replaces the text format's writer: probe)."""
    verbosity = -1 if options.get("quiet") else options.get("verbose", 0)
    for format_name, file in pairs:
        report = Report(command, results, catalog, verbosity=verbosity, extras=extras or {},
                        fail_on=settings.fail_on,
                        color=use_color(options.get("color", "auto"), file is None))
        render = text if text is not None and format_name == "text" else writer(format_name)
        if file is None:
            render(report, sys.stdout)
        else:
            write_atomically(Path(file), lambda out, r=report, w=render: w(r, out))
