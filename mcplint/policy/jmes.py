"""JMESPath for policies: parsed once (the AST is stored in the compiled catalog), then
turned into Python closures, with a few set functions added.

The closures implement the node types policies use most (fields, comparisons, and/or/not,
literals, function calls) with jmespath's own semantics, and hand anything else to
jmespath's interpreter; checking 1,000 manifests evaluates some 150,000 conditions, where
the interpreter's per-node dispatch is the largest cost.
"""

from __future__ import annotations

from collections.abc import Callable
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


_FUNCTIONS = _Functions()
_INTERPRETER = visitor.TreeInterpreter(jmespath.Options(custom_functions=_FUNCTIONS))
EvaluationError = exceptions.JMESPathError
Compiled = Callable[[Any], Any]


class ExpressionError(ValueError):
    """A JMESPath expression that does not parse."""


def compile_expression(expression: str) -> dict[str, Any]:
    """The expression's AST: plain JSON data, stored in the compiled catalog."""
    try:
        return parser.Parser().parse(expression).parsed  # type: ignore[no-any-return]
    except exceptions.JMESPathError as error:
        raise ExpressionError(f"invalid JMESPath {expression!r}: {error}") from None


def truthy(value: Any) -> bool:
    """JMESPath's truth: false, null, and empty strings, lists and objects are false."""
    return not (value is False or value is None or value in ("", [], {}))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equals(left: Any, right: Any) -> bool:
    # jmespath: 0 and 1 never equal false and true, unlike Python.
    if (_is_number(left) and left in (0, 1) and isinstance(right, bool)) or (
            _is_number(right) and right in (0, 1) and isinstance(left, bool)):
        return False
    return bool(left == right)


def _field(name: str) -> Compiled:
    def field(value: Any) -> Any:
        return value.get(name) if isinstance(value, dict) else None
    return field


def _chain(steps: list[Compiled]) -> Compiled:
    def chain(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value
    return chain


def _comparator(operator: str, left: Compiled, right: Compiled) -> Compiled:
    if operator == "eq":
        return lambda value: _equals(left(value), right(value))
    if operator == "ne":
        return lambda value: not _equals(left(value), right(value))
    import operator as ops

    compare = {"lt": ops.lt, "lte": ops.le, "gt": ops.gt, "gte": ops.ge}[operator]

    def ordered(value: Any) -> Any:
        a, b = left(value), right(value)
        comparable = (_is_number(a) or isinstance(a, str)) and (_is_number(b) or isinstance(b, str))
        return compare(a, b) if comparable else None
    return ordered


def _function(name: str, arguments: list[Compiled]) -> Compiled:
    return lambda value: _FUNCTIONS.call_function(name, [a(value) for a in arguments])


def _not(inner: Compiled) -> Compiled:
    def negate(value: Any) -> bool:
        result = inner(value)
        return False if _is_number(result) and result == 0 else not result
    return negate


def to_function(node: dict[str, Any]) -> Compiled:
    """A closure evaluating the AST `node` exactly as jmespath's interpreter would."""
    kind = node["type"]
    children = node.get("children", [])
    if kind == "field":
        return _field(node["value"])
    if kind == "subexpression":
        return _chain([to_function(c) for c in children])
    if kind == "literal":
        constant = node["value"]
        return lambda value: constant
    if kind == "current":
        return lambda value: value
    if kind == "comparator":
        return _comparator(node["value"], to_function(children[0]), to_function(children[1]))
    if kind == "and_expression":
        first, second = to_function(children[0]), to_function(children[1])
        return lambda value: (r if not truthy(r := first(value)) else second(value))
    if kind == "or_expression":
        first, second = to_function(children[0]), to_function(children[1])
        return lambda value: (r if truthy(r := first(value)) else second(value))
    if kind == "not_expression":
        return _not(to_function(children[0]))
    if kind == "function_expression" and all(c["type"] != "expref" for c in children):
        return _function(node["value"], [to_function(c) for c in children])
    return lambda value: _INTERPRETER.visit(node, value)
