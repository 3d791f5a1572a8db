"""A durable session killed with SIGKILL at random points, again and again, then resumed:
no acknowledged event is lost, no conclusion is emitted twice, and the emissions are exactly
those of a run nobody interrupted (issue 6, item 3).

``KAM_CRASH_ITERATIONS`` kills (default 12); ``KAM_CRASH_SEED`` fixes the random delays (the
seed of a failing run is in its assertion messages).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fork_server
import pytest
from test_session import START, base_events, complaint, update

import kam_policy
from kam_policy.session import Session
from kam_policy.session.events import read_event_lines

ITERATIONS = int(os.environ.get("KAM_CRASH_ITERATIONS", "12"))
SEED = int(os.environ.get("KAM_CRASH_SEED", str(random.randrange(2**32))))
WORKER = Path(__file__).with_name("session_worker.py")
TIMEOUT = 120.0

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")


def write_events(path: Path, complaints: int) -> int:
    """A month of complaints, responses and resolutions; returns the number of lines.

    No two events share an instant, so how they are cut into batches changes nothing (events of
    one instant in one batch are settled together)."""
    rng = random.Random(7)
    start = START - dt.timedelta(days=1)
    timed: list[tuple[dt.datetime, int, dict[str, Any]]] = [
        (start, 0, e) for e in base_events(start)]
    for n in range(complaints):
        opened = START + dt.timedelta(minutes=rng.randrange(0, 30 * 24 * 60), microseconds=n)
        ident = f"CP{n:03d}"
        severity = rng.choice(["minor", "general", "major", "critical"])
        timed.append((opened, 1, complaint(ident, opened, severity)))
        response = opened + dt.timedelta(minutes=rng.randrange(10, 10 * 60))
        timed.append((response, 2, update(response, ident, first_response_at=response)))
        resolved = response + dt.timedelta(hours=rng.randrange(1, 60))
        timed.append((resolved, 3, update(resolved, ident, resolved_at=resolved)))
    timed.sort(key=lambda t: (t[0], t[1]))
    seen = set()
    for at, _, event in timed:
        while at in seen:
            at += dt.timedelta(microseconds=1)
        seen.add(at)
        event["at"] = at.isoformat()
    path.write_text("".join(json.dumps(e) + "\n" for _, _, e in timed), encoding="utf-8")
    return len(timed)


class Server(fork_server.Server):
    """The fork server of tests/session_worker.py."""

    def __init__(self) -> None:
        super().__init__(WORKER, "session", TIMEOUT)

    def start(self, state: Path, events: Path, batch: int) -> int:
        """Start a runner; its pid."""
        self.command(state, events, batch)
        word, pid = self.next().split()
        assert word == "forked"
        return int(pid)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    started = Server()
    yield started
    started.close()


def stored(state: Path) -> tuple[list[dict[str, Any]], int, int]:
    """The emissions, the number of events and the ``line`` mark in a state database (none if
    the writer was killed before its tables were created: they come all at once or not at all)."""
    with contextlib.closing(sqlite3.connect(state)) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            return [], 0, 0
        emissions = [json.loads(b) for (b,) in db.execute(
            "SELECT body FROM emissions ORDER BY seq")]
        events = db.execute("SELECT count(*) FROM events").fetchone()[0]
        mark = db.execute("SELECT value FROM meta WHERE key = 'mark:line'").fetchone()
    return emissions, events, int(json.loads(mark[0])) if mark else 0


def test_sigkill_and_resume_loses_nothing_and_repeats_nothing(
        server: Server, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = write_events(events, 120)
    state = tmp_path / "state.db"
    rng = random.Random(SEED)
    acknowledged = 0
    for kill in range(ITERATIONS):
        where = f"seed {SEED}, kill {kill + 1} of {ITERATIONS}"
        pid = server.start(state, events, rng.choice([1, 3, 10]))
        time.sleep(rng.uniform(0.0, 0.8))
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        finished = False
        while True:
            word, _, rest = server.next().partition(" ")
            if word == "ack":
                acknowledged = max(acknowledged, int(rest))
            elif word == "finished":
                finished = True
            elif word == "done":
                break
        if not state.exists():
            continue
        emissions, count, mark = stored(state)
        assert mark >= acknowledged, f"{where}: acknowledged line {acknowledged} is lost"
        assert count == mark, f"{where}: {count} events stored for {mark} lines"
        assert [e["seq"] for e in emissions] == list(range(1, len(emissions) + 1)), where
        if finished:
            break
    pid = server.start(state, events, 10)  # and now to the end, undisturbed
    while server.next().split()[0] != "done":
        pass
    emissions, count, mark = stored(state)
    assert (count, mark) == (lines, lines)

    policy = kam_policy.load()  # the same events in one uninterrupted, in-memory session
    session = Session(policy)
    numbered = list(read_event_lines(events))
    expected = session.feed([n.event for n in numbered], labels=[f"line {n.line}"
                                                               for n in numbered])
    got = [{k: v for k, v in e.items() if k != "event"} for e in emissions]
    want = [{k: v for k, v in e.to_dict().items() if k != "event"} for e in expected.emissions]
    assert got == want, f"seed {SEED}"
