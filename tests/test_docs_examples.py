"""The documentation's examples run as written: every ``$ kam-policy`` command of the HR guides
(English and Chinese) and of the diagnostics catalogue prints what the page shows, every rule
file snippet the guides quote is in the bundled policy, and the bundled rule files are in the
canonical layout (see ``doc_examples`` for the conventions of a page)."""

from __future__ import annotations

import shutil
from pathlib import Path

import doc_examples
import pytest
from doc_examples import Page, matches, shortened, steps

from kam_policy import i18n
from kam_policy.cli import main
from kam_policy.engine.sources import bundled_policy_path

ROOT = Path(__file__).resolve().parent.parent
GUIDES = ("hr-guide.md", "hr-guide.zh.md")


@pytest.fixture
def page(tmp_path: Path, capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> Page:
    """A scratch folder with a copy of the bundled policy, where commands run."""
    monkeypatch.chdir(tmp_path)
    for variable in (i18n.ENV_VARIABLE, "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")

    def run(argv: list[str]) -> tuple[int, str, str]:
        code = main(argv)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return Page(tmp_path, run)


def run_page(name: str, page: Page, exit_codes: bool = True) -> int:
    """Run every step of ``docs/<name>``; returns how many commands were checked."""
    checked = 0
    for step in steps((ROOT / "docs" / name).read_text("utf-8")):
        if step.kind == "reset":
            page.reset()
        elif step.kind == "copy":
            page.copy(step.name)
        elif step.kind == "write":
            page.write(step.name, step.text)
        elif step.kind == "edit":
            page.edit(step.name, step.text)
        elif step.kind == "in":
            assert page.contains(step.name, step.text), f"{name}:{step.line}: not in {step.name}"
        elif step.kind == "quote":
            assert page.quoted(step.text), f"{name}:{step.line}: not in the bundled rules"
        for command in step.commands:
            demo = any(a == "demo" or a.startswith("demo/") for a in command.argv)
            if shortened(command) or (demo and not (page.work / "demo").exists()):
                continue  # an illustration, or an example described in words
            code, out, err = page.run(command.argv)
            actual = (err + out).rstrip("\n").split("\n") if err + out else []
            where = f"{name}:{command.line}: kam-policy {' '.join(command.argv)}"
            assert matches(command.expected, actual), where + "\n" + "\n".join(actual)
            assert not exit_codes or code == command.exit, f"{where}: exit {code}"
            checked += 1
            if demo:
                shutil.rmtree(page.work / "demo")
    return checked


@pytest.mark.parametrize("name", GUIDES)
def test_the_hr_guide_runs_as_written(name: str, page: Page) -> None:
    assert run_page(name, page) >= 10


def test_the_guides_give_the_same_commands() -> None:
    def commands(name: str) -> list[list[str]]:
        text = (ROOT / "docs" / name).read_text("utf-8")
        return [without_lang(c.argv) for s in steps(text) for c in s.commands]

    def without_lang(argv: list[str]) -> list[str]:
        if "--lang" not in argv:
            return argv
        at = argv.index("--lang")
        return argv[:at] + argv[at + 2:]

    assert commands(GUIDES[0]) == commands(GUIDES[1])


def test_the_diagnostics_catalogue_runs_as_written(page: Page) -> None:
    assert run_page("diagnostics.md", page, exit_codes=False) >= 40


def test_the_bundled_rule_files_are_formatted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", "--check", str(bundled_policy_path())]) == 0
    assert capsys.readouterr().out == ""


# ---- the runner itself ---------------------------------------------------------------------


def test_output_with_an_ellipsis_matches_any_lines() -> None:
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "d"], ["a", "d"])
    assert not matches(["a", "...", "d"], ["a", "b"])
    assert not matches(["a", "d"], ["a", "b", "d"])
    assert matches(["...", "d"], ["a", "b", "d"]) and matches(["a", "..."], ["a", "b"])
    assert matches(["..."], ["a"]) and matches(["..."], [])
    assert matches(["wrote …/x.kp: 1 row"], ["wrote /tmp/w/x.kp: 1 row"])
    assert not matches(["wrote …/x.kp: 1 row"], ["wrote /tmp/w/y.kp: 1 row"])


def test_edits_replace_a_whole_declaration(page: Page) -> None:
    name = "kam_policy/rules/appraisal.kp"
    page.edit(name, "param grade_min = {S: 96, A: 85, B: 70, C: 60}\n")
    page.edit(name, 'table grade_table "G" {\n  hit first\n  in t: number\n  out g: Grade\n'
                    "  | - | D |\n}\n")
    text = (page.work / name).read_text("utf-8")
    assert "param grade_min = {S: 96, A: 85, B: 70, C: 60}\n" in text
    assert 'table grade_table "G" {\n  hit first\n  in t: number\n  out g: Grade\n  | - | D |\n}' \
        "\n\nrule D.appraisal_incomplete" in text


def test_quotes_are_found_with_lines_left_out(page: Page) -> None:
    assert page.quoted("param grade_min = {S: 95, A: 85, B: 70, C: 60}\n")
    assert page.quoted('table grade_table "等级 Grade from total and satisfaction" {\n...\n'
                       "  | -              | -                     | D |\n}\n")
    assert not page.quoted("param grade_min = {S: 96}\n")


def test_the_runner_reads_files_commands_and_outputs() -> None:
    text = "`demo/policy.kp`:\n\n```kp\nparam a = 1\n```\n\n<!-- file: x.toml -->\n```toml\n" \
        "a = 2\n```\n<!-- copy: a b -->\n\n```\n$ kam-policy check demo\nok\n" \
        "$ kam-policy lint --strict  # exit 1\n...\n```\n"
    found = steps(text)
    assert [(s.kind, s.name, s.text) for s in found[:3]] == [
        ("write", "demo/policy.kp", "param a = 1\n"), ("write", "x.toml", "a = 2\n"),
        ("copy", "a b", "")]
    assert [(c.argv, c.expected, c.exit) for c in found[3].commands] == [
        (["check", "demo"], ["ok"], 0), (["lint", "--strict"], ["..."], 1)]
    assert Path("kam_policy/rules") == doc_examples.RULES
