"""Base facts: reference records shared by every line, found by type and id, with the records
they refer to in turn (a staff member's manager, the manager's manager...)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from kam_policy.facts.load import FactSet
from kam_policy.facts.schema import FactSchema

__all__ = ["BaseFacts"]

Ref = tuple[str, str]
"""A reference: the fact type name and the id it names (``("Staff", "S1")``)."""


class BaseFacts:
    """Validated reference facts (``--facts base.json``), indexed by type and identity.

    Args:
        facts: the base facts; loaded once, shared by every line.
    """

    def __init__(self, facts: FactSet) -> None:
        self.facts = facts
        self.schema: FactSchema = facts.schema
        self._records = {t.name: {t.identity(fact): fact for fact in facts.of(t.name)}
                         for t in self.schema.types}

    def __len__(self) -> int:
        return sum(len(records) for records in self._records.values())

    def has(self, type_name: str, identity: str) -> bool:
        """Whether a base record of type ``type_name`` has this id."""
        return identity in self._records[type_name]

    def closure(self, refs: Iterable[Ref]) -> dict[str, list[BaseModel]]:
        """The base records named by ``refs`` and, transitively, those they refer to.

        Returns:
            Records by fact type name, each once; names not in the base are passed over.
        """
        found: dict[str, dict[str, BaseModel]] = {}
        stack = list(refs)
        while stack:
            name, identity = stack.pop()
            record = self._records[name].get(identity)
            seen = found.setdefault(name, {})
            if record is None or identity in seen:
                continue
            seen[identity] = record
            for field, target in self.schema[name].refs.items():
                value = getattr(record, field)
                if value is not None:
                    stack.append((target, value))
        return {name: list(records.values()) for name, records in found.items() if records}
