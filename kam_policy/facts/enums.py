"""Enumerations used by fact models: plain and ordered string enums.

An enum value at run time is its string (``StrEnum``), so facts compare, hash and
serialise as text. An ``OrderedEnum`` additionally ranks its members in declaration
order (``high_school < associate < bachelor``); members listed in ``__unranked__``
take part in ``==`` and ``in`` but in no ordering (``lost`` among sales stages).
"""

from __future__ import annotations

from enum import StrEnum


class OrderedEnum(StrEnum):
    """A string enum whose declaration order is its rank (first is lowest)."""

    __unranked__: tuple[str, ...] = ()


def enum_rank(enum_cls: type[StrEnum]) -> dict[str, int] | None:
    """The rank of each ranked member of an ordered enum, or None for a plain enum."""
    if not issubclass(enum_cls, OrderedEnum):
        return None
    unranked = set(getattr(enum_cls, "__unranked__", ()))
    ranked = [str(m.value) for m in enum_cls if m.value not in unranked]
    return {value: index for index, value in enumerate(ranked)}


class Role(StrEnum):
    sales_rep = "sales_rep"
    project_manager = "project_manager"
    after_sales = "after_sales"


class Education(OrderedEnum):
    high_school = "high_school"
    associate = "associate"
    bachelor = "bachelor"
    master = "master"
    doctorate = "doctorate"


class CareerTrack(StrEnum):
    professional = "professional"
    management = "management"


class Tier(StrEnum):
    strategic = "strategic"
    key = "key"


class Severity(OrderedEnum):
    minor = "minor"
    general = "general"
    major = "major"
    critical = "critical"


class AppraisalKind(StrEnum):
    monthly = "monthly"
    annual = "annual"


class Dimension(StrEnum):
    performance = "performance"
    attitude = "attitude"
    teamwork = "teamwork"
    satisfaction = "satisfaction"


class Source(StrEnum):
    supervisor = "supervisor"
    peer = "peer"
    client = "client"


class TrainingKind(StrEnum):
    internal = "internal"
    external = "external"
    practice = "practice"


class Phase(OrderedEnum):
    initiation = "initiation"
    requirements = "requirements"
    design = "design"
    implementation = "implementation"
    acceptance = "acceptance"
    review = "review"
    closed = "closed"


class Stage(OrderedEnum):
    __unranked__ = ("lost",)

    research = "research"
    contact = "contact"
    needs_analysis = "needs_analysis"
    proposal = "proposal"
    negotiation = "negotiation"
    signed = "signed"
    lost = "lost"
