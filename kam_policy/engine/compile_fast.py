"""A compiled rule -> one generated Python function running it over its items (no tracer).

The function does what ``evaluate._run_rule`` does without a tracer: for each item, bind the
rule's variable, run the let and when steps in order (stopping at the first condition that
fails), and emit the conclusions. Bindings are Python locals; when the rule fires they are
put in an ``env`` dict, as the closures and the ``because`` text expect them. Expressions are
inlined as their generated code (see ``engine/codegen.py``); the conclusions are built by the
same code for both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kam_policy.engine.codegen import binding, env_code
from kam_policy.engine.context import Conclusion
from kam_policy.errors import Diagnostic, PolicyEvalError

if TYPE_CHECKING:
    from kam_policy.engine.compile_expr import ExprCompiler
    from kam_policy.engine.compile_rules import CompiledEmit, CompiledRule

RuleRunner = Callable[[Any, Sequence[Any]], bool]
Emitter = Callable[[Any, dict[str, Any], Any, dict[str, Any]], None]


def emitter(rule: CompiledRule, emit: CompiledEmit, subject_type: str) -> Emitter:
    """Record one conclusion of ``emit`` with its computed ``values``, about its subject."""
    subject_of, name = emit.subject, emit.name
    origin = (rule, emit)

    def conclude(ctx: Any, env: dict[str, Any], item: Any, values: dict[str, Any]) -> None:
        subject = subject_of(ctx, env) if subject_of is not None else item
        if subject is None:
            raise PolicyEvalError(Diagnostic(
                "eval.no-subject", f"rule {rule.id}: the subject of {name} is null", emit.span,
                "check that the 'about' lookup finds a record"))
        found = Conclusion(name, subject, subject_type, values, origin, ctx, env)
        ctx.conclusions.setdefault(name, []).append(found)

    return conclude


def generate_rule(compiler: ExprCompiler, rule: CompiledRule) -> RuleRunner:
    """``run(ctx, items) -> fired``: the rule as one Python function."""
    schema = compiler.decls.schema
    lines = ["fired = False", "for _item in items:", f"    {binding(rule.var)} = _item"]
    bound = [rule.var]
    for step in rule.steps:
        assert step.code is not None, "steps of a rule compiled while generating have code"
        if step.name is None:
            lines.append(f"    if not {step.code}: continue")
        else:
            lines.append(f"    {binding(step.name)} = {step.code}")
            bound.append(step.name)
    lines.append("    fired = True")
    if rule.emits:  # the bindings, for the 'because' text and for explanations
        lines.append(f"    env = {env_code(bound)}")
    for emit in rule.emits:
        conclude = compiler.const(emitter(rule, emit, schema[emit.subject_fact].subject))
        values = ", ".join(f"{field!r}: {code}" for field, code in zip(
            emit.fields, emit.codes, strict=True))
        lines.append(f"    {conclude}(ctx, env, _item, {{{values}}})")
    lines.append("return fired")
    return compiler.namespace.function("rule", "ctx, items", lines)


__all__ = ["emitter", "generate_rule"]
