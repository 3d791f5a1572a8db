"""Tracing hooks. Evaluation calls a tracer only when one is passed in, so none costs nothing.

A tracer sees, rule by rule and subject by subject, whether the rule fired (with its bindings)
or which condition failed first, and every conclusion emitted. Explanations, why-not answers
and rule coverage are all tracers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from kam_policy.engine.compile_rules import CompiledRule, Step
from kam_policy.engine.context import Conclusion, EvalContext
from kam_policy.engine.tables import CompiledRow, CompiledTable


class Tracer(Protocol):
    """Receives what evaluation does. Implement ``matched``, ``not_matched`` and ``emitted``
    (they may do nothing); ``table_matched`` is optional."""

    def matched(self, ctx: EvalContext, rule: CompiledRule, item: Any,
                env: dict[str, Any]) -> None:
        """``rule`` fired for ``item``; ``env`` holds its bindings."""

    def not_matched(self, ctx: EvalContext, rule: CompiledRule, item: Any, step: Step,
                    env: dict[str, Any]) -> None:
        """``rule`` did not fire for ``item``: ``step`` is the first condition that failed."""

    def emitted(self, ctx: EvalContext, rule: CompiledRule, item: Any,
                conclusion: Conclusion) -> None:
        """``rule`` emitted ``conclusion`` while firing for ``item``."""

    def table_matched(self, ctx: EvalContext, table: CompiledTable,
                      rows: tuple[CompiledRow, ...], inputs: dict[str, Any]) -> None:
        """Decision table ``table`` matched ``rows`` (the hit policy then picks) for ``inputs``."""


@dataclass
class TraceEvent:
    """One recorded event: ``kind`` is matched or not_matched."""

    kind: str
    rule: CompiledRule
    item: Any
    env: dict[str, Any]
    step: Step | None = None
    emitted: list[Conclusion] = field(default_factory=list)


class RecordingTracer:
    """Keeps every event (and the evaluation context, to evaluate condition operands later)."""

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []
        self.ctx: EvalContext | None = None
        self._by_conclusion: dict[int, TraceEvent] = {}
        self.rows_matched: set[tuple[str, int]] = set()

    def matched(self, ctx: EvalContext, rule: CompiledRule, item: Any,
                env: dict[str, Any]) -> None:
        self.ctx = ctx
        self.events.append(TraceEvent("matched", rule, item, dict(env)))

    def not_matched(self, ctx: EvalContext, rule: CompiledRule, item: Any, step: Step,
                    env: dict[str, Any]) -> None:
        self.ctx = ctx
        self.events.append(TraceEvent("not_matched", rule, item, dict(env), step))

    def emitted(self, ctx: EvalContext, rule: CompiledRule, item: Any,
                conclusion: Conclusion) -> None:
        event = self.events[-1]
        event.emitted.append(conclusion)
        self._by_conclusion[id(conclusion)] = event

    def table_matched(self, ctx: EvalContext, table: CompiledTable,
                      rows: tuple[CompiledRow, ...], inputs: dict[str, Any]) -> None:
        self.rows_matched.update((table.name, row.number) for row in rows)

    def event_of(self, conclusion: Conclusion) -> TraceEvent | None:
        """The event of the rule firing that emitted ``conclusion``."""
        return self._by_conclusion.get(id(conclusion))

    def fired_rules(self) -> set[str]:
        return {e.rule.id for e in self.events if e.kind == "matched"}
