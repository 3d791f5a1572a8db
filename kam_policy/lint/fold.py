"""Expressions -> their constant values, when literals and parameters alone decide them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kam_policy.engine import exact
from kam_policy.engine.compile_expr import ExprCompiler
from kam_policy.engine.policy import Policy
from kam_policy.engine.types import Type
from kam_policy.errors import Diagnostic
from kam_policy.grammar import ast


@dataclass(frozen=True)
class Constant:
    """A value known before any fact is seen, and its type."""

    value: Any
    type: Type


def free_names(node: ast.Expr) -> set[str]:
    """Every bare name inside ``node`` (bound or not)."""
    found: set[str] = set()
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Name):
            found.add(item.id)
        elif isinstance(item, ast.Node):
            stack.extend(getattr(item, name) for name in vars(item) if name != "span")
        elif isinstance(item, tuple):
            stack.extend(item)
    return found


class Folder:
    """Folds expressions with the engine's own compiler, so constants mean what they mean
    at run time (exact decimals, durations in microseconds, enum members as text)."""

    def __init__(self, policy: Policy) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.compiler = ExprCompiler(policy.declarations, dict(policy.params), self.diagnostics)

    def fold(self, node: ast.Expr, bound: frozenset[str]) -> Constant | None:
        """The constant ``node`` stands for, or None if it depends on facts or local names."""
        if free_names(node) & bound:
            return None
        self.diagnostics.clear()
        try:
            typed = self.compiler.compile(node, {})
        except Exception:  # a construct the folder cannot evaluate alone: not a constant
            return None
        if self.diagnostics or not typed.const:
            return None
        return Constant(typed.value, typed.type)


def show_value(value: Any, kind: Type) -> str:
    """A value as a rule file writes it: durations as 4h, exact decimals, enum members bare,
    texts quoted, lists and maps in brackets and braces."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind.kind == "list" and isinstance(value, tuple | list):
        return "[" + ", ".join(show_value(v, kind.args[0]) for v in value) + "]"
    if kind.kind == "map" and isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(v, kind.args[1])}"
                               for k, v in value.items()) + "}"
    if kind.kind == "duration":
        return exact.format_duration(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if kind.kind == "text" else value
    return exact.to_decimal_text(value)
