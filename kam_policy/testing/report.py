"""Test results -> text for people: PASS/FAIL per case, expected vs got, and coverage."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from itertools import groupby
from pathlib import Path
from typing import Any

from kam_policy.engine.decision import Conclusion
from kam_policy.testing.cases import Expectation
from kam_policy.testing.coverage import Coverage, percent_text
from kam_policy.testing.run import CaseResult, Mismatch, SuiteResult
from kam_policy.testing.values import differences

LABELS = {"pass": "PASS ", "fail": "FAIL ", "error": "ERROR"}
INDENT = " " * 9


def render_suite(suite: SuiteResult, *, show_passed: bool = True) -> str:
    """Every case (grouped by file), the invalid-file problems, then the summary line."""
    lines: list[str] = []
    for file, results in groupby(suite.results, key=lambda r: r.case.file):
        lines.append(shown_path(file))
        for result in results:
            if show_passed or result.status != "pass":
                lines.extend(render_result(result))
    if suite.problems:
        lines.append("invalid test files:")
        lines.extend(f"  {problem}" for problem in suite.problems)
    lines.append(summary(suite))
    return "\n".join(lines)


def shown_path(path: Path) -> str:
    """``path`` relative to the working folder when it is below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def summary(suite: SuiteResult) -> str:
    """``12 passed, 1 failed`` (and the invalid cases and files, if any)."""
    text = f"{suite.count('pass')} passed, {suite.count('fail')} failed"
    invalid = suite.count("error") + len({(p.file, p.case) for p in suite.problems})
    return text + (f", {invalid} invalid" if invalid else "")


def render_result(result: CaseResult) -> list[str]:
    """One case: its status line, and for a failure what was expected and what came."""
    case = result.case
    head = f"  {LABELS[result.status]}  {case.name}"
    if result.status == "pass":
        return [head]
    lines = [f"{head}  ({Path(case.file).name}:{case.line})"]
    if case.description:
        lines.extend(INDENT + line for line in case.description.strip().splitlines())
    if result.message:
        lines.extend(INDENT + line for line in result.message.splitlines())
    for mismatch in result.mismatches:
        lines.extend(INDENT + line for line in render_mismatch(mismatch, result.conclusions))
    return lines


def render_mismatch(mismatch: Mismatch, conclusions: tuple[Conclusion, ...]) -> Iterator[str]:
    """Expected vs got for one expectation, with near misses and their differing values."""
    expectation = mismatch.expectation
    if expectation.kind == "absent":
        yield f"expected  no {_expected(expectation)}  (line {expectation.line})"
        for found in mismatch.found:
            yield f"got       {_conclusion(found)}"
            yield f"            by rule {found.rule_id} ({found.file}:{found.line})" + \
                (f": {found.reason}" if found.reason else "")
        return
    yield f"expected  {_expected(expectation)}  (line {expectation.line})"
    if not mismatch.found:
        yield f"got       no {expectation.name} about {expectation.subject}"
        others = [c for c in conclusions if str(c.subject) == expectation.subject]
        names = ", ".join(sorted({c.name for c in others})) or "nothing"
        yield f"            (about {expectation.subject}: {names})"
        return
    for found in mismatch.found:
        yield f"near miss {_conclusion(found)}"
        for key in differences(expectation.values, found.values):
            got = _json(found.values[key]) if key in found.values else "(no such value)"
            yield f"            {key}: expected {_json((expectation.values or {})[key])}, got {got}"


def render_coverage(coverage: Coverage) -> str:
    """Rule and table-row coverage as percentages, then what was never reached."""
    rules_hit = coverage.rules_total - len(coverage.rules_missed)
    rows_hit = coverage.rows_total - len(coverage.rows_missed)
    lines = [
        "coverage:",
        f"  rules       {rules_hit}/{coverage.rules_total}  {percent_text(coverage.rule_ratio)}",
        f"  table rows  {rows_hit}/{coverage.rows_total}  {percent_text(coverage.row_ratio)}",
    ]
    if coverage.rules_missed:
        lines.append("  rules never fired by any test:")
        lines.extend(f"    {item}" for item in coverage.rules_missed)
    if coverage.rows_missed:
        lines.append("  table rows never matched by any test:")
        lines.extend(f"    {item}" for item in coverage.rows_missed)
    return "\n".join(lines)


def _expected(expectation: Expectation) -> str:
    text = f"{expectation.name} about {expectation.subject}"
    if expectation.values:
        text += f" with {_values(expectation.values)}"
    return text


def _conclusion(conclusion: Conclusion) -> str:
    values = _values(conclusion.values)
    return f"{conclusion.name} about {conclusion.subject}" + (f" with {values}" if values else "")


def _values(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={_json(value)}" for key, value in values.items())


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
