"""The configuration file: `.mcplint.yaml` (or `.mcplint.yml`), or `[tool.mcplint]` in
`pyproject.toml`.

Keys about the rules (RULE_KEYS) come from the config nearest each manifest, so that
`infra/.mcplint.yaml` applies to infra's manifests whether mcplint starts at the root (as
pre-commit does) or in infra/; keys about the run (fail-on, baseline, exclude, live,
required-version) come from the config nearest the current folder. Either search goes up
to the repository root (the folder with `.git`); the closest wins, and `.mcplint.yaml` wins
over `pyproject.toml` in the same folder (`.mcplint.yaml` beside `.mcplint.yml` is an
error). Files are not merged, as with Ruff, unless a config says `extend: PATH`: then its
keys replace those of the config at PATH. `--config FILE` is the one config for every
manifest. An option given on the command line replaces the config's value for the same key
(`--policies` adds to the config's folders, as "also load" says). Relative paths and globs
in a config are relative to the folder of the file that sets them, so a run from a
subfolder means the same as one from the top.

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

from mcplint.config.discover import report_root
from mcplint.config.settings import Settings, Suppress, split_codes
from mcplint.errors import UsageError
from mcplint.load.schemacheck import TYPE_NAMES
from mcplint.load.sourcemap import SourceMap, Span, join

YAML_NAMES = (".mcplint.yaml", ".mcplint.yml")
PYPROJECT = "pyproject.toml"
# Keys about the rules: from the config nearest each manifest. The others are about the run.
RULE_KEYS = ("profile", "select", "ignore", "severity", "per-file-ignores", "policies",
             "egress-ranges", "suppress")
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
        # The file that set each key: this one, or one it extends (`extend: PATH`).
        self.owners: dict[str, Config] = dict.fromkeys(values, self)

    def owner(self, key: str) -> Config:
        return self.owners.get(key, self)

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
        owner = self.owner(str(path[0])) if path else self
        return f"{owner.at(*path)}: {_key_name(list(path))}"


def settings_for(options: dict[str, Any]) -> Settings:
    """The run's settings: the command line first, then the config found from the current
    folder (for the rules too; Configs.settings_for gives each manifest its own)."""
    config = _chosen(options)
    return _settings(options, config, config)


class Configs:
    """The settings of each manifest: its rule keys from the config nearest to it, the run
    keys from the run's; one Settings object per config, so manifests that share a config
    share a linter."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.run_config = _chosen(options)
        # --config and --no-config name the one config of every manifest.
        self.fixed = bool(options.get("config_file") or options.get("no_config"))
        self.run = _settings(options, self.run_config, self.run_config)
        self._by_config: dict[Path | None, Settings] = {_key(self.run_config): self.run}
        self._by_folder: dict[Path, Config | None] = {}
        # Configs nearest some manifest whose run keys this run takes from elsewhere.
        self._unused: list[tuple[Config, list[str]]] = []

    def settings_for(self, manifest: Path) -> Settings:
        if self.fixed:
            return self.run
        config = find(manifest.resolve().parent, self._by_folder)
        key = _key(config)
        if key not in self._by_config:
            self._by_config[key] = _settings(self.options, self.run_config, config)
            if config is not None:
                self._note_run_keys(config)
        return self._by_config[key]

    def _note_run_keys(self, config: Config) -> None:
        """Remember the run keys of a manifest's config that this run does not apply (those
        it has from the run's own config, by `extend`, do apply)."""
        run_path = _key(self.run_config)
        unused = [k for k in config.values
                  if k not in RULE_KEYS and config.owner(k).path.resolve() != run_path]
        if unused:
            self._unused.append((config, unused))

    def notes(self, live: bool) -> list[str]:
        """One line per manifest's config whose run keys (fail-on, baseline...) this run
        does not apply: silently ignoring a config's `fail-on` would let CI pass what the
        team meant to fail. `live` is named only when the run is live."""
        lines = []
        for config, keys in self._unused:
            keys = [k for k in keys if live or k != "live"]
            if not keys:
                continue
            verb = "applies" if len(keys) == 1 else "apply"
            here = self.run_config.shown if self.run_config else "none"
            lines.append(f"{config.shown}: {', '.join(keys)} {verb} only when mcplint starts "
                         f"in {Path(config.shown).parent}{os.sep} (run keys come from the "
                         f"config found from the current folder, here {here})")
        return lines


def _key(config: Config | None) -> Path | None:
    return config.path.resolve() if config is not None else None


def _settings(options: dict[str, Any], run: Config | None, rules: Config | None) -> Settings:
    """Settings with the run keys from `run` and the rule keys from `rules`."""
    run_values = {k: v for k, v in (run.values if run else {}).items() if k not in RULE_KEYS}
    rule_values = {k: v for k, v in (rules.values if rules else {}).items() if k in RULE_KEYS}
    values = {**run_values, **rule_values}
    # Where each value came from, for error messages; an option replaces the config's value.
    origins = {key: (rules if key in RULE_KEYS else run).where(key)  # type: ignore[union-attr]
               for key in values}
    origins.update((option, f"--{option}") for option in ("select", "ignore", "baseline")
                   if options.get(option))
    if "required-version" in values:
        _require_version(values["required-version"], origins["required-version"])
    select = options.get("select") or values.get("select")
    ignore = options.get("ignore") or values.get("ignore")
    live = values.get("live", {})
    policy_dirs = _config_paths(rules, "policies")
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
        config_file=run.shown if run else None,
        root=run.owner("exclude").folder if run else None,
        rules_root=rules.owner("per-file-ignores").folder if rules else None,
        origins=origins,
        policy_dirs=policy_dirs,
        egress_ranges=next(iter(_config_paths(rules, "egress-ranges")), None),
        baseline=(Path(options["baseline"]) if options.get("baseline")
                  else next(iter(_config_paths(run, "baseline")), None)),
        live_timeout=live.get("timeout"),
        report_root=report_root(options.get("root")),
        suppress=_suppress_entries(rules),
    )


def _require_version(specifier: str, where: str) -> None:
    """`required-version`: a PEP 440 specifier the running mcplint must satisfy, so that a
    team's CI runs the release it expects. `packaging` is imported only when the key is set."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from mcplint import __version__

    try:
        wanted = SpecifierSet(specifier)
    except InvalidSpecifier:
        raise UsageError(f"{where} is {_show(specifier)}; allowed: a PEP 440 version "
                         "specifier such as '>=0.2,<0.3' or '==0.2.1'") from None
    if not wanted.contains(__version__, prereleases=True):
        raise UsageError(f"{where}: this is mcplint {__version__}, the config requires "
                         f"{specifier}; install a matching release")


def _suppress_entries(config: Config | None) -> tuple[Suppress, ...]:
    """The config's `suppress` list, each file made absolute from the folder of the config
    that lists it."""
    if config is None or "suppress" not in config.values:
        return ()
    owner = config.owner("suppress")
    return tuple(Suppress(os.path.normpath(owner.folder / entry["file"]),
                          entry.get("pointer", ""), entry["code"], entry["reason"],
                          owner.where("suppress", index), owner.shown,
                          _entry_span(owner, index), index)
                 for index, entry in enumerate(config.values["suppress"]))


def _entry_span(config: Config, index: int) -> Span:
    """Where the index-th `suppress` entry is written (for MCP005, when it suppresses
    nothing): from the YAML source map; in a pyproject.toml, which has none, the line of
    its `[[tool.mcplint.suppress]]` table, else that of `suppress = [...]`."""
    if config.source_map is not None:
        return config.source_map.value_span(f"/suppress/{index}")
    lines = _read(config.path).splitlines()
    tables = [n for n, line in enumerate(lines, 1)
              if re.match(r"\s*\[\[\s*tool\s*\.\s*mcplint\s*\.\s*suppress\s*\]\]", line)]
    if index < len(tables):
        return Span(tables[index], 1, tables[index], 1)
    key = next((n for n, line in enumerate(lines, 1)
                if re.match(r"\s*(tool\s*\.\s*mcplint\s*\.\s*)?suppress\s*=", line)), 1)
    return Span(key, 1, key, 1)


def _config_paths(config: Config | None, key: str) -> tuple[Path, ...]:
    """The path (or paths) under `key`, relative to the config's folder."""
    if config is None or key not in config.values:
        return ()
    value, folder = config.values[key], config.owner(key).folder
    return tuple(shown(folder / os.path.expanduser(v))
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


def find(start: Path, cache: dict[Path, Config | None] | None = None) -> Config | None:
    """The closest config at or above `start`, stopping at the repository root; `cache`
    (folder -> its closest config) spares a monorepo's run reading a config once per
    manifest."""
    cache = {} if cache is None else cache
    folder = start.resolve()
    walked = []
    while folder not in cache:
        walked.append(folder)
        config = _in_folder(folder)
        if config is not None or (folder / ".git").exists() or folder.parent == folder:
            cache[folder] = config
            break
        folder = folder.parent
    found = cache[folder]
    cache.update(dict.fromkeys(walked, found))
    return found


def _in_folder(folder: Path) -> Config | None:
    found = [folder / name for name in YAML_NAMES if (folder / name).is_file()]
    if len(found) > 1:
        raise UsageError(f"{shown(found[0])} and {shown(found[1])}: two config files in "
                         "one folder; keep one")
    if found:
        return load(found[0])
    pyproject = folder / PYPROJECT
    table = _pyproject_table(pyproject) if pyproject.is_file() else None
    if table is None:
        return None
    config = _validated(Config(pyproject, table))
    return _extending(config, ()) if "extend" in config.values else config


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
def load(path: Path, extended_by: tuple[Path, ...] = ()) -> Config:
    """A validated Config from a .mcplint.yaml or a pyproject.toml (with the config it
    extends beneath it), or a UsageError."""
    if path.name.endswith(".toml"):
        table = _toml_table(path, _read(path), required=True)
        config = _validated(Config(path, table or {}))
    else:
        config = _validated(_load_yaml(path))
    return _extending(config, extended_by) if "extend" in config.values else config


def _extending(config: Config, extended_by: tuple[Path, ...]) -> Config:
    """`extend: PATH`: the config at PATH, with this config's keys replacing its keys. PATH
    is a config file inside the repository (or the config's folder, outside one): like the
    documents a manifest names, a config reads nothing beyond it."""
    from mcplint.load.documents import boundary

    where = config.where("extend")
    base_path = (config.folder / os.path.expanduser(config.values["extend"])).resolve()
    root = boundary(config.path)
    if base_path != root and root not in base_path.parents:
        raise UsageError(f"{where}: {config.values['extend']} is outside the repository; "
                         "allowed: a config file inside it")
    if not base_path.is_file():
        raise UsageError(f"{where}: {config.values['extend']} is not a file; allowed: a "
                         ".mcplint.yaml, .mcplint.yml or pyproject.toml")
    chain = (*extended_by, config.path.resolve())
    if base_path in chain:
        raise UsageError(f"{where}: {config.values['extend']} extends this file again "
                         "(a cycle)")
    base = load(base_path, chain)
    merged = Config(config.path, {**base.values, **config.values}, config.source_map)
    merged.owners = {**base.owners, **config.owners}
    del merged.values["extend"]
    return merged


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

    live = config.values.get("live")
    if isinstance(live, dict) and "nameservers" in live:
        # Which resolvers mcplint asks is the operator's choice: a config arriving in a pull
        # request must not send the job's DNS queries (and the names in them) anywhere.
        raise UsageError(f"{config.where('live', 'nameservers')} is not read from a config "
                         "(a repository may not choose mcplint's resolvers): give --nameserver "
                         "on the command line")
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
