"""The policy engine: select values with pointer globs, test them, locate the failures.

The evaluated document is {"manifest", "declared", "facts", "live", "profile", "data"}.
A check's `given` globs select values in it (each match keeps its pointer), `when` filters
them, `expect` (JMESPath) and/or `schema` (JSON Schema) must hold. JMESPath sees an
envelope: `this` (the selected value), `key` (the key or index it sits at) plus the
document's top-level keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any, Callable

from mcplint.findings import Finding, Location, make_finding
from mcplint.load.sourcemap import SourceMap, join, resolve, split
from mcplint.policy import jmes
from mcplint.policy.catalog import PLACEHOLDER, Check, Rule


# Plain classes, not dataclasses: `check` loads this module at start-up (README, Development).
class Mount:
    """A part of the evaluated document that comes from a file (the manifest, a document)."""

    def __init__(self, prefix: str, file: str, source_map: SourceMap, base: str = "") -> None:
        self.prefix = prefix  # e.g. /manifest, /declared/resource_metadata
        self.file = file
        self.source_map = source_map
        self.base = base  # where the part sits in the file's own document


class Context:
    """One evaluation: the document, where its parts come from, and who asked."""

    def __init__(self, document: dict[str, Any], mounts: list[Mount] | None = None,
                 manifest: str | None = None) -> None:
        self.document = document
        self.mounts = [] if mounts is None else mounts
        self.manifest = manifest

    def mount_for(self, pointer: str) -> Mount | None:
        best = None
        for mount in self.mounts:
            if pointer == mount.prefix or pointer.startswith(mount.prefix + "/"):
                if best is None or len(mount.prefix) > len(best.prefix):
                    best = mount
        return best

    def place(self, pointer: str, exact: bool = False) -> Location | None:
        """The file location of a document pointer that lies in a mount."""
        mount = self.mount_for(pointer)
        if mount is None:
            return None
        inner = mount.base + pointer[len(mount.prefix):]
        if exact and inner not in mount.source_map.values:
            return None
        # A whole entry of a mapping is reported at its key, where a reader looks for it.
        span = mount.source_map.key_span(inner)
        return Location(mount.file, inner, span, anchor=pointer)

    def locate(self, pointer: str, relative: str | None = None) -> tuple[Location, Any]:
        """Where to report a match at `pointer`, and the nearest evidence."""
        anchor, evidence, member = self._anchor(pointer)
        location = None
        if relative:
            location = self.place(anchor + "/" + relative.strip("/"), exact=True)
        location = location or self.place(anchor) or Location(None, anchor, None, anchor)
        if member is not None:
            # A served document is located at the manifest field it is about, but one root
            # cause is one member of it, as for a declared document: a finding about one
            # member (MCP520) must not hide one about another (MCP505).
            if relative and member == "/document":
                member += "/" + relative.strip("/")
            location.anchor = anchor + member
        return location, evidence

    def _anchor(self, pointer: str) -> tuple[str, Any, str | None]:
        """Facts and live evidence are located through their `at` field (the manifest field
        they come from); walk up from the match to the nearest object that has one. The
        third item is the part of `pointer` inside a served document (`/document/...`
        below that object, or the member a fact names in `document_member`), else None."""
        if self.mount_for(pointer) is not None:
            return pointer, None, None
        prefixes = [""]
        for token in split(pointer):
            prefixes.append(join(prefixes[-1], token))
        evidence = None
        for prefix in reversed(prefixes):
            try:
                value = resolve(self.document, prefix)
            except KeyError:
                continue
            if isinstance(value, dict):
                if evidence is None and isinstance(value.get("evidence"), dict):
                    evidence = value["evidence"]
                if isinstance(value.get("at"), str):
                    below = pointer[len(prefix):]
                    inside = below == "/document" or below.startswith("/document/")
                    if isinstance(value.get("document_member"), str):  # a fact about one
                        below, inside = "/document/" + value["document_member"], True
                    return value["at"], evidence, below if inside else None
        return pointer, evidence, None


@lru_cache(maxsize=1024)
def _tokens(glob: str) -> tuple[tuple[str, ...], bool]:
    """A glob's unescaped tokens, and whether it has a `*` (parsed once per run)."""
    tokens = tuple(split(glob))
    return tokens, "*" in tokens


def expand(document: Any, glob: str) -> list[tuple[str, Any]]:
    """All (pointer, value) pairs matching a pointer glob; `*` matches one key or index."""
    tokens, wild = _tokens(glob)
    if not wild:  # a plain pointer (most globs: the members a check names) has one match
        value = document
        for token in tokens:
            if isinstance(value, dict) and token in value:
                value = value[token]
            elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
                value = value[int(token)]
            else:
                return []
        return [(glob, value)]
    matches: list[tuple[str, Any]] = [("", document)]
    for token in tokens:
        following = []
        for pointer, value in matches:
            if isinstance(value, dict):
                if token == "*":
                    following += [(join(pointer, k), v) for k, v in value.items()]
                elif token in value:
                    following.append((join(pointer, token), value[token]))
            elif isinstance(value, list):
                if token == "*":
                    following += [(join(pointer, i), v) for i, v in enumerate(value)]
                elif token.isdigit() and int(token) < len(value):
                    following.append((join(pointer, token), value[int(token)]))
        matches = following
    return matches


_PLACEHOLDER = re.compile(PLACEHOLDER)


@lru_cache(maxsize=512)
def _template(message: str) -> tuple[tuple[str, jmes.Compiled | None], ...]:
    """A message split into literal text and compiled `{expression}` placeholders;
    `{{` and `}}` stand for literal braces."""
    parts: list[tuple[str, jmes.Compiled | None]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(message):
        parts.append((message[position:match.start()], None))
        if match.group(1) is None:
            parts.append((match.group(0)[0], None))
        else:
            parts.append(("", jmes.to_function(jmes.compile_expression(match.group(1)))))
        position = match.end()
    parts.append((message[position:], None))
    return tuple(parts)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def render(message: str, envelope: dict[str, Any]) -> str:
    return "".join(text if part is None else _show(part(envelope))
                   for text, part in _template(message))


SchemaTest = Callable[[Any], bool]


class Evaluator:
    """Runs rules' checks against one context."""

    def __init__(self, context: Context, schema_test: Callable[[Check], SchemaTest]) -> None:
        self.context = context
        self.schema_test = schema_test
        self.base = {k: v for k, v in context.document.items()}
        self._expansions: dict[str, list[tuple[str, Any]]] = {}

    def matches(self, glob: str) -> list[tuple[str, Any]]:
        found = self._expansions.get(glob)
        if found is None:
            found = self._expansions[glob] = expand(self.context.document, glob)
        return found

    def run(self, rules: Iterable[Rule], reads_live: bool | None = None) -> list[Finding]:
        """The findings of the rules' checks: all of them, or only those that read live
        facts (True) or only those that do not (False)."""
        findings = []
        for rule in rules:
            for check in rule.checks:
                if reads_live is None or check.reads_live == reads_live:
                    findings += self._check(rule, check)
        return findings

    def _check(self, rule: Rule, check: Check) -> Iterator[Finding]:
        for glob in check.given:
            for pointer, value in self.matches(glob):
                envelope = {**self.base, "this": value, "key": _last_token(pointer)}
                when, expect = check.when_function, check.expect_function
                if when is not None and not _holds(when, envelope, default=False):
                    continue
                holds = expect is None or _holds(expect, envelope, default=True)
                if holds and check.schema is not None:
                    holds = self.schema_test(check)(value)
                if holds:
                    continue
                location, evidence = self.context.locate(pointer, check.locate)
                source = "live" if pointer.startswith("/live") else "declared"
                finding = make_finding(rule, render(check.message, envelope), location, value,
                                       source=source, evidence=evidence,
                                       manifest=self.context.manifest)
                if check.severity:
                    finding = finding.with_(severity=check.severity)
                yield finding.with_(outcome=check.outcome) if check.outcome else finding


def _last_token(pointer: str) -> str:
    """The key or index a match sits at (`key` in JMESPath), for messages that name it."""
    token = pointer[pointer.rfind("/") + 1:]
    return token.replace("~1", "/").replace("~0", "~") if "~" in token else token


def compile_checks(rules: Iterable[Rule], reads_live: bool) -> None:
    """Compile the conditions and message templates of the checks that read live facts
    (or of those that do not) before they are first evaluated: `verify` does it while its
    probes wait, so that judging their answers is all that is left when they arrive."""
    for rule in rules:
        for check in rule.checks:
            if check.reads_live == reads_live:
                _ = check.when_function, check.expect_function
                _template(check.message)


def _holds(condition: jmes.Compiled, envelope: dict[str, Any], default: bool) -> bool:
    """A condition's truth; `default` when the input has types the schema already rejects
    (e.g. `contains()` on a string where a list belongs), which MCP004 reports."""
    try:
        return jmes.truthy(condition(envelope))
    except jmes.EvaluationError:
        return default
