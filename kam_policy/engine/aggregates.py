"""Aggregates over facts, conclusions, lists and enums: count, exists, none, all, sum, min,
max and list. An equality test in the filter (``x.client_id == cl.id``) becomes a hash index
built once per decision, so a join costs a lookup instead of a scan."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kam_policy.engine import exact
from kam_policy.engine.codegen import binding, env_code
from kam_policy.engine.declarations import RESERVED_WORDS
from kam_policy.engine.types import ANY, BOOL, NUMBER, Type, enum_type, fact_type, list_of
from kam_policy.grammar import ast

if TYPE_CHECKING:
    from kam_policy.engine.compile_expr import ExprCompiler, Fn, Scope, Typed

Source = Callable[[Any, dict[str, Any]], Sequence[Any]]


def compile_aggregate(compiler: ExprCompiler, node: ast.Aggregate, scope: Scope) -> Typed:
    """Type and compile one aggregate expression."""
    from kam_policy.engine.compile_expr import Typed

    if node.var in RESERVED_WORDS:
        compiler.error("check.reserved-name", f"'{node.var}' is a reserved word", node.span,
                       "choose another name")
    resolved = _source(compiler, node.source, scope)
    if resolved is None:
        return Typed(ANY, lambda ctx, env: None, True, None)
    kind, name, element, items = resolved
    inner = {**scope, node.var: element}
    where = node.where
    if kind in ("fact", "conclusion") and where is not None and node.func != "all":
        indexed = _indexed(compiler, node, kind, name or "", element, where, scope)
        if indexed is not None:
            items, where = indexed
    checked = compiler.condition(where, inner) if where is not None else None
    test = checked.fn if checked is not None else None
    generating = compiler.generating
    # generated: helper(items, per-item lambdas of the variable; outer bindings are closed over)
    found = f"{compiler.const(items)}(ctx, {env_code(scope)})" if generating else ""
    per_item = f"lambda {binding(node.var)}: "
    test_code = f"{per_item}{compiler.code(checked)}" if generating and checked else "None"
    if node.func in ("count", "exists", "none", "all"):
        code = f"{compiler.const(_QUANTIFIERS[node.func])}({found}, {test_code})" \
            if generating else None
        return Typed(NUMBER if node.func == "count" else BOOL,
                     _quantifier(node.func, node.var, items, test), code=code)
    assert node.value is not None
    value = compiler.compile(node.value, inner)
    result_type = _fold_type(compiler, node, value.type)
    finish = _finisher(node.func, value.type, compiler, kind in ("fact", "conclusion"))
    code = None
    if generating:
        collect = f"{compiler.const(_collect)}({found}, {test_code}, " \
                  f"{per_item}{compiler.code(value)})"
        code = f"{compiler.const(finish)}({collect})"
    return Typed(result_type, _fold(node.var, items, test, value.fn, finish), code=code)


def _source(compiler: ExprCompiler, source: ast.Expr,
            scope: Scope) -> tuple[str, str | None, Type, Source] | None:
    if isinstance(source, ast.Name) and source.id not in scope:
        name = source.id
        if name in compiler.decls.facts:
            return "fact", name, fact_type(name), lambda ctx, env: ctx.facts(name)
        if name in compiler.decls.conclusions:
            compiler.state.reads.add(name)
            return ("conclusion", name, Type("conclusion", name),
                    lambda ctx, env: ctx.conclusions.get(name, ()))
        if name in compiler.decls.enums:
            members = compiler.decls.enums[name].members
            return "enum", name, enum_type(name), lambda ctx, env: members
    typed = compiler.compile(source, scope)
    if typed.type.kind in ("list", "map"):
        get = typed.fn
        return ("list", None, typed.type.args[0],
                lambda ctx, env: tuple(get(ctx, env) or ()))
    if typed.type.kind == "any":
        return None
    compiler.error("check.bad-source", f"cannot go through {typed.type}", source.span,
                   "write a fact type (Complaint), a conclusion name (grade), an enum or a list")
    return None


def _indexed(compiler: ExprCompiler, node: ast.Aggregate, kind: str, name: str, element: Type,
             where: ast.Expr, scope: Scope) -> tuple[Source, ast.Expr | None] | None:
    """Every ``x.path == outer`` conjunct becomes part of one composite hash key."""
    conjuncts = list(where.values) if isinstance(where, ast.BoolOp) and where.op == "and" \
        else [where]
    keys: list[Fn] = []
    probes: list[Fn] = []
    rest: list[ast.Expr] = []
    for test in conjuncts:
        split = _equality_on_var(test, node.var)
        if split is None:
            rest.append(test)
            continue
        compiler.condition(test, {**scope, node.var: element})  # type-check the test itself
        with compiler.quiet():  # its two sides, checked just above, become key and probe
            keys.append(compiler.compile(split[0], {node.var: element}).fn)
            probes.append(compiler.compile(split[1], scope).fn)
    if not keys:
        return None
    remaining: ast.Expr | None = None
    if len(rest) == 1:
        remaining = rest[0]
    elif rest:
        remaining = ast.BoolOp("and", tuple(rest), where.span)
    return _index_source(compiler.new_site(), kind, name, node.var, keys, probes), remaining


def _index_source(site: int, kind: str, name: str, var: str, keys: list[Fn],
                  probes: list[Fn]) -> Source:
    if len(keys) == 1:
        key, probe = keys[0], probes[0]

        def one(ctx: Any, env: dict[str, Any]) -> Sequence[Any]:
            table = ctx.index(site, kind, name, lambda item: key(ctx, {var: item}))
            found: Sequence[Any] = table.get(probe(ctx, env), ())
            return found

        return one
    key_fns, probe_fns = tuple(keys), tuple(probes)

    def composite(ctx: Any, env: dict[str, Any]) -> Sequence[Any]:
        def key_of(item: Any) -> tuple[Any, ...]:
            local = {var: item}
            return tuple(k(ctx, local) for k in key_fns)

        table = ctx.index(site, kind, name, key_of)
        found: Sequence[Any] = table.get(tuple(p(ctx, env) for p in probe_fns), ())
        return found

    return composite


def _equality_on_var(test: ast.Expr, var: str) -> tuple[ast.Expr, ast.Expr] | None:
    if not isinstance(test, ast.Compare) or test.op != "==":
        return None
    for key_side, probe_side in ((test.left, test.right), (test.right, test.left)):
        if _is_path_of(key_side, var) and not _mentions(probe_side, var):
            return key_side, probe_side
    return None


def _is_path_of(expr: ast.Expr, var: str) -> bool:
    while isinstance(expr, ast.Attr):
        expr = expr.obj
    return isinstance(expr, ast.Name) and expr.id == var


def _mentions(expr: ast.Node, var: str) -> bool:
    if isinstance(expr, ast.Name):
        return expr.id == var
    for value in vars(expr).values():
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, ast.Node) and _mentions(child, var):
                return True
    return False


def _quantifier(func: str, var: str, items: Source, test: Fn | None) -> Fn:
    """The closure of count/exists/none/all: the same loops as generated code runs
    (``_QUANTIFIERS``), the test seeing the outer bindings and the variable."""
    quantify = _QUANTIFIERS[func]

    def quantified(ctx: Any, env: dict[str, Any]) -> Any:
        return quantify(items(ctx, env), _one_argument(ctx, env, var, test))

    return quantified


def _fold_type(compiler: ExprCompiler, node: ast.Aggregate, value: Type) -> Type:
    if node.func == "list":
        return list_of(value)
    if node.func == "sum" and value.kind not in ("number", "duration", "any", "null"):
        compiler.error("check.type-mismatch", f"sum needs numbers or durations, not {value}",
                       node.span)
        return ANY
    return value


def _fold(var: str, items: Source, test: Fn | None, value: Fn,
          finish: Callable[[list[Any]], Any]) -> Fn:
    """The closure of list/sum/min/max: ``_collect`` as generated code runs it, then ``finish``."""
    def fold(ctx: Any, env: dict[str, Any]) -> Any:
        return finish(_collect(items(ctx, env), _one_argument(ctx, env, var, test),
                               _with_item(ctx, env, var, value)))

    return fold


def _one_argument(ctx: Any, env: dict[str, Any], var: str, test: Fn | None) -> Test:
    """``test`` as a function of the item alone (None stays None)."""
    return None if test is None else _with_item(ctx, env, var, test)


def _with_item(ctx: Any, env: dict[str, Any], var: str, fn: Fn) -> Callable[[Any], Any]:
    """``fn`` of the outer bindings and ``var`` bound to the item, as a function of the item."""
    local = dict(env)

    def of_item(item: Any) -> Any:
        local[var] = item
        return fn(ctx, local)

    return of_item


def _finisher(func: str, value_type: Type, compiler: ExprCompiler,
              sort_list: bool) -> Callable[[list[Any]], Any]:
    """The values of the items that pass -> the result of list, sum, min or max."""
    info = compiler.enum(value_type)
    rank = info.rank if info is not None else None
    if func == "list":
        if sort_list:
            return lambda values: tuple(sorted(values, key=_canonical))
        return tuple
    if func == "sum":
        def total(values: list[Any]) -> Any:
            result: Any = 0
            for item in values:
                if item is not None:
                    result = exact.add(result, item)
            return result

        return total
    pick = min if func == "min" else max

    def extreme(values: list[Any]) -> Any:
        present = [v for v in values if v is not None]
        if rank is not None:
            present = [v for v in present if v in rank]
            return pick(present, key=rank.__getitem__) if present else None
        return pick(present) if present else None

    return extreme


# ---- for generated code: the same loops over one-argument tests and values ----------------

Test = Callable[[Any], Any] | None


def _count(found: Sequence[Any], test: Test) -> int:
    if test is None:
        return len(found)
    total = 0
    for item in found:
        if test(item):
            total += 1
    return total


def _exists(found: Sequence[Any], test: Test) -> bool:
    if test is None:
        return bool(found)
    return any(test(item) for item in found)


def _none(found: Sequence[Any], test: Test) -> bool:
    return not _exists(found, test)


def _all(found: Sequence[Any], test: Test) -> bool:
    if test is not None:
        for item in found:
            if not test(item):
                return False
    return True


_QUANTIFIERS: dict[str, Callable[[Sequence[Any], Test], Any]] = {
    "count": _count, "exists": _exists, "none": _none, "all": _all}


def _collect(found: Sequence[Any], test: Test, value: Callable[[Any], Any]) -> list[Any]:
    return [value(item) for item in found if test is None or test(item)]


def _canonical(value: Any) -> tuple[Any, ...]:
    """Order values independently of fact order: numbers by value, texts naturally."""
    if isinstance(value, int | float) or type(value).__name__ in ("Decimal", "Fraction"):
        return (0, value, "")
    return (1, 0, tuple((0, int(p), "") if p and p.isascii() and p.isdigit() else (1, 0, p)
                        for p in re.split(r"([0-9]+)", str(value))))
