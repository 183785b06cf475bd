"""Run the validators that scripts/regen.py generates from JSON Schemas (fastjsonschema's
code generator), without importing jsonschema or fastjsonschema at run time."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


class JsonSchemaException(ValueError):
    """Base of the generated validators' exceptions (fastjsonschema's names)."""


class JsonSchemaValueException(JsonSchemaException):
    def __init__(self, message: str, value: Any = None, name: str | None = None,
                 definition: Any = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.value, self.name, self.definition, self.rule = value, name, definition, rule


class JsonSchemaValuesException(JsonSchemaException):
    def __init__(self, errors: Any) -> None:
        super().__init__(errors)
        self.errors = errors


def tester(name: str) -> Callable[[Any], bool]:
    """The test "does a value satisfy the schema the validator `name` was generated
    from" (the validator is imported now)."""
    validate = import_module(f"mcplint._generated.validators.{name}").validate

    def test(value: Any) -> bool:
        try:
            validate(value)
        except JsonSchemaException:
            return False
        return True

    return test


def is_valid(name: str, value: Any) -> bool:
    """Whether `value` satisfies the schema the validator `name` was generated from."""
    return tester(name)(value)
