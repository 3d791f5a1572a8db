"""Facts loader: facts JSON (or Python data) in, a validated, immutable ``FactSet`` out.

Validation runs in three steps: each fact type's whole list through one pydantic
call, then duplicate ids and unique keys within a type, then references between
types. Every problem becomes a ``FactIssue``; either they are all raised together
as one ``FactError``, or (``skip_invalid``) the bad records are dropped, together
with every record left referring to a dropped one, and reported in ``skipped``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_args

import annotated_types as at
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from kam_policy.errors import FactError, FactIssue
from kam_policy.facts.schema import FactSchema, FactType

__all__ = [
    "FactSet",
    "JsonProblem",
    "load_facts_file",
    "parse_facts_json",
    "parse_json_int",
    "raw_identity",
    "reject_json_constant",
    "unique_json_keys",
    "validate_facts",
]


# --- the result ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactSet:
    """Validated facts, by fact type name, in input order.

    Args:
        schema: the schema the facts were validated against.
        by_type: the records of each fact type, keyed by ``FactType.name``; every
            type of the schema is present (an empty tuple when there are none).
        skipped: why records were dropped by ``skip_invalid``: one issue per problem,
            so a record may appear more than once.
    """

    schema: FactSchema
    by_type: Mapping[str, tuple[BaseModel, ...]]
    skipped: tuple[FactIssue, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.by_type) - set(self.schema.by_name)
        if unknown:
            raise ValueError(f"not fact types of the schema: {sorted(unknown)}")
        frozen = {t.name: tuple(self.by_type.get(t.name, ())) for t in self.schema.types}
        object.__setattr__(self, "by_type", MappingProxyType(frozen))
        object.__setattr__(self, "skipped", tuple(self.skipped))

    def of(self, name: str) -> tuple[BaseModel, ...]:
        """The records of fact type ``name`` (``"Complaint"``)."""
        return self.by_type[name]

    def to_jsonable(self) -> dict[str, list[dict[str, Any]]]:
        """The facts as JSON-ready data keyed by JSON key; ``validate_facts`` reads it back."""
        return {
            t.key: [fact.model_dump(mode="json") for fact in self.by_type[t.name]]
            for t in self.schema.types
        }


# --- per-schema validators -----------------------------------------------------------------------

_CACHE_ATTR = "_kam_fact_checks"


@dataclass(frozen=True)
class _TypeCheck:
    """What validating one fact type needs, built once per schema."""

    fact_type: FactType
    adapter: TypeAdapter[list[BaseModel]]
    fields: tuple[str, ...]
    ranges: Mapping[str, str]


def _checks(schema: FactSchema) -> Mapping[str, _TypeCheck]:
    """The per-type validators of ``schema``, built on first use and kept on the schema."""
    cached: Mapping[str, _TypeCheck] | None = vars(schema).get(_CACHE_ATTR)
    if cached is None:
        cached = MappingProxyType({t.name: _build_check(t, schema) for t in schema.types})
        vars(schema)[_CACHE_ATTR] = cached
    return cached


def _build_check(fact_type: FactType, schema: FactSchema) -> _TypeCheck:
    for ref, target in fact_type.refs.items():
        if target not in schema:
            raise ValueError(f"{fact_type.name}.{ref} refers to unknown fact type {target!r}")
    model_fields = fact_type.model.model_fields
    ranges = {name: text for name, info in model_fields.items() if (text := _range_text(info))}
    list_type: Any = list.__class_getitem__(fact_type.model)
    adapter: TypeAdapter[list[BaseModel]] = TypeAdapter(list_type)
    return _TypeCheck(fact_type, adapter, tuple(model_fields), ranges)


_BOUND_ATTRS: dict[type, str] = {at.Ge: "ge", at.Gt: "gt", at.Le: "le", at.Lt: "lt"}


def _range_text(info: FieldInfo) -> str | None:
    """'must be between 0 and 100' for a field whose type (or item type) is bounded."""
    bounds: dict[type, Any] = {}
    stack: list[Any] = [*info.metadata, info.annotation]
    while stack:
        item = stack.pop()
        if isinstance(item, FieldInfo):
            stack.extend(item.metadata)
        elif type(item) in _BOUND_ATTRS:
            bounds[type(item)] = getattr(item, _BOUND_ATTRS[type(item)])
        else:
            stack.extend(get_args(item))
    return _bounds_text(bounds)


def _bounds_text(bounds: Mapping[type, Any]) -> str | None:
    if at.Ge in bounds and at.Le in bounds:
        return f"must be between {_number(bounds[at.Ge])} and {_number(bounds[at.Le])}"
    words = {at.Ge: "at least", at.Gt: "greater than", at.Le: "at most", at.Lt: "less than"}
    parts = [f"{words[kind]} {_number(bounds[kind])}" for kind in words if kind in bounds]
    return "must be " + " and ".join(parts) if parts else None


def _number(value: Any) -> str:
    """A bound as text; large powers of ten as ``10^15``."""
    text = str(value)
    if len(text) > 6 and text.strip("0") == "1":
        return f"10^{len(text) - 1}"
    return text


# --- validation ----------------------------------------------------------------------------------


@dataclass
class _Batch:
    """The records of one fact type while they are being checked."""

    check: _TypeCheck
    raw: Sequence[Any]
    kept: dict[int, BaseModel] = field(default_factory=dict)

    @property
    def fact_type(self) -> FactType:
        return self.check.fact_type


def validate_facts(
    data: Mapping[str, Any], schema: FactSchema, *, skip_invalid: bool = False
) -> FactSet:
    """Validate facts given as Python data.

    Args:
        data: JSON key (``"complaints"``) to a list of records, each a dict or an
            instance of the fact type's model.
        schema: the fact types to validate against.
        skip_invalid: drop bad records (and records referring to them) and report
            them in ``FactSet.skipped`` instead of raising.

    Returns:
        The validated facts.

    Raises:
        FactError: listing every issue, when any record is bad and not ``skip_invalid``.
    """
    return _validate(data, schema, skip_invalid, source=None)


def _validate(data: Any, schema: FactSchema, skip_invalid: bool, source: str | None) -> FactSet:
    if not isinstance(data, Mapping):
        what = _json_kind(data)
        raise _load_error(source or "<facts>", f"facts must be an object of lists, not {what}")
    checks = _checks(schema)
    issues = _unknown_keys(data, schema)
    batches = [_batch(data, check, issues) for check in checks.values()]
    for batch in batches:
        issues.extend(_validate_batch(batch))
        issues.extend(_duplicates(batch))
    issues.extend(_references(batches, skip_invalid))
    issues.sort(key=_issue_order(schema))
    if issues and not skip_invalid:
        headline = f"invalid facts ({len(issues)} problem{'s' if len(issues) > 1 else ''})"
        raise FactError(issues, f"{source}: {headline}" if source else headline)
    by_type = {b.fact_type.name: tuple(b.kept.values()) for b in batches}
    return FactSet(schema, by_type, tuple(issues))


def _unknown_keys(data: Mapping[Any, Any], schema: FactSchema) -> list[FactIssue]:
    issues = []
    for key in data:
        if key not in schema.by_key:
            message = f"unknown top-level key {_show(key)}{_did_you_mean(key, schema.by_key)}"
            issues.append(FactIssue(str(key), None, None, None, message))
    return issues


def _batch(data: Mapping[Any, Any], check: _TypeCheck, issues: list[FactIssue]) -> _Batch:
    """The raw records under one key; a value that is not a list becomes an issue."""
    key = check.fact_type.key
    raw = data.get(key, [])
    if isinstance(raw, list | tuple):
        return _Batch(check, raw)
    issues.append(FactIssue(key, None, None, None, f"must be a list, not {_json_kind(raw)}"))
    return _Batch(check, [])


def _validate_batch(batch: _Batch) -> list[FactIssue]:
    """Validate one whole list in one pydantic call; keep the good records."""
    adapter = batch.check.adapter
    try:
        models = adapter.validate_python(batch.raw)
        batch.kept = dict(enumerate(models))
        return []
    except ValidationError as err:
        errors = err.errors(include_url=False)
    except RecursionError:
        return [FactIssue(batch.fact_type.key, None, None, None, "data nested too deeply")]
    issues = [_error_issue(batch, error) for error in errors]
    bad = {issue.index for issue in issues}
    good = [index for index in range(len(batch.raw)) if index not in bad]
    batch.kept = dict(zip(good, adapter.validate_python([batch.raw[i] for i in good]), strict=True))
    return issues


def _duplicates(batch: _Batch) -> list[FactIssue]:
    """Records repeating an earlier record's id or unique key; the first one stays."""
    fact_type = batch.fact_type
    keys = [(fact_type.id_field,)] if fact_type.id_field else []
    issues = []
    for fields in [*keys, *fact_type.unique]:
        read = attrgetter(*fields)
        first: dict[Any, int] = {}
        for index, fact in list(batch.kept.items()):
            value = read(fact)
            if value in first:
                issues.append(_duplicate_issue(batch, index, fields, first[value]))
                del batch.kept[index]
            else:
                first[value] = index
    return issues


def _duplicate_issue(batch: _Batch, index: int, fields: tuple[str, ...], first: int) -> FactIssue:
    fact_type = batch.fact_type
    fact_id = fact_type.identity(batch.kept[index])
    if fields == (fact_type.id_field,):
        message = f"duplicate id {fact_id!r} (first at index {first})"
        return FactIssue(fact_type.key, index, fact_id, fields[0], message)
    message = f"duplicate {fact_type.subject}: same {', '.join(fields)} as index {first}"
    return FactIssue(fact_type.key, index, fact_id, None, message)


# --- references ----------------------------------------------------------------------------------


_Ref = tuple["_Batch", int, str, str]
"""A reference: the referring batch, record index, field, and target fact type."""


@dataclass
class _RefState:
    """Which ids exist, which were dropped, and who refers to whom (for skipping)."""

    alive: dict[str, set[str]]
    dropped: dict[str, set[str]]
    referrers: dict[tuple[str, str], list[_Ref]] = field(default_factory=dict)


def _references(batches: list[_Batch], skip: bool) -> list[FactIssue]:
    """Every reference must name a kept record; with ``skip``, orphans are dropped in turn."""
    state = _ref_state(batches, skip)
    issues = [issue for batch in batches for issue in _bad_record_refs(state, batch)]
    orphans: list[_Ref] = []
    for batch in batches:
        for index, fact in batch.kept.items():
            for ref, target in batch.fact_type.refs.items():
                value = getattr(fact, ref)
                if value is None:
                    continue
                if value not in state.alive[target]:
                    orphans.append((batch, index, ref, target))
                elif skip:
                    state.referrers.setdefault((target, value), []).append(
                        (batch, index, ref, target)
                    )
    if not skip:
        return issues + [_orphan_issue(state, orphan) for orphan in orphans]
    return issues + _drop_orphans(state, orphans)


def _bad_record_refs(state: _RefState, batch: _Batch) -> list[FactIssue]:
    """Unknown references of records that already failed, so one run reports them all."""
    issues = []
    for index, item in _bad_records(batch):
        if not isinstance(item, Mapping):
            continue
        for ref, target in batch.fact_type.refs.items():
            value = item.get(ref)
            if isinstance(value, str) and value and not _exists(state, target, value):
                fact_id = raw_identity(batch.fact_type, item)
                message = f"unknown {target} id {_show(value)}"
                issues.append(FactIssue(batch.fact_type.key, index, fact_id, ref, message))
    return issues


def _ref_state(batches: list[_Batch], skip: bool) -> _RefState:
    alive = {b.fact_type.name: {b.fact_type.identity(f) for f in b.kept.values()} for b in batches}
    dropped: dict[str, set[str]] = {name: set() for name in alive}
    for batch in batches:
        for _index, item in _bad_records(batch):
            fact_id = raw_identity(batch.fact_type, item)
            if fact_id is not None:
                # Without skipping, a reference to a bad record is not an extra problem.
                (dropped if skip else alive)[batch.fact_type.name].add(fact_id)
    return _RefState(alive, dropped)


def _bad_records(batch: _Batch) -> Iterator[tuple[int, Any]]:
    """The raw records that failed validation or were duplicates."""
    if len(batch.kept) == len(batch.raw):
        return iter(())
    return ((i, item) for i, item in enumerate(batch.raw) if i not in batch.kept)


def _exists(state: _RefState, target: str, value: str) -> bool:
    return value in state.alive[target] or value in state.dropped[target]


def _drop_orphans(state: _RefState, orphans: list[_Ref]) -> list[FactIssue]:
    """Drop orphans, then whatever referred to them, until nothing changes."""
    issues = []
    while orphans:
        orphan = orphans.pop()
        batch, index = orphan[0], orphan[1]
        if index not in batch.kept:
            continue
        issues.append(_orphan_issue(state, orphan))
        fact_id = batch.fact_type.identity(batch.kept.pop(index))
        name = batch.fact_type.name
        state.alive[name].discard(fact_id)
        state.dropped[name].add(fact_id)
        orphans.extend(state.referrers.pop((name, fact_id), []))
    return issues


def _orphan_issue(state: _RefState, orphan: _Ref) -> FactIssue:
    batch, index, ref, target = orphan
    fact = batch.kept[index]
    value = getattr(fact, ref)
    if value in state.dropped[target]:
        message = f"{target} id {_show(value)} was skipped as invalid"
    else:
        message = f"unknown {target} id {_show(value)}"
    return FactIssue(batch.fact_type.key, index, batch.fact_type.identity(fact), ref, message)


# --- turning pydantic errors into issues ---------------------------------------------------------

_TYPE_MESSAGES = {
    "missing": "field required",
    "timezone_aware": "datetime has no time zone",
    "string_type": "must be a string",
    "string_too_short": "must not be empty",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_type": "must be true or false",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
}
_BOUND_TYPES = {
    "greater_than": "greater than",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "less_than_equal": "at most",
}
_QUOTED = re.compile(r"'([^']*)'")


def _error_issue(batch: _Batch, error: ErrorDetails) -> FactIssue:
    loc = error["loc"]
    index = loc[0] if loc and isinstance(loc[0], int) else None
    path = [part for part in loc[1:] if part != "[key]"]
    item = batch.raw[index] if index is not None else None
    fact_id = raw_identity(batch.fact_type, item)
    return FactIssue(batch.fact_type.key, index, fact_id, _dotted(path), _message(batch, error))


def _message(batch: _Batch, error: ErrorDetails) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        name = loc[-1]
        return f"unknown field {_show(name)}{_did_you_mean(name, batch.check.fields)}"
    if kind == "enum":
        choices = _QUOTED.findall(str(error.get("ctx", {}).get("expected", "")))
        return f"{_show(error['input'])} is not one of {', '.join(choices)}"
    if kind in _BOUND_TYPES:
        return _bound_message(batch, error)
    if kind == "int_type" and isinstance(error["input"], Decimal):
        return _integer_message(error["input"])
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    message = error["msg"]
    return message[:1].lower() + message[1:]


def _bound_message(batch: _Batch, error: ErrorDetails) -> str:
    loc = error["loc"]
    field_name = loc[1] if len(loc) > 1 else None
    if isinstance(field_name, str) and field_name in batch.check.ranges:
        return batch.check.ranges[field_name]
    bound = next(iter(error.get("ctx", {}).values()), "?")
    return f"must be {_BOUND_TYPES[error['type']]} {_number(bound)}"


def _integer_message(value: Decimal) -> str:
    if value.is_finite() and value == value.to_integral_value() and value.adjusted() >= 18:
        return "integer is too large"
    return "must be an integer"


def _dotted(path: Sequence[int | str]) -> str | None:
    """``scores.performance.supervisor``; list positions as ``stages_passed[2]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return (text if len(text) <= 80 else text[:77] + "...") or None


def raw_identity(fact_type: FactType, item: Any) -> str | None:
    """The id of a raw record when it can be read (``S1``; ``S1/2026-10`` for SalesResult)."""
    if isinstance(item, fact_type.model):
        return fact_type.identity(item)
    fields = (fact_type.id_field,) if fact_type.id_field else next(iter(fact_type.unique), ())
    if not isinstance(item, Mapping) or not fields:
        return None
    values = [item.get(name) for name in fields]
    texts = [value for value in values if isinstance(value, str) and value]
    return "/".join(texts) if len(texts) == len(values) else None


def _did_you_mean(name: Any, choices: Any) -> str:
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(value: Any) -> str:
    """A short, safe ``repr`` of an input value for messages."""
    try:
        text = repr(value)
    except Exception:  # a huge int refuses str(); a foreign object may raise anything
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 40 else text[:37] + "..."


def _json_kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None or isinstance(value, bool):
        return "null" if value is None else "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    return f"a {type(value).__name__}"


def _issue_order(schema: FactSchema) -> Callable[[FactIssue], tuple[int, int]]:
    rank = {t.key: position for position, t in enumerate(schema.types)}

    def key(issue: FactIssue) -> tuple[int, int]:
        index = -1 if issue.index is None else issue.index
        return (rank.get(issue.key, -1), index)

    return key


# --- JSON text and files -------------------------------------------------------------------------


class JsonProblem(Exception):
    """A problem the JSON hooks find (duplicate key, NaN); its text is the message."""


def parse_facts_json(
    text: str | bytes,
    schema: FactSchema,
    *,
    source: str = "<facts>",
    skip_invalid: bool = False,
) -> FactSet:
    """Parse facts JSON and validate it.

    Numbers stay exact (``85.005`` is ``Decimal("85.005")``); NaN, Infinity and
    duplicate keys are rejected; a UTF-8 byte order mark is accepted.

    Args:
        text: the JSON document, as text or UTF-8 bytes.
        schema: the fact types to validate against.
        source: the name used in messages (usually the file name).
        skip_invalid: as for ``validate_facts``.

    Returns:
        The validated facts.

    Raises:
        FactError: the text is not a facts document, or (unless ``skip_invalid``) a
            record is invalid.
    """
    data = _parse_json(_decode(text, source), source)
    return _validate(data, schema, skip_invalid, source)


def load_facts_file(
    path: str | os.PathLike[str], schema: FactSchema, *, skip_invalid: bool = False
) -> FactSet:
    """Read a facts JSON file and validate it (see ``parse_facts_json``).

    Raises:
        FactError: the file cannot be read, or its facts are invalid.
    """
    try:
        raw = Path(path).read_bytes()
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise _load_error(str(path), f"cannot read facts file: {reason}") from None
    return parse_facts_json(raw, schema, source=str(path), skip_invalid=skip_invalid)


def _decode(text: str | bytes, source: str) -> str:
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as err:
            bad = err.object[err.start]
            message = f"not valid UTF-8 (byte 0x{bad:02x} at offset {err.start})"
            raise _load_error(source, message) from None
    if not isinstance(text, str):
        raise _load_error(source, f"facts must be JSON text, not {type(text).__name__}")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _load_error(source, "facts file is empty")
    return text


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_int=parse_json_int,
            parse_constant=reject_json_constant,
            object_pairs_hook=unique_json_keys,
        )
    except json.JSONDecodeError as err:
        message = f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}"
        raise _load_error(source, message) from None
    except JsonProblem as err:
        raise _load_error(source, str(err)) from None
    except RecursionError:
        raise _load_error(source, "JSON is nested too deeply") from None
    except ValueError as err:
        raise _load_error(source, f"invalid JSON: {err}") from None


def parse_json_int(digits: str) -> int | Decimal:
    """The ``parse_int`` JSON hook: an int, or an exact Decimal past Python's int-string
    digit limit.

    The range check of the field then reports the number with its record and field,
    instead of ``json`` failing with no position.
    """
    try:
        return int(digits)
    except ValueError:
        return Decimal(digits)


def reject_json_constant(name: str) -> Any:
    """The ``parse_constant`` JSON hook: ``NaN``, ``Infinity`` and ``-Infinity`` raise
    ``JsonProblem``."""
    raise JsonProblem(f"{name} is not a number facts may use")


def unique_json_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The ``object_pairs_hook`` JSON hook: the object as a dict; a repeated key raises
    ``JsonProblem``."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JsonProblem(f"duplicate key {_show(key)} in a JSON object")
        result[key] = value
    return result


def _load_error(source: str, message: str) -> FactError:
    return FactError([FactIssue(source, None, None, None, message)], "cannot load facts")
