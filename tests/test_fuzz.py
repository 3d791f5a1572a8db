"""Fuzzing the front end: loading any text either succeeds or raises our own errors, each with
a span inside the file — never another exception, never a hang.

The inputs: arbitrary text and bytes; the bundled policy with tokens deleted, duplicated,
swapped or inserted; rule files that follow the grammar (``policy_strategies.policies``); and
policies that check (``policy_strategies.checked_policies``), which must load and then decide on
valid facts (``strategies.fact_sets``) or fail with ``PolicyEvalError`` — and which, mutated,
must give diagnostics that point at a file, line and column.

`make test` runs a small profile; `make fuzz` runs ``KAM_FUZZ_EXAMPLES`` inputs per test
(100,000+ in all).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_strategies import Tokens, checked_policies, checked_policy_tokens, lay_out, policies
from strategies import fact_sets

import kam_policy
from kam_policy.engine.sources import bundled_policy_path
from kam_policy.errors import KamPolicyError, PolicyError, PolicyEvalError

EXAMPLES = int(os.environ.get("KAM_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])
# Loading several files and then deciding takes longer than loading one file.
FUZZ_DECIDE = settings(FUZZ, deadline=5000)

BUNDLED = {p.name: p.read_text("utf-8") for p in sorted(bundled_policy_path().glob("*.kp"))}
TOKENS = ["rule", "when", "let", "for", "in", "emit", "about", "because", "table", "hit",
          "first", "unique", "param", "define", "enum", "conclusion", "include", "(", ")",
          "{", "}", "[", "]", "|", "-", ">=", "==", "??", "and", "or", "not", "if", "then",
          "else", "count(", "exists(", "sum(", '"', "'", "#", "\n", "9" * 40, "1e400",
          "__class__", "{0.__class__}", "大客户", "\u202e", "\x00", "4h", "30d"]
# Diagnostics about a whole policy rather than a place in it.
UNPLACED = {"check.no-header"}


def _check_error(error: KamPolicyError, texts: dict[str, str], placed: bool = False) -> None:
    """``error`` is a PolicyError whose spans lie inside their files; with ``placed``, every
    diagnostic about a place has one (file:line:col)."""
    assert isinstance(error, PolicyError), type(error)
    for diagnostic in error.diagnostics:
        span = diagnostic.span
        if span is None:
            assert not placed or diagnostic.code in UNPLACED, diagnostic
            continue
        assert span.source in texts, (span.source, list(texts))
        size = len(texts[span.source])
        assert 0 <= span.start <= span.end <= size, (span, size)
        assert span.line >= 1 and span.column >= 1


def _check_eval_error(error: PolicyEvalError, texts: dict[str, str]) -> None:
    span = error.diagnostic.span
    assert error.diagnostic.code.startswith("eval."), error.diagnostic
    assert span is not None, error.diagnostic
    assert span.source in texts and 0 <= span.start <= span.end <= len(texts[span.source])


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.kp"):
        old.unlink()
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8", errors="surrogatepass")


def _load(tmp: Path, files: dict[str, str], placed: bool = False) -> kam_policy.Policy | None:
    _write(tmp, files)
    try:
        return kam_policy.load(tmp)
    except KamPolicyError as error:
        _check_error(error, files, placed)
        return None


def _decide(policy: kam_policy.Policy, files: dict[str, str],
            facts_now: tuple[dict[str, Any], datetime]) -> None:
    """Deciding gives a decision that serialises, or a PolicyEvalError placed in a file."""
    facts, now = facts_now
    try:
        decision = policy.decide(facts, now)
    except PolicyEvalError as error:
        _check_eval_error(error, files)
        return
    json.loads(decision.to_json())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text(workdir: Path, text: str) -> None:
    try:
        kam_policy.parse(text, "policy.kp")
    except KamPolicyError as error:
        _check_error(error, {"policy.kp": text})


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes(workdir: Path, data: bytes) -> None:
    folder = workdir / "bytes"
    folder.mkdir(exist_ok=True)
    (folder / "policy.kp").write_bytes(data)
    try:
        kam_policy.load(folder)
    except KamPolicyError as error:
        texts = {"policy.kp": data.decode("utf-8", "replace")}
        _check_error(error, texts)


def mutate(draw: st.DrawFn, words: list[str], insert: bool = True) -> list[str]:
    """``words`` with 1-4 deleted, duplicated, swapped or (``insert``) inserted tokens."""
    words = list(words)
    actions = ["delete", "duplicate", "swap", *(["insert"] if insert else [])]
    for _ in range(draw(st.integers(1, 4))):
        if not words:
            break
        index = draw(st.integers(0, len(words) - 1))
        action = draw(st.sampled_from(actions))
        if action == "delete":
            del words[index]
        elif action == "duplicate":
            words.insert(index, words[index])
        elif action == "swap":
            other = draw(st.integers(0, len(words) - 1))
            words[index], words[other] = words[other], words[index]
        else:
            words.insert(index, draw(st.sampled_from(TOKENS)))
    return words


@st.composite
def mutated_policies(draw: st.DrawFn) -> dict[str, str]:
    """The bundled policy with one file mutated: tokens deleted, duplicated, swapped, inserted."""
    files = dict(BUNDLED)
    name = draw(st.sampled_from(sorted(files)))
    files[name] = " ".join(mutate(draw, files[name].split(" ")))
    return files


@FUZZ
@given(mutated_policies())
def test_mutated_bundled_policy(workdir: Path, files: dict[str, str]) -> None:
    _load(workdir / "mutated", files, placed=True)


# ---- generated policies ----------------------------------------------------------------


@FUZZ
@given(policies())
def test_policy_that_parses(workdir: Path, text: str) -> None:
    """A rule file that follows the grammar parses; it loads or every error has a place."""
    kam_policy.parse(text, "policy.kp")
    files = {"policy.kp": 'policy "p" version "1"\n' + text}
    policy = _load(workdir / "parses", files, placed=True)
    if policy is not None:
        _decide(policy, files, ({}, datetime.fromisoformat("2026-11-27T09:00:00+08:00")))


@FUZZ_DECIDE
@given(checked_policies(), fact_sets())
def test_policy_that_checks_loads_and_decides(
        workdir: Path, files: dict[str, str],
        facts_now: tuple[dict[str, Any], datetime]) -> None:
    folder = workdir / "checks"
    _write(folder, files)
    try:
        policy = kam_policy.load(folder)
    except PolicyError as error:
        pytest.fail(f"a policy that checks was refused:\n{error}\n\n"
                    + "\n\n".join(f"# {name}\n{text}" for name, text in files.items()))
    _decide(policy, files, facts_now)


@st.composite
def mutated_checked_policies(draw: st.DrawFn) -> dict[str, str]:
    """A policy that checks, with tokens of one file deleted, duplicated or swapped."""
    tokens: dict[str, Tokens] = draw(checked_policy_tokens())
    name = draw(st.sampled_from(sorted(tokens)))
    tokens[name] = mutate(draw, tokens[name], insert=False)
    rnd = draw(st.randoms(use_true_random=False))
    return {file: lay_out(rnd, words) for file, words in tokens.items()}


@FUZZ_DECIDE
@given(mutated_checked_policies(), fact_sets())
def test_mutated_policy_that_checks(workdir: Path, files: dict[str, str],
                                    facts_now: tuple[dict[str, Any], datetime]) -> None:
    policy = _load(workdir / "mutated-checks", files, placed=True)
    if policy is not None:
        _decide(policy, files, facts_now)


# ---- limits ------------------------------------------------------------------------------


def test_deep_nesting_is_a_diagnostic() -> None:
    text = "param x = " + "(" * 10_000 + "1" + ")" * 10_000
    with pytest.raises(PolicyError) as caught:
        kam_policy.parse(text, "deep.kp")
    assert caught.value.diagnostics[0].code == "parse.too-deep"


def test_huge_literal_is_a_diagnostic() -> None:
    with pytest.raises(PolicyError) as caught:
        kam_policy.parse("param x = " + "9" * 100_000, "huge.kp")
    assert caught.value.diagnostics[0].code == "parse.number-too-long"

