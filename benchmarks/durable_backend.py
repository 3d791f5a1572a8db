"""Sessions on the two backends — the snapshot engine and durable_rules — on one generated
complaint stream: events per second, and a check that both emit the same.

    python -m benchmarks.durable_backend                      # 200 and 1,000 complaints (~4 min)
    python -m benchmarks.durable_backend --complaints 500     # one size
    python -m benchmarks.durable_backend --keep               # complaints never archived

The stream (seeded): complaints of the four severities opened about 25 a day over working
hours; most get a first response, some late; most are resolved, some after the resolution
limit; most resolutions are reported to the client, some late; one in ten is reopened. Unless
``--keep``, a complaint is archived (removed) 7 days after it ends, so the number of open and
recent complaints stays about the same (~300) however long the stream — as in a service that
runs for months. Events go in batches of ``--batch`` (each ``feed`` call one batch); at the end
the session is advanced 30 days past the last event. The policy is
``examples/policies/escalation``.

Prints a Markdown table: events, emissions, wall and CPU seconds, events per second (by wall
and by CPU time: on a shared machine the CPU rate is the steadier), and the durable session's
set-up (building its ruleset). The emissions of both backends are
compared, in full, before anything is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kam_policy
from benchmarks import timing
from kam_policy.session import Session

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "policies" / "escalation"
CST = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=CST)
HOUR = dt.timedelta(hours=1)
SEVERITIES = ("minor", "general", "major", "critical")
RESPONSE = {"minor": 24, "general": 8, "major": 4, "critical": 1}  # hours
RESOLUTION = {"minor": 120, "general": 72, "major": 48, "critical": 24}
ARCHIVE = dt.timedelta(days=7)  # after a complaint ends, it is removed


def base(at: dt.datetime) -> list[dict[str, Any]]:
    """Two staff members and a client: what the complaints refer to."""
    staff = [{"id": ident, "name": f"Staff {ident}", "role": "after_sales" if manager else None,
              "education": "master", "major": "Management", "sales_years": 12,
              "ka_sales_years": 8, "pm_years": 3, "ka_project_years": 2, "after_sales_years": 6,
              "role_since": "2019-09-09" if manager else None, "manager_id": manager,
              "career_track": "management", "monthly_target_bonus": None}
             for ident, manager in (("S0", None), ("S1", "S0"))]
    client = {"id": "K1", "name": "Client", "tier": "strategic", "owner_id": "S1",
              "last_contact_at": at.isoformat(), "last_survey_at": "2025-12-30",
              "last_survey_score": 88}
    return [*({"at": at.isoformat(), "op": "put", "type": "Staff", "record": s} for s in staff),
            {"at": at.isoformat(), "op": "put", "type": "Client", "record": client}]


def stream(complaints: int, keep: bool, seed: int = 7) -> list[dict[str, Any]]:
    """The events of ``complaints`` complaint lifecycles, in time order."""
    rng = random.Random(seed)
    timed: list[tuple[dt.datetime, int, dict[str, Any]]] = []
    for number in range(complaints):
        opened = START + dt.timedelta(days=number // 25, hours=rng.uniform(0, 9))
        opened = opened.replace(microsecond=0)
        timed.extend((at, number, event)
                     for at, event in _lifecycle(rng, f"CP{number}", opened, keep))
    timed.sort(key=lambda item: (item[0], item[1]))
    return [*base(START - dt.timedelta(days=1)), *(event for _, _, event in timed)]


def _lifecycle(rng: random.Random, ident: str, opened: dt.datetime,
               keep: bool) -> Iterator[tuple[dt.datetime, dict[str, Any]]]:
    severity = rng.choice(SEVERITIES)
    record = {"id": ident, "client_id": "K1", "assigned_to": "S1", "severity": severity,
              "opened_at": opened.isoformat(), "first_response_at": None, "resolved_at": None,
              "client_notified_at": None, "reopened_count": 0}
    yield opened, {"at": opened.isoformat(), "op": "put", "type": "Complaint", "record": record}
    moment = opened
    if rng.random() < 0.9:
        moment = opened + _hours(rng, RESPONSE[severity] * rng.choice((0.5, 0.9, 1.5)))
        yield moment, _update(ident, moment, first_response_at=moment)
    reopened = 0
    while rng.random() < 0.85:
        moment = max(moment, opened) + _hours(rng, RESOLUTION[severity] * rng.choice((0.3, 0.8,
                                                                                       1.4)))
        yield moment, _update(ident, moment, resolved_at=moment)
        if reopened >= 2 or rng.random() > 0.1:
            break
        reopened += 1
        moment += _hours(rng, 12)
        yield moment, _update(ident, moment, reopened_count=reopened, resolved_at=None)
    else:
        return  # never resolved: it stays
    if rng.random() < 0.9:
        moment += _hours(rng, 24 * rng.choice((0.5, 1.5)))
        yield moment, _update(ident, moment, client_notified_at=moment)
    if not keep:
        moment += ARCHIVE
        yield moment, {"at": moment.isoformat(), "op": "remove", "type": "Complaint",
                       "id": ident}


def _hours(rng: random.Random, around: float) -> dt.timedelta:
    return dt.timedelta(seconds=round(around * 3600 * rng.uniform(0.8, 1.2)))


def _update(ident: str, at: dt.datetime, **changes: Any) -> dict[str, Any]:
    values = {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in changes.items()}
    return {"at": at.isoformat(), "op": "update", "type": "Complaint", "id": ident,
            "set": values}


def run(policy: kam_policy.Policy, engine: str, events: list[dict[str, Any]],
        batch: int) -> tuple[list[dict[str, Any]], float, float, float]:
    """Emissions, set-up seconds, wall seconds and CPU seconds of one session over ``events``."""
    timing.settle()
    began = time.perf_counter()
    session = Session(policy, engine=engine)
    setup = time.perf_counter() - began
    wall, cpu = time.perf_counter(), time.process_time()
    emitted = []
    for start in range(0, len(events), batch):
        emitted.extend(session.feed(events[start:start + batch]).emissions)
    end = dt.datetime.fromisoformat(events[-1]["at"]) + dt.timedelta(days=30)
    emitted.extend(session.advance_to(end))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return [e.to_dict() for e in emitted], setup, wall, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, nargs="*", default=[200, 1000])
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="never archive complaints")
    parser.add_argument("--engines", nargs="*", default=["snapshot", "durable"],
                        choices=["snapshot", "durable"])
    args = parser.parse_args(argv)
    policy = kam_policy.load(POLICY)
    info = timing.machine()
    print(f"Machine: {info.get('cpu')}, {info['cores']} cores, Python {info['python']}; "
          f"batches of {args.batch} events; complaints {'kept' if args.keep else 'archived'}")
    print()
    print("| complaints | events | emissions | backend | set-up | wall | CPU | events/s (wall) "
          "| events/s (CPU) |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for complaints in args.complaints:
        events = stream(complaints, args.keep)
        results = {engine: run(policy, engine, events, args.batch) for engine in args.engines}
        if len({repr(r[0]) for r in results.values()}) > 1:
            raise SystemExit(f"the backends disagree on {complaints} complaints")
        for engine, (emitted, setup, wall, cpu) in results.items():
            print(f"| {complaints:,} | {len(events):,} | {len(emitted):,} | {engine} | "
                  f"{setup * 1000:.0f} ms | {wall:.2f} s | {cpu:.2f} s | "
                  f"{len(events) / wall:,.0f} | {len(events) / cpu:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
