"""Calls to decision tables and defined functions: arity, argument types, and the closures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kam_policy.engine.codegen import binding
from kam_policy.engine.compile_expr import CompileState, ExprCompiler, Fn, Scope, Typed, constant
from kam_policy.engine.conversions import check_assignable
from kam_policy.engine.memo import memoised
from kam_policy.engine.tables import CompiledTable, compile_table
from kam_policy.engine.types import ANY, Type
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span

Run = Callable[[Any, tuple[Any, ...]], Any]  # run(ctx, argument values)


@dataclass
class Callable_:
    """A table or defined function, compiled on first use (so definition order is free)."""

    node: ast.Table | ast.Define
    params: list[tuple[str, Type]] = field(default_factory=list)
    result: Type = ANY
    body: Fn | None = None
    table: CompiledTable | None = None
    reads: set[str] = field(default_factory=set)
    state: str = "new"  # new -> compiling -> done
    run: Run | None = None  # run(ctx, argument values), once compiled
    generated: Callable[..., Any] | None = None  # a define as Python: fn(ctx, *arguments)
    fast: Callable[..., Any] | None = None  # what generated call sites call: fast(ctx, *args)
    sites: set[Span] = field(default_factory=set)  # where it is called from


class FunctionRegistry:
    """Compiles tables and defines lazily, detects recursion, and compiles calls to them."""

    def __init__(self, compiler: ExprCompiler) -> None:
        self.compiler = compiler
        self.entries: dict[str, Callable_] = {}
        nodes: list[ast.Table | ast.Define] = [*compiler.decls.tables.values(),
                                               *compiler.decls.defines.values()]
        for node in nodes:
            self.entries[node.name] = Callable_(node)
            compiler.functions[node.name] = self.call

    def compile_all(self) -> dict[str, CompiledTable]:
        """Compile every table and function, called or not, so all errors are found."""
        for name in self.entries:
            self._ensure(name, None)
        return {n: e.table for n, e in self.entries.items() if e.table is not None}

    def _ensure(self, name: str, span: Span | None) -> Callable_:
        entry = self.entries[name]
        if entry.state == "compiling":
            self.compiler.error("check.cycle", f"'{name}' calls itself (directly or through "
                                "other functions)", span or entry.node.span,
                                "a function or table may not depend on itself")
            return entry
        if entry.state == "new":
            entry.state = "compiling"
            saved = self.compiler.state
            self.compiler.state = CompileState()
            if isinstance(entry.node, ast.Table):
                self._compile_table(entry, entry.node)
            else:
                self._compile_define(entry, entry.node)
            entry.reads = set(self.compiler.state.reads)
            self.compiler.state = saved
            entry.state = "done"
            entry.fast = _fast_runner(entry)
            entry.run = _runner(entry)  # calls entry.fast when no tracer listens
        return entry

    def _compile_table(self, entry: Callable_, node: ast.Table) -> None:
        with self.compiler.quiet():  # compile_table reports these types' problems
            entry.params = [(f.name, self.compiler.written_type(f.type)) for f in node.inputs]
        generating, self.compiler.generating = self.compiler.generating, False
        try:  # a table's cells run through its own evaluator, not generated code
            entry.table = compile_table(self.compiler, node)
        finally:
            self.compiler.generating = generating
        self.compiler.tables[node.name] = entry.table
        entry.result = entry.table.result_type
        table = entry.table
        entry.body = lambda ctx, env: table.evaluate(ctx, tuple(env.values()))

    def _compile_define(self, entry: Callable_, node: ast.Define) -> None:
        entry.params = [(p.name, self.compiler.written_type(p.type)) for p in node.params]
        compiler = self.compiler
        generating, compiler.generating = compiler.generating, True
        try:
            typed = compiler.compile(node.body, dict(entry.params))
            names = [name for name, _ in entry.params]
            if len(set(names)) == len(names):  # else reported; nothing will run
                params = "".join(f", {binding(name)}" for name in names)
                entry.generated = compiler.namespace.function(
                    "define", f"ctx{params}", [f"return {compiler.code(typed)}"])
        finally:
            compiler.generating = generating
        entry.body = typed.fn
        entry.result = typed.type

    def call(self, name: str, args: Sequence[ast.Arg], scope: Scope, span: Span) -> Typed:
        """Compile ``name(args)``: positional or named arguments, checked against the params."""
        entry = self._ensure(name, span)
        self.compiler.state.reads |= entry.reads
        self.compiler.state.calls.add(name)
        if span not in entry.sites:
            entry.sites.add(span)
            # a second call site makes a define worth remembering
            entry.fast = _fast_runner(entry)
            entry.run = _runner(entry)  # calls entry.fast when no tracer listens
        ordered = self._bind(name, entry, args, span)
        if ordered is None:
            return constant(None, ANY)
        fns = []
        codes = []
        for (param, kind), arg in zip(entry.params, ordered, strict=True):
            typed = self.compiler.compile(arg.value, scope)
            check_assignable(self.compiler, typed, kind, arg.span, f"argument '{param}'")
            fns.append(typed.fn)
            if self.compiler.generating:
                codes.append(self.compiler.code(typed))
        code = None
        if self.compiler.generating:  # entry.fast is set by the time anything runs
            code = f"{self.compiler.const(entry)}.fast(ctx{''.join(', ' + c for c in codes)})"
        return Typed(entry.result, _invoke(entry, fns), code=code)

    def _bind(self, name: str, entry: Callable_, args: Sequence[ast.Arg],
              span: Span) -> list[ast.Arg] | None:
        names = [p for p, _ in entry.params]
        signature = f"{name}({', '.join(names)})"
        if len(args) != len(names):
            self.compiler.error("check.arity", f"{signature} takes {len(names)} argument"
                                f"{'s' if len(names) != 1 else ''}, given {len(args)}", span)
            return None
        if not any(a.name for a in args):
            return list(args)
        if not all(a.name for a in args):
            self.compiler.error("check.arity", f"{signature}: give every argument by name or "
                                "none", span, "e.g. f(a: 1, b: 2) or f(1, 2)")
            return None
        by_name = {a.name: a for a in args}
        unknown = [a.name for a in args if a.name not in names]
        if unknown or len(by_name) != len(args):
            self.compiler.error("check.arity", f"{signature} has no argument "
                                f"'{(unknown or ['?'])[0]}'", span)
            return None
        return [by_name[n] for n in names]


def _runner(entry: Callable_) -> Run | None:
    """How a call from a closure runs on its argument values: with a tracer, step by step (a
    table takes them as they are, a define binds them to its parameters); without one, as
    generated code does (``_fast_runner``)."""
    table, body = entry.table, entry.body
    if table is not None:
        def run(ctx: Any, args: tuple[Any, ...]) -> Any:
            return table.evaluate(ctx, args)
    elif body is not None and len(entry.params) == 1:
        name = entry.params[0][0]

        def run(ctx: Any, args: tuple[Any, ...]) -> Any:
            return body(ctx, {name: args[0]})
    elif body is not None:
        names = tuple(p for p, _ in entry.params)

        def run(ctx: Any, args: tuple[Any, ...]) -> Any:
            return body(ctx, dict(zip(names, args, strict=False)))  # arity checked before
    else:
        return None
    fast = entry.fast
    if fast is None:
        return run

    def run_or_fast(ctx: Any, args: tuple[Any, ...]) -> Any:
        if ctx.tracer is not None:  # step by step, so the tracer sees it; nothing remembered
            return run(ctx, args)
        return fast(ctx, *args)

    return run_or_fast


def _worth_remembering(entry: Callable_) -> bool:
    """Scanned tables, and functions called from more than one place, are remembered per
    decision (engine/memo.py), unless they read conclusions (which grow while the decision
    runs): a scanned table repeats its inputs often (three booleans), an indexed one is a dict
    lookup already, and a define called from one place rarely sees the same arguments twice."""
    table = entry.table
    worth_it = (table is not None and table.index is None) or len(entry.sites) > 1
    return worth_it and not entry.reads


def _fast_runner(entry: Callable_) -> Callable[..., Any] | None:
    """What generated code (and ``run`` without a tracer) calls: ``fast(ctx, *arguments)``,
    remembered per decision where worth it."""
    table, generated = entry.table, entry.generated
    if table is not None and table.fast is not None:
        fast = table.fast
    elif table is not None:
        def fast(ctx: Any, *args: Any) -> Any:
            return table.evaluate(ctx, args)
    elif generated is not None:
        fast = generated
    else:
        return None
    if _worth_remembering(entry):
        return memoised(entry.node.name, fast, len(entry.params))
    return fast


def _invoke(entry: Callable_, fns: list[Fn]) -> Fn:
    """A call site: evaluate the arguments, then run the function (None while it is still
    being compiled, which only a reported cycle can observe)."""
    if len(fns) == 1:
        only = fns[0]

        def invoke_one(ctx: Any, env: dict[str, Any]) -> Any:
            run = entry.run
            return None if run is None else run(ctx, (only(ctx, env),))

        return invoke_one
    if len(fns) == 2:
        first, second = fns

        def invoke_two(ctx: Any, env: dict[str, Any]) -> Any:
            run = entry.run
            return None if run is None else run(ctx, (first(ctx, env), second(ctx, env)))

        return invoke_two
    arguments = tuple(fns)

    def invoke(ctx: Any, env: dict[str, Any]) -> Any:
        run = entry.run
        return None if run is None else run(ctx, tuple([fn(ctx, env) for fn in arguments]))

    return invoke
