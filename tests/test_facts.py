"""Fact models and the facts loader: valid sets, every class of bad input, skipping."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel, ValidationError

from kam_policy.errors import FactError, FactIssue
from kam_policy.facts import (
    Appraisal,
    Complaint,
    FactSchema,
    FactSet,
    Opportunity,
    Staff,
    Training,
    bundled_schema,
    load_facts_file,
    parse_facts_json,
    validate_facts,
)
from kam_policy.facts.enums import Severity, Stage

Facts = dict[str, Any]
M = TypeVar("M", bound=BaseModel)

SCHEMA = bundled_schema()


def staff(staff_id: str, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": staff_id,
        "name": "Li Lei",
        "role": "sales_rep",
        "education": "bachelor",
        "major": "marketing",
        "sales_years": 4,
        "ka_sales_years": "1.5",
        "pm_years": 0,
        "ka_project_years": 0,
        "after_sales_years": 0,
        "role_since": "2024-03-01",
        "manager_id": None,
        "career_track": "professional",
        "monthly_target_bonus": "2000.00",
    }
    return record | changes


def valid_facts() -> Facts:
    """One or two records of every fact type, all valid and all references resolved."""
    return {
        "staff": [staff("S1"), staff("S2", manager_id="S1", role=None, role_since=None)],
        "applications": [{"id": "P1", "staff_id": "S2", "role": "after_sales"}],
        "clients": [
            {
                "id": "K1",
                "name": "Acme",
                "tier": "strategic",
                "owner_id": "S1",
                "last_contact_at": "2026-11-01T09:00:00+08:00",
                "last_survey_at": "2026-06-01",
                "last_survey_score": 72.5,
            }
        ],
        "complaints": [
            {
                "id": "C1",
                "client_id": "K1",
                "assigned_to": "S2",
                "severity": "major",
                "opened_at": "2026-11-20T09:00:00+08:00",
                "first_response_at": "2026-11-20T12:00:00+08:00",
                "reopened_count": 0,
            }
        ],
        "appraisals": [
            {
                "id": "A1",
                "staff_id": "S1",
                "kind": "monthly",
                "period": "2026-10",
                "scores": {"performance": {"supervisor": 90, "peer": 80}, "teamwork": {}},
            },
            {
                "id": "A2",
                "staff_id": "S1",
                "kind": "annual",
                "period": "2025",
                "scores": {"satisfaction": {"client": "95"}},
            },
        ],
        "trainings": [
            {
                "id": "T1",
                "staff_id": "S2",
                "course": "Negotiation",
                "kind": "external",
                "completed_on": "2026-09-30",
                "exam_score": 91,
            }
        ],
        "sales_results": [{"staff_id": "S1", "period": "2026-10", "target": 100000, "actual": 0}],
        "projects": [
            {
                "id": "J1",
                "client_id": "K1",
                "manager_id": "S2",
                "phase": "implementation",
                "design_review_approved": True,
                "client_signoff": False,
                "budget": "500000",
                "actual_cost": "120000.50",
                "start": "2026-01-05",
                "planned_end": "2026-12-31",
                "forecast_end": "2027-01-31",
            }
        ],
        "opportunities": [
            {
                "id": "O1",
                "client_id": "K1",
                "owner_id": "S1",
                "stage": "proposal",
                "stages_passed": ["research", "needs_analysis"],
                "last_activity_at": "2026-11-02T10:00:00Z",
            }
        ],
    }


def changed(edit: Callable[[Facts], object]) -> Facts:
    facts = copy.deepcopy(valid_facts())
    edit(facts)
    return facts


def issues_of(facts: Any) -> list[FactIssue]:
    with pytest.raises(FactError) as caught:
        validate_facts(facts, SCHEMA)
    return caught.value.issues


def only_issue(facts: Any) -> FactIssue:
    issues = issues_of(facts)
    assert len(issues) == 1, issues
    return issues[0]


def first(facts: FactSet, model: type[M]) -> M:
    """The first record of ``model``'s fact type, typed."""
    fact = facts.of(model.__name__)[0]
    assert isinstance(fact, model)
    return fact


def parse_error(text: str | bytes) -> str:
    with pytest.raises(FactError) as caught:
        parse_facts_json(text, SCHEMA, source="facts.json")
    assert str(caught.value).startswith("cannot load facts\nfacts.json: ")
    return caught.value.issues[0].message


# --- valid facts ---------------------------------------------------------------------------------


def test_valid_set_loads_every_type_in_order() -> None:
    facts = validate_facts(valid_facts(), SCHEMA)
    assert [t.name for t in SCHEMA.types] == list(facts.by_type)
    assert [len(facts.of(t.name)) for t in SCHEMA.types] == [2, 1, 1, 1, 2, 1, 1, 1, 1]
    lead, member = facts.of("Staff")
    assert isinstance(lead, Staff) and lead.ka_sales_years == Decimal("1.5")
    assert isinstance(member, Staff)
    assert member.role is None and member.role_since is None and member.manager_id == "S1"
    complaint = facts.of("Complaint")[0]
    assert isinstance(complaint, Complaint) and complaint.severity is Severity.major
    assert complaint.resolved_at is None
    assert complaint.opened_at.utcoffset() == timedelta(hours=8)
    appraisal = facts.of("Appraisal")[0]
    assert isinstance(appraisal, Appraisal)
    assert appraisal.scores == {"performance": {"supervisor": 90, "peer": 80}, "teamwork": {}}
    assert facts.skipped == ()


def test_absent_keys_give_empty_tuples() -> None:
    facts = validate_facts({"staff": [staff("S1")]}, SCHEMA)
    assert facts.of("Complaint") == () and len(facts.by_type) == len(SCHEMA.types)


def test_model_instances_are_accepted_as_records() -> None:
    built = validate_facts(valid_facts(), SCHEMA)
    again = validate_facts({t.key: list(built.of(t.name)) for t in SCHEMA.types}, SCHEMA)
    assert again.of("Staff")[0] is built.of("Staff")[0]


def test_fact_set_and_models_are_immutable() -> None:
    facts = validate_facts(valid_facts(), SCHEMA)
    with pytest.raises(TypeError):
        facts.by_type["Staff"] = ()  # type: ignore[index]
    with pytest.raises(ValidationError):
        first(facts, Staff).name = "x"  # type: ignore[misc]


def test_decimals_stay_exact() -> None:
    text = json.dumps({"staff": [staff("S1", sales_years="0.1", pm_years="PM")]})
    member = first(parse_facts_json(text.replace('"PM"', "85.005"), SCHEMA), Staff)
    assert member.sales_years == Decimal("0.1") and member.pm_years == Decimal("85.005")
    assert str(member.pm_years) == "85.005"
    from_python = validate_facts({"staff": [staff("S1", sales_years=0.1)]}, SCHEMA)
    assert first(from_python, Staff).sales_years == Decimal("0.1")


def test_to_jsonable_round_trips() -> None:
    facts = validate_facts(valid_facts(), SCHEMA)
    data = facts.to_jsonable()
    assert list(data) == [t.key for t in SCHEMA.types]
    assert data["sales_results"][0] == {
        "staff_id": "S1",
        "period": "2026-10",
        "target": "100000",
        "actual": "0",
    }
    again = parse_facts_json(json.dumps(data), SCHEMA)
    assert again.by_type == facts.by_type


# --- one record, one field -----------------------------------------------------------------------


def _set(key: str, index: int, name: str, value: Any) -> Callable[[Facts], object]:
    return lambda facts: facts[key][index].__setitem__(name, value)


def _drop(key: str, index: int, name: str) -> Callable[[Facts], object]:
    return lambda facts: facts[key][index].pop(name)


def _rename(key: str, index: int, old: str, new: str) -> Callable[[Facts], object]:
    return lambda facts: facts[key][index].__setitem__(new, facts[key][index].pop(old))


FIELD_CASES = [
    (
        _rename("complaints", 0, "first_response_at", "first_respons_at"),
        ("complaints", 0, "C1", "first_respons_at"),
        "unknown field 'first_respons_at' (did you mean 'first_response_at'?)",
    ),
    (_drop("complaints", 0, "severity"), ("complaints", 0, "C1", "severity"), "field required"),
    (
        _set("complaints", 0, "severity", "majr"),
        ("complaints", 0, "C1", "severity"),
        "'majr' is not one of minor, general, major, critical",
    ),
    (
        _set("complaints", 0, "opened_at", "2026-11-20T09:00:00"),
        ("complaints", 0, "C1", "opened_at"),
        "datetime has no time zone",
    ),
    (
        _set("complaints", 0, "opened_at", 1763600000),
        ("complaints", 0, "C1", "opened_at"),
        "must be an ISO 8601 datetime with a time zone",
    ),
    (
        _set("complaints", 0, "reopened_count", -1),
        ("complaints", 0, "C1", "reopened_count"),
        "must be at least 0",
    ),
    (
        _set("complaints", 0, "reopened_count", True),
        ("complaints", 0, "C1", "reopened_count"),
        "must be an integer",
    ),
    (
        _set("staff", 1, "sales_years", "100.5"),
        ("staff", 1, "S2", "sales_years"),
        "must be between 0 and 100",
    ),
    (_set("staff", 0, "pm_years", True), ("staff", 0, "S1", "pm_years"), "must be a number"),
    (_set("staff", 0, "pm_years", "NaN"), ("staff", 0, "S1", "pm_years"), "finite number"),
    (_set("staff", 0, "pm_years", "3,5"), ("staff", 0, "S1", "pm_years"), "must be a number"),
    (_set("applications", 0, "id", ""), ("applications", 0, None, "id"), "must not be empty"),
    (
        _set("staff", 0, "role_since", "2024-03-01T00:00:00"),
        ("staff", 0, "S1", "role_since"),
        "must be a date written YYYY-MM-DD",
    ),
    (
        _set("clients", 0, "last_survey_score", -0.5),
        ("clients", 0, "K1", "last_survey_score"),
        "must be between 0 and 100",
    ),
    (
        lambda f: f["appraisals"][0]["scores"]["performance"].__setitem__("supervisor", 100.01),
        ("appraisals", 0, "A1", "scores.performance.supervisor"),
        "must be between 0 and 100",
    ),
    (
        lambda f: f["appraisals"][0]["scores"].__setitem__("perfomance", {}),
        ("appraisals", 0, "A1", "scores.perfomance"),
        "'perfomance' is not one of performance, attitude, teamwork, satisfaction",
    ),
    (
        _set("appraisals", 0, "period", "2026-13"),
        ("appraisals", 0, "A1", "period"),
        "must be YYYY-MM",
    ),
    (_set("appraisals", 1, "period", "2025-12"), ("appraisals", 1, "A2", "period"), "YYYY"),
    (
        _set("sales_results", 0, "target", 0),
        ("sales_results", 0, "S1/2026-10", "target"),
        "must be greater than 0 and less than 10^15",
    ),
    (
        _set("sales_results", 0, "actual", 10**15),
        ("sales_results", 0, "S1/2026-10", "actual"),
        "must be at least 0 and less than 10^15",
    ),
    (
        _set("sales_results", 0, "period", "2026"),
        ("sales_results", 0, "S1/2026", "period"),
        "must be YYYY-MM",
    ),
    (
        _set("projects", 0, "client_signoff", "yes"),
        ("projects", 0, "J1", "client_signoff"),
        "must be true or false",
    ),
    (
        _set("opportunities", 0, "stages_passed", ["contact", "research"]),
        ("opportunities", 0, "O1", "stages_passed"),
        "'research' is out of place",
    ),
    (
        _set("opportunities", 0, "stages_passed", ["research", "research"]),
        ("opportunities", 0, "O1", "stages_passed"),
        "without repeats",
    ),
    (
        _set("opportunities", 0, "stages_passed", ["research", "lost"]),
        ("opportunities", 0, "O1", "stages_passed"),
        "'lost' is not a stage one passes",
    ),
    (
        _set("opportunities", 0, "stages_passed", ["research", "won"]),
        ("opportunities", 0, "O1", "stages_passed[1]"),
        "'won' is not one of research",
    ),
    (lambda f: f["trainings"].append(5), ("trainings", 1, None, None), "must be an object"),
]


@pytest.mark.parametrize(("edit", "where", "message"), FIELD_CASES)
def test_bad_field_gives_one_exact_issue(
    edit: Callable[[Facts], object], where: tuple[Any, ...], message: str
) -> None:
    issue = only_issue(changed(edit))
    assert (issue.key, issue.index, issue.fact_id, issue.field) == where
    assert message in issue.message


def test_misspelt_required_field_gives_both_issues() -> None:
    issues = issues_of(changed(_rename("complaints", 0, "opened_at", "opend_at")))
    assert [(i.field, i.message) for i in issues] == [
        ("opened_at", "field required"),
        ("opend_at", "unknown field 'opend_at' (did you mean 'opened_at'?)"),
    ]


def test_issue_renders_type_index_id_and_field() -> None:
    issue = only_issue(changed(_set("complaints", 0, "assigned_to", "S99")))
    assert str(issue) == "complaints[0] (id C1): assigned_to: unknown Staff id 'S99'"


# --- across records ------------------------------------------------------------------------------


def test_duplicate_id_flags_the_later_record() -> None:
    issue = only_issue(changed(lambda f: f["staff"].append(staff("S1"))))
    assert (issue.key, issue.index, issue.fact_id, issue.field) == ("staff", 2, "S1", "id")
    assert issue.message == "duplicate id 'S1' (first at index 0)"


def test_duplicate_appraisal_staff_kind_period() -> None:
    def edit(facts: Facts) -> None:
        facts["appraisals"].append(facts["appraisals"][0] | {"id": "A9"})

    issue = only_issue(changed(edit))
    assert (issue.key, issue.index, issue.fact_id) == ("appraisals", 2, "A9")
    assert issue.message == "duplicate appraisal: same staff_id, kind, period as index 0"


def test_duplicate_sales_result_staff_period() -> None:
    issue = only_issue(changed(lambda f: f["sales_results"].append(f["sales_results"][0])))
    assert (issue.key, issue.index, issue.fact_id) == ("sales_results", 1, "S1/2026-10")
    assert "duplicate" in issue.message


@pytest.mark.parametrize(
    ("key", "field", "target"),
    [
        ("staff", "manager_id", "Staff"),
        ("applications", "staff_id", "Staff"),
        ("clients", "owner_id", "Staff"),
        ("complaints", "client_id", "Client"),
        ("complaints", "assigned_to", "Staff"),
        ("appraisals", "staff_id", "Staff"),
        ("trainings", "staff_id", "Staff"),
        ("sales_results", "staff_id", "Staff"),
        ("projects", "client_id", "Client"),
        ("projects", "manager_id", "Staff"),
        ("opportunities", "client_id", "Client"),
        ("opportunities", "owner_id", "Staff"),
    ],
)
def test_every_reference_must_resolve(key: str, field: str, target: str) -> None:
    issue = only_issue(changed(_set(key, 0, field, "X9")))
    assert (issue.key, issue.index, issue.field) == (key, 0, field)
    assert issue.message == f"unknown {target} id 'X9'"


def test_reference_to_a_bad_record_is_not_a_second_problem() -> None:
    issue = only_issue(changed(_set("staff", 1, "education", "phd")))
    assert (issue.key, issue.index, issue.field) == ("staff", 1, "education")


def test_bad_record_still_reports_its_unknown_references() -> None:
    def edit(facts: Facts) -> None:
        facts["complaints"][0] |= {"severity": "majr", "assigned_to": "S99"}

    issues = issues_of(changed(edit))
    assert [(i.field, i.message) for i in issues] == [
        ("severity", "'majr' is not one of minor, general, major, critical"),
        ("assigned_to", "unknown Staff id 'S99'"),
    ]


def test_all_issues_are_listed_in_schema_key_order() -> None:
    def edit(facts: Facts) -> None:
        facts["opportunities"][0]["stage"] = "won"
        facts["complaints"][0]["severity"] = "majr"
        facts["staff"][1]["education"] = "phd"
        facts["staff"][0]["career_track"] = "both"
        facts["complant"] = []

    with pytest.raises(FactError) as caught:
        validate_facts(changed(edit), SCHEMA)
    issues = caught.value.issues
    assert [(i.key, i.index) for i in issues] == [
        ("complant", None),
        ("staff", 0),
        ("staff", 1),
        ("complaints", 0),
        ("opportunities", 0),
    ]
    assert issues[0].message == "unknown top-level key 'complant' (did you mean 'complaints'?)"
    assert str(caught.value).splitlines()[0] == "invalid facts (5 problems)"


def test_value_that_is_not_a_list() -> None:
    issue = only_issue(changed(lambda f: f.__setitem__("trainings", {"id": "T1"})))
    assert (issue.key, issue.index, issue.message) == (
        "trainings",
        None,
        "must be a list, not an object",
    )


@pytest.mark.parametrize("data", [[], "staff", None, {"staff": [None]}, {1: []}])
def test_odd_python_data_gives_fact_error(data: Any) -> None:
    assert issues_of(data)


# --- skipping bad records ------------------------------------------------------------------------


def test_skip_invalid_drops_and_reports() -> None:
    facts = validate_facts(
        changed(_set("trainings", 0, "kind", "online")), SCHEMA, skip_invalid=True
    )
    assert facts.of("Training") == ()
    assert [(i.key, i.index, i.fact_id, i.field) for i in facts.skipped] == [
        ("trainings", 0, "T1", "kind")
    ]
    assert len(facts.of("Staff")) == 2


def test_skip_invalid_drops_orphans_transitively() -> None:
    # S1 is bad: S2 (managed by S1), K1 (owned by S1) go, and with them everything on K1 or S2.
    facts = validate_facts(changed(_set("staff", 0, "education", "phd")), SCHEMA, skip_invalid=True)
    assert all(facts.of(t.name) == () for t in SCHEMA.types)
    skipped = {(i.key, i.index): i for i in facts.skipped}
    assert len(skipped) == 11
    assert skipped[("staff", 1)].message == "Staff id 'S1' was skipped as invalid"
    assert skipped[("staff", 1)].field == "manager_id"
    assert skipped[("complaints", 0)].field in {"client_id", "assigned_to"}
    assert "was skipped as invalid" in skipped[("opportunities", 0)].message


def test_skip_invalid_keeps_records_whose_references_survive() -> None:
    def edit(facts: Facts) -> None:
        facts["complaints"][0]["assigned_to"] = "S99"
        facts["staff"].append(staff("S1"))

    facts = validate_facts(changed(edit), SCHEMA, skip_invalid=True)
    assert [(i.key, i.index) for i in facts.skipped] == [("staff", 2), ("complaints", 0)]
    assert facts.skipped[1].message == "unknown Staff id 'S99'"
    assert len(facts.of("Staff")) == 2 and len(facts.of("Client")) == 1


# --- JSON text and files -------------------------------------------------------------------------


def test_utf8_bom_is_accepted() -> None:
    text = json.dumps({"staff": [staff("S1", name="周红")]}, ensure_ascii=False)
    assert first(parse_facts_json("\ufeff" + text, SCHEMA), Staff).name == "周红"
    assert len(parse_facts_json(b"\xef\xbb\xbf" + text.encode(), SCHEMA).of("Staff")) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "facts file is empty"),
        (" \n\t", "facts file is empty"),
        (b"", "facts file is empty"),
        ('{"staff": [\n  {"id": "S1",}\n]}', "malformed JSON at line 2, column 15"),
        ("[]", "facts must be an object of lists, not a list"),
        ('"staff"', "not a string"),
        ('{"staff": [NaN]}', "NaN is not a number facts may use"),
        ('{"staff": [{"x": -Infinity}]}', "-Infinity is not a number"),
        ('{"staff": [], "staff": []}', "duplicate key 'staff'"),
        (b'{"staff": ["\xff"]}', "not valid UTF-8 (byte 0xff at offset 12)"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_unreadable_json_gives_fact_error(text: str | bytes, message: str) -> None:
    assert message in parse_error(text)


def test_huge_integer_is_reported_on_its_field() -> None:
    result = {"staff_id": "S1", "period": "2026-10", "target": 1, "actual": "HUGE"}
    text = json.dumps({"staff": [staff("S1")], "sales_results": [result]})
    text = text.replace('"HUGE"', "9" * 5000)
    with pytest.raises(FactError) as caught:
        parse_facts_json(text, SCHEMA, source="facts.json")
    issue = caught.value.issues[0]
    assert (issue.key, issue.field) == ("sales_results", "actual")
    assert issue.message == "must be at least 0 and less than 10^15"
    assert str(caught.value).startswith("facts.json: invalid facts (1 problem)")


def test_huge_integer_count() -> None:
    base = changed(lambda f: None)
    text = json.dumps(base).replace('"reopened_count": 0', '"reopened_count": 1' + "0" * 5000)
    with pytest.raises(FactError) as caught:
        parse_facts_json(text, SCHEMA)
    assert caught.value.issues[0].message == "integer is too large"


def test_load_facts_file(tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(valid_facts()), encoding="utf-8")
    assert len(load_facts_file(path, SCHEMA).of("Appraisal")) == 2
    missing = tmp_path / "missing.json"
    with pytest.raises(FactError) as caught:
        load_facts_file(missing, SCHEMA)
    assert caught.value.issues[0].key == str(missing)
    assert "cannot read facts file" in caught.value.issues[0].message


def test_schemas_are_independent() -> None:
    other = FactSchema([SCHEMA["Staff"]])
    facts = validate_facts({"staff": [staff("S1")]}, other)
    assert list(facts.by_type) == ["Staff"]
    with pytest.raises(FactError, match="unknown top-level key 'clients'"):
        validate_facts({"clients": []}, other)
    assert isinstance(validate_facts({"clients": []}, SCHEMA), FactSet)


def test_stage_and_date_types() -> None:
    facts = validate_facts(valid_facts(), SCHEMA)
    opportunity = first(facts, Opportunity)
    assert opportunity.stages_passed == [Stage.research, Stage.needs_analysis]
    assert opportunity.last_activity_at == datetime(2026, 11, 2, 10, tzinfo=UTC)
    assert first(facts, Training).completed_on == date(2026, 9, 30)
