"""Proof trees: each conclusion, the rule that produced it, the conditions with their values,
and the conclusions it was derived from (bonus <- grade A <- total 87.35 >= 85)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kam_policy.engine.context import Conclusion as Internal
from kam_policy.engine.decision import Conclusion, Decision
from kam_policy.engine.policy import Policy
from kam_policy.engine.trace import RecordingTracer, TraceEvent
from kam_policy.engine.values import human
from kam_policy.explain.conditions import ConditionResult, evaluate_check


@dataclass(frozen=True)
class TableHit:
    """A binding that came from a decision table: the row that decided it, and why."""

    binding: str
    value: str
    table: str
    row: int
    file: str
    line: int
    conditions: tuple[ConditionResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"binding": self.binding, "value": self.value, "table": self.table,
                "row": self.row, "source": {"file": self.file, "line": self.line},
                "conditions": [c.to_dict() for c in self.conditions]}


@dataclass(frozen=True)
class ProofNode:
    """Why one conclusion holds."""

    conclusion: Conclusion
    rule_id: str
    title: str | None
    file: str
    line: int
    reason: str | None
    conditions: tuple[ConditionResult, ...]
    bindings: dict[str, str]
    premises: tuple[ProofNode, ...] = field(default=())
    tables: tuple[TableHit, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": [t.to_dict() for t in self.tables],
            "conclusion": self.conclusion.to_dict(),
            "rule": {"id": self.rule_id, "title": self.title,
                     "source": {"file": self.file, "line": self.line}},
            "reason": self.reason,
            "conditions": [c.to_dict() for c in self.conditions],
            "bindings": self.bindings,
            "premises": [p.to_dict() for p in self.premises],
        }


@dataclass(frozen=True)
class Explanation:
    """A decision with a proof for each of its conclusions."""

    decision: Decision
    proofs: tuple[ProofNode, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision.decision_id, "at": self.decision.at,
                "policy": self.decision.policy.to_dict(),
                "explanations": [p.to_dict() for p in self.proofs]}


def explain(policy: Policy, facts: Any, now: Any, *,
            subject: tuple[str, str] | None = None) -> Explanation:
    """Decide with a recording tracer, then build a proof for each conclusion.

    Args:
        subject: only conclusions about this (type, id), e.g. ``("complaint", "C3")``.
    """
    tracer = RecordingTracer()
    decision = policy.decide(facts, now, tracer=tracer)
    builder = _Builder(policy, tracer)
    proofs = []
    for name in sorted({c.name for c in decision.conclusions}):
        for found in (tracer.ctx.conclusions.get(name, []) if tracer.ctx else []):
            node = builder.proof(found)
            if subject is None or (node.conclusion.subject.type,
                                   node.conclusion.subject.id) == subject:
                proofs.append(node)
    proofs.sort(key=lambda p: p.conclusion.sort_key())
    return Explanation(decision, tuple(proofs))


class _Builder:
    def __init__(self, policy: Policy, tracer: RecordingTracer) -> None:
        self.policy = policy
        self.tracer = tracer
        self.sources = dict(policy.sources)
        self.schema = policy.schema

    def proof(self, found: Internal) -> ProofNode:
        event = self.tracer.event_of(found)
        assert event is not None and self.tracer.ctx is not None
        rule = event.rule
        conditions = tuple(
            evaluate_check(self.tracer.ctx, check, event.env, self.sources)
            for step in rule.steps if step.name is None for check in step.checks)
        premises = tuple(self.proof(item) for item in self._premises(event))
        return ProofNode(
            self.policy.public_conclusion(found), rule.id, rule.title, rule.span.source,
            rule.span.line, found.reason, conditions, self._bindings(event), premises,
            tuple(self._tables(event)))

    def _tables(self, event: TraceEvent) -> list[TableHit]:
        ctx = self.tracer.ctx
        hits = []
        for step in event.rule.steps:
            if step.table is None or step.name is None or ctx is None:
                continue
            table = step.table.table
            args = [fn(ctx, event.env) for fn in step.table.args]
            rows = table.matching_rows(ctx, args)
            if not rows or table.hit in ("collect", "rule order"):
                continue
            env = dict(zip(table.inputs, args, strict=True))
            row = rows[0]
            conditions = tuple(evaluate_check(ctx, check, env, self.sources)
                               for check in row.checks if check is not None)
            value = human(event.env.get(step.name), step.type, self.schema)
            hits.append(TableHit(step.name, value, table.name, row.number, row.span.source,
                                 row.span.line, conditions))
        return hits

    def _premises(self, event: TraceEvent) -> list[Internal]:
        if event.rule.source_kind == "conclusion" and isinstance(event.item, Internal):
            return [event.item]
        return []

    def _bindings(self, event: TraceEvent) -> dict[str, str]:
        types = {step.name: step.type for step in event.rule.steps if step.name is not None}
        return {name: human(value, types[name], self.schema) for name, value in event.env.items()
                if name in types and _simple(value)}


def _simple(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool) or \
        type(value).__name__ in ("Decimal", "Fraction", "date", "datetime", "tuple")
