"""A session runner for tests/test_session_crash.py, to be killed with SIGKILL.

Loading the bundled policy takes about a second, so this script does it once and serves as a
fork server: for each line ``STATE-DB EVENTS-FILE BATCH`` on stdin it forks a runner and reports
``forked PID``. The runner opens the state (resuming where the last one stopped: the line the
``line`` mark says), feeds the rest of the events file in batches, and after each ``feed`` has
returned — the batch is committed, i.e. acknowledged — reports ``ack LINE``. It reports
``finished`` at the end of the file. The server reaps each runner and reports ``done PID
STATUS``. Every report is one ``os.write`` of one short line to a pipe.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import kam_policy
from kam_policy.session import Session, SqliteStore
from kam_policy.session.events import read_event_lines


def say(line: str) -> None:
    os.write(1, (line + "\n").encode("utf-8"))


def run(policy: kam_policy.Policy, state: Path, events: Path, size: int) -> None:
    store = SqliteStore(state)
    session = Session(policy, store)
    start = int(store.mark("line") or 0)
    batch, labels, last = [], [], start
    for numbered in read_event_lines(events, start):
        assert numbered.event is not None
        batch.append(numbered.event)
        labels.append(f"line {numbered.line}")
        last = numbered.line
        if len(batch) == size:
            session.feed(batch, marks={"line": last}, labels=labels)
            say(f"ack {last}")
            batch, labels = [], []
    if batch:
        session.feed(batch, marks={"line": last}, labels=labels)
        say(f"ack {last}")
    say("finished")


def main() -> None:
    policy = kam_policy.load()
    say("server ready")
    for command in sys.stdin:
        state, events, size = command.split()
        pid = os.fork()
        if pid == 0:
            try:
                run(policy, Path(state), Path(events), int(size))
                code = 0
            except BaseException:
                say("error " + traceback.format_exc().replace("\n", " | "))
                code = 1
            os._exit(code)
        say(f"forked {pid}")
        _, status = os.waitpid(pid, 0)
        say(f"done {pid} {status}")


if __name__ == "__main__":
    main()
