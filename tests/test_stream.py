"""``kam-policy decide --stream`` and ``kam_policy.stream``: JSON Lines of facts objects, one
decision per line, in bounded memory.

The conclusions of a stream are checked against ``Policy.decide`` on the same facts in one
piece; invalid lines against the loader's messages with their line numbers; memory by
tracemalloc at 1,100 and 11,000 lines (never by time; benchmarks/stream.py measures
the peak RSS at 100,000 and 1,000,000 lines).
"""

from __future__ import annotations

import io
import json
import random
import sys
import tracemalloc
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import policy_helpers as helpers
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the benchmarks package

from benchmarks import data
from kam_policy import Decision, Policy, PolicyEvalError, load
from kam_policy.cli import main
from kam_policy.stream import (
    LineDecision,
    LineReader,
    LineValidator,
    Progress,
    RejectedLine,
    ValidLine,
    decide_lines,
)

AT = "2026-11-27T09:00:00+08:00"
NOW = data.NOW

Record = dict[str, Any]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load()


def jsonl(path: Path, lines: Iterable[Any]) -> Path:
    """Write each item as one JSON line (texts as they are: for broken lines)."""
    with path.open("w", encoding="utf-8") as file:
        for item in lines:
            file.write((item if isinstance(item, str) else json.dumps(item, default=str)) + "\n")
    return path


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value, default=str), "utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def output_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def canonical(conclusions: Iterable[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(c, sort_keys=True, ensure_ascii=False) for c in conclusions)


def streamed(records: list[dict[str, Any]]) -> list[str]:
    return canonical(c for record in records for c in record["conclusions"])


def decided(decision: Decision) -> list[str]:
    return canonical(c.to_dict() for c in decision.conclusions)


# ---- data ----------------------------------------------------------------------------------


def staff_lines(count: int) -> list[Record]:
    """Self-contained lines: a staff member, two monthly appraisals and two sales results, so
    that rules joining several records of one line (two D grades in a row, two low months)
    have something to join."""
    rng = random.Random(7)
    lines = []
    for i in range(count):
        sid = f"S{i}"
        months = [data.appraisal(f"A{i}-{m}", sid, rng) | {"period": f"2026-0{m}"} for m in (8, 9)]
        if i % 3 == 0:  # all scores 50: grade D in both months
            for appraisal in months:
                appraisal["scores"] = data.threshold_scores(50)
        sales = [{"staff_id": sid, "period": f"2026-0{m}", "target": 1000,
                  "actual": rng.choice((400, 700, 900))} for m in (8, 9)]
        lines.append({"staff": [data.staff_record(sid, rng.choice(data.ROLES), None, rng)],
                      "appraisals": months, "sales_results": sales})
    return lines


def merged(lines: Iterable[Record]) -> dict[str, list[Record]]:
    """The records of many lines as one facts object."""
    facts: dict[str, list[Record]] = {}
    for line in lines:
        for key, records in line.items():
            facts.setdefault(key, []).extend(records)
    return facts


def complaint_data() -> tuple[dict[str, list[Record]], list[Record]]:
    """Base facts (staff under managers, clients; a third of the clients long without contact)
    and complaints, at most one per client (so that no rule joins two lines)."""
    facts = data.w3_facts(400)
    clients = facts["clients"]
    for client in clients[::3]:
        client["last_contact_at"] = (NOW - timedelta(days=45)).isoformat()
    seen: set[str] = set()
    complaints = []
    for complaint in facts["complaints"]:
        if complaint["client_id"] not in seen:
            seen.add(complaint["client_id"])
            complaints.append(complaint)
    return {"staff": facts["staff"], "clients": clients}, complaints


# ---- the same conclusions as decide --------------------------------------------------------


def test_self_contained_lines_conclude_what_decide_concludes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: Policy
) -> None:
    lines = staff_lines(60)
    path = jsonl(tmp_path / "staff.jsonl", lines)
    code, out, err = run(capsys, "decide", "--stream", str(path), "--at", AT)
    assert code == 0, err
    records = output_lines(out)
    assert [r["line"] for r in records] == list(range(1, 61))
    whole = policy.decide(merged(lines), NOW)
    assert streamed(records) == decided(whole)
    names = {c.name for c in whole.conclusions}
    assert {"grade", "bonus", "improvement_plan", "supervisor_review"} <= names
    # each line holds the conclusions about its own records
    for record, line in zip(records, lines, strict=True):
        ids = {line["staff"][0]["id"], *(a["id"] for a in line["appraisals"])}
        assert {c["subject"]["id"].split("/")[0] for c in record["conclusions"]} <= ids


def test_lines_with_base_facts_conclude_what_decide_concludes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: Policy
) -> None:
    base, complaints = complaint_data()
    base_path = write_json(tmp_path / "base.json", base)
    path = jsonl(tmp_path / "complaints.jsonl", ({"complaints": [c]} for c in complaints))
    code, out, err = run(capsys, "decide", "--stream", str(path), "--facts", str(base_path),
                         "--at", AT)
    assert code == 0, err
    records = output_lines(out)
    assert len(records) == len(complaints)
    whole = policy.decide(base | {"complaints": complaints}, NOW)
    own = decided(policy.decide(base, NOW))
    assert own, "the base facts must conclude something of their own for this test"
    expected = sorted(set(decided(whole)) - set(own))
    assert streamed(records) == expected
    # escalations name managers: the base records a line refers to come with it, transitively
    assert any(c["name"] == "escalation" and c["values"]["to"] == "department_head"
               for r in records for c in r["conclusions"])
    assert f"the base facts draw {len(own)} conclusions on their own" in err


def test_api_yields_one_result_per_line_in_order(policy: Policy) -> None:
    base, complaints = complaint_data()
    text = [json.dumps({"complaints": [c]}, default=str) for c in complaints[:30]]
    text.insert(5, "")  # blank: passed over, but counted in the numbering
    results = list(decide_lines(policy, text, NOW, base=policy.validate(base)))
    assert [r.line for r in results] == [*range(1, 6), *range(7, 32)]
    assert all(isinstance(r, LineDecision) and r.count == 1 for r in results)


def test_batches_are_bounded_and_numbered() -> None:
    reader = LineReader([b"\xef\xbb\xbf{}\n", b"\n", b"  \n", *[b"{}\n"] * 10], batch_lines=4)
    batches = list(reader.batches())
    assert [[n for n, _ in batch] for batch in batches] == [[1, 4, 5, 6], [7, 8, 9, 10],
                                                             [11, 12, 13]]
    assert batches[0][0][1] == b"{}\n"  # the byte order mark is gone
    assert (reader.lines_read, reader.bytes_read) == (13, 3 + 3 + 1 + 3 + 30)


def test_a_batch_validates_like_lines_one_by_one(policy: Policy) -> None:
    """The fast path (one pydantic call per batch) keeps the good lines of a batch with bad
    ones, and gives the same fact sets as the loader on each line."""
    lines = staff_lines(8)
    lines[2]["appraisals"][1]["scores"]["attitude"]["supervisor"] = 101
    lines[5]["sales_results"][0]["target"] = 0
    batch = [(n, json.dumps(line, default=str)) for n, line in enumerate(lines, 1)]
    results = LineValidator(policy.schema).validate(batch)
    assert [type(r) for r in results] == [ValidLine, ValidLine, RejectedLine, ValidLine,
                                          ValidLine, RejectedLine, ValidLine, ValidLine]
    for result, line in zip(results, lines, strict=True):
        if isinstance(result, ValidLine):
            assert result.facts.to_jsonable() == policy.validate(line).to_jsonable()
            assert result.count == 5


# ---- invalid lines -------------------------------------------------------------------------


def bad_lines() -> list[Any]:
    """Line 1 good; lines 2-7 bad in different ways; line 8 good; line 9 blank; 10 good."""
    good = staff_lines(4)
    wrong_score = staff_lines(5)[4]
    wrong_score["appraisals"][0]["scores"]["performance"]["supervisor"] = 150
    orphan = {"appraisals": [good[1]["appraisals"][0] | {"staff_id": "S9"}]}
    twice = {"staff": [good[2]["staff"][0], good[2]["staff"][0]]}
    return [good[0], '{"staff": [', wrong_score, orphan, [1, 2], twice,
            '{"staff": [], "staff": []}', good[3], "", good[1]]


def test_invalid_lines_are_reported_with_line_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = jsonl(tmp_path / "bad.jsonl", bad_lines())
    out_path = tmp_path / "decisions.jsonl"
    code, out, err = run(capsys, "decide", "--stream", str(path), "--at", AT)
    assert code == 2
    assert [r["line"] for r in output_lines(out)] == [1]  # stopped at the first bad line
    problems = err.splitlines()
    assert problems[0] == f"kam-policy: {path}: invalid facts: 6 invalid lines (6 problems)"
    assert problems[1:7] == [
        "line 2: malformed JSON at column 12: Expecting value",
        "line 3: appraisals[0] (id A4-8): scores.performance.supervisor: "
        "must be between 0 and 100",
        "line 4: appraisals[0] (id A1-8): staff_id: unknown Staff id 'S9'",
        'line 5: must be an object of fact lists, like {"appraisals": [...]}, not a list',
        "line 6: staff[1] (id S2): id: duplicate id 'S2' (first at index 0)",
        "line 7: duplicate key 'staff' in a JSON object",
    ]
    assert "kam-policy: decided 1 line in" in err
    assert "kam-policy: stopped deciding at line 2" in err
    # with --out, the file is complete or not there at all
    code, out, err = run(capsys, "decide", "--stream", str(path), "--at", AT,
                         "--out", str(out_path))
    assert (code, out) == (2, "")
    assert f"nothing was written to {out_path}" in err
    assert not out_path.exists() and list(tmp_path.iterdir()) == [path]


def test_skip_invalid_decides_the_rest_and_counts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = jsonl(tmp_path / "bad.jsonl", bad_lines())
    code, out, err = run(capsys, "decide", "--stream", str(path), "--at", AT, "--skip-invalid")
    assert code == 0
    assert [r["line"] for r in output_lines(out)] == [1, 8, 10]
    assert f"kam-policy: {path}: skipped 6 invalid lines (6 problems):" in err
    assert "line 4: appraisals[0] (id A1-8): staff_id: unknown Staff id 'S9'" in err
    assert "kam-policy: decided 3 lines in" in err
    assert "(15 facts," in err


def test_skipped_problems_shown_are_capped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = jsonl(tmp_path / "bad.jsonl", ["[]"] * 150)
    code, out, err = run(capsys, "decide", "--stream", str(path), "--at", AT, "--skip-invalid")
    assert (code, out) == (0, "")
    assert "skipped 150 invalid lines (150 problems)" in err
    assert "line 100: must be an object" in err and "line 101:" not in err
    assert "... and 50 more" in err


def test_a_line_may_not_repeat_a_base_record(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base, complaints = complaint_data()
    base_path = write_json(tmp_path / "base.json", base)
    line = {"staff": [base["staff"][3]], "complaints": complaints[:1]}
    path = jsonl(tmp_path / "lines.jsonl", [line])
    code, _, err = run(capsys, "decide", "--stream", str(path), "--facts", str(base_path),
                       "--at", AT)
    sid = base["staff"][3]["id"]
    assert code == 2
    assert f"line 1: staff[0] (id {sid}): id: staff '{sid}' is already in the base facts" in err


def test_line_records_refer_to_base_records_and_back(policy: Policy) -> None:
    """A line's own staff member whose manager is a base record; a broken line shape is
    reported alone (its records would otherwise miss their base records)."""
    base = policy.validate({"staff": [helpers.top_manager(), helpers.staff()],
                            "clients": [helpers.client()]})
    late = {"first_response_at": helpers.NOW - timedelta(minutes=1)}
    complaint = helpers.complaint(opened=helpers.NOW - 5 * helpers.H, severity="major", **late)
    lines = [
        {"staff": [helpers.staff("S5")], "complaints": [complaint | {"assigned_to": "S5"}]},
        {"staff": {}, "complaints": [complaint]},
        {"complaints": [complaint]},
    ]
    text = [json.dumps(line, default=str) for line in lines]
    first, broken, third = decide_lines(policy, text, helpers.NOW, base=base)
    assert isinstance(first, LineDecision) and isinstance(third, LineDecision)
    escalation = first.decision.named("escalation")[0]
    assert dict(escalation.values) == {"level": 1, "to": "manager", "manager_id": "M1"}
    assert first.decision.named("escalation") == third.decision.named("escalation")
    assert isinstance(broken, RejectedLine)
    assert [str(issue) for issue in broken.issues] == ["line 2: staff: must be a list, not an "
                                                       "object"]


def test_a_decision_that_fails_names_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "strict"
    folder.mkdir()
    (folder / "policy.kp").write_text(
        'policy "Strict" version "1"\n'
        "table band {\n  hit unique\n  in s: number\n  out b: text\n"
        '  | >= 0 | "low" |\n  | >= 90 | "high" |\n}\n'
        "conclusion banded(b: text) about Training\n"
        "rule R.band { for t in Training emit banded(b: band(t.exam_score)) }\n", "utf-8")
    training = {"id": "T1", "staff_id": "S0", "course": "c", "kind": "internal",
                "completed_on": "2026-10-01"}
    lines = [{"staff": staff_lines(1)[0]["staff"],
              "trainings": [training | {"exam_score": score}]} for score in (50, 95, 60)]
    path = jsonl(tmp_path / "t.jsonl", lines)
    code, out, err = run(capsys, "decide", "--stream", str(path), "--at", AT,
                         "--policy", str(folder))
    assert code == 2
    assert [r["line"] for r in output_lines(out)] == [1]
    assert f"kam-policy: {path}: line 2: policy.kp:6:3: error[eval.table-hit]" in err
    with pytest.raises(PolicyEvalError):
        list(decide_lines(load(folder), path.read_text().splitlines(), NOW))


# ---- the command line ----------------------------------------------------------------------


def test_decisions_go_to_a_file_and_the_rate_to_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = jsonl(tmp_path / "staff.jsonl", staff_lines(5))
    out_path = tmp_path / "decisions.jsonl"
    code, out, err = run(capsys, "decide", "--stream", str(path), "--at", AT,
                         "--out", str(out_path))
    assert (code, out) == (0, "")
    records = output_lines(out_path.read_text("utf-8"))
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5]
    assert all(set(r) == {"line", "decision_id", "conclusions"} for r in records)
    assert "%" not in err  # no progress bar: standard error is not a terminal
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("kam-policy: decided 5 lines in ")
    assert "decisions/s" in summary and "facts/s (25 facts, " in summary


def test_progress_on_request(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = jsonl(tmp_path / "staff.jsonl", staff_lines(3))
    code, _, err = run(capsys, "decide", "--stream", str(path), "--at", AT, "--progress")
    assert code == 0
    assert "100% |████████████████████| 3 lines" in err


def test_reads_standard_input(capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    text = "".join(json.dumps(line, default=str) + "\n" for line in staff_lines(2))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code, out, _ = run(capsys, "decide", "--stream", "-", "--at", AT)
    assert code == 0
    assert [r["line"] for r in output_lines(out)] == [1, 2]


@pytest.mark.parametrize(("argv", "message"), [
    (["--stream", "x.jsonl", "--format", "table"], "--format table is not available"),
    (["--facts", "f.json", "--out", "o.jsonl"], "--out goes with --stream"),
    (["--at", AT], "give --facts FILE.json (or --stream FILE.jsonl)"),
])
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "decide", *argv)
    assert (code, out) == (2, "")
    assert message in err


def test_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "decide", "--stream", str(tmp_path / "no.jsonl"), "--at", AT)
    assert (code, out) == (2, "")
    assert "no.jsonl: cannot read facts file: No such file or directory" in err


def test_each_line_is_logged_and_replays(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base, complaints = complaint_data()
    base_path = write_json(tmp_path / "base.json", base)
    path = jsonl(tmp_path / "c.jsonl", ({"complaints": [c]} for c in complaints[:4]))
    log = tmp_path / "log.jsonl"
    code, out, _ = run(capsys, "decide", "--stream", str(path), "--facts", str(base_path),
                       "--at", AT, "--log", str(log), "--mask", "staff.name")
    assert code == 0
    ids = [r["decision_id"] for r in output_lines(out)]
    logged = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert [r["decision_id"] for r in logged if r["type"] == "decision"] == ids
    assert run(capsys, "audit", "verify", str(log))[0] == 0
    assert run(capsys, "audit", "replay", str(log))[0] == 0


def test_progress_text() -> None:
    ticks = iter([0.0, 10.0, 10.0])
    stream = io.StringIO()
    progress = Progress(stream, total=1000, terminal=True, clock=lambda: next(ticks))
    progress.update(250, 500)
    assert stream.getvalue() == "\r 25% |█████               | 500 lines  50 lines/s  ETA 30.0s"
    unknown = Progress(io.StringIO(), total=None, terminal=False, clock=lambda: 0.0)
    assert unknown.render(0, 1234, 75.0) == "1,234 lines  16 lines/s  1m15s"


# ---- bounded memory ------------------------------------------------------------------------

TINY_POLICY = (
    'policy "Names" version "1"\n'
    "conclusion named(name: text) about Appraisal\n"
    "rule R.named { for a in Appraisal emit named(name: Staff[a.staff_id].name) }\n"
)


def appraisal_lines(count: int, staff: int) -> Iterator[Any]:
    """One appraisal a line, referring to a base staff member; every 50th line invalid."""
    rng = random.Random(count)
    for i in range(count):
        line = {"appraisals": [data.appraisal(f"A{i}", f"S{i % staff}", rng)]}
        yield line if i % 50 else {"appraisals": [{"id": f"A{i}"}]}


def peak_while_streaming(tmp_path: Path, count: int, base: Path, folder: Path) -> int:
    path = jsonl(tmp_path / f"{count}.jsonl", appraisal_lines(count, 100))
    out = tmp_path / f"{count}.out.jsonl"
    tracemalloc.start()
    try:
        code = main(["decide", "--stream", str(path), "--facts", str(base), "--at", AT,
                     "--policy", str(folder), "--out", str(out), "--skip-invalid"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0
    assert sum(1 for _ in out.open()) == count - count // 50
    return peak


def test_memory_does_not_grow_with_the_number_of_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "names"
    folder.mkdir()
    (folder / "policy.kp").write_text(TINY_POLICY, "utf-8")
    rng = random.Random(1)
    staff = [data.staff_record(f"S{i}", "sales_rep", None, rng) for i in range(100)]
    base = write_json(tmp_path / "base.json", {"staff": staff})
    small = peak_while_streaming(tmp_path, 1_100, base, folder)  # more than one batch
    large = peak_while_streaming(tmp_path, 11_000, base, folder)
    capsys.readouterr()
    # Ten times the lines, the same peak (loading the policy included in both): nothing is
    # kept per line; a leak of 50 bytes a line would show.
    assert large - small < 512 * 1024, (small, large)

