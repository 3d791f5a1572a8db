"""Evaluation: compiled rules x facts at ``now`` -> the conclusions they emit, in rule order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kam_policy.engine.compile_rules import CompiledEmit, CompiledRule
from kam_policy.engine.context import Conclusion, EvalContext
from kam_policy.errors import Diagnostic, KamPolicyError, PolicyEvalError
from kam_policy.facts.schema import FactSchema


def evaluate(rules: Sequence[CompiledRule], ctx: EvalContext, schema: FactSchema) -> list[str]:
    """Run every rule over its source; conclusions accumulate in ``ctx``. Returns fired ids.

    A rule whose source is empty (most of a policy, for a decision about one fact) is skipped
    after one look at the source. Without a tracer, a rule runs as its generated function
    (``engine/compile_fast.py``); with one, step by step so that the tracer sees each step."""
    fired: list[str] = []
    no_env: dict[str, Any] = {}
    traced = ctx.tracer is not None
    by_type = ctx.fact_lists()
    conclusions = ctx.conclusions
    for rule in rules:
        try:
            fact = rule.source_fact
            if fact is not None:
                items = by_type[fact]
            elif rule.source_conclusion is not None and \
                    rule.source_conclusion not in conclusions:
                continue  # none drawn yet (most rules over conclusions, in one decision)
            else:
                items = rule.source(ctx, no_env)
            if not items:
                continue
            fast = rule.fast
            if fast is not None and not traced:
                if fast(ctx, items):
                    fired.append(rule.id)
            elif _run_rule(rule, items, ctx, schema):
                fired.append(rule.id)
        except KamPolicyError:
            raise
        except Exception as error:  # a gap in checking: report it at the rule, never hide it
            raise PolicyEvalError(Diagnostic(
                "eval.failed", f"rule {rule.id} failed: {type(error).__name__}: {error}",
                rule.span)) from error
    ctx.memo.clear()  # only rules use it; the decision may outlive the context's other parts
    return fired


def _run_rule(rule: CompiledRule, items: Iterable[Any], ctx: EvalContext,
              schema: FactSchema) -> bool:
    steps = rule.steps
    var = rule.var
    tracer = ctx.tracer
    fired = False
    for item in items:
        env: dict[str, Any] = {var: item}
        for step in steps:
            value = step.fn(ctx, env)
            if step.name is not None:
                env[step.name] = value
            elif not value:
                if tracer is not None:
                    tracer.not_matched(ctx, rule, item, step, env)
                break
        else:
            if tracer is not None:
                tracer.matched(ctx, rule, item, env)
            fired = True
            for emit in rule.emits:
                emitted = _emit(rule, emit, item, env, ctx, schema)
                if tracer is not None:
                    tracer.emitted(ctx, rule, item, emitted)
    return fired


def _emit(rule: CompiledRule, emit: CompiledEmit, item: Any, env: dict[str, Any],
          ctx: EvalContext, schema: FactSchema) -> Conclusion:
    subject = emit.subject(ctx, env) if emit.subject is not None else item
    if subject is None:
        raise PolicyEvalError(Diagnostic(
            "eval.no-subject", f"rule {rule.id}: the subject of {emit.name} is null", emit.span,
            "check that the 'about' lookup finds a record"))
    values = {name: fn(ctx, env) for name, fn in zip(emit.fields, emit.values, strict=True)}
    subject_type = schema[emit.subject_fact].subject
    found = Conclusion(emit.name, subject, subject_type, values, (rule, emit), ctx, env)
    ctx.conclusions.setdefault(emit.name, []).append(found)
    return found
