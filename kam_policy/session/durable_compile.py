"""Policy rules -> durable_rules rule definitions: each rule's conditions as alternatives (DNF)
of tests on one fact's fields and on ``now``; every rule that cannot be expressed is named.

A rule the durable_rules backend runs goes through one fact type (``for c in Complaint``), and
its conditions are ``and``/``or``/``not`` of comparisons whose sides are fields of ``c``,
constants, parameters, ``now``, and sums or differences of these (``now - c.opened_at >
response_limit[c.severity]``). A parameter map looked up by a field becomes one alternative per
key. Nulls are explicit: a test holds only when the fields it reads are present, and the
negation of a test says which field may be absent instead — never what durable_rules happens to
do with a missing field. See docs/sessions-durable.md for the list of what is rejected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any

from kam_policy.engine import exact
from kam_policy.engine.builtins import BUILTINS
from kam_policy.engine.compile_expr import ExprCompiler, Typed
from kam_policy.engine.compile_rules import CompiledRule
from kam_policy.engine.policy import Policy
from kam_policy.engine.render import render
from kam_policy.engine.types import EnumInfo, Type, fact_type
from kam_policy.errors import Diagnostic, PolicyError
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span

NOW = "now"  # the message key holding the clock reading a fact was asserted at
MAX_ALTERNATIVES = 64  # per rule: the conditions in disjunctive normal form
MAX_VALUES_PER_FIELD = 500  # durable_rules hangs beyond about 511 values in one alpha node
SAFE_INTEGER = 2**53  # C doubles hold every integer below this exactly
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)

_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_PYTHON = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
           "==": operator.eq, "!=": operator.ne}
_DURABLE = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}


class DurableUnsupportedError(PolicyError):
    """The policy has rules the durable_rules backend cannot run. ``diagnostics`` has one entry
    (code ``durable.unsupported``) per construct, at its place in the rule file."""


# ---- conditions as data ----------------------------------------------------------------------


@dataclass(frozen=True)
class Has:
    """Field ``field`` is present (not null), or absent."""

    field: str
    present: bool


@dataclass(frozen=True)
class Test:
    """``left op right + const`` (``left op const`` without ``right``) on present values.

    ``left`` and ``right`` are field names or ``NOW``; ``const`` is in the test's encoding:
    microseconds for times and durations, day numbers for dates, text, 0/1 for booleans,
    or an exact number.
    """

    left: str
    op: str
    right: str | None
    const: Any
    integral: bool = False  # the values compared are whole numbers (times, dates)

    def fields(self) -> tuple[str, ...]:
        return tuple(f for f in (self.left, self.right) if f is not None and f != NOW)

    @property
    def timed(self) -> bool:
        return self.left == NOW


Atom = Has | Test
Term = frozenset[Atom]
Dnf = frozenset[Term]
TRUE: Dnf = frozenset({frozenset()})
FALSE: Dnf = frozenset()


@dataclass(frozen=True)
class Alternative:
    """One conjunction of a rule's conditions: tests on the fact alone and tests on ``now``."""

    static: tuple[Atom, ...]
    timed: tuple[Test, ...]


@dataclass(frozen=True)
class RulePlan:
    """A rule as the backend runs it: its fact type and its alternatives (any one suffices)."""

    index: int
    rule: CompiledRule
    fact: str
    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class PolicyPlan:
    """Every rule of a policy, translated; ``fields`` are the fields each fact type's tests
    read (only these go into the messages)."""

    rules: tuple[RulePlan, ...]
    fields: Mapping[str, frozenset[str]]
    timed: frozenset[str]  # fact types with tests on now


class _Unsupported(Exception):
    """A construct the backend cannot express, at ``span``."""

    def __init__(self, construct: str, span: Span, hint: str | None = None) -> None:
        super().__init__(construct)
        self.construct = construct
        self.span = span
        self.hint = hint


# ---- DNF algebra -----------------------------------------------------------------------------


def _checked(dnf: Dnf, span: Span) -> Dnf:
    if len(dnf) > MAX_ALTERNATIVES:
        raise _Unsupported(f"a condition with more than {MAX_ALTERNATIVES} alternatives once "
                           "written as or-of-ands", span,
                           "split the rule, or state the condition with fewer or/not groups")
    return dnf


def _simplified(term: Term) -> Term | None:
    """``term`` without the tests others imply, or None if it can never hold."""
    present = {a.field for a in term if isinstance(a, Has) and a.present}
    absent = {a.field for a in term if isinstance(a, Has) and not a.present}
    if present & absent:
        return None
    equal: dict[str, Any] = {}
    bounds: dict[tuple[str, str | None], list[Test]] = {}
    for item in term:
        if not isinstance(item, Test):
            continue
        if absent.intersection(item.fields()):
            return None
        if item.op == "==" and item.right is None \
                and equal.setdefault(item.left, item.const) != item.const:
            return None
        if item.integral:
            bounds.setdefault((item.left, item.right), []).append(item)
    kept = set(term)
    for tests in bounds.values():
        if len(tests) > 1 and not _tighten(tests, kept):
            return None
    read = {name for a in kept if isinstance(a, Test) for name in a.fields()}
    kept.difference_update(Has(name, True) for name in read)  # a test implies its fields
    return frozenset(kept)


def _tighten(tests: list[Test], kept: set[Atom]) -> bool:
    """Keep the tightest bounds of one integral comparison; False if they exclude each other."""
    low = max((_lower(t) for t in tests if t.op in (">", ">=", "==")), default=None)
    high = min((_upper(t) for t in tests if t.op in ("<", "<=", "==")), default=None)
    if low is not None and high is not None and low > high:
        return False
    if low is not None and low == high and any(t.op == "!=" and t.const == low for t in tests):
        return False
    for bound, ops, value in ((low, (">", ">="), _lower), (high, ("<", "<="), _upper)):
        kept.difference_update(t for t in tests if t.op in ops and value(t) != bound)
        same = sorted((t for t in tests if t.op in ops and value(t) == bound), key=repr)
        kept.difference_update(same[1:])
    return True


def _lower(test: Test) -> Any:
    """The least whole value ``test`` allows on its left (``> c`` allows ``c + 1``)."""
    return test.const + 1 if test.op == ">" else test.const


def _upper(test: Test) -> Any:
    return test.const - 1 if test.op == "<" else test.const


def _absorbed(terms: set[Term]) -> Dnf:
    """Drop every term that contains another (``a or (a and b)`` is ``a``)."""
    out: list[Term] = []
    for term in sorted(terms, key=lambda t: (len(t), repr(sorted(t, key=repr)))):
        if not any(other <= term for other in out):
            out.append(term)
    return frozenset(out)


def conj(a: Dnf, b: Dnf, span: Span) -> Dnf:
    terms = (_simplified(x | y) for x in a for y in b)
    return _checked(_absorbed({t for t in terms if t is not None}), span)


def disj(a: Dnf, b: Dnf, span: Span) -> Dnf:
    return _checked(_absorbed(set(a | b)), span)


def atom(item: Atom) -> Dnf:
    return frozenset({frozenset({item})})


def negate(dnf: Dnf, span: Span, required: frozenset[str] = frozenset()) -> Dnf:
    """``not dnf``; fields in ``required`` are never null."""
    result = TRUE
    for term in dnf:
        either = FALSE
        for item in term:
            either = disj(either, _negate_atom(item, required), span)
        result = conj(result, either, span)
    return result


def _negate_atom(item: Atom, required: frozenset[str]) -> Dnf:
    if isinstance(item, Has):
        return FALSE if item.present and item.field in required else \
            atom(Has(item.field, not item.present))
    # A test is false when it holds the other way round, or when a field it reads is null.
    alternatives = [atom(Has(name, False)) for name in item.fields() if name not in required]
    alternatives.append(atom(Test(item.left, _NEGATE[item.op], item.right, item.const,
                                  item.integral)))
    return frozenset(t for d in alternatives for t in d)


def _any_of(dnfs: list[Dnf], span: Span) -> Dnf:
    result = FALSE
    for dnf in dnfs:
        result = disj(result, dnf, span)
    return result


def _all_of(dnfs: list[Dnf], span: Span) -> Dnf:
    result = TRUE
    for dnf in dnfs:
        result = conj(result, dnf, span)
    return result


# ---- values: one field or now, plus a constant ------------------------------------------------


@dataclass(frozen=True)
class _Lin:
    """A value as ``sum(coefficient * symbol) + const``; symbols are fields or ``NOW``.

    ``domain`` is ``time`` (µs), ``day``, ``number``, ``text``, ``enum`` or ``bool``;
    ``null`` marks the null constant (arithmetic with null gives null).
    """

    domain: str
    terms: tuple[tuple[str, int], ...] = ()
    const: Any = 0
    null: bool = False
    enum: EnumInfo | None = None

    @property
    def constant(self) -> bool:
        return not self.terms

    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.terms if name != NOW)


def _combine(a: _Lin, b: _Lin, sign: int) -> _Lin:
    if a.null or b.null:
        return _Lin(a.domain, null=True)
    terms: dict[str, int] = dict(a.terms)
    for name, coefficient in b.terms:
        terms[name] = terms.get(name, 0) + sign * coefficient
    const = exact.add(a.const, b.const) if sign > 0 else exact.sub(a.const, b.const)
    kept = tuple(sorted((n, c) for n, c in terms.items() if c))
    return _Lin(a.domain if a.domain != "number" else b.domain, kept, const)


# ---- the translator --------------------------------------------------------------------------


class _RuleTranslator:
    """Translates the conditions of one rule about fact variable ``var`` of type ``fact``."""

    def __init__(self, policy: Policy, compiler: ExprCompiler, var: str, fact: str) -> None:
        self.policy = policy
        self.decls = policy.declarations
        self.compiler = compiler
        self.var = var
        self.fact = fact
        self.scope = {var: fact_type(fact)}
        self.required = frozenset(name for name, info in self.decls.facts[fact].items()
                                  if not info.nullable)

    # -- helpers --
    def typed(self, node: ast.Expr) -> Typed:
        with self.compiler.quiet():
            return self.compiler.compile(node, dict(self.scope))

    def field_of(self, node: ast.Expr) -> str | None:
        if isinstance(node, ast.Attr) and isinstance(node.obj, ast.Name) \
                and node.obj.id == self.var:
            return node.name
        return None

    # -- constructs that are never translated --
    def scan(self, node: ast.Node, in_condition: bool) -> list[_Unsupported]:
        """Every construct under ``node`` the backend rejects outright."""
        found: list[_Unsupported] = []
        for item in _walk(node):
            problem = self._foreign(item, in_condition)
            if problem is not None:
                found.append(problem)
        return found

    def _foreign(self, node: ast.Node, in_condition: bool) -> _Unsupported | None:
        decls = self.decls
        if isinstance(node, ast.Aggregate):
            return _Unsupported(f"aggregate '{node.func}(...)'", node.span,
                                "aggregates look at other facts: run this rule on the snapshot "
                                "engine")
        if isinstance(node, ast.Call) and node.func in decls.tables:
            return _Unsupported(f"decision table '{node.func}'", node.span,
                                "write the table's rows as rules with explicit conditions")
        if isinstance(node, ast.Call) and node.func in decls.defines:
            return _Unsupported(f"defined function '{node.func}' (define)", node.span,
                                "write the function's body into the condition")
        if isinstance(node, ast.Index) and isinstance(node.obj, ast.Name) \
                and node.obj.id in decls.facts:
            return _Unsupported(f"lookup of a fact by id '{node.obj.id}[...]'", node.span,
                                "the backend matches one fact per rule, without joins")
        if in_condition and isinstance(node, ast.IfExpr):
            return _Unsupported("'if ... then ... else' in a condition", node.span,
                                "write it with and/or")
        if in_condition and isinstance(node, ast.Binary) and node.op == "??":
            return _Unsupported("null default '??' in a condition", node.span,
                                "write the cases with 'is null' and 'is not null'")
        return None

    def negate(self, dnf: Dnf, span: Span) -> Dnf:
        return negate(dnf, span, self.required)

    # -- conditions --
    def condition(self, node: ast.Expr, positive: bool = True) -> Dnf:
        """``node`` (or its negation) as alternatives; ``not`` is pushed down to the leaves,
        so that a case split by parameter key is negated case by case."""
        typed = self.typed(node)
        if typed.const:
            return TRUE if bool(typed.value) == positive else FALSE
        if isinstance(node, ast.BoolOp):
            parts = [self.condition(v, positive) for v in node.values]
            every = (node.op == "and") == positive
            return _all_of(parts, node.span) if every else _any_of(parts, node.span)
        if isinstance(node, ast.Unary) and node.op == "not":
            return self.condition(node.operand, not positive)
        if isinstance(node, ast.Compare | ast.IsNull | ast.Attr | ast.Name | ast.Index):
            return self._split(node, {}, lambda n, subst: self._leaf(n, subst, positive))
        raise _Unsupported(_describe(node), node.span)

    def _leaf(self, node: ast.Expr, subst: dict[int, Any], positive: bool) -> Dnf:
        if isinstance(node, ast.Compare) and node.op in ("in", "not in"):
            found = self._membership(node, subst)
            positive = positive == (node.op == "in")
        elif isinstance(node, ast.Compare):
            found = self.relation(self.value(node.left, subst), node.op,
                                  self.value(node.right, subst), node.span)
        elif isinstance(node, ast.IsNull):
            found = self._is_null(self.value(node.operand, subst))
            positive = positive != node.negated
        else:  # a boolean field (or constant) used as a condition
            found = self.relation(self.value(node, subst), "==", _Lin("bool", (), True),
                                  node.span)
        return found if positive else self.negate(found, node.span)

    def _split(self, node: ast.Expr, subst: dict[int, Any],
               leaf: Callable[[ast.Expr, dict[int, Any]], Dnf]) -> Dnf:
        """One alternative per key of each parameter map looked up by a field."""
        lookup = next((n for n in _walk(node) if isinstance(n, ast.Index)
                       and id(n) not in subst and not self.typed(n).const), None)
        if lookup is None:
            return leaf(node, subst)
        mapping = self.typed(lookup.obj)
        key = self.field_of(lookup.key)
        if not mapping.const or not isinstance(mapping.value, dict) or key is None:
            raise _Unsupported("a lookup whose map is not a parameter or whose key is not a "
                               "field of the rule's fact", lookup.span)
        key_type = self.typed(lookup.key).type
        info = self._enum(key_type)
        guards: list[Dnf] = []
        result = FALSE
        for entry, value in mapping.value.items():
            guard = self.relation(_Lin(_domain(key_type), ((key, 1),), 0, enum=info), "==",
                                  self._constant(entry, key_type), lookup.span)
            guards.append(guard)
            inner = self._split(node, {**subst, id(lookup): value}, leaf)
            result = disj(result, conj(guard, inner, lookup.span), lookup.span)
        if info is not None and set(info.members) <= set(mapping.value):
            other = FALSE if key in self.required else atom(Has(key, False))
        else:
            other = self.negate(_any_of(guards, lookup.span), lookup.span)
        if other == FALSE:
            return result
        inner = self._split(node, {**subst, id(lookup): None}, leaf)  # no key: the value is null
        return disj(result, conj(other, inner, lookup.span), lookup.span)

    def _membership(self, node: ast.Compare, subst: dict[int, Any]) -> Dnf:
        """``x in [a, b]`` as ``x == a or x == b`` (``not in`` is its negation)."""
        container = self.typed(node.right)
        if not container.const:
            raise _Unsupported("'in' over a list that is not a constant or parameter",
                               node.right.span)
        left = self.value(node.left, subst)
        item_type = container.type.args[0] if container.type.args else container.type
        items = [self._constant(v, item_type) for v in (container.value or ())]
        return _any_of([self.relation(left, "==", item, node.span) for item in items],
                       node.span)

    def _is_null(self, value: _Lin) -> Dnf:
        if value.null:
            return TRUE
        return frozenset(frozenset({Has(name, False)}) for name in value.fields()
                         if name not in self.required)

    def _enum(self, kind: Type) -> EnumInfo | None:
        return self.compiler.enum(kind)

    # -- values --
    def value(self, node: ast.Expr, subst: dict[int, Any]) -> _Lin:
        if isinstance(node, ast.Index) and id(node) in subst:
            return self._constant(subst[id(node)], self.typed(node).type)
        typed = self.typed(node)
        if typed.const:
            return self._constant(typed.value, typed.type)
        field = self.field_of(node)
        if field is not None:
            kind = typed.type
            if kind.kind not in ("datetime", "date", "number", "text", "enum", "bool"):
                raise _Unsupported(f"a field of type {kind} in a condition", node.span)
            return _Lin(_domain(kind), ((field, 1),), 0, enum=self._enum(kind))
        if isinstance(node, ast.Name) and node.id == NOW:
            return _Lin("time", ((NOW, 1),), 0)
        if isinstance(node, ast.Unary) and node.op == "-":
            return _combine(_Lin("number"), self.value(node.operand, subst), -1)
        if isinstance(node, ast.Binary) and node.op in ("+", "-"):
            return self._sum(node, subst)
        if isinstance(node, ast.Binary) and node.op in ("*", "/"):
            return self._product(node, subst)
        if isinstance(node, ast.Call) and node.func in BUILTINS:
            raise _Unsupported(f"function '{node.func}' of a fact's field or of now",
                               node.span, "compare the field itself with a constant")
        raise _Unsupported(_describe(node), node.span)

    def _sum(self, node: ast.Binary, subst: dict[int, Any]) -> _Lin:
        left, right = self.value(node.left, subst), self.value(node.right, subst)
        if "day" in (left.domain, right.domain) and not (left.constant and right.constant):
            raise _Unsupported("arithmetic with a date (it counts calendar days)", node.span,
                               "compare datetimes, or a date field with a date")
        if left.domain in ("text", "enum", "bool"):
            raise _Unsupported(f"'{node.op}' on {left.domain}", node.span)
        return _combine(left, right, 1 if node.op == "+" else -1)

    def _product(self, node: ast.Binary, subst: dict[int, Any]) -> _Lin:
        left, right = self.value(node.left, subst), self.value(node.right, subst)
        if not (left.constant and right.constant):
            raise _Unsupported("a multiple or fraction of a field or of now", node.span,
                               "compare the field itself: 'now - c.x > 2 * limit', not "
                               "'(now - c.x) / 2 > limit'")
        domains = {left.domain, right.domain} - {"number"}
        if node.op == "/" and left.domain == right.domain:
            domain = "number"  # a ratio of two durations (or of two numbers)
        else:
            domain = domains.pop() if domains else "number"
        if left.null or right.null:
            return _Lin(domain, null=True)
        value = exact.mul(left.const, right.const) if node.op == "*" else \
            exact.div(left.const, right.const)
        return _Lin(domain, (), value, null=value is None)

    def _constant(self, value: Any, kind: Type) -> _Lin:
        domain = _domain(kind)
        if value is None:
            return _Lin(domain, null=True)
        return _Lin(domain, (), _encode_constant(value, kind), enum=self._enum(kind))

    # -- comparisons --
    def relation(self, left: _Lin, op: str, right: _Lin, span: Span) -> Dnf:
        """``left op right`` with the language's null rules, as tests on present fields."""
        if left.null or right.null:
            if op not in ("==", "!="):
                return FALSE  # an ordering with null is false
            both = conj(self._is_null(left), self._is_null(right), span)
            return self.negate(both, span) if op == "!=" else both
        info = left.enum or right.enum
        if left.constant and right.constant:
            return TRUE if _holds(left.const, op, right.const, info) else FALSE
        domain = right.domain if left.constant else left.domain
        if op in ("==", "!="):
            # Null equals null: ``c.a == c.b`` holds when both are null, and so does
            # ``c.a + 1h == c.b + 1h`` (arithmetic with null gives null).
            both_null = conj(self._is_null(left), self._is_null(right), span) \
                if left.fields() and right.fields() else FALSE
            if domain in ("text", "bool", "enum"):
                same = atom(self._direct(left, right, domain, span))
            else:
                same = self._ordering(left, "==", right, domain, span)
            equal = disj(both_null, same, span)
            return self.negate(equal, span) if op == "!=" else equal
        if domain == "enum":
            return self._enum_ordering(left, op, right, info, span)
        if domain in ("text", "bool"):
            raise _Unsupported(f"ordering of {domain} values", span)
        return self._ordering(left, op, right, domain, span)

    def _direct(self, left: _Lin, right: _Lin, domain: str, span: Span) -> Test:
        if left.constant:
            left, right = right, left
        name = left.fields()[0]
        if right.constant:
            return Test(name, "==", None, _safe_constant(right.const, domain, False, span))
        return Test(name, "==", right.fields()[0], 0)

    def _ordering(self, left: _Lin, op: str, right: _Lin, domain: str, span: Span) -> Dnf:
        gap = _combine(left, right, -1)  # left - right  op  0
        involved = {*left.fields(), *right.fields()}
        if gap.constant:  # the symbols cancel out; the fields must still be present
            found = TRUE if _PYTHON[op](gap.const, 0) else FALSE
            guard = frozenset(Has(n, True) for n in involved - self.required)
            return conj(found, frozenset({guard}), span)
        plus = [n for n, c in gap.terms if c == 1]
        minus = [n for n, c in gap.terms if c == -1]
        if len(plus) + len(minus) != len(gap.terms) or len(plus) > 1 or len(minus) > 1:
            raise _Unsupported("arithmetic over more than two values, or a multiple of a field "
                               "or of now", span,
                               "the backend compares 'x op y + constant' only")
        const = exact.neg(gap.const)  # plus op minus + const  (or plus op const)
        if plus and minus:
            test = self._test(plus[0], op, minus[0], const, domain, span)
        elif plus:
            test = self._test(plus[0], op, None, const, domain, span)
        else:  # -minus + c op 0  <=>  minus (mirrored op) c
            test = self._test(minus[0], _MIRROR[op], None, gap.const, domain, span)
        rest = involved - set(test.fields()) - self.required
        return frozenset({frozenset({test, *(Has(n, True) for n in rest)})})

    def _test(self, left: str, op: str, right: str | None, const: Any, domain: str,
              span: Span) -> Test:
        if right == NOW:  # keep now on the left: x op now + k  <=>  now (mirror) x - k
            left, op, right, const = NOW, _MIRROR[op], left, exact.neg(const)
        const = _safe_constant(const, domain, right is not None, span)
        return Test(left, op, right, const, domain in ("time", "day"))

    def _enum_ordering(self, left: _Lin, op: str, right: _Lin, info: EnumInfo | None,
                       span: Span) -> Dnf:
        """``c.level >= major`` as ``c.level in [major, critical]`` (by the enum's ranks)."""
        if left.constant:
            left, op, right = right, _MIRROR[op], left
        if not right.constant or info is None or info.rank is None:
            raise _Unsupported("ordering between two enum fields", span)
        rank = info.rank
        target = rank.get(str(right.const))
        if target is None:
            return FALSE
        members = [m for m in info.members if m in rank and _PYTHON[op](rank[m], target)]
        name = left.fields()[0]
        return _any_of([atom(Test(name, "==", None, m)) for m in members], span)


def _holds(left: Any, op: str, right: Any, info: EnumInfo | None) -> bool:
    if op not in ("==", "!=") and info is not None and info.rank is not None:
        a, b = info.rank.get(str(left)), info.rank.get(str(right))
        return a is not None and b is not None and bool(_PYTHON[op](a, b))
    return bool(_PYTHON[op](left, right))


def _domain(kind: Type) -> str:
    return {"datetime": "time", "duration": "time", "date": "day", "number": "number",
            "text": "text", "enum": "enum", "symbol": "enum", "bool": "bool"}.get(kind.kind,
                                                                                kind.kind)


def _encode_constant(value: Any, kind: Type) -> Any:
    if isinstance(value, dt.datetime):
        return micros(value)
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, bool):
        return value
    if isinstance(value, Enum):
        return str(value.value)
    return value


def _safe_constant(value: Any, domain: str, two_fields: bool, span: Span) -> Any:
    """A constant as durable_rules compares it (a C double), refused where it would round."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Fraction | Decimal) and value == int(value):
        value = int(value)
    if domain in ("time", "day"):
        if not isinstance(value, int):
            raise _Unsupported(f"a time limit that is not a whole number of microseconds "
                               f"({value} µs)", span)
        if abs(value) >= SAFE_INTEGER:
            raise _Unsupported("a time or duration beyond the range a C double holds exactly",
                               span)
        return value
    if two_fields and value != 0:
        raise _Unsupported("arithmetic between two number fields (C doubles would round it)",
                           span, "compare the two fields directly, or a field with a constant")
    problem = double_problem(value)
    if problem is not None:
        raise _Unsupported(f"the constant {value}: {problem}", span)
    return value


def double_problem(value: Any) -> str | None:
    """Why ``value`` cannot be compared exactly as a C double (None: it can)."""
    if isinstance(value, int):
        return None if abs(value) < SAFE_INTEGER else "an integer beyond 2^53"
    if isinstance(value, Fraction):
        return "a fraction with no exact decimal form"
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "not a finite number"
        if abs(value.adjusted()) > 300:
            return "beyond the range of a C double"
        if len(value.normalize().as_tuple().digits) > 15:
            return "more than 15 significant digits (a C double would round it)"
        return None
    return f"a {type(value).__name__}"


def micros(moment: dt.datetime) -> int:
    """Microseconds since the Unix epoch (exact, for an aware datetime)."""
    return (moment - EPOCH) // _MICRO


def _walk(node: ast.Node) -> Iterator[ast.Node]:
    yield node
    for item in dataclasses.fields(node):
        if item.name == "span":
            continue
        value = getattr(node, item.name)
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, ast.Node):
                yield from _walk(child)


def _describe(node: ast.Node) -> str:
    names = {ast.IfExpr: "'if ... then ... else'", ast.Aggregate: "an aggregate",
             ast.ListExpr: "a list", ast.MapExpr: "a map", ast.Call: "a function call"}
    if isinstance(node, ast.Call):
        return f"function '{node.func}'"
    if isinstance(node, ast.Binary):
        return f"'{node.op}' on these values"
    return names.get(type(node), f"this {type(node).__name__.lower()} expression")


# ---- rules -----------------------------------------------------------------------------------


def plan_policy(policy: Policy) -> PolicyPlan:
    """Translate every rule of ``policy``.

    Raises:
        DurableUnsupportedError: naming each rule that cannot run, with every construct.
    """
    compiler = ExprCompiler(policy.declarations, dict(policy.params), [])
    plans: list[RulePlan] = []
    problems: list[Diagnostic] = []
    for index, rule in enumerate(policy.rules):
        plan, found = _plan_rule(policy, compiler, index, rule)
        if plan is not None:
            plans.append(plan)
        problems.extend(_diagnostic(rule, p) for p in found)
    problems.extend(_alpha_limits(plans))
    if problems:
        raise _rejection(policy, problems)
    fields: dict[str, set[str]] = {}
    timed: set[str] = set()
    for plan in plans:
        names = fields.setdefault(plan.fact, set())
        for alternative in plan.alternatives:
            for item in (*alternative.static, *alternative.timed):
                names.update((item.field,) if isinstance(item, Has) else item.fields())
            if alternative.timed:
                timed.add(plan.fact)
    return PolicyPlan(tuple(plans), {k: frozenset(v) for k, v in fields.items()},
                      frozenset(timed))


def _plan_rule(policy: Policy, compiler: ExprCompiler, index: int,
               rule: CompiledRule) -> tuple[RulePlan | None, list[_Unsupported]]:
    node = rule.node
    first = node.clauses[0]
    assert isinstance(first, ast.ForClause)
    if rule.source_kind != "fact":
        what = "conclusions" if rule.source_kind == "conclusion" else "a list"
        return None, [_Unsupported(f"a rule over {what} ('for {first.var} in ...')", first.span,
                                   "the backend matches the rules that go through a fact type")]
    assert isinstance(first.source, ast.Name)
    translator = _RuleTranslator(policy, compiler, first.var, first.source.id)
    problems: list[_Unsupported] = []
    conditions: list[ast.Expr] = [first.where] if first.where is not None else []
    for clause in node.clauses[1:]:
        if isinstance(clause, ast.LetClause):
            problems.append(_Unsupported(f"let '{clause.name}'", clause.span,
                                         "write the value into the conditions"))
            problems.extend(translator.scan(clause.value, in_condition=True))
        elif isinstance(clause, ast.WhenClause):
            conditions.append(clause.cond)
    for condition in conditions:
        problems.extend(translator.scan(condition, in_condition=True))
    problems.extend(_emit_problems(translator, node))
    if problems:
        return None, problems
    try:
        dnf = _all_of([translator.condition(c) for c in conditions], node.span)
    except _Unsupported as problem:
        return None, [problem]
    alternatives = tuple(_alternative(term) for term in sorted(dnf, key=_term_order))
    return RulePlan(index, rule, first.source.id, alternatives), []


def _emit_problems(translator: _RuleTranslator, node: ast.Rule) -> list[_Unsupported]:
    problems: list[_Unsupported] = []
    for emit in node.emits:
        if emit.about is not None:
            problems.append(_Unsupported("'about' in an emit", emit.about.span,
                                         "emit conclusions about the rule's own fact"))
        for arg in emit.args:
            problems.extend(translator.scan(arg.value, in_condition=False))
            problems.extend(_Unsupported("now in an emitted value", n.span)
                            for n in _walk(arg.value)
                            if isinstance(n, ast.Name) and n.id == NOW)
    return problems


def _alternative(term: Term) -> Alternative:
    timed = tuple(sorted((a for a in term if isinstance(a, Test) and a.timed), key=repr))
    static = [a for a in term if not (isinstance(a, Test) and a.timed)]
    present = {name for a in term if isinstance(a, Test) for name in a.fields()}
    static.extend(Has(name, True) for name in present if Has(name, True) not in term)
    return Alternative(tuple(sorted(static, key=repr)), timed)


def _term_order(term: Term) -> tuple[int, str]:
    return (len(term), repr(sorted(term, key=repr)))


def _alpha_limits(plans: list[RulePlan]) -> list[Diagnostic]:
    values: dict[tuple[str, str], set[Any]] = {}
    first: dict[tuple[str, str], RulePlan] = {}
    for plan in plans:
        for alternative in plan.alternatives:
            for item in alternative.static:
                if isinstance(item, Test) and item.right is None:
                    key = (plan.fact, item.left)
                    values.setdefault(key, set()).add(item.const)
                    first.setdefault(key, plan)
    return [Diagnostic("durable.unsupported",
                       f"{fact}.{name} is compared with {len(found)} different values across "
                       f"the rules; durable_rules cannot hold more than about 511 in one alpha "
                       f"node", first[(fact, name)].rule.span,
                       "use a decision table on the snapshot engine")
            for (fact, name), found in values.items() if len(found) > MAX_VALUES_PER_FIELD]


def _diagnostic(rule: CompiledRule, problem: _Unsupported) -> Diagnostic:
    return Diagnostic("durable.unsupported",
                      f"rule {rule.id} cannot run on durable_rules: {problem.construct}",
                      problem.span, problem.hint)


def _rejection(policy: Policy, problems: list[Diagnostic]) -> DurableUnsupportedError:
    rules = {}
    for rule in policy.rules:
        if any(p.message.startswith(f"rule {rule.id} ") or
               (p.span is not None and p.span == rule.span) for p in problems):
            rules[rule.id] = f"{rule.id} ({rule.span.source}:{rule.span.line})"
    ordered = sorted(problems, key=Diagnostic.sort_key)
    headline = (f"{len(rules)} rule{'s' if len(rules) != 1 else ''} of policy "
                f"{policy.name} cannot run on the durable_rules backend: "
                + ", ".join(rules.values()))
    return DurableUnsupportedError(ordered, headline + "\n" + render(ordered, policy.sources))


# ---- ruleset definition ----------------------------------------------------------------------


def message_key(name: str) -> str:
    """The key of a fact field in a durable_rules message (``now`` for the clock reading)."""
    return NOW if name == NOW else f"f_{name}"


def pattern(fact: str, atoms: tuple[Atom, ...]) -> dict[str, Any]:
    """One flat ``$and`` of tests on one message (nested groups lose tests in joins)."""
    tests: list[dict[str, Any]] = [{"type": fact}]
    tests.extend(_test_json(a) for a in atoms)
    return tests[0] if len(tests) == 1 else {"$and": tests}


def _test_json(item: Atom) -> dict[str, Any]:
    if isinstance(item, Has):
        return {"$ex" if item.present else "$nex": {message_key(item.field): 1}}
    left = message_key(item.left)
    right: Any = json_number(item.const)
    if item.right is not None:
        ref = {"$m": message_key(item.right)}
        right = ref if item.const == 0 else {"$add": {"$l": ref, "$r": json_number(item.const)}}
    if item.op == "==":
        return {left: right}
    return {_DURABLE[item.op]: {left: right}}


def json_number(value: Any) -> Any:
    """A value as it goes into JSON for durable_rules (exactness checked before)."""
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    return value


def flips(test: Test, base: int | None) -> tuple[int, ...]:
    """The instants (µs) at which ``now op base + const`` changes its answer.

    ``now > x`` first holds at x + 1 µs, ``now >= x`` at x; ``now < x`` stops holding at x,
    ``now <= x`` at x + 1 µs; ``==`` and ``!=`` change at both.
    """
    if test.right is not None and base is None:
        return ()
    point = (base or 0) + int(test.const)
    return {">": (point + 1,), ">=": (point,), "<": (point,), "<=": (point + 1,),
            "==": (point, point + 1), "!=": (point, point + 1)}[test.op]


__all__ = ["NOW", "Alternative", "DurableUnsupportedError", "Has", "PolicyPlan", "RulePlan",
           "Test", "double_problem", "flips", "message_key", "micros", "pattern", "plan_policy"]
