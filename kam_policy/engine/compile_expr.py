"""Pass 2 of checking, fused with compiling: each expression is typed against the fact models,
parameters and declarations, and turned into a closure ``fn(ctx, env)``.

A name in a rule file can only reach what the checker resolved: a declared field of a fact
model, a conclusion value, a parameter, a local binding. Nothing else of Python is reachable.
Errors are collected (never raised) so that every mistake of a policy is reported at once.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from kam_policy.engine import business, exact
from kam_policy.engine.builtins import BUILTINS
from kam_policy.engine.codegen import Namespace, binding, env_code, plain_attribute
from kam_policy.engine.context import EvalContext
from kam_policy.engine.declarations import Declarations, did_you_mean
from kam_policy.engine.params import ParamValue
from kam_policy.engine.types import (
    ANY,
    BOOL,
    DATETIME,
    LITERAL_TYPES,
    EnumInfo,
    Type,
    enum_type,
    fact_type,
    list_of,
)
from kam_policy.engine.values import human
from kam_policy.errors import Diagnostic
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span

Fn = Callable[[EvalContext, dict[str, Any]], Any]
Scope = dict[str, Type]

_ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Typed:
    """A compiled expression: its type, its closure, and its value if known at compile time."""

    type: Type
    fn: Fn
    const: bool = False
    value: Any = None
    candidates: tuple[Any, ...] | None = None  # the values a parameter lookup can give
    origin: str | None = None  # the parameter those values come from
    code: str | None = None  # a Python expression of ctx and env (engine/codegen.py), if given


def constant(value: Any, kind: Type) -> Typed:
    return Typed(kind, lambda ctx, env: value, True, value)


@dataclass
class CompileState:
    """What the compiler learns while walking one rule, table or function."""

    reads: set[str] = field(default_factory=set)  # conclusion names read
    calls: set[str] = field(default_factory=set)  # defined functions and tables called


class ExprCompiler:
    """Types and compiles expressions; collects diagnostics instead of raising."""

    def __init__(self, decls: Declarations, params: dict[str, ParamValue],
                 diagnostics: list[Diagnostic]) -> None:
        self.decls = decls
        self.params = params
        self.diagnostics = diagnostics
        self.functions: dict[str, Callable[[str, Sequence[ast.Arg], Scope, Span], Typed]] = {}
        self.tables: dict[str, Any] = {}  # name -> CompiledTable, once compiled
        self._calendar: dict[str, business.Calendar | None] = {}
        self.state = CompileState()
        self._sites = 0
        self.namespace = Namespace()
        self.generating = False  # give expressions code (rules and defines, not table cells)

    def code(self, typed: Typed) -> str:
        """The Python expression computing ``typed`` (compiled while ``generating``): its own
        code or its constant value."""
        if typed.code is not None:
            return typed.code
        if typed.const:
            return self.namespace.literal(typed.value)
        raise AssertionError("compile() gives every non-constant expression its code")

    def temp(self) -> str:
        return self.namespace.temp()

    def const(self, value: Any) -> str:
        return self.namespace.const(value)

    # ---- helpers ---------------------------------------------------------------------------
    @contextmanager
    def quiet(self, generating: bool = False) -> Iterator[None]:
        """Compile again something already checked (tracer operands, index keys; with
        ``generating``, code for a table's cells) without reporting its diagnostics again."""
        saved, was_generating = self.diagnostics, self.generating
        self.diagnostics, self.generating = [], generating
        try:
            yield
        finally:
            self.diagnostics, self.generating = saved, was_generating

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None) -> Typed:
        self.diagnostics.append(Diagnostic(code, message, span, hint))
        return constant(None, ANY)

    def new_site(self) -> int:
        self._sites += 1
        return self._sites

    def enum(self, kind: Type) -> EnumInfo | None:
        return self.decls.enums.get(kind.name or "") if kind.kind == "enum" else None

    def compile(self, node: ast.Expr, scope: Scope) -> Typed:
        """Type and compile ``node`` with the local bindings of ``scope``."""
        method = getattr(self, f"visit_{type(node).__name__}")
        result: Typed = method(node, scope)
        if self.generating and result.code is None and not result.const:
            # no code of its own: generated code calls the closure with the bindings in scope
            call = f"{self.const(result.fn)}(ctx, {env_code(scope)})"
            result = replace(result, code=call)
        return result

    def condition(self, node: ast.Expr, scope: Scope) -> Typed:
        """Compile a condition: it must be a boolean."""
        typed = self.compile(node, scope)
        if typed.type.kind not in ("bool", "any", "null"):
            return self.error("check.not-boolean", f"a condition must be true or false, but this "
                              f"is {typed.type}", node.span,
                              "compare it with something, e.g. '... > 0' or '... is not null'")
        return typed

    # ---- atoms -----------------------------------------------------------------------------
    def visit_Literal(self, node: ast.Literal, scope: Scope) -> Typed:
        return constant(node.value, LITERAL_TYPES[node.kind])

    def visit_Name(self, node: ast.Name, scope: Scope) -> Typed:
        name = node.id
        if name in scope:
            return Typed(scope[name], lambda ctx, env: env[name], code=binding(name))
        if name == "now":
            return Typed(DATETIME, lambda ctx, env: ctx.now, code="ctx.now")
        if name in self.params:
            param = self.params[name]
            return Typed(param.type, lambda ctx, env: param.value, True, param.value,
                         origin=name)
        if self.decls.enums_with(name):
            return constant(name, Type("symbol", name))
        if name in self.decls.facts:
            return self.error("check.bad-use", f"'{name}' is a fact type, not a value", node.span,
                              f"look a record up by id, e.g. {name}[x.{name.lower()}_id], or "
                              f"count them with count(x in {name} where ...)")
        candidates = [*scope, *self.params, "now", *self.decls.members]
        return self.error("check.unknown-name", f"unknown name '{name}'", node.span,
                          did_you_mean(name, candidates)
                          or "declare it with 'param' or bind it with 'let'")

    def visit_ListExpr(self, node: ast.ListExpr, scope: Scope) -> Typed:
        items = [self.compile(item, scope) for item in node.items]
        item_type = self._common_type([i.type for i in items], node.span)
        if all(i.const for i in items):
            return constant(tuple(i.value for i in items), list_of(item_type))
        fns = [i.fn for i in items]
        code = f"({''.join(self.code(i) + ', ' for i in items)})" if self.generating else None
        return Typed(list_of(item_type), lambda ctx, env: tuple(f(ctx, env) for f in fns),
                     code=code)

    def visit_MapExpr(self, node: ast.MapExpr, scope: Scope) -> Typed:
        return self.error("check.bad-use", "a map can only be written as a parameter's value",
                          node.span, "declare it with 'param name = {...}'")

    def _common_type(self, kinds: list[Type], span: Span) -> Type:
        known = [k for k in kinds if k.kind not in ("any", "null")]
        if not known:
            return ANY
        enums = [k for k in known if k.kind == "enum"]
        if enums:
            return enums[0]
        first = known[0]
        if first.kind == "symbol":
            return Type("symbol")
        for other in known[1:]:
            if other.kind != first.kind:
                self.error("check.type-mismatch", f"a list mixes {first} and {other}", span)
                return ANY
        return first

    # ---- fields, lookups -------------------------------------------------------------------
    def visit_Attr(self, node: ast.Attr, scope: Scope) -> Typed:
        obj = self.compile(node.obj, scope)
        kind, name = obj.type, node.name
        if kind.kind == "fact":
            return self._fact_field(obj, kind.name or "", name, node)
        if kind.kind == "conclusion":
            return self._conclusion_field(obj, kind.name or "", name, node)
        if kind.kind == "map":
            return self._map_lookup(obj, constant(name, Type("symbol", name)), node)
        if kind.kind == "record":
            return self._record_field(obj, kind.name or "", name, node)
        if kind.kind == "any":
            return constant(None, ANY)
        return self.error("check.unknown-field", f"{kind} has no fields", node.span)

    def _fact_field(self, obj: Typed, fact: str, name: str, node: ast.Attr) -> Typed:
        fields = self.decls.facts.get(fact, {})
        info = fields.get(name)
        if info is None:
            hint = did_you_mean(name, fields) or f"fields of {fact}: {', '.join(fields)}"
            return self.error("check.unknown-field", f"fact '{fact}' has no field '{name}'",
                              node.span, hint)
        if info.type.kind == "unsupported":
            return self.error("check.unsupported-field", f"field {fact}.{name} has a type rules "
                              f"cannot use: {info.type.name}", node.span,
                              "fact fields are text, Decimal, int, bool, date, datetime, enums, "
                              "and lists and dicts of these")
        get = obj.fn

        def field_of(ctx: EvalContext, env: dict[str, Any]) -> Any:
            record = get(ctx, env)
            return None if record is None else getattr(record, name)

        code = self._attribute(obj, name) if self.generating and plain_attribute(name) else None
        return Typed(info.type, field_of, code=code)

    def _attribute(self, obj: Typed, tail: str) -> str:
        """Code for ``obj.tail`` (``tail`` is generated, never rule-file text); null if obj
        is null."""
        if _present(obj):
            return f"{self.code(obj)}.{tail}"
        held = self.temp()
        return f"(None if ({held} := {self.code(obj)}) is None else {held}.{tail})"

    def _conclusion_field(self, obj: Typed, conclusion: str, name: str, node: ast.Attr) -> Typed:
        decl = self.decls.conclusions[conclusion]
        get = obj.fn
        if name == "subject":
            def subject_of(ctx: EvalContext, env: dict[str, Any]) -> Any:
                found = get(ctx, env)
                return None if found is None else found.subject

            code = self._attribute(obj, "subject") if self.generating else None
            return Typed(fact_type(decl.about), subject_of, code=code)
        fields = {f.name: f for f in decl.fields}
        if name not in fields:
            hint = did_you_mean(name, [*fields, "subject"]) or \
                f"values of {conclusion}: {', '.join([*fields, 'subject'])}"
            return self.error("check.unknown-field", f"conclusion '{conclusion}' has no value "
                              f"'{name}'", node.span, hint)

        def value_of(ctx: EvalContext, env: dict[str, Any]) -> Any:
            found = get(ctx, env)
            return None if found is None else found.values.get(name)

        with self.quiet():  # declared types are checked once, with the declaration
            kind = self.written_type(fields[name].type)
        code = self._attribute(obj, f"values.get({name!r})") if self.generating else None
        return Typed(kind, value_of, code=code)

    def _record_field(self, obj: Typed, table: str, name: str, node: ast.Attr) -> Typed:
        outputs = {f.name: f for f in self.decls.tables[table].outputs}
        if name not in outputs:
            return self.error("check.unknown-field", f"table '{table}' has no output '{name}'",
                              node.span, did_you_mean(name, outputs)
                              or f"its outputs: {', '.join(outputs)}")
        get = obj.fn

        def output_of(ctx: EvalContext, env: dict[str, Any]) -> Any:
            record = get(ctx, env)
            return None if record is None else record.get(name)

        code = self._attribute(obj, f"get({name!r})") if self.generating else None
        return Typed(self.written_type(outputs[name].type), output_of, code=code)

    def visit_Index(self, node: ast.Index, scope: Scope) -> Typed:
        if isinstance(node.obj, ast.Name) and node.obj.id not in scope \
                and node.obj.id in self.decls.facts:
            return self._lookup_by_id(node.obj.id, node, scope)
        obj = self.compile(node.obj, scope)
        key = self.compile(node.key, scope)
        if obj.type.kind == "map":
            return self._map_lookup(obj, key, node)
        if obj.type.kind == "any":
            return constant(None, ANY)
        return self.error("check.type-mismatch", f"{obj.type} cannot be indexed with [...]",
                          node.span, "only maps (tables of values) and fact types take [...]")

    def _lookup_by_id(self, fact: str, node: ast.Index, scope: Scope) -> Typed:
        if self.decls.schema[fact].id_field is None:
            return self.error("check.bad-use", f"{fact} records have no id to look up",
                              node.span, f"find them with exists(x in {fact} where ...)")
        key = self.compile(node.key, scope)
        if key.type.kind not in ("text", "any", "null"):
            return self.error("check.type-mismatch", f"{fact}[...] takes an id (text), not "
                              f"{key.type}", node.key.span)
        get = key.fn

        def lookup(ctx: EvalContext, env: dict[str, Any]) -> Any:
            return ctx.by_id(fact).get(get(ctx, env))

        code = f"ctx.by_id({fact!r}).get({self.code(key)})" if self.generating else None
        return Typed(fact_type(fact), lookup, code=code)

    def _map_lookup(self, obj: Typed, key: Typed, node: ast.Attr | ast.Index) -> Typed:
        value_type = obj.type.args[1]
        self._check_keys(obj, key, node)
        if obj.const and key.const:
            return constant(None if obj.value is None else obj.value.get(key.value), value_type)
        get_obj, get_key = obj.fn, key.fn

        def lookup(ctx: EvalContext, env: dict[str, Any]) -> Any:
            mapping = get_obj(ctx, env)
            return None if mapping is None else mapping.get(get_key(ctx, env))

        candidates = None
        if obj.const and isinstance(obj.value, dict):
            candidates = tuple(obj.value.values())
        elif obj.candidates is not None:
            candidates = tuple(v for m in obj.candidates if isinstance(m, dict)
                               for v in m.values())
        code = None
        if self.generating:
            code = self._attribute(obj, f"get({self.code(key)})")
        return Typed(value_type, lookup, candidates=candidates, origin=obj.origin, code=code)

    def _check_keys(self, obj: Typed, key: Typed, node: ast.Attr | ast.Index) -> None:
        info = self.enum(key.type) or self.enum(obj.type.args[0])
        if info is None:
            return
        if key.const and key.value is not None and key.value not in info.members:
            self._not_member(str(key.value), info, node.span)
        if obj.const and isinstance(obj.value, dict):
            for bad in [k for k in obj.value if k not in info.members]:
                self._not_member(bad, info, node.span, "key of this map")

    def _not_member(self, value: str, info: EnumInfo, span: Span, what: str = "") -> None:
        hint = did_you_mean(value, info.members) or f"{info.name} is one of: " + \
            ", ".join(info.members)
        label = f"{what} " if what else ""
        self.diagnostics.append(Diagnostic(
            "check.enum-member", f"{label}'{value}' is not a {info.name}", span, hint))

    # ---- operators -------------------------------------------------------------------------
    def visit_Unary(self, node: ast.Unary, scope: Scope) -> Typed:
        if node.op == "not":
            operand = self.condition(node.operand, scope)
            get = operand.fn
            code = f"(not {self.code(operand)})" if self.generating else None
            return Typed(BOOL, lambda ctx, env: not get(ctx, env), code=code)
        operand = self.compile(node.operand, scope)
        if operand.type.kind not in ("number", "duration", "any", "null"):
            return self.error("check.type-mismatch", f"cannot negate {operand.type}", node.span)
        if operand.const:
            return constant(exact.neg(operand.value), operand.type)
        get = operand.fn
        code = f"{self.const(exact.neg)}({self.code(operand)})" if self.generating else None
        return Typed(operand.type, lambda ctx, env: exact.neg(get(ctx, env)), code=code)

    def visit_Binary(self, node: ast.Binary, scope: Scope) -> Typed:
        left = self.compile(node.left, scope)
        right = self.compile(node.right, scope)
        if node.op == "??":
            return self._coalesce(left, right, node)
        if "business" in (left.type.kind, right.type.kind):
            return self._business_shift(node, left, right)
        from kam_policy.engine.operators import arithmetic

        result = arithmetic(node.op, left.type, right.type)
        if isinstance(result, str):
            return self.error("check.type-mismatch", result, node.span)
        kind, impl = result
        if left.const and right.const:
            return constant(impl(left.value, right.value), kind)
        lf, rf = left.fn, right.fn
        code = f"{self.const(impl)}({self.code(left)}, {self.code(right)})" \
            if self.generating else None
        return Typed(kind, lambda ctx, env: impl(lf(ctx, env), rf(ctx, env)), code=code)

    def _business_shift(self, node: ast.Binary, left: Typed, right: Typed) -> Typed:
        """``moment + 4 business_hours`` (or ``-``): working time under ``business_calendar``."""
        moment, amount = (right, left) if left.type.kind == "business" else (left, right)
        if node.op not in ("+", "-") or moment.type.kind not in ("datetime", "any", "null") or (
                node.op == "-" and moment is right):
            return self.error("check.type-mismatch", f"cannot compute {left.type} {node.op} "
                              f"{right.type}", node.span, "working time moves a datetime: "
                              "write start + 4 business_hours, and compare moments")
        calendar = self.business_calendar(node.span)
        if calendar is None:
            return Typed(DATETIME, lambda ctx, env: None)
        sign = -1 if node.op == "-" else 1
        get_moment, get_amount = moment.fn, amount.fn

        def shifted(ctx: EvalContext, env: dict[str, Any]) -> Any:
            start, working = get_moment(ctx, env), get_amount(ctx, env)
            if start is None or working is None:
                return None
            return business.add_business(start, working, calendar, sign)

        return Typed(DATETIME, shifted)

    def business_calendar(self, span: Span) -> business.Calendar | None:
        """The calendar of ``business_calendar``, checked; a diagnostic if it is missing or
        wrong."""
        if business.CALENDAR_PARAM in self._calendar:  # checked once, reported once
            return self._calendar[business.CALENDAR_PARAM]
        self._calendar[business.CALENDAR_PARAM] = found = self._check_calendar(span)
        return found

    def _check_calendar(self, span: Span) -> business.Calendar | None:
        param = self.params.get(business.CALENDAR_PARAM)
        if param is None:
            self.error("check.no-calendar", "working time needs a calendar", span,
                       f'declare one: param {business.CALENDAR_PARAM} = {{zone: "Asia/Shanghai", '
                       'hours: "09:00-12:00, 13:00-18:00", rest_days: "saturday, sunday"}')
            return None
        try:
            return business.calendar_from(param.value if isinstance(param.value, dict) else {})
        except business.CalendarError as error:
            self.error("check.bad-calendar", f"{business.CALENDAR_PARAM}: {error}", param.span)
            return None

    def _coalesce(self, left: Typed, right: Typed, node: ast.Binary) -> Typed:
        kind = left.type if left.type.kind not in ("null", "any") else right.type
        if not self._comparable(left.type, right.type):
            return self.error("check.type-mismatch", f"the default after '??' must have the same "
                              f"type: {left.type} ?? {right.type}", node.span)
        lf, rf = left.fn, right.fn

        def coalesce(ctx: EvalContext, env: dict[str, Any]) -> Any:
            value = lf(ctx, env)
            return rf(ctx, env) if value is None else value

        code = None
        if self.generating:
            held = self.temp()
            code = f"({self.code(right)} if ({held} := {self.code(left)}) is None else {held})"
        return Typed(kind, coalesce, code=code)

    def _comparable(self, a: Type, b: Type) -> bool:
        if "any" in (a.kind, b.kind) or "null" in (a.kind, b.kind):
            return True
        if a.kind == "enum" and b.kind in ("symbol", "text"):
            return True
        if b.kind == "enum" and a.kind in ("symbol", "text"):
            return True
        if a.kind == "symbol" and b.kind == "symbol":
            return True
        if a.kind != b.kind:
            return False
        return a.kind != "enum" or a.name == b.name

    def visit_Compare(self, node: ast.Compare, scope: Scope) -> Typed:
        left = self.compile(node.left, scope)
        right = self.compile(node.right, scope)
        if node.op in ("in", "not in"):
            return self._membership(left, right, node)
        if not self._comparable(left.type, right.type):
            return self.error("check.type-mismatch", f"cannot compare {left.type} with "
                              f"{right.type}", node.span, self._compare_hint(left.type, right.type))
        info = self.enum(left.type) or self.enum(right.type)
        if info is not None:
            for side in (left, right):
                if side.const and side.value is not None and side.value not in info.members:
                    self._not_member(str(side.value), info, self._side_span(node, side is left))
                for value in side.candidates or ():
                    if isinstance(value, str) and value not in info.members:
                        self._not_member(value, info, self._side_span(node, side is left),
                                         f"a value of parameter '{side.origin}':")
        if node.op in ("==", "!="):
            return self._equality(node.op, left, right)
        return self._ordering(node, left, right, info)

    def _side_span(self, node: ast.Compare, is_left: bool) -> Span:
        return node.left.span if is_left else node.right.span

    def _compare_hint(self, a: Type, b: Type) -> str | None:
        kinds = {a.kind, b.kind}
        if kinds == {"date", "datetime"}:
            return "use date(x) to compare a datetime with a date"
        if kinds == {"duration", "number"}:
            return "write the number as a duration: 4h, 30d, or days(n)"
        if "business" in kinds:
            return "working time moves a datetime: compare moments, e.g. " \
                   "now > c.opened_at + 4 business_hours"
        if "text" in kinds and "number" in kinds:
            return "numbers are written without quotes"
        return None

    def _equality(self, op: str, left: Typed, right: Typed) -> Typed:
        lf, rf = left.fn, right.fn
        code = f"({self.code(left)} {op} {self.code(right)})" if self.generating else None
        if op == "==":
            return Typed(BOOL, lambda ctx, env: lf(ctx, env) == rf(ctx, env), code=code)
        return Typed(BOOL, lambda ctx, env: lf(ctx, env) != rf(ctx, env), code=code)

    def _ordering(self, node: ast.Compare, left: Typed, right: Typed,
                  info: EnumInfo | None) -> Typed:
        compare = _ORDERING[node.op]
        kind = left.type if left.type.kind not in ("any", "null", "symbol") else right.type
        if kind.kind == "business":
            return self.error("check.not-ordered", "working time has no order of its own",
                              node.span, "compare moments instead, e.g. "
                              "now > c.opened_at + 4 business_hours")
        if kind.kind in ("bool", "list", "map", "fact", "conclusion") or (
                kind.kind == "symbol"):
            return self.error("check.not-ordered", f"{kind} values have no order", node.span)
        lf, rf = left.fn, right.fn
        left_code = self.code(left) if self.generating else ""
        right_code = self.code(right) if self.generating else ""
        if info is not None:
            if info.rank is None:
                return self.error("check.not-ordered", f"{info.name} is not an ordered enum",
                                  node.span, "compare it with == or in [...]")
            rank = info.rank
            lf, rf = _ranked(lf, rank), _ranked(rf, rank)
            if self.generating:
                ranks = self.const(rank)
                left_code, right_code = f"{ranks}.get({left_code})", f"{ranks}.get({right_code})"

        def ordered(ctx: EvalContext, env: dict[str, Any]) -> bool:
            a = lf(ctx, env)
            if a is None:
                return False
            b = rf(ctx, env)
            return b is not None and compare(a, b)

        code = None
        if self.generating:  # the operator is one of _ORDERING's, never rule-file text
            a, b = self.temp(), self.temp()
            then = f"{a} {node.op} {right_code}" if info is None and _present(right) else \
                f"(({b} := {right_code}) is not None and {a} {node.op} {b})"
            code = f"(False if ({a} := {left_code}) is None else {then})"
        return Typed(BOOL, ordered, code=code)

    def _membership(self, left: Typed, right: Typed, node: ast.Compare) -> Typed:
        container = right.type
        if container.kind == "list" or container.kind == "map":
            item = container.args[0]
        elif container.kind in ("any", "null"):
            item = ANY
        else:
            return self.error("check.type-mismatch", f"'in' needs a list on its right, not "
                              f"{container}", node.right.span)
        if not self._comparable(left.type, item):
            return self.error("check.type-mismatch", f"cannot look for {left.type} in a "
                              f"list of {item}", node.span)
        info = self.enum(left.type)
        if info is not None and right.const and right.value is not None:
            for value in right.value:
                if value is not None and value not in info.members:
                    self._not_member(str(value), info, node.right.span)
        negate = node.op == "not in"
        lf = left.fn
        if right.const:
            members = frozenset(right.value or ())
            code = f"({self.code(left)} {'not in' if negate else 'in'} {self.const(members)})" \
                if self.generating else None
            if negate:
                return Typed(BOOL, lambda ctx, env: lf(ctx, env) not in members, code=code)
            return Typed(BOOL, lambda ctx, env: lf(ctx, env) in members, code=code)
        rf = right.fn

        def member(ctx: EvalContext, env: dict[str, Any]) -> bool:
            value, items = lf(ctx, env), rf(ctx, env)
            if items is None:
                return negate  # nothing is in a missing list
            return (value not in items) if negate else (value in items)

        return Typed(BOOL, member)

    def visit_IsNull(self, node: ast.IsNull, scope: Scope) -> Typed:
        operand = self.compile(node.operand, scope)
        get = operand.fn
        code = None
        if self.generating and operand.const:  # known now (and 'literal is None' warns)
            code = repr((operand.value is None) != node.negated)
        elif self.generating:
            code = f"({self.code(operand)} is {'not ' if node.negated else ''}None)"
        if node.negated:
            return Typed(BOOL, lambda ctx, env: get(ctx, env) is not None, code=code)
        return Typed(BOOL, lambda ctx, env: get(ctx, env) is None, code=code)

    def visit_BoolOp(self, node: ast.BoolOp, scope: Scope) -> Typed:
        operands = [self.condition(v, scope) for v in node.values]
        fns = tuple(o.fn for o in operands)
        code = None
        if self.generating:  # the operator is 'and' or 'or', never other rule-file text
            joined = f" {node.op} ".join(self.code(o) for o in operands)
            code = f"(True if ({joined}) else False)"
        return Typed(BOOL, _all_of(fns) if node.op == "and" else _any_of(fns), code=code)

    def visit_IfExpr(self, node: ast.IfExpr, scope: Scope) -> Typed:
        test = self.condition(node.cond, scope)
        cond = test.fn
        then = self.compile(node.then, scope)
        orelse = self.compile(node.orelse, scope)
        if not self._comparable(then.type, orelse.type):
            return self.error("check.type-mismatch", f"'then' gives {then.type} but 'else' gives "
                              f"{orelse.type}", node.span)
        kind = then.type if then.type.kind not in ("null", "any", "symbol") else orelse.type
        tf, ef = then.fn, orelse.fn
        code = f"({self.code(then)} if {self.code(test)} else {self.code(orelse)})" \
            if self.generating else None
        return Typed(kind, lambda ctx, env: tf(ctx, env) if cond(ctx, env) else ef(ctx, env),
                     code=code)

    # ---- calls -----------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call, scope: Scope) -> Typed:
        if node.func in self.functions:
            return self.functions[node.func](node.func, node.args, scope, node.span)
        builtin = BUILTINS.get(node.func)
        if builtin is None:
            known = [*BUILTINS, *self.functions]
            return self.error("check.unknown-function", f"unknown function '{node.func}'",
                              node.span, did_you_mean(node.func, known))
        if len(node.args) != builtin.arity or any(a.name for a in node.args):
            return self.error("check.arity", f"{builtin.name} takes {builtin.arity} argument"
                              f"{'s' if builtin.arity != 1 else ''}: {builtin.doc}", node.span)
        args = [self.compile(a.value, scope) for a in node.args]
        result = builtin.signature([a.type for a in args])
        if isinstance(result, str):
            return self.error("check.type-mismatch", f"{builtin.name}: {result}", node.span,
                              builtin.doc)
        impl = builtin.impl
        if builtin.name == "text":
            kind, schema = args[0].type, self.decls.schema
            impl = lambda value: None if value is None else human(value, kind, schema)  # noqa: E731
        if all(a.const for a in args):
            return constant(impl(*(a.value for a in args)), result)
        fns = tuple(a.fn for a in args)
        code = f"{self.const(impl)}({', '.join(self.code(a) for a in args)})" \
            if self.generating else None
        if len(fns) == 1:
            only = fns[0]
            return Typed(result, lambda ctx, env: impl(only(ctx, env)), code=code)
        return Typed(result, lambda ctx, env: impl(*(f(ctx, env) for f in fns)), code=code)

    # ---- aggregates ------------------------------------------------------------------------
    def visit_Aggregate(self, node: ast.Aggregate, scope: Scope) -> Typed:
        from kam_policy.engine.aggregates import compile_aggregate

        return compile_aggregate(self, node, scope)

    # ---- written types ---------------------------------------------------------------------
    def written_type(self, written: ast.TypeExpr) -> Type:
        """The type a declaration writes (``decimal(2)``, ``list[text]``, ``Severity``)."""
        from kam_policy.engine.types import PRIMITIVES, map_of

        if written.name == "list":
            return list_of(self.written_type(written.args[0]))
        if written.name == "map":
            return map_of(self.written_type(written.args[0]), self.written_type(written.args[1]))
        if written.name in PRIMITIVES:
            return PRIMITIVES[written.name]
        if written.name in self.decls.enums:
            return enum_type(written.name)
        if written.name in self.decls.facts:
            return fact_type(written.name)
        if written.name in self.decls.conclusions:
            return Type("conclusion", written.name)
        known = [*PRIMITIVES, *self.decls.enums, *self.decls.facts]
        self.error("check.unknown-type", f"unknown type '{written.name}'", written.span,
                   did_you_mean(written.name, known))
        return ANY


def _present(typed: Typed) -> bool:
    """True if ``typed`` is a constant other than null."""
    return typed.const and typed.value is not None


def _all_of(fns: tuple[Fn, ...]) -> Fn:
    if len(fns) == 2:
        first, second = fns
        return lambda ctx, env: bool(first(ctx, env)) and bool(second(ctx, env))

    def all_of(ctx: EvalContext, env: dict[str, Any]) -> bool:
        return all(fn(ctx, env) for fn in fns)

    return all_of


def _any_of(fns: tuple[Fn, ...]) -> Fn:
    if len(fns) == 2:
        first, second = fns
        return lambda ctx, env: bool(first(ctx, env)) or bool(second(ctx, env))

    def any_of(ctx: EvalContext, env: dict[str, Any]) -> bool:
        return any(fn(ctx, env) for fn in fns)

    return any_of


def _ranked(get: Fn, rank: dict[str, int]) -> Fn:
    lookup = rank.get
    return lambda ctx, env: lookup(get(ctx, env))


__all__ = ["ExprCompiler", "Fn", "Scope", "Typed", "constant"]
