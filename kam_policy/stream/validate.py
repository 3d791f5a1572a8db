"""Validating lines: a batch of JSON Lines in, per line a ``FactSet`` ready to decide (the
line's records and the base records they refer to) or the line's problems.

Each line is a facts object, exactly as a facts file holds one (``{"appraisals": [...]}``).
The fast path validates the records of every fact type of a whole batch in one pydantic call,
then checks ids and references line by line. A line that fails anywhere is validated again
on its own by the facts loader, which names every problem (type, index, id, field): the
messages are those of ``kam-policy decide --facts``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from kam_policy.errors import FactError, FactIssue
from kam_policy.facts.load import FactSet, raw_identity, validate_facts
from kam_policy.facts.schema import FactSchema, FactType
from kam_policy.stream.base import BaseFacts, Ref
from kam_policy.stream.lines import Line, LineIssue, parse_line

__all__ = ["LineValidator", "RejectedLine", "ValidLine"]


@dataclass(frozen=True)
class ValidLine:
    """A line whose facts are valid.

    Args:
        line: the line number, from 1.
        facts: the line's records and the base records they refer to.
        count: how many records the line itself holds.
    """

    line: int
    facts: FactSet
    count: int


@dataclass(frozen=True)
class RejectedLine:
    """A line with problems: every one of them, in the loader's order."""

    line: int
    issues: tuple[LineIssue, ...]


Checked = ValidLine | RejectedLine
_Models = dict[str, list[BaseModel]]


class LineValidator:
    """Validates lines of facts against a schema, and against base facts when given.

    Args:
        schema: the fact types (``policy.schema``).
        base: reference facts the lines may refer to; a line may not repeat one of them.
    """

    def __init__(self, schema: FactSchema, base: BaseFacts | None = None) -> None:
        self.schema = schema
        self.base = base
        self._adapters = [(t, _list_adapter(t)) for t in schema.types]
        self._rank = {t.key: position for position, t in enumerate(schema.types)}

    def validate(self, batch: Sequence[Line]) -> list[Checked]:
        """Check a batch of numbered lines; returns one result per line, in order."""
        parsed = [(number, parse_line(number, raw)) for number, raw in batch]
        shaped = [pos for pos, (_, data) in enumerate(parsed) if self._well_formed(data)]
        models = self._validate_records(parsed, shaped)
        results: list[Checked] = []
        for pos, (number, data) in enumerate(parsed):
            if isinstance(data, LineIssue):
                results.append(RejectedLine(number, (data,)))
                continue
            line_models = models.get(pos)
            valid = self._assemble(number, line_models) if line_models is not None else None
            results.append(valid or self._one_line(number, data))
        return results

    def _well_formed(self, data: Any) -> bool:
        """An object whose every key names a fact type and holds a list."""
        by_key = self.schema.by_key
        return isinstance(data, dict) and all(
            key in by_key and isinstance(value, list) for key, value in data.items())

    # --- the fast path: whole batches ------------------------------------------------------

    def _validate_records(self, parsed: list[tuple[int, Any]],
                          shaped: list[int]) -> dict[int, _Models]:
        """The models of each well-formed line whose records are all valid, by position."""
        found: dict[int, _Models] = {pos: {} for pos in shaped}
        bad: set[int] = set()
        for fact_type, adapter in self._adapters:
            records, owners = [], []
            for pos in shaped:
                items = parsed[pos][1].get(fact_type.key, ())
                records.extend(items)
                owners.extend([pos] * len(items))
            for owner, model in _validated(adapter, records, owners, bad):
                found[owner].setdefault(fact_type.name, []).append(model)
        return {pos: models for pos, models in found.items() if pos not in bad}

    def _assemble(self, number: int, models: _Models) -> ValidLine | None:
        """The line's fact set, or None when an id or a reference needs a closer look."""
        ids: dict[str, set[str]] = {}
        for name, records in models.items():
            identities = self._identities(self.schema[name], records)
            if identities is None:
                return None
            ids[name] = identities
        refs = self._outside_refs(models, ids)
        if refs is None:
            return None
        by_type = {name: tuple(records) for name, records in models.items()}
        if refs and self.base is not None:
            for name, records in self.base.closure(refs).items():
                by_type[name] = (*by_type.get(name, ()), *records)
        count = sum(len(records) for records in models.values())
        return ValidLine(number, FactSet(self.schema, by_type), count)

    def _identities(self, fact_type: FactType, records: list[BaseModel]) -> set[str] | None:
        """The records' ids, when they are unique, keys too, and none is a base record's."""
        identities = {fact_type.identity(record) for record in records}
        if len(records) > 1:
            if len(identities) != len(records):
                return None
            for fields in fact_type.unique:
                if len({attrgetter(*fields)(record) for record in records}) != len(records):
                    return None
        base = self.base
        if base is not None and any(base.has(fact_type.name, i) for i in identities):
            return None
        return identities

    def _outside_refs(self, models: _Models, ids: dict[str, set[str]]) -> list[Ref] | None:
        """References the line does not resolve itself, all found in the base (else None)."""
        outside: list[Ref] = []
        for name, records in models.items():
            for field, target in self.schema[name].refs.items():
                local = ids.get(target, set())
                for record in records:
                    value = getattr(record, field)
                    if value is None or value in local:
                        continue
                    if self.base is None or not self.base.has(target, value):
                        return None
                    outside.append((target, value))
        return outside

    # --- the slow path: one line through the facts loader ----------------------------------

    def _one_line(self, number: int, data: Any) -> Checked:
        """Validate one line on its own, with every problem named as the loader names it."""
        if not isinstance(data, Mapping):
            message = ('must be an object of fact lists, like {"appraisals": [...]}, '
                       f"not {_kind(data)}")
            return RejectedLine(number, (LineIssue(number, message),))
        by_key = self.schema.by_key
        shape = {k: v for k, v in data.items() if k not in by_key or not isinstance(v, list)}
        if shape:  # first: the records of a broken line would miss their base records
            return self._rejected(number, self._issues(shape)[1])
        merged, clashes = self._with_base(data)
        facts, issues = self._issues(merged)
        if facts is None or clashes:
            return self._rejected(number, [*clashes, *issues])
        return ValidLine(number, facts, sum(len(records) for records in data.values()))

    def _issues(self, data: Mapping[str, Any]) -> tuple[FactSet | None, list[FactIssue]]:
        """The loader's verdict: the facts, or every issue."""
        try:
            return validate_facts(data, self.schema), []
        except FactError as error:
            return None, error.issues

    def _rejected(self, number: int, issues: list[FactIssue]) -> RejectedLine:
        issues.sort(key=lambda i: (self._rank.get(i.key, -1), -1 if i.index is None else i.index))
        return RejectedLine(number, tuple(LineIssue(number, str(i), i) for i in issues))

    def _with_base(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], list[FactIssue]]:
        """The line's data with the base records it refers to appended, and the line's
        records that repeat a base record."""
        merged = dict(data)
        if self.base is None:
            return merged, []
        raw = {t.name: _raw_records(data, t) for t in self.schema.types}
        ids = {name: {i for _, i in records if i is not None} for name, records in raw.items()}
        clashes = [_clash(self.schema[name], index, identity)
                   for name, records in raw.items() for index, identity in records
                   if identity is not None and self.base.has(name, identity)]
        refs = [(target, value)
                for t in self.schema.types for item in _items(data, t)
                for field, target in t.refs.items()
                if isinstance(value := item.get(field), str) and value not in ids[target]]
        for name, records in self.base.closure(refs).items():
            fact_type = self.schema[name]
            extra = [r for r in records if fact_type.identity(r) not in ids[name]]
            if extra:
                merged[fact_type.key] = [*merged.get(fact_type.key, []), *extra]
        return merged, clashes


def _list_adapter(fact_type: FactType) -> TypeAdapter[list[BaseModel]]:
    list_type: Any = list.__class_getitem__(fact_type.model)
    return TypeAdapter(list_type)


def _validated(adapter: TypeAdapter[list[BaseModel]], records: list[Any], owners: list[int],
               bad: set[int]) -> list[tuple[int, BaseModel]]:
    """Validate ``records`` in one call, (owner, model) for the owners without a bad record;
    owners of bad records are added to ``bad``."""
    try:
        return list(zip(owners, adapter.validate_python(records), strict=True))
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            loc = detail["loc"]
            if loc and isinstance(loc[0], int):
                bad.add(owners[loc[0]])
    except RecursionError:
        bad.update(owners)
        return []
    kept = [i for i, owner in enumerate(owners) if owner not in bad]
    try:
        models = adapter.validate_python([records[i] for i in kept])
    except (ValidationError, RecursionError):  # never expected: send them all the slow way
        bad.update(owners)
        return []
    return list(zip((owners[i] for i in kept), models, strict=True))


def _items(data: Mapping[str, Any], fact_type: FactType) -> list[Mapping[str, Any]]:
    """The raw records of one type that are objects."""
    value = data.get(fact_type.key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _raw_records(data: Mapping[str, Any], fact_type: FactType) -> list[tuple[int, str | None]]:
    """(index, id when readable) of each raw record of one type."""
    value = data.get(fact_type.key)
    if not isinstance(value, list):
        return []
    return [(index, raw_identity(fact_type, item)) for index, item in enumerate(value)]


def _clash(fact_type: FactType, index: int, identity: str) -> FactIssue:
    message = f"{fact_type.subject} {identity!r} is already in the base facts"
    return FactIssue(fact_type.key, index, identity, fact_type.id_field, message)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None or isinstance(value, bool):
        return "null" if value is None else "a boolean"
    if isinstance(value, int | Decimal):
        return "a number"
    return f"a {type(value).__name__}"
