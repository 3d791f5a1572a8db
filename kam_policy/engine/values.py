"""Run-time values shown to people and programs: JSON forms by declared type, human forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pydantic import BaseModel

from kam_policy.engine import exact
from kam_policy.engine.context import Conclusion
from kam_policy.engine.timeline import concrete
from kam_policy.engine.types import Type
from kam_policy.facts.schema import FactSchema, FactType
from kam_policy.grammar import ast


def human(value: Any, kind: Type | None = None, schema: FactSchema | None = None) -> str:
    """A value as a person reads it in a reason or an explanation; ``kind`` is its static type
    (durations are microseconds at run time, shown as ``5h12m``); ``schema`` names facts by
    their fact type and identity (``Sale M1/2026-01``)."""
    value = concrete(value)
    if value is None:
        return "null"
    if kind is not None and kind.kind == "duration" and not isinstance(value, bool):
        return exact.format_duration(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        return exact.to_decimal_text(exact.round_half_up(value, 2))
    if isinstance(value, Decimal | int):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        item = kind.args[0] if kind is not None and kind.kind == "list" else None
        return "[" + ", ".join(human(v, item, schema) for v in value) + "]"
    if isinstance(value, BaseModel):  # a fact: its type and id, never its Python repr
        named = kind.name if kind is not None and kind.kind == "fact" else None
        return " ".join(part for part in _identify(value, named, schema) if part)
    if isinstance(value, Conclusion):
        subject = _identify(value.subject, value.rule[1].subject_fact, schema)[1]
        return f"{value.name} of {value.subject_type} {subject}".rstrip()
    if isinstance(value, dict):
        item = kind.args[1] if kind is not None and kind.kind == "map" else None
        return "{" + ", ".join(f"{k}: {human(v, item, schema)}" for k, v in value.items()) + "}"
    return str(value)


def _identify(fact: BaseModel, name: str | None, schema: FactSchema | None) -> tuple[str, str]:
    """The fact type's name and the record's identity (``Sale``, ``M1/2026-01``); without a
    schema, the static type's name (else the model's) and the ``id`` field, if any."""
    fact_type: FactType | None = None
    if schema is not None:
        fact_type = schema.by_name.get(name or "") or next(
            (t for t in schema.types if type(fact) is t.model), None)
    if fact_type is None or not isinstance(fact, fact_type.model):
        return name or type(fact).__name__, str(getattr(fact, "id", ""))
    return fact_type.name, fact_type.identity(fact)


def to_json_value(value: Any, written: ast.TypeExpr) -> Any:
    """A conclusion value in its JSON form, by the type its declaration writes."""
    if value is None:
        return None
    name = written.name
    if name == "list":
        return [to_json_value(item, written.args[0]) for item in value]
    if name in ("decimal", "money"):
        return exact.to_decimal_text(value, written.precision if written.precision is not None
                                     else 2)
    if name == "int":
        if value != int(value):
            raise ValueError(f"{value} is not a whole number")
        return int(value)
    if name == "number":
        return exact.to_decimal_text(value)
    if name == "duration":
        return exact.format_duration(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    return str(value)


Converter = Callable[[Any], Any]


def json_converter(written: ast.TypeExpr) -> Converter:
    """``lambda value: to_json_value(value, written)``, with the dispatch on the type done once
    (when the policy is compiled) and shortcuts for the commonest values (ints, texts, None);
    the results and errors are exactly ``to_json_value``'s."""
    name = written.name
    if name == "list" and written.args:
        item = json_converter(written.args[0])
        return lambda value: None if value is None else [item(v) for v in value]
    if name in ("decimal", "money"):
        return _decimal_converter(written.precision if written.precision is not None else 2)
    if name == "int":
        return _to_int
    if name == "number":
        return _to_number
    if name == "duration":
        return _to_duration
    if name == "list":  # no item type: never from a checked policy; keep the general path
        return lambda value: to_json_value(value, written)
    return _to_other


def _decimal_converter(places: int) -> Converter:
    def convert(value: Any) -> Any:
        return None if value is None else exact.to_decimal_text(value, places)

    return convert


def _to_int(value: Any) -> Any:
    if type(value) is int or value is None:
        return value
    if value != int(value):
        raise ValueError(f"{value} is not a whole number")
    return int(value)


def _to_number(value: Any) -> Any:
    return None if value is None else exact.to_decimal_text(value)


def _to_duration(value: Any) -> Any:
    return None if value is None else exact.format_duration(value)


def _to_other(value: Any) -> Any:
    """Text, enums, dates, booleans, maps...: as ``to_json_value``'s last lines."""
    if type(value) is str or value is None:
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    return str(value)
