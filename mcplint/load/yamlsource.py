"""A safe, position-keeping YAML (and JSON) loader.

The document is built directly from the parser's event stream, iteratively: no node graph,
no constructors (nothing in the file can make Python run code), no recursion (a 10,000-deep
nesting is rejected by a counter, not by a crashed stack). Along the way it records where
every value and key is, counts alias expansions, and resolves plain scalars with the YAML 1.2
core schema, so `yes`/`no`/`on`/`off` stay strings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mcplint.load.limits import MAX_BYTES, MAX_DEPTH, MAX_NODES
from mcplint.load.sourcemap import FILE_START, SourceMap, Span, join

try:  # libyaml is several times faster; the pure-Python parser gives the same events.
    from yaml import CSafeLoader as _EventSource
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _EventSource  # type: ignore[assignment]


_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")}
_ALLOWED_TAGS.add("!")

_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
_MAX_DIGITS = 100


# Plain classes, not dataclasses: `check` loads this module at start-up (README, Development).
class Problem:
    """Something wrong with the input itself, before any schema or rule looks at it."""

    def __init__(self, code: str, message: str, span: Span, pointer: str = "") -> None:
        self.code = code  # MCP001 (syntax), MCP002 (duplicate key), MCP003 (unsafe)
        self.message = message
        self.span = span
        self.pointer = pointer


class Loaded:
    """A parsed document: the plain data, where each part of it is, and what went wrong."""

    def __init__(self, data: Any = None, source_map: SourceMap | None = None,
                 problems: list[Problem] | None = None, text: str = "",
                 fatal: bool = False) -> None:
        self.data = data
        self.source_map = SourceMap() if source_map is None else source_map
        self.problems = [] if problems is None else problems
        self.text = text
        self.fatal = fatal  # the data could not be built (syntax, size, bomb): only problems count


class _Stop(Exception):
    """Raised to abandon building: the problem is recorded, the data is not trustworthy."""


def _span(start: Any, end: Any) -> Span:
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _mark_span(mark: Any) -> Span:
    return Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 1)


def _offset_span(text: str, offset: int) -> Span:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Span(line, column, line, column)


def read_text(path: Path, limit: int = MAX_BYTES) -> tuple[str | None, Problem | None]:
    """The file's text, or the problem that stops it being read as text."""
    with path.open("rb") as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        size = path.stat().st_size
        return None, Problem(
            "MCP003",
            f"the file is {_human_size(size)}, over the {_human_size(limit)} limit for a manifest "
            "or metadata document; nothing in it was read",
            FILE_START,
        )
    return decode(raw)


def decode(raw: bytes) -> tuple[str | None, Problem | None]:
    """Decode UTF-8 (or UTF-16/32 with a BOM); binary data is a located MCP001."""
    encoding = "utf-8-sig"
    for bom, name in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                      (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            encoding = name
            break
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        prefix = raw[: error.start].decode(encoding, errors="replace")
        return None, Problem(
            "MCP001",
            f"not text: byte 0x{raw[error.start]:02x} is not valid {error.encoding.upper()}; "
            "is this a binary file?",
            _offset_span(prefix, len(prefix)),
        )
    nul = text.find("\x00")
    if nul >= 0:
        return None, Problem("MCP001", "not text: the file contains NUL bytes; is this a binary file?",
                             _offset_span(text, nul))
    return text, None


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.0f} KiB"
    return f"{size} bytes"


def resolve_plain(value: str) -> Any:
    """YAML 1.2 core schema resolution of a plain (unquoted) scalar."""
    if value in _NULL:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if _INT.match(value):
        return _to_int(value, 10)
    if _OCT.match(value):
        return _to_int(value[2:], 8)
    if _HEX.match(value):
        return _to_int(value[2:], 16)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return float("-inf") if value.startswith("-") else float("inf")
    if _NAN.match(value):
        return float("nan")
    return value


def _to_int(digits: str, base: int) -> int | str:
    # Python refuses to convert very long digit strings; such a "number" is kept as written.
    return int(digits, base) if len(digits) <= _MAX_DIGITS else digits


def _resolve_tagged(tag: str, value: str) -> Any:
    """A scalar with an explicit core tag (`!!int "3"`)."""
    kind = tag[len(_CORE):]
    if kind == "str":
        return value
    resolved = resolve_plain(value)
    expected = {"int": int, "float": (float, int), "bool": bool, "null": type(None)}[kind]
    if isinstance(resolved, bool) and kind != "bool" or not isinstance(resolved, expected):
        raise ValueError(f"'{value}' is not a valid !!{kind}")
    return float(resolved) if kind == "float" else resolved


class _Frame:
    """An open mapping or sequence while its events stream in."""

    def __init__(self, value: dict[str, Any] | list[Any], pointer: str, start: Any,
                 anchor: str | None, nodes_at_start: int, key: str | None = None,
                 key_span: Span | None = None, awaiting_key: bool = True,
                 first_key_spans: dict[str, Span] | None = None) -> None:
        self.value = value
        self.pointer = pointer
        self.start = start
        self.anchor = anchor
        self.nodes_at_start = nodes_at_start
        self.key = key  # mappings: the key waiting for its value
        self.key_span = key_span
        self.awaiting_key = awaiting_key
        self.first_key_spans = {} if first_key_spans is None else first_key_spans


class _Builder:
    """Turns parser events into plain data plus a source map, within limits."""

    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int, str]] = {}  # name -> (value, node count, pointer)
        self.open_anchors: set[str] = set()
        self.nodes = 0
        self.documents = 0
        self.root: Any = None

    # -- helpers --------------------------------------------------------------------------
    def problem(self, code: str, message: str, span: Span, pointer: str = "") -> None:
        self.loaded.problems.append(Problem(code, message, span, pointer))

    def count(self, nodes: int, mark: Any) -> None:
        self.nodes += nodes
        if self.nodes > MAX_NODES:
            self.problem("MCP003", f"the document expands to more than {MAX_NODES:,} values "
                         "(an alias bomb?); nothing in it was checked", _mark_span(mark))
            raise _Stop

    def check_tag(self, tag: str | None, mark: Any, pointer: str) -> bool:
        if tag is None or tag in _ALLOWED_TAGS:  # plain data carries no tag at all
            return True
        shown = "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag
        self.problem("MCP003", f"tag '{shown}' is not allowed: only YAML's core tags "
                     "(str, int, float, bool, null, seq, map) are read, and nothing is constructed",
                     _mark_span(mark), pointer)
        return False

    def next_pointer(self, event: Any) -> str | None:
        """The pointer of the value about to be added; None for a mapping key position."""
        if not self.stack:
            return ""
        frame = self.stack[-1]
        if isinstance(frame.value, list):
            return join(frame.pointer, len(frame.value))
        if frame.awaiting_key:
            return None
        return join(frame.pointer, frame.key or "")

    def add(self, value: Any, span: Span, pointer: str) -> None:
        """Attach a finished value to its parent (or make it the document root)."""
        self.loaded.source_map.values[pointer] = span
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        if isinstance(frame.value, list):
            frame.value.append(value)
            return
        assert frame.key is not None
        frame.value[frame.key] = value
        if frame.key_span is not None:
            self.loaded.source_map.keys[pointer] = frame.key_span
        frame.key, frame.key_span, frame.awaiting_key = None, None, True

    def set_key(self, key: str, span: Span) -> None:
        frame = self.stack[-1]
        assert isinstance(frame.value, dict)
        first = frame.first_key_spans.get(key)
        if first is not None:
            self.problem("MCP002", f"key '{key}' appears twice in this mapping (first at line "
                         f"{first.line}, column {first.column}); YAML would keep only this one",
                         span, join(frame.pointer, key))
        else:
            frame.first_key_spans[key] = span
        frame.key, frame.key_span, frame.awaiting_key = key, span, False

    # -- events ---------------------------------------------------------------------------
    def feed(self, event: Any) -> None:
        kind = type(event)  # most frequent first: this runs once per event of every file
        if kind in _NODE_EVENTS:
            pointer = self.next_pointer(event)
            if pointer is None:
                self.key(event)
            elif kind is yaml.ScalarEvent:
                self.scalar(event, pointer)
            elif kind is yaml.AliasEvent:
                self.alias(event, pointer)
            else:
                self.open(event, pointer)
        elif kind in _END_EVENTS:
            self.close(event)
        elif kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                self.problem("MCP001", "a second YAML document starts here; a manifest or "
                             "metadata file holds exactly one", _mark_span(event.start_mark))
                raise _Stop

    def key(self, event: Any) -> None:
        span = _span(event.start_mark, event.end_mark)
        if isinstance(event, yaml.ScalarEvent):
            self.count(1, event.start_mark)
            self.check_tag(event.tag, event.start_mark, self.stack[-1].pointer)
            self.set_key(event.value, span)
            if event.anchor:  # `&k version: 1`: a later `*k` is the key's text as a value
                value = (resolve_plain(event.value) if event.implicit[0] and not event.style
                         else event.value)
                self.anchors[event.anchor] = (value, 1, self.stack[-1].pointer)
            return
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                self.undefined(event, span, self.stack[-1].pointer)
            target = self.anchors.get(event.anchor)
            if target is not None and not isinstance(target[0], (dict, list)):
                self.set_key("" if target[0] is None else str(target[0]), span)
                return
        self.problem("MCP003", "a mapping or sequence used as a mapping key is not supported",
                     span, self.stack[-1].pointer)
        raise _Stop

    def scalar(self, event: Any, pointer: str) -> None:
        self.count(1, event.start_mark)
        span = _span(event.start_mark, event.end_mark)
        value: Any = event.value
        if self.check_tag(event.tag, event.start_mark, pointer):
            if event.tag and event.tag.startswith(_CORE):
                try:
                    value = _resolve_tagged(event.tag, event.value)
                except ValueError as error:
                    self.problem("MCP001", str(error), span, pointer)
            elif event.implicit[0] and not event.style:  # plain ('' from libyaml)
                value = resolve_plain(event.value)
        else:
            value = None
        if event.anchor:
            self.anchors[event.anchor] = (value, 1, pointer)
        self.add(value, span, pointer)

    def alias(self, event: Any, pointer: str) -> None:
        span = _span(event.start_mark, event.end_mark)
        if event.anchor in self.open_anchors:
            self.problem("MCP003", f"alias '*{event.anchor}' refers to the node that contains it "
                         "(a recursive structure)", span, pointer)
            raise _Stop
        if event.anchor not in self.anchors:  # the parser leaves that to the composer
            self.undefined(event, span, pointer)
        value, size, _ = self.anchors[event.anchor]
        self.count(size, event.start_mark)
        self.add(value, span, pointer)

    def undefined(self, event: Any, span: Span, pointer: str) -> None:
        self.problem("MCP001", f"not valid YAML: alias '*{event.anchor}' names no anchor "
                     "defined before it", span, pointer)
        raise _Stop

    def open(self, event: Any, pointer: str) -> None:
        if len(self.stack) >= MAX_DEPTH:
            self.problem("MCP003", f"nesting deeper than {MAX_DEPTH} levels; nothing in the "
                         "document was checked", _mark_span(event.start_mark))
            raise _Stop
        self.count(1, event.start_mark)
        self.check_tag(event.tag, event.start_mark, pointer)
        container: dict[str, Any] | list[Any] = (
            {} if isinstance(event, yaml.MappingStartEvent) else []
        )
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame(container, pointer, event.start_mark, event.anchor, self.nodes))

    def close(self, event: Any) -> None:
        frame = self.stack.pop()
        if frame.anchor:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.value, self.nodes - frame.nodes_at_start + 1,
                                          frame.pointer)
        self.add(frame.value, _span(frame.start, event.end_mark), frame.pointer)


_NODE_EVENTS = frozenset((yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent,
                          yaml.SequenceStartEvent))
_END_EVENTS = frozenset((yaml.MappingEndEvent, yaml.SequenceEndEvent))


def _parser_problem(error: yaml.YAMLError, text: str) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if isinstance(error, yaml.MarkedYAMLError):
        context, problem, start = error.context, error.problem, error.context_mark
        same_place = (start is not None and mark is not None
                      and (start.line, start.column) == (mark.line, mark.column))
        if same_place:
            message = problem or context or "invalid YAML"
        elif context and problem and start is not None:
            # "found unexpected end of stream while scanning a quoted scalar that starts at
            # line 3, column 8": where the open construct began is what the reader must find
            message = (f"{problem} {context} that starts at line {start.line + 1}, column "
                       f"{start.column + 1}")
            if mark is None or mark.index >= len(text.rstrip()):  # at the very end: useless
                mark = start
        else:
            message = "; ".join(p for p in (context, problem) if p) or "invalid YAML"
    else:
        message = getattr(error, "reason", None) or str(error).splitlines()[0]
    position = getattr(error, "position", None)
    if mark is not None:
        span = _mark_span(mark)
    elif isinstance(position, int):
        span = _offset_span(text, position)
    else:
        span = FILE_START
    if "maximum nesting depth" in message:  # libyaml's own guard, hit before ours in flow style
        return Problem("MCP003", f"nesting deeper than {MAX_DEPTH} levels; nothing in the "
                       "document was checked", span)
    return Problem("MCP001", f"not valid YAML: {message}", span)


def parse(text: str) -> Loaded:
    """Parse one YAML (or JSON) document from text."""
    loaded = Loaded(text=text)
    builder = _Builder(loaded)
    parser = None
    try:
        parser = _EventSource(text)
        while parser.check_event():
            builder.feed(parser.get_event())
    except _Stop:  # the builder recorded why (a limit, an unsafe tag)
        loaded.fatal = True
        return loaded
    except yaml.YAMLError as error:
        return _failed(loaded, _parser_problem(error, text))
    except UnicodeEncodeError as error:  # half a UTF-16 pair, which libyaml cannot take
        return _failed(loaded, Problem("MCP001", "not text: a lone UTF-16 surrogate",
                                       _offset_span(text, error.start)))
    finally:
        if parser is not None:
            parser.dispose()
    loaded.data = builder.root
    return loaded


def _failed(loaded: Loaded, problem: Problem) -> Loaded:
    loaded.problems.append(problem)
    loaded.fatal = True
    return loaded


def load_file(path: Path, limit: int = MAX_BYTES, raw: bytes | None = None) -> Loaded:
    """Read and parse a file; JSON files parse as YAML once tabs (JSON whitespace) are spaces.
    With `raw`, those bytes stand for the file's content (standard input)."""
    if raw is not None:
        text, problem = (None, Problem("MCP003", f"the input is {_human_size(len(raw))}, over the "
                                       f"{_human_size(limit)} limit for a manifest; nothing in "
                                       "it was read", FILE_START)) if len(raw) > limit \
            else decode(raw)
    else:
        text, problem = read_text(path, limit)
    if problem is not None:
        return Loaded(problems=[problem], fatal=True)
    assert text is not None
    if path.suffix.lower() == ".json":
        # A tab is whitespace to JSON but may not indent YAML; JSON strings cannot hold a raw
        # tab, so replacing them keeps every value and every column.
        return _with_text(parse(text.replace("\t", " ")), text)
    return parse(text)


def _with_text(loaded: Loaded, text: str) -> Loaded:
    loaded.text = text
    return loaded
