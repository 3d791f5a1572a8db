"""Issue #5, loading large policies fast: each speedup against what it replaced.

- The fast parser (``grammar/lalr.py``) builds the very AST of the reference path, Lark's own
  parse tree through the same builder (``parse._parse_tree``), spans included, and ``parse``
  reports every error exactly as that path does (the fast parser hands such texts back to it).
- The bracket-depth check finds what a plain character loop finds.
- ``gc_paused`` switches the collector back on only when the last overlapping pause ends.
- The table compiler shares the closures of cells that read alike, yet reports each bad cell.
"""

from __future__ import annotations

import dataclasses
import gc
import random
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import load_error, load_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_strategies import policies

from kam_policy.engine.gc_pause import gc_paused
from kam_policy.engine.sources import bundled_policy_path
from kam_policy.engine.tables import _cell_compare
from kam_policy.errors import Diagnostic, PolicySyntaxError
from kam_policy.grammar import ast, parse
from kam_policy.grammar.builder import AstBuilder
from kam_policy.grammar.lalr import MAX_DEPTH, FastParser, Rejected
from kam_policy.grammar.span import point_span

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(bundled_policy_path().glob("*.kp")) + sorted(
    (ROOT / "examples" / "policies").rglob("*.kp"))


def same(new: Any, old: Any, path: str = "module") -> None:
    """``new`` and ``old`` are equal, every field of every node compared (spans too: AST
    equality leaves them out)."""
    assert type(new) is type(old), f"{path}: {type(new).__name__} != {type(old).__name__}"
    if dataclasses.is_dataclass(new):
        for field in dataclasses.fields(new):
            same(getattr(new, field.name), getattr(old, field.name), f"{path}.{field.name}")
    elif isinstance(new, tuple | list):
        assert len(new) == len(old), f"{path}: {len(new)} != {len(old)} items"
        for index, (a, b) in enumerate(zip(new, old, strict=True)):
            same(a, b, f"{path}[{index}]")
    else:
        assert new == old, f"{path}: {new!r} != {old!r}"


def fast() -> FastParser:
    parser = parse._fast_parser()
    assert parser is not None, "the fast parser does not set up with this Lark"
    return parser


def reference(text: str, source: str = "p.kp") -> ast.Module:
    """``parse`` through Lark's parse tree only: the path the fast parser falls back to."""
    parse._check_limits(text, source)
    return parse._parse_tree(text, source)


def outcome(parse_fn: Any, text: str) -> Any:
    """What parsing ``text`` gives: the module, or the diagnostics and rendered error."""
    try:
        return parse_fn(text, "p.kp")
    except PolicySyntaxError as error:
        return ("error", tuple(error.diagnostics), error.rendered)


# ---- the fast parser builds the reference AST ---------------------------------------------------

@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(p.parents[1]).as_posix() for p in FILES])
def test_fast_parser_builds_the_reference_ast(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    same(fast().parse(text, AstBuilder(path.name, text)), reference(text, path.name))


def test_fast_parser_builds_the_reference_ast_of_a_large_decision_table() -> None:
    rows = "".join(f'  | "R{i % 60:05d}" | "{("gold", "silver")[i % 2]}" | "O{i:06d}" |\n'
                   for i in range(300))
    tables = [f"table route_{n} {{\n  hit first\n  in region: text, tier: text\n"
              f"  out owner_id: text\n{rows}}}\n" for n in range(2)]
    text = "".join(tables)
    module = fast().parse(text, AstBuilder("route.kp", text))
    same(module, reference(text, "route.kp"))
    for table in module.items:
        assert isinstance(table, ast.Table)
        assert [r.number for r in table.rows] == list(range(1, 301))


def test_parentheses_count_in_the_span_of_the_parent_only() -> None:
    text = 'param p = (a + (b)) * -(c)\nparam q = [(1), ((2))]'
    same(fast().parse(text, AstBuilder("p.kp", text)), reference(text, "p.kp"))
    product = parse.parse(text).items[0].value  # type: ignore[union-attr]
    assert isinstance(product, ast.Binary)
    assert product.span.text(text) == "(a + (b)) * -(c)"
    assert product.left.span.text(text) == "a + (b)"


def test_an_empty_file() -> None:
    for text in ("", "  \n# only a comment\n"):
        same(fast().parse(text, AstBuilder("p.kp", text)), reference(text, "p.kp"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies())
def test_generated_policies_parse_as_before(text: str) -> None:
    same(outcome(parse.parse, text), outcome(reference, text))
    try:
        module = fast().parse(text, AstBuilder("p.kp", text))
    except (Rejected, PolicySyntaxError):  # handed back to Lark's tree, which reports it
        assert outcome(reference, text)[0] == "error"
    else:
        same(module, reference(text, "p.kp"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), st.randoms(use_true_random=False))
def test_broken_policies_are_reported_as_before(text: str, rnd: random.Random) -> None:
    pieces = list(text)
    for _ in range(rnd.randint(1, 3)):
        at = rnd.randrange(len(pieces) + 1)
        if pieces and rnd.random() < 0.5:
            del pieces[min(at, len(pieces) - 1)]
        else:
            pieces.insert(at, rnd.choice(['"', "(", ")", "{", "|", "'", "x", "1", "\\", "?",
                                          "#", "\n", "-", "in", "if"]))
    broken = "".join(pieces)
    same(outcome(parse.parse, broken), outcome(reference, broken))


@pytest.mark.parametrize("text", [
    'param p = "\\q"',  # a bad escape
    'param p = {a: 1, a: 2}',  # a repeated key
    "enum E = a | b | a",  # a repeated member
    "param p = 1" + "0" * 40,  # too many digits
    "param p = 1.5000001s",  # not whole microseconds
    'param p = "ok"\nparam q = "\\q"\nparam r = (',  # a bad escape before a syntax error
    "param p = " + "-" * (MAX_DEPTH + 10) + "1",  # deeper than the fast parser builds
    "param p = " + "1 + " * 2000 + "1",  # too deep for Lark's transformer as well
])
def test_errors_and_deep_trees_are_handled_as_before(text: str) -> None:
    with pytest.raises((Rejected, PolicySyntaxError)):  # parse() then asks Lark's tree
        fast().parse(text, AstBuilder("p.kp", text))
    same(outcome(parse.parse, text), outcome(reference, text))


# ---- the bracket-depth check -----------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='([{)]}"\\#\n a', max_size=300))
def test_bracket_depth_check_finds_what_the_loop_found(text: str) -> None:
    def checked(check: Any) -> Any:
        try:
            check(text, "p.kp")
        except PolicySyntaxError as error:
            return error.diagnostics
        return None

    assert checked(parse._check_limits) == checked(_bracket_loop)


def _bracket_loop(text: str, source: str) -> None:
    """The bracket-depth check as a plain loop over the characters: comments run to the end
    of their line, texts to their first quote not right after a backslash."""
    depth = 0
    in_text = in_comment = False
    for offset, char in enumerate(text):
        if in_comment:
            in_comment = char != "\n"
        elif in_text:
            in_text = char != '"' or text[offset - 1] == "\\"
        elif char in "#\"":
            in_comment, in_text = char == "#", char == '"'
        elif char in "([{":
            depth += 1
            if depth > parse.MAX_NESTING:
                raise PolicySyntaxError([Diagnostic(
                    "parse.too-deep", f"brackets are nested more than {parse.MAX_NESTING} deep",
                    point_span(source, text, offset), "split the expression with 'let' bindings")])
        elif char in ")]}":
            depth = max(0, depth - 1)


# ---- the GC pause ----------------------------------------------------------------------------

@pytest.fixture
def collector() -> Any:
    """The collector on for the test, and as it was after it (whatever the test left)."""
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector")
def test_gc_pauses_nest_and_the_last_one_resumes() -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_gc_pause_resumes_after_an_error() -> None:
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_gc_stays_off_if_it_was_off() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_gc_pause_as_a_decorator() -> None:
    @gc_paused()
    def compile_twice(again: bool) -> bool:
        inner = compile_twice(False) if again else False
        return inner or gc.isenabled()

    assert compile_twice(True) is False
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_gc_pauses_overlapping_in_threads() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with gc_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with gc_paused():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())  # the first pause has ended, this one has not

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [False]
    assert gc.isenabled()


# ---- tables: cells that read alike are compiled once --------------------------------------

TABLE = """
table t {
  hit first
  in s: number, k: text
  out v: text
  | >= 90 | "a" | "high" |
  | >= 90 | "b" | "high" |
  | < 90  | "a" | "low" |
  | -     | "a" | "low" |
}
conclusion out(v: text?) about Member
rule r { for m in Member emit out(v: t(m.score, m.name)) }
"""


def test_cells_that_read_alike_share_their_closures(tmp_path: Path) -> None:
    policy = load_text(tmp_path, TABLE)
    rows = policy.tables["t"].rows
    assert rows[0].cells[0] is rows[1].cells[0]  # >= 90
    assert rows[0].cells[1] is rows[2].cells[1] is rows[3].cells[1]  # "a"
    assert rows[0].outputs[0] is rows[1].outputs[0]  # "high"
    assert rows[3].cells[0] is None and rows[3].tests[0] is None


def test_row_checks_are_the_cells_taken_apart(tmp_path: Path) -> None:
    policy = load_text(tmp_path, TABLE)
    table = policy.tables["t"]
    node = policy.declarations.tables["t"]
    for row, written in zip(table.rows, node.rows, strict=True):
        inputs = written.cells[:len(table.inputs)]
        for name, cell, check in zip(table.inputs, inputs, row.checks, strict=True):
            if cell.kind == "any":
                assert check is None
                continue
            assert check is not None
            compare = _cell_compare(name, cell, {})
            assert compare is not None
            same(check.node, compare)
            env = {"s": 95, "k": "a"}
            assert check.op == compare.op
            assert isinstance(cell.expr, ast.Literal)
            value, written_value = env[name], cell.expr.value
            expected = {">=": value >= written_value, "<": value < written_value,
                        None: value == written_value}[cell.op]
            assert check.test(None, env) == expected
            assert check.right is not None and check.right(None, env) == written_value
            assert check.left is not None and check.left(None, env) == env[name]


def test_a_bad_cell_is_reported_at_every_row(tmp_path: Path) -> None:
    bad = '| "x" | "a" | "low" |\n  | "x" | "b" | "low" |'
    error, _ = load_error(tmp_path, TABLE.replace('| < 90  | "a" | "low" |', bad))
    mismatches = [d for d in error.diagnostics if d.code == "check.type-mismatch"]
    assert len(mismatches) == 2
    assert len({d.span for d in mismatches}) == 2
