"""Static types of policy expressions, and how fact models and written types map onto them."""

from __future__ import annotations

import datetime as dt
import types as pytypes
import typing
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel

from kam_policy.facts.enums import enum_rank


@dataclass(frozen=True)
class Type:
    """A static type. ``kind`` is one of the names below; ``name`` qualifies enum, fact,
    conclusion and symbol types; ``args`` holds item (and key) types of lists and maps."""

    kind: str
    name: str | None = None
    args: tuple[Type, ...] = ()

    def __str__(self) -> str:
        if self.kind == "list":
            return f"list[{self.args[0]}]"
        if self.kind == "map":
            return f"map[{self.args[0]}, {self.args[1]}]"
        if self.kind in ("enum", "fact"):
            return str(self.name)
        if self.kind == "conclusion":
            return f"conclusion {self.name}"
        if self.kind == "symbol":
            return f"enum literal {self.name}"
        return self.kind


NUMBER = Type("number")
TEXT = Type("text")
BOOL = Type("bool")
DATE = Type("date")
DATETIME = Type("datetime")
DURATION = Type("duration")
BUSINESS = Type("business")  # working time: 4 business_hours (engine/business.py)
NULL = Type("null")
ANY = Type("any")  # after an error: accepted everywhere, so one mistake is reported once

# The type of each kind of literal written in a rule file.
LITERAL_TYPES = {"number": NUMBER, "text": TEXT, "bool": BOOL, "null": NULL, "duration": DURATION,
                 "business": BUSINESS}

PRIMITIVES = {
    "number": NUMBER, "int": NUMBER, "decimal": NUMBER, "money": NUMBER, "text": TEXT,
    "bool": BOOL, "date": DATE, "datetime": DATETIME, "duration": DURATION,
}


def list_of(item: Type) -> Type:
    return Type("list", None, (item,))


def map_of(key: Type, value: Type) -> Type:
    return Type("map", None, (key, value))


def enum_type(name: str) -> Type:
    return Type("enum", name)


def fact_type(name: str) -> Type:
    return Type("fact", name)


@dataclass(frozen=True)
class EnumInfo:
    """An enum's members, and their rank when it is ordered."""

    name: str
    members: tuple[str, ...]
    rank: dict[str, int] | None

    @property
    def ordered(self) -> bool:
        return self.rank is not None


@dataclass(frozen=True)
class FieldInfo:
    """One field of a fact model: its type and whether it may be null."""

    name: str
    type: Type
    nullable: bool


def python_to_type(annotation: object, enums: dict[str, EnumInfo]) -> tuple[Type, bool]:
    """Map a pydantic field annotation to (type, nullable), registering enums met on the way."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return python_to_type(typing.get_args(annotation)[0], enums)
    if origin in (typing.Union, pytypes.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner, _ = python_to_type(members[0], enums) if len(members) == 1 else (ANY, True)
        return inner, True
    if origin in (list, tuple, frozenset, set):
        item, _ = python_to_type(typing.get_args(annotation)[0], enums)
        return (item if item.kind == "unsupported" else list_of(item)), False
    if origin is dict:
        key_ann, value_ann = typing.get_args(annotation)
        key, value = python_to_type(key_ann, enums)[0], python_to_type(value_ann, enums)[0]
        for part in (key, value):
            if part.kind == "unsupported":
                return part, False
        return map_of(key, value), False
    return _leaf_type(annotation, enums), False


def _leaf_type(annotation: object, enums: dict[str, EnumInfo]) -> Type:
    if isinstance(annotation, type):
        if issubclass(annotation, StrEnum):
            enums.setdefault(annotation.__name__, EnumInfo(
                annotation.__name__, tuple(m.value for m in annotation), enum_rank(annotation)))
            return enum_type(annotation.__name__)
        if issubclass(annotation, bool):
            return BOOL
        if issubclass(annotation, float):
            return Type("unsupported", "float (use Decimal: floats are not exact)")
        if issubclass(annotation, int | Decimal):
            return NUMBER
        if issubclass(annotation, str):
            return TEXT
        if issubclass(annotation, dt.datetime) or annotation is AwareDatetime:
            return DATETIME
        if issubclass(annotation, dt.date):
            return DATE
        if issubclass(annotation, dt.timedelta):
            return Type("unsupported", "timedelta (store the start and end datetimes)")
        if issubclass(annotation, BaseModel):
            return fact_type(annotation.__name__)
    if annotation is AwareDatetime:
        return DATETIME
    return ANY


def model_fields(model: type[BaseModel], enums: dict[str, EnumInfo]) -> dict[str, FieldInfo]:
    """The fields of a fact model as policy types."""
    fields: dict[str, FieldInfo] = {}
    for name, info in model.model_fields.items():
        kind, nullable = python_to_type(info.annotation, enums)
        fields[name] = FieldInfo(name, kind, nullable)
    return fields
