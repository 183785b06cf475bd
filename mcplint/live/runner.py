"""Plugging live verification into the linter: options from the command line and config,
one Verification per manifest, the --record file."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcplint.live.options import LiveOptions, parse_connect_to, parse_nameserver
from mcplint.settings import UsageError


def options_from(cli: dict[str, Any], config_timeout: float | None = None,
                 config_nameservers: tuple[str, ...] = ()) -> LiveOptions:
    """LiveOptions from the command line (which wins) and the config's `live` section."""
    options = LiveOptions()
    timeout = cli.get("timeout") or config_timeout
    if timeout is not None:
        options.timeout = float(timeout)
    if cli.get("deadline") is not None:
        options.deadline = float(cli["deadline"])
    if options.timeout <= 0 or options.deadline <= 0:
        raise UsageError("--timeout and --deadline must be positive numbers of seconds")
    nameservers = tuple(cli.get("nameserver") or ()) or config_nameservers
    if nameservers:
        options.nameservers = tuple(parse_nameserver(n) for n in nameservers)
    system = cli.get("system_resolver")
    if system == "none":
        options.system_resolver_off = True
    elif system:
        options.system_resolver = parse_nameserver(system, "--system-resolver")
    for spec in cli.get("connect_to") or ():
        key, target = parse_connect_to(spec)
        options.connect_to[key] = target
    if cli.get("ca_bundle"):
        options.ca_bundle = Path(cli["ca_bundle"])
    options.user_agent = cli.get("user_agent")
    options.probe_registration = bool(cli.get("probe_registration"))
    options.send_credentials = bool(cli.get("send_credentials"))
    if cli.get("record"):
        options.record = Path(cli["record"])
    options.progress = sys.stderr.isatty() and not cli.get("quiet")
    return options


class LiveRunner:
    """Verifications for the linter: each starts the moment its manifest has loaded and is
    collected after the manifest's static check (see mcplint/live/worker.py). Use it as a
    context manager: entering starts the probing process."""

    def __init__(self, options: LiveOptions) -> None:
        self.options = options
        self.records: list[dict[str, Any]] = []
        self.no_resolver = False  # some verification got no answer from any resolver
        self._probes: Any = None
        self._expected: int | None = None  # manifests the run will verify, if known
        self._started = 0

    def __enter__(self) -> LiveRunner:
        from mcplint.live import worker

        self._probes = (worker.Worker(self.options) if worker.forking()
                        else worker.InProcess(self.options))
        return self

    def __exit__(self, *_: object) -> None:
        self._probes.close()

    def expect(self, count: int) -> None:
        """How many manifests the run has: the last one's job lets the worker end early."""
        self._expected = count

    def start(self, display: str, manifest: dict[str, Any], declared: dict[str, Any],
              data: dict[str, Any], profile: str) -> Callable[[], dict[str, Any]]:
        """Start verifying one manifest; the returned function waits for its live facts."""
        if self.options.progress:
            print(f"mcplint: verifying {display} against the live endpoints", file=sys.stderr)
        self._started += 1
        self._probes.submit({"manifest": manifest, "declared": declared, "data": data,
                             "profile": profile}, last=self._started == self._expected)

        def result() -> dict[str, Any]:
            answer = self._probes.result()
            live: dict[str, Any] = answer["live"]
            if live.get("resolvers_answered") is False:
                self.no_resolver = True
            if self.options.record is not None:
                self.records.append({"manifest": display, "elapsed_ms": live["elapsed_ms"],
                                     "requests": answer["records"]})
            return live

        return result

    def write_record(self) -> None:
        if self.options.record is None:
            return
        from mcplint import __version__
        from mcplint.report import write_atomically

        document = {"tool": f"mcplint {__version__}", "verifications": self.records}
        write_atomically(self.options.record, lambda out: json.dump(document, out, indent=2))
