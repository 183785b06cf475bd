"""Escaping of text that comes from manifests and servers, in one place for every format.

A manifest in a pull request and the servers it names choose strings that end up in
mcplint's output: a terminal, a CI log (where a line starting `::` is a GitHub workflow
command), a pull-request comment or job summary (Markdown, Mermaid), an XML or JSON file.
None of them may steer what reads the output:

- `visible`: one line of plain text. Every control character (C0 including ESC, TAB, CR
  and LF; DEL; C1), the bidirectional overrides that reorder text on screen, lone
  surrogates and the noncharacters U+FFFE/U+FFFF become a visible escape (`\\x1b`, `\\n`,
  `\\u202e`, `\\udc80`): what the server sent can be read, and nothing acts on it.
- `log_line`: a line of text or GitHub output that cannot start a workflow command.
- `code_span` (Markdown, CommonMark's rules), `mermaid` (Mermaid's entity codes),
  `xml_text`, `json_value`: the same text for each of those formats.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates and marks that reorder
# text, surrogates (only lone ones survive into a str from decoding with surrogateescape or
# from JSON's \ud800), and the two noncharacters XML 1.0 forbids.
# Every one of them is outside str.isprintable(), so printable text (nearly all of it) is
# passed through without the pattern, which is compiled the first time it is needed (about
# a millisecond that a healthy `check` need not spend).
_UNSAFE = ("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
           "\ud800-\udfff\ufffe\uffff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# GitHub's runner trims a line, then takes `::name ...::` (and the older `##[name]`) as a
# workflow command.
_COMMAND_START = ("::", "##[")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@cache
def _pattern(characters: str) -> re.Pattern[str]:
    return re.compile(characters)


def visible(text: object) -> str:
    """`text` as one line with every unsafe character as a visible escape."""
    value = str(text)
    return value if value.isprintable() else _pattern(_UNSAFE).sub(_escape, value)


def log_line(line: str) -> str:
    """A whole line of text or github output (already made `visible`): one that would start
    a workflow command gets a leading backslash, which the runner does not trim."""
    return "\\" + line if line.lstrip().startswith(_COMMAND_START) else line


def code_span(text: object, in_table: bool = True) -> str:
    """`text` shown literally in Markdown: a code span fenced with one backtick more than
    the longest run inside it, padded when it starts or ends with a backtick or a space
    (CommonMark 6.1). Inside a GFM table a `|` still ends the cell, even in a code span:
    it is escaped as `\\|`, which GFM turns back into `|` there."""
    value = visible(text)
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    if value.startswith(("`", " ")) or value.endswith(("`", " ")) or not value.strip():
        value = f" {value} "
    if in_table:
        value = value.replace("|", "\\|")
    return f"{fence}{value}{fence}"


# Mermaid ends a statement at ';' or a newline and reads '#…;' as an entity; '<', '>', '&'
# and quotes could open HTML in labels, '%%' a comment, braces and backticks markup. Each
# becomes an entity code (`#59;`), Mermaid's own escape.
_MERMAID = re.compile(r'[#;<>"&%`{}\[\]]')


def mermaid(text: object, limit: int = 90) -> str:
    """`text` as a Mermaid label: visible, cut at `limit`, Mermaid's characters as codes."""
    value = visible(text)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return _MERMAID.sub(lambda m: f"#{ord(m.group())};", value)


def xml_text(text: object) -> str:
    """Text for an XML attribute or element: `visible` leaves no character XML 1.0 forbids
    (the XML writer escapes <, > and &)."""
    return visible(text)


def json_value(value: Any) -> Any:
    """A JSON-like value whose strings carry no lone surrogate (which strict JSON parsers
    reject even escaped); control characters are left to JSON's own escapes."""
    if isinstance(value, str):
        return value if value.isprintable() else _pattern(_SURROGATE).sub(_escape, value)
    if isinstance(value, dict):
        return {json_value(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value


_SURROGATE = "[\ud800-\udfff]"
