"""Parsing WWW-Authenticate (RFC 9110 §11.6.1): challenges, their schemes and parameters."""

from __future__ import annotations

import re
from typing import NamedTuple

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_SCHEME = re.compile(rf"\s*({_TOKEN})(?=\s|,|$)")
_PARAM = re.compile(rf"\s*({_TOKEN})\s*=\s*(?:\"((?:[^\"\\]|\\.)*)\"|({_TOKEN}))\s*")
_TOKEN68 = re.compile(r"\s*([A-Za-z0-9\-._~+/]+=*)\s*(?=,|$)")


class Challenge(NamedTuple):
    """One challenge: its scheme as sent, its parameters (names lowercase), or a token68."""

    scheme: str
    params: dict[str, str]  # filled in while the rest of the header is parsed
    token68: str | None = None


def parse(values: list[str]) -> list[Challenge]:
    """All challenges of one or more WWW-Authenticate field values, in order. Tolerant:
    what cannot be parsed is skipped rather than failing the whole header."""
    challenges: list[Challenge] = []
    for value in values:
        position = 0
        while position < len(value):
            if value[position] in ", \t":
                position += 1
                continue
            param = _PARAM.match(value, position)
            if param and challenges:
                name = param.group(1).lower()
                raw = param.group(2)
                text = re.sub(r"\\(.)", r"\1", raw) if raw is not None else param.group(3)
                challenges[-1].params.setdefault(name, text)
                position = param.end()
                continue
            scheme = _SCHEME.match(value, position)
            if not scheme:  # garbage: skip to the next comma
                comma = value.find(",", position)
                position = len(value) if comma < 0 else comma + 1
                continue
            position = scheme.end()
            token68 = _TOKEN68.match(value, position)
            if token68 and not _PARAM.match(value, position):
                challenges.append(Challenge(scheme.group(1), {}, token68.group(1)))
                position = token68.end()
            else:
                challenges.append(Challenge(scheme.group(1), {}))
    return challenges
