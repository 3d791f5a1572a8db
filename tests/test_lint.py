"""``kam_policy.lint`` and ``kam-policy lint``: each kind of warning found in a small policy with
one planted defect, asserting the code, the underlined text and the example in the message."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import HEADER, SCHEMA, Level, write_policy
from pydantic import BaseModel, ConfigDict

import kam_policy
from kam_policy import Diagnostic, FactSchema, FactType
from kam_policy import cli as cli_package
from kam_policy.cli import lint as lint_command
from kam_policy.cli import params as params_command
from kam_policy.engine.sources import bundled_policy_path
from kam_policy.lint import DEFAULT_PROTECTED, lint, lint_report

Lint = Callable[..., list[tuple[Diagnostic, str]]]


@pytest.fixture
def run_lint(tmp_path: Path) -> Lint:
    """``run_lint(text, schema=..., protected=...)``: each warning with its underlined text."""

    def bound(text: str, schema: FactSchema = SCHEMA,
              protected: tuple[str, ...] = DEFAULT_PROTECTED) -> list[tuple[Diagnostic, str]]:
        write_policy(tmp_path, {"policy.kp": HEADER + text})
        policy = kam_policy.load(tmp_path, schema=schema)
        source = policy.sources["policy.kp"]
        found = lint(policy, protected)
        assert all(d.severity == "warning" and d.code.startswith("lint.") for d in found)
        return [(d, d.span.text(source) if d.span else "") for d in found]

    return bound


def only(found: list[tuple[Diagnostic, str]], code: str) -> tuple[Diagnostic, str]:
    """The single warning with ``code`` (fails, listing them all, if there is not one)."""
    matching = [f for f in found if f[0].code == code]
    assert len(matching) == 1, [f"{d.code}: {d.message}" for d, _ in found]
    return matching[0]


def codes(found: list[tuple[Diagnostic, str]]) -> list[str]:
    return [d.code for d, _ in found]


RULE = """
conclusion flagged() about Member "Flagged"
rule R "Flag members" {
  section "1"
  for m in Member
  when {cond}
  emit flagged()
}
"""


def with_rule(cond: str, extra: str = "") -> str:
    return extra + RULE.replace("{cond}", cond)


# ---- decision tables: gaps -------------------------------------------------------------------

GRADES = """
param c_min = 60
table grade "Grade" {
  section "1"
  hit first
  in total: number, satisfaction: number
  out g: text
  | >= 95    | >= 90 | "S" |
  | >= 85    | -     | "A" |
  | >= 70    | -     | "B" |
  | >= c_min | -     | "C" |
ROWS}
"""


def grades(rows: str = "") -> str:
    return with_rule('grade(m.score ?? 0, 50) == "S"', GRADES.replace("ROWS", rows))


def test_gap_just_below_the_lowest_threshold(run_lint: Lint) -> None:
    diagnostic, text = only(run_lint(grades()), "lint.table-gap")
    assert diagnostic.message == ("table 'grade' (hit first) has a gap: no row matches "
                                  "total = 59.995, satisfaction = 90")
    assert text.startswith('table grade "Grade" {')
    assert "catch-all row" in (diagnostic.hint or "")


def test_a_last_row_of_dashes_closes_every_gap(run_lint: Lint) -> None:
    assert run_lint(grades('  | - | - | "D" |\n')) == []


def test_gap_between_enum_and_bool_columns(run_lint: Lint) -> None:
    table = """
table route "Route" {
  section "1"
  hit unique
  in level: Level, active: bool
  out team: text
  | junior       | -     | "desk"  |
  | senior       | true  | "field" |
  | lead         | -     | "lead"  |
}
"""
    found = run_lint(with_rule('route(m.level, m.active) == "desk"', table))
    diagnostic, _ = only(found, "lint.table-gap")
    assert diagnostic.message.endswith("no row matches level = senior, active = false")


def test_gap_in_a_duration_column_shows_the_duration(run_lint: Lint) -> None:
    table = """
table urgency "Urgency" {
  section "1"
  hit first
  in elapsed: duration
  out u: text
  | <= 4h | "fine" |
  | > 5h  | "late" |
}
"""
    found = run_lint(with_rule('urgency(now - now) == "late"', table))
    diagnostic, _ = only(found, "lint.table-gap")
    assert diagnostic.message.endswith("no row matches elapsed = 5h")


def test_int_columns_are_searched_with_whole_numbers(run_lint: Lint) -> None:
    table = """
table size "Size" {
  section "1"
  hit first
  in n: int
  out s: text
  | <= 58 | "small" |
  | >= 60 | "large" |
}
"""
    diagnostic, _ = only(run_lint(with_rule('size(len(m.tags)) == "small"', table)),
                         "lint.table-gap")
    assert diagnostic.message.endswith("no row matches n = 59")


def test_collect_tables_have_no_gaps(run_lint: Lint) -> None:
    table = """
table reasons "Reasons" {
  section "1"
  hit rule order
  in a: bool, b: bool
  out r: text
  | false | -     | "a" |
  | -     | false | "b" |
}
"""
    assert run_lint(with_rule("len(reasons(m.active, m.active)) > 0", table)) == []


# ---- decision tables: overlaps ---------------------------------------------------------------

SLA = """
table sla "SLA" {
  section "1"
  hit HIT
  in level: Level, elapsed: duration
  out escalate: text
  | junior | > 4h  | "manager" |
  | senior | > 24h | "OUT2"    |
  | -      | > 48h | "head"    |
  | -      | <= 4h | "none"    |
}
"""


def sla(hit: str, second: str = "manager") -> str:
    table = SLA.replace("HIT", hit).replace("OUT2", second)
    return with_rule('sla(m.level, now - now) == "none"', table)


def test_overlap_in_a_unique_table(run_lint: Lint) -> None:
    found = run_lint(sla("unique"))
    overlaps = [(d.message, text) for d, text in found if d.code == "lint.table-overlap"]
    assert overlaps[0] == ("table 'sla' (hit unique): rows 1 and 3 both match level = junior, "
                           "elapsed = 2d1m", '| -      | > 48h | "head"    |')
    assert ("table 'sla' (hit unique): rows 2 and 3 both match level = senior, elapsed = 2d1m",
            '| -      | > 48h | "head"    |') in overlaps
    assert len(overlaps) == 2


def test_any_table_overlaps_only_with_different_outputs(run_lint: Lint) -> None:
    found = run_lint(sla("any"))
    messages = [d.message for d, _ in found if d.code == "lint.table-overlap"]
    assert messages == [
        "table 'sla' (hit any): rows 1 and 3 both match level = junior, elapsed = 2d1m, "
        'with different outputs "manager" and "head"',
        "table 'sla' (hit any): rows 2 and 3 both match level = senior, elapsed = 2d1m, "
        'with different outputs "manager" and "head"',
    ]


def test_any_table_rows_with_the_same_output_may_overlap(run_lint: Lint) -> None:
    table = """
table t "T" {
  section "1"
  hit any
  in x: number
  out y: text
  | >= 10 | "big" |
  | >= 20 | "big" |
  | < 10  | "small" |
}
"""
    assert run_lint(with_rule('t(m.score ?? 0) == "big"', table)) == []


def test_first_and_priority_tables_may_overlap(run_lint: Lint) -> None:
    assert "lint.table-overlap" not in codes(run_lint(sla("first")))


# ---- decision tables: shadowed rows ----------------------------------------------------------


def test_row_after_a_catch_all_row_is_shadowed(run_lint: Lint) -> None:
    found = run_lint(grades('  | - | - | "D" |\n  | < 10 | - | "E" |\n'))
    diagnostic, text = only(found, "lint.table-shadowed")
    assert text == '| < 10 | - | "E" |'
    assert diagnostic.message == (
        "row 6 of table 'grade' (hit first) is never reached: every input it matches is taken "
        "by an earlier row, e.g. total = 9.995, satisfaction = 90 goes to row 5")


def test_threshold_row_covered_by_an_earlier_row_is_shadowed(run_lint: Lint) -> None:
    table = """
table t "T" {
  section "1"
  hit first
  in x: number
  out y: text
  | >= 60 | "pass" |
  | >= 70 | "good" |
  | -     | "fail" |
}
"""
    diagnostic, text = only(run_lint(with_rule('t(m.score ?? 0) == "good"', table)),
                            "lint.table-shadowed")
    assert text == '| >= 70 | "good" |'
    assert diagnostic.message.endswith("e.g. x = 70 goes to row 1")


def test_row_that_matches_nothing(run_lint: Lint) -> None:
    table = """
table t "T" {
  section "1"
  hit first
  in level: Level
  out y: text
  | in [] | "never" |
  | -     | "any"   |
}
"""
    diagnostic, text = only(run_lint(with_rule('t(m.level) == "any"', table)),
                            "lint.table-shadowed")
    assert text == '| in [] | "never" |'
    assert diagnostic.message == "row 1 of table 't' (hit first) matches no input at all"


def test_tables_with_computed_cells_are_left_alone(run_lint: Lint) -> None:
    table = """
table t "T" {
  section "1"
  hit unique
  in x: number, y: number
  out z: text
  | >= y | - | "a" |
  | < y  | - | "b" |
}
"""
    assert run_lint(with_rule('t(m.score ?? 0, 1) == "a"', table)) == []


# ---- conditions that never hold --------------------------------------------------------------


def test_where_and_when_that_contradict(run_lint: Lint) -> None:
    text = RULE.replace("for m in Member", "for m in Member where m.score > 5") \
        .replace("{cond}", "m.score < 3")
    diagnostic, span_text = only(run_lint(text), "lint.impossible-condition")
    assert span_text == "m.score < 3"
    assert diagnostic.message == ("this condition of rule 'R' can never hold: no value of "
                                  "m.score satisfies both 'm.score > 5' and 'm.score < 3'")
    assert "policy.kp:6:25" in (diagnostic.hint or "")


def test_two_different_equalities(run_lint: Lint) -> None:
    diagnostic, span_text = only(run_lint(with_rule("len(m.tags) == 1 and len(m.tags) == 2")),
                                 "lint.impossible-condition")
    assert span_text == "len(m.tags) == 2"
    assert "no value of len(m.tags) satisfies both 'len(m.tags) == 1' and 'len(m.tags) == 2'" \
        in diagnostic.message


def test_parameters_are_compared_by_value(run_lint: Lint) -> None:
    text = with_rule("m.score >= high and m.score < low", "param high = 80\nparam low = 50\n")
    diagnostic, _ = only(run_lint(text), "lint.impossible-condition")
    assert "'m.score >= high (high = 80)' and 'm.score < low (low = 50)'" in diagnostic.message


def test_touching_bounds_hold_only_when_both_include_the_point(run_lint: Lint) -> None:
    assert run_lint(with_rule("m.score >= 5 and m.score <= 5")) == []
    diagnostic, _ = only(run_lint(with_rule("m.score > 5 and m.score <= 5")),
                         "lint.impossible-condition")
    assert "'m.score > 5' and 'm.score <= 5'" in diagnostic.message


def test_null_test_against_a_comparison(run_lint: Lint) -> None:
    diagnostic, _ = only(run_lint(with_rule("m.score is null and m.score > 0")),
                         "lint.impossible-condition")
    assert "'m.score is null' and 'm.score > 0'" in diagnostic.message
    assert run_lint(with_rule("m.score is null or m.score > 0")) == []


def test_ordered_enum_ranges(run_lint: Lint) -> None:
    diagnostic, _ = only(run_lint(with_rule("m.level >= lead and m.level < senior")),
                         "lint.impossible-condition")
    assert "no value of m.level satisfies both 'm.level >= lead' and 'm.level < senior'" \
        in diagnostic.message
    assert run_lint(with_rule("m.level > junior and m.level < lead")) == []
    assert run_lint(with_rule("m.level in [junior, lead] and m.level != junior")) == []


def test_ordering_against_an_unranked_member_never_holds(run_lint: Lint) -> None:
    text = """
conclusion stuck() about Opportunity "Stuck"
rule R "Stuck" {
  section "1"
  for o in Opportunity
  when o.stage >= lost
  emit stuck()
}
"""
    diagnostic, span_text = only(run_lint(text, kam_policy.bundled_schema()),
                                 "lint.impossible-condition")
    assert span_text == "o.stage >= lost"
    assert diagnostic.message.endswith("no value of o.stage satisfies 'o.stage >= lost'")
    assert diagnostic.hint == "'lost' is in no order, so every <, <=, > or >= with it is false"


def test_membership_that_excludes_every_value(run_lint: Lint) -> None:
    diagnostic, _ = only(run_lint(with_rule("m.level in [junior, senior] and m.level == lead")),
                         "lint.impossible-condition")
    assert "'m.level in [junior, senior]' and 'm.level == lead'" in diagnostic.message


def test_contradiction_inside_an_aggregate(run_lint: Lint) -> None:
    text = with_rule("exists(t in Ticket where t.member_id == m.id and t.hours > 8 "
                     "and t.hours < 2)")
    diagnostic, span_text = only(run_lint(text), "lint.impossible-condition")
    assert span_text == "t.hours < 2"
    assert "no value of t.hours satisfies both 't.hours > 8' and 't.hours < 2'" \
        in diagnostic.message


def test_satisfiable_conditions_are_quiet(run_lint: Lint) -> None:
    assert run_lint(with_rule("m.score > 3 and m.score < 5 and len(m.tags) > 9")) == []


# ---- unused declarations ---------------------------------------------------------------------


def test_unused_parameter(run_lint: Lint) -> None:
    diagnostic, text = only(run_lint(with_rule("m.active", "param grace = 4h\n")),
                            "lint.unused-param")
    assert text == "param grace = 4h"
    assert diagnostic.message == "parameter 'grace' (= 4h) is never used"


def test_parameter_used_only_by_an_unused_define(run_lint: Lint) -> None:
    extra = "param cap = 2\ndefine capped(m: Member) = m.score > cap\n"
    found = run_lint(with_rule("m.active", extra))
    assert only(found, "lint.unused-param")[0].message == \
        "parameter 'cap' (= 2) is used only by define 'capped', which no rule calls"
    diagnostic, text = only(found, "lint.unused-define")
    assert text == "define capped(m: Member) = m.score > cap"
    assert diagnostic.message == "define 'capped' is never called by a rule"


def test_a_define_parameter_hides_the_global_one(run_lint: Lint) -> None:
    extra = "param cap = 2\ndefine above(cap: number) = cap > 1\n"
    found = run_lint(with_rule("above(m.score ?? 0)", extra))
    assert only(found, "lint.unused-param")[0].message == "parameter 'cap' (= 2) is never used"


def test_a_parameter_in_the_reason_text_is_used(run_lint: Lint) -> None:
    text = with_rule("m.active", "param note = 3\n").replace(
        "emit flagged()", 'emit flagged()\n  because "note {note}"')
    assert run_lint(text) == []


def test_unused_table(run_lint: Lint) -> None:
    table = GRADES.replace("ROWS", '  | - | - | "D" |\n')
    diagnostic, text = only(run_lint(with_rule("m.active", table)), "lint.unused-table")
    assert text.startswith('table grade "Grade" {')
    assert diagnostic.message == "table 'grade' is never called by a rule"


def test_conclusion_read_but_never_emitted(run_lint: Lint) -> None:
    extra = 'conclusion vip() about Member "VIP"\n'
    text = with_rule("exists(v in vip where v.subject.id == m.id)", extra)
    diagnostic, span_text = only(run_lint(text), "lint.never-emitted")
    assert span_text == 'conclusion vip() about Member "VIP"'
    assert diagnostic.message == ("conclusion 'vip' is never emitted, so reading it always "
                                  "finds none, in rule R")


def test_conclusion_neither_emitted_nor_read(run_lint: Lint) -> None:
    found = run_lint(with_rule("m.active", 'conclusion vip() about Member "VIP"\n'))
    diagnostic, _ = only(found, "lint.unused-conclusion")
    assert diagnostic.message == "conclusion 'vip' is declared, but no rule emits or reads it"


# ---- metadata --------------------------------------------------------------------------------


def test_rule_without_title_or_section(run_lint: Lint) -> None:
    text = with_rule("m.active").replace('rule R "Flag members" {\n  section "1"\n', "rule R {\n")
    found = run_lint(text)
    assert sorted(codes(found)) == ["lint.no-section", "lint.no-title"]
    diagnostic, span_text = only(found, "lint.no-title")
    assert span_text.startswith("rule R {")
    assert diagnostic.message == "rule R has no title"
    assert 'rule R "What it decides"' in (diagnostic.hint or "")


# ---- fairness --------------------------------------------------------------------------------


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    age: int
    gender: str
    level: Level
    score: Decimal


PEOPLE = FactSchema([FactType("Person", Person, "people", "person")])

FAIR = """
conclusion shortlist() about Person "Shortlist"
define senior_enough(p: Person) = p.age >= 40
rule S "Shortlist" {
  section "1"
  META
  for p in Person
  when senior_enough(p)
  when p.gender == "f" and p.score > 50
  emit shortlist()
  because "age {p.age}"
}
"""


def test_every_read_of_a_protected_attribute(run_lint: Lint) -> None:
    found = run_lint(FAIR.replace("META", ""), PEOPLE)
    flagged = [(d.message, text) for d, text in found if d.code == "lint.protected-attribute"]
    assert flagged == [
        ("define 'senior_enough' (used by S) reads the protected attribute 'age' (Person.age) "
         "in 'p.age'", "p.age"),
        ("rule S reads the protected attribute 'gender' (Person.gender) in 'p.gender'",
         "p.gender"),
        ("rule S reads the protected attribute 'age' (Person.age) in 'p.age'", "p.age"),
    ]


def test_protected_attributes_are_configurable(run_lint: Lint) -> None:
    found = run_lint(FAIR.replace("META", ""), PEOPLE, protected=("score",))
    flagged = [text for d, text in found if d.code == "lint.protected-attribute"]
    assert flagged == ["p.score"]


def test_a_rule_may_record_why_its_use_is_justified(run_lint: Lint) -> None:
    found = run_lint(FAIR.replace("META", 'meta fairness "statutory retirement rules"'), PEOPLE)
    assert found == []


# ---- silencing, the bundled policy -----------------------------------------------------------


def test_a_comment_allows_one_kind_of_warning(run_lint: Lint) -> None:
    assert run_lint(grades().replace('table grade', '# lint: allow table-gap\ntable grade')) == []


def test_an_allowed_warning_is_kept_apart_with_its_comment(tmp_path: Path) -> None:
    text = grades().replace('table grade', '# lint: allow table-gap: D is given elsewhere\n'
                                           'table grade')
    write_policy(tmp_path, {"policy.kp": HEADER + text})
    report = lint_report(kam_policy.load(tmp_path, schema=SCHEMA))
    assert report.warnings == []
    [allowed] = report.allowed
    assert allowed.warning.code == "lint.table-gap"
    assert allowed.comment.text == "# lint: allow table-gap: D is given elsewhere"
    assert str(allowed.comment.span) == "policy.kp:4:1"
    assert allowed.comment.kinds == ("table-gap",)


def test_a_comment_before_a_declaration_covers_all_of_it(run_lint: Lint) -> None:
    overlapping = sla("unique")
    assert sorted(codes(run_lint(overlapping))) == ["lint.table-gap", "lint.table-overlap",
                                                    "lint.table-overlap"]
    allowed = overlapping.replace("table sla", "# Rows 1 and 2 overlap row 3 on purpose.\n"
                                  "# lint: allow table-overlap, table-gap\ntable sla")
    assert run_lint(allowed) == []


def test_a_comment_covers_its_line_and_the_next_only(run_lint: Lint) -> None:
    # Above the table's first line it covers the whole table; above a blank line, nothing.
    text = grades().replace('table grade', '# lint: allow table-gap\n\ntable grade')
    assert codes(run_lint(text)) == ["lint.unused-allow", "lint.table-gap"]
    trailing = grades().replace('table grade "Grade" {', 'table grade "Grade" {  '
                                '# lint: allow table-gap')
    assert run_lint(trailing) == []


def test_a_comment_that_allows_nothing_is_reported(run_lint: Lint) -> None:
    text = with_rule("m.score > 1", "# lint: allow table-gap, no-titel\n")
    found = run_lint(text)
    assert [(d.code, text) for d, text in found] == [
        ("lint.unused-allow", "# lint: allow table-gap, no-titel"),
        ("lint.unused-allow", "# lint: allow table-gap, no-titel")]
    first, second = (d for d, _ in found)
    assert first.message == "'# lint: allow table-gap, no-titel' allows no table-gap warning here"
    assert second.message == "'# lint: allow table-gap, no-titel' allows no no-titel warning here"
    assert second.hint is not None and second.hint.startswith("lint kinds: table-gap, ")


def test_an_allow_for_a_check_that_is_off_is_not_unused(run_lint: Lint) -> None:
    text = with_rule("m.score > 1", "# lint: allow protected-attribute\n")
    assert run_lint(text, protected=()) == []
    assert codes(run_lint(text)) == ["lint.unused-allow"]


def test_an_allow_inside_a_text_is_not_a_comment(run_lint: Lint) -> None:
    text = with_rule("m.name != \"# lint: allow no-title\"").replace('rule R "Flag members"',
                                                                     "rule R")
    assert codes(run_lint(text)) == ["lint.no-title"]


def test_the_bundled_policy_acknowledges_its_one_warning() -> None:
    report = lint_report(kam_policy.load())
    assert report.warnings == []
    assert [(a.warning.code, str(a.warning.span), str(a.comment.span))
            for a in report.allowed] == [("lint.table-gap", "complaints.kp:23:1",
                                          "complaints.kp:22:1")]
    # The PRIORITY table gives no escalation (null) when nothing is late: intended.
    assert report.allowed[0].warning.message.endswith(
        "no row matches response_late = false, resolution_late = false, "
        "resolution_very_late = false, reopened = 0.995")


# ---- the command -----------------------------------------------------------------------------


@pytest.fixture
def main(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., int]]:
    """``kam_policy.cli.main`` with the lint and params commands registered."""
    missing = tuple(c for c in (lint_command, params_command) if c not in cli_package.COMMANDS)
    monkeypatch.setattr(cli_package, "COMMANDS", (*cli_package.COMMANDS, *missing))
    yield cli_package.main


def test_command_on_the_bundled_policy(capsys: pytest.CaptureFixture[str],
                                       main: Callable[..., int]) -> None:
    assert main(["lint", "--lang", "en"]) == 0
    assert capsys.readouterr().out == \
        "大客户人员管理制度 Key-account staff management version 2026.11: no warnings (1 allowed)\n"
    assert main(["lint", "--strict", "--lang", "en", str(bundled_policy_path())]) == 0
    capsys.readouterr()
    assert main(["lint", "--show-allowed", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "warning[lint.table-gap] table 'escalation_target'" in out
    assert "   23 | table escalation_target" in out
    assert "      allowed: by '# lint: allow table-gap: when nothing is late, no row matches: " \
        "no escalation' at complaints.kp:22:1\n" in out
    assert out.rstrip().endswith("version 2026.11: no warnings (1 allowed)")


def test_command_strict_fails_on_a_warning(capsys: pytest.CaptureFixture[str],
                                           main: Callable[..., int], tmp_path: Path) -> None:
    write_policy(tmp_path, {"policy.kp": HEADER + "param unused = 1\n"})
    assert main(["lint", "--strict", "--lang", "en", str(tmp_path)]) == 1
    assert capsys.readouterr().out.endswith("Test policy version 1.0: 1 warning\n")


def test_command_in_chinese(capsys: pytest.CaptureFixture[str], main: Callable[..., int],
                            tmp_path: Path) -> None:
    write_policy(tmp_path, {"policy.kp": HEADER + "param unused = 1\n"})
    assert main(["lint", "--lang", "zh", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "policy.kp:2:1: 警告[lint.unused-param] 参数 'unused'（= 1）从未被使用",
        "    2 | param unused = 1",
        "      | ^^^^^^^^^^^^^^^^",
        "      提示：请删除它，或在它本应服务的规则中使用它",
        "Test policy 版本 1.0：1 个警告"]


def test_command_strict_passes_a_clean_policy(capsys: pytest.CaptureFixture[str],
                                              main: Callable[..., int], tmp_path: Path) -> None:
    write_policy(tmp_path, {"policy.kp": HEADER})
    assert main(["lint", "--strict", "--lang", "en", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == "Test policy version 1.0: no warnings"


def test_command_protected_option(capsys: pytest.CaptureFixture[str],
                                  main: Callable[..., int]) -> None:
    assert main(["lint", "--protected", "major, tier", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "rule B.preferred_candidate reads the protected attribute 'major' (Staff.major) in " \
        "'Staff[app.staff_id].major'" in out
    assert "rule F.contact_overdue reads the protected attribute 'tier' (Client.tier)" in out


def test_command_exits_2_on_a_policy_that_fails_to_load(
        capsys: pytest.CaptureFixture[str], main: Callable[..., int], tmp_path: Path) -> None:
    write_policy(tmp_path, {"policy.kp": HEADER + "param p = q\n"})
    assert main(["lint", "--lang", "en", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "check.param-value" in captured.err
