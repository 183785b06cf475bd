"""The configuration file: `.mcplint.yaml`, or `[tool.mcplint]` in `pyproject.toml`.

Found at or above the current folder, stopping at the repository root (the folder with
`.git`); the closest wins, and `.mcplint.yaml` wins over `pyproject.toml` in the same
folder. Files are not merged: one config applies, as with Ruff. An option given on the
command line replaces the config's value for the same key (`--policies` adds to the
config's folders, as "also load" says). Relative paths and globs in a config are relative
to its folder, so a run from a subfolder means the same as one from the top.

Strict, because a typo that silently does nothing is worse than an error: an unknown key,
a bad value or an unknown rule is exit 2 with one line naming the file, the key and what
is allowed. Cheap, because `check` runs on every commit: the schema is checked with a
validator generated ahead of time (jsonschema is imported only to explain a mistake), and
`pyproject.toml` is parsed only when its text mentions mcplint.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from mcplint.config.settings import Settings, split_codes
from mcplint.errors import UsageError
from mcplint.load.schemacheck import TYPE_NAMES
from mcplint.load.sourcemap import SourceMap, join

YAML_NAME = ".mcplint.yaml"
PYPROJECT = "pyproject.toml"
# Cheap test before parsing TOML: a [tool.mcplint…] table, a dotted tool.mcplint key, or
# a bare [tool] table (which may hold `mcplint = {…}`). Compiled on first use: most runs
# never read a pyproject.toml that mentions mcplint.
_MENTIONS_TOOL = r"""
    ^\s*\[\s*tool\s*\.\s*["']?mcplint\b
  | ^\s*tool\s*\.\s*["']?mcplint\b
  | ^\s*\[\s*tool\s*\]\s*$
"""


class Config:
    """One configuration file's values, and how to name its keys in messages."""

    def __init__(self, path: Path, values: dict[str, Any],
                 source_map: SourceMap | None = None) -> None:
        self.path = path
        self.values = values
        self.source_map = source_map  # YAML only: where each key is

    @property
    def shown(self) -> str:
        return str(shown(self.path))

    @property
    def folder(self) -> Path:
        return self.path.resolve().parent

    def at(self, *path: str | int) -> str:
        """Where a key is: `.mcplint.yaml:3`, or `pyproject.toml [tool.mcplint]`."""
        if self.source_map is None:
            return f"{self.shown} [tool.mcplint]"
        pointer = "".join(join("", token) for token in path)
        return f"{self.shown}:{self.source_map.key_span(pointer).line}"

    def where(self, *path: str | int) -> str:
        """`.mcplint.yaml:3: select`: the prefix of a message about a key's value."""
        return f"{self.at(*path)}: {_key_name(list(path))}"


def settings_for(options: dict[str, Any]) -> Settings:
    """The run's settings: the command line first, then the config file (if any)."""
    config = _chosen(options)
    values = config.values if config else {}
    # Where each value came from, for error messages; an option replaces the config's value.
    origins = {key: config.where(key) for key in values} if config else {}
    origins.update((option, f"--{option}") for option in ("select", "ignore", "baseline")
                   if options.get(option))
    select = options.get("select") or values.get("select")
    ignore = options.get("ignore") or values.get("ignore")
    live = values.get("live", {})
    policy_dirs = _config_paths(config, "policies")
    for folder in policy_dirs:
        if not folder.is_dir():
            raise UsageError(f"{origins['policies']}: {folder} is not a folder; allowed: "
                             "folders of policy files, relative to the config's folder")
    return Settings(
        cli_profile=options.get("profile"),
        config_profile=values.get("profile"),
        select=split_codes(select) if select is not None else None,
        ignore=split_codes(ignore),
        severity=dict(values.get("severity", {})),
        per_file_ignores={glob: split_codes(codes)
                          for glob, codes in values.get("per-file-ignores", {}).items()},
        fail_on=options.get("fail_on") or values.get("fail-on") or "error",
        no_suppress=bool(options.get("no_suppress")),
        exclude=tuple(values.get("exclude", ())),
        force_exclude=bool(options.get("force_exclude")),
        config_file=config.shown if config else None,
        root=config.folder if config else None,
        origins=origins,
        policy_dirs=policy_dirs,
        egress_ranges=next(iter(_config_paths(config, "egress-ranges")), None),
        baseline=(Path(options["baseline"]) if options.get("baseline")
                  else next(iter(_config_paths(config, "baseline")), None)),
        live_timeout=live.get("timeout"),
        live_nameservers=tuple(live.get("nameservers", ())),
    )


def _config_paths(config: Config | None, key: str) -> tuple[Path, ...]:
    """The path (or paths) under `key`, relative to the config's folder."""
    if config is None or key not in config.values:
        return ()
    value = config.values[key]
    return tuple(shown(config.folder / os.path.expanduser(v))
                 for v in ([value] if isinstance(value, str) else value))


def shown(path: Path) -> Path:
    """A path as messages and reports name it: relative to the current folder when below it
    or in a folder above it (where configs are found), else as it is."""
    relative = Path(os.path.relpath(path))
    folders = relative.parts[:-1]
    return relative if ".." not in folders or set(folders) == {".."} else path


def _chosen(options: dict[str, Any]) -> Config | None:
    """The config that applies: --config's, none with --no-config, else the closest."""
    given = options.get("config_file")
    if given and options.get("no_config"):
        raise UsageError("--config and --no-config contradict each other; give one")
    if options.get("no_config"):
        return None
    return load(Path(given)) if given else find(Path.cwd())


def find(start: Path) -> Config | None:
    """The closest config at or above `start`, stopping at the repository root."""
    folder = start.resolve()
    while True:
        if (folder / YAML_NAME).is_file():
            return load(folder / YAML_NAME)
        pyproject = folder / PYPROJECT
        table = _pyproject_table(pyproject) if pyproject.is_file() else None
        if table is not None:
            return _validated(Config(pyproject, table))
        if (folder / ".git").exists() or folder.parent == folder:
            return None
        folder = folder.parent


def _pyproject_table(pyproject: Path) -> dict[str, Any] | None:
    """[tool.mcplint] of a pyproject.toml, or None; parsed (tomllib) only when its text
    mentions the table, which most pyproject.toml files do not."""
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "mcplint" not in text or not re.search(_MENTIONS_TOOL, text, re.M | re.X):
        return None
    return _toml_table(pyproject, text, required=False)


# -- reading and validating ---------------------------------------------------------------
def load(path: Path) -> Config:
    """A validated Config from a .mcplint.yaml or a pyproject.toml, or a UsageError."""
    if path.name.endswith(".toml"):
        table = _toml_table(path, _read(path), required=True)
        return _validated(Config(path, table or {}))
    return _validated(_load_yaml(path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{shown(path)}: cannot read this config file ({error})") from None


def _toml_table(path: Path, text: str, required: bool) -> dict[str, Any] | None:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{shown(path)}: not valid TOML: {error}") from None
    table = document.get("tool", {}).get("mcplint") if isinstance(document.get("tool"), dict) \
        else None
    if table is None and required:
        raise UsageError(f"{shown(path)}: no [tool.mcplint] table in this file")
    if table is not None and not isinstance(table, dict):
        raise UsageError(f"{shown(path)}: tool.mcplint must be a table of settings")
    return table


def _load_yaml(path: Path) -> Config:
    from mcplint.load.yamlsource import load_file

    loaded = load_file(path)
    if loaded.problems:
        problem = loaded.problems[0]
        raise UsageError(f"{shown(path)}:{problem.span.line}:{problem.span.column}: "
                         f"{problem.message}")
    data = loaded.data if loaded.data is not None else {}
    if not isinstance(data, dict):
        raise UsageError(f"{shown(path)}: a config file is a mapping of keys "
                         "(see `mcplint schema config`)")
    return Config(path, data, loaded.source_map)


def _validated(config: Config) -> Config:
    """The config, if it satisfies the schema (a generated validator; jsonschema is imported
    only to explain a failure), else a UsageError."""
    from mcplint.load import fastschema

    if fastschema.is_valid("config", config.values):
        return config
    import json

    import jsonschema

    from mcplint.resources import schema_text

    schema = json.loads(schema_text("config.schema.json"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(config.values))
    if not errors:  # the two validators disagree: trust the one that explains
        return config
    # The shallowest first: an unknown key before a bad value inside it.
    error = min(errors, key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    raise UsageError(_message(config, error))


def _key_name(path: list[Any]) -> str:
    """severity.MCP104, live.timeout, exclude[0]."""
    text = ""
    for token in path:
        text += f"[{token}]" if isinstance(token, int) else (f".{token}" if text else str(token))
    return text


_PLURALS = {"string": "strings", "number": "numbers", "integer": "integers"}


def _message(config: Config, error: Any) -> str:
    """One line: the file (and line), the key, what is wrong and what is allowed."""
    path, kind, schema = list(error.absolute_path), error.validator, error.schema
    name = _key_name(path)
    if kind == "additionalProperties":
        import difflib

        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))[0]
        hint = difflib.get_close_matches(unknown, allowed, n=1)
        guess = f" (did you mean '{hint[0]}'?)" if hint else ""
        inside = f" in {name}" if name else ""
        return (f"{config.at(*path, unknown)}: unknown key "
                f"'{_key_name(path + [unknown])}'{guess}; allowed{inside}: {', '.join(allowed)}")
    if kind in ("enum", "const"):
        allowed = ", ".join(map(str, schema["enum"] if kind == "enum" else [schema["const"]]))
    elif kind == "type":
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        allowed = " or ".join(TYPE_NAMES.get(t, t) for t in types)
        items = schema.get("items", {}).get("type")
        if items in _PLURALS:
            allowed += f" of {_PLURALS[items]}"
    elif kind == "exclusiveMinimum":
        allowed = f"a number greater than {schema[kind]}"
    else:
        allowed = schema.get("description") or error.message
    return f"{config.where(*path)} is {_show(error.instance)}; allowed: {allowed}"


def _show(value: Any) -> str:
    import json

    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


# -- egress-ranges: a replacement for policies/data/egress.yaml -----------------------------
EGRESS_LISTS = ("required", "also_seen", "retired")


def load_egress_ranges(settings: Settings) -> dict[str, Any]:
    """The data file named by `egress-ranges`, in the built-in file's shape: `required`
    (ranges every allowlist must cover), `also_seen` and `retired` (lists of addresses or
    CIDRs). Checked here, because a typo in a range would otherwise cover nothing, silently."""
    import ipaddress

    from mcplint.load.yamlsource import load_file

    assert settings.egress_ranges is not None
    path, where = shown(settings.egress_ranges), settings.origin("egress-ranges")
    if not path.is_file():
        raise UsageError(f"{where}: {path} is not a file (allowed: a YAML or JSON file with "
                         f"{', '.join(EGRESS_LISTS)})")
    loaded = load_file(path)
    if loaded.problems:
        problem = loaded.problems[0]
        raise UsageError(f"{path}:{problem.span.line}:{problem.span.column}: {problem.message}")
    data = loaded.data
    allowed = f"a mapping with {', '.join(EGRESS_LISTS)} (lists of addresses or CIDRs) and sources"
    if not isinstance(data, dict) or "required" not in data:
        raise UsageError(f"{path}: not an egress-ranges file; allowed: {allowed}")
    for key in data:
        if key not in (*EGRESS_LISTS, "sources"):
            raise UsageError(f"{path}: unknown key '{key}'; allowed: {allowed}")
    for key in EGRESS_LISTS:
        entries = data.setdefault(key, [])
        if not isinstance(entries, list):
            raise UsageError(f"{path}: {key} must be a list of addresses or CIDRs")
        for index, entry in enumerate(entries):
            try:
                ipaddress.ip_network(str(entry), strict=False)
            except ValueError:
                line = loaded.source_map.value_span(f"/{key}/{index}").line
                raise UsageError(f"{path}:{line}: {key}[{index}] is {_show(entry)}; allowed: "
                                 "an IPv4 or IPv6 address or CIDR") from None
    return data  # type: ignore[no-any-return]
