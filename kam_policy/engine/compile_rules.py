"""Rules -> ``CompiledRule``: the source a rule iterates, its let/when steps, its emits and the
conclusions it reads and writes (for ordering)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kam_policy.engine.checks import Check, build_check
from kam_policy.engine.compile_expr import CompileState, ExprCompiler, Fn, Scope, Typed
from kam_policy.engine.conversions import check_assignable
from kam_policy.engine.declarations import RESERVED_WORDS, did_you_mean
from kam_policy.engine.tables import CompiledTable
from kam_policy.engine.types import Type, fact_type
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_PATH = re.compile(r"^[^\W\d]\w*(\.[^\W\d]\w*)*$")


@dataclass(frozen=True)
class Step:
    """A ``let`` (binds ``name``) or a condition (``name`` is None) of a rule."""

    name: str | None
    fn: Fn
    node: ast.LetClause | ast.WhenClause | ast.ForClause
    checks: tuple[Check, ...] = ()
    type: Type | None = None  # of a let's value
    table: TableCall | None = None  # a let whose value is a decision table's result
    code: str | None = None  # generated code of fn (engine/codegen.py)


@dataclass(frozen=True)
class TableCall:
    """A let bound to a table call: the table and its argument closures (for explanations)."""

    table: CompiledTable
    args: tuple[Fn, ...]


@dataclass(frozen=True)
class CompiledEmit:
    """One ``emit``: the conclusion, its value closures in declared order, and its subject."""

    name: str
    fields: tuple[str, ...]
    values: tuple[Fn, ...]
    subject: Fn | None  # None: the rule's own subject
    subject_fact: str
    span: Span
    codes: tuple[str, ...] = ()  # generated code of values, in order


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to evaluate."""

    id: str
    title: str | None
    section: str | None
    span: Span
    var: str
    source_kind: str  # fact | conclusion | list
    source: Callable[[Any, dict[str, Any]], Any]
    steps: tuple[Step, ...]
    emits: tuple[CompiledEmit, ...]
    reason: Callable[[Any, dict[str, Any]], str] | None
    reads: frozenset[str]
    writes: frozenset[str]
    node: ast.Rule
    source_fact: str | None = None  # the fact type of a "fact" source (read without a call)
    fast: Callable[[Any, Any], bool] | None = None  # generated: run(ctx, items) -> fired
    source_conclusion: str | None = None  # the conclusion a "conclusion" source goes through


def compile_rule(compiler: ExprCompiler, rule: ast.Rule) -> CompiledRule | None:
    """Type-check and compile one rule; None if it has errors (they are in the compiler)."""
    generating, compiler.generating = compiler.generating, True
    try:
        compiled = _compile_rule(compiler, rule)
    finally:
        compiler.generating = generating
    if compiled is not None:
        from kam_policy.engine.compile_fast import generate_rule

        # set once, right after construction: the generated function names this very rule
        object.__setattr__(compiled, "fast", generate_rule(compiler, compiled))
    return compiled


def _compile_rule(compiler: ExprCompiler, rule: ast.Rule) -> CompiledRule | None:
    compiler.state = CompileState()
    errors_before = len(compiler.diagnostics)
    first = rule.clauses[0]
    if not isinstance(first, ast.ForClause):
        compiler.error("check.rule-shape", f"rule {rule.id} must start with 'for x in ...'",
                       first.span, "say what the rule is about, e.g. 'for c in Complaint'")
        return None
    if first.var in RESERVED_WORDS:
        compiler.error("check.reserved-name", f"'{first.var}' is a reserved word", first.span,
                       "choose another name")
    source = _source(compiler, first)
    if source is None:
        return None
    kind, element, items, subject_fact = source
    scope: Scope = {first.var: element}
    steps: list[Step] = []
    if first.where is not None:
        steps.append(_condition(compiler, first, first.where, scope))
    for clause in rule.clauses[1:]:
        steps.extend(_step(compiler, clause, scope))
    emits = [_emit(compiler, rule, e, scope, kind, subject_fact, first.var) for e in rule.emits]
    reason = _template(compiler, rule.because, scope, rule.because_span or rule.span,
                       rule.because_raw) if rule.because else None
    if len(compiler.diagnostics) > errors_before:
        return None
    return CompiledRule(
        rule.id, rule.title, rule.section, rule.span, first.var, kind, items, tuple(steps),
        tuple(e for e in emits if e is not None), reason, frozenset(compiler.state.reads),
        frozenset(e.name for e in rule.emits), rule, subject_fact if kind == "fact" else None,
        source_conclusion=first.source.id if kind == "conclusion" and isinstance(
            first.source, ast.Name) else None)


def _source(compiler: ExprCompiler,
            clause: ast.ForClause) -> tuple[str, Type, Callable[..., Any], str | None] | None:
    expr = clause.source
    decls = compiler.decls
    if isinstance(expr, ast.Name) and expr.id in decls.facts:
        name = expr.id
        return "fact", fact_type(name), lambda ctx, env: ctx.facts(name), name
    if isinstance(expr, ast.Name) and expr.id in decls.conclusions:
        name = expr.id
        compiler.state.reads.add(name)
        about = decls.conclusions[name].about
        return ("conclusion", Type("conclusion", name),
                lambda ctx, env: tuple(ctx.conclusions.get(name, ())), about)
    known = [*decls.facts, *decls.conclusions]
    if isinstance(expr, ast.Name) and expr.id not in compiler.params:
        compiler.error("check.bad-source", f"'{expr.id}' is neither a fact type nor a conclusion",
                       expr.span, did_you_mean(expr.id, known) or f"one of: {', '.join(known)}")
        return None
    typed = compiler.compile(expr, {})
    if typed.type.kind == "list":
        get = typed.fn
        return "list", typed.type.args[0], lambda ctx, env: get(ctx, env) or (), None
    if typed.type.kind != "any":
        compiler.error("check.bad-source", "a rule goes through a fact type or a conclusion",
                       expr.span, did_you_mean(getattr(expr, "id", ""), known)
                       or f"one of: {', '.join(known)}")
    return None


def _step(compiler: ExprCompiler, clause: ast.Clause, scope: Scope) -> list[Step]:
    if isinstance(clause, ast.LetClause):
        if clause.name in scope or clause.name == "now" or clause.name in compiler.params:
            compiler.error("check.duplicate", f"'{clause.name}' is already bound here",
                           clause.span, "choose another name")
        elif clause.name in RESERVED_WORDS:
            compiler.error("check.reserved-name", f"'{clause.name}' is a reserved word",
                           clause.span, "choose another name")
        typed = compiler.compile(clause.value, scope)
        scope[clause.name] = typed.type
        return [Step(clause.name, typed.fn, clause, (), typed.type,
                     _table_call(compiler, clause.value, scope), compiler.code(typed))]
    if isinstance(clause, ast.WhenClause):
        return [_condition(compiler, clause, clause.cond, scope)]
    compiler.error("check.rule-shape", "a rule has one 'for', at its start", clause.span,
                   "use an aggregate such as exists(x in ... where ...) to look at other facts")
    return []


def _condition(compiler: ExprCompiler, clause: ast.WhenClause | ast.ForClause, cond: ast.Expr,
               scope: Scope) -> Step:
    typed = compiler.condition(cond, scope)
    code = compiler.code(typed)
    leaves = cond.values if isinstance(cond, ast.BoolOp) and cond.op == "and" else (cond,)
    with compiler.quiet():
        checks = tuple(build_check(compiler, leaf, scope) for leaf in leaves)
    return Step(None, typed.fn, clause, checks, code=code)


def _table_call(compiler: ExprCompiler, value: ast.Expr, scope: Scope) -> TableCall | None:
    if not isinstance(value, ast.Call) or value.func not in compiler.tables:
        return None
    table = compiler.tables[value.func]
    if table is None or len(value.args) != len(table.inputs):
        return None
    args = list(value.args)
    if all(a.name for a in args):
        by_name = {a.name: a for a in args}
        if set(by_name) != set(table.inputs):
            return None
        args = [by_name[name] for name in table.inputs]
    elif any(a.name for a in args):
        return None
    with compiler.quiet():  # the call itself was checked when the let was compiled
        return TableCall(table, tuple(compiler.compile(a.value, scope).fn for a in args))


def _emit(compiler: ExprCompiler, rule: ast.Rule, emit: ast.Emit, scope: Scope, kind: str,
          subject_fact: str | None, var: str) -> CompiledEmit | None:
    decl = compiler.decls.conclusions.get(emit.name)
    if decl is None:
        compiler.error("check.unknown-conclusion", f"unknown conclusion '{emit.name}'", emit.span,
                       did_you_mean(emit.name, compiler.decls.conclusions)
                       or "declare it with 'conclusion name(...) about Fact'")
        return None
    declared = {f.name: f for f in decl.fields}
    given: dict[str | None, ast.Arg] = {}
    for arg in emit.args:
        if arg.name in given:
            compiler.error("check.duplicate", f"value '{arg.name}' is given twice", arg.span,
                           "give each value once")
        given[arg.name] = arg
    for name in given:
        if name not in declared:
            compiler.error("check.unknown-field", f"conclusion '{emit.name}' has no value "
                           f"'{name}'", given[name].span,
                           did_you_mean(name or "", declared) or
                           f"its values: {', '.join(declared) or '(none)'}")
    missing = [n for n, f in declared.items() if n not in given and not f.optional]
    if missing:
        compiler.error("check.missing-value", f"emit {emit.name} lacks "
                       f"{', '.join(repr(m) for m in missing)}", emit.span,
                       f"{emit.name} has the values ({', '.join(declared)})")
    values = []
    names = []
    codes = []
    for name, field_decl in declared.items():
        found = given.get(name)
        if found is None:
            continue
        arg = found
        names.append(name)
        typed = compiler.compile(arg.value, scope)
        with compiler.quiet():  # declared types are checked once, with the declaration
            target = compiler.written_type(field_decl.type)
        check_assignable(compiler, typed, target, arg.span, f"value '{name}' of {emit.name}")
        if field_decl.type.name == "int" and typed.const and typed.value is not None \
                and typed.value != int(typed.value):
            compiler.error("check.type-mismatch", f"value '{name}' of {emit.name} is declared "
                           f"int, but {typed.value} is not a whole number", arg.span)
        values.append(typed.fn)
        codes.append(compiler.code(typed))
    subject = _subject(compiler, emit, decl, scope, kind, subject_fact, var)
    if subject is None:
        return None
    return CompiledEmit(emit.name, tuple(names), tuple(values), subject[0], decl.about,
                        emit.span, tuple(codes))


def _subject(compiler: ExprCompiler, emit: ast.Emit, decl: ast.ConclusionDecl, scope: Scope,
             kind: str, subject_fact: str | None, var: str) -> tuple[Fn | None] | None:
    if emit.about is None:
        if subject_fact != decl.about:
            what = subject_fact or "a list item"
            compiler.error("check.subject", f"{emit.name} is about {decl.about}, but this rule "
                           f"is about {what}", emit.span,
                           f"add 'about' with the {decl.about}, e.g. "
                           f"'about {decl.about}[{var}.{decl.about.lower()}_id]'")
            return None
        if kind == "conclusion":
            return (lambda ctx, env: env[var].subject,)
        return (None,)
    typed: Typed = compiler.compile(emit.about, scope)
    if typed.type.kind != "any" and typed.type != fact_type(decl.about):
        compiler.error("check.subject", f"{emit.name} is about {decl.about}, not {typed.type}",
                       emit.about.span)
        return None
    return (typed.fn,)


def _inner_span(outer: Span, raw: str | None, placeholder: str, nth: int) -> Span:
    """The span of the ``nth`` occurrence of a placeholder in a one-line ``because`` text,
    found in the text as written (escapes before it keep their width)."""
    if outer.line != outer.end_line or raw is None:
        return outer
    start = -1
    for _ in range(nth + 1):
        start = raw.find(placeholder, start + 1)
        if start < 0:
            return outer
    end = start + len(placeholder)
    return Span(outer.source, outer.start + start, outer.start + end, outer.line,
                outer.column + start, outer.line, outer.column + end)


def _template(compiler: ExprCompiler, text: str, scope: Scope, outer: Span,
              raw: str | None) -> Callable[[Any, dict[str, Any]], str]:
    """Compile a ``because`` text; ``{name}`` and ``{name.field}`` show bound values."""
    from kam_policy.engine.values import human

    parts: list[str | tuple[Fn, Type]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(text[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
            continue
        path = (match.group(1) or "").strip()
        seen = text[: match.start()].count(token)
        span = _inner_span(outer, raw, token, seen)
        if not _PATH.match(path):
            compiler.error("check.reason", f"'{{{path}}}' in the reason text is not a name",
                           span, "write {name} or {name.field}; use {{ and }} for braces")
            continue
        names = path.split(".")
        expr: ast.Expr = ast.Name(names[0], span)
        for part in names[1:]:
            expr = ast.Attr(expr, part, span)
        if names[0] not in scope and names[0] not in compiler.params and names[0] != "now":
            compiler.error("check.reason", f"'{names[0]}' in the reason text is not bound",
                           span, did_you_mean(names[0], [*scope, *compiler.params]))
            continue
        typed = compiler.compile(expr, scope)
        parts.append((typed.fn, typed.type))
    parts.append(text[position:])
    frozen = tuple(parts)
    schema = compiler.decls.schema

    def render(ctx: Any, env: dict[str, Any]) -> str:
        return "".join(p if isinstance(p, str) else human(p[0](ctx, env), p[1], schema)
                       for p in frozen)

    return render


__all__ = ["CompiledEmit", "CompiledRule", "Step", "compile_rule"]
