"""``kam-policy fmt``: the canonical layout, idempotence, meaning and comment preservation.

Every bundled file and every generated policy must format to text that parses to the same AST
(spans aside) with the same comments, and formatting that text again must change nothing (also
in narrower widths, where nearly everything breaks). The generated policies come from a
strategy that follows ``policy.lark``: every item kind, every expression level with the
parentheses a level change needs (plus some that are not needed), and random layout: spaces,
line breaks, blank lines and comments between any two tokens.
``KAM_FMT_EXAMPLES`` sets the number of examples, ``KAM_FMT_RANDOM=1`` draws new ones each run.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ---- generated policies ------------------------------------------------------------------

Tokens = list[str]
IF, OR, AND, NOT, COMPARE, COALESCE, SUM, PRODUCT, UNARY, POSTFIX, ATOM = range(11)

NAMES = ("a", "b", "x", "y", "total", "s2", "_p", "大客户", "分数", "Grade", "Staff")
STRING_PIECES = ("ok", "a b", "大客户", '\\"', "\\\\", "\\n", "\\t", "\\u4e2d", "\\/", "{x}",
                 "{a.b}", "'", "#", " ")
NUMBERS = ("0", "7", "42", "1.10", "0.5", "100")
DURATIONS = ("4h", "30d", "1.5h", "90m", "10s")
COMMENTS = ("#", "# note", "#x", "# 中文 注释", '# "q" {x}', "## twice")
TYPES = ("number", "text?", "decimal(2)", "list[text]", "map[text, number]?", "Role", "bool")
HITS = (["first"], ["unique"], ["any"], ["priority"], ["collect"], ["collect", "sum"],
        ["collect", "count"], ["rule", "order"])

names = st.sampled_from(NAMES)
strings = st.lists(st.sampled_from(STRING_PIECES), max_size=4).map(lambda p: f'"{"".join(p)}"')


def wrap(draw: st.DrawFn, expr: tuple[Tokens, int], need: int) -> Tokens:
    """``expr`` where level ``need`` is required: parenthesised if it must be (or, sometimes,
    when it need not be)."""
    tokens, at = expr
    if at < need or draw(st.integers(0, 11)) == 0:
        return ["(", *tokens, ")"]
    return tokens


@st.composite
def atoms(draw: st.DrawFn) -> tuple[Tokens, int]:
    token = draw(st.one_of(st.sampled_from(NUMBERS), st.sampled_from(DURATIONS), strings,
                           st.sampled_from(["true", "false", "null"]), names))
    return [token], ATOM


@st.composite
def expressions(draw: st.DrawFn, depth: int = 3) -> tuple[Tokens, int]:
    if depth <= 0:
        return draw(atoms())
    build = draw(st.sampled_from(BUILDERS))
    return build(draw, depth - 1)


def sub(draw: st.DrawFn, depth: int, need: int) -> Tokens:
    return wrap(draw, draw(expressions(depth)), need)


def _list(draw: st.DrawFn, depth: int) -> tuple[Tokens, int]:
    items = [sub(draw, depth, IF) for _ in range(draw(st.integers(0, 3)))]
    tokens = ["["] + [t for i, item in enumerate(items) for t in ([","] if i else []) + item]
    trailing = draw(st.booleans())
    comma = [","] if items and trailing else []
    return [*tokens, *comma, "]"], ATOM


def _map(draw: st.DrawFn, depth: int) -> tuple[Tokens, int]:
    keys = draw(st.lists(st.sampled_from(["a", "b", "x", "大客户", "a b", "if"]), unique=True,
                         max_size=3))
    tokens = ["{"]
    for index, key in enumerate(keys):
        bare = re.fullmatch(r"[^\W\d]\w*", key) and draw(st.booleans())
        tokens += ([","] if index else []) + [key if bare else f'"{key}"', ":"]
        tokens += sub(draw, depth, IF)
    return [*tokens, "}"], ATOM


def _aggregate(draw: st.DrawFn, depth: int) -> tuple[Tokens, int]:
    source = sub(draw, depth, POSTFIX)
    where = ["where", *sub(draw, depth, IF)] if draw(st.booleans()) else []
    var = draw(names)
    if draw(st.booleans()):
        func = draw(st.sampled_from(["count", "exists", "all", "none"]))
        return [func, "(", var, "in", *source, *where, ")"], ATOM
    func = draw(st.sampled_from(["sum", "min", "max", "list"]))
    value = sub(draw, depth, IF)
    return [func, "(", *value, "for", var, "in", *source, *where, ")"], ATOM


def _postfix(draw: st.DrawFn, depth: int) -> tuple[Tokens, int]:
    kind = draw(st.sampled_from(["attr", "index", "call"]))
    if kind == "call":
        args: Tokens = []
        for index in range(draw(st.integers(0, 3))):
            label = [draw(names), ":"] if draw(st.booleans()) else []
            args += ([","] if index else []) + label + sub(draw, depth, IF)
        return [draw(names), "(", *args, ")"], POSTFIX
    obj = sub(draw, depth, POSTFIX)
    if kind == "attr":
        return [*obj, ".", draw(names)], POSTFIX
    return [*obj, "[", *sub(draw, depth, IF), "]"], POSTFIX


def _unary(draw: st.DrawFn, depth: int) -> tuple[Tokens, int]:
    if draw(st.booleans()):
        return ["-", *sub(draw, depth, UNARY)], UNARY
    return ["not", *sub(draw, depth, NOT)], NOT


def _binary(draw: st.DrawFn, depth: int) -> tuple[Tokens, int]:
    op = draw(st.sampled_from(["+", "-", "*", "/", "??"]))
    at = {"+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT, "??": COALESCE}[op]
    if op == "??":
        operands = [sub(draw, depth, SUM) for _ in range(draw(st.integers(2, 3)))]
        return [t for i, o in enumerate(operands) for t in (["??"] if i else []) + o], at
    return [*sub(draw, depth, at), op, *sub(draw, depth, at + 1)], at


def _compare(draw: st.DrawFn, depth: int) -> tuple[Tokens, int]:
    left = sub(draw, depth, COALESCE)
    op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in", "is null",
                               "is not null"]))
    if op.startswith("is"):
        return [*left, *op.split()], COMPARE
    return [*left, *op.split(), *sub(draw, depth, COALESCE)], COMPARE


def _boolean(draw: st.DrawFn, depth: int) -> tuple[Tokens, int]:
    op = draw(st.sampled_from(["and", "or"]))
    at = AND if op == "and" else OR
    operands = [sub(draw, depth, at + 1) for _ in range(draw(st.integers(2, 3)))]
    return [t for i, o in enumerate(operands) for t in ([op] if i else []) + o], at


def _if(draw: st.DrawFn, depth: int) -> tuple[Tokens, int]:
    parts = [sub(draw, depth, IF) for _ in range(3)]
    return ["if", *parts[0], "then", *parts[1], "else", *parts[2]], IF


def _atom(draw: st.DrawFn, depth: int) -> tuple[Tokens, int]:
    return draw(atoms())


Builder = Callable[[st.DrawFn, int], tuple[Tokens, int]]
BUILDERS: tuple[Builder, ...] = (_list, _map, _aggregate, _postfix, _unary, _binary, _compare,
                                 _boolean, _if, _atom)


def expr(draw: st.DrawFn, need: int = IF) -> Tokens:
    return sub(draw, draw(st.integers(1, 4)), need)


def field_list(draw: st.DrawFn, minimum: int = 0) -> Tokens:
    tokens: Tokens = []
    for index in range(draw(st.integers(minimum, 3))):
        optional = ["?"] if draw(st.booleans()) else []
        tokens += ([","] if index else []) + [draw(names), *optional, ":"]
        tokens += re.findall(r"\w+|[^\w\s]", draw(st.sampled_from(TYPES)))
    return tokens


@st.composite
def items(draw: st.DrawFn) -> Tokens:
    kind = draw(st.sampled_from(["header", "include", "param", "enum", "conclusion", "define",
                                 "table", "rule", "rule"]))
    return ITEMS[kind](draw)


def _header(draw: st.DrawFn) -> Tokens:
    return ["policy", draw(strings), "version", draw(strings)]


def _include(draw: st.DrawFn) -> Tokens:
    return ["include", draw(strings)]


def _param(draw: st.DrawFn) -> Tokens:
    typed = [":", *re.findall(r"\w+|[^\w\s]", draw(st.sampled_from(TYPES)))]
    return ["param", draw(names), *(typed if draw(st.booleans()) else []), "=", *expr(draw)]


def _enum(draw: st.DrawFn) -> Tokens:
    members = draw(st.lists(names, min_size=2, max_size=4, unique=True))
    separator = draw(st.sampled_from(["<", "|"]))
    if separator == "|" and draw(st.booleans()):
        members = members[:1]
    joined = [t for i, m in enumerate(members) for t in ([separator] if i else []) + [m]]
    return ["enum", draw(names), "=", *joined]


def _conclusion(draw: st.DrawFn) -> Tokens:
    title = [draw(strings)] if draw(st.booleans()) else []
    return ["conclusion", draw(names), "(", *field_list(draw), ")", "about", draw(names), *title]


def _define(draw: st.DrawFn) -> Tokens:
    return ["define", draw(names), "(", *field_list(draw), ")", "=", *expr(draw)]


def _cell(draw: st.DrawFn) -> Tokens:
    kind = draw(st.sampled_from(["any", "compare", "in", "not in", "value"]))
    if kind == "any":
        return ["-"]
    if kind == "value":
        return expr(draw)
    head = [draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))] if kind == "compare" \
        else kind.split()
    return [*head, *expr(draw, SUM)]


def _table(draw: st.DrawFn) -> Tokens:
    tokens = ["table", draw(names), *([draw(strings)] if draw(st.booleans()) else []), "{"]
    for _ in range(draw(st.integers(0, 2))):
        tokens += ["section", draw(strings)]
    tokens += ["hit", *draw(st.sampled_from(HITS)), "in", *field_list(draw, 1),
               "out", *field_list(draw, 1)]
    width = draw(st.integers(1, 4))
    for _ in range(draw(st.integers(0, 4))):
        tokens.append("|")
        for _ in range(width):
            tokens += [*_cell(draw), "|"]
    return [*tokens, "}"]


def _clause(draw: st.DrawFn) -> Tokens:
    kind = draw(st.sampled_from(["for", "let", "when", "when"]))
    if kind == "for":
        where = ["where", *expr(draw)] if draw(st.booleans()) else []
        return ["for", draw(names), "in", *expr(draw, POSTFIX), *where]
    if kind == "let":
        return ["let", draw(names), "=", *expr(draw)]
    return ["when", *expr(draw)]


def _emit(draw: st.DrawFn) -> Tokens:
    args: Tokens = []
    for index in range(draw(st.integers(0, 3))):
        args += ([","] if index else []) + [draw(names), ":", *expr(draw)]
    about = ["about", *expr(draw)] if draw(st.booleans()) else []
    return ["emit", draw(names), "(", *args, ")", *about]


def _rule(draw: st.DrawFn) -> Tokens:
    rule_id = [t for i, n in enumerate(draw(st.lists(names, min_size=1, max_size=3)))
               for t in (["."] if i else []) + [n]]
    tokens = ["rule", *rule_id, *([draw(strings)] if draw(st.booleans()) else []), "{"]
    for _ in range(draw(st.integers(0, 3))):
        meta = draw(st.sampled_from([["section"], ["description"], ["meta", "owner"],
                                     ["meta", "since"]]))
        tokens += [*meta, draw(strings)]
    for _ in range(draw(st.integers(1, 4))):
        tokens += _clause(draw)
    for _ in range(draw(st.integers(1, 2))):
        tokens += _emit(draw)
    if draw(st.booleans()):
        tokens += ["because", draw(strings)]
    return [*tokens, "}"]


ITEMS: dict[str, Callable[[st.DrawFn], Tokens]] = {
    "header": _header, "include": _include, "param": _param, "enum": _enum,
    "conclusion": _conclusion, "define": _define, "table": _table, "rule": _rule}


def _separator(rnd: random.Random, before: str, after: str) -> str:
    """What goes between two tokens: space, line breaks, a comment, or nothing."""
    roll = rnd.random()
    words = re.search(r'[\w"]$', before) and re.match(r'[\w"]', after)
    if roll < 0.1 and not words:
        return ""
    if roll < 0.55:
        return rnd.choice([" ", " ", "  ", "\t"])
    if roll < 0.8:
        return rnd.choice(["\n", "\n  ", "\n\n", "\n\n\n    "])
    comment = rnd.choice(COMMENTS)
    return rnd.choice([f" {comment}\n", f"  {comment}\n  ", f"\n{comment}\n", f"\n\n{comment}\n\n"])


@st.composite
def policies(draw: st.DrawFn) -> str:
    tokens = [t for _ in range(draw(st.integers(1, 5))) for t in draw(items())]
    rnd = draw(st.randoms(use_true_random=False))
    text = [rnd.choice(["", "# top\n", "\n\n"]), tokens[0]]
    for before, after in itertools.pairwise(tokens):
        text += [_separator(rnd, before, after), after]
    text.append(rnd.choice(["", "\n", "  # end", "\n# end\n\n"]))
    return "".join(text)


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
