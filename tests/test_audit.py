"""The decision trail: DecisionLog in JSON Lines and SQLite, verify, query, replay and diff.

Most tests run on both stores (the ``store`` fixture). Expected results are worked out here
independently: hashes with hashlib over the canonical JSON, tampering by rewriting the stored
records directly, the changes a parameter makes by deciding under both policies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
import os
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from crash_writer import tiny_facts

import kam_policy
from kam_policy import Decision, Policy
from kam_policy.audit import (
    DecisionLog,
    LogError,
    QueryFilter,
    policy_from_record,
    query,
    read_records,
    verify,
)
from kam_policy.audit.log import record_hash
from kam_policy.cli import main
from kam_policy.facts.load import FactSet, load_facts_file

ROOT = Path(__file__).parent.parent
COMPANY = ROOT / "examples" / "company.json"
RULES = ROOT / "kam_policy" / "rules"
CST = dt.timezone(dt.timedelta(hours=8))
AT = dt.datetime(2026, 11, 27, 9, 0, tzinfo=CST)
# Three days to decide the company on: S011 reaches a year in the role on 2026-11-28.
DAYS = (AT, AT + dt.timedelta(days=1), AT + dt.timedelta(days=8))
GENESIS = "0" * 64
KEY_VARIABLE = "KAM_POLICY_LOG_KEY"


# ---- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def policy() -> Policy:
    return kam_policy.load()


@pytest.fixture(scope="module")
def company(policy: Policy) -> FactSet:
    return load_facts_file(COMPANY, policy.schema)


@pytest.fixture(scope="module")
def small(policy: Policy) -> FactSet:
    return policy.validate(tiny_facts())


@pytest.fixture(params=["jsonl", "sqlite"])
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def path(tmp_path: Path, store: str) -> Path:
    return tmp_path / f"decisions.{store}"


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)


def canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(body: dict[str, Any]) -> str:
    content = {k: v for k, v in body.items() if k != "hash"}
    return hashlib.sha256(canonical(content).encode("utf-8")).hexdigest()


def texts(path: Path) -> list[str]:
    """The stored records, as text, in order, read straight from the file or database."""
    if path.suffix == ".sqlite":
        with contextlib.closing(sqlite3.connect(path)) as db:
            return [row[0] for row in db.execute("SELECT body FROM records ORDER BY position")]
    return path.read_text("utf-8").splitlines()


def bodies(path: Path) -> list[dict[str, Any]]:
    return [json.loads(text) for text in texts(path)]


def rewrite(path: Path, records: list[str]) -> None:
    """Replace the stored records, as someone with write access to the storage could."""
    if path.suffix == ".sqlite":
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.execute("DELETE FROM records")
            db.executemany("INSERT INTO records (body) VALUES (?)", [(r,) for r in records])
    else:
        path.write_text("".join(r + "\n" for r in records), "utf-8")


def rechain(records: list[dict[str, Any]], start: int = 0) -> list[str]:
    """The records with prev_hash and hash recomputed from index ``start`` on, without a key,
    as someone who edited a record and has no key would rebuild the chain."""
    previous = records[start - 1]["hash"] if start else GENESIS
    for record in records[start:]:
        record["prev_hash"] = previous
        record["hash"] = previous = sha256(record)
    return [canonical(r) for r in records]


def decide_into(path: Path, policy: Policy, facts: FactSet, times: tuple[dt.datetime, ...],
                **options: Any) -> list[Decision]:
    with DecisionLog(path, **options) as log:
        return [policy.decide(facts, at, log=log) for at in times]


def small_log(path: Path, policy: Policy, small: FactSet, count: int = 5,
              **options: Any) -> list[Decision]:
    """A policy record and ``count`` decisions (seq 1 .. count + 1)."""
    times = tuple(AT + dt.timedelta(hours=h) for h in range(count))
    return decide_into(path, policy, small, times, **options)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def conclusion_keys(conclusions: Any) -> set[str]:
    return {json.dumps({k: c[k] for k in ("name", "subject", "values", "rule")}, sort_keys=True)
            for c in conclusions}


# ---- records and the chain --------------------------------------------------------------------


def test_records_are_chained_by_seq_prev_hash_and_hash(path: Path, policy: Policy,
                                                       small: FactSet) -> None:
    small_log(path, policy, small, 3)
    records = bodies(path)
    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    assert records[0]["prev_hash"] == GENESIS
    for before, after in itertools.pairwise(records):
        assert after["prev_hash"] == before["hash"]
    for record in records:
        assert record["hash"] == sha256(record)  # SHA-256 of the canonical JSON without "hash"
        assert re.fullmatch(r"[0-9a-f]{64}", record["hash"])
    result = verify(path)
    assert (result.ok, result.records, result.head) == (True, 4, records[-1]["hash"])


def test_the_first_decision_under_a_policy_is_preceded_by_the_policy(
        path: Path, policy: Policy, small: FactSet) -> None:
    decisions = small_log(path, policy, small, 2)
    first, *rest = bodies(path)
    assert first["type"] == "policy"
    assert set(first) == {"format", "version", "seq", "prev_hash", "hash", "type", "sha256",
                          "name", "sources", "params"}
    assert (first["sha256"], first["name"]) == (policy.digest, policy.name)
    assert first["sources"] == {p.name: p.read_text("utf-8") for p in RULES.glob("*.kp")}
    assert first["params"]["promotion_min_time_in_role"] == "365d"
    assert first["params"]["grade_min"] == {"S": 95, "A": 85, "B": 70, "C": 60}
    assert first["params"]["bonus_multiplier"]["A"] == "1.2"  # decimals as exact text
    assert policy_from_record(first).digest == policy.digest
    assert [r["type"] for r in rest] == ["decision", "decision"]
    assert [r["policy"]["sha256"] for r in rest] == [policy.digest] * 2
    assert [r["decision_id"] for r in rest] == [d.decision_id for d in decisions]


def test_a_policy_record_keeps_the_record_format_version(path: Path, policy: Policy,
                                                         small: FactSet) -> None:
    small_log(path, policy, small, 1)
    first = bodies(path)[0]
    assert first["format"] == 1
    assert first["version"] == policy.version


def test_a_decision_record_holds_everything_to_replay_it(path: Path, policy: Policy,
                                                         small: FactSet) -> None:
    [decision] = small_log(path, policy, small, 1)
    record = bodies(path)[1]
    assert set(record) == {"format", "seq", "prev_hash", "hash", "type", "decision_id",
                           "wall_time", "at", "policy", "engine_version", "masked", "facts",
                           "conclusions"}
    assert record["format"] == 1
    assert record["at"] == decision.at == AT.isoformat()
    assert record["policy"] == decision.policy.to_dict()
    assert record["engine_version"] == kam_policy.__version__
    assert record["masked"] == []
    assert record["facts"] == small.to_jsonable()
    assert record["conclusions"] == decision.to_dict()["conclusions"]
    assert {c["name"] for c in record["conclusions"]} >= {"bonus", "training_reward"}
    wall = dt.datetime.fromisoformat(record["wall_time"])
    assert wall.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - wall) < dt.timedelta(minutes=5)


def test_a_policy_is_recorded_once_per_log_even_across_opens(
        path: Path, policy: Policy, small: FactSet) -> None:
    other = kam_policy.load(params={"training_reward_min_score": 96})
    small_log(path, policy, small, 1)
    small_log(path, policy, small, 1)  # reopened: the policy is already in the log
    decide_into(path, other, small, (AT,))
    decide_into(path, policy, small, (AT,))
    records = bodies(path)
    assert [(r["type"], r.get("sha256") or r["policy"]["sha256"]) for r in records] == [
        ("policy", policy.digest), ("decision", policy.digest), ("decision", policy.digest),
        ("policy", other.digest), ("decision", other.digest), ("decision", policy.digest)]
    assert records[3]["params"]["training_reward_min_score"] == 96
    assert verify(path).ok


def test_decide_cli_logs_to_either_store(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    for _ in range(2):
        code, out, _ = cli(capsys, "decide", "--facts", str(COMPANY), "--at", AT.isoformat(),
                           "--log", str(path))
        assert code == 0
    records = bodies(path)
    assert [r["type"] for r in records] == ["policy", "decision", "decision"]
    assert records[2]["conclusions"] == json.loads(out)["conclusions"]


# ---- masking ----------------------------------------------------------------------------------


def test_masking_replaces_staff_names_and_nothing_else(tmp_path: Path, store: str,
                                                       policy: Policy,
                                                       company: FactSet) -> None:
    plain_path, masked_path = tmp_path / f"plain.{store}", tmp_path / f"masked.{store}"
    decision = policy.decide(company, AT, decision_id="one")
    with DecisionLog(plain_path) as log:
        log.record(policy, company, decision)
    with DecisionLog(masked_path, mask=["staff.name"]) as log:
        log.record(policy, company, decision)
    plain, masked = bodies(plain_path)[1], bodies(masked_path)[1]
    assert masked["masked"] == ["staff.name"]
    names = [s["name"] for s in plain["facts"]["staff"]]
    masks = [s["name"] for s in masked["facts"]["staff"]]
    assert all(re.fullmatch(r"masked:[0-9a-f]{16}", m) for m in masks)
    assert len(set(masks)) == len(set(names))  # the same name, the same mask; others differ
    for staff in masked["facts"]["staff"]:
        staff["name"] = names[masks.index(staff["name"])]
    ignore = ("hash", "prev_hash", "wall_time", "masked")
    assert {k: v for k, v in masked.items() if k not in ignore} == \
        {k: v for k, v in plain.items() if k not in ignore}
    stored = "\n".join(texts(masked_path))
    assert not any(name in stored for name in names)
    assert verify(masked_path).ok


def test_a_masked_log_replays_without_drift(capsys: pytest.CaptureFixture[str],
                                            path: Path) -> None:
    code, _, _ = cli(capsys, "decide", "--facts", str(COMPANY), "--at", AT.isoformat(),
                     "--log", str(path), "--mask", "staff.name", "--mask", "clients.name")
    assert code == 0
    record = bodies(path)[1]
    assert record["masked"] == ["staff.name", "clients.name"]
    assert all(c["name"].startswith("masked:") for c in record["facts"]["clients"])
    assert cli(capsys, "audit", "replay", str(path))[0] == 0


def test_a_mask_that_names_no_field_is_refused(tmp_path: Path) -> None:
    with pytest.raises((LogError, ValueError)):
        DecisionLog(tmp_path / "decisions.jsonl", mask=["staff.nmae"])


# ---- keys -------------------------------------------------------------------------------------


def test_a_keyed_log_verifies_only_with_its_key(path: Path, policy: Policy,
                                                small: FactSet) -> None:
    small_log(path, policy, small, 2, key=b"s3cret")
    records = bodies(path)
    assert records[0]["hash"] == record_hash(records[0], b"s3cret") != sha256(records[0])
    assert verify(path, key=b"s3cret").ok
    for key in (None, b"wrong"):
        result = verify(path, key=key)
        assert (result.ok, result.bad_position, result.bad_seq, result.records) == \
            (False, 1, 1, 0)


def test_the_cli_reads_the_key_from_the_environment(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    path: Path) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "s3cret")
    assert cli(capsys, "decide", "--facts", str(COMPANY), "--at", AT.isoformat(),
               "--log", str(path))[0] == 0
    code, out, _ = cli(capsys, "audit", "verify", str(path))
    assert code == 0 and "ok, 2 records" in out
    monkeypatch.delenv(KEY_VARIABLE)
    code, out, _ = cli(capsys, "audit", "verify", str(path))
    assert code == 1
    assert out.splitlines() == [
        f"{path}: record 1 (seq 1) has a hash that does not match its content (edited)",
        "0 records before it are intact"]


def test_without_a_key_a_rewritten_chain_verifies_but_the_published_head_differs(
        path: Path, policy: Policy, small: FactSet) -> None:
    small_log(path, policy, small, 3)
    published = verify(path).head
    records = bodies(path)
    records[2]["conclusions"] = []  # erase what decision 2 concluded, then rebuild the chain
    rewrite(path, rechain(records, 2))
    forged = verify(path)
    assert forged.ok and forged.records == 4
    assert forged.head != published


def test_with_a_key_a_rewritten_chain_fails_at_the_first_forged_record(
        path: Path, policy: Policy, small: FactSet) -> None:
    small_log(path, policy, small, 3, key=b"s3cret")
    records = bodies(path)
    records[2]["conclusions"] = []
    rewrite(path, rechain(records, 2))
    result = verify(path, key=b"s3cret")
    assert (result.ok, result.bad_position, result.bad_seq, result.records) == (False, 3, 3, 2)


def test_replay_finds_conclusions_forged_behind_a_rebuilt_chain(
        capsys: pytest.CaptureFixture[str], path: Path, policy: Policy, small: FactSet) -> None:
    decisions = small_log(path, policy, small, 2)
    records = bodies(path)
    records[2]["conclusions"] = [c for c in records[2]["conclusions"] if c["name"] != "bonus"]
    rewrite(path, rechain(records, 2))
    assert verify(path).ok
    code, out, _ = cli(capsys, "audit", "replay", str(path), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["replayed"] == 2
    [change] = report["changes"]
    assert change["decision_id"] == decisions[1].decision_id
    assert change["removed"] == []
    assert [c["name"] for c in change["added"]] == ["bonus"]


# ---- verify: tampering ------------------------------------------------------------------------


def edit(records: list[str]) -> list[str]:
    body = json.loads(records[2])
    body["conclusions"][0]["values"]["amount"] = "99999.00"
    return [*records[:2], canonical(body), *records[3:]]


def edit_and_rehash(records: list[str]) -> list[str]:
    body = json.loads(records[2])
    body["conclusions"][0]["values"]["amount"] = "99999.00"
    body["hash"] = sha256(body)
    return [*records[:2], canonical(body), *records[3:]]


def edit_invalid_json(records: list[str]) -> list[str]:
    return [*records[:2], records[2][:-10], *records[3:]]


def delete(records: list[str]) -> list[str]:
    return [*records[:2], *records[3:]]


def insert_copy(records: list[str]) -> list[str]:
    return [*records[:3], records[1], *records[3:]]


def insert_forged(records: list[str]) -> list[str]:
    """A record that links to the one before it, with a correct hash (as without a key)."""
    body = json.loads(records[2])
    body["decision_id"] = "forged"
    body["prev_hash"] = json.loads(records[2])["hash"]
    body["seq"] = 4
    body["hash"] = sha256(body)
    return [*records[:3], canonical(body), *records[3:]]


def reorder(records: list[str]) -> list[str]:
    return [*records[:2], records[3], records[2], *records[4:]]


# (tamper, first bad position, its seq, problem)
TAMPERING: list[tuple[Callable[[list[str]], list[str]], int, int | None, str]] = [
    (edit, 3, 3, "has a hash that does not match its content (edited)"),
    (edit_and_rehash, 4, 4, "does not follow the record before it"),
    (edit_invalid_json, 3, None, "is not a valid JSON record"),
    (delete, 3, 4, "does not follow the record before it"),
    (insert_copy, 4, 2, "does not follow the record before it"),
    (insert_forged, 5, 4, "does not follow the record before it"),
    (reorder, 3, 4, "does not follow the record before it"),
]


@pytest.mark.parametrize(("tamper", "position", "seq", "problem"), TAMPERING,
                         ids=[t[0].__name__ for t in TAMPERING])
def test_verify_names_the_first_bad_record(
        capsys: pytest.CaptureFixture[str], path: Path, policy: Policy, small: FactSet,
        tamper: Callable[[list[str]], list[str]], position: int, seq: int | None,
        problem: str) -> None:
    small_log(path, policy, small, 5)
    rewrite(path, tamper(texts(path)))
    result = verify(path)
    assert not result.ok
    assert (result.bad_position, result.bad_seq, result.records) == (position, seq, position - 1)
    assert result.problem is not None and result.problem.startswith(problem)
    code, out, _ = cli(capsys, "audit", "verify", str(path))
    assert code == 1
    named = f"record {position}" + (f" (seq {seq})" if seq is not None else "")
    assert out.splitlines() == [f"{path}: {named} {result.problem}",
                                f"{position - 1} records before it are intact"]


def test_deleting_the_last_records_is_caught_by_the_published_head(
        path: Path, policy: Policy, small: FactSet) -> None:
    small_log(path, policy, small, 5)
    published = verify(path)
    rewrite(path, texts(path)[:-2])
    cut = verify(path)
    assert cut.ok  # a chain cut at its end is still a chain...
    assert (cut.records, published.records) == (4, 6)
    assert cut.head != published.head  # ...but not the one whose head was published


def test_a_valid_log_verifies_with_its_record_count(capsys: pytest.CaptureFixture[str],
                                                    path: Path, policy: Policy,
                                                    small: FactSet) -> None:
    small_log(path, policy, small, 5)
    code, out, err = cli(capsys, "audit", "verify", str(path))
    assert (code, err) == (0, "")
    assert out == f"{path}: ok, 6 records, head {bodies(path)[-1]['hash']}\n"


def test_verify_of_a_missing_log_is_an_input_error(capsys: pytest.CaptureFixture[str],
                                                   path: Path) -> None:
    code, out, err = cli(capsys, "audit", "verify", str(path))
    assert (code, out) == (2, "")
    assert "no decision log at" in err
    assert not path.exists()


# ---- query ------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["jsonl", "sqlite"])
def company_log(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                policy: Policy, company: FactSet) -> tuple[Path, list[Decision]]:
    """The company decided on each of DAYS, logged (policy record, then seq 2, 3, 4)."""
    path = tmp_path_factory.mktemp("company") / f"decisions.{request.param}"
    return path, decide_into(path, policy, company, DAYS)


def rows_of(decisions: list[Decision], keep: Callable[[Any], bool]) -> list[tuple[Any, ...]]:
    return [(seq, c.subject.type, c.subject.id, c.name, dict(c.values), c.rule_id)
            for seq, d in enumerate(decisions, start=2) for c in d.conclusions if keep(c)]


def as_rows(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["seq"], r["subject"]["type"], r["subject"]["id"], r["name"], r["values"],
             r["rule"]) for r in found]


@pytest.mark.parametrize(("options", "keep"), [
    (["--name", "honor"], lambda c: c.name == "honor"),
    (["--rule", "E.promotion_candidate"], lambda c: c.rule_id == "E.promotion_candidate"),
    (["--subject", "staff:S011"], lambda c: str(c.subject) == "staff:S011"),
    (["--name", "escalation", "--subject", "complaint:CP005"],
     lambda c: c.name == "escalation" and str(c.subject) == "complaint:CP005"),
    (["--rule", "C.escalation.executive", "--name", "bonus"], lambda c: False),
])
def test_query_filters_by_rule_subject_and_name(
        capsys: pytest.CaptureFixture[str], company_log: tuple[Path, list[Decision]],
        options: list[str], keep: Callable[[Any], bool]) -> None:
    path, decisions = company_log
    code, out, _ = cli(capsys, "audit", "query", str(path), *options, "--format", "json")
    assert code == 0
    found = json.loads(out)
    assert as_rows(found) == rows_of(decisions, keep)
    for row in found:
        decision = decisions[row["seq"] - 2]
        assert (row["decision_id"], row["at"]) == (decision.decision_id, decision.at)
        assert row["policy"] == decision.policy.to_dict()
        assert set(row) >= {"source", "reason"}


@pytest.mark.parametrize(("options", "days"), [
    (["--since", "2026-11-28T09:00:00+08:00"], [1, 2]),  # the bounds are inclusive
    (["--since", "2026-11-28T01:00:00Z"], [1, 2]),  # the same instant in UTC
    (["--since", "2026-11-28T09:00:00.000001+08:00"], [2]),
    (["--until", "2026-11-28T09:00:00+08:00"], [0, 1]),
    (["--until", "2026-11-28T08:59:59+08:00"], [0]),
    (["--since", "2026-11-28T00:00:00+08:00", "--until", "2026-11-30T00:00:00+08:00"], [1]),
])
def test_query_by_time(capsys: pytest.CaptureFixture[str],
                       company_log: tuple[Path, list[Decision]], options: list[str],
                       days: list[int]) -> None:
    path, decisions = company_log
    code, out, _ = cli(capsys, "audit", "query", str(path), "--name", "honor", *options,
                       "--format", "json")
    assert code == 0
    wanted = [(seq, c.subject.id) for seq, d in enumerate(decisions, start=2)
              if seq - 2 in days for c in d.named("honor")]
    assert [(r["seq"], r["subject"]["id"]) for r in json.loads(out)] == wanted
    assert wanted


def test_query_as_a_table(capsys: pytest.CaptureFixture[str],
                          company_log: tuple[Path, list[Decision]]) -> None:
    path, decisions = company_log
    code, out, _ = cli(capsys, "audit", "query", str(path), "--subject", "staff:S011")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["seq", "at", "subject", "conclusion", "values", "rule", "source"]
    assert set(lines[1]) <= {"-", " "}
    expected = [c for d in decisions for c in d.about("staff", "S011")]
    assert len(lines) == 2 + len(expected)
    promotion = next(line for line in lines if "promotion_candidate" in line)
    assert promotion.split()[:4] == ["3", DAYS[1].isoformat(), "staff:S011",
                                     "promotion_candidate"]
    line = next(n for n, text in enumerate((RULES / "rewards.kp").read_text().splitlines(), 1)
                if text.startswith("rule E.promotion_candidate "))
    assert re.search(rf"E\.promotion_candidate\s+rewards\.kp:{line}$", promotion)


def test_query_api_skips_policy_records(company_log: tuple[Path, list[Decision]]) -> None:
    path, decisions = company_log
    found = list(query(path, QueryFilter()))
    assert len(found) == sum(len(d.conclusions) for d in decisions)
    assert {r["seq"] for r in found} == {2, 3, 4}


def test_query_rejects_a_time_without_zone(capsys: pytest.CaptureFixture[str],
                                           company_log: tuple[Path, list[Decision]]) -> None:
    code, out, err = cli(capsys, "audit", "query", str(company_log[0]), "--since", "2026-11-28")
    assert (code, out) == (2, "")
    assert "has no time zone" in err


# ---- replay and diff --------------------------------------------------------------------------


def test_replay_against_the_recorded_policy_shows_no_drift(
        capsys: pytest.CaptureFixture[str], company_log: tuple[Path, list[Decision]]) -> None:
    path, _ = company_log
    code, out, err = cli(capsys, "audit", "replay", str(path))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == \
        "replayed 3 decisions against the recorded policies: 0 drifted"
    code, out, _ = cli(capsys, "audit", "replay", str(path), "--format", "json")
    assert code == 0 and json.loads(out) == {"replayed": 3, "errors": [], "changes": []}


def expected_changes(path: Path, old: Policy, new: Policy) -> dict[str, tuple[set[str],
                                                                              set[str]]]:
    """decision id -> (added, removed), by deciding each logged decision under both."""
    changes = {}
    for raw in read_records(path):
        body = raw.body
        assert body is not None
        if body["type"] != "decision":
            continue
        facts = old.validate(body["facts"])
        at = dt.datetime.fromisoformat(body["at"])
        before = conclusion_keys(c.to_dict() for c in old.decide(facts, at))
        after = conclusion_keys(c.to_dict() for c in new.decide(facts, at))
        if before != after:
            changes[body["decision_id"]] = (after - before, before - after)
    return changes


@pytest.mark.parametrize(("toml", "changed"), [
    ('promotion_min_time_in_role = "364d"\n', 1),  # S011, only on the first day
    ("grade_min.A = 86\n", 3),  # grades (and bonuses) between 85 and 86, every day
    ("training_reward_min_score = 90\n", 0),  # the value it already has
])
def test_replay_with_one_changed_parameter_reports_exactly_the_affected_decisions(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: Policy,
        company_log: tuple[Path, list[Decision]], toml: str, changed: int) -> None:
    path, _ = company_log
    params = tmp_path / "changed.toml"
    params.write_text(toml, "utf-8")
    expected = expected_changes(path, policy, kam_policy.load(RULES, params=params))
    assert len(expected) == changed
    code, out, _ = cli(capsys, "audit", "replay", str(path), "--policy", str(RULES),
                       "--params", str(params), "--format", "json")
    assert code == 0  # previewing another policy is not drift
    report = json.loads(out)
    assert report["replayed"] == 3 and report["errors"] == []
    got = {c["decision_id"]: (conclusion_keys(c["added"]), conclusion_keys(c["removed"]))
           for c in report["changes"]}
    assert got == expected


def test_replay_of_the_promotion_parameter_names_the_decision_and_conclusion(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        company_log: tuple[Path, list[Decision]]) -> None:
    path, decisions = company_log
    params = tmp_path / "changed.toml"
    params.write_text('promotion_min_time_in_role = "364d"\n', "utf-8")
    code, out, _ = cli(capsys, "audit", "replay", str(path), "--policy", str(RULES),
                       "--params", str(params))
    assert code == 0
    assert out.splitlines()[:3] == [
        "replayed 3 decisions against the given policy: 1 would change",
        f"decision {decisions[0].decision_id} at {DAYS[0].isoformat()}:",
        '  + staff:S011 promotion_candidate {"period": "2025", "track": "professional"} '
        "(E.promotion_candidate)"]


def test_replay_with_params_alone_previews_the_bundled_policy_with_them(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        company_log: tuple[Path, list[Decision]]) -> None:
    path, _ = company_log
    params = tmp_path / "changed.toml"
    params.write_text('promotion_min_time_in_role = "364d"\n', "utf-8")
    both = cli(capsys, "audit", "replay", str(path), "--policy", str(RULES), "--params",
               str(params), "--format", "json")
    alone = cli(capsys, "audit", "replay", str(path), "--params", str(params), "--format",
                "json")
    assert alone == both
    assert len(json.loads(alone[1])["changes"]) == 1


def diff_summary(old: Policy, new: Policy, facts: FactSet) -> str:
    """The summary line of ``kam-policy diff``, worked out from two decisions."""
    before = conclusion_keys(c.to_dict() for c in old.decide(facts, AT))
    after = conclusion_keys(c.to_dict() for c in new.decide(facts, AT))
    subjects: dict[str, set[str]] = {}
    for key in before ^ after:
        item = json.loads(key)
        subjects.setdefault(item["name"], set()).add(
            f"{item['subject']['type']}:{item['subject']['id']}")
    if not subjects:
        return "no conclusion changes"
    return "this change alters the " + ", the ".join(
        f"{name} of {len(s)} subject{'s' if len(s) != 1 else ''}"
        for name, s in sorted(subjects.items()))


@pytest.mark.parametrize("toml", [
    'promotion_min_time_in_role = "364d"\n',
    "grade_min.A = 86\n",
    "bonus_multiplier.A = 1.25\n",
    "training_reward_min_score = 90\n",
])
def test_diff_summarises_how_many_subjects_each_conclusion_changes_for(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: Policy, company: FactSet,
        toml: str) -> None:
    params = tmp_path / "changed.toml"
    params.write_text(toml, "utf-8")
    summary = diff_summary(policy, kam_policy.load(params=params), company)
    code, out, _ = cli(capsys, "diff", "--facts", str(COMPANY), "--at", AT.isoformat(),
                       "--against-params", str(params))
    assert code == 0
    assert out.splitlines()[0] == summary


def test_diff_of_the_promotion_parameter(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    params = tmp_path / "changed.toml"
    params.write_text('promotion_min_time_in_role = "364d"\n', "utf-8")
    code, out, _ = cli(capsys, "diff", "--facts", str(COMPANY), "--at", AT.isoformat(),
                       "--against-params", str(params))
    assert code == 0
    assert out.splitlines() == [
        "this change alters the promotion_candidate of 1 subject",
        f"decision preview at {AT.isoformat()}:",
        '  + staff:S011 promotion_candidate {"period": "2025", "track": "professional"} '
        "(E.promotion_candidate)"]
    code, out, _ = cli(capsys, "diff", "--facts", str(COMPANY), "--at", AT.isoformat(),
                       "--against-params", str(params), "--format", "json")
    [change] = json.loads(out)
    assert (change["decision_id"], change["at"], change["removed"]) == \
        ("preview", AT.isoformat(), [])
    assert [(c["name"], c["subject"]["id"]) for c in change["added"]] == \
        [("promotion_candidate", "S011")]


# ---- torn tails -------------------------------------------------------------------------------


def test_a_torn_tail_is_reported_then_cut_off_at_the_next_open(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: Policy,
        small: FactSet) -> None:
    path = tmp_path / "decisions.jsonl"
    small_log(path, policy, small, 2)
    intact = path.read_bytes()
    garbage = b'{"seq":4,"type":"decision","facts":{"sta'
    with path.open("ab") as file:
        file.write(garbage)
    result = verify(path)
    assert result.ok and result.records == 3
    assert result.torn_tail == garbage
    code, out, err = cli(capsys, "audit", "verify", str(path))
    assert code == 0 and "ok, 3 records" in out
    assert err == (f"warning: the log ends in a torn record (an interrupted append, "
                   f"{len(garbage)} bytes); it is cut off when the log is next opened "
                   "for writing\n")
    assert path.read_bytes() == intact + garbage  # verify repairs nothing

    with DecisionLog(path) as log:
        assert log.torn_tail == garbage
        assert path.read_bytes() == intact
        policy.decide(small, AT, log=log)
    result = verify(path)
    assert result.ok and result.records == 4 and result.torn_tail is None
    assert [r["seq"] for r in bodies(path)] == [1, 2, 3, 4]


def test_decide_cli_says_when_it_cuts_off_a_torn_tail(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    argv = ["decide", "--facts", str(COMPANY), "--at", AT.isoformat(), "--log", str(path)]
    assert cli(capsys, *argv)[0] == 0
    with path.open("ab") as file:
        file.write(b'{"torn')
    code, _, err = cli(capsys, *argv)
    assert code == 0
    assert "cut off a torn final record left by a crash" in err
    assert verify(path).ok and verify(path).records == 3


def test_a_corrupt_complete_record_is_not_silently_appended_after(
        tmp_path: Path, policy: Policy, small: FactSet) -> None:
    path = tmp_path / "decisions.jsonl"
    small_log(path, policy, small, 1)
    with path.open("ab") as file:
        file.write(b"not json at all\n")
    with pytest.raises(LogError, match="record 3 is not valid JSON"):
        DecisionLog(path)
    assert verify(path).bad_position == 3


# ---- found while testing ----------------------------------------------------------------------


def test_two_writers_on_one_log_keep_one_chain(path: Path, policy: Policy,
                                               small: FactSet) -> None:
    first, second = DecisionLog(path), DecisionLog(path)
    try:
        policy.decide(small, AT, log=first)
        policy.decide(small, AT, log=second)
    finally:
        first.close()
        second.close()
    assert verify(path).ok


def test_a_log_whose_recorded_policy_no_longer_compiles_can_still_be_previewed(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: Policy,
        small: FactSet) -> None:
    path = tmp_path / "old.jsonl"
    small_log(path, policy, small, 2)
    records = bodies(path)
    records[0]["sources"]["conclusions.kp"] += "\nthis line no longer parses\n"
    rewrite(path, rechain(records))
    assert verify(path).ok
    params = tmp_path / "changed.toml"
    params.write_text("training_reward_min_score = 96\n", "utf-8")
    code, out, err = cli(capsys, "audit", "replay", str(path), "--policy", str(RULES),
                         "--params", str(params), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["replayed"] == 2 and len(report["changes"]) == 2


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` read-only even for root (chattr +i), or skip."""
    os.chmod(path, 0o444)
    immutable = False
    try:
        if os.access(path, os.W_OK):  # root ignores the mode bits
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
            if done.returncode != 0:
                pytest.skip("cannot make a file read-only here")
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        os.chmod(path, 0o644)


def test_a_read_only_log_can_be_verified(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         policy: Policy, small: FactSet) -> None:
    path = tmp_path / "archived.jsonl"
    small_log(path, policy, small, 2)
    with read_only(path):
        code, out, err = cli(capsys, "audit", "verify", str(path))
    assert (code, err) == (0, ""), err
    assert "ok, 3 records" in out
