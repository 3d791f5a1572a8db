"""Policy tests: YAML cases (facts at a time, conclusions expected and absent) run against a
compiled policy, with rule and table-row coverage.

Typical use::

    import kam_policy
    from kam_policy.testing import discover, render_suite, run_files

    policy = kam_policy.load()
    suite = run_files(policy, discover(kam_policy.bundled_policy_path() / "tests"))
    print(render_suite(suite))
"""

from kam_policy.testing.cases import (
    Background,
    Case,
    CaseFile,
    Expectation,
    Problem,
    TestFileError,
)
from kam_policy.testing.coverage import Coverage, CoverageTracer, Uncovered, measure
from kam_policy.testing.load import discover, load_case_file, parse_case_file
from kam_policy.testing.report import render_coverage, render_result, render_suite, summary
from kam_policy.testing.run import (
    CaseResult,
    Mismatch,
    SuiteResult,
    check_file,
    compare,
    merge_facts,
    run_case,
    run_files,
)

__all__ = [
    "Background",
    "Case",
    "CaseFile",
    "CaseResult",
    "Coverage",
    "CoverageTracer",
    "Expectation",
    "Mismatch",
    "Problem",
    "SuiteResult",
    "TestFileError",
    "Uncovered",
    "check_file",
    "compare",
    "discover",
    "load_case_file",
    "measure",
    "merge_facts",
    "parse_case_file",
    "render_coverage",
    "render_result",
    "render_suite",
    "run_case",
    "run_files",
    "summary",
]
