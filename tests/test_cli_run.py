"""``kam-policy run --events FILE --state DB``: resumable, line numbers on bad events, exit 2."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

from kam_policy.cli import main

EXAMPLE = Path(__file__).parent.parent / "examples" / "events" / "complaint-lifecycle.jsonl"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["run", *args])
    return code, out.getvalue(), err.getvalue()


def emissions(text: str) -> list[tuple[str, str, str, str]]:
    rows = [json.loads(line) for line in text.splitlines()]
    return [(r["at"], r["kind"], r["name"], r["subject"]["id"]) for r in rows]


def test_run_prints_each_conclusion_when_it_falls_due(tmp_path: Path) -> None:
    code, out, err = run("--events", str(EXAMPLE), "--state", str(tmp_path / "s.db"),
                         "--until", "2026-12-01T09:00:00+08:00")
    assert (code, err) == (0, "")
    assert emissions(out) == [
        ("2026-11-27T09:00:00+08:00", "fired", "task_force", "CP100"),
        ("2026-11-27T10:00:00+08:00", "fired", "task_force", "CP101"),
        ("2026-11-27T13:00:00.000001+08:00", "fired", "escalation", "CP100"),
        ("2026-11-29T09:00:00.000001+08:00", "retracted", "escalation", "CP100"),
        ("2026-11-29T09:00:00.000001+08:00", "fired", "escalation", "CP100"),
    ]
    first = json.loads(out.splitlines()[2])
    assert first["cause"] == "time" and first["values"]["level"] == 1
    assert first["rule"] == "C.escalation.manager" and first["source"]["file"] == "complaints.kp"


def test_a_second_run_resumes_and_repeats_nothing(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = EXAMPLE.read_text("utf-8").splitlines(keepends=True)
    events.write_text("".join(lines[:5]), encoding="utf-8")
    state = str(tmp_path / "s.db")
    code, first, _ = run("--events", str(events), "--state", state)
    assert code == 0 and [e[2] for e in emissions(first)] == ["task_force", "task_force"]
    code, again, _ = run("--events", str(events), "--state", state)
    assert (code, again) == (0, "")
    events.write_text("".join(lines), encoding="utf-8")  # the file grew
    code, rest, _ = run("--events", str(events), "--state", state,
                        "--until", "2026-12-01T09:00:00+08:00")
    whole = run("--events", str(EXAMPLE), "--state", str(tmp_path / "whole.db"),
                "--until", "2026-12-01T09:00:00+08:00")[1]
    assert emissions(first) + emissions(rest) == emissions(whole)


def test_a_bad_line_stops_the_run_with_its_line_number(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = EXAMPLE.read_text("utf-8").splitlines(keepends=True)
    events.write_text("".join(lines[:4]) + "{not json\n" + "".join(lines[4:]), encoding="utf-8")
    state = str(tmp_path / "s.db")
    code, out, err = run("--events", str(events), "--state", state)
    assert code == 2
    assert err.startswith(f"kam-policy: {events}:5: not JSON")
    assert "Traceback" not in err
    assert [e[3] for e in emissions(out)] == ["CP100"]  # the lines before it were accepted
    events.write_text("".join(lines[:4]) + "\n" + "".join(lines[4:]), encoding="utf-8")
    code, out, _ = run("--events", str(events), "--state", state)  # fixed: goes on from there
    assert code == 0
    assert [(e[2], e[3]) for e in emissions(out)] == [("task_force", "CP101"),
                                                      ("escalation", "CP100")]


def test_an_invalid_event_names_its_line_and_field(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = EXAMPLE.read_text("utf-8").splitlines(keepends=True)
    bad = json.loads(lines[3])
    bad["record"]["severity"] = "urgent"
    events.write_text("".join(lines[:3]) + json.dumps(bad) + "\n", encoding="utf-8")
    code, _, err = run("--events", str(events), "--state", str(tmp_path / "s.db"))
    assert code == 2
    assert f"{events}:4: Complaint 'CP100': severity: Input should be" in err


def test_skip_invalid_reports_each_skipped_line(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = EXAMPLE.read_text("utf-8").splitlines(keepends=True)
    events.write_text("".join(lines[:4]) + "[]\n" + "".join(lines[4:]), encoding="utf-8")
    code, out, err = run("--events", str(events), "--state", str(tmp_path / "s.db"),
                         "--skip-invalid")
    assert code == 0
    assert f"kam-policy: skipped {events}:5: " in err
    assert [e[2] for e in emissions(out)] == ["task_force", "task_force", "escalation"]


def test_a_table_for_people(tmp_path: Path) -> None:
    code, out, _ = run("--events", str(EXAMPLE), "--state", str(tmp_path / "s.db"),
                       "--format", "table", "--until", "2026-11-28T00:00:00+08:00")
    assert code == 0
    assert out.splitlines()[0].split() == ["at", "kind", "subject", "conclusion"]
    assert "escalation(level=1, to=\"manager\", manager_id=\"S100\")" in out


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    state = str(tmp_path / "s.db")
    code, _, err = run("--events", str(EXAMPLE), "--state", state, "--until", "2026-12-01")
    assert code == 2 and "has no time zone" in err
    code, _, err = run("--events", str(tmp_path / "missing.jsonl"), "--state", state)
    assert code == 2 and "no such file" in err


def test_a_state_of_another_policy_is_refused(tmp_path: Path) -> None:
    state = str(tmp_path / "s.db")
    assert run("--events", str(EXAMPLE), "--state", state)[0] == 0
    params = tmp_path / "params.toml"
    params.write_text('client_notice_limit = "12h"\n', encoding="utf-8")
    code, _, err = run("--events", str(EXAMPLE), "--state", state, "--params", str(params))
    assert code == 2 and "start a new state database" in err


def test_a_copy_of_the_state_resumes_elsewhere(tmp_path: Path) -> None:
    state = tmp_path / "s.db"
    assert run("--events", str(EXAMPLE), "--state", str(state))[0] == 0
    moved = tmp_path / "copy"
    moved.mkdir()
    shutil.copy(state, moved / "s.db")
    code, out, _ = run("--events", str(EXAMPLE), "--state", str(moved / "s.db"),
                       "--until", "2026-12-01T00:00:00+08:00")
    assert code == 0
    assert [e[1:3] for e in emissions(out)] == [("retracted", "escalation"),
                                                ("fired", "escalation")]


def test_the_durable_engine_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    """The bundled policy uses tables, defines and lookups, which durable_rules cannot run: the
    refusal names the rules, with exit code 2 (or durable_rules is missing: also exit 2)."""
    code, out, err = run("--events", str(EXAMPLE), "--state", str(tmp_path / "s.db"),
                         "--engine", "durable")
    assert (code, out) == (2, "")
    assert "complaints.kp" in err or "durable_rules" in err
    assert "Traceback" not in err


def test_the_durable_engine_runs_its_subset(tmp_path: Path) -> None:
    pytest.importorskip("durable.engine")
    policy = str(Path(__file__).parent.parent / "examples" / "policies" / "escalation")
    results = [run("--events", str(EXAMPLE), "--state", str(tmp_path / f"{engine}.db"),
                   "--policy", policy, "--engine", engine,
                   "--until", "2026-12-01T09:00:00+08:00") for engine in ("snapshot", "durable")]
    assert results[0][0] == results[1][0] == 0
    assert results[0][1] == results[1][1] and results[0][1]


def test_progress_on_request_reports_lines_and_rate(tmp_path: Path) -> None:
    code, out, err = run("--events", str(EXAMPLE), "--state", str(tmp_path / "s.db"),
                         "--progress")
    lines = len(EXAMPLE.read_text("utf-8").splitlines())
    assert code == 0 and out
    assert err.splitlines()[-1].startswith("100% |")
    assert f"{lines:,} lines" in err.splitlines()[-1] and "lines/s" in err
