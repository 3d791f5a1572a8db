"""Shared fixtures for the language tests: a tiny fact schema and policy-writing helpers.

The language tests check the rule language itself, so they run against three small fact
types declared here (``Team``, ``Member``, ``Ticket``) instead of the bundled models: a change
to the company's models must not break a test about, say, null semantics.

Helpers are plain functions (import them with ``from conftest import ...``) and fixtures
bound to ``tmp_path``, whichever reads better in a test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from pydantic import AwareDatetime, BaseModel, ConfigDict

import kam_policy
from kam_policy import Decision, Diagnostic, FactSchema, FactType, Policy, PolicyError
from kam_policy.facts.enums import OrderedEnum

# Records every diagnostic the tests provoke; test_i18n checks each has a Chinese translation.
pytest_plugins = ("diagnostic_recorder",)

HEADER = 'policy "Test policy" version "1.0"\n'
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


# ---- the tiny schema ---------------------------------------------------------------------


class Level(OrderedEnum):
    """An ordered enum: junior < senior < lead."""

    junior = "junior"
    senior = "senior"
    lead = "lead"


class Kind(StrEnum):
    """A plain (unordered) enum."""

    bug = "bug"
    feature = "feature"
    chore = "chore"


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Team(_Fact):
    id: str
    name: str
    budget: Decimal
    lead_id: str | None = None


class Member(_Fact):
    id: str
    name: str
    team_id: str
    level: Level
    score: Decimal | None = None
    joined_on: dt.date | None = None
    active: bool = True
    tags: list[str] = []


class Ticket(_Fact):
    id: str
    member_id: str
    kind: Kind
    opened_at: AwareDatetime
    closed_at: AwareDatetime | None = None
    hours: Decimal = Decimal(0)


def tiny_schema() -> FactSchema:
    """A new schema of the three tiny fact types (nothing cached on it yet)."""
    return FactSchema(
        [
            FactType("Team", Team, "teams", "team"),
            FactType("Member", Member, "members", "member", refs={"team_id": "Team"}),
            FactType("Ticket", Ticket, "tickets", "ticket", refs={"member_id": "Member"}),
        ]
    )


SCHEMA = tiny_schema()


# ---- fact builders -----------------------------------------------------------------------


def team(team_id: str = "T1", **fields: Any) -> dict[str, Any]:
    return {"id": team_id, "name": f"team {team_id}", "budget": "1000"} | fields


def member(member_id: str = "M1", **fields: Any) -> dict[str, Any]:
    return {"id": member_id, "name": f"member {member_id}", "team_id": "T1",
            "level": "junior"} | fields


def ticket(ticket_id: str = "K1", **fields: Any) -> dict[str, Any]:
    return {"id": ticket_id, "member_id": "M1", "kind": "bug",
            "opened_at": "2026-03-01T09:00:00+00:00"} | fields


def facts(*, teams: list[dict[str, Any]] | None = None,
          members: list[dict[str, Any]] | None = None,
          tickets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A facts mapping; one team T1 unless teams are given."""
    return {"teams": [team()] if teams is None else teams, "members": members or [],
            "tickets": tickets or []}


# ---- writing and loading policies --------------------------------------------------------


class SilentTracer:
    """A tracer with exactly the three methods the Tracer docstring asks for, doing nothing
    (its presence still makes rules run step by step through their closures)."""

    def matched(self, *args: Any) -> None:
        pass

    def not_matched(self, *args: Any) -> None:
        pass

    def emitted(self, *args: Any) -> None:
        pass


def write_policy(root: Path, files: Mapping[str, str]) -> Path:
    """Write rule files (relative name -> text) under ``root``; returns ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def load_text(tmp_path: Path, text: str, schema: FactSchema | None = None, *,
              params: Any = None, header: bool = True) -> Policy:
    """Load a one-file policy (``policy.kp``); the header is prepended unless ``header=False``."""
    source = (HEADER if header else "") + text
    folder = write_policy(tmp_path, {"policy.kp": source})
    return kam_policy.load(folder, params=params, schema=schema or SCHEMA)


def load_error(tmp_path: Path, text: str, schema: FactSchema | None = None, *,
               header: bool = True, error: type[PolicyError] = PolicyError,
               params: Any = None) -> tuple[PolicyError, str]:
    """Load a policy that must fail; returns the error and the full text of ``policy.kp``."""
    with pytest.raises(error) as info:
        load_text(tmp_path, text, schema, params=params, header=header)
    return info.value, (HEADER if header else "") + text


def only(error: PolicyError) -> Diagnostic:
    """The single diagnostic of ``error`` (fails, showing them all, if there are more)."""
    assert len(error.diagnostics) == 1, error.rendered
    return error.diagnostics[0]


def decide(policy: Policy, data: Mapping[str, Any] | None = None,
           now: dt.datetime = NOW) -> Decision:
    return policy.decide(data if data is not None else facts(), now)


def values_of(decision: Decision, name: str) -> list[dict[str, Any]]:
    """The JSON values of every conclusion ``name``, in decision order."""
    return [dict(c.values) for c in decision.named(name)]


# ---- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def load(tmp_path: Path) -> Callable[..., Policy]:
    """``load(text, **kw)``: ``load_text`` bound to this test's ``tmp_path``."""

    def bound(text: str, schema: FactSchema | None = None, **kw: Any) -> Policy:
        return load_text(tmp_path, text, schema, **kw)

    return bound


@pytest.fixture
def load_fails(tmp_path: Path) -> Callable[..., tuple[PolicyError, str]]:
    """``load_fails(text, **kw)``: ``load_error`` bound to this test's ``tmp_path``."""

    def bound(text: str, schema: FactSchema | None = None,
              **kw: Any) -> tuple[PolicyError, str]:
        return load_error(tmp_path, text, schema, **kw)

    return bound
