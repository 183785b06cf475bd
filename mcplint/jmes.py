"""JMESPath for policies: compile once, evaluate with a few set functions added."""

from __future__ import annotations

from typing import Any

import jmespath
from jmespath import exceptions, functions, parser, visitor


class _Functions(functions.Functions):
    """Functions policies need that JMESPath lacks (documented in docs/policies.md)."""

    @functions.signature({"types": ["array"]}, {"types": ["array"]})
    def _func_difference(self, items: list[Any], others: list[Any]) -> list[Any]:
        return [item for item in items if item not in others]

    @functions.signature({"types": ["array"]}, {"types": ["array"]})
    def _func_intersection(self, items: list[Any], others: list[Any]) -> list[Any]:
        return [item for item in items if item in others]

    @functions.signature({"types": ["string"]})
    def _func_lower(self, text: str) -> str:
        return text.lower()


_INTERPRETER = visitor.TreeInterpreter(jmespath.Options(custom_functions=_Functions()))


EvaluationError = exceptions.JMESPathError


class ExpressionError(ValueError):
    """A JMESPath expression that does not parse."""


def compile_expression(expression: str) -> dict[str, Any]:
    """The expression's AST: plain JSON data, stored in the compiled catalog."""
    try:
        return parser.Parser().parse(expression).parsed  # type: ignore[no-any-return]
    except exceptions.JMESPathError as error:
        raise ExpressionError(f"invalid JMESPath {expression!r}: {error}") from None


def evaluate(ast: dict[str, Any], data: Any) -> Any:
    return _INTERPRETER.visit(ast, data)


def truthy(value: Any) -> bool:
    """JMESPath's truth: false, null, and empty strings, lists and objects are false."""
    return not (value is False or value is None or value in ("", [], {}))
