"""Policy tests (``kam-policy test``): YAML cases, PASS/FAIL with diffs, coverage, exit codes,
and the bundled policy's own tests at 100 % rule and table-row coverage."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

import kam_policy
from kam_policy import cli
from kam_policy.cli import test as test_command
from kam_policy.testing import (
    TestFileError,
    discover,
    load_case_file,
    merge_facts,
    parse_case_file,
    render_suite,
    run_files,
)
from kam_policy.testing.values import same_value, to_json_shape

RunCli = Callable[..., tuple[int, str, str]]
BUNDLED_TESTS = kam_policy.bundled_policy_path() / "tests"
SECTIONS = ("roles", "complaints", "appraisal", "rewards", "clients", "projects", "supervision")

BACKGROUND = """\
background:
  now: 2026-11-27T09:00:00+08:00
  facts:
    staff:
      - {id: M1, name: Top, role: null, education: master, major: management,
         sales_years: 10, ka_sales_years: 5, pm_years: 0, ka_project_years: 0,
         after_sales_years: 0, career_track: management}
      - {id: S1, name: Rep, role: sales_rep, education: bachelor, major: finance,
         sales_years: 5, ka_sales_years: 2, pm_years: 0, ka_project_years: 0,
         after_sales_years: 0, role_since: 2020-01-01, manager_id: M1,
         career_track: professional, monthly_target_bonus: 2000}
    clients:
      - {id: K1, name: Client, tier: key, owner_id: S1,
         last_contact_at: 2026-11-27T08:00:00+08:00, last_survey_at: 2026-11-01,
         last_survey_score: 80}
"""

LATE_COMPLAINT = """\
---
name: late answer
facts:
  complaints:
    - {id: C1, client_id: K1, assigned_to: S1, severity: general, reopened_count: 0,
       opened_at: 2026-11-01T09:00:00+08:00,
       first_response_at: 2026-11-01T17:00:00.000001+08:00,
       resolved_at: 2026-11-02T09:00:00+08:00,
       client_notified_at: 2026-11-02T10:00:00+08:00}
"""


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> RunCli:
    """``kam-policy ...`` in-process, with the test command registered."""
    if test_command not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, test_command))

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def write(tmp_path: Path, *parts: str) -> Path:
    """A test file of the background and ``parts`` (each dedented)."""
    path = tmp_path / "case.test.yaml"
    path.write_text(BACKGROUND + "".join(textwrap.dedent(p) for p in parts), encoding="utf-8")
    return path


# ------------------------------------------------------------------ the bundled tests


def test_bundled_policy_ships_one_test_file_per_section() -> None:
    names = sorted(p.name for p in discover(BUNDLED_TESTS))
    assert names == sorted(f"{s}.test.yaml" for s in SECTIONS)


def test_bundled_tests_pass_with_full_rule_and_row_coverage() -> None:
    suite = run_files(kam_policy.load(), discover(BUNDLED_TESTS))
    assert suite.problems == []
    assert [r.case.name for r in suite.results if r.status != "pass"] == []
    assert suite.coverage is not None
    assert suite.coverage.rules_missed == () and suite.coverage.rules_total == 31
    assert suite.coverage.rows_missed == () and suite.coverage.rows_total == 13


def test_cli_default_path_is_the_policy_folders_tests(run_cli: RunCli) -> None:
    code, out, _ = run_cli("test", "--coverage", "--min-coverage", "100")
    assert code == 0
    assert "rules       31/31  100.0%" in out
    assert "table rows  13/13  100.0%" in out
    assert "FAIL" not in out
    assert "71 passed, 0 failed" in out.splitlines()


def test_a_changed_parameter_makes_the_boundary_cases_fail(run_cli: RunCli, tmp_path: Path) -> None:
    params = tmp_path / "params.toml"
    params.write_text('response_limit = {general = "9h"}\n', encoding="utf-8")
    code, out, _ = run_cli("test", "--params", str(params), "--failures-only")
    assert code == 1
    assert "FAIL" in out and "PASS" not in out
    assert "escalation about complaint:C2 with level=1" in out


def test_policy_folder_option_finds_its_tests(run_cli: RunCli, tmp_path: Path) -> None:
    policy = tmp_path / "policy"
    shutil.copytree(kam_policy.bundled_policy_path(), policy,
                    ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    code, out, _ = run_cli("test", "--policy", str(policy))
    assert code == 0
    assert "roles.test.yaml" in out


# ------------------------------------------------------------------ pass and fail


def test_failure_shows_expected_and_near_misses(run_cli: RunCli, tmp_path: Path) -> None:
    path = write(tmp_path, LATE_COMPLAINT, """\
        expect:
          - {name: escalation, subject: "complaint:C1", values: {level: 2}}
        """)
    code, out, _ = run_cli("test", str(path))
    assert code == 1
    assert "FAIL   late answer  (case.test.yaml:" in out
    assert 'expected  escalation about complaint:C1 with level=2' in out
    assert 'near miss escalation about complaint:C1 with level=1, to="manager"' in out
    assert "level: expected 2, got 1" in out
    assert out.rstrip().endswith("0 passed, 1 failed")


def test_failure_without_near_miss_lists_the_subjects_conclusions(run_cli: RunCli,
                                                                  tmp_path: Path) -> None:
    path = write(tmp_path, LATE_COMPLAINT, """\
        expect:
          - {name: task_force, subject: "complaint:C1"}
        """)
    code, out, _ = run_cli("test", str(path))
    assert code == 1
    assert "got       no task_force about complaint:C1" in out
    assert "(about complaint:C1: escalation)" in out


def test_absent_failure_names_the_rule_and_its_reason(run_cli: RunCli, tmp_path: Path) -> None:
    path = write(tmp_path, LATE_COMPLAINT, """\
        absent:
          - {name: escalation, subject: "complaint:C1"}
        """)
    code, out, _ = run_cli("test", str(path))
    assert code == 1
    assert "expected  no escalation about complaint:C1" in out
    assert "by rule C.escalation.manager (complaints.kp:" in out
    assert "exceeds the 8h limit" in out


def test_values_are_a_subset_and_numbers_compare_by_value(run_cli: RunCli, tmp_path: Path) -> None:
    path = write(tmp_path, """\
        ---
        name: monthly A
        facts:
          appraisals:
            - {id: P1, staff_id: S1, kind: monthly, period: 2026-10,
               scores: {performance: {supervisor: 90}, attitude: {supervisor: 90},
                        teamwork: {supervisor: 90}, satisfaction: {supervisor: 90}}}
        expect:
          - {name: bonus, subject: "appraisal:P1", values: {multiplier: 1.2, amount: 2400}}
          - {name: grade, subject: "appraisal:P1", values: {grade: A}}
        absent:
          - {name: grade, subject: "appraisal:P1", values: {grade: B}}
        """)
    code, out, _ = run_cli("test", str(path))
    assert code == 0, out
    assert "PASS   monthly A" in out
    assert out.rstrip().endswith("1 passed, 0 failed")


def test_min_coverage_fails_a_partial_run(run_cli: RunCli, tmp_path: Path) -> None:
    code, out, _ = run_cli("test", str(BUNDLED_TESTS / "roles.test.yaml"), "--coverage",
                           "--min-coverage", "50")
    assert code == 1
    assert "rules       3/31  9.6%" in out
    assert "table rows  3/13  23.0%" in out
    assert "C.task_force (complaints.kp:" in out
    assert "grade_table row 5 (appraisal.kp:" in out
    assert "coverage is below the required 50%" in out


def test_coverage_alone_does_not_fail(run_cli: RunCli) -> None:
    code, out, _ = run_cli("test", str(BUNDLED_TESTS / "roles.test.yaml"), "--coverage")
    assert code == 0
    assert "rules never fired by any test:" in out


# ------------------------------------------------------------------ invalid test files


@pytest.mark.parametrize(("body", "line", "message"), [
    ("---\nname: x\n  now: [\n", 0, "not valid YAML"),
    ("---\nname: x\nnow: 2026-11-27T09:00:00+08:00\nexpct: []\n", 0,
     "unknown key 'expct' (did you mean 'expect'?)"),
    ("---\nname: x\nexpect:\n  - {name: escalation, subject: C1}\n", 0,
     "written TYPE:ID"),
    ("---\nname: x\nnow: 2026-11-27T09:00:00\nabsent: []\n", 0,
     "'now' must be a datetime with a time zone"),
    ("---\nname: x\nname: y\nabsent: []\n", 0, "key 'name' appears twice"),
    ("---\nnow: 2026-11-27T09:00:00+08:00\nabsent: []\n", 0, "needs a 'name'"),
    ("---\nname: x\n", 0, "needs 'expect' or 'absent'"),
    ("---\nname: x\nabsent: []\n---\nname: x\nabsent: []\n", 0, "another case has this name"),
    ("---\nname: !!python/object:os.system x\nabsent: []\n", 0, "not valid YAML"),
])
def test_malformed_cases_are_reported_with_their_line(tmp_path: Path, body: str, line: int,
                                                      message: str) -> None:
    path = tmp_path / "bad.test.yaml"
    path.write_text(BACKGROUND + body, encoding="utf-8")
    with pytest.raises(TestFileError) as raised:
        load_case_file(path)
    problem = raised.value.problems[0]
    assert message in problem.message
    assert problem.line > BACKGROUND.count("\n")  # the line of the case, not the file's start
    assert str(problem).startswith(f"{path}:{problem.line}")


def test_invalid_file_exits_2_with_file_and_line(run_cli: RunCli, tmp_path: Path) -> None:
    path = write(tmp_path, "---\nname: x\nabsent:\n  - {name: escalation}\n")
    code, out, _ = run_cli("test", str(path))
    assert code == 2
    line = BACKGROUND.count("\n") + 4
    assert f"{path}:{line}: 'absent' item needs a 'subject'" in out
    assert "(case 'x')" in out


@pytest.mark.parametrize(("item", "message"), [
    ('{name: escalaton, subject: "complaint:C1"}',
     "the policy has no conclusion 'escalaton'; did you mean 'escalation'?"),
    ('{name: escalation, subject: "client:K1"}',
     "'escalation' is about a complaint, so its subject is written complaint:ID"),
    ('{name: escalation, subject: "complaint:C1", values: {lvl: 1}}',
     "'escalation' has no value 'lvl' (it has level, to, manager_id)"),
])
def test_expectations_the_policy_cannot_draw_are_invalid(run_cli: RunCli, tmp_path: Path,
                                                         item: str, message: str) -> None:
    path = write(tmp_path, LATE_COMPLAINT + f"absent:\n  - {item}\n")
    code, out, _ = run_cli("test", str(path))
    assert code == 2
    assert message in out
    text = path.read_text(encoding="utf-8").splitlines()
    assert f":{len(text)}: " in out  # the line of the item, the file's last


def test_bad_facts_are_reported_with_the_case_name(run_cli: RunCli, tmp_path: Path) -> None:
    path = write(tmp_path, """\
        ---
        name: annual appraisal with an unquoted year
        facts:
          appraisals:
            - {id: P1, staff_id: S1, kind: annual, period: 2026,
               scores: {performance: {supervisor: 90}}}
        absent:
          - {name: grade, subject: "appraisal:P1"}
        ---
        name: a good case still runs
        absent:
          - {name: grade, subject: "appraisal:P1"}
        """)
    code, out, _ = run_cli("test", str(path))
    assert code == 2
    assert "ERROR  annual appraisal with an unquoted year" in out
    assert "appraisals[0] (id P1): period: must be a string" in out
    assert 'write "2026"' in out
    assert "PASS   a good case still runs" in out
    assert out.rstrip().endswith("1 passed, 0 failed, 1 invalid")


def test_a_case_without_now_needs_a_background_now(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "nonow.test.yaml"
    path.write_text("name: x\nabsent:\n  - {name: task_force, subject: \"complaint:C1\"}\n",
                    encoding="utf-8")
    code, out, _ = run_cli("test", str(path))
    assert code == 2
    assert "the case has no 'now'" in out


def test_missing_path_and_empty_folder_exit_2(run_cli: RunCli, tmp_path: Path) -> None:
    assert run_cli("test", str(tmp_path / "nope"))[0] == 2
    code, _, err = run_cli("test", str(tmp_path))
    assert code == 2
    assert "no test files (*.test.yaml, *.test.yml)" in err


# ------------------------------------------------------------------ pieces


def test_background_records_are_updated_field_by_field() -> None:
    schema = kam_policy.bundled_schema()
    base = {"staff": [{"id": "S1", "role": "sales_rep", "major": "finance"}],
            "sales_results": [{"staff_id": "S1", "period": "2026-10", "actual": 1}]}
    extra = {"staff": [{"id": "S1", "major": "marketing"}, {"id": "S2"}],
             "sales_results": [{"staff_id": "S1", "period": "2026-10", "actual": 2}]}
    merged = merge_facts(base, extra, schema)
    assert merged["staff"] == [{"id": "S1", "role": "sales_rep", "major": "marketing"},
                               {"id": "S2"}]
    assert merged["sales_results"] == [{"staff_id": "S1", "period": "2026-10", "actual": 2}]
    assert base["staff"][0]["major"] == "finance"  # the background is not changed


def test_yaml_values_take_the_json_shape() -> None:
    import yaml

    data = yaml.safe_load("a: 2026-11-27T09:00:00.000001+08:00\nb: 2026-11-27\nc: 0.1\n"
                          "d: [1, 2.5]\ne: 2026-10\n")
    assert to_json_shape(data) == {"a": "2026-11-27T09:00:00.000001+08:00", "b": "2026-11-27",
                                   "c": Decimal("0.1"), "d": [1, Decimal("2.5")],
                                   "e": "2026-10"}


@pytest.mark.parametrize(("expected", "actual", "same"), [
    (Decimal("1.2"), "1.20", True),
    (2026, "2026", True),
    ("1.2", "1.20", False),  # text compares as text
    (True, True, True),
    (1, True, False),
    (None, None, True),
    (["a", 1], ["a", "1.00"], True),
    (["a"], ["a", "b"], False),
    ({"x": 1}, {"x": "1"}, True),
    ("A", "B", False),
])
def test_same_value(expected: object, actual: object, same: bool) -> None:
    assert same_value(expected, actual) is same


def test_multi_document_file_keeps_case_order_and_lines() -> None:
    text = BACKGROUND + LATE_COMPLAINT + "absent: []\n---\n# a comment\nname: second\nabsent: []\n"
    case_file = parse_case_file(text, "x.test.yaml")
    assert [c.name for c in case_file.cases] == ["late answer", "second"]
    assert case_file.cases[1].line == text.splitlines().index("name: second") + 1
    assert case_file.background.now is not None


def test_render_suite_groups_cases_by_file(tmp_path: Path) -> None:
    path = write(tmp_path, LATE_COMPLAINT + 'expect:\n  - {name: escalation, subject: '
                 '"complaint:C1"}\n')
    suite = run_files(kam_policy.load(), [path])
    text = render_suite(suite)
    assert text.splitlines()[0].endswith("case.test.yaml")
    assert "PASS   late answer" in text


def test_an_expectation_about_a_record_not_in_the_facts_is_invalid(run_cli: RunCli,
                                                                   tmp_path: Path) -> None:
    path = write(tmp_path, LATE_COMPLAINT, """\
        absent:
          - {name: task_force, subject: "complaint: C9"}
        """)
    code, out, _ = run_cli("test", str(path))
    assert code == 2
    assert "there is no complaint:C9 in the facts" in out


def test_empty_facts_and_subject_spacing_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        ---
        name: nothing about K1
        facts:
        absent:
          - {name: account_review, subject: "client: K1"}
        """)
    suite = run_files(kam_policy.load(), [path])
    assert [r.status for r in suite.results] == ["pass"]
