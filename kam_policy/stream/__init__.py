"""Streaming decisions: JSON Lines of facts objects in, one decision per line out, in bounded
memory — for month-end runs over millions of records.

Each line is a facts object as a facts file holds one (``{"appraisals": [{...}]}``) and is
decided on its own, together with the base records (``--facts base.json``) it refers to.
Typical use::

    base = policy.validate(json.load(open("staff.json")))
    with open("appraisals.jsonl", "rb") as lines:
        for result in decide_lines(policy, lines, now, base=base):
            if isinstance(result, RejectedLine):
                print(*result.issues, sep="\\n")
            else:
                print(result.line, result.decision.to_json(indent=None))
"""

from kam_policy.stream.base import BaseFacts
from kam_policy.stream.decide import LineDecider, LineDecision, decide_lines
from kam_policy.stream.lines import LineIssue, LineReader, parse_line
from kam_policy.stream.progress import Progress
from kam_policy.stream.validate import LineValidator, RejectedLine, ValidLine

__all__ = [
    "BaseFacts",
    "LineDecider",
    "LineDecision",
    "LineIssue",
    "LineReader",
    "LineValidator",
    "Progress",
    "RejectedLine",
    "ValidLine",
    "decide_lines",
    "parse_line",
]
