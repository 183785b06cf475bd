"""Inline suppressions: `# mcplint: disable=CODE[,NAME…] -- reason` comments.

`disable` covers findings on its own line and the line below it (a comment above the
reported line); `disable-file` covers the whole file. Codes and names are accepted.
Unknown codes are MCP006; suppressions of rules that ran but suppressed nothing are MCP005.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from mcplint.load.sourcemap import Span

# A comment starts at '#' preceded by whitespace or at the start of the line.
_DIRECTIVE = re.compile(
    r"(?:^|\s)#\s*mcplint:\s*(?P<kind>disable-file|disable)\s*=\s*(?P<codes>[A-Za-z0-9_,\- ]*?)"
    r"\s*(?:--\s*(?P<reason>.*?))?\s*$"
)


# Plain classes, not dataclasses: `check` loads this module at start-up (README, Development).
class Directive:
    def __init__(self, kind: str, names: list[str], reason: str, span: Span,
                 codes: dict[str, str] | None = None, used: set[str] | None = None) -> None:
        self.kind = kind  # disable or disable-file
        self.names = names  # as written
        self.reason = reason
        self.span = span
        self.codes = {} if codes is None else codes  # name as written -> resolved code
        self.used = set() if used is None else used  # codes that suppressed something

    def covers(self, code: str, line: int | None) -> bool:
        if code not in self.codes.values():
            return False
        return self.kind == "disable-file" or line in (self.span.line, self.span.line + 1)


def parse(text: str) -> list[Directive]:
    directives = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "mcplint:" not in line:
            continue
        match = _DIRECTIVE.search(line)
        if match is None:
            continue
        names = [n.strip() for n in match.group("codes").split(",") if n.strip()]
        column = line.index("#", match.start()) + 1
        directives.append(Directive(match.group("kind"), names, match.group("reason") or "",
                                    Span(number, column, number, len(line) + 1)))
    return directives


def resolve(directives: Iterable[Directive], lookup: Callable[[str], str | None]) -> list[tuple[Directive, str]]:
    """Fill in each directive's codes; return (directive, name) for names that are unknown."""
    unknown = []
    for directive in directives:
        for name in directive.names:
            code = lookup(name)
            if code is None:
                unknown.append((directive, name))
            else:
                directive.codes[name] = code
    return unknown
