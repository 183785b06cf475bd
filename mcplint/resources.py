"""Where the files mcplint ships with live: the JSON Schemas, the built-in policies and what
scripts/regen.py generates from them.

`schemas/` and `policies/` stay at the top of the repository, where users and reviewers look
for them; the wheel carries them inside the package (hatch `force-include` in pyproject.toml),
so an installed mcplint finds them beside this file and a source checkout (or an editable
install) one folder up.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
GENERATED = PACKAGE / "_generated"  # compiled catalog, rule docs, validators (scripts/regen.py)


def shipped(folder: str) -> Path:
    """`schemas` or `policies`: inside the installed package, else the checkout's own."""
    inside = PACKAGE / folder
    return inside if inside.is_dir() else PACKAGE.parent / folder


def schema_text(name: str) -> str:
    """One of the JSON Schemas under schemas/, e.g. `mcp-connector.schema.json`."""
    return (shipped("schemas") / name).read_text(encoding="utf-8")
