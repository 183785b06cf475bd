"""Where things are: spans in a source file, keyed by JSON pointer."""

from __future__ import annotations

from typing import NamedTuple


class Span(NamedTuple):
    """A region of a file; lines and columns are 1-based, the end is exclusive.
    (A tuple: the loader creates one per node, so creation cost matters.)"""

    line: int
    column: int
    end_line: int
    end_column: int


FILE_START = Span(1, 1, 1, 1)


def escape(token: str) -> str:
    """Escape one reference token (RFC 6901)."""
    if "~" not in token and "/" not in token:
        return token
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(pointer: str, token: str | int) -> str:
    return f"{pointer}/{escape(str(token))}"


def pointer(*tokens: str | int) -> str:
    """A pointer from unescaped tokens: pointer("hosts", "a/b", 0) == "/hosts/a~1b/0"."""
    return "".join(f"/{escape(str(token))}" for token in tokens)


def split(pointer: str) -> list[str]:
    """The unescaped tokens of a pointer: "/a/b~1c" -> ["a", "b/c"]."""
    if not pointer:
        return []
    return [unescape(t) for t in pointer[1:].split("/")]


def parent(pointer: str) -> str:
    return pointer[: pointer.rfind("/")] if pointer else ""


def resolve(document: object, pointer: str) -> object:
    """The value at `pointer`, or raise KeyError."""
    value = document
    for token in split(pointer):
        if isinstance(value, dict):
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            raise KeyError(pointer)
    return value


class SourceMap:
    """Spans of the values (and of mapping keys) of one parsed document."""

    def __init__(self, values: dict[str, Span] | None = None,
                 keys: dict[str, Span] | None = None) -> None:
        self.values = {} if values is None else values
        self.keys = {} if keys is None else keys

    def value_span(self, pointer: str) -> Span:
        """The span of the value at `pointer`, or of its closest located ancestor."""
        while True:
            span = self.values.get(pointer)
            if span is not None:
                return span
            if not pointer:
                return FILE_START
            pointer = parent(pointer)

    def key_span(self, pointer: str) -> Span:
        """The span of the key that introduces `pointer` (its value's span for list items)."""
        return self.keys.get(pointer) or self.value_span(pointer)
