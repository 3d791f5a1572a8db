"""explain and why-not on the example company data, in English and Chinese.

Every expectation is worked out here from the rule files and examples/company.json (and the
independent reference implementation for scores): which line a rule or table row is on,
which rules emit a conclusion, which rows give a wanted value, what the facts hold.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from reference_policy import expected_conclusions

import kam_policy
from kam_policy import Policy
from kam_policy.cli import main
from kam_policy.explain import (
    Explanation,
    ProofNode,
    explain,
    render_explanation,
    render_why_not,
    why_not,
)
from kam_policy.explain.conditions import ConditionResult
from kam_policy.facts.load import FactSet, load_facts_file

ROOT = Path(__file__).parent.parent
RULES = ROOT / "kam_policy" / "rules"
COMPANY = ROOT / "examples" / "company.json"
AT_TEXT = "2026-11-27T09:00:00+08:00"
AT = dt.datetime.fromisoformat(AT_TEXT)
FACTS = json.loads(COMPANY.read_text("utf-8"), parse_float=Decimal)
LANGS = ("en", "zh")


# ---- what the rule files and facts say, worked out independently ------------------------------


def source_lines(file: str) -> list[str]:
    return (RULES / file).read_text("utf-8").splitlines()


def rule_location(rule_id: str) -> tuple[str, int]:
    """The file and line of ``rule <id> ...``."""
    pattern = re.compile(rf"^rule {re.escape(rule_id)}\s")
    found = [(path.name, n) for path in sorted(RULES.glob("*.kp"))
             for n, line in enumerate(source_lines(path.name), start=1) if pattern.match(line)]
    assert len(found) == 1, (rule_id, found)
    return found[0]


def rules_emitting(name: str) -> list[str]:
    """The ids of the rules whose body emits ``name``."""
    ids = []
    for path in sorted(RULES.glob("*.kp")):
        for block in re.split(r"(?m)^(?=rule )", path.read_text("utf-8")):
            header = re.match(r"rule (\S+)", block)
            if header and re.search(rf"\bemit {re.escape(name)}\(", block):
                ids.append(header.group(1))
    return ids


def rule_block(rule_id: str) -> str:
    """The text of one rule, from ``rule <id>`` to the next rule."""
    file, line = rule_location(rule_id)
    lines = source_lines(file)[line - 1:]
    end = next((n for n, text in enumerate(lines[1:], 1) if text.startswith("rule ")), len(lines))
    return "\n".join(lines[:end])


def line_in_rule(rule_id: str, text: str) -> int:
    """The line of the one line of a rule that holds ``text``."""
    _, start = rule_location(rule_id)
    found = [start + n for n, line in enumerate(rule_block(rule_id).splitlines()) if text in line]
    assert len(found) == 1, (rule_id, text, found)
    return found[0]


def table_rows(file: str, table: str) -> list[tuple[int, list[str]]]:
    """(line, cells) of each row of a decision table, in order."""
    lines = source_lines(file)
    start = next(n for n, line in enumerate(lines) if line.startswith(f"table {table} "))
    rows = []
    for n in range(start + 1, len(lines)):
        text = lines[n].strip()
        if text == "}":
            break
        if text.startswith("|"):
            rows.append((n + 1, [cell.strip() for cell in text.strip("|").split("|")]))
    return rows


def line_with(file: str, text: str) -> int:
    found = [n for n, line in enumerate(source_lines(file), start=1) if text in line]
    assert len(found) == 1, (file, text, found)
    return found[0]


def squash(text: str) -> str:
    return " ".join(text.split())


def points_at(file: str, line: int, text: str) -> bool:
    """Whether the source from ``file:line`` on starts the condition ``text`` on that line."""
    lines = source_lines(file)
    return squash(text) in squash(" ".join(lines[line - 1:line + 5])) and \
        squash(text).split()[0] in lines[line - 1]


def record(key: str, record_id: str) -> dict[str, Any]:
    return next(r for r in FACTS[key] if r["id"] == record_id)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return kam_policy.load()


@pytest.fixture(scope="module")
def facts(policy: Policy) -> FactSet:
    return load_facts_file(COMPANY, policy.schema)


@pytest.fixture(scope="module")
def everything(policy: Policy, facts: FactSet) -> Explanation:
    return explain(policy, facts, AT)


@pytest.fixture(scope="module")
def reference() -> list[dict[str, Any]]:
    return expected_conclusions(FACTS, AT)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def walk(nodes: tuple[ProofNode, ...]) -> Iterator[ProofNode]:
    for node in nodes:
        yield node
        yield from walk(node.premises)


def leaves(conditions: tuple[ConditionResult, ...]) -> Iterator[ConditionResult]:
    for condition in conditions:
        yield condition
        yield from leaves(condition.parts)


# ---- explain: a bonus followed down to the table row -------------------------------------------


def test_a_bonus_is_explained_down_to_the_grade_and_the_table_row(
        policy: Policy, facts: FactSet, reference: list[dict[str, Any]]) -> None:
    explanation = explain(policy, facts, AT, subject=("appraisal", "APR0073"))
    graded = next(c for c in reference if c["name"] == "grade"
                  and c["subject"]["id"] == "APR0073")["values"]
    assert graded["grade"] == "A"
    target = record("staff", record("appraisals", "APR0073")["staff_id"])["monthly_target_bonus"]

    bonus = next(p for p in explanation.proofs if p.conclusion.name == "bonus")
    assert (bonus.rule_id, bonus.title) == ("E.bonus", "月度奖金 Monthly bonus from the grade")
    assert (bonus.file, bonus.line) == rule_location("E.bonus")
    assert dict(bonus.conclusion.values) == {
        "period": "2025-12", "multiplier": "1.20", "amount": f"{Decimal('1.2') * target:.2f}"}
    assert bonus.bindings == {"multiplier": "1.2", "target_bonus": str(target)}

    [grade] = bonus.premises
    assert grade.conclusion.name == "grade"
    assert dict(grade.conclusion.values) == graded
    assert (grade.rule_id, grade.file, grade.line) == ("D.grade", *rule_location("D.grade"))
    assert not grade.premises

    [hit] = grade.tables
    row_a = [n for n, (line, cells) in enumerate(table_rows("appraisal.kp", "grade_table"), 1)
             if cells[-1] == "A"]
    assert (hit.binding, hit.value, hit.table, hit.row) == ("grade", "A", "grade_table", *row_a)
    assert (hit.file, hit.line) == ("appraisal.kp", line_with("appraisal.kp", "| >= grade_min.A"))
    [cell] = hit.conditions
    assert cell.holds
    assert (cell.left, cell.right) == (graded["score"], "85")


def test_the_bonus_proof_reads_as_sentences_in_english(policy: Policy, facts: FactSet) -> None:
    text = render_explanation(explain(policy, facts, AT, subject=("appraisal", "APR0073")), "en")
    file, line = rule_location("E.bonus")
    grade_file, grade_line = rule_location("D.grade")
    row = line_with("appraisal.kp", "| >= grade_min.A")
    kind = line_in_rule("E.bonus", "for g in grade where g.kind == monthly")
    missing = line_in_rule("D.grade", "when len(missing_parts(a)) == 0")
    block = text.split("\n\n")[0].splitlines()
    assert block == [
        'bonus(period="2025-12", multiplier="1.20", amount="5280.00") — about appraisal:APR0073',
        f"  ← rule E.bonus “月度奖金 Monthly bonus from the grade” ({file}:{line})",
        "    because: grade A: 1.2 x target bonus 4400",
        f"    ✓ g.kind (monthly) is monthly  [{file}:{kind}]",
        '    ← grade(kind="monthly", period="2025-12", grade="A", score="88.47") '
        "(about appraisal:APR0073)",
        "      ← rule D.grade “绩效等级 Grade of a complete appraisal” "
        f"({grade_file}:{grade_line})",
        "        because: total 88.47, satisfaction 89: grade A",
        f"        ✓ len(missing_parts(a)) (0) is 0  [{grade_file}:{missing}]",
        f"        grade = A ← table grade_table row 2 (appraisal.kp:{row})",
        "          ✓ total (88.47) is at least grade_min.A (85)",
    ]


def test_the_bonus_proof_reads_as_sentences_in_chinese(policy: Policy, facts: FactSet) -> None:
    text = render_explanation(explain(policy, facts, AT, subject=("appraisal", "APR0073")), "zh")
    file, line = rule_location("E.bonus")
    row = line_with("appraisal.kp", "| >= grade_min.A")
    assert text.startswith('bonus(period="2025-12", multiplier="1.20", amount="5280.00") '
                           "— 对象 appraisal:APR0073\n"
                           "  ← 规则 E.bonus “月度奖金 Monthly bonus from the grade” "
                           f"({file}:{line})\n"
                           "    原因: grade A: 1.2 x target bonus 4400\n")
    assert "    ✓ g.kind (monthly) 为 monthly  [rewards.kp:" in text
    assert f"        grade = A ← 决策表 grade_table 第 2 行 (appraisal.kp:{row})\n" in text
    assert "          ✓ total (88.47) 不低于 grade_min.A (85)" in text


@pytest.mark.parametrize(("lang", "phrases"), [
    ("en", ["— about complaint:CP005", "← rule C.escalation.department_head", "because:",
            "✓ target (department_head) is department_head", "table escalation_target row 2",
            "✓ resolution_late (true) is true"]),
    ("zh", ["— 对象 complaint:CP005", "← 规则 C.escalation.department_head", "原因:",
            "✓ target (department_head) 为 department_head", "决策表 escalation_target 第 2 行",
            "✓ resolution_late (true) 为 true"]),
])
def test_an_escalation_is_explained_with_its_table_row(
        policy: Policy, facts: FactSet, lang: str, phrases: list[str]) -> None:
    explanation = explain(policy, facts, AT, subject=("complaint", "CP005"))
    assert [(p.conclusion.name, dict(p.conclusion.values)) for p in explanation.proofs] == \
        [("escalation", {"level": 2, "to": "department_head"})]
    text = render_explanation(explanation, lang)
    for phrase in phrases:
        assert phrase in text
    file, line = rule_location("C.escalation.department_head")
    row = next(n for n, cells in table_rows(file, "escalation_target") if cells[1] == "true")
    assert f"{file}:{line}" in text and f"{file}:{row}" in text
    assert f"[{file}:{line_with(file, 'when target == department_head')}]" in text


def test_every_proof_of_the_company_points_at_its_rule_and_conditions(
        everything: Explanation, policy: Policy) -> None:
    assert len(everything.proofs) == len(everything.decision.conclusions) > 700
    assert [p.conclusion for p in everything.proofs] == list(everything.decision.conclusions)
    titles = {rule.id: rule.title for rule in policy.rules}
    for node in walk(everything.proofs):
        assert (node.file, node.line) == rule_location(node.rule_id)
        assert node.title == titles[node.rule_id]
        assert (node.conclusion.file, node.conclusion.line) == (node.file, node.line)
        assert node.conclusion.rule_id == node.rule_id
        assert all(condition.holds for condition in node.conditions), node.rule_id
        for condition in leaves(node.conditions):  # with the parts of and/or
            assert points_at(condition.file, condition.line, condition.text), condition
        for hit in node.tables:
            rows = table_rows(hit.file, hit.table)
            assert rows[hit.row - 1][0] == hit.line
            for condition in hit.conditions:
                assert condition.holds and condition.line == hit.line
                assert squash(condition.text) in squash(source_lines(hit.file)[hit.line - 1])


def test_derived_conclusions_are_followed_to_the_conclusions_they_came_from(
        everything: Explanation) -> None:
    bonuses = [p for p in everything.proofs if p.conclusion.name == "bonus"]
    assert bonuses
    for bonus in bonuses:
        [grade] = bonus.premises
        assert grade.conclusion.name == "grade"
        assert grade.conclusion.subject == bonus.conclusion.subject
        assert grade.conclusion.values["period"] == bonus.conclusion.values["period"]
        assert grade.tables and grade.tables[0].value == grade.conclusion.values["grade"]
    promotions = [p for p in everything.proofs if p.conclusion.name == "promotion_candidate"]
    assert promotions and all(p.premises[0].conclusion.name == "grade" for p in promotions)


def test_facts_in_bindings_are_named_by_fact_type_and_identity(
        load: Callable[..., Policy], policy: Policy, facts: FactSet) -> None:
    # A SalesResult has no id field: only the schema's unique key (staff_id, period) names it.
    [sale] = [r for r in FACTS["sales_results"]
              if (r["staff_id"], r["period"]) == ("S005", "2026-05")]
    custom = load("conclusion sold() about Staff\n"
                  'rule r { for s in Staff where s.id == "S005" '
                  'let results = list(x for x in SalesResult where x.staff_id == s.id '
                  'and x.period == "2026-05") when len(results) == 1 '
                  'emit sold() because "{results}" }\n', policy.schema)
    [proof] = explain(custom, facts, AT).proofs
    want = f"[SalesResult {sale['staff_id']}/{sale['period']}]"
    assert proof.bindings == {"results": want}
    assert proof.reason == want  # as the reason text shows the same value
    assert proof.to_dict()["bindings"] == {"results": want}


ARTEFACTS = re.compile(r"Decimal\(|datetime\.|object at 0x|\bNone\b|<[a-z_.]+|Level\.|Role\.")


@pytest.mark.parametrize("lang", LANGS)
def test_the_whole_company_explanation_is_plain_text(everything: Explanation, lang: str) -> None:
    text = render_explanation(everything, lang)
    assert not ARTEFACTS.search(text), ARTEFACTS.search(text)
    # Every rule line and condition line ends with its file:line; the cells of a table row
    # (indented under the row's line, which has the file:line) are the only exception.
    located = re.compile(r" \(\w+\.kp:\d+\)$|  \[\w+\.kp:\d+\]$")
    row = re.compile(r"← (table|决策表) \w+ .*\(\w+\.kp:\d+\)$")
    cell_indent = None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if row.search(body):
            cell_indent = indent + 2
        elif body.startswith("✓") and indent == cell_indent:
            continue
        elif body.startswith(("✓", "← rule ", "← 规则 ")):
            assert located.search(line), line
            cell_indent = None
    if lang == "zh":
        english = (" is at least ", " is at most ", " exceeds ", " is below ", " is one of ",
                   "— about ", "← rule ", " table ", " row ")
        for line in text.splitlines():
            if not line.strip().startswith("原因:"):  # because-texts are the policy's own words
                assert not any(word in line for word in english), line


def test_explain_for_a_subject_without_conclusions(policy: Policy, facts: FactSet) -> None:
    explanation = explain(policy, facts, AT, subject=("staff", "S999"))
    assert explanation.proofs == ()
    assert render_explanation(explanation, "en") == "No conclusions."
    assert render_explanation(explanation, "zh") == "没有结论。"


# ---- why-not ----------------------------------------------------------------------------------


def test_why_not_promotion_lists_each_attempt_with_the_unmet_condition(
        policy: Policy, facts: FactSet) -> None:
    answer, decision = why_not(policy, facts, AT, "promotion_candidate", ("staff", "S011"))
    assert answer.present == ()
    assert [r.rule_id for r in answer.rules] == rules_emitting("promotion_candidate")
    [rule] = answer.rules
    assert (rule.file, rule.line) == rule_location("E.promotion_candidate")
    annual = [a["id"] for a in FACTS["appraisals"]
              if a["staff_id"] == "S011" and a["kind"] == "annual"]
    assert [a.item.rsplit(" of ", 1)[1] for a in rule.attempts] == \
        [f"appraisal:{i}" for i in annual]
    role_since = dt.date.fromisoformat(record("staff", "S011")["role_since"])
    days = (AT.date() - role_since).days
    assert days == 364
    time_line = line_with("rewards.kp", "when now - staff.role_since >= promotion_min")
    for attempt in rule.attempts:
        last = attempt.unmet[-1]
        assert (last.op, last.left, last.right, last.holds) == (">=", f"{days}d", "365d", False)
        assert (last.file, last.line) == ("rewards.kp", time_line)
    s_grade = rule.attempts[-1]
    assert "grade=S" in s_grade.item and len(s_grade.unmet) == 1  # time in role is all it lacks
    assert decision.named("promotion_candidate")


@pytest.mark.parametrize(("lang", "lines"), [
    ("en", ["Why not promotion_candidate for staff:S011?",
            "  ✗ needs now - staff.role_since ≥ promotion_min_time_in_role (365d), has 364d  "
            "[rewards.kp:{time}]"]),
    ("zh", ["为什么 staff:S011 没有 promotion_candidate？",
            "  ✗ 需要 now - staff.role_since ≥ promotion_min_time_in_role (365d)，实际为 364d  "
            "[rewards.kp:{time}]"]),
])
def test_why_not_promotion_reads_as_sentences(
        policy: Policy, facts: FactSet, lang: str, lines: list[str]) -> None:
    answer, _ = why_not(policy, facts, AT, "promotion_candidate", ("staff", "S011"))
    text = render_why_not(answer, lang).splitlines()
    time_line = line_with("rewards.kp", "when now - staff.role_since >= promotion_min")
    file, line = rule_location("E.promotion_candidate")
    assert text[0] == lines[0]
    assert text.count(lines[1].format(time=time_line)) == 2  # both annual grades lack it
    heads = [t for t in text if t.startswith("E.promotion_candidate")]
    assert len(heads) == 2 and all(f"{file}:{line}" in h for h in heads)
    assert "APR0013" in heads[0] and "APR0014" in heads[1]
    for t in text[1:]:
        if t.startswith("  ✗"):
            assert re.search(r"\[rewards\.kp:\d+\]$", t), t


def test_why_not_escalation_lists_every_rule_and_the_table_rows_that_would_give_it(
        policy: Policy, facts: FactSet) -> None:
    answer, decision = why_not(policy, facts, AT, "escalation", ("complaint", "CP001"))
    assert not any(c.name == "escalation" for c in decision.about("complaint", "CP001"))
    assert [r.rule_id for r in answer.rules] == rules_emitting("escalation")
    rows = table_rows("complaints.kp", "escalation_target")
    complaint = record("complaints", "CP001")
    for rule in answer.rules:
        wanted = re.findall(r"when target == (\w+)", rule_block(rule.rule_id))[0]
        [attempt] = rule.attempts
        assert attempt.item == "complaint:CP001"
        [unmet] = attempt.unmet
        assert (unmet.op, unmet.right, unmet.left) == ("==", wanted, "null")
        assert (unmet.file, unmet.line) == ("complaints.kp",
                                            line_with("complaints.kp", f"when target == {wanted}"))
        expected = [(n, line) for n, (line, cells) in enumerate(rows, 1) if cells[-1] == wanted]
        assert [(m.row, m.line) for m in attempt.rows] == expected
        for miss in attempt.rows:
            assert miss.wanted == wanted and miss.table == "escalation_target"
            assert miss.unmet and not any(u.holds for u in miss.unmet)
            for unmet_cell in miss.unmet:
                if unmet_cell.left_text == "reopened":
                    assert unmet_cell.left == str(complaint["reopened_count"])


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", ["C.escalation.department_head \"二级升级 Level 2: to the department head\" "
            "(complaints.kp:{rule}) did not fire for complaint:CP001:",
            "  ✗ needs target = department_head, has null  [complaints.kp:{when}]",
            "    table escalation_target gives department_head in row 3 (complaints.kp:{row}), "
            "which",
            "      ✗ needs reopened ≥ department_head_reopened (1), has 0"]),
    ("zh", ["C.escalation.department_head “二级升级 Level 2: to the department head”"
            "（complaints.kp:{rule}）对 complaint:CP001 未触发：",
            "    决策表 escalation_target 在第 3 行（complaints.kp:{row}）"
            "给出 department_head，其中",
            "      ✗ 需要 reopened ≥ department_head_reopened (1)，实际为 0"]),
])
def test_why_not_escalation_reads_as_sentences(
        policy: Policy, facts: FactSet, lang: str, expected: list[str]) -> None:
    answer, _ = why_not(policy, facts, AT, "escalation", ("complaint", "CP001"))
    text = render_why_not(answer, lang).splitlines()
    _, rule = rule_location("C.escalation.department_head")
    when = line_with("complaints.kp", "when target == department_head")
    row = table_rows("complaints.kp", "escalation_target")[2][0]
    for line in expected:
        assert line.format(rule=rule, when=when, row=row) in text


def test_why_not_names_what_the_subject_already_has(policy: Policy, facts: FactSet) -> None:
    answer, _ = why_not(policy, facts, AT, "escalation", ("complaint", "CP005"))
    assert [dict(c.values) for c in answer.present] == [{"level": 2, "to": "department_head"}]
    en = render_why_not(answer, "en").splitlines()
    zh = render_why_not(answer, "zh").splitlines()
    assert en[1] == 'complaint:CP005 has escalation(level=2, to="department_head").'
    assert zh[1] == 'complaint:CP005 已有结论 escalation(level=2, to="department_head")。'


def test_why_not_says_which_rule_fired_for_a_present_conclusion(
        policy: Policy, facts: FactSet) -> None:
    answer, _ = why_not(policy, facts, AT, "escalation", ("complaint", "CP005"))
    fired = {r.rule_id: r.fired for r in answer.rules}
    assert fired == {"C.escalation.manager": 0, "C.escalation.department_head": 1,
                     "C.escalation.executive": 0}
    _, line = rule_location("C.escalation.department_head")
    en = render_why_not(answer, "en").splitlines()
    zh = render_why_not(answer, "zh").splitlines()
    assert f"C.escalation.department_head (complaints.kp:{line}) fired for complaint:CP005." in en
    assert f"C.escalation.department_head（complaints.kp:{line}）已对 complaint:CP005 触发。" in zh
    assert not any("did not consider" in t for t in en)


def test_why_not_in_chinese_translates_true_false_and_null(
        policy: Policy, facts: FactSet) -> None:
    answer, _ = why_not(policy, facts, AT, "escalation", ("complaint", "CP001"))
    text = render_why_not(answer, "zh")
    assert "实际为 null" not in text and "实际为 false" not in text


def test_why_not_filtered_and_unknown_cases(policy: Policy, facts: FactSet) -> None:
    answer, _ = why_not(policy, facts, AT, "bonus", ("appraisal", "APR0001"))
    assert record("appraisals", "APR0001")["kind"] == "annual"
    [rule] = answer.rules
    assert (rule.attempts, rule.filtered) == ((), 1)
    assert render_why_not(answer, "en").splitlines()[1] == (
        f"E.bonus (rewards.kp:{rule_location('E.bonus')[1]}) considered nothing for "
        "appraisal:APR0001: 1 item(s) of grade were filtered out by its 'for ... where'.")
    assert "1 条记录被其 “for ... where” 条件排除" in render_why_not(answer, "zh")

    nothing, _ = why_not(policy, facts, AT, "no_such_thing", ("staff", "S001"))
    assert nothing.rules == () and nothing.present == ()
    assert render_why_not(nothing, "en").splitlines()[1] == \
        "No rule of the policy emits 'no_such_thing'."
    assert render_why_not(nothing, "zh").splitlines()[1] == "制度中没有规则产生 “no_such_thing”。"


def test_why_not_agrees_with_the_reference_about_who_lacks_a_promotion(
        policy: Policy, facts: FactSet, reference: list[dict[str, Any]]) -> None:
    promoted = {c["subject"]["id"] for c in reference if c["name"] == "promotion_candidate"}
    for person in FACTS["staff"][:20]:
        answer, _ = why_not(policy, facts, AT, "promotion_candidate", ("staff", person["id"]))
        assert bool(answer.present) == (person["id"] in promoted), person["id"]


# ---- the command line: JSON shapes and exit codes ---------------------------------------------


def test_explain_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str],
                                               policy: Policy, facts: FactSet) -> None:
    code, out, err = run(capsys, "explain", "--facts", str(COMPANY), "--at", AT_TEXT,
                         "--subject", "appraisal:APR0073", "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == {"decision_id", "at", "policy", "explanations"}
    assert data["at"] == AT_TEXT
    assert data["policy"] == {"name": policy.name, "version": policy.version,
                              "sha256": policy.digest}
    bonus = next(e for e in data["explanations"] if e["conclusion"]["name"] == "bonus")
    assert set(bonus) == {"conclusion", "rule", "reason", "conditions", "bindings", "premises",
                          "tables"}
    file, line = rule_location("E.bonus")
    assert bonus["rule"] == {"id": "E.bonus", "title": "月度奖金 Monthly bonus from the grade",
                             "source": {"file": file, "line": line}}
    assert bonus["conditions"] == [{
        "condition": "g.kind == monthly", "op": "==", "left": "monthly", "right": "monthly",
        "holds": True, "source": {"file": file,
                                  "line": line_in_rule("E.bonus", "where g.kind")}}]
    [grade] = bonus["premises"]
    [table] = grade["tables"]
    assert {k: table[k] for k in ("binding", "value", "table", "row")} == \
        {"binding": "grade", "value": "A", "table": "grade_table", "row": 2}
    assert table["conditions"][0]["condition"] == ">= grade_min.A"
    api = explain(policy, facts, AT, subject=("appraisal", "APR0073")).to_dict()
    assert {**data, "decision_id": None} == {**api, "decision_id": None}


def test_why_not_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "why-not", "escalation", "complaint:CP001", "--facts",
                         str(COMPANY), "--at", AT_TEXT, "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == {"name", "subject", "present", "rules"}
    assert (data["name"], data["subject"], data["present"]) == \
        ("escalation", {"type": "complaint", "id": "CP001"}, [])
    assert [r["rule"]["id"] for r in data["rules"]] == rules_emitting("escalation")
    head = data["rules"][1]
    assert set(head) == {"rule", "goes_through", "filtered_out", "fired", "attempts"}
    assert (head["goes_through"], head["filtered_out"], head["fired"]) == ("Complaint", 0, 0)
    [attempt] = head["attempts"]
    assert set(attempt) == {"item", "unmet", "table_rows"}
    assert attempt["unmet"][0]["condition"] == "target == department_head"
    assert attempt["unmet"][0]["holds"] is False
    assert [r["row"] for r in attempt["table_rows"]] == [2, 3]
    assert set(attempt["table_rows"][0]) == {"table", "binding", "wanted", "row", "source",
                                             "unmet"}
    assert attempt["table_rows"][1]["unmet"][0]["left"] == "0"


@pytest.mark.parametrize("lang", LANGS)
def test_the_cli_prints_what_the_api_renders(capsys: pytest.CaptureFixture[str], policy: Policy,
                                             facts: FactSet, lang: str) -> None:
    code, out, _ = run(capsys, "why-not", "promotion_candidate", "staff:S011", "--facts",
                       str(COMPANY), "--at", AT_TEXT, "--lang", lang)
    answer, _ = why_not(policy, facts, AT, "promotion_candidate", ("staff", "S011"))
    assert code == 0 and out == render_why_not(answer, lang) + "\n"
    code, out, _ = run(capsys, "explain", "--facts", str(COMPANY), "--at", AT_TEXT,
                       "--subject", "complaint:CP005", "--lang", lang)
    expected = render_explanation(explain(policy, facts, AT, subject=("complaint", "CP005")),
                                  lang)
    assert code == 0 and out == expected + "\n"


@pytest.mark.parametrize(("env", "first"), [
    ({"LANG": "zh_CN.UTF-8"}, "为什么 staff:S011 没有 promotion_candidate？"),
    ({"LANG": "en_US.UTF-8"}, "Why not promotion_candidate for staff:S011?"),
    ({"LANG": "C", "LC_ALL": "zh_TW.UTF-8"}, "为什么 staff:S011 没有 promotion_candidate？"),
])
def test_the_language_follows_the_locale(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                         first: str) -> None:
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    code, out, _ = run(capsys, "why-not", "promotion_candidate", "staff:S011", "--facts",
                       str(COMPANY), "--at", AT_TEXT)
    assert code == 0 and out.splitlines()[0] == first


@pytest.mark.parametrize("argv", [
    ["explain", "--subject", "complaint-CP005"],
    ["explain", "--subject", "complaint:"],
    ["explain", "--subject", ":CP005"],
    ["why-not", "escalation", "CP005"],
    ["why-not", "escalation", "complaint:"],
])
def test_a_badly_written_subject_exits_2(capsys: pytest.CaptureFixture[str],
                                         argv: list[str]) -> None:
    code, out, err = run(capsys, *argv, "--facts", str(COMPANY), "--at", AT_TEXT)
    assert code == 2
    assert out == ""
    assert "must be written TYPE:ID, e.g. complaint:C3" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--at", "2026-11-27T09:00:00"], "has no time zone"),
    (["--at", "yesterday"], "is not an ISO 8601 datetime"),
    (["--facts", "no-such-file.json"], "cannot read facts file"),
])
def test_bad_input_to_explain_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                                      message: str) -> None:
    args = {"--facts": str(COMPANY), "--at": AT_TEXT}
    args.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    code, out, err = run(capsys, "explain", *[x for kv in args.items() for x in kv])
    assert (code, out) == (2, "")
    assert message in err


def test_an_unknown_language_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["explain", "--facts", str(COMPANY), "--lang", "fr"])
    assert exit_.value.code == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_the_installed_command_exits_2_on_a_bad_subject() -> None:
    done = subprocess.run([sys.executable, "-m", "kam_policy", "why-not", "escalation", "CP005",
                           "--facts", str(COMPANY), "--at", AT_TEXT],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert "TYPE:ID" in done.stderr
