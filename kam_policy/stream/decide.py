"""Deciding a stream: valid lines in, one ``Decision`` per line out, leaving out what the base
facts conclude on their own (those would otherwise repeat on every line that refers to them)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kam_policy.engine.decision import Conclusion, Decision
from kam_policy.engine.policy import DecisionRecorder, Policy
from kam_policy.facts.load import FactSet
from kam_policy.stream.base import BaseFacts
from kam_policy.stream.lines import LineReader
from kam_policy.stream.validate import LineValidator, RejectedLine, ValidLine

__all__ = ["LineDecider", "LineDecision", "decide_lines"]


@dataclass(frozen=True)
class LineDecision:
    """The decision on one line.

    Args:
        line: the line number, from 1.
        decision: the conclusions drawn from the line's facts (with the base records they
            refer to), without those the base facts draw on their own.
        count: how many records the line holds.
    """

    line: int
    decision: Decision
    count: int


_Key = tuple[str, str, str, str, str]


def _key(conclusion: Conclusion) -> _Key:
    values = json.dumps(conclusion.values, sort_keys=True, ensure_ascii=False)
    subject = conclusion.subject
    return (subject.type, subject.id, conclusion.name, values, conclusion.rule_id)


class LineDecider:
    """Decides valid lines one at a time, at one time ``now``.

    Args:
        policy: the compiled policy.
        now: the decision time, with a time zone.
        base: the reference facts; what they conclude on their own (``policy.decide(base)``)
            is left out of every line's decision.
        log: a decision log; each line's decision is recorded whole, with the facts decided
            on, so that ``audit replay`` reproduces it.
    """

    def __init__(self, policy: Policy, now: dt.datetime, *, base: BaseFacts | None = None,
                 log: DecisionRecorder | None = None) -> None:
        self.policy = policy
        self.now = now
        self.log = log
        own = policy.decide(base.facts, now).conclusions if base is not None else ()
        self.base_conclusions = len(own)
        """How many conclusions the base facts draw on their own (left out of every line)."""
        self._base_keys = {_key(c) for c in own}
        self._base_subjects = {(c.subject.type, c.subject.id) for c in own}

    def decide(self, line: ValidLine) -> Decision:
        """The decision on one line (raises ``PolicyEvalError`` as ``Policy.decide`` does)."""
        decision = self.policy.decide(line.facts, self.now, log=self.log)
        if not self._base_subjects:
            return decision
        kept = tuple(c for c in decision.conclusions if not self._from_base(c))
        if len(kept) == len(decision.conclusions):
            return decision
        return dataclasses.replace(decision, conclusions=kept)

    def _from_base(self, conclusion: Conclusion) -> bool:
        subject = conclusion.subject
        return ((subject.type, subject.id) in self._base_subjects
                and _key(conclusion) in self._base_keys)


def decide_lines(policy: Policy, lines: Iterable[bytes] | Iterable[str], now: dt.datetime, *,
                 base: FactSet | None = None,
                 log: DecisionRecorder | None = None) -> Iterator[LineDecision | RejectedLine]:
    """Decide each line of a JSON Lines stream of facts objects, in bounded memory.

    Args:
        policy: the compiled policy.
        lines: the lines, e.g. a file opened in binary mode; blank lines are passed over.
        now: the decision time, with a time zone.
        base: reference facts shared by every line (validated, e.g. ``policy.validate``).
        log: a decision log recording each line's decision.

    Yields:
        For each non-blank line, in order: a ``LineDecision``, or a ``RejectedLine`` naming
        every problem of the line (the caller chooses to skip it or to stop).
    """
    base_facts = BaseFacts(base) if base is not None else None
    validator = LineValidator(policy.schema, base_facts)
    decider = LineDecider(policy, now, base=base_facts, log=log)
    for batch in LineReader(lines).batches():
        for checked in validator.validate(batch):
            yield _decided(decider, checked)


def _decided(decider: LineDecider,
             checked: ValidLine | RejectedLine) -> LineDecision | RejectedLine:
    if isinstance(checked, RejectedLine):
        return checked
    return LineDecision(checked.line, decider.decide(checked), checked.count)
