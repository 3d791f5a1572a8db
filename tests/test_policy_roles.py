"""Section B of the reference policy: role eligibility, for each application."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from policy_helpers import (
    application,
    concl,
    decide,
    decide_about,
    expect,
    facts,
    staff,
    top_manager,
)


def judge(role: str, **fields: Any) -> list[dict[str, Any]]:
    """The conclusions about application A1 of S1 (with ``fields``) for ``role``."""
    data = facts(staff=[top_manager(), staff("S1", **fields)],
                 applications=[application("A1", "S1", role)])
    return decide_about(data, "application", "A1")


def eligible(role: str, preferred: bool = False) -> list[dict[str, Any]]:
    found = [concl("eligible", "application", "A1", role=role)]
    if preferred:
        found.append(concl("preferred_candidate", "application", "A1", role=role))
    return expect(*found)


def ineligible(role: str, *reasons: str) -> list[dict[str, Any]]:
    return [concl("ineligible", "application", "A1", role=role, reasons=list(reasons))]


# Exactly at every minimum: education, years and key-account years.
AT_MINIMUM: dict[str, dict[str, Any]] = {
    "sales_rep": {"education": "bachelor", "sales_years": 3, "ka_sales_years": 1},
    "project_manager": {"education": "bachelor", "pm_years": 3, "ka_project_years": 1},
    "after_sales": {"education": "associate", "after_sales_years": 2},
}
EXPERIENCE_FIELD = {"sales_rep": "sales_years", "project_manager": "pm_years",
                    "after_sales": "after_sales_years"}
KA_FIELD = {"sales_rep": "ka_sales_years", "project_manager": "ka_project_years"}
BELOW_EDUCATION = {"sales_rep": "associate", "project_manager": "associate",
                   "after_sales": "high_school"}
EMPTY_RECORD: dict[str, Any] = {"sales_years": 0, "ka_sales_years": 0, "pm_years": 0,
                                "ka_project_years": 0, "after_sales_years": 0}


@pytest.mark.parametrize("role", sorted(AT_MINIMUM))
def test_exactly_at_every_minimum_is_eligible(role: str) -> None:
    assert judge(role, **(EMPTY_RECORD | AT_MINIMUM[role])) == eligible(role)


@pytest.mark.parametrize("role", sorted(AT_MINIMUM))
def test_higher_education_than_required_is_eligible(role: str) -> None:
    fields = EMPTY_RECORD | AT_MINIMUM[role] | {"education": "doctorate"}
    assert judge(role, **fields) == eligible(role)


@pytest.mark.parametrize("role", sorted(AT_MINIMUM))
def test_one_education_level_short_is_education(role: str) -> None:
    fields = EMPTY_RECORD | AT_MINIMUM[role] | {"education": BELOW_EDUCATION[role]}
    assert judge(role, **fields) == ineligible(role, "education")


@pytest.mark.parametrize("role", sorted(AT_MINIMUM))
def test_experience_a_hundredth_short_is_experience(role: str) -> None:
    minimum = AT_MINIMUM[role][EXPERIENCE_FIELD[role]]
    fields = EMPTY_RECORD | AT_MINIMUM[role] | {
        EXPERIENCE_FIELD[role]: str(Decimal(minimum) - Decimal("0.01"))
    }
    assert judge(role, **fields) == ineligible(role, "experience")


@pytest.mark.parametrize("role", ["sales_rep", "project_manager"])
def test_key_account_experience_short_is_ka_experience(role: str) -> None:
    fields = EMPTY_RECORD | AT_MINIMUM[role] | {KA_FIELD[role]: "0.99"}
    assert judge(role, **fields) == ineligible(role, "ka_experience")


@pytest.mark.parametrize("role", ["sales_rep", "project_manager"])
def test_every_unmet_requirement_is_listed_in_order(role: str) -> None:
    fields = EMPTY_RECORD | {"education": "high_school"}
    assert judge(role, **fields) == ineligible(role, "education", "experience", "ka_experience")


def test_after_sales_has_no_ka_experience_requirement() -> None:
    fields = EMPTY_RECORD | {"education": "high_school"}
    assert judge("after_sales", **fields) == ineligible("after_sales", "education", "experience")
    fields = EMPTY_RECORD | AT_MINIMUM["after_sales"]
    assert judge("after_sales", **fields) == eligible("after_sales")


def test_years_of_another_line_of_work_do_not_count() -> None:
    # Lots of project experience does not make a sales rep.
    fields = EMPTY_RECORD | {"pm_years": 10, "ka_project_years": 10}
    assert judge("sales_rep", **fields) == ineligible("sales_rep", "experience", "ka_experience")


def test_decimal_years_given_as_text_are_exact() -> None:
    fields = EMPTY_RECORD | {"sales_years": "3.0", "ka_sales_years": "1.00"}
    assert judge("sales_rep", **fields) == eligible("sales_rep")


PREFERRED = [
    ("sales_rep", "marketing"),
    ("sales_rep", "business management"),
    ("project_manager", "project management"),
    ("project_manager", "computer science"),
    ("after_sales", "computer science"),
    ("after_sales", "electronics"),
]


@pytest.mark.parametrize(("role", "major"), PREFERRED)
def test_preferred_major_makes_a_preferred_candidate(role: str, major: str) -> None:
    fields = EMPTY_RECORD | AT_MINIMUM[role] | {"major": major}
    assert judge(role, **fields) == eligible(role, preferred=True)


@pytest.mark.parametrize("major", ["  Marketing ", "MARKETING",
                                   "Business Management "])
def test_preferred_major_compared_case_insensitively_after_trimming(major: str) -> None:
    fields = EMPTY_RECORD | AT_MINIMUM["sales_rep"] | {"major": major}
    assert judge("sales_rep", **fields) == eligible("sales_rep", preferred=True)


@pytest.mark.parametrize("major", ["business  management", "marketing science", "electronics",
                                   "", "市场营销"])
def test_other_majors_are_not_preferred(major: str) -> None:
    # Only surrounding spaces are trimmed; an inner double space is another major.
    fields = EMPTY_RECORD | AT_MINIMUM["sales_rep"] | {"major": major}
    assert judge("sales_rep", **fields) == eligible("sales_rep")


def test_an_ineligible_applicant_is_never_a_preferred_candidate() -> None:
    fields = EMPTY_RECORD | AT_MINIMUM["sales_rep"] | {"major": "marketing",
                                                       "education": "associate"}
    assert judge("sales_rep", **fields) == ineligible("sales_rep", "education")


def test_each_application_is_judged_for_its_own_role() -> None:
    applicant = staff("S1", **(EMPTY_RECORD | {
        "education": "master", "major": "Computer Science",
        "pm_years": 4, "ka_project_years": 1, "after_sales_years": "1.5"}))
    data = facts(staff=[top_manager(), applicant],
                 applications=[application("A1", "S1", "project_manager"),
                               application("A2", "S1", "after_sales"),
                               application("A3", "S1", "sales_rep")])
    found = [c for c in decide(data) if c["subject"]["type"] == "application"]
    assert found == [
        concl("eligible", "application", "A1", role="project_manager"),
        concl("preferred_candidate", "application", "A1", role="project_manager"),
        concl("ineligible", "application", "A2", role="after_sales", reasons=["experience"]),
        concl("ineligible", "application", "A3", role="sales_rep",
              reasons=["experience", "ka_experience"]),
    ]


def test_staff_without_application_draws_no_role_conclusion() -> None:
    assert [c for c in decide(facts()) if c["subject"]["type"] == "application"] == []
