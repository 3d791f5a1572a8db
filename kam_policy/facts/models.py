"""Fact models: one frozen pydantic model per fact type of the reference policy.

Field names, types and ranges follow section A of the reference policy. Decimals
stay exact (``decimal.Decimal``), datetimes must carry a time zone, dates and
datetimes are ISO 8601 text (never Unix timestamps), and unknown fields are errors.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from kam_policy.facts.enums import (
    AppraisalKind,
    CareerTrack,
    Dimension,
    Education,
    Phase,
    Role,
    Severity,
    Source,
    Stage,
    Tier,
    TrainingKind,
    enum_rank,
)

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]")
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_YEAR = re.compile(r"[0-9]{4}")
_STAGE_RANK = enum_rank(Stage) or {}
_MONEY_LIMIT = 10**15


def _iso_date(value: object) -> object:
    """Let only ``YYYY-MM-DD`` text or a ``date`` through (no timestamps, no datetimes)."""
    if isinstance(value, str) and _DATE.fullmatch(value):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise PydanticCustomError("date_format", "must be a date written YYYY-MM-DD")


def _iso_datetime(value: object) -> object:
    """Let only ISO 8601 datetime text or a ``datetime`` through (no timestamps)."""
    if isinstance(value, str) and _DATETIME.match(value):
        return value
    if isinstance(value, datetime):
        return value
    raise PydanticCustomError(
        "datetime_format",
        "must be an ISO 8601 datetime with a time zone, e.g. 2026-10-01T09:00:00+08:00",
    )


Id = Annotated[str, StringConstraints(strict=True, min_length=1)]
"""A record id, or a reference to one: a non-empty string."""

Score = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)]
Years = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)]
Money = Annotated[Decimal, Field(ge=0, lt=_MONEY_LIMIT, allow_inf_nan=False)]
Target = Annotated[Decimal, Field(gt=0, lt=_MONEY_LIMIT, allow_inf_nan=False)]
Count = Annotated[StrictInt, Field(ge=0)]
Date = Annotated[date, BeforeValidator(_iso_date)]
DateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]


class Fact(BaseModel):
    """Base of every fact model: immutable, and unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Staff(Fact):
    """A staff member, with the experience that role eligibility reads."""

    id: Id
    name: StrictStr
    role: Role | None = None
    education: Education
    major: StrictStr
    sales_years: Years
    ka_sales_years: Years
    pm_years: Years
    ka_project_years: Years
    after_sales_years: Years
    role_since: Date | None = None
    manager_id: Id | None = None
    career_track: CareerTrack
    monthly_target_bonus: Money | None = None


class Application(Fact):
    """A staff member's application for a role."""

    id: Id
    staff_id: Id
    role: Role


class Client(Fact):
    """A key account, its owner and its contact and survey history."""

    id: Id
    name: StrictStr
    tier: Tier
    owner_id: Id
    last_contact_at: DateTime
    last_survey_at: Date | None = None
    last_survey_score: Score | None = None


class Complaint(Fact):
    """A client complaint and its handling times."""

    id: Id
    client_id: Id
    assigned_to: Id
    severity: Severity
    opened_at: DateTime
    first_response_at: DateTime | None = None
    resolved_at: DateTime | None = None
    client_notified_at: DateTime | None = None
    reopened_count: Count


class Appraisal(Fact):
    """A monthly or annual 360° appraisal: scores by dimension, then by source."""

    id: Id
    staff_id: Id
    kind: AppraisalKind
    period: StrictStr
    scores: dict[Dimension, dict[Source, Score]]

    @field_validator("period")
    @classmethod
    def _period_fits_kind(cls, period: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind is AppraisalKind.monthly and not _MONTH.fullmatch(period):
            raise PydanticCustomError(
                "period_format", "must be YYYY-MM (e.g. 2026-10) for a monthly appraisal"
            )
        if kind is AppraisalKind.annual and not _YEAR.fullmatch(period):
            raise PydanticCustomError(
                "period_format", "must be YYYY (e.g. 2026) for an annual appraisal"
            )
        return period


class Training(Fact):
    """A completed training course and its exam score."""

    id: Id
    staff_id: Id
    course: StrictStr
    kind: TrainingKind
    completed_on: Date
    exam_score: Score | None = None


class SalesResult(Fact):
    """A staff member's sales target and result for one month."""

    staff_id: Id
    period: StrictStr
    target: Target
    actual: Money

    @field_validator("period")
    @classmethod
    def _period_is_month(cls, period: str) -> str:
        if not _MONTH.fullmatch(period):
            raise PydanticCustomError("period_format", "must be YYYY-MM (e.g. 2026-10)")
        return period


class Project(Fact):
    """A delivery project, its gates, budget and schedule."""

    id: Id
    client_id: Id
    manager_id: Id
    phase: Phase
    design_review_approved: StrictBool
    client_signoff: StrictBool
    budget: Money
    actual_cost: Money
    start: Date
    planned_end: Date
    forecast_end: Date
    accepted_on: Date | None = None
    review_done_on: Date | None = None


class Opportunity(Fact):
    """A sales opportunity, its current stage and the stages it went through."""

    id: Id
    client_id: Id
    owner_id: Id
    stage: Stage
    stages_passed: list[Stage]
    last_activity_at: DateTime

    @field_validator("stages_passed")
    @classmethod
    def _stages_in_order(cls, stages: list[Stage]) -> list[Stage]:
        if Stage.lost in stages:
            raise PydanticCustomError("stage_order", "'lost' is not a stage one passes")
        ranks = [_STAGE_RANK[stage] for stage in stages]
        for before, after, stage in zip(ranks, ranks[1:], stages[1:], strict=False):
            if after <= before:
                raise PydanticCustomError(
                    "stage_order",
                    "stages must be in stage order without repeats; '{stage}' is out of place",
                    {"stage": stage.value},
                )
        return stages


FACT_MODELS: tuple[type[Fact], ...] = (
    Staff,
    Application,
    Client,
    Complaint,
    Appraisal,
    Training,
    SalesResult,
    Project,
    Opportunity,
)
