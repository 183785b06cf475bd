"""What a run was asked to do: profile, rule selection, severities, thresholds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mcplint.catalog import PROFILES, Catalog

DEFAULT_PROFILE = "claude-ai"


class UsageError(ValueError):
    """Bad options or configuration: exit code 2, with this one-line message."""


@dataclass
class Settings:
    cli_profile: str | None = None
    config_profile: str | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)  # code -> severity
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)  # glob -> codes
    fail_on: str = "error"
    no_suppress: bool = False
    exclude: tuple[str, ...] = ()
    force_exclude: bool = False

    def profile_for(self, manifest_profile: object) -> str:
        """CLI first, then the manifest's `profile`, then the config's."""
        if self.cli_profile:
            return self.cli_profile
        if isinstance(manifest_profile, str) and manifest_profile in PROFILES:
            return manifest_profile
        return self.config_profile or DEFAULT_PROFILE


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
            raise UsageError(f"{option}: '{selector}' is not a rule code, name or code prefix "
                             "(see `mcplint rules`)")
        codes |= prefixed
    return codes


def selected_codes(catalog: Catalog, settings: Settings, profile: str) -> set[str]:
    """The profile's rules, or --select's instead, minus --ignore's."""
    if settings.select is None:
        base = {code for code, rule in catalog.rules.items() if profile in rule.profiles}
    else:
        base = expand_selectors(catalog, settings.select, "--select")
    return base - expand_selectors(catalog, settings.ignore, "--ignore")
