"""The facade: load (read, check, compile) a policy once, then decide many times."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kam_policy.engine.compile_expr import ExprCompiler
from kam_policy.engine.compile_rules import CompiledRule, compile_rule
from kam_policy.engine.context import EvalContext
from kam_policy.engine.decision import (
    Conclusion,
    Decision,
    Later,
    PolicyInfo,
    Subject,
    build_conclusion,
    build_subject,
    new_decision_id,
    sorted_conclusions,
)
from kam_policy.engine.declarations import Declarations, gather
from kam_policy.engine.evaluate import evaluate
from kam_policy.engine.functions import FunctionRegistry
from kam_policy.engine.gc_pause import gc_paused
from kam_policy.engine.order import order_rules
from kam_policy.engine.params import (
    ParamValue,
    apply_overrides,
    literal_value,
    read_overrides,
    to_toml_value,
    written_mismatch,
)
from kam_policy.engine.render import render
from kam_policy.engine.sources import PolicySources, read_policy, sources_from_texts
from kam_policy.engine.tables import CompiledTable
from kam_policy.engine.timeline import Probe, Timed, moving
from kam_policy.engine.trace import Tracer
from kam_policy.engine.values import Converter, json_converter
from kam_policy.errors import (
    Diagnostic,
    FactError,
    FactIssue,
    ParameterError,
    PolicyCheckError,
    PolicyEvalError,
    PolicyLoadError,
    PolicySyntaxError,
)
from kam_policy.facts.bundled import bundled_schema
from kam_policy.facts.load import FactSet, validate_facts
from kam_policy.facts.schema import FactSchema
from kam_policy.grammar import ast

MAX_ERRORS = 100


class DecisionRecorder(Protocol):
    """Anything that records decisions, such as ``kam_policy.audit.DecisionLog``."""

    def record(self, policy: Policy, facts: FactSet, decision: Decision) -> Any: ...


@dataclass(frozen=True)
class Policy:
    """A checked, compiled policy. Immutable: safe to share between threads.

    Use ``kam_policy.load`` to build one, then ``decide`` as often as needed.
    """

    info: PolicyInfo
    schema: FactSchema
    params: Mapping[str, ParamValue]
    rules: tuple[CompiledRule, ...]
    tables: Mapping[str, CompiledTable]
    declarations: Declarations
    sources: Mapping[str, str]
    warnings: tuple[Diagnostic, ...]
    _tables: _Tables = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tables", _Tables.build(self.schema, self.declarations))

    def __reduce__(self) -> tuple[Any, tuple[dict[str, str], dict[str, Any], FactSchema]]:
        """Pickle as the exact sources and parameter values; unpickling recompiles them
        (compiled closures are not picklable, and recompiling proves the same digest)."""
        params = {name: to_toml_value(p.value, p.type) for name, p in self.params.items()}
        return (_rebuild, (dict(self.sources), params, self.schema))

    def __repr__(self) -> str:
        return f"<Policy {self.name!r} version {self.version!r} sha256 {self.digest[:12]}>"

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def digest(self) -> str:
        return self.info.sha256

    def validate(self, facts: Mapping[str, Any] | FactSet, *,
                 skip_invalid: bool = False) -> FactSet:
        """Validate facts (dicts or model instances) into a ``FactSet``."""
        if isinstance(facts, FactSet):
            return facts
        return validate_facts(facts, self.schema, skip_invalid=skip_invalid)

    def decide(self, facts: Mapping[str, Any] | FactSet, now: dt.datetime, *,
               skip_invalid: bool = False, tracer: Tracer | None = None,
               decision_id: str | None = None, log: DecisionRecorder | None = None) -> Decision:
        """Decide on ``facts`` at time ``now`` (a datetime with a time zone).

        Args:
            facts: a ``FactSet``, or a mapping of JSON keys (``complaints``...) to lists of
                dicts or model instances, validated first.
            now: the evaluation time; never read from the clock.
            skip_invalid: drop invalid records (reported in ``Decision.skipped``) instead of
                raising ``FactError``.
            tracer: receives trace events; None costs nothing.
            decision_id: the id to give the decision (by default a new version-4 UUID string:
                unique, not secret; see ``decision.new_decision_id``).
            log: a decision log (``kam_policy.audit.DecisionLog``) to append the decision to.

        Returns:
            The decision, conclusions sorted by subject, name and values.
        """
        _check_now(now)
        fact_set = self.validate(facts, skip_invalid=skip_invalid)
        decision = self._decide(fact_set, now, now, tracer, decision_id)
        if log is not None:
            log.record(self, fact_set, decision)
        return decision

    def outlook(self, facts: Mapping[str, Any] | FactSet, now: dt.datetime, *,
                decision_id: str | None = None) -> Outlook:
        """Decide at ``now`` and find the first later instant at which the decision can differ
        while the facts stay as they are (None: never). The instant is derived from the rules'
        own time conditions; see ``kam_policy.engine.timeline``.

        Raises:
            PolicyEvalError: as ``decide``, and also where a rule computes with ``now`` in a way
                that cannot be followed exactly, or emits a value that changes with ``now``.
        """
        _check_now(now)
        fact_set = self.validate(facts)
        probe = Probe(now)
        decision = self._decide(fact_set, Timed(now, 1, probe), now, None, decision_id)
        return Outlook(decision, probe.next_change())

    def _decide(self, fact_set: FactSet, now_value: Any, now: dt.datetime,
                tracer: Tracer | None, decision_id: str | None) -> Decision:
        tables = self._tables
        ctx = EvalContext(fact_set, now_value, tables.id_fields, tracer)
        fired = evaluate(self.rules, ctx, self.schema)
        # Only a ``Timed`` now (``outlook``) makes values that move with now: a plain one
        # cannot, so ``decide`` skips looking for them.
        timed = type(now_value) is Timed
        subjects: dict[tuple[int, str], Subject] = {}
        conclusions = [self._public(c, timed, subjects)
                       for found in ctx.conclusions.values() for c in found]
        skipped = fact_set.skipped
        return Decision(decision_id or new_decision_id(), now.isoformat(), self.info,
                        sorted_conclusions(conclusions), tuple(fired),
                        tuple(str(issue) for issue in skipped) if skipped else ())

    def public_conclusion(self, found: Any) -> Conclusion:
        """The public form of a conclusion as rules saw it (values in their JSON forms)."""
        return self._public(found, True, None)

    def _public(self, found: Any, check_moving: bool,
                subjects: dict[tuple[int, str], Subject] | None) -> Conclusion:
        """``public_conclusion``; ``check_moving`` False when no value can move with now,
        ``subjects`` (when given) the subjects built so far in this decision, by fact."""
        rule, emit = found.rule
        convert = self._tables.converters[found.name]
        raw = found.values
        if check_moving:
            for name, value in raw.items():
                if moving(value):
                    raise PolicyEvalError(Diagnostic(
                        "eval.moving-value", f"rule {rule.id}: {found.name}: the value of "
                        f"'{name}' changes with now, so it has no single due time", emit.span,
                        "emit values fixed by the facts (e.g. the limit, not the time elapsed); "
                        "show the elapsed time in the 'because' text instead"))
        try:
            values = {k: convert[k](v) for k, v in raw.items()}
        except ValueError as error:
            raise PolicyEvalError(Diagnostic(
                "eval.bad-value", f"rule {rule.id}: {found.name}: {error}", emit.span,
                "round the value, or declare the value as decimal(2)")) from None
        # the records stay alive all through the decision, so their ids() stay theirs
        key = (id(found.subject), emit.subject_fact)
        subject = None if subjects is None else subjects.get(key)
        if subject is None:
            subject = build_subject(found.subject_type,
                                    self.schema[emit.subject_fact].identity(found.subject))
            if subjects is not None:
                subjects[key] = subject
        span = rule.span
        return build_conclusion(found.name, subject, values, rule.id, span.source, span.line,
                                Later(found), raw)


@dataclass(frozen=True)
class _Tables:
    """What building a decision needs of a policy, worked out once when it is compiled."""

    id_fields: dict[str, str | None]
    """Each fact type's id field, by name (read, never changed, by every ``EvalContext``)."""
    converters: dict[str, dict[str, Converter]]
    """By conclusion and value name: the value's JSON form, by its declared type."""

    @classmethod
    def build(cls, schema: FactSchema, declarations: Declarations) -> _Tables:
        return cls({t.name: t.id_field for t in schema.types},
                   {name: {f.name: json_converter(f.type) for f in decl.fields}
                    for name, decl in declarations.conclusions.items()})




@dataclass(frozen=True)
class Outlook:
    """A decision at ``now`` and when it may next change if the facts stay the same."""

    decision: Decision
    next_change: dt.datetime | None


def _check_now(now: Any) -> None:
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise FactError([FactIssue("now", None, None, None, "datetime has no time zone")])


def _rebuild(texts: dict[str, str], params: dict[str, Any], schema: FactSchema) -> Policy:
    sources = sources_from_texts(texts)
    if sources.diagnostics:
        raise PolicySyntaxError(sources.diagnostics)
    return compile_policy(sources, schema, params)


def load(path: str | Path | None = None, *, params: str | Path | Mapping[str, Any] | None = None,
         schema: FactSchema | None = None) -> Policy:
    """Read, check and compile a policy.

    Args:
        path: a policy folder (holding ``policy.kp``) or entry file; None for the bundled one.
        params: a TOML parameters file, or a mapping, overriding declared parameters.
        schema: the fact types to check against; the bundled ones by default.

    Returns:
        The compiled policy.

    Raises:
        PolicyLoadError, PolicySyntaxError, PolicyCheckError, ParameterError: with every
            diagnostic found (all subclasses of ``PolicyError``).
    """
    sources = read_policy(path)
    if sources.diagnostics:
        shown = _sorted(sources.diagnostics)[:MAX_ERRORS]
        load_errors = any(d.code.startswith("load.") for d in shown)
        error_type = PolicyLoadError if load_errors else PolicySyntaxError
        raise error_type(shown, render(shown, sources.texts))
    return compile_policy(sources, schema or bundled_schema(), params)


@gc_paused()
def compile_policy(sources: PolicySources, schema: FactSchema,
                   params: str | Path | Mapping[str, Any] | None = None) -> Policy:
    """Check and compile parsed sources (all errors at once)."""
    diagnostics: list[Diagnostic] = []
    decls = gather(sources.modules, schema, diagnostics)
    values = _parameters(decls, diagnostics)
    if params is not None:
        values = _override(values, params)
    compiler = ExprCompiler(decls, values, diagnostics)
    for conclusion in decls.conclusions.values():
        for field_decl in conclusion.fields:
            compiler.written_type(field_decl.type)
    tables = FunctionRegistry(compiler).compile_all()
    compiled = [r for r in (compile_rule(compiler, rule) for rule in decls.rules) if r is not None]
    ordered = order_rules(compiled, diagnostics)
    if decls.header is None:
        diagnostics.append(Diagnostic("check.no-header", "the policy has no header", None,
                                      'start the entry file with: policy "Name" version "1.0"'))
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        shown = _sorted(errors)[:MAX_ERRORS]
        raise PolicyCheckError(shown, render(shown, sources.texts))
    header = decls.header
    assert header is not None
    info = PolicyInfo(header.name, header.version, _digest(sources, values))
    return Policy(info, schema, values, tuple(ordered), tables, decls, dict(sources.texts),
                  tuple(d for d in diagnostics if d.severity == "warning"))


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)


def _parameters(decls: Declarations, diagnostics: list[Diagnostic]) -> dict[str, ParamValue]:
    values = {}
    for name, param in decls.params.items():
        value, kind = literal_value(param.value, decls, diagnostics)
        if param.type is not None:
            problem = written_mismatch(kind, param.type, decls, value)
            if problem:
                diagnostics.append(Diagnostic("check.type-mismatch", f"parameter '{name}' is "
                                              f"declared {_written(param.type)}: {problem}",
                                              param.value.span))
        values[name] = ParamValue(name, value, kind, "default", param.span)
    return values


def _written(written: ast.TypeExpr) -> str:
    if written.args:
        return f"{written.name}[{', '.join(_written(a) for a in written.args)}]"
    return written.name


def _override(values: dict[str, ParamValue],
              params: str | Path | Mapping[str, Any]) -> dict[str, ParamValue]:
    if isinstance(params, Mapping):
        return apply_overrides(values, params, "<params>")
    data, text = read_overrides(params)
    try:
        return apply_overrides(values, data, str(params), text)
    except ParameterError as error:
        raise ParameterError(error.diagnostics, render(error.diagnostics, {str(params): text})) \
            from None


def _digest(sources: PolicySources, values: Mapping[str, ParamValue]) -> str:
    params = {name: _jsonable(p.value) for name, p in sorted(values.items())}
    hasher = hashlib.sha256(sources.digest().encode("ascii"))
    hasher.update(json.dumps(params, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return hasher.hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    return str(value)


__all__ = ["Outlook", "Policy", "compile_policy", "load"]
