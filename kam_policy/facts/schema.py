"""Fact types: the pydantic models a policy reads, and how input JSON names them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel


@dataclass(frozen=True)
class FactType:
    """One registered fact type.

    Args:
        name: the name rule files use (``Complaint``).
        model: the pydantic model validating one record.
        key: the top-level key of the facts JSON holding the list (``complaints``).
        subject: the subject type in conclusions (``complaint``).
        id_field: the field holding the record's id, or None when the identity is
            the ``unique`` key (a SalesResult is identified by staff and period).
        refs: fields that name a record of another fact type (``{"assigned_to": "Staff"}``).
        unique: extra field tuples that must be unique among records of this type.
    """

    name: str
    model: type[BaseModel]
    key: str
    subject: str
    id_field: str | None = "id"
    refs: Mapping[str, str] = field(default_factory=dict)
    unique: tuple[tuple[str, ...], ...] = ()

    def identity(self, fact: BaseModel) -> str:
        """The id naming ``fact`` in messages and subjects."""
        if self.id_field is not None:
            return str(getattr(fact, self.id_field))
        return "/".join(str(getattr(fact, name)) for name in self.unique[0])


class FactSchema:
    """The fact types a policy is checked against and evaluated on."""

    def __init__(self, types: Iterable[FactType]) -> None:
        self.types: tuple[FactType, ...] = tuple(types)
        self.by_name: dict[str, FactType] = {t.name: t for t in self.types}
        self.by_key: dict[str, FactType] = {t.key: t for t in self.types}
        if len(self.by_name) != len(self.types) or len(self.by_key) != len(self.types):
            raise ValueError("fact type names and keys must be unique")

    def __reduce__(self) -> tuple[type[FactSchema], tuple[tuple[FactType, ...]]]:
        # Only the types: validators cached on the instance are rebuilt after unpickling.
        return (type(self), (self.types,))

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def __getitem__(self, name: str) -> FactType:
        return self.by_name[name]
