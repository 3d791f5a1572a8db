"""A session runner for tests/test_session_crash.py, to be killed with SIGKILL.

It loads the bundled policy once and serves as a fork server (``tests/fork_server.py``): for
each line ``STATE-DB EVENTS-FILE BATCH`` on stdin it forks a runner. The runner opens the state
(resuming where the last one stopped: the line the ``line`` mark says), feeds the rest of the
events file in batches, and after each ``feed`` has returned — the batch is committed, i.e.
acknowledged — reports ``ack LINE``. It reports ``finished`` at the end of the file.
"""

from __future__ import annotations

from pathlib import Path

from fork_server import say, serve

import kam_policy
from kam_policy.session import Session, SqliteStore
from kam_policy.session.events import read_event_lines


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

    def job(words: list[str]) -> None:
        state, events, size = words
        run(policy, Path(state), Path(events), int(size))

    serve(job)


if __name__ == "__main__":
    main()
