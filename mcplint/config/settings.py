"""What a run was asked to do: profile, rule selection, severities, thresholds."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mcplint.errors import UsageError
from mcplint.policy.catalog import Catalog
from mcplint.profiles import DEFAULT_PROFILE, PROFILES


# Plain classes, not dataclasses: `check` loads this module at start-up (README, Development).
class Suppress:
    """One entry of the config's `suppress` list: a finding in `file` (absolute), at or
    below `pointer`, of rule `code`, suppressed for `reason`."""

    def __init__(self, file: str, pointer: str, code: str, reason: str, origin: str) -> None:
        self.file = file
        self.pointer = pointer
        self.code = code  # a code or name as written; checked() makes it a code
        self.reason = reason
        self.origin = origin  # where it is written, for error messages

    def covers(self, code: str, file: str, pointer: str) -> bool:
        return code == self.code and file == self.file and (
            not self.pointer or pointer == self.pointer or pointer.startswith(self.pointer + "/"))


class Settings:
    def __init__(self, cli_profile: str | None = None, config_profile: str | None = None,
                 select: tuple[str, ...] | None = None, ignore: tuple[str, ...] = (),
                 severity: dict[str, str] | None = None,
                 per_file_ignores: dict[str, tuple[str, ...]] | None = None, fail_on: str = "error",
                 no_suppress: bool = False, exclude: tuple[str, ...] = (),
                 force_exclude: bool = False, config_file: str | None = None,
                 root: Path | None = None, origins: dict[str, str] | None = None,
                 policy_dirs: tuple[Path, ...] = (), egress_ranges: Path | None = None,
                 baseline: Path | None = None, live_timeout: float | None = None,
                 report_root: Path | None = None, rules_root: Path | None = None,
                 suppress: tuple[Suppress, ...] = ()) -> None:
        self.cli_profile = cli_profile
        self.config_profile = config_profile
        self.select = select
        self.ignore = ignore
        self.severity = {} if severity is None else severity  # code -> severity
        # glob -> codes
        self.per_file_ignores = {} if per_file_ignores is None else per_file_ignores
        self.fail_on = fail_on
        self.no_suppress = no_suppress
        self.exclude = exclude
        self.force_exclude = force_exclude
        # From the config file (mcplint/config/file.py); CLI options replace what they name.
        self.config_file = config_file  # as messages show it
        self.root = root  # the folder exclude globs are relative to
        self.origins = {} if origins is None else origins  # key -> where a value came from
        self.policy_dirs = policy_dirs
        self.egress_ranges = egress_ranges
        self.baseline = baseline
        self.live_timeout = live_timeout  # live.timeout, for verify when --timeout is not given
        # What reports and fingerprints name files relative to (config/discover.report_root).
        self.report_root = report_root
        # The folder per-file-ignores globs are relative to (the config that sets them).
        self.rules_root = rules_root
        self.suppress = suppress  # the config's `suppress` list

    def profile_for(self, manifest_profile: object) -> str:
        """CLI first, then the manifest's `profile`, then the config's."""
        if self.cli_profile:
            return self.cli_profile
        if isinstance(manifest_profile, str) and manifest_profile in PROFILES:
            return manifest_profile
        return self.config_profile or DEFAULT_PROFILE

    def origin(self, key: str) -> str:
        """Where `key` was set, for error messages: "--select" or ".mcplint.yaml:3: select"."""
        return self.origins.get(key, f"--{key}")

    def relative(self, display: str, root: Path | None = None) -> str:
        """A path as the config's globs see it: relative to the config's folder (to the
        current folder without a config), with forward slashes; `exclude`'s config unless
        another `root` is given."""
        root = self.root if root is None else root
        if root is None:
            return os.path.normpath(display).replace(os.sep, "/")
        return os.path.relpath(os.path.abspath(display), root).replace(os.sep, "/")


def split_codes(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Codes from a comma list, a list, or repeated options (each possibly a comma list)."""
    items = [value] if isinstance(value, str) else list(value or ())
    return tuple(code.strip() for item in items for code in item.split(",") if code.strip())


def expand_selectors(catalog: Catalog, selectors: Iterable[str], option: str) -> set[str]:
    """Codes named by codes, names or code prefixes (MCP3); unknown ones are a usage error."""
    codes: set[str] = set()
    for selector in selectors:
        selector = selector.strip()
        if not selector:
            continue
        rule = catalog.lookup(selector)
        if rule is not None:
            codes.add(rule.code)
            continue
        prefixed = {c for c in catalog.rules if c.startswith(selector.upper())}
        if not prefixed:
            raise UsageError(f"{option}: '{selector}' is not a rule code, name or code prefix"
                             f"{catalog.suggest(selector)} (see `mcplint rules`)")
        codes |= prefixed
    return codes


def selected_codes(catalog: Catalog, settings: Settings, profile: str) -> set[str]:
    """The profile's rules, or --select's instead, minus --ignore's."""
    if settings.select is None:
        base = {code for code, rule in catalog.rules.items() if profile in rule.profiles}
    else:
        base = expand_selectors(catalog, settings.select, settings.origin("select"))
    return base - expand_selectors(catalog, settings.ignore, settings.origin("ignore"))


def checked(catalog: Catalog, settings: Settings) -> Settings:
    """Settings whose rule names all exist (else a UsageError naming where each came from),
    with severity overrides keyed by code. Run once, before any manifest is read, so a
    typo is exit 2 rather than a silently empty run."""
    selected_codes(catalog, settings, settings.profile_for(None))
    for selectors in settings.per_file_ignores.values():
        expand_selectors(catalog, selectors, settings.origin("per-file-ignores"))
    severity = {}
    for name, level in settings.severity.items():
        rule = catalog.lookup(name)
        if rule is None:
            raise UsageError(f"{settings.origin('severity')}: '{name}' is not a rule code or "
                             f"name{catalog.suggest(name)} (see `mcplint rules`)")
        severity[rule.code] = level
    suppress = []
    for entry in settings.suppress:
        rule = catalog.lookup(entry.code)
        if rule is None:
            raise UsageError(f"{entry.origin}: '{entry.code}' is not a rule code or name "
                             "(see `mcplint rules`)")
        suppress.append(Suppress(entry.file, entry.pointer, rule.code, entry.reason,
                                 entry.origin))
    return Settings(**{**vars(settings), "severity": severity, "suppress": tuple(suppress)})
