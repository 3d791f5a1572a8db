"""Conditions as sentences: the values a condition compared, in the reader's language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kam_policy.engine.checks import Check
from kam_policy.engine.context import EvalContext
from kam_policy.engine.values import human
from kam_policy.explain.messages import catalogue
from kam_policy.grammar import ast


@dataclass(frozen=True)
class ConditionResult:
    """One condition of a rule, evaluated: its text, operator, values and outcome."""

    text: str
    op: str | None
    left_text: str | None
    left: str | None
    right_text: str | None
    right: str | None
    holds: bool
    file: str
    line: int
    parts: tuple[ConditionResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "condition": self.text, "op": self.op, "left": self.left, "right": self.right,
            "holds": self.holds, "source": {"file": self.file, "line": self.line}}
        if self.parts:
            data["parts"] = [p.to_dict() for p in self.parts]
        return data


def source_text(sources: dict[str, str], check: Check) -> tuple[str, str | None, str | None]:
    node = check.node
    text = _clip(sources, node)
    left = getattr(node, "left", None) or getattr(node, "operand", None)
    right = getattr(node, "right", None)
    return (text, _clip(sources, left) if left is not None else None,
            _clip(sources, right) if right is not None else None)


def _clip(sources: dict[str, str], node: Any) -> str:
    if isinstance(node, ast.Name):
        return node.id
    span = node.span
    return re.sub(r"\s+", " ", sources.get(span.source, "")[span.start : span.end]).strip()


def evaluate_check(ctx: EvalContext, check: Check, env: dict[str, Any],
                   sources: dict[str, str]) -> ConditionResult:
    """Evaluate one condition and its operands in ``env`` (evaluation is pure, so this
    reproduces what the rule saw)."""
    text, left_text, right_text = source_text(sources, check)
    holds = bool(_safe(check.test, ctx, env))
    schema = ctx.schema
    left = human(_safe(check.left, ctx, env), check.left_type, schema) if check.left else None
    right = human(_safe(check.right, ctx, env), check.right_type, schema) if check.right \
        else None
    span = check.node.span
    parts = tuple(evaluate_check(ctx, part, env, sources) for part in check.parts)
    return ConditionResult(text, check.op, left_text, left, right_text, right, holds,
                           span.source, span.line, parts)


def _safe(fn: Any, ctx: EvalContext, env: dict[str, Any]) -> Any:
    try:
        return fn(ctx, env)
    except Exception:  # a binding after a failed condition is missing: no value to show
        return None


def _labelled(text: str | None, value: str | None) -> str:
    if text is None:
        return value or ""
    if value is None or value == text or value == text.strip('"'):
        return text
    return f"{text} ({value})"


def _word(value: str | None, words: dict[str, Any]) -> str | None:
    """null, true and false in the reader's language."""
    return words.get(value, value) if value in ("null", "true", "false") else value


def sentence(result: ConditionResult, lang: str) -> str:
    """``response_time(c) (5h12m) exceeds limit (4h)`` when it holds, or
    ``needs x ≥ min (1), has 0.5`` when it does not."""
    words = catalogue(lang)
    if result.op in ("and", "or"):
        if result.holds:
            shown = [p for p in result.parts if p.holds] if result.op == "or" else result.parts
        else:
            shown = [p for p in result.parts if not p.holds] if result.op == "and" \
                else result.parts
        joiner = words["or"] if result.op == "or" and not result.holds else words["and"]
        inner = [sentence(p, lang) for p in shown[:1]] if result.op == "or" and result.holds \
            else [sentence(p, lang) for p in shown]
        return f" {joiner} ".join(inner)
    if result.op is None:
        key = "holds_bool" if result.holds else "needs_bool"
        return str(words[key].format(condition=result.text))
    if result.holds:
        phrase = words["holds"][result.op]
        parts = [_labelled(result.left_text, result.left), phrase]
        if result.right_text is not None:
            parts.append(_labelled(result.right_text, result.right))
        return " ".join(parts)
    symbol = words["symbol"][result.op]
    condition = f"{result.left_text} {symbol}"
    if result.right_text is not None:
        condition += " " + _labelled(result.right_text, result.right)
    return str(words["needs"].format(condition=condition, actual=_word(result.left, words)))
