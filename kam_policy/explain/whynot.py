"""Why not: for a conclusion a subject did not get, every rule that could have produced it and,
for each, every unmet condition with the actual value against the required one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kam_policy.engine.compile_rules import CompiledRule
from kam_policy.engine.context import Conclusion as Internal
from kam_policy.engine.context import EvalContext
from kam_policy.engine.decision import Conclusion, Decision
from kam_policy.engine.policy import Policy
from kam_policy.engine.tables import CompiledTable
from kam_policy.engine.trace import RecordingTracer, TraceEvent
from kam_policy.explain.conditions import ConditionResult, evaluate_check
from kam_policy.grammar import ast


@dataclass(frozen=True)
class RowMiss:
    """A table row that would have given the wanted value, and the cells it failed."""

    table: str
    binding: str
    wanted: str
    row: int
    file: str
    line: int
    unmet: tuple[ConditionResult, ...]


@dataclass(frozen=True)
class Attempt:
    """One rule considered for one item that concerns the subject, and what it lacked."""

    item: str
    unmet: tuple[ConditionResult, ...]
    rows: tuple[RowMiss, ...] = ()


@dataclass(frozen=True)
class RuleAnswer:
    """What one rule that emits the conclusion did about the subject."""

    rule_id: str
    title: str | None
    file: str
    line: int
    source: str
    attempts: tuple[Attempt, ...] = ()
    filtered: int = 0
    fired: int = 0  # firings that gave the subject this conclusion


@dataclass(frozen=True)
class WhyNot:
    """The answer to "why does SUBJECT not have NAME?"."""

    name: str
    subject: tuple[str, str]
    present: tuple[Conclusion, ...]
    rules: tuple[RuleAnswer, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "subject": {"type": self.subject[0], "id": self.subject[1]},
            "present": [c.to_dict() for c in self.present],
            "rules": [{
                "rule": {"id": r.rule_id, "title": r.title,
                         "source": {"file": r.file, "line": r.line}},
                "goes_through": r.source,
                "filtered_out": r.filtered,
                "fired": r.fired,
                "attempts": [{"item": a.item, "unmet": [u.to_dict() for u in a.unmet],
                              "table_rows": [{"table": m.table, "binding": m.binding,
                                              "wanted": m.wanted, "row": m.row,
                                              "source": {"file": m.file, "line": m.line},
                                              "unmet": [u.to_dict() for u in m.unmet]}
                                             for m in a.rows]}
                             for a in r.attempts],
            } for r in self.rules],
        }


def why_not(policy: Policy, facts: Any, now: Any, name: str,
            subject: tuple[str, str]) -> tuple[WhyNot, Decision]:
    """Decide with a tracer, then answer why ``subject`` has no ``name`` conclusion."""
    tracer = RecordingTracer()
    decision = policy.decide(facts, now, tracer=tracer)
    present = tuple(c for c in decision.named(name)
                    if (c.subject.type, c.subject.id) == subject)
    answers = []
    for rule in policy.rules:
        if name in rule.writes:
            answers.append(_answer(policy, tracer, rule, name, subject))
    return WhyNot(name, subject, present, tuple(answers)), decision


def _answer(policy: Policy, tracer: RecordingTracer, rule: CompiledRule, name: str,
            subject: tuple[str, str]) -> RuleAnswer:
    first = rule.node.clauses[0]
    assert isinstance(first, ast.ForClause)
    source_name = getattr(first.source, "id", "?")
    attempts = []
    filtered = 0
    ctx = tracer.ctx
    fired = 0
    for event in tracer.events:
        if event.rule is not rule or ctx is None:
            continue
        if event.kind == "matched":
            fired += any(c.name == name and _subject_of(policy, c) == subject
                         for c in event.emitted)
            continue
        if event.step is not None and event.step.node is first:
            if _concerns(policy, ctx, rule, name, event, subject):
                filtered += 1
            continue
        if _concerns(policy, ctx, rule, name, event, subject):
            unmet, rows = _unmet(policy, ctx, rule, event.item)
            attempts.append(Attempt(_describe(policy, event.item), unmet, rows))
    return RuleAnswer(rule.id, rule.title, rule.span.source, rule.span.line, source_name,
                      tuple(attempts), filtered, fired)


def _subject_of(policy: Policy, found: Internal) -> tuple[str, str]:
    fact_type = next(t for t in policy.schema.types if t.subject == found.subject_type)
    return found.subject_type, fact_type.identity(found.subject)


def _concerns(policy: Policy, ctx: EvalContext, rule: CompiledRule, name: str,
              event: TraceEvent, subject: tuple[str, str]) -> bool:
    env = _full_env(ctx, rule, event.item)
    for emit in rule.emits:
        if emit.name != name:
            continue
        try:
            target = emit.subject(ctx, env) if emit.subject is not None else event.item
        except Exception:
            continue
        if isinstance(target, Internal):
            target = target.subject
        if target is None:
            continue
        fact_type = policy.schema[emit.subject_fact]
        if (fact_type.subject, fact_type.identity(target)) == subject:
            return True
    return False


def _full_env(ctx: EvalContext, rule: CompiledRule, item: Any) -> dict[str, Any]:
    """All bindings of a rule for ``item``, evaluating every let even after a failed when."""
    env: dict[str, Any] = {rule.var: item}
    for step in rule.steps:
        if step.name is not None:
            try:
                env[step.name] = step.fn(ctx, env)
            except Exception:
                env[step.name] = None
    return env


def _unmet(policy: Policy, ctx: EvalContext, rule: CompiledRule,
           item: Any) -> tuple[tuple[ConditionResult, ...], tuple[RowMiss, ...]]:
    env = _full_env(ctx, rule, item)
    sources = dict(policy.sources)
    results = []
    rows: list[RowMiss] = []
    tables = {s.name: s.table for s in rule.steps if s.name is not None and s.table is not None}
    for step in rule.steps:
        for check in step.checks:
            result = evaluate_check(ctx, check, env, sources)
            if result.holds:
                continue
            results.append(result)
            node = check.node
            if isinstance(node, ast.Compare) and node.op == "==" and \
                    isinstance(node.left, ast.Name) and node.left.id in tables \
                    and check.right is not None:
                call = tables[node.left.id]
                assert call is not None
                wanted = check.right(ctx, env)
                rows.extend(_row_misses(ctx, call.table, [a(ctx, env) for a in call.args],
                                        node.left.id, wanted, sources))
    return tuple(results), tuple(rows)


def _row_misses(ctx: EvalContext, table: CompiledTable, args: list[Any], binding: str,
                wanted: Any, sources: dict[str, str]) -> list[RowMiss]:
    env = dict(zip(table.inputs, args, strict=True))
    misses = []
    for row in table.rows:
        if len(row.outputs) != 1 or row.outputs[0](ctx, env) != wanted:
            continue
        unmet = tuple(r for r in (evaluate_check(ctx, c, env, sources)
                                  for c in row.checks if c is not None) if not r.holds)
        misses.append(RowMiss(table.name, binding, str(wanted), row.number, row.span.source,
                              row.span.line, unmet))
    return misses


def _describe(policy: Policy, item: Any) -> str:
    if isinstance(item, Internal):
        fact_type = next(t for t in policy.schema.types if t.subject == item.subject_type)
        values = ", ".join(f"{k}={v}" for k, v in policy.public_conclusion(item).values.items())
        return f"{item.name}({values}) of {item.subject_type}:{fact_type.identity(item.subject)}"
    for fact_type in policy.schema.types:
        if isinstance(item, fact_type.model):
            return f"{fact_type.subject}:{fact_type.identity(item)}"
    return str(item)
