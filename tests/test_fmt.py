"""``kam-policy fmt``: the canonical layout, idempotence, meaning and comment preservation.

Every bundled file and every generated policy must format to text that parses to the same AST
(spans aside) with the same comments, and formatting that text again must change nothing (also
in narrower widths, where nearly everything breaks). The generated policies come from
``policy_strategies.policies``, which follows ``policy.lark``: every item kind, every expression
level with the parentheses a level change needs (plus some that are not needed), and random
layout: spaces, line breaks, blank lines and comments between any two tokens.
``KAM_FMT_EXAMPLES`` sets the number of examples, ``KAM_FMT_RANDOM=1`` draws new ones each run.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from policy_strategies import policies

from kam_policy import PolicySyntaxError, parse
from kam_policy.cli import COMMANDS, main
from kam_policy.cli import fmt as fmt_command
from kam_policy.cli.common import UsageError
from kam_policy.engine.sources import bundled_policy_path
from kam_policy.fmt import format_text, printer
from kam_policy.fmt.doc import text_width

BUNDLED = sorted(bundled_policy_path().glob("*.kp"))
EXAMPLES = int(os.environ.get("KAM_FMT_EXAMPLES", "100"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None,
                    derandomize=os.environ.get("KAM_FMT_RANDOM") is None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NARROW = settings(PROPERTY, max_examples=max(1, EXAMPLES // 4))


def comments_of(text: str) -> list[str]:
    """Every comment of ``text``, found without the parser: '#' outside a text, to line end."""
    found: list[str] = []
    for line in text.splitlines():
        in_string = escaped = False
        for index, char in enumerate(line):
            if in_string:
                in_string = escaped or char != '"'
                escaped = not escaped and char == "\\"
            elif char == '"':
                in_string = True
            elif char == "#":
                found.append(line[index:].rstrip())
                break
    return found


def check_formatting(text: str) -> str:
    """Format ``text``; assert same AST, same comments, idempotence. Returns the result."""
    formatted = format_text(text)
    assert parse(formatted) == parse(text)
    assert sorted(comments_of(formatted)) == sorted(comments_of(text))
    assert format_text(formatted) == formatted
    assert all(line == line.rstrip() for line in formatted.splitlines())
    return formatted


# ---- the bundled policy ------------------------------------------------------------------


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_file_formats_to_the_same_policy(path: Path) -> None:
    check_formatting(path.read_text("utf-8"))


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_file_keeps_its_comments_on_their_lines(path: Path) -> None:
    text = path.read_text("utf-8")
    formatted = format_text(text)
    before = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    after = [line.strip() for line in formatted.splitlines() if line.strip().startswith("#")]
    assert after == before


@pytest.mark.parametrize("width", [24, 60])
def test_bundled_files_in_other_widths(width: int) -> None:
    with mock.patch.object(printer, "WIDTH", width):
        for path in BUNDLED:
            check_formatting(path.read_text("utf-8"))


def test_bundled_tables_keep_their_aligned_rows() -> None:
    text = (bundled_policy_path() / "complaints.kp").read_text("utf-8")
    rows = [line for line in format_text(text).splitlines() if line.lstrip().startswith("|")]
    assert rows == [line for line in text.splitlines() if line.lstrip().startswith("|")]


# ---- the layout --------------------------------------------------------------------------

MESSY = """\
# header comment

param  weights={a:1,b : 2}   # weights
param big = {sales_rep: {performance: 50, attitude: 15, teamwork: 15, satisfaction: 20}, \
project_manager: {performance: 40, attitude: 15, teamwork: 25, satisfaction: 20}}
enum   Grade=D<C<B
table t "等级" {   section "D" hit first in total:number out grade:Grade
| >= 90 | S |
|- | D|
}
rule R.one "t" { for a in A where a.x>1
  when (a.y)
  emit e(v : (1+2)*3) about (a)
}
"""

MESSY_FORMATTED = """\
# header comment

param weights = {a: 1, b: 2}  # weights
param big = {
  sales_rep:       {performance: 50, attitude: 15, teamwork: 15, satisfaction: 20},
  project_manager: {performance: 40, attitude: 15, teamwork: 25, satisfaction: 20},
}

enum Grade = D < C < B

table t "等级" {
  section "D"
  hit first
  in total: number
  out grade: Grade
  | >= 90 | S |
  | -     | D |
}

rule R.one "t" {
  for a in A where a.x > 1
  when a.y
  emit e(v: (1 + 2) * 3) about a
}
"""


def test_messy_text_gets_the_house_layout() -> None:
    assert check_formatting(MESSY) == MESSY_FORMATTED


@pytest.mark.parametrize(("source", "want"), [
    ("a - (b - c)", "a - (b - c)"),
    ("(a - b) - c", "a - b - c"),
    ("-x * y", "-x * y"),
    ("-(x * y)", "-(x * y)"),
    ("(-x) * y", "-x * y"),
    ("not (a or b) and c", "not (a or b) and c"),
    ("(not a) and c", "not a and c"),
    ("not (a == b)", "not a == b"),
    ("x ?? y ?? z", "x ?? y ?? z"),
    ("x ?? (y ?? z)", "x ?? y ?? z"),
    ("(x ?? y) ?? z", "(x ?? y) ?? z"),
    ("(a + b) ?? c", "a + b ?? c"),
    ("a / (b * c)", "a / (b * c)"),
    ("(a.b)[c]", "a.b[c]"),
    ("((f(x)))", "f(x)"),
    ("a or (b and c)", "a or (b and c)"),
    ("(a or b) or c", "(a or b) or c"),
    ("a and (b and c)", "a and (b and c)"),
    ("(if a then b else c) + 1", "(if a then b else c) + 1"),
    ("if a then b else (if c then d else e)", "if a then b else if c then d else e"),
    ("(a == b) == c", "(a == b) == c"),
    ("count(x in (S) where (x.a))", "count(x in S where x.a)"),
    ("sum((x.a) for x in (S.b))", "sum(x.a for x in S.b)"),
    ("(a is null) is null", "(a is null) is null"),
    ("- -x", "--x"),
])
def test_minimal_parentheses(source: str, want: str) -> None:
    formatted = check_formatting(f"param p = {source}\n")
    assert formatted == f"param p = {want}\n"


def test_long_define_breaks_after_the_equals_sign_and_before_else() -> None:
    text = ("define role_years(s: Staff, role: Role) = if role == sales_rep then s.sales_years "
            "else if role == project_manager then s.pm_years else s.after_sales_years\n")
    assert check_formatting(text) == (
        "define role_years(s: Staff, role: Role) =\n"
        "  if role == sales_rep then s.sales_years\n"
        "  else if role == project_manager then s.pm_years\n"
        "  else s.after_sales_years\n")


def test_long_lines_break_within_the_width() -> None:
    long_and = " and ".join(f"a.field_{i} == {i}" for i in range(12))
    args = ", ".join(f"value_{i}: a.v{i}" for i in range(10))
    text = (f"rule R.x {{\n  for a in A\n  when {long_and}\n"
            f"  let n = count(b in B where {long_and})\n  emit e({args}) about a.owner\n}}\n")
    formatted = check_formatting(text)
    assert max(text_width(line) for line in formatted.splitlines()) <= 100
    assert "\n    and a.field_" in formatted  # a broken 'when' continues 2 deeper
    assert "\n    about a.owner" in formatted


def test_cjk_cells_count_two_columns() -> None:
    text = 'table t {\nhit first in a: text out b: text\n| "大客户" | 1 |\n| "abcdef" | 22 |\n}\n'
    rows = [line for line in check_formatting(text).splitlines() if "|" in line]
    assert rows == ['  | "大客户" | 1  |', '  | "abcdef" | 22 |']
    assert len({text_width(row) for row in rows}) == 1


def test_blank_lines_between_items() -> None:
    text = ("param a = 1\n\n\n\nparam b = 2\nparam c = 3\ndefine f() = 1\n"
            "rule R.r {\nfor x in X\nemit e()\n}\nrule R.s {\nfor x in X\n\n\nemit e()\n}\n")
    assert check_formatting(text) == (
        "param a = 1\n\nparam b = 2\nparam c = 3\n\ndefine f() = 1\n\n"
        "rule R.r {\n  for x in X\n  emit e()\n}\n\nrule R.s {\n  for x in X\n\n  emit e()\n}\n")


def test_texts_are_written_canonically() -> None:
    text = 'param p = ["\\u0041\\/", "tab\\there", "\\u202e", "大客户 {x}", "a\\"b\\\\"]\n'
    assert check_formatting(text) == (
        'param p = ["A/", "tab\\there", "\\u202e", "大客户 {x}", "a\\"b\\\\"]\n')


def test_numbers_and_durations_are_kept_as_written() -> None:
    assert check_formatting("param p = [1.10, 24h, 1.5h, 0.50]\n") == (
        "param p = [1.10, 24h, 1.5h, 0.50]\n")


def test_empty_and_comment_only_files() -> None:
    assert check_formatting("") == ""
    assert check_formatting("\n\n  \n") == ""
    assert check_formatting("# only\n\n\n# comments") == "# only\n\n# comments\n"


# ---- comments ----------------------------------------------------------------------------

COMMENTED = """\
# file
param p = {  # header
  # before a
  a: 1,  # after a

  b: [1, 2],  # after b
  # dangling
}  # after p
rule R.x "t" {  # rule header
  # before for
  for a in A  # after for
  when a.x  # first
    and a.y  # second
  when a.z
    # inside when
    or a.w
  emit e()  # after emit
  # dangling in rule
}  # after rule
# end
"""

COMMENTED_FORMATTED = """\
# file
param p = {  # header
  # before a
  a: 1,  # after a

  b: [1, 2],  # after b
  # dangling
}  # after p

rule R.x "t" {  # rule header
  # before for
  for a in A  # after for
  # first
  # second
  when a.x and a.y
  # inside when
  when a.z or a.w
  emit e()  # after emit
  # dangling in rule
}  # after rule
# end
"""


def test_comments_stay_with_what_they_precede_or_end() -> None:
    assert check_formatting(COMMENTED) == COMMENTED_FORMATTED


def test_comment_in_a_map_keeps_it_broken() -> None:
    text = "param p = {a: 1,  # one\n  b: 2}\n"
    assert check_formatting(text) == "param p = {\n  a: 1,  # one\n  b: 2,\n}\n"


def test_comment_in_a_table_row() -> None:
    text = "table t {\n  hit first in a: number out b: number\n  | 1 | 2 |  # one\n  # two\n" \
           "  | 10 | 20 |\n}\n"
    assert check_formatting(text) == (
        "table t {\n  hit first\n  in a: number\n  out b: number\n  | 1  | 2  |  # one\n"
        "  # two\n  | 10 | 20 |\n}\n")


def test_comment_in_a_nested_list_of_a_clause() -> None:
    text = "rule R.x {\n  for a in A\n  let l = f([1,  # one\n 2], 3)\n  emit e()\n}\n"
    formatted = check_formatting(text)
    assert "  let l = f([\n" in formatted
    assert "1,  # one\n" in formatted


# ---- errors ------------------------------------------------------------------------------


def test_syntax_error_is_the_parser_diagnostic() -> None:
    with pytest.raises(PolicySyntaxError) as info:
        format_text("param = 1\n", "bad.kp")
    assert info.value.diagnostics[0].code == "parse.unexpected-token"
    assert str(info.value.diagnostics[0].span).startswith("bad.kp:1:")


# ---- the command line --------------------------------------------------------------------


def run_fmt(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``kam-policy fmt ...`` in-process (through ``main`` once the command is registered)."""
    if fmt_command in COMMANDS:
        code = main(["fmt", *argv])
    else:
        parser = argparse.ArgumentParser()
        fmt_command.register(parser.add_subparsers())
        args = parser.parse_args(["fmt", *argv])
        try:
            code = args.run(args)
        except UsageError as error:
            print(f"kam-policy: {error}", file=sys.stderr)
            code = 2
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "good.kp").write_text("param a = 1\n", "utf-8")
    (tmp_path / "sub" / "ugly.kp").write_text("param  b=2 # two\n", "utf-8")
    (tmp_path / "notes.txt").write_text("param  c=3\n", "utf-8")
    return tmp_path


def test_check_lists_the_files_that_would_change(capsys: pytest.CaptureFixture[str],
                                                 folder: Path) -> None:
    code, out, err = run_fmt(capsys, "--check", str(folder))
    assert (code, out, err) == (1, f"{folder / 'sub' / 'ugly.kp'}\n", "")
    assert (folder / "sub" / "ugly.kp").read_text("utf-8") == "param  b=2 # two\n"


def test_check_passes_on_formatted_files(capsys: pytest.CaptureFixture[str],
                                         folder: Path) -> None:
    assert run_fmt(capsys, "--check", str(folder / "good.kp")) == (0, "", "")


def test_check_passes_on_the_bundled_policy_once_formatted(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    for path in BUNDLED:
        (tmp_path / path.name).write_text(format_text(path.read_text("utf-8")), "utf-8")
    assert run_fmt(capsys, "--check", str(tmp_path)) == (0, "", "")


def test_fmt_rewrites_in_place_and_names_the_files(capsys: pytest.CaptureFixture[str],
                                                   folder: Path) -> None:
    ugly = folder / "sub" / "ugly.kp"
    ugly.chmod(0o640)
    code, out, _ = run_fmt(capsys, str(folder))
    assert (code, out) == (0, f"{ugly}\n")
    assert ugly.read_text("utf-8") == "param b = 2  # two\n"
    assert ugly.stat().st_mode & 0o777 == 0o640
    assert (folder / "notes.txt").read_text("utf-8") == "param  c=3\n"
    assert sorted(p.name for p in (folder / "sub").iterdir()) == ["ugly.kp"]  # no temp file
    assert run_fmt(capsys, "--check", str(folder)) == (0, "", "")


def test_file_that_does_not_parse_exits_2(capsys: pytest.CaptureFixture[str],
                                          folder: Path) -> None:
    bad = folder / "bad.kp"
    bad.write_text("param a = \n", "utf-8")
    for argv in (["--check", str(folder)], [str(folder)]):
        code, out, err = run_fmt(capsys, *argv)
        assert code == 2
        assert "bad.kp:1:9: error[parse.unexpected-token] unexpected end of file" in err
        assert out == f"{folder / 'sub' / 'ugly.kp'}\n"  # the other files are still handled
    assert bad.read_text("utf-8") == "param a = \n"


def test_standard_input_to_standard_output(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("param  a=1\n"))
    assert run_fmt(capsys, "-") == (0, "param a = 1\n", "")
    monkeypatch.setattr("sys.stdin", io.StringIO("param  a=1\n"))
    assert run_fmt(capsys, "--check", "-") == (1, "", "")
    monkeypatch.setattr("sys.stdin", io.StringIO("param a =\n"))
    code, out, err = run_fmt(capsys, "-")
    assert (code, out) == (2, "")
    assert "<stdin>:1:9: error[parse.unexpected-token] unexpected end of file" in err


def test_missing_path_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_fmt(capsys, str(tmp_path / "nothing.kp"))
    assert (code, out) == (2, "")
    assert "no such file or folder" in err


# ---- generated policies (tests/policy_strategies.py) --------------------------------------


@PROPERTY
@given(policies())
def test_generated_policy_formats_to_the_same_policy(text: str) -> None:
    check_formatting(text)


@NARROW
@given(policies())
def test_generated_policy_in_narrow_columns(text: str) -> None:
    """At 24 columns nearly everything breaks: every line-breaking path must keep the meaning
    and be stable too."""
    with mock.patch.object(printer, "WIDTH", 24):
        check_formatting(text)
