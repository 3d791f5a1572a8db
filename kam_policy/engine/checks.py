"""Conditions taken apart for tracers: each conjunct with closures for its operands.

Plain evaluation never runs these; a tracer (explain, why-not) evaluates them to show the values
a rule compared. Evaluation is pure, so re-evaluating reproduces what the rule saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kam_policy.engine.types import Type
from kam_policy.grammar import ast

if TYPE_CHECKING:
    from kam_policy.engine.compile_expr import ExprCompiler, Fn, Scope


@dataclass(frozen=True)
class Check:
    """One condition: its node, operator, operand closures and types, and its test."""

    node: ast.Expr
    op: str | None  # a comparison operator, "is null", "is not null", "and", "or", or None
    left: Fn | None
    right: Fn | None
    left_type: Type | None
    right_type: Type | None
    test: Fn
    parts: tuple[Check, ...] = ()  # the alternatives of an "or", the terms of an "and"


def build_check(compiler: ExprCompiler, leaf: ast.Expr, scope: Scope) -> Check:
    """Compile ``leaf`` and its operands separately (types are already checked)."""
    test = compiler.condition(leaf, scope).fn
    if isinstance(leaf, ast.Compare):
        left = compiler.compile(leaf.left, scope)
        right = compiler.compile(leaf.right, scope)
        return Check(leaf, leaf.op, left.fn, right.fn, left.type, right.type, test)
    if isinstance(leaf, ast.IsNull):
        operand = compiler.compile(leaf.operand, scope)
        op = "is not null" if leaf.negated else "is null"
        return Check(leaf, op, operand.fn, None, operand.type, None, test)
    if isinstance(leaf, ast.BoolOp):
        parts = tuple(build_check(compiler, value, scope) for value in leaf.values)
        return Check(leaf, leaf.op, None, None, None, None, test, parts)
    return Check(leaf, None, None, None, None, None, test)
