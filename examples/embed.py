"""Embed kam_policy: load the bundled policy once, decide on the example company, explain.

Run: .venv/bin/python examples/embed.py
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import kam_policy
from kam_policy.explain import explain, render_explanation

HERE = Path(__file__).parent


def main() -> None:
    policy = kam_policy.load()  # checked and compiled once; immutable, thread-safe
    facts = json.loads((HERE / "company.json").read_text("utf-8"))
    now = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    decision = policy.decide(facts, now)

    print(f"{policy.name} {policy.version}: {len(decision.conclusions)} conclusions")
    for conclusion in decision.named("escalation"):
        print(f"  {conclusion.subject}: level {conclusion.values['level']} -> "
              f"{conclusion.values['to']}  [{conclusion.rule_id} {conclusion.file}:"
              f"{conclusion.line}]")

    first = decision.named("bonus")[0]
    why = explain(policy, facts, now, subject=(first.subject.type, first.subject.id))
    print(render_explanation(why, "en"))


if __name__ == "__main__":
    main()
