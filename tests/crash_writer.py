"""A decision-log writer for tests/test_crash_safety.py, to be killed with SIGKILL.

It loads the bundled policy once and serves as a fork server (``tests/fork_server.py``). For
each command line on stdin::

    LOG-PATH EXTRA-STAFF MODE

it forks a writer, which opens ``DecisionLog`` (cutting off a torn tail a previous kill left),
reports ``ready TORN`` (the length of the torn tail it cut off, -1 for none), then decides and
records until killed, reporting ``ack SEQ`` after each ``record`` call has returned.

MODE is how the writer's appends reach the file:

- ``plain``: untouched; each record is the one ``write`` + ``fsync`` of the real store.
- ``split``: the store's ``write`` is passed to the file in small pieces with a pause between
  them, as the kernel may do with a large write to a slow disk. The store's own code (lock,
  write, flush, fsync) is unchanged; only the window in which a kill tears a record is wider.
- ``stall``: the first record's ``write`` stops after a random number of bytes, reports
  ``partial BYTES`` and waits to be killed: a torn tail on demand.
"""

from __future__ import annotations

import builtins
import datetime as dt
import random
import time
from typing import Any

from fork_server import say, serve

import kam_policy
import kam_policy.audit.store as store_module
from kam_policy.audit import DecisionLog

AT = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
MAX_RECORDS = 100_000  # a writer nobody kills stops here
PIECE = 512  # bytes per piece in split mode


def person(staff_id: str, manager: str | None, role: str | None) -> dict[str, Any]:
    return {"id": staff_id, "name": f"员工 {staff_id}", "role": role, "education": "bachelor",
            "major": "finance", "sales_years": 5, "ka_sales_years": 2, "pm_years": 0,
            "ka_project_years": 0, "after_sales_years": 0,
            "role_since": "2020-01-01" if role else None, "manager_id": manager,
            "career_track": "professional" if role else "management",
            "monthly_target_bonus": "2000" if role else None}


def tiny_facts(extra_staff: int = 0) -> dict[str, list[dict[str, Any]]]:
    """A manager and a sales rep with an appraisal (grade A, so a bonus) and a training (a
    reward), plus ``extra_staff`` more reps to make records bigger."""
    staff = [person("M1", None, None), person("S1", "M1", "sales_rep")]
    staff += [person(f"X{i:05d}", "M1", "sales_rep") for i in range(extra_staff)]
    scores = {d: {"supervisor": 88}
              for d in ("performance", "attitude", "teamwork", "satisfaction")}
    return {
        "staff": staff,
        "appraisals": [{"id": "P1", "staff_id": "S1", "kind": "monthly", "period": "2026-10",
                        "scores": scores}],
        "trainings": [{"id": "T1", "staff_id": "S1", "course": "Key accounts",
                       "kind": "external", "completed_on": "2026-10-15", "exam_score": 95}],
    }


class _SlowFile:
    """A file opened for appending whose ``write`` goes to the disk piece by piece."""

    def __init__(self, file: Any, stall: bool) -> None:
        self._file = file
        self._stall = stall

    def write(self, data: bytes) -> int:
        if self._stall:
            cut = random.randint(1, len(data) - 1)
            self._file.write(data[:cut])
            self._file.flush()
            say(f"partial {cut}")
            while True:
                time.sleep(60)
        for start in range(0, len(data), PIECE):
            self._file.write(data[start:start + PIECE])
            self._file.flush()
            time.sleep(0.001)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def __iter__(self) -> Any:
        return iter(self._file)

    def __enter__(self) -> _SlowFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


def slow_appends(stall: bool) -> None:
    def opener(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        file = builtins.open(path, mode, *args, **kwargs)  # noqa: SIM115 (the store closes it)
        return _SlowFile(file, stall) if mode in ("ab", "ab+") else file

    store_module.open = opener  # type: ignore[attr-defined]


def write_until_killed(policy: kam_policy.Policy, path: str, extra_staff: int,
                       mode: str) -> None:
    facts = policy.validate(tiny_facts(extra_staff))
    if mode != "plain":  # the store keeps its file open: slow it down before it opens
        slow_appends(stall=mode == "stall")
    log = DecisionLog(path)
    torn = log.torn_tail
    say(f"ready {len(torn) if torn is not None else -1}")
    for minute in range(MAX_RECORDS):
        decision = policy.decide(facts, AT + dt.timedelta(minutes=minute))
        record = log.record(policy, facts, decision)
        say(f"ack {record['seq']}")
    log.close()


def main() -> None:
    policy = kam_policy.load()

    def job(words: list[str]) -> None:
        path, extra, mode = words
        random.seed()  # a fork has the server's random state: each writer tears elsewhere
        write_until_killed(policy, path, int(extra), mode)

    serve(job, error_status=3)


if __name__ == "__main__":
    main()
