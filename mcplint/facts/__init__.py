"""Facts: small pure functions computing what the policies judge."""

from __future__ import annotations

from typing import Any


def dig(value: Any, *path: str) -> Any:
    """value[path[0]][path[1]]..., or None where a step is missing or not a mapping (inputs
    may break the schema: facts read them defensively)."""
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value
