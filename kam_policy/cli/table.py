"""Plain-text tables for people (CJK characters count two columns)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from kam_policy.display import text_width
from kam_policy.engine.decision import Decision


def pad(text: str, size: int) -> str:
    return text + " " * max(0, size - text_width(text))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    sizes = [max([text_width(h)] + [text_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(pad(h, s) for h, s in zip(headers, sizes, strict=True)).rstrip(),
             "  ".join("-" * s for s in sizes)]
    lines.extend("  ".join(pad(c, s) for c, s in zip(row, sizes, strict=True)).rstrip()
                 for row in rows)
    return "\n".join(lines)


def _values(values: dict[str, object]) -> str:
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in values.items())


def decision_table(decision: Decision) -> str:
    """The conclusions of a decision, one line each, grouped by subject."""
    rows = [(str(c.subject), c.name, _values(dict(c.values)), f"{c.rule_id} ({c.file}:{c.line})")
            for c in decision.conclusions]
    head = (f"{decision.policy.name} version {decision.policy.version} "
            f"at {decision.at}: {len(rows)} conclusions")
    return head + "\n\n" + format_table(("subject", "conclusion", "values", "rule"), rows)
