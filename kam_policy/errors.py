"""The error tree and structured diagnostics shared by every stage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from kam_policy.grammar.span import Span

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a policy: a stable code, a message, where, and how to fix it."""

    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    severity: Severity = "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.code)
        return (self.span.source, self.span.line, self.span.column, self.code)


@dataclass(frozen=True)
class FactIssue:
    """One problem with one input fact: type, index, id, field and message."""

    key: str
    index: int | None
    fact_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.key if self.index is None else f"{self.key}[{self.index}]"
        if self.fact_id is not None:
            where += f" (id {self.fact_id})"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class KamPolicyError(Exception):
    """Base of every error kam_policy raises on purpose."""


class PolicyError(KamPolicyError):
    """A policy could not be loaded; ``diagnostics`` lists every finding."""

    def __init__(self, diagnostics: Iterable[Diagnostic], rendered: str | None = None) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        self.rendered = rendered or "\n".join(
            f"{d.span or '<policy>'}: {d.severity}[{d.code}] {d.message}" for d in self.diagnostics
        )
        super().__init__(self.rendered)

    def __reduce__(self) -> tuple[type, tuple[list[Diagnostic], str]]:
        return (type(self), (self.diagnostics, self.rendered))


class PolicyLoadError(PolicyError):
    """A policy's files cannot be read: missing, outside the folder, an include cycle."""


class PolicySyntaxError(PolicyError):
    """A rule file does not parse."""


class PolicyCheckError(PolicyError):
    """A policy parses but fails checking (types, names, cycles)."""


class ParameterError(PolicyError):
    """A parameters file is malformed or does not fit the declared parameters."""


class PolicyEvalError(KamPolicyError):
    """Evaluation failed for a reason the data exposed (e.g. a UNIQUE table matched twice)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        self.diagnostics = [diagnostic]
        where = f"{diagnostic.span}: " if diagnostic.span else ""
        super().__init__(f"{where}error[{diagnostic.code}] {diagnostic.message}")

    def __reduce__(self) -> tuple[type, tuple[Diagnostic]]:
        return (type(self), (self.diagnostic,))


class FactError(KamPolicyError):
    """Input facts are invalid; ``issues`` lists every bad record and field."""

    def __init__(self, issues: Iterable[FactIssue], headline: str | None = None) -> None:
        self.issues = list(issues)
        self.headline = headline
        lines = [headline] if headline else []
        lines.extend(str(issue) for issue in self.issues)
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[type, tuple[list[FactIssue], str | None]]:
        return (type(self), (self.issues, self.headline))
