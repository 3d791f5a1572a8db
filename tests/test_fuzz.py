"""Fuzzing the front end: loading any text either succeeds or raises our own errors, each with
a span inside the file — never another exception, never a hang.

`make test` runs a small profile; `make fuzz` runs ``KAM_FUZZ_EXAMPLES`` (100,000+) inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kam_policy
from kam_policy.engine.sources import bundled_policy_path
from kam_policy.errors import KamPolicyError, PolicyError

EXAMPLES = int(os.environ.get("KAM_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

BUNDLED = {p.name: p.read_text("utf-8") for p in sorted(bundled_policy_path().glob("*.kp"))}
TOKENS = ["rule", "when", "let", "for", "in", "emit", "about", "because", "table", "hit",
          "first", "unique", "param", "define", "enum", "conclusion", "include", "(", ")",
          "{", "}", "[", "]", "|", "-", ">=", "==", "??", "and", "or", "not", "if", "then",
          "else", "count(", "exists(", "sum(", '"', "'", "#", "\n", "9" * 40, "1e400",
          "__class__", "{0.__class__}", "大客户", "\u202e", "\x00", "4h", "30d"]


def _check_error(error: KamPolicyError, texts: dict[str, str]) -> None:
    assert isinstance(error, PolicyError), type(error)
    for diagnostic in error.diagnostics:
        span = diagnostic.span
        if span is None:
            continue
        assert span.source in texts, (span.source, list(texts))
        size = len(texts[span.source])
        assert 0 <= span.start <= span.end <= size, (span, size)
        assert span.line >= 1 and span.column >= 1


def _load(tmp: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (tmp / name).write_text(text, "utf-8", errors="surrogatepass")
    try:
        kam_policy.load(tmp)
    except KamPolicyError as error:
        _check_error(error, files)


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


@st.composite
def mutated_policies(draw: st.DrawFn) -> dict[str, str]:
    """The bundled policy with one file mutated: tokens deleted, duplicated, swapped, inserted."""
    files = dict(BUNDLED)
    name = draw(st.sampled_from(sorted(files)))
    words = files[name].split(" ")
    for _ in range(draw(st.integers(1, 4))):
        if not words:
            break
        index = draw(st.integers(0, len(words) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "insert"]))
        if action == "delete":
            del words[index]
        elif action == "duplicate":
            words.insert(index, words[index])
        elif action == "swap":
            other = draw(st.integers(0, len(words) - 1))
            words[index], words[other] = words[other], words[index]
        else:
            words.insert(index, draw(st.sampled_from(TOKENS)))
    files[name] = " ".join(words)
    return files


@FUZZ
@given(mutated_policies())
def test_mutated_bundled_policy(workdir: Path, files: dict[str, str]) -> None:
    folder = workdir / "mutated"
    folder.mkdir(exist_ok=True)
    _load(folder, files)


def test_deep_nesting_is_a_diagnostic() -> None:
    text = "param x = " + "(" * 10_000 + "1" + ")" * 10_000
    with pytest.raises(PolicyError) as caught:
        kam_policy.parse(text, "deep.kp")
    assert caught.value.diagnostics[0].code == "parse.too-deep"


def test_huge_literal_is_a_diagnostic() -> None:
    with pytest.raises(PolicyError) as caught:
        kam_policy.parse("param x = " + "9" * 100_000, "huge.kp")
    assert caught.value.diagnostics[0].code == "parse.number-too-long"
