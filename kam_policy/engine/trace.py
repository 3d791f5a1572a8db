"""Tracing hooks. Evaluation calls a tracer only when one is passed in, so none costs nothing."""

from __future__ import annotations

from typing import Any, Protocol

from kam_policy.engine.compile_rules import CompiledRule, Step


class Tracer(Protocol):
    """Receives what evaluation does, rule by rule and subject by subject."""

    def matched(self, rule: CompiledRule, subject: Any, env: dict[str, Any]) -> None:
        """``rule`` fired for ``subject``; ``env`` holds its bindings."""

    def not_matched(self, rule: CompiledRule, subject: Any, step: Step,
                    env: dict[str, Any]) -> None:
        """``rule`` did not fire for ``subject``: ``step`` is the first condition that failed."""


class RecordingTracer:
    """A tracer that keeps every event in memory (for tests, coverage and explanations)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, Any, dict[str, Any], Step | None]] = []

    def matched(self, rule: CompiledRule, subject: Any, env: dict[str, Any]) -> None:
        self.events.append(("matched", rule.id, subject, dict(env), None))

    def not_matched(self, rule: CompiledRule, subject: Any, step: Step,
                    env: dict[str, Any]) -> None:
        self.events.append(("not_matched", rule.id, subject, dict(env), step))

    def fired_rules(self) -> set[str]:
        return {rule_id for kind, rule_id, *_ in self.events if kind == "matched"}
