"""A rule file cannot reach Python: names resolve only to what the checker knows, reason texts
only show bound values, parameters are data, and includes stay inside the policy folder."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    HEADER,
    SCHEMA,
    Member,
    Team,
    decide,
    facts,
    member,
    only,
    team,
    ticket,
    write_policy,
)
from pydantic import BaseModel, ConfigDict

import kam_policy
from kam_policy import (
    FactSchema,
    FactType,
    Policy,
    PolicyCheckError,
    PolicyError,
    PolicyLoadError,
    PolicySyntaxError,
)

Load = Callable[..., Policy]
LoadFails = Callable[..., tuple[PolicyError, str]]

OUT = "conclusion out(v: text?) about Member\nconclusion seen() about Member\n"
SECRET = "TOP-SECRET-7f3a"


def emit_text(expr: str, pre: str = "") -> str:
    return pre + OUT + f"rule r {{ for m in Member emit out(v: text({expr})) }}\n"


# ---- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", [
    "__class__", "__globals__", "mro", "__dict__", "__init__", "model_fields", "model_dump",
    "__pydantic_fields__", "_abc_impl",
])
def test_python_attributes_of_a_fact_are_unknown_fields(load_fails: LoadFails,
                                                         field: str) -> None:
    error, source = load_fails(emit_text(f"m.{field}"))
    diag = only(error)
    assert diag.code == "check.unknown-field"
    assert diag.message == f"fact 'Member' has no field '{field}'"
    assert diag.span is not None
    assert diag.span.text(source) == f"m.{field}"


@pytest.mark.parametrize("field", ["__class__", "rule", "reason", "values", "_ctx", "_env"])
def test_python_attributes_of_a_conclusion_are_unknown_fields(load_fails: LoadFails,
                                                               field: str) -> None:
    error, _ = load_fails(OUT + f"rule r {{ for x in seen emit out(v: text(x.{field})) }}\n")
    diag = only(error)
    assert diag.code == "check.unknown-field"
    assert diag.message == f"conclusion 'seen' has no value '{field}'"


@pytest.mark.parametrize(("expr", "message"), [
    ("now.__class__", "datetime has no fields"),
    ("now.tzinfo", "datetime has no fields"),
    ("m.name.__class__", "text has no fields"),
    ("m.score.__class__", "number has no fields"),
    ("m.tags.__class__", "list[text] has no fields"),
])
def test_values_have_no_attributes(load_fails: LoadFails, expr: str, message: str) -> None:
    diag = only(load_fails(emit_text(expr))[0])
    assert (diag.code, diag.message) == ("check.unknown-field", message)


def test_attributes_of_a_parameter_map_are_only_its_keys(load: Load) -> None:
    policy = load(OUT + "param weights = {a: 1}\n"
                  "rule r { for m in Member when weights.__class__ is null "
                  "and weights.items is null and weights.a == 1 emit seen() }\n")
    assert [c.name for c in decide(policy, facts(members=[member()]))] == ["seen"]


@pytest.mark.parametrize("call", ['__import__("os")', 'eval("1")', 'exec("1")', 'open("x")',
                                  'getattr(m, "name")', "globals()", "type(m)"])
def test_python_functions_are_unknown(load_fails: LoadFails, call: str) -> None:
    diag = only(load_fails(emit_text(call))[0])
    assert diag.code == "check.unknown-function"
    assert diag.message == f"unknown function '{call.split('(')[0]}'"


@pytest.mark.parametrize("name", ["__builtins__", "os", "sys", "ctx", "env", "self", "None"])
def test_python_names_are_unknown(load_fails: LoadFails, name: str) -> None:
    diag = only(load_fails(emit_text(name))[0])
    assert (diag.code, diag.message) == ("check.unknown-name", f"unknown name '{name}'")


def test_bindings_named_like_internals_are_just_bindings(load: Load) -> None:
    policy = load(OUT + 'rule r { for m in Member let env = "e" let ctx = "c" '
                  "emit out(v: env + ctx) }\n")
    assert [c.values["v"] for c in decide(policy, facts(members=[member()]))] == ["ec"]


def test_methods_cannot_be_called(load_fails: LoadFails) -> None:
    error, _ = load_fails(OUT + "rule r { for m in Member emit out(v: m.name.upper()) }\n")
    assert isinstance(error, PolicySyntaxError)
    assert only(error).code == "parse.unexpected-token"


@pytest.mark.parametrize(("expr", "want"), [
    ("m", "Member M1"),
    ("Team[m.team_id]", "Team T1"),
    ("list(k for k in Ticket where k.member_id == m.id)", "[Ticket K1, Ticket K2]"),
], ids=["record", "looked-up", "list-of-records"])
def test_text_of_a_record_shows_no_python_internals(load: Load, expr: str, want: str) -> None:
    """A fact shows as its type and id, in text() and in a 'because' text alike."""
    policy = load(OUT + f"rule r {{ for m in Member let x = {expr} emit out(v: text(x)) "
                  'because "{x}" }\n')
    data = facts(members=[member("M1", joined_on="2026-03-01")],
                 tickets=[ticket("K2"), ticket("K1")])
    (conclusion,) = decide(policy, data)
    assert (conclusion.values["v"], conclusion.reason) == (want, want)


class GaugeRecord(BaseModel):
    """A fact model whose class name is not its fact type's name, identified by 'code'."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    member_id: str


class Sale(BaseModel):
    """A fact model without an id: identified by its unique (member_id, period)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    member_id: str
    period: str


NAMED = FactSchema([
    FactType("Team", Team, "teams", "team"),
    FactType("Member", Member, "members", "member", refs={"team_id": "Team"}),
    FactType("Gauge", GaugeRecord, "gauges", "gauge", id_field="code",
             refs={"member_id": "Member"}),
    FactType("Sale", Sale, "sales", "sale", id_field=None, refs={"member_id": "Member"},
             unique=(("member_id", "period"),)),
])


@pytest.mark.parametrize(("source", "want"), [("Gauge", "Gauge G1"), ("Sale", "Sale M1/2026-01")],
                         ids=["model-class-and-id-field", "unique-key"])
def test_text_of_a_record_names_its_fact_type_and_identity(load: Load, source: str,
                                                           want: str) -> None:
    policy = load(OUT + f"rule r {{ for g in {source} let x = g emit out(v: text(x)) "
                  'about Member[g.member_id] because "{x}" }\n', NAMED)
    data = {"teams": [team()], "members": [member("M1")],
            "gauges": [{"code": "G1", "member_id": "M1"}],
            "sales": [{"member_id": "M1", "period": "2026-01"}]}
    (conclusion,) = decide(policy, data)
    assert (conclusion.values["v"], conclusion.reason) == (want, want)


def test_text_of_a_conclusion_shows_no_python_internals(load: Load) -> None:
    policy = load("conclusion flag(n: number) about Member\n" + OUT
                  + "rule a { for m in Member emit flag(n: 1) }\n"
                  "rule b { for g in flag let x = g emit out(v: text(x)) about g.subject "
                  'because "{x}" }\n')
    (conclusion,) = decide(policy, facts(members=[member()])).named("out")
    for shown in (conclusion.values["v"], conclusion.reason):
        assert "kam_policy" not in shown
        assert " at 0x" not in shown


def test_text_of_a_conclusion_names_its_subject_by_identity(load: Load) -> None:
    policy = load("conclusion sold() about Sale\n" + OUT
                  + "rule a { for s in Sale emit sold() }\n"
                  "rule b { for g in sold let x = g emit out(v: text(x)) "
                  'about Member[g.subject.member_id] because "{x} in {g.subject}" }\n', NAMED)
    data = {"teams": [team()], "members": [member("M1")],
            "sales": [{"member_id": "M1", "period": "2026-01"}]}
    (conclusion,) = decide(policy, data).named("out")
    assert conclusion.values["v"] == "sold of sale M1/2026-01"
    assert conclusion.reason == "sold of sale M1/2026-01 in Sale M1/2026-01"


@pytest.mark.parametrize(("expr", "want"), [
    ("4h", "4h"), ("90m", "1h30m"), ("1/3", "0.33"), ("2/3", "0.67"), ("2.50", "2.50"),
    ("now", "2026-03-10T12:00:00+00:00"), ("date(now)", "2026-03-10"), ("m.tags", "[a, b]"),
    ("[1, 2]", "[1, 2]"), ("true", "true"), ("m.level", "junior"), ("m.score", "null"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_text_shows_values_as_reasons_do(load: Load, expr: str, want: str) -> None:
    policy = load(OUT + f"rule r {{ for m in Member let x = {expr} emit out(v: text(x)) "
                  'because "{x}" }\n')
    data = facts(members=[member("M1", tags=["a", "b"])])
    (conclusion,) = decide(policy, data)
    shown = None if want == "null" else want  # text(null) is null; a reason shows "null"
    assert (conclusion.values["v"], conclusion.reason) == (shown, want)


def test_text_of_a_constant_is_folded_the_same(load: Load) -> None:
    policy = load(emit_text("4h"))
    assert [c.values["v"] for c in decide(policy, facts(members=[member()]))] == ["4h"]


@pytest.mark.parametrize(("pre", "expr", "want"), [
    ("", "[1h, 2h]", "[1h, 2h]"), ("", "[[1h], [90m]]", "[[1h], [1h30m]]"),
    ("param p = {a: 1h}\n", "p", "{a: 1h}"),
], ids=["list", "nested-list", "map"])
def test_text_of_a_list_of_durations(load: Load, pre: str, expr: str, want: str) -> None:
    policy = load(pre + OUT + f"rule r {{ for m in Member let x = {expr} emit out(v: text(x)) "
                  'because "{x}" }\n')
    (conclusion,) = decide(policy, facts(members=[member()]))
    assert (conclusion.values["v"], conclusion.reason) == (want, want)


# ---- reason texts --------------------------------------------------------------------------


@pytest.mark.parametrize(("placeholder", "code"), [
    ("{0.__class__}", "check.reason"),
    ("{a.__class__}", "check.reason"),
    ("{m.__class__}", "check.unknown-field"),
    ("{m.name.__class__}", "check.unknown-field"),
    ("{m.__init__.__globals__}", "check.unknown-field"),
    ("{m!r}", "check.reason"),
    ("{m:>10}", "check.reason"),
    ("{m[0]}", "check.reason"),
    ("{__import__}", "check.reason"),
])
def test_reason_placeholders_reach_only_bound_values(load_fails: LoadFails, placeholder: str,
                                                     code: str) -> None:
    because = f'because "{placeholder}"'
    error, _ = load_fails(OUT + f"rule r {{ for m in Member emit seen() {because} }}\n")
    assert isinstance(error, PolicyCheckError)
    assert only(error).code == code


def test_values_in_a_reason_are_not_interpolated_again(load: Load) -> None:
    policy = load(OUT + 'param p = "{m.__class__} {0.__class__}"\n'
                  'rule r { for m in Member emit seen() because "{m.name} / {p}" }\n')
    data = facts(members=[member("M1", name="{m.__class__.__init__.__globals__}")])
    (conclusion,) = decide(policy, data)
    assert conclusion.reason == "{m.__class__.__init__.__globals__} / {m.__class__} {0.__class__}"


# ---- parameters ----------------------------------------------------------------------------

CODE = "__import__('os').system('touch pwned') or {0.__class__}"


def test_parameter_that_looks_like_code_is_text(tmp_path: Path, load: Load) -> None:
    policy = load(OUT + 'param p = "__import__(\'os\').system(\'touch pwned\')"\n'
                  "rule r { for m in Member emit out(v: p) }\n")
    assert [c.values["v"] for c in decide(policy, facts(members=[member()]))] == [
        "__import__('os').system('touch pwned')"]
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("how", ["dict", "toml"])
def test_parameter_override_that_looks_like_code_is_text(tmp_path: Path, load: Load,
                                                         how: str) -> None:
    params: Any = {"p": CODE}
    if how == "toml":
        params = tmp_path / "params.toml"
        params.write_text(f'p = "{CODE}"\n', encoding="utf-8")
    policy = load(OUT + 'param p = "plain"\nrule r { for m in Member emit out(v: p) '
                  'because "{p}" }\n', params=params)
    (conclusion,) = decide(policy, facts(members=[member()]))
    assert conclusion.values["v"] == CODE
    assert conclusion.reason == CODE
    assert not (tmp_path / "pwned").exists()
    assert not (Path.cwd() / "pwned").exists()


# ---- includes --------------------------------------------------------------------------------


@contextmanager
def files_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Record every file the engine opens through pathlib while the block runs."""
    seen: list[Path] = []
    real_open = pathlib.Path.open

    def spy(self: pathlib.Path, *args: Any, **kwargs: Any) -> Any:
        seen.append(self.resolve())
        return real_open(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(pathlib.Path, "open", spy)
        yield seen


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A rule file next to (not inside) the policy folder, holding a secret."""
    path = tmp_path / "outside.kp"
    path.write_text(f'param stolen = "{SECRET}"\n', encoding="utf-8")
    return path


def load_outside_attempt(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[PolicyError,
                                                                                    list[Path]]:
    with files_read(monkeypatch) as seen, pytest.raises(PolicyLoadError) as info:
        kam_policy.load(folder, schema=SCHEMA)
    return info.value, seen


def assert_nothing_outside_read(folder: Path, error: PolicyError, seen: list[Path]) -> None:
    root = folder.resolve()
    assert seen, "the spy saw no file at all"
    assert all(path.is_relative_to(root) for path in seen), seen
    assert SECRET not in error.rendered
    assert all(SECRET not in d.message for d in error.diagnostics)


@pytest.mark.parametrize(("include", "code"), [
    ("/etc/passwd", "load.include-outside"),
    ("../outside.kp", "load.include-outside"),
    ("sub/../../outside.kp", "load.include-outside"),
    ("\\\\etc\\\\passwd", "load.include-outside"),
])
def test_include_outside_the_folder_reads_nothing(tmp_path: Path, outside: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  include: str, code: str) -> None:
    folder = write_policy(tmp_path / "policy", {"policy.kp": HEADER + f'include "{include}"\n'})
    error, seen = load_outside_attempt(folder, monkeypatch)
    assert only(error).code == code
    assert_nothing_outside_read(folder, error, seen)


def test_nested_include_climbing_out_reads_nothing(tmp_path: Path, outside: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_policy(tmp_path / "policy", {
        "policy.kp": HEADER + 'include "sub/a.kp"\n', "sub/a.kp": 'include "../../outside.kp"\n'})
    error, seen = load_outside_attempt(folder, monkeypatch)
    diag = only(error)
    assert diag.code == "load.include-outside"
    assert str(diag.span) == "sub/a.kp:1:1"
    assert_nothing_outside_read(folder, error, seen)


def test_symlinked_file_pointing_outside_reads_nothing(tmp_path: Path, outside: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_policy(tmp_path / "policy", {"policy.kp": HEADER + 'include "link.kp"\n'})
    os.symlink(outside, folder / "link.kp")
    error, seen = load_outside_attempt(folder, monkeypatch)
    assert only(error).code == "load.include-outside"
    assert_nothing_outside_read(folder, error, seen)


def test_symlinked_folder_pointing_outside_reads_nothing(tmp_path: Path, outside: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_policy(tmp_path / "policy", {"policy.kp": HEADER + 'include "up/outside.kp"\n'})
    os.symlink(tmp_path, folder / "up")
    error, seen = load_outside_attempt(folder, monkeypatch)
    assert only(error).code == "load.include-outside"
    assert_nothing_outside_read(folder, error, seen)


def test_symlink_staying_inside_is_followed(tmp_path: Path) -> None:
    folder = write_policy(tmp_path / "policy", {
        "policy.kp": HEADER + 'include "link.kp"\n', "real/rules.kp": "param inside = 1\n"})
    os.symlink(folder / "real" / "rules.kp", folder / "link.kp")
    policy = kam_policy.load(folder, schema=SCHEMA)
    assert policy.params["inside"].value == 1
    assert "real/rules.kp" in policy.sources


@pytest.mark.parametrize("given", ["folder", "file"])
def test_entry_file_symlinked_from_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             given: str) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "main.kp").write_text(HEADER + f'param stolen = "{SECRET}"\n',
                                               encoding="utf-8")
    folder = tmp_path / "policy"
    folder.mkdir()
    os.symlink(tmp_path / "real" / "main.kp", folder / "policy.kp")
    with files_read(monkeypatch) as seen, pytest.raises(PolicyLoadError) as info:
        kam_policy.load(folder if given == "folder" else folder / "policy.kp", schema=SCHEMA)
    diag = only(info.value)
    assert diag.code == "load.include-outside"
    assert diag.message == "policy.kp links to a file outside the policy folder"
    assert diag.hint == "keep the rule files themselves inside the policy folder"
    assert diag.span is None
    assert seen == []
    assert SECRET not in info.value.rendered


def test_entry_file_symlinked_inside_its_folder_is_followed(tmp_path: Path) -> None:
    folder = write_policy(tmp_path / "policy", {"real/main.kp": HEADER + "param p = 1\n"})
    os.symlink(folder / "real" / "main.kp", folder / "policy.kp")
    assert kam_policy.load(folder, schema=SCHEMA).params["p"].value == 1


@pytest.mark.parametrize(("include", "shown"), [
    ("a\\u0000.kp", "a\0.kp"),
    ("x" * 300 + ".kp", "x" * 60),
    ("   ", "   "),
], ids=["nul", "long", "blank"])
def test_odd_include_paths_are_diagnostics(tmp_path: Path, include: str, shown: str) -> None:
    source = HEADER + f'include "{include}"\n'
    write_policy(tmp_path, {"policy.kp": source})
    with pytest.raises(PolicyLoadError) as info:
        kam_policy.load(tmp_path, schema=SCHEMA)
    diag = only(info.value)
    assert diag.code == "load.include-missing"
    assert diag.message == f'include "{shown}" is not a valid file name'
    assert diag.span is not None
    assert diag.span.text(source) == f'include "{include}"'
