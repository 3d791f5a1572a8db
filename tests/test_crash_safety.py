"""Crash safety of the decision log (issue 7, item 6): SIGKILL a writer at random points.

A writer process (``tests/crash_writer.py``) appends decisions to a log in a loop and reports
each sequence number once ``DecisionLog.record`` has returned (an acknowledged record). The
test kills it with SIGKILL after a random delay, again and again on the same log, and after
every kill checks that

- every acknowledged record is in the log, with consecutive sequence numbers;
- ``audit verify`` passes on the intact records;
- a torn last record, if the kill left one, is reported by verify, and the next writer to open
  the log cuts it off (reporting exactly what it cut) and appends cleanly after it.

The number of kills per store is ``KAM_CRASH_ITERATIONS`` (default 30, a few seconds, so
``make test`` stays fast); ``KAM_CRASH_ITERATIONS=300`` is the full run of the issue. The
random delays come from ``KAM_CRASH_SEED`` when it is set (the seed of a failing run is in its
assertion messages).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import fork_server
import pytest

from kam_policy.audit import DecisionLog, read_records, verify
from kam_policy.cli import main

ITERATIONS = int(os.environ.get("KAM_CRASH_ITERATIONS", "30"))
SEED = int(os.environ.get("KAM_CRASH_SEED", str(random.randrange(2**32))))
WRITER = Path(__file__).with_name("crash_writer.py")
TIMEOUT = 60.0  # seconds to wait for any one report of the writer

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")


class Server(fork_server.Server):
    """The fork server of tests/crash_writer.py."""

    def __init__(self) -> None:
        super().__init__(WRITER, "writer", TIMEOUT)

    def start(self, path: Path, mode: str = "plain", extra_staff: int = 0) -> None:
        self.command(path, extra_staff, mode)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    started = Server()
    yield started
    started.close()


@dataclass
class Run:
    """What one writer reported before it was killed."""

    pid: int = 0
    torn: int | None = None  # the length of the torn tail it cut off (-1: none); None: no ready
    acks: list[int] = field(default_factory=list)
    partial: int | None = None
    status: int | None = None

    def take(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        if word == "forked":
            self.pid = int(rest)
        elif word == "ready":
            self.torn = int(rest)
        elif word == "ack":
            self.acks.append(int(rest))
        elif word == "partial":
            self.partial = int(rest)
        elif word == "done":
            self.status = int(rest.split()[1])
        else:
            raise AssertionError(f"unexpected report {line!r}")


def wait_for(server: Server, run: Run, done: Callable[[Run], bool]) -> None:
    """Take the writer's reports until ``done(run)``."""
    while not done(run):
        run.take(server.next())
        assert run.status is None, "the writer stopped by itself"


def kill_and_reap(server: Server, run: Run) -> None:
    os.kill(run.pid, signal.SIGKILL)
    while run.status is None:
        run.take(server.next())
    assert os.WIFSIGNALED(run.status) and os.WTERMSIG(run.status) == signal.SIGKILL


def seqs(path: Path) -> list[int]:
    return [int(raw.body["seq"]) for raw in read_records(path) if raw.body is not None]


def cli_verify(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["audit", "verify", str(path)])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("suffix", [".jsonl", ".sqlite"])
def test_sigkill_at_random_points_loses_no_acknowledged_record(
        server: Server, tmp_path: Path, suffix: str) -> None:
    rng = random.Random(SEED)
    path = tmp_path / f"decisions{suffix}"
    acknowledged: list[int] = []
    expected_torn = -1  # what the next writer should report cutting off
    torn_tails = 0
    for round_ in range(ITERATIONS):
        where = f"seed {SEED}, kill {round_ + 1} of {ITERATIONS}"
        # Every third JSON Lines writer passes its bytes to the disk in pieces, so that some
        # kills land inside a record and leave a torn tail to repair.
        mode = "split" if suffix == ".jsonl" and round_ % 3 == 2 else "plain"
        early = rng.random() < 0.1  # sometimes kill while the writer opens (and repairs)
        run = Run()
        server.start(path, mode)
        wait_for(server, run, lambda r: r.pid != 0)
        if not early:
            wait_for(server, run, lambda r: r.torn is not None)
        time.sleep(rng.uniform(0, 0.005 if early else 0.12))
        kill_and_reap(server, run)

        if run.torn is not None:
            assert run.torn == expected_torn, f"{where}: the writer cut off {run.torn} " \
                f"characters, verify had reported {expected_torn}"
        previous = [acknowledged[-1] if acknowledged else 0, *run.acks]
        assert all(a < b for a, b in itertools.pairwise(previous)), \
            f"{where}: sequence numbers acknowledged out of order: {previous}"
        acknowledged.extend(run.acks)

        if not path.exists():  # killed before it created the log
            assert not acknowledged, where
            continue
        result = verify(path)
        assert result.ok, f"{where}: {result}"
        present = seqs(path)
        assert present == list(range(1, result.records + 1)), where
        missing = set(acknowledged) - set(present)
        assert not missing, f"{where}: acknowledged records {sorted(missing)} are gone"
        if result.torn_tail is not None:
            assert suffix == ".jsonl"
            torn_tails += 1
            expected_torn = len(result.torn_tail)
        else:
            expected_torn = -1

    DecisionLog(path).close()  # the next open repairs whatever the last kill left
    final = verify(path)
    assert final.ok and final.torn_tail is None, final
    assert set(acknowledged) <= set(seqs(path))
    assert acknowledged, f"seed {SEED}: no writer acknowledged anything; the delays are too short"
    code, out, err = cli_verify(path)
    assert (code, err) == (0, ""), out + err
    assert f"ok, {final.records} records" in out
    print(f"{suffix}: {ITERATIONS} kills, {len(acknowledged)} acknowledged records, "
          f"{final.records} in the log, {torn_tails} torn tails repaired (seed {SEED})")


def test_a_kill_in_the_middle_of_a_record_leaves_a_torn_tail_that_is_reported_and_repaired(
        server: Server, tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    acknowledged: list[int] = []
    records = 0
    for _ in range(4):
        before = path.read_bytes() if path.exists() else b""
        stalled = Run()
        server.start(path, "stall")
        wait_for(server, stalled, lambda r: r.partial is not None)
        kill_and_reap(server, stalled)
        assert stalled.torn == -1 and not stalled.acks
        assert stalled.partial is not None
        assert path.stat().st_size == len(before) + stalled.partial

        result = verify(path)
        assert result.ok and result.torn_tail is not None, result
        assert result.records == records
        code, out, err = cli_verify(path)
        assert code == 0, out + err
        assert f"ok, {records} records" in out
        assert "torn record" in err and "cut off when the log is next opened for writing" in err

        writer = Run()
        server.start(path)
        wait_for(server, writer, lambda r: len(r.acks) >= 2)
        kill_and_reap(server, writer)
        assert writer.torn == len(result.torn_tail)
        acknowledged.extend(writer.acks)
        result = verify(path)
        assert result.ok, result
        assert set(acknowledged) <= set(seqs(path))
        # The torn bytes were cut off: the intact records are followed by new ones.
        assert path.read_bytes().startswith(before)
        if result.torn_tail is not None:  # the kill happened to tear a record too: start clean
            DecisionLog(path).close()
        records = result.records
    DecisionLog(path).close()
    final = verify(path)
    assert final.ok and final.torn_tail is None
    assert seqs(path) == list(range(1, final.records + 1))
