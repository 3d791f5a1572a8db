"""The ``kam-policy`` command line: decide and check, run in-process through
``kam_policy.cli.main``, plus one run of the installed script.

Exit codes (``kam_policy.cli``): 0 success, 2 invalid input with diagnostics on stderr
and nothing on stdout.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from policy_helpers import (
    NOW,
    H,
    application,
    bundled_policy,
    canonical,
    client,
    complaint,
    concl,
    facts,
    handled_complaint,
    staff,
    top_manager,
)
from reference_policy import expected_conclusions

import kam_policy
from kam_policy.cli import main

AT = "2026-11-27T09:00:00+08:00"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "company.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line in-process: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False, default=str), "utf-8")
    return path


def plain(conclusions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: c[k] for k in ("name", "subject", "values")} for c in conclusions]


def small_facts() -> dict[str, Any]:
    """A late major complaint, an eligible applicant, a quiet client."""
    return facts(
        staff=[top_manager(), staff("S1", major="Marketing")],
        applications=[application("A1", "S1", "sales_rep")],
        complaints=[complaint("C1", opened=NOW - 5 * H, severity="major")],
    )


def assert_invalid(code: int, out: str, err: str) -> None:
    """Exit 2, nothing on stdout, a diagnostic on stderr, no traceback."""
    assert code == 2
    assert out == ""
    assert err.strip()
    assert "Traceback" not in err


# --------------------------------------------------------------------- decide json


def test_decide_json_shape(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = small_facts()
    path = write_json(tmp_path / "facts.json", data)
    code, out, err = run(capsys, "decide", "--facts", str(path), "--at", AT, "--format", "json")
    assert (code, err) == (0, "")
    decision = json.loads(out)
    assert {"decision_id", "at", "policy", "conclusions"} <= decision.keys()
    assert isinstance(decision["decision_id"], str) and decision["decision_id"]
    assert decision["at"] == AT
    policy = bundled_policy()
    assert decision["policy"] == {"name": policy.name, "version": "2026.11",
                                  "sha256": policy.digest}
    assert re.fullmatch(r"[0-9a-f]{64}", decision["policy"]["sha256"])
    for item in decision["conclusions"]:
        assert {"name", "subject", "values", "rule", "source"} <= item.keys()
        assert set(item["subject"]) == {"type", "id"}
        assert set(item["source"]) == {"file", "line"}
    assert canonical(plain(decision["conclusions"])) == canonical(expected_conclusions(data, NOW))
    assert plain(decision["conclusions"]) == [
        concl("eligible", "application", "A1", role="sales_rep"),
        concl("preferred_candidate", "application", "A1", role="sales_rep"),
        concl("escalation", "complaint", "C1", level=1, to="manager", manager_id="M1"),
        concl("task_force", "complaint", "C1"),
    ]


def test_decide_json_names_the_rule_and_its_source_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_json(tmp_path / "facts.json", small_facts())
    code, out, _ = run(capsys, "decide", "--facts", str(path), "--at", AT)
    assert code == 0
    rules = {c["name"]: (c["rule"], c["source"]) for c in json.loads(out)["conclusions"]}
    assert rules["task_force"][0] == "C.task_force"
    assert rules["task_force"][1]["file"] == "complaints.kp"
    assert rules["escalation"][0] == "C.escalation.manager"
    assert rules["eligible"][0] == "B.eligible"
    bundled = kam_policy.bundled_policy_path()
    for rule_id, source in rules.values():
        line = (bundled / source["file"]).read_text("utf-8").splitlines()[source["line"] - 1]
        assert line.startswith(f"rule {rule_id} ")


def test_decide_json_is_the_default_format(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_json(tmp_path / "facts.json", small_facts())
    code, out, _ = run(capsys, "decide", "--facts", str(path), "--at", AT)
    assert code == 0
    assert [c["name"] for c in json.loads(out)["conclusions"]] == [
        "eligible", "preferred_candidate", "escalation", "task_force"]


def test_decide_at_keeps_its_offset(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_json(tmp_path / "facts.json", facts())
    code, out, _ = run(capsys, "decide", "--facts", str(path), "--at", "2026-11-27T01:00:00Z")
    assert code == 0
    assert datetime.fromisoformat(json.loads(out)["at"]) == datetime.fromisoformat(
        "2026-11-27T09:00:00+08:00")


# -------------------------------------------------------------------- decide table


def test_decide_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_json(tmp_path / "facts.json", small_facts())
    code, out, err = run(capsys, "decide", "--facts", str(path), "--at", AT,
                         "--format", "table")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    policy = bundled_policy()
    assert lines[0].startswith(f"{policy.name} version 2026.11 at {AT}")
    assert "4 conclusions" in lines[0]
    header = next(line for line in lines if line.startswith("subject"))
    assert header.split() == ["subject", "conclusion", "values", "rule"]
    rows = [line for line in lines if re.match(r"(application|complaint):", line)]
    assert len(rows) == 4
    escalation = next(r for r in rows if " escalation " in r)
    assert escalation.startswith("complaint:C1")
    assert 'level=1, to="manager", manager_id="M1"' in escalation
    assert re.search(r"C\.escalation\.manager \(complaints\.kp:\d+\)$", escalation)
    assert any(r.startswith("application:A1") and "preferred_candidate" in r for r in rows)


def test_decide_table_without_conclusions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_json(tmp_path / "facts.json", facts())
    code, out, _ = run(capsys, "decide", "--facts", str(path), "--at", AT, "--format", "table")
    assert code == 0
    assert "0 conclusions" in out.splitlines()[0]


# --------------------------------------------------------------------------- check


def test_check_the_bundled_policy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check")
    assert code == 0
    assert "Traceback" not in err
    assert out.startswith("ok: ")
    assert bundled_policy().name in out and "2026.11" in out


def test_check_the_bundled_policy_by_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(kam_policy.bundled_policy_path()))
    assert code == 0
    assert out.startswith("ok: ")


PLANTED = """\
policy "Planted mistakes" version "1"

include "conclusions.kp"

param limit = 4h

rule X.one "unknown field" {
  section "C"
  for c in Complaint
  when c.severty == major
  emit task_force()
  because "x"
}

rule X.two "unknown name" {
  section "C"
  for c in Complaint
  when c.opened_at > limt
  emit task_force()
  because "x"
}

rule X.three "type mismatch" {
  section "C"
  for c in Complaint
  when c.reopened_count > "two"
  emit task_force()
  because "x"
}
"""


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A policy folder whose entry file holds three mistakes."""
    folder = tmp_path / "planted"
    folder.mkdir()
    conclusions = kam_policy.bundled_policy_path() / "conclusions.kp"
    shutil.copy(conclusions, folder / "conclusions.kp")
    (folder / "policy.kp").write_text(PLANTED, "utf-8")
    return folder


def test_check_reports_every_planted_mistake(
    capsys: pytest.CaptureFixture[str], planted: Path
) -> None:
    code, out, err = run(capsys, "check", str(planted / "policy.kp"))
    assert_invalid(code, out, err)
    # file:line:col of each mistake, in file order.
    places = re.findall(r"^(policy\.kp):(\d+):(\d+): error", err, re.M)
    assert places == [("policy.kp", "10", "8"), ("policy.kp", "18", "22"),
                      ("policy.kp", "26", "8")]
    assert "severty" in err and "did you mean 'severity'?" in err
    assert "limt" in err and "did you mean 'limit'?" in err
    assert re.search(r"compare number with text", err)
    assert err.count("help:") >= 3
    assert "3 errors" in err


def test_check_a_policy_folder(capsys: pytest.CaptureFixture[str], planted: Path) -> None:
    code, out, err = run(capsys, "check", str(planted))
    assert_invalid(code, out, err)
    assert len(re.findall(r"^policy\.kp:\d+:\d+: error", err, re.M)) == 3


def test_decide_with_a_broken_policy_fails_before_deciding(
    capsys: pytest.CaptureFixture[str], planted: Path, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "facts.json", facts())
    code, out, err = run(capsys, "decide", "--policy", str(planted), "--facts", str(path),
                         "--at", AT)
    assert_invalid(code, out, err)
    assert "policy.kp:10:8" in err


def test_check_a_missing_policy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "check", str(tmp_path / "nowhere"))
    assert_invalid(code, out, err)


# ------------------------------------------------------------------ invalid input


def decide_file(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> tuple[int, str,
                                                                                      str]:
    return run(capsys, "decide", "--facts", str(path), "--at", AT, *extra)


def test_malformed_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text('{"staff": [', "utf-8")
    code, out, err = decide_file(capsys, path)
    assert_invalid(code, out, err)
    assert "malformed JSON" in err and "line 1" in err


def test_empty_facts_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text("", "utf-8")
    code, out, err = decide_file(capsys, path)
    assert_invalid(code, out, err)
    assert "empty" in err


def test_facts_that_are_not_an_object(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = decide_file(capsys, write_json(tmp_path / "facts.json", [1, 2]))
    assert_invalid(code, out, err)
    assert "a list" in err


def test_unknown_top_level_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = facts()
    data["complaint"] = data.pop("complaints")
    code, out, err = decide_file(capsys, write_json(tmp_path / "facts.json", data))
    assert_invalid(code, out, err)
    assert "unknown top-level key 'complaint'" in err
    assert "did you mean 'complaints'?" in err


def test_invalid_records_name_type_index_id_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    records = [handled_complaint(f"C{n}") for n in range(1, 4)]
    naive = complaint("C9")
    naive["opened_at"] = "2026-11-01T00:00:00"
    misspelt = handled_complaint("C10")
    misspelt["reopend_count"] = misspelt.pop("reopened_count")
    data = facts(complaints=[*records, naive, misspelt])
    code, out, err = decide_file(capsys, write_json(tmp_path / "facts.json", data))
    assert_invalid(code, out, err)
    assert "complaints[3] (id C9): opened_at: datetime has no time zone" in err
    assert "complaints[4] (id C10): reopend_count: unknown field 'reopend_count'" in err
    assert "did you mean 'reopened_count'?" in err


def test_invalid_sales_result_is_named_by_staff_and_period(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = facts(sales_results=[{"staff_id": "S1", "period": "2026-10", "target": 0,
                                 "actual": 10}])
    code, out, err = decide_file(capsys, write_json(tmp_path / "facts.json", data))
    assert_invalid(code, out, err)
    assert re.search(r"sales_results\[0\] \(id S1/2026-10\): target: ", err)


def test_unknown_staff_reference(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = facts(complaints=[complaint("C1", assigned_to="S404")])
    code, out, err = decide_file(capsys, write_json(tmp_path / "facts.json", data))
    assert_invalid(code, out, err)
    assert "complaints[0] (id C1): assigned_to: unknown Staff id 'S404'" in err


def test_naive_at(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_json(tmp_path / "facts.json", facts())
    code, out, err = run(capsys, "decide", "--facts", str(path), "--at", "2026-11-27T09:00:00")
    assert_invalid(code, out, err)
    assert "no time zone" in err


def test_at_that_is_not_a_datetime(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_json(tmp_path / "facts.json", facts())
    code, out, err = run(capsys, "decide", "--facts", str(path), "--at", "next tuesday")
    assert_invalid(code, out, err)
    assert "--at" in err


def test_missing_facts_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = decide_file(capsys, tmp_path / "missing.json")
    assert_invalid(code, out, err)
    assert "missing.json" in err and "cannot read" in err


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_invalid_facts_print_nothing_in_either_format(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    data = facts(complaints=[complaint("C1", severity="catastrophic")])
    code, out, err = decide_file(capsys, write_json(tmp_path / "facts.json", data),
                                 "--format", fmt)
    assert_invalid(code, out, err)
    assert "complaints[0] (id C1): severity: 'catastrophic' is not one of" in err


# --------------------------------------------------------------------- skip invalid


def test_skip_invalid_reports_each_record_and_decides_on_the_rest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good = [complaint(f"C{n}", opened=NOW - 10 * H, severity="major") for n in range(1, 4)]
    naive = complaint("C9", opened=NOW - 10 * H, severity="major")
    naive["opened_at"] = "2026-11-27T00:00:00"
    orphan = complaint("C10", opened=NOW - 10 * H, severity="major", assigned_to="S404")
    data = facts(complaints=[*good, naive, orphan])
    code, out, err = decide_file(capsys, write_json(tmp_path / "facts.json", data),
                                 "--skip-invalid")
    assert code == 0
    assert "Traceback" not in err
    skipped = [line for line in err.splitlines() if "skipped" in line]
    assert len(skipped) == 2
    assert any("complaints[3] (id C9): opened_at: datetime has no time zone" in s
               for s in skipped)
    assert any("complaints[4] (id C10): assigned_to: unknown Staff id 'S404'" in s
               for s in skipped)
    decided = json.loads(out)
    rest = facts(complaints=good)
    assert canonical(plain(decided["conclusions"])) == canonical(expected_conclusions(rest, NOW))
    ids = {c["subject"]["id"] for c in decided["conclusions"]}
    assert "C9" not in ids and "C10" not in ids
    # The three good complaints of K1 are all recent: one account review.
    assert [c["subject"] for c in decided["conclusions"] if c["name"] == "account_review"] == [
        {"type": "client", "id": "K1"}]


def test_skip_invalid_drops_records_referring_to_a_skipped_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad_staff = staff("S2", education="phd")
    data = facts(staff=[top_manager(), staff("S1"), bad_staff],
                 clients=[client("K1"), client("K2", owner_id="S2")],
                 complaints=[complaint("C1", client_id="K2")])
    code, out, err = decide_file(capsys, write_json(tmp_path / "facts.json", data),
                                 "--skip-invalid")
    assert code == 0
    for what in ("staff[2] (id S2)", "clients[1] (id K2)", "complaints[0] (id C1)"):
        assert what in err
    ids = {c["subject"]["id"] for c in json.loads(out)["conclusions"]}
    assert ids.isdisjoint({"S2", "K2", "C1"})


# -------------------------------------------------------------------------- params


def test_params_file_overrides_a_limit(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    # A major complaint unanswered for 5 hours: late for 4h, in time for 6h.
    path = write_json(tmp_path / "facts.json", facts(
        complaints=[complaint("C1", opened=NOW - 5 * H, severity="major")]))
    params = tmp_path / "params.toml"
    params.write_text('response_limit = { major = "6h" }\n', "utf-8")

    code, out, _ = decide_file(capsys, path)
    assert code == 0
    default = json.loads(out)
    assert [c["name"] for c in default["conclusions"]] == ["escalation", "task_force"]

    code, out, err = decide_file(capsys, path, "--params", str(params))
    assert (code, err) == (0, "")
    overridden = json.loads(out)
    assert plain(overridden["conclusions"]) == [concl("task_force", "complaint", "C1")]
    # The decision records that another policy decided.
    assert overridden["policy"]["sha256"] != default["policy"]["sha256"]
    assert overridden["policy"]["version"] == default["policy"]["version"]


def test_params_override_keeps_the_other_entries_of_a_map(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_json(tmp_path / "facts.json", facts(
        complaints=[complaint("C1", opened=NOW - 2 * H, severity="critical")]))
    params = tmp_path / "params.toml"
    params.write_text('response_limit = { major = "6h" }\n', "utf-8")
    code, out, _ = decide_file(capsys, path, "--params", str(params))
    assert code == 0
    assert [c["name"] for c in json.loads(out)["conclusions"]] == ["escalation", "task_force"]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('response_limt = { major = "6h" }\n', "did you mean 'response_limit'?"),
        ("response_limit = { major = 6 }\n", "duration"),
        ("response_limit = {\n", "params.toml"),
    ],
)
def test_bad_params_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, toml: str,
                         expected: str) -> None:
    path = write_json(tmp_path / "facts.json", facts())
    params = tmp_path / "params.toml"
    params.write_text(toml, "utf-8")
    code, out, err = decide_file(capsys, path, "--params", str(params))
    assert_invalid(code, out, err)
    assert expected in err


def test_check_with_params(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    params = tmp_path / "params.toml"
    params.write_text("survey_interval = \"90d\"\n", "utf-8")
    code, out, _ = run(capsys, "check", "--params", str(params))
    assert code == 0
    assert out.startswith("ok: ")


# --------------------------------------------------------------- installed script


def test_installed_script_decides_the_example(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "kam-policy"
    assert script.exists(), "the kam-policy script is not installed in this environment"
    result = subprocess.run(
        [str(script), "decide", "--facts", str(EXAMPLE), "--at", AT, "--format", "json"],
        capture_output=True, text=True, check=False, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    decided = json.loads(result.stdout)
    data = json.loads(EXAMPLE.read_text("utf-8"), parse_float=Decimal)
    want = expected_conclusions(data, datetime.fromisoformat(AT))
    assert canonical(plain(decided["conclusions"])) == canonical(want)


def test_unknown_parameter_hint_names_an_existing_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    params = tmp_path / "params.toml"
    params.write_text("zzzqqq = 3\n", "utf-8")
    code, out, err = run(capsys, "check", "--params", str(params))
    assert_invalid(code, out, err)
    suggested = re.findall(r"run 'kam-policy ([\w-]+)", err)
    assert suggested
    for command in suggested:
        with pytest.raises(SystemExit) as exited:
            main([command, "--help"])
        assert exited.value.code == 0
