"""Run the validators that scripts/regen.py generates from JSON Schemas (fastjsonschema's
code generator), without importing jsonschema or fastjsonschema at run time."""

from __future__ import annotations

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


def is_valid(name: str, value: Any) -> bool:
    """Whether `value` satisfies the schema the validator `name` was generated from."""
    module = import_module(f"mcplint._generated.validators.{name}")
    try:
        module.validate(value)
    except JsonSchemaException:
        return False
    return True
