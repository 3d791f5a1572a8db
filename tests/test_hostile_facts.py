"""Hostile facts: every input that is wrong in some exotic way gets a clear error (exit 2) or a
correct decision, never a traceback, with memory bounded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kam_policy.cli import main

AT = "2026-11-27T09:00:00+08:00"
STAFF = {"id": "S1", "name": "Li", "role": "sales_rep", "education": "bachelor",
         "major": "marketing", "sales_years": 4, "ka_sales_years": 2, "pm_years": 0,
         "ka_project_years": 0, "after_sales_years": 0, "role_since": "2024-01-01",
         "manager_id": None, "career_track": "professional", "monthly_target_bonus": 1000}


def _run(tmp_path: Path, data: bytes | str,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    path = tmp_path / "facts.json"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    code = main(["decide", "--facts", str(path), "--at", AT])
    out, err = capsys.readouterr()
    return code, out, err


def _staff(**changes: object) -> str:
    return json.dumps({"staff": [{**STAFF, **changes}]})


@pytest.mark.parametrize(("text", "needle"), [
    (_staff().replace('"sales_years": 4', '"sales_years": NaN'), "NaN"),
    (_staff().replace('"sales_years": 4', '"sales_years": Infinity'), "Infinity"),
    (_staff().replace('"sales_years": 4', '"sales_years": 1e400'), "sales_years"),
    (_staff().replace('"sales_years": 4', '"sales_years": -0.5'), "sales_years"),
    (_staff(name="x" * 2_000_000).replace('"sales_years": 4', '"sales_years": "many"'),
     "sales_years"),
    ('{"staff": [], "staff": []}', "duplicate"),
    ("[" * 100_000 + "]" * 100_000, "nested"),
    ('{"staff": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested"),
    ("", "empty"),
    ("{", "facts"),
])
def test_hostile_json_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       text: str, needle: str) -> None:
    code, out, err = _run(tmp_path, text, capsys)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert needle.lower() in err.lower()


def test_invalid_utf8_is_a_clear_error(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(tmp_path, b'{"staff": [{"id": "\xff\xfe"}]}', capsys)
    assert (code, out) == (2, "")
    assert "utf-8" in err.lower()


def test_byte_order_mark_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(tmp_path, "\ufeff" + _staff(), capsys)
    assert code == 0, err
    assert json.loads(out)["conclusions"] == []


def test_negative_zero_is_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(tmp_path, _staff().replace('"pm_years": 0', '"pm_years": -0'), capsys)
    assert code == 0, err


def test_a_twenty_megabyte_file_decides(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    staff = [{**STAFF, "id": f"S{i}", "name": "x" * 300} for i in range(40_000)]
    text = json.dumps({"staff": staff})
    assert len(text) > 20_000_000
    code, out, err = _run(tmp_path, text, capsys)
    assert code == 0, err[:500]
    assert json.loads(out)["conclusions"] == []
