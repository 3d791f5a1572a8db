"""Assignability of a computed value to a declared type (emits, table outputs, arguments)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kam_policy.engine.types import Type
from kam_policy.grammar.span import Span

if TYPE_CHECKING:
    from kam_policy.engine.compile_expr import ExprCompiler, Typed


def assignable(value: Type, target: Type) -> bool:
    """Whether a value of type ``value`` may stand where ``target`` is declared."""
    if value.kind in ("any", "null") or target.kind == "any":
        return True
    if target.kind == "enum":
        return value.kind in ("symbol", "text") or value == target
    if target.kind == "text":
        return value.kind in ("text", "enum", "symbol")
    if target.kind == "list":
        return value.kind == "list" and assignable(value.args[0], target.args[0])
    if target.kind in ("fact", "conclusion"):
        return value == target
    return value.kind == target.kind


def check_assignable(compiler: ExprCompiler, typed: Typed, target: Type, span: Span,
                     what: str) -> None:
    """Report a type mismatch or an enum literal outside its enum."""
    if not assignable(typed.type, target):
        compiler.error("check.type-mismatch", f"{what} is declared {target}, but this is "
                       f"{typed.type}", span)
        return
    info = compiler.enum(target)
    if info is None:
        item = target.args[0] if target.kind == "list" else None
        info = compiler.enum(item) if item is not None else None
        if info is None or not typed.const or typed.value is None:
            return
        for value in typed.value:
            if value not in info.members:
                compiler.error("check.enum-member", f"'{value}' is not a {info.name}", span,
                               f"{info.name} is one of: {', '.join(info.members)}")
        return
    if typed.const and typed.value is not None and typed.value not in info.members:
        compiler.error("check.enum-member", f"'{typed.value}' is not a {info.name}", span,
                       f"{info.name} is one of: {', '.join(info.members)}")
