"""``kam-policy params``: each parameter's value, origin (default or parameters file) and the
rules using it; a bad parameters file is rejected with its line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import HEADER, SCHEMA, write_policy

import kam_policy
from kam_policy import cli as cli_package
from kam_policy.cli import lint as lint_command
from kam_policy.cli import params as params_command
from kam_policy.lint import param_uses
from kam_policy.lint.index import PolicyIndex

ESCALATION = ["C.escalation.manager", "C.escalation.department_head", "C.escalation.executive"]


@pytest.fixture
def main(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., int]]:
    """``kam_policy.cli.main`` with the lint and params commands registered."""
    missing = tuple(c for c in (lint_command, params_command) if c not in cli_package.COMMANDS)
    monkeypatch.setattr(cli_package, "COMMANDS", (*cli_package.COMMANDS, *missing))
    yield cli_package.main


def listing(main: Callable[..., int], capsys: pytest.CaptureFixture[str],
            *argv: str) -> dict[str, dict[str, Any]]:
    assert main(["params", "--format", "json", *argv]) == 0
    return {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}


def test_defaults_with_their_file_and_line(main: Callable[..., int],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    entries = listing(main, capsys)
    limit = entries["response_limit"]
    assert limit == {
        "name": "response_limit", "type": "map[enum, duration]",
        "value": {"minor": "1d", "general": "8h", "major": "4h", "critical": "1h"},
        "origin": "default", "source": {"file": "complaints.kp", "line": 4},
        "used_by": ESCALATION, "functions": ["response_late"],
    }
    assert entries["budget_risk_factor"]["value"] == "1.10"  # decimals stay exact
    assert entries["survey_interval"]["value"] == "180d"


def test_rules_using_a_parameter_through_tables_and_defines(
        main: Callable[..., int], capsys: pytest.CaptureFixture[str]) -> None:
    entries = listing(main, capsys)
    # executive_reopened is only read by the escalation_target table, which each of the
    # three escalation rules calls.
    assert entries["executive_reopened"]["used_by"] == ESCALATION
    assert entries["executive_reopened"]["functions"] == ["escalation_target"]
    # source_weight: dimension_score, called by total_score (D.grade) and by E.honor.
    assert entries["source_weight"]["used_by"] == ["D.grade", "E.honor"]
    assert entries["client_notice_limit"]["used_by"] == ["C.client_notice_overdue"]


def test_table_format(main: Callable[..., int], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["parameter", "type", "origin", "used", "by", "value"]
    row = next(line for line in lines if line.startswith("response_limit "))
    assert row.split() == [
        "response_limit", "map[enum,", "duration]", "default", "(complaints.kp:4)",
        "C.escalation.manager,", "C.escalation.department_head,", "C.escalation.executive",
        "{minor:", "1d,", "general:", "8h,", "major:", "4h,", "critical:", "1h}"]
    row = next(line for line in lines if line.startswith("budget_risk_factor "))
    assert row.split()[-1] == "1.10"


def test_values_from_a_parameters_file(main: Callable[..., int],
                                       capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    overrides = tmp_path / "params.toml"
    overrides.write_text('survey_min_score = 65.5\n\n[response_limit]\nmajor = "5h30m"\n',
                         encoding="utf-8")
    entries = listing(main, capsys, "--params", str(overrides))
    assert entries["response_limit"]["origin"] == "file"
    assert entries["response_limit"]["source"] == {"file": str(overrides), "line": 3}
    assert entries["response_limit"]["value"] == {
        "minor": "1d", "general": "8h", "major": "5h30m", "critical": "1h"}
    assert entries["survey_min_score"]["value"] == "65.5"
    assert entries["survey_min_score"]["source"]["line"] == 1
    assert entries["resolution_limit"]["origin"] == "default"
    assert main(["params", "--params", str(overrides)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines()
               if line.startswith("survey_min_score "))
    assert f"{overrides}:1" in row


@pytest.mark.parametrize(("content", "code", "message", "line"), [
    ("survey_min_score = 60\nsurvey_min_scor = 70\n", "params.unknown",
     "unknown parameter 'survey_min_scor'", "    2 | survey_min_scor = 70"),
    ('survey_min_score = 60\nreview_due_after = 30\n', "params.type",
     "parameter 'review_due_after': expected a duration", "    2 | review_due_after = 30"),
])
def test_a_bad_parameters_file_is_rejected_with_its_line(
        main: Callable[..., int], capsys: pytest.CaptureFixture[str], tmp_path: Path,
        content: str, code: str, message: str, line: str) -> None:
    overrides = tmp_path / "params.toml"
    overrides.write_text(content, encoding="utf-8")
    assert main(["params", "--params", str(overrides)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{overrides}:2:1: error[{code}] {message}" in captured.err
    assert line in captured.err


def test_local_names_hide_a_parameter(tmp_path: Path) -> None:
    policy = HEADER + """
param cap = 3
param shown = 2h
conclusion flagged() about Member "Flagged"
define over(cap: number) = cap > 1
rule R "R" {
  section "1"
  for m in Member
  when over(m.score ?? 0)
  when count(cap in Ticket where cap.member_id == m.id) > 0
  emit flagged()
  because "shown {shown}"
}
"""
    # The command reads the bundled fact types; this policy uses the tiny test schema, so
    # the listing is built through the functions the command calls.
    loaded = kam_policy.load(write_policy(tmp_path, {"policy.kp": policy}), schema=SCHEMA)
    uses = param_uses(PolicyIndex(loaded.declarations, dict(loaded.sources)))
    assert uses["cap"].rules == ()
    assert uses["shown"].rules == ("R",)
    entry = params_command.describe(loaded.params["shown"], uses["shown"], "")
    assert entry["value"] == "2h"
    assert entry["source"] == {"file": "policy.kp", "line": 4}
