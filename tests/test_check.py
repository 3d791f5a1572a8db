"""Checking: every diagnostic a policy can get, with its code, message, underline and hint.

Each case loads a small policy against the tiny schema of ``conftest`` and asserts the one
diagnostic it produces: the stable code, a fragment of the message, the exact text the span
underlines and the hint (``None`` when there must be none).
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from conftest import (
    HEADER,
    NOW,
    SCHEMA,
    Member,
    Team,
    decide,
    facts,
    load_text,
    member,
    only,
    write_policy,
)
from pydantic import BaseModel, ConfigDict

import kam_policy
from kam_policy import (
    FactSchema,
    FactType,
    PolicyCheckError,
    PolicyError,
    PolicyLoadError,
    PolicySyntaxError,
)

FLAG = "conclusion flag(n: number) about Member\n"


def rule(*lines: str, pre: str = FLAG, rule_id: str = "r") -> str:
    """A rule over Member with ``lines`` as its body, after ``pre``."""
    body = "".join(f"  {line}\n" for line in lines)
    return f"{pre}rule {rule_id} {{\n  for m in Member\n{body}}}\n"


def when(condition: str, pre: str = FLAG) -> str:
    return rule(f"when {condition}", "emit flag(n: 1)", pre=pre)


class Case(NamedTuple):
    body: str  # the policy after the header line
    code: str
    underline: str  # exactly what the span covers
    message: str  # a fragment of the message
    hint: str | None  # the exact hint; None: there must be none


CASES = {
    # ---- unknown names ----
    "field-did-you-mean": Case(
        FLAG + "rule r { for t in Ticket when t.opend_at > now "
        "emit flag(n: 1) about Member[t.member_id] }\n",
        "check.unknown-field", "t.opend_at", "fact 'Ticket' has no field 'opend_at'",
        "did you mean 'opened_at'?"),
    "field-lists-fields": Case(
        when("m.salary > 1"), "check.unknown-field", "m.salary",
        "fact 'Member' has no field 'salary'",
        "fields of Member: id, name, team_id, level, score, joined_on, active, tags"),
    "conclusion-value": Case(
        FLAG + "conclusion big() about Member\nrule r { for g in flag when g.nn > 1 emit big() }\n",
        "check.unknown-field", "g.nn", "conclusion 'flag' has no value 'nn'",
        "did you mean 'n'?"),
    "field-of-a-number": Case(
        when("m.score.x > 1"), "check.unknown-field", "m.score.x", "number has no fields", None),
    "unknown-param": Case(
        when("m.score > limt", pre=FLAG + "param limit = 3\n"), "check.unknown-name", "limt",
        "unknown name 'limt'", "did you mean 'limit'?"),
    "unknown-fact-type": Case(
        FLAG + "rule r { for t in Membr emit flag(n: 1) }\n", "check.bad-source", "Membr",
        "'Membr' is neither a fact type nor a conclusion", "did you mean 'Member'?"),
    "unknown-rule-source-lists-sources": Case(
        FLAG + "rule r { for t in Zzzqq emit flag(n: 1) }\n", "check.bad-source", "Zzzqq",
        "'Zzzqq' is neither a fact type nor a conclusion", "one of: Team, Member, Ticket, flag"),
    "unknown-rule-source-near-a-conclusion": Case(
        FLAG + "rule r { for t in flg emit flag(n: 1) }\n", "check.bad-source", "flg",
        "'flg' is neither a fact type nor a conclusion", "did you mean 'flag'?"),
    "conclusion-about-an-unknown-fact-type": Case(
        "conclusion x() about Membr\n", "check.unknown-fact", "conclusion x() about Membr",
        "conclusion x is about unknown fact type 'Membr'", "did you mean 'Member'?"),
    "unknown-table-output": Case(
        when('t(m.score).w == "h"', pre=FLAG + 'table t { hit first in s: number '
             'out v: text, n: number | - | "h" | 2 | }\n'),
        "check.unknown-field", "t(m.score).w", "table 't' has no output 'w'",
        "its outputs: v, n"),
    "unknown-enum-literal": Case(
        when("m.level == senor"), "check.unknown-name", "senor", "unknown name 'senor'",
        "did you mean 'senior'?"),
    "unknown-conclusion": Case(
        rule("emit flg(n: 1)"), "check.unknown-conclusion", "emit flg(n: 1)",
        "unknown conclusion 'flg'", "did you mean 'flag'?"),
    "unknown-function": Case(
        when("roud(m.score, 2) > 1"), "check.unknown-function", "roud(m.score, 2)",
        "unknown function 'roud'", "did you mean 'round'?"),
    "unknown-type-in-conclusion": Case(
        "conclusion g(x: Levl) about Member\nrule r { for m in Member emit g(x: junior) }\n",
        "check.unknown-type", "Levl", "unknown type 'Levl'", "did you mean 'Level'?"),
    "unknown-type-in-define": Case(
        rule("emit flag(n: 1)", pre=FLAG + "define f(a: Nmber) = a\n"), "check.unknown-type",
        "Nmber", "unknown type 'Nmber'", "did you mean 'number'?"),
    # ---- type mismatches ----
    "date-vs-number": Case(
        when("m.joined_on > 3"), "check.type-mismatch", "m.joined_on > 3",
        "cannot compare date with number", None),
    "text-vs-decimal": Case(
        when('m.score > "3"'), "check.type-mismatch", 'm.score > "3"',
        "cannot compare number with text", "numbers are written without quotes"),
    "date-vs-datetime": Case(
        when("m.joined_on > now"), "check.type-mismatch", "m.joined_on > now",
        "cannot compare date with datetime", "use date(x) to compare a datetime with a date"),
    "duration-vs-number": Case(
        when("now - m.joined_on > 3"), "check.type-mismatch", "now - m.joined_on > 3",
        "cannot compare duration with number",
        "write the number as a duration: 4h, 30d, or days(n)"),
    "arithmetic": Case(
        when("m.score + m.name > 1"), "check.type-mismatch", "m.score + m.name",
        "cannot compute number + text (numbers are written without quotes)", None),
    "emit-value": Case(
        rule("emit flag(n: m.name)"), "check.type-mismatch", "n: m.name",
        "value 'n' of flag is declared number, but this is text", None),
    "emit-int-constant-not-whole": Case(
        "conclusion half(v: int) about Member\nrule r { for m in Member emit half(v: 2.5) }\n",
        "check.type-mismatch", "v: 2.5",
        "value 'v' of half is declared int, but 2.5 is not a whole number", None),
    "if-branches": Case(
        when('(if m.active then 1 else "a") == 1'), "check.type-mismatch",
        'if m.active then 1 else "a"', "'then' gives number but 'else' gives text", None),
    "coalesce-default": Case(
        when('(m.score ?? "x") == 1'), "check.type-mismatch", 'm.score ?? "x"',
        "the default after '??' must have the same type: number ?? text", None),
    "in-needs-a-list": Case(
        when("m.score in 3"), "check.type-mismatch", "3",
        "'in' needs a list on its right, not number", None),
    "in-wrong-item-type": Case(
        when('m.score in ["a"]'), "check.type-mismatch", 'm.score in ["a"]',
        "cannot look for number in a list of text", None),
    "lookup-by-number": Case(
        when("Member[1] is null"), "check.type-mismatch", "1",
        "Member[...] takes an id (text), not number", None),
    "index-a-text": Case(
        when('m.id[1] == "a"'), "check.type-mismatch", "m.id[1]",
        "text cannot be indexed with [...]",
        "only maps (tables of values) and fact types take [...]"),
    "negate-text": Case(
        when('-m.name == "a"'), "check.type-mismatch", "-m.name", "cannot negate text", None),
    "builtin-argument": Case(
        when("round(m.name, 1) > 1"), "check.type-mismatch", "round(m.name, 1)",
        "round: argument 1 must be number, not text", "round(x, places): half up, exact"),
    "builtin-same-type": Case(
        when("least(m.name, 1) == 1"), "check.type-mismatch", "least(m.name, 1)",
        "least: both arguments must have the same type, not text and number",
        "least(a, b): the smaller"),
    "sum-of-text": Case(
        when("sum(x.name for x in Member) == 1"), "check.type-mismatch",
        "sum(x.name for x in Member)", "sum needs numbers or durations, not text", None),
    "define-argument": Case(
        when("f(m.name) == 1", pre=FLAG + "define f(a: number) = a\n"), "check.type-mismatch",
        "m.name", "argument 'a' is declared number, but this is text", None),
    "list-mixes-types": Case(
        when('[1, "a"] == [1]'), "check.type-mismatch", '[1, "a"]',
        "a list mixes number and text", None),
    "param-list-mixes-types": Case(
        rule("emit flag(n: 1)", pre=FLAG + 'param p = [1, "a"]\n'), "check.type-mismatch",
        '[1, "a"]', "values of one list or map must share a type: number and text are mixed",
        None),
    # ---- enum literals ----
    "enum-text-literal": Case(
        when('m.level == "senor"'), "check.enum-member", '"senor"',
        "'senor' is not a Level", "did you mean 'senior'?"),
    "enum-text-literal-on-the-left": Case(
        FLAG + 'rule r { for t in Ticket when "feture" == t.kind '
        "emit flag(n: 1) about Member[t.member_id] }\n",
        "check.enum-member", '"feture"', "'feture' is not a Kind", "did you mean 'feature'?"),
    "enum-in-list": Case(
        when('m.level in ["junior", "senor"]'), "check.enum-member", '["junior", "senor"]',
        "'senor' is not a Level", "did you mean 'senior'?"),
    "enum-emit-value": Case(
        rule('emit g(n: "bugg")', pre="conclusion g(n: Kind) about Member\n"),
        "check.enum-member", 'n: "bugg"', "'bugg' is not a Kind",
        "Kind is one of: bug, feature, chore"),
    "enum-emit-list": Case(
        rule('emit g(n: [bug, "bugg"])', pre="conclusion g(n: list[Kind]) about Member\n"),
        "check.enum-member", 'n: [bug, "bugg"]', "'bugg' is not a Kind",
        "Kind is one of: bug, feature, chore"),
    "enum-map-key": Case(
        when("p[m.level] == 1", pre=FLAG + "param p = {junior: 1, senor: 2}\n"),
        "check.enum-member", "p[m.level]", "key of this map 'senor' is not a Level",
        "did you mean 'senior'?"),
    # ---- arity ----
    "builtin-arity": Case(
        when("round(m.score) > 1"), "check.arity", "round(m.score)",
        "round takes 2 arguments: round(x, places): half up, exact", None),
    "builtin-named-arguments": Case(
        when("round(x: 1, places: 2) > 1"), "check.arity", "round(x: 1, places: 2)",
        "round takes 2 arguments", None),
    "define-arity": Case(
        when("f(1, 2) == 1", pre=FLAG + "define f(a: number) = a\n"), "check.arity",
        "f(1, 2)", "f(a) takes 1 argument, given 2", None),
    "define-unknown-argument": Case(
        when("f(b: 1) == 1", pre=FLAG + "define f(a: number) = a\n"), "check.arity",
        "f(b: 1)", "f(a) has no argument 'b'", None),
    "mixed-positional-and-named-arguments": Case(
        when("f(1, b: 2) > 0", pre=FLAG + "define f(a: number, b: number) = a\n"),
        "check.arity", "f(1, b: 2)", "f(a, b): give every argument by name or none",
        "e.g. f(a: 1, b: 2) or f(1, 2)"),
    "table-arity": Case(
        when("t(1, 2) == 1", pre=FLAG + "table t { hit first in a: number out b: number "
             "| - | 1 | }\n"),
        "check.arity", "t(1, 2)", "t(a) takes 1 argument, given 2", None),
    # ---- cycles ----
    "rule-cycle": Case(
        "conclusion a() about Member\nconclusion b() about Member\nconclusion c() about Member\n"
        "rule ra { for x in a emit b() }\nrule rb { for x in b emit c() }\n"
        "rule rc { for x in c emit a() }\n",
        "check.cycle", "rule ra { for x in a emit b() }",
        "rules depend on each other in a cycle: ra -> rb -> rc -> ra (through a, b, c)",
        "a conclusion may not depend, directly or indirectly, on itself"),
    "rule-reads-itself": Case(
        "conclusion a() about Member\nrule loop { for x in a emit a() }\n", "check.cycle",
        "rule loop { for x in a emit a() }",
        "rules depend on each other in a cycle: loop -> loop (through a)",
        "a conclusion may not depend, directly or indirectly, on itself"),
    "function-calls-itself": Case(
        when("f(m) > 1", pre=FLAG + "define f(x: Member) = f(x) + 1\n"), "check.cycle",
        "f(x)", "'f' calls itself (directly or through other functions)",
        "a function or table may not depend on itself"),
    "functions-call-each-other": Case(
        when("f(m) > 1", pre=FLAG + "define f(x: Member) = g(x) + 1\n"
             "define g(x: Member) = f(x)\n"),
        "check.cycle", "f(x)", "'f' calls itself", "a function or table may not depend on itself"),
    # ---- emits and subjects ----
    "missing-emit-value": Case(
        rule("emit flag()"), "check.missing-value", "emit flag()", "emit flag lacks 'n'",
        "flag has the values (n)"),
    "extra-emit-value": Case(
        rule("emit flag(n: 1, x: 2)"), "check.unknown-field", "x: 2",
        "conclusion 'flag' has no value 'x'", "its values: n"),
    "subject-of-another-type": Case(
        rule("emit t()", pre="conclusion t() about Team\n"), "check.subject", "emit t()",
        "t is about Team, but this rule is about Member",
        "add 'about' with the Team, e.g. 'about Team[m.team_id]'"),
    "about-the-wrong-fact": Case(
        rule("emit flag(n: 1) about Team[m.team_id]"), "check.subject", "Team[m.team_id]",
        "flag is about Member, not Team", None),
    "list-rule-without-about": Case(
        FLAG + "rule r { for x in [1, 2] emit flag(n: x) }\n", "check.subject",
        "emit flag(n: x)", "flag is about Member, but this rule is about a list item",
        "add 'about' with the Member, e.g. 'about Member[x.member_id]'"),
    # ---- duplicates and reserved names ----
    "duplicate-param": Case(
        rule("emit flag(n: 1)", pre=FLAG + "param p = 1\nparam p = 2\n"), "check.duplicate",
        "param p = 2", "'p' is defined twice", "it is first defined at policy.kp:3:1"),
    "duplicate-conclusion": Case(
        FLAG + "conclusion flag(m: text) about Team\n", "check.duplicate",
        "conclusion flag(m: text) about Team", "'flag' is defined twice",
        "it is first defined at policy.kp:2:1"),
    "duplicate-enum": Case(
        "enum E = a | b\nenum E = c | d\n", "check.duplicate", "enum E = c | d",
        "'E' is defined twice", "it is first defined at policy.kp:2:1"),
    "define-and-table-share-a-name": Case(
        "define d(x: number) = x\ntable d { hit first in a: number out b: number | - | 1 | }\n",
        "check.duplicate", "table d { hit first in a: number out b: number | - | 1 | }",
        "'d' is defined twice", "it is first defined at policy.kp:2:1"),
    "duplicate-header": Case(
        'policy "Again" version "2"\n', "check.duplicate", 'policy "Again" version "2"',
        "a policy has one 'policy ... version ...' header",
        "the header is already at policy.kp:1:1"),
    "enum-of-the-fact-models": Case(
        "enum Level = a < b\n", "check.duplicate", "enum Level = a < b",
        "type 'Level' is already defined by the fact models", "choose another name"),
    "let-rebinds": Case(
        rule("let x = 1", "let x = 2", "emit flag(n: x)"), "check.duplicate", "let x = 2",
        "'x' is already bound here", "choose another name"),
    "let-shadows-the-rule-variable": Case(
        rule("let m = 1", "emit flag(n: 1)"), "check.duplicate", "let m = 1",
        "'m' is already bound here", "choose another name"),
    "let-shadows-a-param": Case(
        rule("let p = 1", "emit flag(n: p)", pre=FLAG + "param p = 2\n"), "check.duplicate",
        "let p = 1", "'p' is already bound here", "choose another name"),
    "reserved-now": Case(
        "param now = 1\n", "check.reserved-name", "param now = 1", "'now' is a reserved name",
        "choose another name"),
    "reserved-builtin": Case(
        "define round(x: number) = x\n", "check.reserved-name", "define round(x: number) = x",
        "'round' is a reserved name", "choose another name"),
    "reserved-aggregate-param": Case(
        "param count = 1\n", "check.reserved-name", "param count = 1",
        "'count' is a reserved name", "choose another name"),
    "reserved-aggregate-define": Case(
        "define list(x: number) = x\n", "check.reserved-name", "define list(x: number) = x",
        "'list' is a reserved name", "choose another name"),
    "reserved-aggregate-enum": Case(
        "enum exists = a | b\n", "check.reserved-name", "enum exists = a | b",
        "'exists' is a reserved name", "choose another name"),
    "reserved-aggregate-let": Case(
        rule("let count = 1", "emit flag(n: 1)"), "check.reserved-name", "let count = 1",
        "'count' is a reserved word", "choose another name"),
    "reserved-aggregate-let-sum": Case(
        rule("let sum = 1", "emit flag(n: 1)"), "check.reserved-name", "let sum = 1",
        "'sum' is a reserved word", "choose another name"),
    "reserved-aggregate-define-parameter": Case(
        rule("emit flag(n: 1)", pre=FLAG + "define f(count: number) = 1\n"),
        "check.reserved-name", "count: number", "'count' is a reserved word",
        "choose another name"),
    "reserved-aggregate-table-input": Case(
        "table t { hit first in max: number out b: number | - | 1 | }\n",
        "check.reserved-name", "max: number", "'max' is a reserved word", "choose another name"),
    # ---- names repeated inside one declaration ----
    "repeated-emit-value": Case(
        rule("emit flag(n: 1, n: 2)"), "check.duplicate", "n: 2", "value 'n' is given twice",
        "give each value once"),
    "repeated-conclusion-field": Case(
        "conclusion c(a: number, a: text) about Member\n", "check.duplicate", "a: text",
        "'a' appears twice in conclusion c", "give each name once"),
    "repeated-define-parameter": Case(
        "define f(a: number, a: text) = 1\n", "check.duplicate", "a: text",
        "'a' appears twice in function f", "give each name once"),
    "repeated-table-input": Case(
        "table t { hit first in a: number, a: number out b: number | - | - | 1 | }\n",
        "check.duplicate", "a: number", "'a' appears twice in table t", "give each name once"),
    "table-input-and-output-share-a-name": Case(
        "table t { hit first in a: number out a: number | - | 1 | }\n",
        "check.duplicate", "a: number", "'a' appears twice in table t", "give each name once"),
    # ---- shapes and uses ----
    "not-boolean": Case(
        rule("when m.score", "emit flag(n: 1)"), "check.not-boolean", "m.score",
        "a condition must be true or false, but this is number",
        "compare it with something, e.g. '... > 0' or '... is not null'"),
    "not-boolean-in-where": Case(
        FLAG + "rule r { for m in Member where m.name emit flag(n: 1) }\n", "check.not-boolean",
        "m.name", "a condition must be true or false, but this is text",
        "compare it with something, e.g. '... > 0' or '... is not null'"),
    "order-a-plain-enum": Case(
        FLAG + "rule r { for t in Ticket when t.kind > bug "
        "emit flag(n: 1) about Member[t.member_id] }\n",
        "check.not-ordered", "t.kind > bug", "Kind is not an ordered enum",
        "compare it with == or in [...]"),
    "order-bools": Case(
        when("m.active > true"), "check.not-ordered", "m.active > true",
        "bool values have no order", None),
    "rule-without-for": Case(
        FLAG + "rule r { let x = 1 emit flag(n: 1) }\n", "check.rule-shape", "let x = 1",
        "rule r must start with 'for x in ...'",
        "say what the rule is about, e.g. 'for c in Complaint'"),
    "rule-with-two-fors": Case(
        rule("for t in Ticket", "emit flag(n: 1)"), "check.rule-shape", "for t in Ticket",
        "a rule has one 'for', at its start",
        "use an aggregate such as exists(x in ... where ...) to look at other facts"),
    "rule-source": Case(
        FLAG + "rule r { for x in 3 emit flag(n: 1) }\n", "check.bad-source", "3",
        "a rule goes through a fact type or a conclusion", "one of: Team, Member, Ticket, flag"),
    "aggregate-source": Case(
        when("count(x in 3) > 1"), "check.bad-source", "3", "cannot go through number",
        "write a fact type (Complaint), a conclusion name (grade), an enum or a list"),
    "fact-type-as-value": Case(
        when("Member > 1"), "check.bad-use", "Member", "'Member' is a fact type, not a value",
        "look a record up by id, e.g. Member[x.member_id], or count them with "
        "count(x in Member where ...)"),
    "map-literal-in-a-rule": Case(
        when("{a: 1} == 1"), "check.bad-use", "{a: 1}",
        "a map can only be written as a parameter's value",
        "declare it with 'param name = {...}'"),
    "param-names-a-fact-type": Case(
        "param p = Member\n", "check.param-value", "Member",
        "'Member' is not a value a parameter can hold",
        'write a number, a duration (4h, 30d), a "text", an enum value, [a list] or {a: map}'),
    "param-is-computed": Case(
        "param p = 1 + 2\n", "check.param-value", "1 + 2",
        "a parameter's value must be written out, not computed",
        "write a number, a duration, a text, a list or a map"),
    "param-value-against-its-written-type": Case(
        'param p: number = "x"\n', "check.type-mismatch", '"x"',
        "parameter 'p' is declared number: the value is text, not number", None),
    "param-list-against-its-written-type": Case(
        'param p: list[number] = ["x"]\n', "check.type-mismatch", '["x"]',
        "parameter 'p' is declared list[number]: the value is text, not number", None),
    "param-duration-against-its-written-type": Case(
        "param p: number = 4h\n", "check.type-mismatch", "4h",
        "parameter 'p' is declared number: the value is duration, not number", None),
    # ---- tables ----
    "table-row-width": Case(
        'table t {\n  hit first\n  in a: number\n  out b: text\n  | 1 | "x" |\n  | 2 |\n}\n',
        "check.table-shape", "| 2 |",
        "row 2 of table 't' has 1 cells; it needs 2 (1 in, 1 out)", None),
    "table-output-is-a-test": Case(
        "table t { hit first in a: number out b: number | 1 | > 4 | }\n", "check.table-shape",
        "> 4", "output 'b' needs a value, not a test", "write the value itself, e.g. A or 1.2"),
    "table-cell-type": Case(
        'table t { hit first in a: number out b: number | "x" | 1 | }\n', "check.type-mismatch",
        '"x"', "cannot compare number with text", "numbers are written without quotes"),
    "table-priority-needs-an-ordered-enum": Case(
        "table t { hit priority in a: number out b: Kind | 1 | bug | }\n",
        "check.table-priority", "table t { hit priority in a: number out b: Kind | 1 | bug | }",
        "its first output must be an ordered enum (the highest value wins)",
        "declare e.g. 'enum Level = low < high'"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_diagnostic(load_fails: Callable[..., tuple[PolicyError, str]], case: Case) -> None:
    error, source = load_fails(case.body)
    assert isinstance(error, PolicyCheckError)
    diag = only(error)
    assert diag.code == case.code
    assert case.message in diag.message
    assert diag.span is not None
    assert diag.span.source == "policy.kp"
    assert diag.span.text(source) == case.underline
    assert diag.hint == case.hint
    assert diag.severity == "error"


def test_the_case_scaffold_loads_when_correct(tmp_path: Path) -> None:
    """The fixtures around the cases are sound: the shared pieces load on their own."""
    policy = load_text(tmp_path, rule("emit flag(n: 1)"))
    assert [r.id for r in policy.rules] == ["r"]


def test_optional_emit_value_may_be_left_out(tmp_path: Path) -> None:
    pre = "conclusion o(a: number, b?: number) about Member\n"
    load_text(tmp_path, rule("emit o(a: 1)", pre=pre))


def test_no_header(tmp_path: Path) -> None:
    with pytest.raises(PolicyCheckError) as info:
        load_text(tmp_path, rule("emit flag(n: 1)"), header=False)
    diag = only(info.value)
    assert diag.code == "check.no-header"
    assert diag.message == "the policy has no header"
    assert diag.span is None
    assert diag.hint == 'start the entry file with: policy "Name" version "1.0"'


# ---- former gaps in checking -------------------------------------------------------------------


def test_misspelt_rule_source_suggests_the_fact_type(load_fails: Any) -> None:
    error, source = load_fails(FLAG + "rule r { for t in Membr emit flag(n: 1) }\n")
    diag = only(error)
    assert diag.code == "check.bad-source"
    assert diag.message == "'Membr' is neither a fact type nor a conclusion"
    assert diag.hint == "did you mean 'Member'?"
    assert diag.span is not None
    assert diag.span.text(source) == "Membr"


def test_a_list_parameter_is_still_a_rule_source(tmp_path: Path) -> None:
    """The 'neither a fact type nor a conclusion' check leaves parameters to the type check."""
    load_text(tmp_path, FLAG + 'param xs = [1, 2]\n'
              'rule r { for x in xs emit flag(n: x) about Member["M1"] }\n')


@pytest.mark.parametrize(("condition", "code", "underline", "message", "hint"), [
    ('k.kind == "bugg"', "check.enum-member", '"bugg"', "'bugg' is not a Kind",
     "did you mean 'bug'?"),
    ("k.member_id == m.score", "check.type-mismatch", "k.member_id == m.score",
     "cannot compare text with number", "numbers are written without quotes"),
    ("k.opened_at == m.joined_on", "check.type-mismatch", "k.opened_at == m.joined_on",
     "cannot compare datetime with date", "use date(x) to compare a datetime with a date"),
], ids=["enum-literal", "text-vs-number", "datetime-vs-date"])
def test_equality_in_an_aggregate_filter_is_checked(load_fails: Any, condition: str, code: str,
                                                    underline: str, message: str,
                                                    hint: str) -> None:
    error, source = load_fails(when(f"count(k in Ticket where {condition}) > 0"))
    diag = only(error)
    assert diag.code == code
    assert diag.message == message
    assert diag.hint == hint
    assert diag.span is not None
    assert diag.span.text(source) == underline


def test_same_mistake_outside_an_aggregate_is_caught(load_fails: Any) -> None:
    error, _ = load_fails(when('count(k in Ticket where k.kind == "bugg" or k.hours > 1) > 0'))
    assert only(error).code == "check.enum-member"


def test_unknown_enum_literal_in_a_list_is_reported_once(load_fails: Any) -> None:
    error, source = load_fails(when("m.level in [junior, senor]"))
    diag = only(error)
    assert diag.code == "check.unknown-name"
    assert diag.message == "unknown name 'senor'"
    assert diag.hint == "did you mean 'senior'?"
    assert diag.span is not None
    assert diag.span.text(source) == "senor"


def test_param_value_must_fit_its_written_type(load_fails: Any) -> None:
    error, source = load_fails('param p: number = "x"\n')
    diag = only(error)
    assert diag.code == "check.type-mismatch"
    assert diag.message == "parameter 'p' is declared number: the value is text, not number"
    assert diag.span is not None
    assert diag.span.text(source) == '"x"'


@pytest.mark.parametrize("param", [
    "param a: decimal(2) = 1.5", "param a: duration = 4h", "param a: map[text, number] = {a: 1}",
    "param a: Level = senior", "param a: list[Kind] = [bug]", "param a: number? = null",
    "param a: int = 3", 'param a: text = "x"', "param a: list[text] = []",
    "param a: map[Level, number] = {junior: 1}", "param a: bool = true",
    "param a: duration = -4h", "param a: list[list[number]] = [[1]]",
])
def test_param_value_that_fits_its_written_type_loads(tmp_path: Path, param: str) -> None:
    load_text(tmp_path, param + "\n")


def test_param_of_one_enum_holding_a_member_of_another(load_fails: Any) -> None:
    error, source = load_fails("param a: Kind = senior\n")
    diag = only(error)
    assert diag.code == "check.type-mismatch"
    assert diag.message == ("parameter 'a' is declared Kind: 'senior' is not a Kind "
                            "(bug, feature, chore)")
    assert diag.hint is None
    assert diag.span is not None
    assert diag.span.text(source) == "senior"


@pytest.mark.parametrize(("param", "underline", "message"), [
    ("param x: number = null", "null",
     "parameter 'x' is declared number: null is not a number (write number? to allow null)"),
    ("param x: Level = null", "null",
     "parameter 'x' is declared Level: null is not a Level (write Level? to allow null)"),
    ("param x: int = 2.5", "2.5", "parameter 'x' is declared int: 2.5 is not a whole number"),
    ("param x: list[int] = [1, 1.5]", "[1, 1.5]",
     "parameter 'x' is declared list[int]: 1.5 is not a whole number"),
    ("param x: map[text, int] = {a: 1.5}", "{a: 1.5}",
     "parameter 'x' is declared map[text, int]: 1.5 is not a whole number"),
], ids=["null-number", "null-enum", "int", "list-of-int", "map-of-int"])
def test_param_value_null_or_not_whole_against_its_written_type(
        load_fails: Any, param: str, underline: str, message: str) -> None:
    error, source = load_fails(param + "\n")
    diag = only(error)
    assert diag.code == "check.type-mismatch"
    assert diag.message == message
    assert diag.hint is None
    assert diag.span is not None
    assert diag.span.text(source) == underline


@pytest.mark.parametrize("param", ["param x: int? = null", "param x: int = 2.0",
                                   "param x: int = -3", "param x: Level? = null"])
def test_param_null_when_allowed_or_whole_loads(tmp_path: Path, param: str) -> None:
    load_text(tmp_path, param + "\n")


def test_conclusion_about_an_unknown_fact_type(load_fails: Any) -> None:
    error, source = load_fails("conclusion x() about Membr\n")
    diag = only(error)
    assert diag.code == "check.unknown-fact"
    assert diag.message == "conclusion x is about unknown fact type 'Membr'"
    assert diag.hint == "did you mean 'Member'?"
    assert diag.span is not None
    assert diag.span.text(source) == "conclusion x() about Membr"


@pytest.mark.parametrize(("body", "underline", "message", "hint"), [
    (rule("emit flag(n: 1, n: 2)"), "n: 2", "value 'n' is given twice", "give each value once"),
    ("conclusion c(a: number, a: text) about Member\n", "a: text",
     "'a' appears twice in conclusion c", "give each name once"),
    ("define f(a: number, a: text) = 1\n", "a: text", "'a' appears twice in function f",
     "give each name once"),
], ids=["emit-value", "conclusion-field", "define-parameter"])
def test_name_repeated_in_one_declaration(load_fails: Any, body: str, underline: str,
                                          message: str, hint: str) -> None:
    error, source = load_fails(body)
    diag = only(error)
    assert diag.code == "check.duplicate"
    assert diag.message == message
    assert diag.hint == hint
    assert diag.span is not None
    assert diag.span.text(source) == underline


def test_table_with_a_repeated_input_name(load_fails: Any) -> None:
    error, source = load_fails("table t { hit first in a: number, a: number out b: number "
                               "| - | - | 1 | }\n")
    diag = only(error)
    assert diag.code == "check.duplicate"
    assert diag.message == "'a' appears twice in table t"
    assert diag.span is not None
    assert diag.span.text(source) == "a: number"
    assert diag.span.column == len("table t { hit first in a: number, ") + 1  # the repeat


def test_mixed_positional_and_named_arguments(load_fails: Any) -> None:
    pre = FLAG + "define f(a: number, b: number) = a\n"
    error, source = load_fails(when("f(1, b: 2) > 0", pre=pre))
    diag = only(error)
    assert diag.code == "check.arity"
    assert "None" not in diag.message
    assert diag.message == "f(a, b): give every argument by name or none"
    assert diag.hint == "e.g. f(a: 1, b: 2) or f(1, 2)"
    assert diag.span is not None
    assert diag.span.text(source) == "f(1, b: 2)"


def test_too_many_rules(load_fails: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real limit is 100,000 rules; a limit of 2 shows the same diagnostic cheaply."""
    from kam_policy.engine import declarations

    assert declarations.MAX_RULES == 100_000
    monkeypatch.setattr(declarations, "MAX_RULES", 2)
    text = "".join(rule("emit flag(n: 1)", pre=FLAG if i == 0 else "", rule_id=f"r{i}")
                   for i in range(3))
    error, source = load_fails(text)
    diag = only(error)
    assert diag.code == "check.too-many-rules"
    assert diag.message == "the policy has 3 rules; at most 2 are allowed"
    assert diag.hint == "write repetitive rules as a decision table"
    assert diag.span is not None
    assert diag.span.text(source).startswith("rule r2 {")


@pytest.mark.parametrize(("body", "underline", "word"), [
    (FLAG + "rule r { for count in Member emit flag(n: 1) }\n", "for count in Member", "count"),
    (when("exists(count in Ticket)"), "exists(count in Ticket)", "count"),
    (when("sum(1 for sum in Ticket) > 0"), "sum(1 for sum in Ticket)", "sum"),
    (FLAG + "rule r { for true in Member emit flag(n: 1) }\n", "for true in Member", "true"),
], ids=["for", "aggregate", "fold", "for-true"])
def test_rule_variable_named_like_an_aggregate_is_reserved(load_fails: Any, body: str,
                                                           underline: str, word: str) -> None:
    error, source = load_fails(body)
    diag = only(error)
    assert diag.code == "check.reserved-name"
    assert diag.message == f"'{word}' is a reserved word"
    assert diag.hint == "choose another name"
    assert diag.span is not None
    assert diag.span.text(source) == underline


@pytest.mark.parametrize(("body", "underline", "message"), [
    ("enum E = none < a\n", "enum E = none < a",
     "enum member 'none' is a reserved word and could never be written"),
    ("enum E = a | count\n", "enum E = a | count",
     "enum member 'count' is a reserved word and could never be written"),
    ("param true = 1\n", "param true = 1", "'true' is a reserved name"),
    ("param null = 1\n", "param null = 1", "'null' is a reserved name"),
    ("define false(x: number) = x\n", "define false(x: number) = x",
     "'false' is a reserved name"),
    (rule("let false = 1", "emit flag(n: 1)"), "let false = 1", "'false' is a reserved word"),
    (rule("emit flag(n: 1)", pre=FLAG + "define f(null: number) = 1\n"), "null: number",
     "'null' is a reserved word"),
    ("table t { hit first in true: number out b: number | - | 1 | }\n", "true: number",
     "'true' is a reserved word"),
], ids=["enum-member-none", "enum-member-count", "param-true", "param-null", "define-false",
        "let-false", "define-parameter-null", "table-input-true"])
def test_literals_and_aggregate_words_are_reserved(load_fails: Any, body: str, underline: str,
                                                   message: str) -> None:
    error, source = load_fails(body)
    diag = only(error)
    assert diag.code == "check.reserved-name"
    assert diag.message == message
    assert diag.hint == "choose another name"
    assert diag.span is not None
    assert diag.span.text(source) == underline


def test_conclusion_values_may_be_named_like_aggregates(tmp_path: Path) -> None:
    """Only names that are bound and read back bare are reserved: a conclusion's values are
    always read as 'g.count', so count, sum, max... are fine there."""
    policy = load_text(tmp_path, "conclusion tally(count: number, sum: number) about Member\n"
                       "conclusion big(max: number) about Member\n"
                       "rule a { for m in Member emit tally(count: 2, sum: 3) }\n"
                       "rule b { for g in tally when g.count < g.sum "
                       'emit big(max: g.count + g.sum) because "{g.count} < {g.sum}" }\n')
    decision = decide(policy, facts(members=[member("M1")]))
    assert [(c.name, dict(c.values), c.reason) for c in decision] == [
        ("big", {"max": "5"}, "2 < 3"), ("tally", {"count": "2", "sum": "3"}, None)]


# ---- fact fields of a type rules cannot use ---------------------------------------------------


class Gauge(BaseModel):
    """A custom fact model with fields the rule language has no type for."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    member_id: str
    ratio: float = 0.5
    spent: dt.timedelta = dt.timedelta(hours=1)
    maybe: float | None = None
    ratios: list[float] = []
    hours: int = 0


GAUGES = FactSchema([
    FactType("Team", Team, "teams", "team"),
    FactType("Member", Member, "members", "member", refs={"team_id": "Team"}),
    FactType("Gauge", Gauge, "gauges", "gauge", refs={"member_id": "Member"}),
])
GAUGE_FLAG = "conclusion flag(n: number) about Member\n"
FLOAT = "float (use Decimal: floats are not exact)"
TIMEDELTA = "timedelta (store the start and end datetimes)"
FIELD_TYPES_HINT = ("fact fields are text, Decimal, int, bool, date, datetime, enums, "
                    "and lists and dicts of these")


def gauge_rule(*, when_: str = "", because: str = "", pre: str = "") -> str:
    condition = f" when {when_}" if when_ else ""
    reason = f' because "{because}"' if because else ""
    return (GAUGE_FLAG + pre + f"rule r {{ for g in Gauge{condition} "
            f"emit flag(n: 1) about Member[g.member_id]{reason} }}\n")


@pytest.mark.parametrize(("body", "underline", "field", "kind"), [
    (gauge_rule(when_="g.ratio > 0.5"), "g.ratio", "ratio", FLOAT),
    (gauge_rule(when_="g.spent > 1h"), "g.spent", "spent", TIMEDELTA),
    (gauge_rule(when_="g.maybe is null"), "g.maybe", "maybe", FLOAT),
    (gauge_rule(because="ratio {g.ratio}"), "{g.ratio}", "ratio", FLOAT),
    (gauge_rule(pre="define f(x: Gauge) = x.ratio\n"), "x.ratio", "ratio", FLOAT),
], ids=["float", "timedelta", "optional-float", "reason-placeholder", "define-body"])
def test_reading_a_field_of_an_unsupported_type(load_fails: Any, body: str, underline: str,
                                                field: str, kind: str) -> None:
    error, source = load_fails(body, GAUGES)
    diag = only(error)
    assert diag.code == "check.unsupported-field"
    assert diag.message == f"field Gauge.{field} has a type rules cannot use: {kind}"
    assert diag.hint == FIELD_TYPES_HINT
    assert diag.span is not None
    assert diag.span.text(source) == underline


def test_fields_of_an_unsupported_type_that_no_rule_reads_are_fine(tmp_path: Path) -> None:
    policy = load_text(tmp_path, gauge_rule(when_="g.hours > 1"), GAUGES)
    data = {"teams": [{"id": "T1", "name": "t", "budget": "1"}], "members": [member("M1")],
            "gauges": [{"id": "G1", "member_id": "M1", "ratio": 0.1, "hours": 2}]}
    assert [c.subject.id for c in policy.decide(data, NOW)] == ["M1"]


def test_reading_a_list_of_an_unsupported_type(load_fails: Any) -> None:
    error, source = load_fails(gauge_rule(when_="sum(x for x in g.ratios) > 1"), GAUGES)
    diag = only(error)
    assert diag.code == "check.unsupported-field"
    assert diag.message.startswith("field Gauge.ratios has a type rules cannot use: ")
    assert "unsupported" not in diag.message
    assert diag.span is not None
    assert diag.span.text(source) == "g.ratios"


# ---- reason texts ----------------------------------------------------------------------------


NOT_A_NAME = "write {name} or {name.field}; use {{ and }} for braces"


@pytest.mark.parametrize(("placeholder", "code", "message", "hint"), [
    ("{0.__class__}", "check.reason", "'{0.__class__}' in the reason text is not a name",
     NOT_A_NAME),
    ("{m.name!r}", "check.reason", "'{m.name!r}' in the reason text is not a name", NOT_A_NAME),
    ("{}", "check.reason", "'{}' in the reason text is not a name", NOT_A_NAME),
    ("{nope}", "check.reason", "'nope' in the reason text is not bound", None),
    ("{m.nme}", "check.unknown-field", "fact 'Member' has no field 'nme'",
     "did you mean 'name'?"),
])
def test_reason_placeholders(load_fails: Any, placeholder: str, code: str, message: str,
                             hint: str | None) -> None:
    error, source = load_fails(rule("emit flag(n: 1)", f'because "x {placeholder}"'))
    diag = only(error)
    assert diag.code == code
    assert diag.message == message
    assert diag.hint == hint
    assert diag.span is not None
    assert diag.span.text(source) == placeholder  # the placeholder itself, not the rule
    assert diag.span.line == source.count("\n", 0, source.index("because")) + 1


def test_reason_error_underlines_the_placeholder(load_fails: Any) -> None:
    error, source = load_fails(rule("emit flag(n: 1)", 'because "x {nope}"'))
    assert only(error).span.text(source) == "{nope}"  # type: ignore[union-attr]


@pytest.mark.parametrize("before", ["{{lit}} ", "中文 "], ids=["braces", "chinese"])
def test_reason_underline_after_braces_and_wide_characters(load_fails: Any, before: str) -> None:
    error, source = load_fails(rule("emit flag(n: 1)", f'because "{before}{{nope}}"'))
    assert only(error).span.text(source) == "{nope}"  # type: ignore[union-attr]


@pytest.mark.parametrize("before", ['say \\"hi\\" ', "a\\tb ", "\\u4e2d\\u6587 "],
                         ids=["quote", "tab", "unicode"])
def test_reason_underline_after_escapes(load_fails: Any, before: str) -> None:
    error, source = load_fails(rule("emit flag(n: 1)", f'because "{before}{{nope}}"'))
    assert only(error).span.text(source) == "{nope}"  # type: ignore[union-attr]


# ---- all errors at once ----------------------------------------------------------------------

THREE_MISTAKES = HEADER + '''conclusion flag(n: number) about Member

rule first {
  for m in Member
  when m.scor > 1
  emit flag(n: 1)
}

rule second {
  for t in Ticket
  when t.kind == "bugg" or t.hours > 1
  emit flag(n: 1) about Member[t.member_id]
}

table late {
  hit first
  in a: number
  out b: number
  | - |
}
'''


def test_all_errors_are_reported_at_once_sorted_and_rendered(tmp_path: Path) -> None:
    write_policy(tmp_path, {"policy.kp": THREE_MISTAKES})
    with pytest.raises(PolicyCheckError) as info:
        kam_policy.load(tmp_path, schema=SCHEMA)
    error = info.value
    # The table is compiled before any rule, so sorting (not discovery) gives this order.
    assert [(d.code, d.span.line, d.span.column) for d in error.diagnostics  # type: ignore[union-attr]
            ] == [("check.unknown-field", 6, 8), ("check.enum-member", 12, 18),
                  ("check.table-shape", 20, 3)]
    assert [d.span.text(THREE_MISTAKES) for d in error.diagnostics  # type: ignore[union-attr]
            ] == ["m.scor", '"bugg"', "| - |"]
    assert error.rendered == "\n".join([
        "policy.kp:6:8: error[check.unknown-field] fact 'Member' has no field 'scor'",
        "    6 |   when m.scor > 1",
        "      |        ^^^^^^",
        "      help: did you mean 'score'?",
        "policy.kp:12:18: error[check.enum-member] 'bugg' is not a Kind",
        '   12 |   when t.kind == "bugg" or t.hours > 1',
        "      |                  ^^^^^^",
        "      help: did you mean 'bug'?",
        "policy.kp:20:3: error[check.table-shape] row 1 of table 'late' has 1 cells; it needs "
        "2 (1 in, 1 out)",
        "   20 |   | - |",
        "      |   ^^^^^",
    ])
    assert str(error) == error.rendered


def test_errors_across_files_are_sorted_by_file_then_line(tmp_path: Path) -> None:
    write_policy(tmp_path, {
        "policy.kp": HEADER + 'include "b.kp"\ninclude "a.kp"\n' + FLAG,
        "b.kp": "rule rb { for m in Member when m.x > 1 emit flag(n: 1) }\n",
        "a.kp": "\n\nrule ra { for m in Member when m.y > 1 emit flag(n: 1) }\n",
    })
    with pytest.raises(PolicyCheckError) as info:
        kam_policy.load(tmp_path, schema=SCHEMA)
    assert [str(d.span) for d in info.value.diagnostics] == ["a.kp:3:32", "b.kp:1:32"]


def test_carets_line_up_under_chinese_text(tmp_path: Path) -> None:
    source = (HEADER + FLAG
              + 'rule 规则 "标题" { for 成员 in Member when 成员.分数 > 1 emit flag(n: 1) }\n')
    write_policy(tmp_path, {"policy.kp": source})
    with pytest.raises(PolicyCheckError) as info:
        kam_policy.load(tmp_path, schema=SCHEMA)
    diag = only(info.value)
    assert diag.span is not None
    assert diag.span.text(source) == "成员.分数"
    caret_line = info.value.rendered.splitlines()[2]
    # 'rule 规则 "标题" { for 成员 in Member when ' is 43 columns wide on screen (each Chinese
    # character takes two), and '成员.分数' is 9.
    assert caret_line == "      | " + " " * 43 + "^" * 9


def test_a_policy_that_fails_checking_cannot_be_evaluated(tmp_path: Path) -> None:
    """One broken rule fails the whole load: there is no partial policy to decide with."""
    text = rule("emit flag(n: 1)", rule_id="good") + rule("when m.nope > 1", "emit flag(n: 1)",
                                                        pre="", rule_id="bad")
    with pytest.raises(PolicyCheckError) as info:
        load_text(tmp_path, text)
    assert only(info.value).code == "check.unknown-field"
    assert isinstance(info.value, PolicyError)


def test_error_count_is_capped(tmp_path: Path) -> None:
    conditions = " and ".join(f"m.x{i} > 1" for i in range(150))
    with pytest.raises(PolicyCheckError) as info:
        load_text(tmp_path, when(conditions))
    assert len(info.value.diagnostics) == 100
    assert info.value.rendered.count("error[check.unknown-field]") == 100


def test_check_errors_survive_pickling(tmp_path: Path) -> None:
    import pickle

    with pytest.raises(PolicyCheckError) as info:
        load_text(tmp_path, when("m.nope > 1"))
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is PolicyCheckError
    assert copy.diagnostics == info.value.diagnostics
    assert copy.rendered == info.value.rendered


# ---- loading: includes and files -------------------------------------------------------------


def load_folder(folder: Path, error: type[PolicyError] = PolicyLoadError) -> PolicyError:
    """Load a policy folder that must fail with exactly ``error`` (load.* by default)."""
    with pytest.raises(PolicyError) as info:
        kam_policy.load(folder, schema=SCHEMA)
    assert type(info.value) is error, info.value.rendered
    return info.value


def test_missing_include(tmp_path: Path) -> None:
    source = HEADER + 'include "missing.kp"\n'
    write_policy(tmp_path, {"policy.kp": source})
    diag = only(load_folder(tmp_path))
    assert diag.code == "load.include-missing"
    assert diag.message == 'included file "missing.kp" does not exist'
    assert diag.span is not None
    assert diag.span.text(source) == 'include "missing.kp"'
    assert diag.span.line == 2


def test_include_of_a_folder_is_missing(tmp_path: Path) -> None:
    write_policy(tmp_path, {"policy.kp": HEADER + 'include "sub"\n', "sub/x.kp": ""})
    assert only(load_folder(tmp_path)).code == "load.include-missing"


def test_include_cycle(tmp_path: Path) -> None:
    files = {"policy.kp": HEADER + 'include "a.kp"\n', "a.kp": 'include "b.kp"\n',
             "b.kp": '# b\ninclude "a.kp"\n'}
    write_policy(tmp_path, files)
    diag = only(load_folder(tmp_path))
    assert diag.code == "load.include-cycle"
    assert diag.message == 'include "a.kp" includes itself (an include cycle)'
    assert diag.span is not None
    assert str(diag.span) == "b.kp:2:1"
    assert diag.span.text(files["b.kp"]) == 'include "a.kp"'


def test_file_including_itself(tmp_path: Path) -> None:
    source = HEADER + 'include "./policy.kp"\n'
    write_policy(tmp_path, {"policy.kp": source})
    diag = only(load_folder(tmp_path))
    assert diag.code == "load.include-cycle"
    assert diag.span is not None
    assert diag.span.text(source) == 'include "./policy.kp"'


def test_diamond_includes_are_read_once(tmp_path: Path) -> None:
    write_policy(tmp_path, {
        "policy.kp": HEADER + 'include "a.kp"\ninclude "b.kp"\n',
        "a.kp": 'include "common.kp"\n', "b.kp": 'include "sub/../common.kp"\n',
        "common.kp": "param shared = 1\n",
    })
    policy = kam_policy.load(tmp_path, schema=SCHEMA)
    assert set(policy.sources) == {"policy.kp", "a.kp", "b.kp", "common.kp"}


def test_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    write_policy(tmp_path, {
        "policy.kp": HEADER + 'include "chapters/one.kp"\n',
        "chapters/one.kp": 'include "two.kp"\n', "chapters/two.kp": "param two = 2\n",
    })
    policy = kam_policy.load(tmp_path, schema=SCHEMA)
    assert policy.params["two"].value == 2
    assert "chapters/two.kp" in policy.sources


@pytest.mark.parametrize(("path", "message", "hint"), [
    ("../outside.kp", 'include "../outside.kp" leaves the policy folder',
     "rule files must stay inside policy/"),
    ("/etc/passwd", 'include "/etc/passwd" is an absolute path',
     "include files by their path relative to the including file"),
    ("C:x.kp", 'include "C:x.kp" is an absolute path',
     "include files by their path relative to the including file"),
    ("sub/../../outside.kp", 'include "sub/../../outside.kp" leaves the policy folder',
     "rule files must stay inside policy/"),
])
def test_include_outside_the_folder(tmp_path: Path, path: str, message: str,
                                    hint: str) -> None:
    folder = tmp_path / "policy"
    source = HEADER + f'include "{path}"\n'
    write_policy(folder, {"policy.kp": source})
    (tmp_path / "outside.kp").write_text("param outside = 1\n")
    diag = only(load_folder(folder))
    assert diag.code == "load.include-outside"
    assert diag.message == message
    assert diag.hint == hint
    assert diag.span is not None
    assert diag.span.text(source) == f'include "{path}"'


def test_include_through_a_symlink_pointing_outside(tmp_path: Path) -> None:
    folder = tmp_path / "policy"
    source = HEADER + 'include "link.kp"\n'
    write_policy(folder, {"policy.kp": source})
    (tmp_path / "outside.kp").write_text("param outside = 1\n")
    os.symlink(tmp_path / "outside.kp", folder / "link.kp")
    diag = only(load_folder(folder))
    assert diag.code == "load.include-outside"
    assert diag.message == 'include "link.kp" leaves the policy folder'
    assert diag.span is not None
    assert diag.span.text(source) == 'include "link.kp"'


def test_include_depth(tmp_path: Path) -> None:
    files = {"policy.kp": HEADER + 'include "f0.kp"\n'}
    files |= {f"f{i}.kp": f'include "f{i + 1}.kp"\n' for i in range(20)}
    files["f20.kp"] = "param deep = 1\n"
    write_policy(tmp_path, files)
    diag = only(load_folder(tmp_path))
    assert diag.code == "load.include-depth"
    assert diag.message == "includes nest deeper than 16"
    assert str(diag.span) == "f15.kp:1:1"
    assert diag.span is not None
    assert diag.span.text(files["f15.kp"]) == 'include "f16.kp"'


def test_too_many_files(tmp_path: Path) -> None:
    count = 256  # with policy.kp: one more than allowed
    source = HEADER + "".join(f'include "f{i}.kp"\n' for i in range(count))
    write_policy(tmp_path, {"policy.kp": source} | {f"f{i}.kp": "" for i in range(count)})
    diag = only(load_folder(tmp_path))
    assert diag.code == "load.too-many-files"
    assert diag.message == "a policy has at most 256 files"
    assert diag.span is not None
    assert diag.span.text(source) == f'include "f{count - 1}.kp"'


def test_policy_not_found(tmp_path: Path) -> None:
    error = load_folder(tmp_path)
    assert isinstance(error, PolicyError)  # PolicyLoadError is one
    diag = only(error)
    assert diag.code == "load.not-found"
    assert diag.message == f"no policy file at {tmp_path / 'policy.kp'}"
    assert diag.hint == "a policy folder holds policy.kp"


def test_entry_file_given_directly(tmp_path: Path) -> None:
    write_policy(tmp_path, {"main.kp": HEADER + "param p = 1\n"})
    assert kam_policy.load(tmp_path / "main.kp", schema=SCHEMA).params["p"].value == 1


def test_entry_file_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "policy.kp").write_bytes(HEADER.encode() + b'param p = "\xff"\n')
    diag = only(load_folder(tmp_path))
    assert diag.code == "load.encoding"
    assert diag.message == f"policy.kp is not UTF-8 text (byte {len(HEADER) + 11})"
    assert diag.span is None


def test_included_file_not_utf8(tmp_path: Path) -> None:
    source = HEADER + 'include "a.kp"\n'
    write_policy(tmp_path, {"policy.kp": source})
    (tmp_path / "a.kp").write_bytes(b"# \xfe\n")
    diag = only(load_folder(tmp_path))
    assert diag.code == "load.encoding"
    assert diag.message == "a.kp is not UTF-8 text (byte 2)"
    assert diag.span is not None
    assert diag.span.text(source) == 'include "a.kp"'


def test_unreadable_include(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = HEADER + 'include "a.kp"\n'
    write_policy(tmp_path, {"policy.kp": source, "a.kp": "param a = 1\n"})
    read_bytes = pathlib.Path.read_bytes

    def deny(path: pathlib.Path) -> bytes:
        if path.name == "a.kp":
            raise PermissionError(13, "Permission denied")
        return read_bytes(path)

    monkeypatch.setattr(pathlib.Path, "read_bytes", deny)
    diag = only(load_folder(tmp_path))
    assert diag.code == "load.unreadable"
    assert diag.message == "cannot read a.kp: Permission denied"
    assert diag.span is not None
    assert diag.span.text(source) == 'include "a.kp"'


def test_load_and_syntax_errors_together_are_a_load_error(tmp_path: Path) -> None:
    write_policy(tmp_path, {"policy.kp": HEADER + 'include "missing.kp"\ninclude "a.kp"\n',
                            "a.kp": "param = 1\n"})
    error = load_folder(tmp_path)
    assert [(d.code, str(d.span)) for d in error.diagnostics] == [
        ("parse.unexpected-token", "a.kp:1:7"), ("load.include-missing", "policy.kp:2:1")]


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "policy.kp").write_bytes(b"\xef\xbb\xbf" + HEADER.encode() + b"param p = 1\n")
    assert kam_policy.load(tmp_path, schema=SCHEMA).params["p"].value == 1


def test_syntax_errors_in_several_files_are_all_reported(tmp_path: Path) -> None:
    write_policy(tmp_path, {
        "policy.kp": HEADER + 'include "a.kp"\ninclude "b.kp"\n',
        "a.kp": "param = 1\n", "b.kp": "param ok = 1\nparam bad = \n",
    })
    error = load_folder(tmp_path, PolicySyntaxError)
    assert [(d.code, str(d.span)) for d in error.diagnostics] == [
        ("parse.unexpected-token", "a.kp:1:7"), ("parse.unexpected-token", "b.kp:2:11")]
    assert error.rendered.splitlines()[0] == "a.kp:1:7: error[parse.unexpected-token] " \
        "unexpected '='"


# ---- completeness ----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE_TESTS = ("test_parse.py", "test_check.py", "test_tables.py", "test_engine.py",
                  "test_sealed.py", "test_business_time.py", "test_session.py")


def engine_codes() -> set[str]:
    """Every code the engine can raise: the first string given to a diagnostic."""
    pattern = re.compile(r'(?:Diagnostic|error|_fail)\(\s*(?:sources,\s*)?'
                         r'"((?:check|load|parse|params|eval)\.[a-z-]+)"')
    return {code for path in (ROOT / "kam_policy").rglob("*.py")
            for code in pattern.findall(path.read_text("utf-8"))}


def test_every_diagnostic_code_has_a_test() -> None:
    tests = "".join((ROOT / "tests" / name).read_text("utf-8") for name in LANGUAGE_TESTS)
    codes = engine_codes()
    assert len(codes) > 40  # the scan itself works
    assert sorted(code for code in codes if f'"{code}"' not in tests) == []
