"""The per-decision evaluation context: facts, indexes and conclusions of one ``decide`` call.

A context is created for each decision and never shared, so evaluation needs no locks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from kam_policy.facts.load import FactSet
from kam_policy.facts.schema import FactSchema


class Conclusion:
    """A conclusion as rules see it while deciding (see ``decision.Conclusion`` for output)."""

    __slots__ = ("_ctx", "_env", "name", "rule", "subject", "subject_type", "values")

    def __init__(self, name: str, subject: BaseModel, subject_type: str, values: dict[str, Any],
                 rule: Any, ctx: EvalContext, env: dict[str, Any]) -> None:
        self.name = name
        self.subject = subject
        self.subject_type = subject_type
        self.values = values
        self.rule = rule
        self._ctx = ctx
        self._env = env

    @property
    def reason(self) -> str | None:
        """The rule's ``because`` text with this firing's values (rendered on demand)."""
        template = self.rule[0].reason
        return None if template is None else str(template(self._ctx, self._env))


class EvalContext:
    """Facts, lazily built indexes and the conclusions emitted so far, at time ``now``."""

    __slots__ = ("_by_id", "_facts", "_id_fields", "_indexes", "conclusions", "memo", "now",
                 "tracer")

    def __init__(self, facts: FactSet, now: dt.datetime, id_fields: dict[str, str | None],
                 tracer: Any = None) -> None:
        self.now = now
        self._facts = facts
        self._by_id: dict[str, dict[Any, BaseModel]] = {}
        self._indexes: dict[int, dict[Any, list[Any]]] = {}
        self.conclusions: dict[str, list[Conclusion]] = {}
        self.memo: dict[Any, Any] = {}  # engine/memo.py: define and table results
        self.tracer = tracer
        self._id_fields = id_fields

    @property
    def schema(self) -> FactSchema:
        """The fact types of the facts being decided on."""
        return self._facts.schema

    def facts(self, type_name: str) -> Sequence[BaseModel]:
        return self._facts.of(type_name)

    def fact_lists(self) -> Mapping[str, Sequence[BaseModel]]:
        """The records of every fact type of the schema, by type name."""
        return self._facts.by_type

    def by_id(self, type_name: str) -> dict[Any, BaseModel]:
        table = self._by_id.get(type_name)
        if table is None:
            field = self._id_fields[type_name] or "id"
            table = {getattr(f, field): f for f in self._facts.of(type_name)}
            self._by_id[type_name] = table
        return table

    def source(self, kind: str, name: str) -> Sequence[Any]:
        if kind == "fact":
            return self._facts.of(name)
        return self.conclusions.get(name, ())

    def index(self, site: int, kind: str, name: str,
              key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
        """Items of a source grouped by ``key``, built once per decision and site."""
        table = self._indexes.get(site)
        if table is None:
            table = {}
            for item in self.source(kind, name):
                table.setdefault(key(item), []).append(item)
            self._indexes[site] = table
        return table
