"""Parameters: the literal values rule files declare, typed, and overridden from TOML."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kam_policy.engine.business import parse_business
from kam_policy.engine.declarations import Declarations, did_you_mean
from kam_policy.engine.types import (
    ANY,
    LITERAL_TYPES,
    EnumInfo,
    Type,
    list_of,
    map_of,
)
from kam_policy.errors import Diagnostic, ParameterError
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span

_DURATION = re.compile(r"^\s*((?:\d+(?:\.\d+)?\s*(?:d|h|m|s)\s*)+)$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_UNITS = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
SYMBOL = Type("symbol")


@dataclass(frozen=True)
class MemberType(Type):
    """The type of enum members written as a parameter's value (``senior``, ``[major,
    critical]``): a symbol that knows the enums its members belong to, so that an override
    can be held to their members."""

    enums: tuple[EnumInfo, ...] = field(default=(), compare=False)

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m for info in self.enums for m in info.members))

    def misfit(self, value: str) -> _Misfit | None:
        """Why ``value`` cannot stand for a member of this type, or None if it can."""
        members = self.members
        if not members or value in members:
            return None
        names = " or ".join(info.name for info in self.enums)
        return _Misfit(f"'{value}' is not a {names} ({', '.join(members)})",
                       did_you_mean(value, members))


class _Misfit(ValueError):
    """A value of the right kind outside what the parameter allows; ``hint`` may help."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class ParamValue:
    """A parameter's effective value, its type, and where the value comes from."""

    name: str
    value: Any
    type: Type
    origin: str  # "default" or the parameters file's path
    span: Span


def literal_value(expr: ast.Expr, decls: Declarations,
                  diagnostics: list[Diagnostic]) -> tuple[Any, Type]:
    """The value and type of a parameter literal (numbers, durations, texts, lists, maps)."""
    if isinstance(expr, ast.Literal):
        return expr.value, LITERAL_TYPES[expr.kind]
    if isinstance(expr, ast.Unary) and expr.op == "-" and isinstance(expr.operand, ast.Literal) \
            and expr.operand.kind in ("number", "duration"):
        value, kind = literal_value(expr.operand, decls, diagnostics)
        return -value, kind
    if isinstance(expr, ast.Name):
        enums = decls.enums_with(expr.id)
        if enums:
            return expr.id, MemberType("symbol", expr.id, (), tuple(decls.enums[e] for e in enums))
        diagnostics.append(Diagnostic(
            "check.param-value", f"'{expr.id}' is not a value a parameter can hold", expr.span,
            "write a number, a duration (4h, 30d), a \"text\", an enum value, [a list] or "
            "{a: map}"))
        return None, ANY
    if isinstance(expr, ast.ListExpr):
        items = [literal_value(item, decls, diagnostics) for item in expr.items]
        return tuple(v for v, _ in items), list_of(_unify([t for _, t in items], expr, diagnostics))
    if isinstance(expr, ast.MapExpr):
        entries = {e.key: literal_value(e.value, decls, diagnostics) for e in expr.entries}
        value_type = _unify([t for _, t in entries.values()], expr, diagnostics)
        return {k: v for k, (v, _) in entries.items()}, map_of(SYMBOL, value_type)
    diagnostics.append(Diagnostic(
        "check.param-value", "a parameter's value must be written out, not computed", expr.span,
        "write a number, a duration, a text, a list or a map"))
    return None, ANY


def _unify(kinds: list[Type], expr: ast.Expr, diagnostics: list[Diagnostic]) -> Type:
    known = [k for k in kinds if k.kind not in ("any", "null")]
    if not known:
        return ANY
    common: Type | None = _common(known[0], known[0])
    for other in known[1:]:
        merged = _common(common, other) if common is not None else None
        if merged is None:
            diagnostics.append(Diagnostic(
                "check.type-mismatch", f"values of one list or map must share a type: "
                f"{_plain(known[0])} and {_plain(other)} are mixed", expr.span))
            return ANY
        common = merged
    assert common is not None
    return common


def _common(a: Type, b: Type) -> Type | None:
    """The type of a list or map holding values of types ``a`` and ``b`` (None: they differ).
    Enum members share the enums both belong to."""
    if a.kind == b.kind == "symbol":
        shared = [e for e in _enums(a) if e.name in {f.name for f in _enums(b)}]
        return MemberType("symbol", None, (), tuple(shared)) if shared else SYMBOL
    if a.kind != b.kind or a.name != b.name or len(a.args) != len(b.args):
        return None
    args = [_common(x, y) for x, y in zip(a.args, b.args, strict=True)]
    if any(arg is None for arg in args):
        return None
    return Type(a.kind, a.name, tuple(arg for arg in args if arg is not None))


def _enums(kind: Type) -> tuple[EnumInfo, ...]:
    return kind.enums if isinstance(kind, MemberType) else ()


def _plain(kind: Type) -> Type:
    return SYMBOL if kind.kind == "symbol" else kind


def written_mismatch(kind: Type, written: ast.TypeExpr, decls: Declarations,
                     value: Any = None) -> str | None:
    """Why a parameter's value does not fit the type written on it, or None if it does."""
    from kam_policy.engine.types import PRIMITIVES

    if kind.kind == "any" or (kind.kind == "null" and written.nullable):
        return None
    if kind.kind == "null":
        return f"null is not a {written.name} (write {written.name}? to allow null)"
    if written.name == "list":
        if kind.kind != "list":
            return f"the value is {kind}, not a list"
        items = value if isinstance(value, tuple) else (None,)
        return next((p for p in (written_mismatch(kind.args[0], written.args[0], decls, v)
                                 for v in items) if p), None)
    if written.name == "map":
        if kind.kind != "map":
            return f"the value is {kind}, not a map"
        values = tuple(value.values()) if isinstance(value, dict) else (None,)
        return next((p for p in (written_mismatch(kind.args[1], written.args[1], decls, v)
                                 for v in values) if p), None)
    if written.name in decls.enums:
        if kind.kind != "symbol":
            return f"the value is {kind}, not a {written.name}"
        members = decls.enums[written.name].members
        if value is not None and value not in members:
            return f"'{value}' is not a {written.name} ({', '.join(members)})"
        return None
    if written.name == "int" and kind.kind == "number" and value is not None \
            and value != int(value):
        return f"{value} is not a whole number"
    expected = PRIMITIVES.get(written.name)
    if expected is None:
        return f"unknown type '{written.name}'"
    return None if expected.kind == kind.kind else f"the value is {kind}, not {written.name}"


def read_overrides(path: str | Path) -> tuple[dict[str, Any], str]:
    """Read a TOML parameters file; a malformed one raises ParameterError with its line."""
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ParameterError([Diagnostic("params.unreadable", f"cannot read {file}: {error}")]) \
            from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ParameterError([Diagnostic("params.syntax", f"{file}: {error}")]) from None
    return data, text


def apply_overrides(defaults: dict[str, ParamValue], overrides: Mapping[str, Any],
                    origin: str, text: str = "") -> dict[str, ParamValue]:
    """Replace parameter values from an overrides mapping; maps are merged key by key."""
    diagnostics: list[Diagnostic] = []
    result = dict(defaults)
    for key, raw in overrides.items():
        where = _toml_line(text, key, origin)
        current = defaults.get(key)
        if current is None:
            hint = did_you_mean(key, defaults)
            diagnostics.append(Diagnostic("params.unknown", f"unknown parameter '{key}'", where,
                                          hint or "run 'kam-policy params' to list them"))
            continue
        try:
            value = _convert(raw, current.type, current.value, key)
        except ValueError as error:
            diagnostics.append(Diagnostic("params.type", f"parameter '{key}': {error}", where,
                                          getattr(error, "hint", None)))
            continue
        result[key] = ParamValue(key, value, current.type, origin, current.span)
    if diagnostics:
        raise ParameterError(diagnostics)
    return result


def _toml_line(text: str, key: str, origin: str) -> Span | None:
    pattern = re.compile(rf"^[ \t]*(\[[ \t]*{re.escape(key)}[ \t]*[].]|{re.escape(key)}[ \t]*[=.])",
                         re.M)
    match = pattern.search(text)
    if match is None:
        return None
    line = text.count("\n", 0, match.start()) + 1
    column = match.start(1) - (text.rfind("\n", 0, match.start(1)) + 1) + 1
    return Span(origin, match.start(1), match.end(1), line, column, line, column + len(key))


def _convert(raw: Any, kind: Type, current: Any, path: str) -> Any:
    if kind.kind == "number":
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError(f"expected a number, got {_describe(raw)}")
        try:
            value = Decimal(str(raw)) if not isinstance(raw, int) else raw
        except InvalidOperation:
            raise ValueError(f"expected a number, got {raw!r}") from None
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(f"expected a finite number, got {raw!r}")
        return value
    if kind.kind == "duration":
        match = _DURATION.match(raw) if isinstance(raw, str) else None
        if match is None:
            raise ValueError(f'expected a duration such as "4h" or "30d", got {_describe(raw)}')
        total = sum(Decimal(amount) * _UNITS[unit]
                    for amount, unit in _DURATION_PART.findall(match.group(1)))
        if total != int(total):
            raise ValueError(f"duration {raw!r} is not a whole number of microseconds")
        return int(total)
    if kind.kind == "business":
        business = parse_business(raw) if isinstance(raw, str) else None
        if business is None:
            raise ValueError(f'expected working time such as "4 business_hours", got '
                             f"{_describe(raw)}")
        return business
    if kind.kind in ("text", "symbol"):
        if not isinstance(raw, str):
            raise ValueError(f"expected a text, got {_describe(raw)}")
        misfit = kind.misfit(raw) if isinstance(kind, MemberType) else None
        if misfit is not None:
            raise misfit
        return raw
    if kind.kind == "bool":
        if not isinstance(raw, bool):
            raise ValueError(f"expected true or false, got {_describe(raw)}")
        return raw
    if kind.kind == "list":
        if not isinstance(raw, list):
            raise ValueError(f"expected a list, got {_describe(raw)}")
        return tuple(_convert(item, kind.args[0], None, path) for item in raw)
    if kind.kind == "map":
        if not isinstance(raw, dict):
            raise ValueError(f"expected a table of values, got {_describe(raw)}")
        merged = dict(current or {})
        for key, item in raw.items():
            merged[key] = _convert(item, kind.args[1], merged.get(key), f"{path}.{key}")
        return merged
    return raw


def to_toml_value(value: Any, kind: Type) -> Any:
    """A parameter value in the form a parameters file writes it (durations as "4h")."""
    from kam_policy.engine.exact import format_duration

    if value is None:
        return None
    if kind.kind == "duration":
        return format_duration(value)
    if kind.kind == "list":
        return [to_toml_value(v, kind.args[0]) for v in value]
    if kind.kind == "map":
        return {k: to_toml_value(v, kind.args[1]) for k, v in value.items()}
    if isinstance(value, Decimal | ast.BusinessDuration):
        return str(value)
    return value


def _describe(raw: Any) -> str:
    if isinstance(raw, str):
        return f'the text "{raw}"'
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, dict):
        return "a table"
    if isinstance(raw, list):
        return "a list"
    return repr(raw)
