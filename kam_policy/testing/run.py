"""Running policy tests: cases x a compiled policy -> pass/fail results, and coverage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kam_policy.engine.decision import Conclusion
from kam_policy.engine.declarations import did_you_mean
from kam_policy.engine.policy import Policy
from kam_policy.errors import FactError, PolicyEvalError
from kam_policy.facts.schema import FactSchema
from kam_policy.testing.cases import (
    Background,
    Case,
    CaseFile,
    Expectation,
    Problem,
    TestFileError,
)
from kam_policy.testing.coverage import Coverage, CoverageTracer, measure
from kam_policy.testing.load import load_case_file
from kam_policy.testing.values import values_match

Status = Literal["pass", "fail", "error"]


@dataclass(frozen=True)
class Mismatch:
    """An expectation that did not hold.

    For ``expect``: ``found`` are the near misses (same name and subject, other values).
    For ``absent``: ``found`` are the conclusions that should not have been drawn.
    """

    expectation: Expectation
    found: tuple[Conclusion, ...]


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case: ``error`` means the case itself is broken (bad facts)."""

    case: Case
    status: Status
    mismatches: tuple[Mismatch, ...] = ()
    conclusions: tuple[Conclusion, ...] = ()
    message: str | None = None


@dataclass
class SuiteResult:
    """Every case result, the invalid-file problems, and coverage when it was measured."""

    results: list[CaseResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    coverage: Coverage | None = None

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def invalid(self) -> bool:
        return bool(self.problems) or self.count("error") > 0

    @property
    def passed(self) -> bool:
        return not self.invalid and self.count("fail") == 0


def run_files(policy: Policy, paths: Iterable[str | Path]) -> SuiteResult:
    """Load and run every test file; problems of one file do not stop the others.

    Args:
        policy: the compiled policy under test.
        paths: test files.

    Returns:
        The results, with coverage over every case that ran.
    """
    suite = SuiteResult()
    files = []
    for path in paths:
        try:
            files.append(load_case_file(path))
        except TestFileError as error:
            suite.problems.extend(error.problems)
    tracer = CoverageTracer()
    for case_file in files:
        problems = check_file(policy, case_file)
        suite.problems.extend(problems)
        broken = {p.case for p in problems}
        suite.results.extend(run_case(policy, case, case_file.background, tracer)
                             for case in case_file.cases if case.name not in broken)
    suite.coverage = measure(policy, tracer)
    return suite


def check_file(policy: Policy, case_file: CaseFile) -> list[Problem]:
    """Expectations naming conclusions, values or subject types the policy does not have
    (they would pass vacuously under ``absent``), and cases with no ``now``."""
    problems = []
    for case in case_file.cases:
        if case.now is None and case_file.background.now is None:
            problems.append(Problem(case.file, case.line, 0, "the case has no 'now' (and the "
                                    "file no background 'now')", case.name))
        problems.extend(Problem(case.file, e.line, 0, message, case.name)
                        for e in case.expectations
                        if (message := _expectation_problem(policy, e)) is not None)
    return problems


def _expectation_problem(policy: Policy, expectation: Expectation) -> str | None:
    decl = policy.declarations.conclusions.get(expectation.name)
    if decl is None:
        names = sorted(policy.declarations.conclusions)
        hint = did_you_mean(expectation.name, names)
        return f"the policy has no conclusion '{expectation.name}'" + (f"; {hint}" if hint else "")
    subject_type = _subject_type(policy.schema, decl.about)
    if subject_type is not None and expectation.subject_type != subject_type:
        return (f"'{expectation.name}' is about a {subject_type}, so its subject is written "
                f"{subject_type}:ID, not {expectation.subject}")
    fields = [f.name for f in decl.fields]
    unknown = [k for k in (expectation.values or {}) if k not in fields]
    if unknown:
        listed = ", ".join(fields) or "no values"
        return f"'{expectation.name}' has no value '{unknown[0]}' (it has {listed})"
    return None


def _subject_type(schema: FactSchema, about: str) -> str | None:
    return schema[about].subject if about in schema else None


def run_case(policy: Policy, case: Case, background: Background | None = None,
             tracer: CoverageTracer | None = None) -> CaseResult:
    """Decide on a case's facts at its ``now`` and compare with its expectations.

    Args:
        policy: the compiled policy under test.
        case: the case.
        background: the file's background (``now`` and facts the case starts from).
        tracer: follows the decision, for coverage.

    Returns:
        ``pass``, ``fail`` (with the mismatches) or ``error`` (the facts are invalid).
    """
    background = background or Background()
    now = case.now or background.now
    if now is None:
        return CaseResult(case, "error", message="the case has no 'now'")
    facts = merge_facts(background.facts, case.facts, policy.schema)
    unknown = [e for e in case.expectations if not _subject_exists(policy.schema, facts, e)]
    if unknown:
        lines = [f"line {e.line}: there is no {e.subject} in the facts (a typo would make "
                 f"'{e.kind}' pass without testing anything)" for e in unknown]
        return CaseResult(case, "error", message="\n".join(lines))
    try:
        decision = policy.decide(facts, now, tracer=tracer)
    except FactError as error:
        return CaseResult(case, "error", message=_fact_message(error))
    except PolicyEvalError as error:
        return CaseResult(case, "fail", message=f"the policy failed: {error}")
    mismatches = compare(decision.conclusions, case.expectations)
    return CaseResult(case, "fail" if mismatches else "pass", tuple(mismatches),
                      decision.conclusions)


def compare(conclusions: Sequence[Conclusion],
            expectations: Iterable[Expectation]) -> list[Mismatch]:
    """The expectations that do not hold among ``conclusions``."""
    mismatches = []
    for expectation in expectations:
        same = tuple(c for c in conclusions if c.name == expectation.name
                     and str(c.subject) == expectation.subject)
        matching = tuple(c for c in same if values_match(expectation.values, c.values))
        if expectation.kind == "expect" and not matching:
            mismatches.append(Mismatch(expectation, same))
        elif expectation.kind == "absent" and matching:
            mismatches.append(Mismatch(expectation, matching))
    return mismatches


def merge_facts(base: Mapping[str, Any], extra: Mapping[str, Any],
                schema: FactSchema) -> dict[str, Any]:
    """``base`` facts with ``extra``'s records added.

    A record with the id (or unique key) of a base record updates that record's fields in
    place (a case changes only what it writes); any other record is appended.
    """
    merged: dict[str, Any] = {key: list(records) if isinstance(records, list) else records
                              for key, records in base.items()}
    for key, records in extra.items():
        current = merged.get(key)
        if not isinstance(records, list) or not isinstance(current, list):
            merged[key] = records
            continue
        identity = _identity_fields(schema, key)
        for record in records:
            _put(current, record, identity)
    return merged


def _subject_exists(schema: FactSchema, facts: Mapping[str, Any],
                    expectation: Expectation) -> bool:
    """Whether the facts hold the record an expectation is about (unknown types pass)."""
    fact_type = next((t for t in schema.types if t.subject == expectation.subject_type), None)
    if fact_type is None:
        return True
    fields = _identity_fields(schema, fact_type.key)
    wanted = expectation.subject.partition(":")[2]
    records = facts.get(fact_type.key)
    return not isinstance(records, list) or any(
        isinstance(r, Mapping) and "/".join(str(r.get(f)) for f in fields) == wanted
        for r in records)


def _identity_fields(schema: FactSchema, key: str) -> tuple[str, ...]:
    fact_type = schema.by_key.get(key)
    if fact_type is None:
        return ()
    if fact_type.id_field is not None:
        return (fact_type.id_field,)
    return fact_type.unique[0] if fact_type.unique else ()


def _put(records: list[Any], record: Any, identity: tuple[str, ...]) -> None:
    if identity and isinstance(record, Mapping):
        key = tuple(record.get(name) for name in identity)
        for index, old in enumerate(records):
            if isinstance(old, Mapping) and tuple(old.get(n) for n in identity) == key:
                records[index] = {**old, **record}
                return
    records.append(record)


def _fact_message(error: FactError) -> str:
    lines = ["invalid facts:"]
    for issue in error.issues:
        text = str(issue)
        if issue.message == "must be a string":
            text += ' (YAML reads 2026 as a number: write "2026")'
        lines.append(f"  {text}")
    return "\n".join(lines)
