"""The grammar and the AST: what every construct parses to, spans, and syntax errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kam_policy import Diagnostic, PolicySyntaxError, parse
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span

# Spans never take part in equality, so expected trees carry this dummy one.
S = Span("expected", 0, 0, 1, 1, 1, 1)


# ---- AST builders (spans left out of the picture) ----------------------------------------


def name(id_: str) -> ast.Name:
    return ast.Name(id_, S)


def num(value: int | str) -> ast.Literal:
    return ast.Literal(Decimal(value) if isinstance(value, str) else value, "number", S)


def text(value: str) -> ast.Literal:
    return ast.Literal(value, "text", S)


def dur(micros: int) -> ast.Literal:
    return ast.Literal(micros, "duration", S)


def attr(obj: ast.Expr, field: str) -> ast.Attr:
    return ast.Attr(obj, field, S)


def binary(op: str, left: ast.Expr, right: ast.Expr) -> ast.Binary:
    return ast.Binary(op, left, right, S)


def compare(op: str, left: ast.Expr, right: ast.Expr) -> ast.Compare:
    return ast.Compare(op, left, right, S)


def simple(type_name: str, precision: int | None = None, nullable: bool = False) -> ast.TypeExpr:
    return ast.TypeExpr(type_name, (), precision, nullable, S)


def field(field_name: str, type_: ast.TypeExpr, optional: bool = False) -> ast.FieldDecl:
    return ast.FieldDecl(field_name, type_, S, optional)


TRUE = ast.Literal(True, "bool", S)
FALSE = ast.Literal(False, "bool", S)
NULL = ast.Literal(None, "null", S)
X, Y, Z = name("x"), name("y"), name("z")

HOUR = 3_600_000_000
DAY = 24 * HOUR


def expr(source: str) -> ast.Expr:
    """The AST of one expression (written as a parameter's value)."""
    item = parse(f"param p = {source}").items[0]
    assert isinstance(item, ast.Param)
    return item.value


def syntax_error(source: str) -> PolicySyntaxError:
    with pytest.raises(PolicySyntaxError) as info:
        parse(source, "bad.kp")
    return info.value


def diagnostic(source: str) -> Diagnostic:
    """The single diagnostic of a source that must not parse."""
    error = syntax_error(source)
    assert len(error.diagnostics) == 1, error.rendered
    return error.diagnostics[0]


# ---- expressions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "want"),
    [
        ("42", num(42)),
        ("2.50", num("2.50")),
        ('"a b"', text("a b")),
        ('"tab\\t \\"quoted\\" \\u4e2d"', text('tab\t "quoted" 中')),
        ("true", TRUE),
        ("false", FALSE),
        ("null", NULL),
        ("x", X),
        ("x.y", attr(X, "y")),
        ("x.y[z].w", attr(ast.Index(attr(X, "y"), Z, S), "w")),
        ("Member[x.member_id]", ast.Index(name("Member"), attr(X, "member_id"), S)),
        ("-x", ast.Unary("-", X, S)),
        ("-x.y", ast.Unary("-", attr(X, "y"), S)),
        ("not x", ast.Unary("not", X, S)),
        ("not x == y", ast.Unary("not", compare("==", X, Y), S)),
        ("x + y * z", binary("+", X, binary("*", Y, Z))),
        ("(x + y) * z", binary("*", binary("+", X, Y), Z)),
        ("x - y - z", binary("-", binary("-", X, Y), Z)),
        ("x / y * z", binary("*", binary("/", X, Y), Z)),
        ("x ?? y", binary("??", X, Y)),
        ("x ?? y ?? z", binary("??", X, binary("??", Y, Z))),
        ("x ?? y + z", binary("??", X, binary("+", Y, Z))),
        ("x ?? y > z", compare(">", binary("??", X, Y), Z)),
        ("x >= 1", compare(">=", X, num(1))),
        ("x != y", compare("!=", X, Y)),
        ("x in [1, 2]", compare("in", X, ast.ListExpr((num(1), num(2)), S))),
        ("x not in y", compare("not in", X, Y)),
        ("x is null", ast.IsNull(X, False, S)),
        ("x is not null", ast.IsNull(X, True, S)),
        ("x and y and z", ast.BoolOp("and", (X, Y, Z), S)),
        ("x or y and z", ast.BoolOp("or", (X, ast.BoolOp("and", (Y, Z), S)), S)),
        ("not x or y", ast.BoolOp("or", (ast.Unary("not", X, S), Y), S)),
        ("if x then 1 else 2", ast.IfExpr(X, num(1), num(2), S)),
        (
            "if x then 1 else if y then 2 else 3",
            ast.IfExpr(X, num(1), ast.IfExpr(Y, num(2), num(3), S), S),
        ),
        ("[]", ast.ListExpr((), S)),
        ("[1, 2,]", ast.ListExpr((num(1), num(2)), S)),
        (
            '{a: 1, "b c": x,}',
            ast.MapExpr((ast.MapEntry("a", num(1), S), ast.MapEntry("b c", X, S)), S),
        ),
        (
            "f(x, places: 2)",
            ast.Call("f", (ast.Arg(None, X, S), ast.Arg("places", num(2), S)), S),
        ),
        ("f()", ast.Call("f", (), S)),
        ("count(t in Ticket)", ast.Aggregate("count", "t", name("Ticket"), None, None, S)),
        (
            "exists(t in Ticket where t.hours > 1)",
            ast.Aggregate("exists", "t", name("Ticket"),
                          compare(">", attr(name("t"), "hours"), num(1)), None, S),
        ),
        (
            "sum(t.hours for t in Ticket where t.open)",
            ast.Aggregate("sum", "t", name("Ticket"), attr(name("t"), "open"),
                          attr(name("t"), "hours"), S),
        ),
        (
            "list(x for x in m.tags)",
            ast.Aggregate("list", "x", attr(name("m"), "tags"), None, X, S),
        ),
    ],
)
def test_expression_parses_to_ast(source: str, want: ast.Expr) -> None:
    assert expr(source) == want


@pytest.mark.parametrize("func", ["count", "exists", "all", "none"])
def test_every_quantifier_parses(func: str) -> None:
    assert expr(f"{func}(t in T)") == ast.Aggregate(func, "t", name("T"), None, None, S)


@pytest.mark.parametrize("func", ["sum", "min", "max", "list"])
def test_every_fold_parses(func: str) -> None:
    assert expr(f"{func}(t.v for t in T)") == ast.Aggregate(
        func, "t", name("T"), None, attr(name("t"), "v"), S)


def test_integers_stay_int_and_decimals_stay_exact() -> None:
    assert type(expr("7").value) is int  # type: ignore[attr-defined]
    value = expr("0.10").value  # type: ignore[attr-defined]
    assert isinstance(value, Decimal)
    assert str(value) == "0.10"


def test_nodes_compare_without_spans() -> None:
    assert expr("x + 1") == expr("x   +\n   1")
    assert expr("x + 1").span != expr("x   +\n   1").span
    assert expr("x + 1") != expr("x + 2")


# ---- durations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "micros"),
    [
        ("4h", 4 * HOUR),
        ("30d", 30 * DAY),
        ("90m", 90 * 60_000_000),
        ("1.5h", 90 * 60_000_000),
        ("2s", 2_000_000),
        ("0.5s", 500_000),
        ("0.000001s", 1),
    ],
)
def test_durations_become_microseconds(source: str, micros: int) -> None:
    assert expr(source) == dur(micros)
    assert type(expr(source).value) is int  # type: ignore[attr-defined]


def test_negative_duration_is_negation_of_a_duration() -> None:
    assert expr("-4h") == ast.Unary("-", dur(4 * HOUR), S)


def test_duration_finer_than_a_microsecond_is_an_error() -> None:
    diag = diagnostic("param p = 0.0000001s")
    assert diag.code == "parse.bad-duration"
    assert "0.0000001s" in diag.message
    assert diag.span is not None
    assert diag.span.text("param p = 0.0000001s") == "0.0000001s"


def test_a_number_glued_to_a_word_is_not_a_duration() -> None:
    assert diagnostic("param p = 30days").code == "parse.unexpected-token"


# ---- declarations ----------------------------------------------------------------------------


def items(source: str) -> tuple[ast.Item, ...]:
    return parse(source).items


def test_header_include_param() -> None:
    assert items('policy "大客户 KA" version "2026.11"\ninclude "sub/rules.kp"\nparam n = 3') == (
        ast.Header("大客户 KA", "2026.11", S),
        ast.Include("sub/rules.kp", S),
        ast.Param("n", None, num(3), S),
    )


def test_typed_param() -> None:
    assert items("param rate: decimal(2)? = 1.5") == (
        ast.Param("rate", simple("decimal", 2, nullable=True), num("1.5"), S),)


@pytest.mark.parametrize(
    ("source", "members", "ordered"),
    [
        ("enum Grade = D < C < B", ("D", "C", "B"), True),
        ("enum Color = red | green | blue", ("red", "green", "blue"), False),
        ("enum Only = one", ("one",), False),
    ],
)
def test_enums(source: str, members: tuple[str, ...], ordered: bool) -> None:
    (item,) = items(source)
    assert item == ast.EnumDecl(source.split()[1], members, ordered, S)


def test_conclusion_with_optional_nullable_list_and_precision() -> None:
    source = ('conclusion bonus(amount: decimal(2)?, note?: text?, tags: list[text]) '
              'about Member "奖金 Bonus"')
    assert items(source) == (ast.ConclusionDecl(
        "bonus",
        (
            field("amount", simple("decimal", 2, nullable=True)),
            field("note", simple("text", nullable=True), optional=True),
            field("tags", ast.TypeExpr("list", (simple("text"),), None, False, S)),
        ),
        "Member",
        "奖金 Bonus",
        S,
    ),)


def test_conclusion_without_values_or_title() -> None:
    assert items("conclusion seen() about Team") == (
        ast.ConclusionDecl("seen", (), "Team", None, S),)


def test_map_type() -> None:
    (item,) = items("param m: map[text, list[number]] = {}")
    assert isinstance(item, ast.Param)
    assert item.type == ast.TypeExpr(
        "map", (simple("text"), ast.TypeExpr("list", (simple("number"),), None, False, S)),
        None, False, S)


def test_define() -> None:
    assert items("define total(m: Member, k: Kind) = m.score * 2") == (ast.Define(
        "total", (field("m", simple("Member")), field("k", simple("Kind"))),
        binary("*", attr(name("m"), "score"), num(2)), S),)


def test_rule_with_every_part() -> None:
    source = '''
rule a.b.c "标题 Title" {
  section "S"
  description "D"
  meta owner "hr"
  for m in Member where m.active
  let x = 1
  when x > 0
  emit e(v: 1) about Team[m.team_id]
  emit f()
  because "reason {x}"
}'''
    (rule,) = items(source)
    assert rule == ast.Rule(
        id="a.b.c",
        title="标题 Title",
        section="S",
        description="D",
        meta=(("owner", "hr"),),
        clauses=(
            ast.ForClause("m", name("Member"), attr(name("m"), "active"), S),
            ast.LetClause("x", num(1), S),
            ast.WhenClause(compare(">", X, num(0)), S),
        ),
        emits=(
            ast.Emit("e", (ast.Arg("v", num(1), S),),
                     ast.Index(name("Team"), attr(name("m"), "team_id"), S), S),
            ast.Emit("f", (), None, S),
        ),
        because="reason {x}",
        span=S,
    )


def test_minimal_rule() -> None:
    (rule,) = items("rule r { for m in Member emit e() }")
    assert isinstance(rule, ast.Rule)
    assert (rule.title, rule.section, rule.description, rule.meta, rule.because) == (
        None, None, None, (), None)


# ---- tables --------------------------------------------------------------------------------

TABLE = '''table grade "等级 Grade" {
  section "D"
  hit collect sum
  in total: number, level: Level
  out bonus: number
  | -        | -                  | 1 |
  | >= 90    | lead               | 2 |
  | in [1,2] | not in [junior]    | 3 |
}'''


def test_table_parses_with_rows_numbered_from_one() -> None:
    (table,) = items(TABLE)
    assert table == ast.Table(
        name="grade",
        title="等级 Grade",
        section="D",
        hit="collect",
        aggregator="sum",
        inputs=(field("total", simple("number")), field("level", simple("Level"))),
        outputs=(field("bonus", simple("number")),),
        rows=(
            ast.Row(1, (ast.Cell("any", None, None, S), ast.Cell("any", None, None, S),
                        ast.Cell("value", None, num(1), S)), S),
            ast.Row(2, (ast.Cell("compare", ">=", num(90), S),
                        ast.Cell("value", None, name("lead"), S),
                        ast.Cell("value", None, num(2), S)), S),
            ast.Row(3, (ast.Cell("in", None, ast.ListExpr((num(1), num(2)), S), S),
                        ast.Cell("not in", None, ast.ListExpr((name("junior"),), S), S),
                        ast.Cell("value", None, num(3), S)), S),
        ),
        span=S,
    )


@pytest.mark.parametrize(
    ("hit", "want"),
    [
        ("first", ("first", None)),
        ("unique", ("unique", None)),
        ("any", ("any", None)),
        ("priority", ("priority", None)),
        ("collect", ("collect", None)),
        ("collect count", ("collect", "count")),
        ("collect min", ("collect", "min")),
        ("collect max", ("collect", "max")),
        ("rule order", ("rule order", None)),
    ],
)
def test_every_hit_policy(hit: str, want: tuple[str, str | None]) -> None:
    (table,) = items(f"table t {{ hit {hit} in a: number out b: number | - | 1 | }}")
    assert isinstance(table, ast.Table)
    assert (table.hit, table.aggregator) == want


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_every_comparison_cell(op: str) -> None:
    (table,) = items(f"table t {{ hit first in a: number out b: number | {op} 5 | 1 | }}")
    assert isinstance(table, ast.Table)
    assert table.rows[0].cells[0] == ast.Cell("compare", op, num(5), S)


def test_table_without_rows() -> None:
    (table,) = items("table t { hit first in a: number out b: number }")
    assert isinstance(table, ast.Table)
    assert table.rows == ()


# ---- spans ---------------------------------------------------------------------------------

SPANNED = '''policy "P" version "1"

rule a.b "T" {
  for m in Member
  when m.score > 1
  emit e()
}

table t {
  hit first
  in a: number
  out b: text
  | < 1  | "a" |
  | >= 2 | "b" |
}
'''


def test_rule_span() -> None:
    module = parse(SPANNED, "dir/file.kp")
    rule = module.items[1]
    assert isinstance(rule, ast.Rule)
    span = rule.span
    assert (span.source, span.line, span.column, span.end_line) == ("dir/file.kp", 3, 1, 7)
    assert span.text(SPANNED).startswith('rule a.b "T" {')
    assert span.text(SPANNED).endswith("emit e()\n}")
    assert str(span) == "dir/file.kp:3:1"


def test_field_reference_span() -> None:
    rule = parse(SPANNED).items[1]
    assert isinstance(rule, ast.Rule)
    when = rule.clauses[1]
    assert isinstance(when, ast.WhenClause)
    assert isinstance(when.cond, ast.Compare)
    field_ref = when.cond.left
    assert field_ref.span.text(SPANNED) == "m.score"
    assert (field_ref.span.line, field_ref.span.column) == (5, 8)
    assert (field_ref.span.end_line, field_ref.span.end_column) == (5, 15)
    assert when.cond.span.text(SPANNED) == "m.score > 1"
    assert when.span.text(SPANNED) == "when m.score > 1"


def test_table_row_and_cell_spans() -> None:
    table = parse(SPANNED).items[2]
    assert isinstance(table, ast.Table)
    row = table.rows[1]
    assert row.number == 2
    assert row.span.text(SPANNED) == '| >= 2 | "b" |'
    assert (row.span.line, row.span.column) == (14, 3)
    assert row.cells[0].span.text(SPANNED) == ">= 2"
    assert row.cells[1].span.text(SPANNED) == '"b"'


def test_spans_count_characters_not_bytes() -> None:
    source = 'param 中文名 = "汉字" ?? 规则.字段'
    item = parse(source).items[0]
    assert isinstance(item, ast.Param)
    assert isinstance(item.value, ast.Binary)
    right = item.value.right
    assert right.span.text(source) == "规则.字段"
    assert right.span.column == len('param 中文名 = "汉字" ?? ') + 1


# ---- Chinese, comments ---------------------------------------------------------------------


def test_chinese_titles_and_names() -> None:
    source = ('rule 投诉.升级 "一级升级 Level 1" { for 投诉 in 客户投诉 '
              'emit 升级(级别: 投诉.严重程度) because "投诉 {投诉.编号}" }')
    (rule,) = items(source)
    assert rule == ast.Rule(
        "投诉.升级", "一级升级 Level 1", None, None, (),
        (ast.ForClause("投诉", name("客户投诉"), None, S),),
        (ast.Emit("升级", (ast.Arg("级别", attr(name("投诉"), "严重程度"), S),), None, S),),
        "投诉 {投诉.编号}", S)


def test_comments_are_ignored_but_hash_in_text_is_kept() -> None:
    source = '''# a file comment with "quotes" and { braces (
param a = 1  # trailing comment )
# another
param b = "not # a comment"
'''
    assert items(source) == (ast.Param("a", None, num(1), S),
                             ast.Param("b", None, text("not # a comment"), S))


def test_empty_and_comment_only_files() -> None:
    assert parse("").items == ()
    assert parse("# nothing here\n\n   # at all\n").items == ()


def test_brackets_inside_texts_and_comments_do_not_count_as_nesting() -> None:
    deep = "(" * 200
    source = f'param a = "{deep}"  # {deep}\n'
    assert items(source) == (ast.Param("a", None, text(deep), S),)


# ---- syntax errors -------------------------------------------------------------------------


def test_unexpected_token_has_location_and_hint() -> None:
    source = 'param ok = 1\nparam = 2\n'
    diag = diagnostic(source)
    assert diag.code == "parse.unexpected-token"
    assert diag.message == "unexpected '='"
    assert diag.span is not None
    assert (diag.span.source, diag.span.line, diag.span.column) == ("bad.kp", 2, 7)
    assert diag.span.text(source) == "="
    assert diag.hint == "expected a name"


def test_unexpected_token_inside_a_rule() -> None:
    source = "rule r {\n  for m in Member\n  when m.score 5\n  emit e()\n}"
    diag = diagnostic(source)
    assert diag.code == "parse.unexpected-token"
    assert diag.message == "unexpected '5'"
    assert diag.span is not None
    assert diag.span.text(source) == "5"
    assert (diag.span.line, diag.span.column) == (3, 16)
    # words sort before quoted punctuation, so the comparison is offered first
    assert diag.hint == ("expected a comparison (== != < <= > >=), ')', '*', '+', ',', '-', "
                         "'.', '/'")


def test_rule_without_emit() -> None:
    source = "rule r { for m in Member }"
    diag = diagnostic(source)
    assert diag.code == "parse.unexpected-token"
    assert diag.span is not None
    assert diag.span.text(source) == "}"
    assert diag.hint is not None
    assert "'emit'" in diag.hint


def test_unterminated_rule() -> None:
    source = 'policy "P" version "1"\nrule r {\n  for m in Member\n  emit e()\n'
    diag = diagnostic(source)
    assert diag.code == "parse.unexpected-token"
    assert diag.message == "unexpected end of file"
    assert diag.span is not None
    assert diag.span.line == 4
    assert diag.hint is not None
    assert diag.hint.endswith("is a '}' or ')' missing?")
    assert "'}'" in diag.hint.split(";")[0]


def test_single_quotes_get_a_hint() -> None:
    source = "rule r { for m in Member emit e() because 'why' }"
    diag = diagnostic(source)
    assert diag.code == "parse.unexpected-token"
    assert diag.message == "unexpected character \"'\""
    assert diag.span is not None
    assert diag.span.column == source.index("'") + 1
    assert diag.hint == 'texts are written in double quotes: "like this"'


def test_comparisons_do_not_chain() -> None:
    source = "param p = 1 < 2 < 3"
    diag = diagnostic(source)
    assert diag.code == "parse.unexpected-token"
    assert diag.span is not None
    assert diag.span.column == source.rindex("<") + 1


def test_syntax_error_rendering_names_the_file() -> None:
    error = syntax_error("param = 1")
    assert error.rendered.startswith("bad.kp:1:7: error[parse.unexpected-token] unexpected '='")


def test_expected_tokens_are_described_in_words() -> None:
    diag = diagnostic("param p = @")
    assert diag.hint is not None
    for internal in ("agg_count", "agg_value", "minus", "dot"):
        assert internal not in diag.hint
    # described words first, then quoted punctuation (at most 8 are listed)
    assert diag.hint == ('expected a duration such as 4h or 30d, a name, a number, a text in '
                         'double quotes ("..."), an aggregate such as count(...) or sum(...), '
                         "working time such as 4 business_hours, '(', '-'")


def test_a_missing_emit_is_hinted_in_words() -> None:
    diag = diagnostic("rule r { for m in Member }")
    assert diag.hint == "expected '.', '[', 'emit', 'for', 'let', 'when', 'where'"


# ---- limits --------------------------------------------------------------------------------


def test_ten_thousand_nested_parentheses_is_a_diagnostic() -> None:
    source = "param p = " + "(" * 10_000 + "1" + ")" * 10_000
    diag = diagnostic(source)
    assert diag.code == "parse.too-deep"
    assert diag.span is not None
    assert diag.span.text(source) == "("
    assert diag.span.column == len("param p = ") + 65  # the 65th bracket
    assert diag.hint == "split the expression with 'let' bindings"


def test_nesting_at_the_limit_parses() -> None:
    assert expr("(" * 64 + "1" + ")" * 64) == num(1)


@pytest.mark.parametrize("source", [
    "param p = " + "-" * 10_000 + "1",
    "param p = " + "1 + " * 10_000 + "1",
    "param p = " + "not " * 10_000 + "true",
], ids=["unary-minus", "long-sum", "not"])
def test_deep_non_bracket_nesting_is_a_diagnostic(source: str) -> None:
    diag = diagnostic(source)
    assert diag.code == "parse.too-deep"
    assert diag.message == "an expression is nested too deeply to read"
    assert diag.hint == "split it with 'let' bindings or 'define' functions"
    assert diag.span is not None
    assert diag.span.source == "bad.kp"


def test_hundred_thousand_digit_number_is_rejected_fast() -> None:
    # Rejected before any conversion: int() of 100,000 digits would be slow, and is refused
    # by Python itself (sys.int_info.str_digits_check_threshold), so this stays a diagnostic.
    source = "param p = " + "1" * 100_000
    diag = diagnostic(source)
    assert diag.code == "parse.number-too-long"
    assert diag.message == "number has more than 30 digits"
    assert diag.span is not None
    assert diag.span.text(source) == "1" * 100_000


@pytest.mark.parametrize("literal", ["1" * 31, "0." + "1" * 30, "1" * 31 + "d"])
def test_number_limit_covers_decimals_and_durations(literal: str) -> None:
    assert diagnostic(f"param p = {literal}").code == "parse.number-too-long"


def test_thirty_digits_are_allowed() -> None:
    assert expr("1" + "0" * 29) == num(10**29)


def test_file_too_large() -> None:
    source = "# " + "x" * 16_000_000
    diag = diagnostic(source)
    assert diag.code == "parse.too-large"
    assert "16000000 bytes" in diag.message


def test_text_too_long() -> None:
    source = 'param p = "' + "x" * 10_001 + '"'
    diag = diagnostic(source)
    assert diag.code == "parse.string-too-long"
    assert diag.message == "text is longer than 10000 characters"
    assert diag.span is not None
    assert diag.span.text(source) == '"' + "x" * 10_001 + '"'


def test_text_at_the_length_limit_parses() -> None:
    assert expr('"' + "x" * 10_000 + '"') == text("x" * 10_000)


# ---- errors the transformer finds ----------------------------------------------------------


def test_bad_escape_in_text() -> None:
    source = 'param p = "a\\qb"'
    diag = diagnostic(source)
    assert diag.code == "parse.bad-string"
    assert diag.span is not None
    assert diag.span.text(source) == '"a\\qb"'
    assert diag.hint is not None
    assert '\\"' in diag.hint


def test_duplicate_map_key_points_at_the_second() -> None:
    source = "param p = {a: 1, b: 2, a: 3}"
    diag = diagnostic(source)
    assert diag.code == "parse.duplicate-key"
    assert "'a'" in diag.message
    assert diag.span is not None
    assert diag.span.text(source) == "a: 3"


def test_duplicate_enum_member() -> None:
    source = "enum E = a | b | a"
    diag = diagnostic(source)
    assert diag.code == "parse.duplicate-member"
    assert diag.message == "enum member a is listed twice"
    assert diag.span is not None
    assert diag.span.text(source) == "a"


def test_duplicate_enum_member_points_at_the_repeat() -> None:
    source = "enum E = a | b | a"
    diag = diagnostic(source)
    assert diag.span is not None
    assert diag.span.column == source.rindex("a") + 1


def test_binding_named_like_an_aggregate_parses_but_cannot_be_read_back() -> None:
    """Aggregate names are keywords where an expression starts, so checking rejects them as
    names (check.reserved-name in test_check); the grammar itself reads the binding."""
    (rule,) = items("rule r { for m in Member let count = 1 emit e() }")
    assert isinstance(rule, ast.Rule)
    assert rule.clauses[1] == ast.LetClause("count", num(1), S)
    source = "rule r { for m in Member let count = 1 when count > 0 emit e() }"
    diag = diagnostic(source)
    assert diag.code == "parse.unexpected-token"
    assert diag.span is not None
    assert diag.span.column == source.index("> 0") + 1
