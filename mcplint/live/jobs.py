"""Plugging live verification into the linter: options from the command line and config,
one Verification per manifest, the --record file."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcplint.config.settings import Settings
from mcplint.errors import UsageError
from mcplint.live.options import LiveOptions, parse_connect_to, parse_nameserver

MAX_TIMEOUT = 600.0  # seconds: no client waits longer for one answer
MAX_DEADLINE = 3600.0  # seconds for one manifest's verification


def seconds(value: Any, option: str, maximum: float) -> float:
    """A number of seconds that a clock can be set with: finite, positive, bounded (inf or
    1e308 overflow the clocks; nan compares false with everything, so each wait fails)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not 0 < number <= maximum:  # also false for nan
        raise UsageError(f"{option} must be a number of seconds above 0 and at most "
                         f"{maximum:g}, not '{value}'")
    return number


def options_from(cli: dict[str, Any], config_timeout: float | None = None) -> LiveOptions:
    """LiveOptions from the command line (which wins) and the config's `live` section.

    What widens where mcplint connects or what it sends comes from the command line only
    (a pull request can change the manifest and the config, not the job's command line):
    resolvers, --connect-to, loopback (--profile local typed there) and the environment
    variables credentials may be read from."""
    options = LiveOptions()
    if cli.get("timeout") is not None:  # 0 is refused, not taken for "not given"
        options.timeout = seconds(cli["timeout"], "--timeout", MAX_TIMEOUT)
    elif config_timeout is not None:
        options.timeout = seconds(config_timeout, "live.timeout", MAX_TIMEOUT)
    if cli.get("deadline") is not None:
        options.deadline = seconds(cli["deadline"], "--deadline", MAX_DEADLINE)
    nameservers = tuple(cli.get("nameserver") or ())
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
    options.credential_env = tuple(cli.get("credential_env") or ())
    if options.credential_env and not options.send_credentials:
        raise UsageError("--credential-env names variables for --send-credentials: give both")
    options.loopback = cli.get("profile") == "local"
    if cli.get("record"):
        options.record = Path(cli["record"])
    options.progress = sys.stderr.isatty() and not cli.get("quiet")
    return options


class LiveRunner:
    """Verifications for the linter: each starts the moment its manifest has loaded and is
    collected after the manifest's static check (see mcplint/live/worker.py). Use it as a
    context manager: entering starts the probing process, before anything else is done;
    `begin` gives it the run's settings (the live options also come from the config)."""

    def __init__(self, cli: dict[str, Any]) -> None:
        self.cli = cli
        self.options: LiveOptions | None = None  # known once the config is read (begin)
        self.records: list[dict[str, Any]] = []
        self.no_resolver = False  # some verification got no answer from any resolver
        self._probes: Any = None
        self._expected = 0  # manifests the run will verify
        self._started = 0

    def __enter__(self) -> LiveRunner:
        from mcplint.live import worker

        ca_bundle = Path(self.cli["ca_bundle"]) if self.cli.get("ca_bundle") else None
        self._probes = (worker.Worker(ca_bundle) if worker.forking()
                        else worker.InProcess(ca_bundle))
        return self

    def __exit__(self, *_: object) -> None:
        self._probes.close()

    def begin(self, settings: Settings, count: int) -> None:
        """The run's settings, and how many manifests it has (the last one's job lets the
        worker end early)."""
        self.options = options_from(self.cli, settings.live_timeout)
        self._expected = count

    def start(self, display: str, manifest: dict[str, Any], declared: dict[str, Any],
              data: dict[str, Any], profile: str) -> Callable[[], dict[str, Any]]:
        """Start verifying one manifest; the returned function waits for its live facts."""
        assert self.options is not None, "begin() first"
        if self.options.progress:
            from mcplint.live.progress import shared

            shared().line(f"mcplint: verifying {display} against the live endpoints")
        self._started += 1
        self._probes.submit({"manifest": manifest, "declared": declared, "data": data,
                             "profile": profile, "options": self.options.to_json()},
                            last=self._started == self._expected)
        # The static check that follows runs while the requests wait for their answers,
        # not while they are being sent (on a machine with few cores, it would slow them).
        self._probes.wait_on_way()

        def result() -> dict[str, Any]:
            answer = self._probes.result()
            live: dict[str, Any] = answer["live"]
            if live.get("resolvers_answered") is False:
                self.no_resolver = True
            if answer["records"] is not None:
                self.records.append({"manifest": display, "elapsed_ms": live["elapsed_ms"],
                                     "requests": answer["records"]})
            return live

        return result

    def write_record(self) -> None:
        if self.options is not None and self.options.record is not None:
            write_record(self.options.record, self.records)


def write_record(path: Path, verifications: list[dict[str, Any]]) -> None:
    """The --record file: every request of every verification, secrets redacted."""
    from mcplint import __version__
    from mcplint.files import write_atomically

    document = {"tool": f"mcplint {__version__}", "verifications": verifications}
    write_atomically(path, lambda out: json.dump(document, out, indent=2))
