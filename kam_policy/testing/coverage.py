"""Rule and table-row coverage: a tracer over test decisions -> what never fired or matched."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from kam_policy.engine.compile_rules import CompiledRule, Step
from kam_policy.engine.context import Conclusion, EvalContext
from kam_policy.engine.policy import Policy
from kam_policy.engine.tables import CompiledRow, CompiledTable
from kam_policy.grammar.span import Span


class CoverageTracer:
    """Remembers which rules fired and which table rows matched, over any number of decisions.

    Only what coverage needs is kept (ids and row numbers), so one tracer can follow a
    whole test run.
    """

    def __init__(self) -> None:
        self.fired: set[str] = set()
        self.rows_matched: set[tuple[str, int]] = set()

    def matched(self, ctx: EvalContext, rule: CompiledRule, item: Any,
                env: dict[str, Any]) -> None:
        self.fired.add(rule.id)

    def not_matched(self, ctx: EvalContext, rule: CompiledRule, item: Any, step: Step,
                    env: dict[str, Any]) -> None:
        return None

    def emitted(self, ctx: EvalContext, rule: CompiledRule, item: Any,
                conclusion: Conclusion) -> None:
        return None

    def table_matched(self, ctx: EvalContext, table: CompiledTable,
                      rows: tuple[CompiledRow, ...], inputs: dict[str, Any]) -> None:
        self.rows_matched.update((table.name, row.number) for row in rows)


@dataclass(frozen=True)
class Uncovered:
    """A rule that never fired, or a table row that never matched, and where it is written."""

    name: str  # the rule id, or "table row N"
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.name} ({self.file}:{self.line})"


@dataclass(frozen=True)
class Coverage:
    """How much of a policy a test run exercised."""

    rules_total: int
    rules_missed: tuple[Uncovered, ...]
    rows_total: int
    rows_missed: tuple[Uncovered, ...] = field(default=())

    @property
    def rule_ratio(self) -> Fraction:
        return _ratio(self.rules_total - len(self.rules_missed), self.rules_total)

    @property
    def row_ratio(self) -> Fraction:
        return _ratio(self.rows_total - len(self.rows_missed), self.rows_total)

    def below(self, percent: float) -> bool:
        """Whether rule or row coverage is under ``percent`` (0-100)."""
        floor = Fraction(str(percent)) / 100
        return self.rule_ratio < floor or self.row_ratio < floor

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": {"total": self.rules_total, "percent": percent_text(self.rule_ratio),
                      "never_fired": [str(u) for u in self.rules_missed]},
            "rows": {"total": self.rows_total, "percent": percent_text(self.row_ratio),
                     "never_matched": [str(u) for u in self.rows_missed]},
        }


def measure(policy: Policy, tracer: CoverageTracer) -> Coverage:
    """The coverage of ``policy`` by the decisions ``tracer`` followed."""
    files = {name: rank for rank, name in enumerate(policy.sources)}  # include order

    def written(span: Span) -> tuple[int, int]:
        return (files.get(span.source, len(files)), span.line)

    rules = tuple(Uncovered(rule.id, rule.span.source, rule.span.line)
                  for rule in sorted(policy.rules, key=lambda r: written(r.span))
                  if rule.id not in tracer.fired)
    rows: list[Uncovered] = []
    total_rows = 0
    for table in sorted(policy.tables.values(), key=lambda t: written(t.span)):
        total_rows += len(table.rows)
        rows.extend(Uncovered(f"{table.name} row {row.number}", row.span.source, row.span.line)
                    for row in table.rows if (table.name, row.number) not in tracer.rows_matched)
    return Coverage(len(policy.rules), rules, total_rows, tuple(rows))


def percent_text(ratio: Fraction) -> str:
    """``97.5%``: one decimal, rounded down so that 99.96% never shows as 100.0%."""
    tenths = ratio * 1000
    return f"{tenths.numerator // tenths.denominator / 10:.1f}%"


def _ratio(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(1)
