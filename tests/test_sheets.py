"""Decision tables as spreadsheets: export to CSV/XLSX, import with every cell checked, and a
rule file rewritten so that only the changed rows differ."""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

import kam_policy
from kam_policy import cli
from kam_policy.cli import sheets as sheets_command
from kam_policy.grammar import ast
from kam_policy.grammar.parse import parse
from kam_policy.sheets import (
    SheetError,
    cell_problem,
    cell_ref,
    export_table,
    import_table,
    replace_rows,
)
from kam_policy.sheets.grid import column_letter

RunCli = Callable[..., tuple[int, str, str]]
NOW = dt.datetime(2026, 11, 27, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    """A copy of the bundled rule files, to edit."""
    folder = tmp_path / "policy"
    shutil.copytree(kam_policy.bundled_policy_path(), folder,
                    ignore=shutil.ignore_patterns("__pycache__", "__init__.py", "tests"))
    return folder


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> RunCli:
    if sheets_command not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, sheets_command))

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows(rows)


def edit_xlsx(path: Path, ref: str, value: object) -> None:
    book = load_workbook(path)
    page = book.worksheets[0]
    page[ref] = value
    book.save(path)


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    """The removed and added lines of a diff of ``old`` to ``new``."""
    diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0))
    removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def grade_of(policy: Path, total: int) -> str:
    """The grade the policy at ``policy`` gives a sales rep scoring ``total`` everywhere."""
    scores = {d: {"supervisor": total} for d in
              ("performance", "attitude", "teamwork", "satisfaction")}
    facts = {"staff": [{"id": "S1", "name": "Rep", "role": "sales_rep", "education": "bachelor",
                        "major": "finance", "sales_years": 5, "ka_sales_years": 2,
                        "pm_years": 0, "ka_project_years": 0, "after_sales_years": 0,
                        "career_track": "professional"}],
             "appraisals": [{"id": "P1", "staff_id": "S1", "kind": "annual", "period": "2026",
                             "scores": scores}]}
    decision = kam_policy.load(policy).decide(facts, NOW)
    return str(decision.named("grade")[0].values["grade"])


# ------------------------------------------------------------------ export


def test_export_csv_layout(policy: Path, tmp_path: Path) -> None:
    target = tmp_path / "grade_table.csv"
    export_table("grade_table", target, policy=policy)
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 for spreadsheet programs
    assert read_csv(target) == [
        ["table", "grade_table", "hit", "first"],
        ["total", "satisfaction", "out: grade"],
        [">= grade_min.S", ">= s_min_satisfaction", "S"],
        [">= grade_min.A", "-", "A"],
        [">= grade_min.B", "-", "B"],
        [">= grade_min.C", "-", "C"],
        ["-", "-", "D"],
    ]


def test_export_xlsx_names_the_sheet_after_the_table(policy: Path, tmp_path: Path) -> None:
    target = tmp_path / "escalation.xlsx"
    export_table("escalation_target", target, policy=policy)
    page = load_workbook(target).worksheets[0]
    assert page.title == "escalation_target"
    rows = [list(row) for row in page.iter_rows(values_only=True)]
    assert rows[0] == ["table", "escalation_target", "hit", "priority", None]
    assert rows[1] == ["response_late", "resolution_late", "resolution_very_late", "reopened",
                       "out: to"]
    assert rows[4] == ["-", "-", "-", ">= department_head_reopened", "department_head"]


def test_export_unknown_table_suggests_one(policy: Path, tmp_path: Path) -> None:
    with pytest.raises(SheetError, match="no table 'grade_tabel'; did you mean 'grade_table'"):
        export_table("grade_tabel", tmp_path / "x.csv", policy=policy)


def test_export_needs_csv_or_xlsx(policy: Path, tmp_path: Path) -> None:
    with pytest.raises(SheetError, match=r"\.csv or \.xlsx"):
        export_table("grade_table", tmp_path / "x.ods", policy=policy)


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("table", ["grade_table", "escalation_target", "unmet_requirements"])
def test_unchanged_round_trip_keeps_the_file_identical(policy: Path, tmp_path: Path,
                                                       suffix: str, table: str) -> None:
    sheet = tmp_path / f"{table}{suffix}"
    export_table(table, sheet, policy=policy)
    before = {p.name: p.read_bytes() for p in policy.glob("*.kp")}
    result = import_table(sheet, table, policy=policy, write=True)
    assert result.unchanged and result.changed == 0 and result.diff() == ""
    assert {p.name: p.read_bytes() for p in policy.glob("*.kp")} == before


def test_csv_one_edited_cell_is_a_one_row_diff(policy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "grade_table.csv"
    export_table("grade_table", sheet, policy=policy)
    rows = read_csv(sheet)
    rows[3][0] = ">= 80"  # A from 80 instead of grade_min.A
    write_csv(sheet, rows)
    old = (policy / "appraisal.kp").read_text(encoding="utf-8")
    assert grade_of(policy, 82) == "B"
    result = import_table(sheet, "grade_table", policy=policy, write=True)
    new = (policy / "appraisal.kp").read_text(encoding="utf-8")
    assert result.changed == 1 and new == result.new_text
    assert changed_lines(old, new) == (["  | >= grade_min.A | -                     | A |"],
                                       ["  | >= 80          | -                     | A |"])
    assert grade_of(policy, 82) == "A"


def test_xlsx_one_edited_cell_is_a_one_row_diff(policy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "grade.xlsx"
    export_table("grade_table", sheet, policy=policy)
    edit_xlsx(sheet, "B3", ">= 92")
    old = (policy / "appraisal.kp").read_text(encoding="utf-8")
    result = import_table(sheet, "grade_table", policy=policy, write=True)
    removed, added = changed_lines(old, (policy / "appraisal.kp").read_text(encoding="utf-8"))
    assert removed == ["  | >= grade_min.S | >= s_min_satisfaction | S |"]
    assert added == ["  | >= grade_min.S | >= 92                 | S |"]
    assert "-  | >= grade_min.S | >= s_min_satisfaction | S |" in result.diff()


def test_a_number_typed_into_a_workbook_is_read_as_its_text(policy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "grade.xlsx"
    export_table("grade_table", sheet, policy=policy)
    edit_xlsx(sheet, "A4", 86)  # a number cell, not text: total == 86
    result = import_table(sheet, "grade_table", policy=policy)
    assert changed_lines(result.old_text, result.new_text)[1] == \
        ["  | 86             | -                     | A |"]


def test_a_longer_cell_changes_only_its_own_row(policy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "grade_table.csv"
    export_table("grade_table", sheet, policy=policy)
    rows = read_csv(sheet)
    rows[4][1] = ">= s_min_satisfaction - 20"
    write_csv(sheet, rows)
    result = import_table(sheet, "grade_table", policy=policy)
    removed, added = changed_lines(result.old_text, result.new_text)
    assert removed == ["  | >= grade_min.B | -                     | B |"]
    assert added == ["  | >= grade_min.B | >= s_min_satisfaction - 20 | B |"]


def test_added_and_removed_rows_are_the_only_changes(policy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "grade_table.csv"
    export_table("grade_table", sheet, policy=policy)
    rows = read_csv(sheet)
    rows.insert(4, [">= 80", ">= 95", "A"])
    del rows[6]  # the C row
    rows.append(["", "", ""])  # a blank row a spreadsheet left behind
    write_csv(sheet, rows)
    result = import_table(sheet, "grade_table", policy=policy)
    assert result.changed == 2
    assert changed_lines(result.old_text, result.new_text) == (
        ["  | >= grade_min.C | -                     | C |"],
        ["  | >= 80          | >= 95                 | A |"])


def test_import_without_write_leaves_the_file(policy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "grade_table.csv"
    export_table("grade_table", sheet, policy=policy)
    rows = read_csv(sheet)
    rows[3][0] = ">= 80"
    write_csv(sheet, rows)
    before = (policy / "appraisal.kp").read_bytes()
    result = import_table(sheet, "grade_table", policy=policy)
    assert not result.unchanged
    assert (policy / "appraisal.kp").read_bytes() == before


def test_strings_and_crlf_files_round_trip(policy: Path, tmp_path: Path) -> None:
    rules = policy / "roles.kp"
    rules.write_bytes(rules.read_bytes().replace(b"\n", b"\r\n"))
    sheet = tmp_path / "unmet.csv"
    export_table("unmet_requirements", sheet, policy=policy)
    rows = read_csv(sheet)
    assert rows[2] == ["false", "-", "-", '"education"']
    rows[3][3] = '"experience (经验)"'
    rows.append(["-", "-", "-", '"other"'])
    write_csv(sheet, rows)
    result = import_table(sheet, "unmet_requirements", policy=policy, write=True)
    _, added = changed_lines(result.old_text, result.new_text)
    assert added == ['  | -     | false | -     | "experience (经验)" |',
                     '  | -     | -     | -     | "other"         |']
    assert rules.read_bytes().count(b"\r\n") == rules.read_bytes().count(b"\n")


# ------------------------------------------------------------------ bad cells


def test_bad_cells_are_reported_by_sheet_row_and_column(policy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "Sheet1.csv"
    export_table("grade_table", sheet, policy=policy)
    rows = read_csv(sheet)
    rows[3][2] = ""
    rows[3][0] = ">= 9O"
    rows[4][2] = ">= 5"
    rows[5][1] = "a | b"
    write_csv(sheet, rows)
    before = (policy / "appraisal.kp").read_bytes()
    with pytest.raises(SheetError) as raised:
        import_table(sheet, "grade_table", policy=policy, write=True)
    assert [str(p) for p in raised.value.problems] == [
        "Sheet1!A4: '>= 9O' is not a valid cell (unexpected 'O')",
        "Sheet1!C4: an output cell needs a value",
        "Sheet1!C5: '>= 5' is not a valid output cell: write the value itself, e.g. A or 1.2",
        "Sheet1!B6: 'a | b' is not a valid cell (a cell may not contain '|')",
    ]
    assert (policy / "appraisal.kp").read_bytes() == before


def test_cells_that_parse_but_do_not_check_point_at_their_cell(policy: Path,
                                                               tmp_path: Path) -> None:
    sheet = tmp_path / "grades.xlsx"
    export_table("grade_table", sheet, policy=policy)
    edit_xlsx(sheet, "C5", "Q")
    edit_xlsx(sheet, "A7", '>= "high"')
    with pytest.raises(SheetError) as raised:
        import_table(sheet, "grade_table", policy=policy)
    shown = [str(p) for p in raised.value.problems]
    assert shown[0].startswith("grade_table!C5: 'Q': unknown name 'Q'")
    assert shown[1].startswith("grade_table!A7: '>= \"high\"': cannot compare number with text")


def test_cells_outside_the_columns_are_reported(policy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "g.csv"
    export_table("grade_table", sheet, policy=policy)
    rows = read_csv(sheet)
    rows[2].append("oops")
    write_csv(sheet, rows)
    with pytest.raises(SheetError, match=r"g!D3: 'oops' is outside the table's 3 columns"):
        import_table(sheet, "grade_table", policy=policy)


def test_wrong_table_hit_or_header_is_refused(policy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "g.csv"
    export_table("escalation_target", sheet, policy=policy)
    with pytest.raises(SheetError, match=r"g!B1: this sheet holds table 'escalation_target', "
                                         "not 'grade_table'"):
        import_table(sheet, "grade_table", policy=policy)
    export_table("grade_table", sheet, policy=policy)
    rows = read_csv(sheet)
    rows[0][3] = "unique"
    write_csv(sheet, rows)
    with pytest.raises(SheetError, match=r"g!D1: the hit policy is 'first' in the rule file"):
        import_table(sheet, "grade_table", policy=policy)
    rows[0][3] = "first"
    rows[1] = ["satisfaction", "total", "out: grade"]
    write_csv(sheet, rows)
    with pytest.raises(SheetError) as raised:
        import_table(sheet, "grade_table", policy=policy)
    assert str(raised.value.problems[0]).startswith(
        "g!A2: column header 'satisfaction' should be 'total'")


@pytest.mark.parametrize(("text", "output", "problem"), [
    (">= 95", False, None),
    ("-", False, None),
    ("in [minor, general]", False, None),
    ("not in [lost]", False, None),
    ('"a|b"', True, None),
    ("1.2", True, None),
    ("", False, "the cell is empty; write - to match anything"),
    (">= 1 # note", False, "a '#' starts a comment"),
    ("- -", True, "is not a valid cell"),
])
def test_cell_problem(text: str, output: bool, problem: str | None) -> None:
    found = cell_problem(text, output=output)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_cell_refs() -> None:
    assert [column_letter(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]
    assert cell_ref("Sheet1", 4, 3) == "Sheet1!C4"
    assert cell_ref("my grades", 2, 1) == "'my grades'!A2"


# ------------------------------------------------------------------ rewriting


def only_table(text: str) -> ast.Table:
    table = parse(text).items[0]
    assert isinstance(table, ast.Table)
    return table


def test_rows_for_a_table_without_rows_follow_its_out_line() -> None:
    text = "table t {\n    hit collect\n    in x: number\n    out y: number\n}\n"
    result = replace_rows(text, only_table(text), [(">= 1", "10"), ("-", "0")])
    assert result.text == ("table t {\n    hit collect\n    in x: number\n    out y: number\n"
                           "    | >= 1 | 10 |\n    | - | 0 |\n}\n")
    assert [result.text[c.start:c.end] for c in result.cells] == [">= 1", "10", "-", "0"]


def test_removing_every_row_removes_their_lines() -> None:
    text = "table t {\n  hit first\n  in x: number\n  out y: number\n  | 1 | 2 |\n  | - | 3 |\n}\n"
    result = replace_rows(text, only_table(text), [])
    assert result.text == "table t {\n  hit first\n  in x: number\n  out y: number\n}\n"
    assert result.changed == 2


def test_comments_between_unchanged_rows_stay() -> None:
    text = ("table t {\n  hit first\n  in x: number\n  out y: number\n"
            "  | 1 | 2 |  # first\n  # between\n  | - | 3 |\n}\n")
    result = replace_rows(text, only_table(text), [("1", "2"), ("-", "4")])
    assert result.text == text.replace("| - | 3 |", "| - | 4 |")


# ------------------------------------------------------------------ command line


def test_cli_export_then_import(run_cli: RunCli, policy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "grade_table.csv"
    code, out, _ = run_cli("sheets", "export", "grade_table", "--policy", str(policy),
                           "--to", str(sheet))
    assert code == 0 and "wrote table grade_table (5 rows, hit first)" in out
    code, out, _ = run_cli("sheets", "import", str(sheet), "--table", "grade_table",
                           "--policy", str(policy))
    assert code == 0 and "appraisal.kp: table grade_table is unchanged" in out
    rows = read_csv(sheet)
    rows[3][0] = ">= 80"
    write_csv(sheet, rows)
    code, out, _ = run_cli("sheets", "import", str(sheet), "--table", "grade_table",
                           "--policy", str(policy))
    assert code == 0
    assert "+  | >= 80          | -                     | A |" in out
    assert "would update (use --write)" in out
    code, out, _ = run_cli("sheets", "import", str(sheet), "--table", "grade_table",
                           "--policy", str(policy), "--write")
    assert code == 0 and "updated" in out
    assert "| >= 80 " in (policy / "appraisal.kp").read_text(encoding="utf-8")


def test_cli_import_reports_bad_cells_and_exits_2(run_cli: RunCli, policy: Path,
                                                  tmp_path: Path) -> None:
    sheet = tmp_path / "Sheet1.csv"
    export_table("grade_table", sheet, policy=policy)
    rows = read_csv(sheet)
    rows[3][0] = ">= 9O"
    write_csv(sheet, rows)
    code, out, err = run_cli("sheets", "import", str(sheet), "--table", "grade_table",
                             "--policy", str(policy), "--write")
    assert code == 2 and out == ""
    assert "Sheet1!A4: '>= 9O' is not a valid cell" in err
    assert "nothing was written" in err
