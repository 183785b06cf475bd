"""MCP004: the manifest against schemas/mcp-connector.schema.json, one finding per violation.

A validator generated ahead of time from the schema answers "valid?" without importing
jsonschema (most manifests are valid, and `check` runs on every commit); only an invalid
manifest pays for jsonschema, which then explains each violation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from mcplint.resources import schema_text

KNOWN_VERSIONS = (1,)
_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}
# How messages name JSON types (YAML users know mappings and lists); config errors too.
TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string",
               "boolean": "true or false", "integer": "an integer", "number": "a number",
               "null": "null"}


def manifest_schema() -> dict[str, Any]:
    return json.loads(schema_text("mcp-connector.schema.json"))  # type: ignore[no-any-return]


def is_valid(document: Any) -> bool:
    from mcplint.load import fastschema

    return fastschema.is_valid("manifest", document)


def version_problem(document: dict[str, Any]) -> str | None:
    """The one finding for a manifest of a version mcplint does not know (or None)."""
    if "version" not in document:
        return None
    version = document["version"]
    if type(version) is int and version in KNOWN_VERSIONS:
        return None
    known = ", ".join(str(v) for v in KNOWN_VERSIONS)
    return (f"version {json.dumps(version)} is not a manifest format this mcplint knows "
            f"(it knows version {known}); nothing else in this file was checked")


def describe(pointer_tokens: list[Any]) -> str:
    """A human path: auth.registration[0], hosts."mcp.acme.com".waf."""
    text = ""
    for token in pointer_tokens:
        if isinstance(token, int):
            text += f"[{token}]"
        elif "." in token or not token:
            text += f'."{token}"' if text else f'"{token}"'
        else:
            text += f".{token}" if text else token
    return text or "the manifest"


def type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)


def _expected(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(TYPE_NAMES.get(n, n) for n in names)


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else f"'{value}'"


# Plain classes, not dataclasses: `check` loads this module at start-up (README, Development).
class Violation:
    """One schema violation: where (pointer tokens, and whether to point at the key) and why."""

    def __init__(self, path: list[Any], message: str, at_key: bool = False,
                 value: Any = None) -> None:
        self.path = path
        self.message = message
        self.at_key = at_key
        self.value = value


def violations(document: Any) -> Iterator[Violation]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(manifest_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        yield from _explain(error)


def _explain(error: Any) -> Iterator[Violation]:
    path = list(error.absolute_path)
    where = describe(path)
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    kind = error.validator
    import difflib

    if "propertyNames" in error.absolute_schema_path:
        rule = (error.schema.get("description") or error.message).rstrip(".")
        yield Violation(path + [error.instance], f"'{error.instance}' is not a valid key in "
                        f"{where}: keys must be {rule[0].lower()}{rule[1:]}", at_key=True,
                        value=error.instance)
    elif kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(allowed)):
            hint = difflib.get_close_matches(key, allowed, n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else f" (allowed: {', '.join(allowed)})"
            yield Violation(path + [key], f"unknown field '{key}' in {where}{suggestion}",
                            at_key=True, value=key)
    elif kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        message = custom or f"{where} is missing the required field '{missing}'"
        yield Violation(path, message, at_key=True, value=missing)
    elif kind == "type":
        message = f"{where} must be {_expected(error.validator_value)}, not {type_of(error.instance)}"
        if (error.validator_value == "boolean" and isinstance(error.instance, str)
                and error.instance.lower() in _YAML11_BOOLEANS):
            message += (f": '{error.instance}' is a string in YAML 1.2, where booleans are "
                        "only true and false")
        yield Violation(path, message, value=error.instance)
    elif kind in ("enum", "const"):
        options = error.validator_value if kind == "enum" else [error.validator_value]
        yield Violation(path, f"{where} is {_show(error.instance)}; allowed: "
                        f"{', '.join(_show(o) for o in options)}", value=error.instance)
    elif kind == "pattern" and error.schema.get("description"):
        yield Violation(path, f"{where} is {_show(error.instance)}, which is not "
                        f"{error.schema['description'][0].lower()}{error.schema['description'][1:].rstrip('.')}",
                        value=error.instance)
    elif kind in ("minItems", "minLength"):
        yield Violation(path, f"{where} must not be empty", value=error.instance)
    elif kind == "uniqueItems":
        yield Violation(path, f"{where} lists the same item more than once", value=error.instance)
    else:
        yield Violation(path, custom or f"{where}: {error.message}", value=error.instance)
