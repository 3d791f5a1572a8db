"""``kam_policy.i18n``: diagnostics in Chinese and English — the catalogue's templates, the
rendering (wide characters under the carets), ``--lang`` and ``$KAM_POLICY_LANG`` on ``check``
and ``lint``, and a Chinese translation for every message the engine and the linter produce."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import diagnostic_recorder
import pytest
from conftest import HEADER, write_policy

import kam_policy
from kam_policy import i18n
from kam_policy.cli import main
from kam_policy.display import text_width
from kam_policy.engine.builtins import BUILTINS
from kam_policy.engine.render import render as render_en
from kam_policy.errors import Diagnostic, PolicyError
from kam_policy.grammar.span import Span
from kam_policy.i18n.catalogue import Template, catalogue
from kam_policy.lint import KINDS

ROOT = Path(__file__).resolve().parent.parent
DIAGNOSTICS_MD = ROOT / "docs" / "diagnostics.md"

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run("check", ...)``: exit code, stdout and stderr, in a neutral environment."""
    for variable in (i18n.ENV_VARIABLE, "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")

    def bound(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return bound


def translated(code: str, message: str, hint: str | None = None) -> Diagnostic:
    return i18n.translate(Diagnostic(code, message, None, hint), "zh")


# ---- templates -----------------------------------------------------------------------------


def test_a_template_matches_the_whole_text_and_fills_the_translation() -> None:
    found = translated("check.unknown-name", "unknown name 'limt'", "did you mean 'limit'?")
    assert (found.message, found.hint) == ("未知名称 'limt'", "是不是要写 'limit'？")


def test_the_most_specific_template_wins() -> None:
    # "cannot compute {a} {op} {b}" also matches; the one with more fixed text is chosen.
    found = translated("check.type-mismatch",
                       "cannot compute number + text (numbers are written without quotes)")
    assert found.message == "无法计算 number + text（数字不加引号）"


def test_parts_and_lists_are_translated_inside_a_message() -> None:
    found = translated("parse.unexpected-token", "unexpected ')'",
                       "expected a name, a number, ')', ','")
    assert found.hint == "此处应为名称、数字、')'、','"
    found = translated("params.type", "parameter 'on': expected true or false, got the text \"no\"")
    assert found.message == "参数 'on'：应为 true 或 false，实际是文本 \"no\""


def test_no_space_between_chinese_words_around_a_translated_part() -> None:
    found = translated("check.duplicate", "'a' appears twice in function f")
    assert found.message == "'a' 在函数 f 中出现了两次"


def test_an_unknown_message_stays_english_and_is_reported_untranslated() -> None:
    diagnostic = Diagnostic("check.unknown-name", "something new", None, "a new hint")
    assert i18n.translate(diagnostic, "zh") == diagnostic
    assert i18n.untranslated(diagnostic) == ["something new", "a new hint"]
    assert i18n.untranslated(Diagnostic("x.y", "anything")) == ["anything"]
    assert i18n.untranslated(diagnostic, "en") == []


def test_an_untranslated_part_is_reported() -> None:
    diagnostic = Diagnostic("params.type", "parameter 'p': expected something else, got 3")
    assert i18n.translate(diagnostic, "zh").message == \
        "参数 'p'：expected something else, got 3"
    assert i18n.untranslated(diagnostic) == ["expected something else, got 3"]


def test_a_list_of_several_declared_values_translates(tmp_path: Path) -> None:
    """``its values: a, b`` (an emit naming a value its conclusion lacks) is a list of names,
    not prose: found by a generated policy whose conclusion had two values."""
    root = write_policy(tmp_path, {"policy.kp": HEADER + (
        "conclusion flagged(level: number, 分数_x9: number) about Complaint\n"
        "rule r { for c in Complaint emit flagged(zzz: 1) }\n")})
    with pytest.raises(PolicyError) as caught:
        kam_policy.load(root)
    [unknown] = [d for d in caught.value.diagnostics if d.code == "check.unknown-field"]
    assert unknown.hint == "its values: level, 分数_x9"
    assert i18n.untranslated(unknown) == []
    assert i18n.translate(unknown, "zh").hint == "它的值有：level、分数_x9"


def test_english_is_returned_unchanged() -> None:
    diagnostic = Diagnostic("check.unknown-name", "unknown name 'x'")
    assert i18n.translate(diagnostic, "en") is diagnostic


def test_templates_name_only_placeholders_the_english_has() -> None:
    with pytest.raises(ValueError, match="unknown placeholder"):
        Template.compile("unknown name '{name}'", "未知名称 '{nmae}'")
    with pytest.raises(ValueError, match="unknown placeholder"):
        Template.compile("unknown name '{name}'", "未知名称 '{name|x}'")


def test_every_catalogue_loads_and_has_the_same_phrases() -> None:
    en, zh = catalogue("en"), catalogue("zh")
    assert set(en.labels) == set(zh.labels)
    assert set(en.phrases) == set(zh.phrases)
    with pytest.raises(ValueError, match="unknown language"):
        catalogue("fr")


def test_the_catalogue_is_package_data() -> None:
    text = resources.files("kam_policy.i18n").joinpath("messages/zh.json").read_text("utf-8")
    assert "check.unknown-name" in json.loads(text)["codes"]
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    assert '"kam_policy.i18n" = ["messages/*.json"]' in pyproject


# ---- coverage of the codes -----------------------------------------------------------------


def documented_codes() -> set[str]:
    text = DIAGNOSTICS_MD.read_text("utf-8")
    return set(re.findall(r"`((?:parse|load|params|check|eval|lint)\.[a-z-]+)`", text))


def test_every_documented_code_has_chinese_templates() -> None:
    codes = documented_codes()
    assert len(codes) > 60  # the scan works
    assert sorted(codes - set(catalogue("zh").codes)) == []


def test_every_lint_kind_is_documented_and_translated() -> None:
    codes = documented_codes()
    assert sorted(f"lint.{kind}" for kind in KINDS if f"lint.{kind}" not in codes) == []
    assert "lint.unused-allow" in codes


def test_every_builtin_has_a_translated_description() -> None:
    for builtin in BUILTINS.values():
        plural = "s" if builtin.arity != 1 else ""
        arity = Diagnostic("check.arity", f"{builtin.name} takes {builtin.arity} argument{plural}:"
                           f" {builtin.doc}", None, builtin.doc)
        mismatch = Diagnostic("check.type-mismatch", f"{builtin.name}: argument 1 must be date or "
                              "datetime, not text", None, builtin.doc)
        assert i18n.untranslated(arity) == [], builtin.name
        assert i18n.untranslated(mismatch) == [], builtin.name


# ---- rendering -----------------------------------------------------------------------------

WIDE = 'param 上限 = 4h\nparam 限额 = 上线\n'


def wide_diagnostic() -> Diagnostic:
    start = WIDE.index("上线")
    column = start - WIDE.index("param 限额") + 1
    span = Span("policy.kp", start, start + 2, 2, column, 2, column + 2)
    return Diagnostic("check.unknown-name", "unknown name '上线'", span,
                      "did you mean '上限'?")


def test_english_rendering_is_the_engines() -> None:
    diagnostic = wide_diagnostic()
    assert i18n.render([diagnostic], {"policy.kp": WIDE}, "en") == \
        render_en([diagnostic], {"policy.kp": WIDE})


def test_chinese_rendering_underlines_wide_characters() -> None:
    lines = i18n.render([wide_diagnostic()], {"policy.kp": WIDE}, "zh").splitlines()
    assert lines == [
        "policy.kp:2:12: 错误[check.unknown-name] 未知名称 '上线'",
        "    2 | param 限额 = 上线",
        "      | " + " " * 13 + "^^^^",  # "param 限额 = " is 13 columns wide
        "      提示：是不是要写 '上限'？",
    ]
    source, carets = lines[1], lines[2]
    assert text_width(source[: source.index("上线")]) == carets.index("^")
    assert text_width("上线") == carets.count("^")


def test_a_diagnostic_without_a_place(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        kam_policy.load(tmp_path / "nowhere")
    text = i18n.render_error(info.value, {}, "zh")
    assert text.splitlines() == [
        f"<policy>: 错误[load.not-found] {tmp_path / 'nowhere'} 处没有制度文件",
        "      提示：制度文件夹中应有 policy.kp",
        "kam-policy：1 个错误",
    ]


# ---- the commands --------------------------------------------------------------------------

BAD = HEADER + """conclusion 提醒() about Member "提醒 Reminder"
rule R "联系 Contact" {
  section "1"
  for m in Member
  when m.levl == senior and m.score > "80"
  emit 提醒()
}
"""


def bad_policy(tmp_path: Path) -> str:
    write_policy(tmp_path, {"policy.kp": BAD})
    return str(tmp_path)


def test_check_in_chinese(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import SCHEMA

    monkeypatch.setattr(kam_policy.engine.policy, "bundled_schema", lambda: SCHEMA)
    code, out, err = run("check", "--lang", "zh", bad_policy(tmp_path))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "policy.kp:6:8: 错误[check.unknown-field] 事实 'Member' 没有字段 'levl'",
        '    6 |   when m.levl == senior and m.score > "80"',
        "      |        ^^^^^^",
        "      提示：是不是要写 'level'？",
        "policy.kp:6:29: 错误[check.type-mismatch] 无法比较 number 和 text",
        '    6 |   when m.levl == senior and m.score > "80"',
        "      |                             ^^^^^^^^^^^^^^",
        "      提示：数字不加引号",
        "kam-policy：2 个错误",
    ]
    english = run("check", "--lang", "en", str(tmp_path))
    assert english[2].splitlines()[0] == \
        "policy.kp:6:8: error[check.unknown-field] fact 'Member' has no field 'levl'"
    assert english[2].splitlines()[-1] == "kam-policy: 2 errors"


def test_check_passes_in_chinese(run: Run) -> None:
    code, out, err = run("check", "--lang", "zh")
    assert (code, err) == (0, "")
    assert re.fullmatch(r"通过：大客户人员管理制度 Key-account staff management 版本 2026\.11："
                        r"\d+ 条规则，\d+ 个决策表，\d+ 个参数，\d+ 个文件\n", out)


def test_a_syntax_error_in_chinese_with_its_source_line(run: Run, tmp_path: Path) -> None:
    write_policy(tmp_path, {"policy.kp": HEADER + "param 期限 = 4h,\n"})
    code, out, err = run("check", "--lang", "zh", str(tmp_path))
    assert (code, out) == (2, "")
    assert err.splitlines()[:3] == [
        "policy.kp:2:14: 错误[parse.unexpected-token] 此处不能出现 ','",
        "    2 | param 期限 = 4h,",
        "      | " + " " * 15 + "^",  # "param 期限 = 4h" is 15 columns wide
    ]


def test_a_parameters_file_error_in_chinese(run: Run, tmp_path: Path) -> None:
    params = tmp_path / "limits.toml"
    params.write_text("response_limt = 3\n", "utf-8")
    code, _, err = run("check", "--lang", "zh", "--params", str(params))
    assert code == 2
    assert err.splitlines() == [
        f"{params}:1:1: 错误[params.unknown] 未知参数 'response_limt'",
        "    1 | response_limt = 3",
        "      | ^^^^^^^^^^^^^",
        "      提示：是不是要写 'response_limit'？",
        "kam-policy：1 个错误",
    ]


def test_the_language_comes_from_the_environment(run: Run, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    write_policy(tmp_path, {"policy.kp": HEADER + "param unused = 1\n"})
    assert run("lint", str(tmp_path))[1].endswith("Test policy version 1.0: 1 warning\n")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert run("lint", str(tmp_path))[1].endswith("Test policy 版本 1.0：1 个警告\n")
    monkeypatch.setenv(i18n.ENV_VARIABLE, "en")
    assert run("lint", str(tmp_path))[1].endswith("Test policy version 1.0: 1 warning\n")
    monkeypatch.setenv(i18n.ENV_VARIABLE, "zh")
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert run("lint", str(tmp_path))[1].endswith("Test policy 版本 1.0：1 个警告\n")
    assert run("lint", "--lang", "en", str(tmp_path))[1].endswith("1.0: 1 warning\n")


def test_lint_lists_allowed_warnings_in_chinese(run: Run) -> None:
    code, out, _ = run("lint", "--show-allowed", "--lang", "zh")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("complaints.kp:23:1: 警告[lint.table-gap] 决策表 "
                               "'escalation_target'（命中策略 priority）有缺口：")
    assert lines[4] == ("      已确认：complaints.kp:22:1 的注释 '# lint: allow table-gap: when "
                        "nothing is late, no row matches: no escalation'")
    assert lines[-1] == ("大客户人员管理制度 Key-account staff management 版本 2026.11：没有警告"
                         "（另有 1 个已确认）")


# ---- every message the tests produced ------------------------------------------------------


@pytest.mark.last
def test_every_message_the_tests_produced_has_a_chinese_translation() -> None:
    """Runs after every other test: each diagnostic the engine and the linter reported during
    this run translates completely (add a template to kam_policy/i18n/messages/zh.json)."""
    missing = {}
    for (code, message, hint), creator in diagnostic_recorder.RECORDED.items():
        pieces = i18n.untranslated(Diagnostic(code, message, None, hint))
        if pieces:
            missing[f"{code} ({creator})"] = pieces
    assert missing == {}
