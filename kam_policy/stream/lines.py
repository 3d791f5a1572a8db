"""Reading JSON Lines: numbered lines of a byte stream, in bounded batches, each parsed to JSON.

A line is parsed as the facts loader parses a facts file: numbers stay exact (``Decimal``),
``NaN``, ``Infinity`` and duplicate keys are errors. Blank lines are passed over (they keep
their number, so later lines are still numbered as an editor shows them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kam_policy.errors import FactIssue
from kam_policy.facts.load import (
    JsonProblem,
    parse_json_int,
    reject_json_constant,
    unique_json_keys,
)

__all__ = ["BATCH_BYTES", "BATCH_LINES", "LineIssue", "LineReader", "parse_line"]

BATCH_LINES = 1024
BATCH_BYTES = 4 * 1024 * 1024
_BOM = "\ufeff"


@dataclass(frozen=True)
class LineIssue:
    """One problem with one input line.

    Args:
        line: the line number, from 1.
        message: what is wrong, e.g. ``malformed JSON at column 5: Expecting value``.
        fact: the record problem, as the facts loader reports it (type, index, id, field),
            when the problem is with one record of the line.
    """

    line: int
    message: str
    fact: FactIssue | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


Line = tuple[int, bytes | str]
"""A line number and the line's text (bytes as read, or str)."""


class LineReader:
    """Numbered, non-blank lines of a stream, in batches of at most ``batch_lines`` lines and
    about ``batch_bytes`` bytes: only one batch is held at a time.

    Args:
        source: a binary file (or any iterable of lines, bytes or str).
        batch_lines: the most lines in one batch.
        batch_bytes: a batch ends after the line that reaches this many bytes.
    """

    def __init__(self, source: Iterable[bytes] | Iterable[str], *,
                 batch_lines: int = BATCH_LINES, batch_bytes: int = BATCH_BYTES) -> None:
        self._source: Iterable[bytes | str] = source
        self.batch_lines = batch_lines
        self.batch_bytes = batch_bytes
        self.lines_read = 0
        """Lines read so far, blank ones included."""
        self.bytes_read = 0
        """Bytes (characters, for str lines) read so far."""

    def batches(self) -> Iterator[list[Line]]:
        """The non-blank lines, batch by batch."""
        batch: list[Line] = []
        size = 0
        for raw in self._source:
            self.lines_read += 1
            self.bytes_read += len(raw)
            if self.lines_read == 1:
                raw = _without_bom(raw)
            if not raw.strip():
                continue
            batch.append((self.lines_read, raw))
            size += len(raw)
            if len(batch) >= self.batch_lines or size >= self.batch_bytes:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch


def _without_bom(raw: bytes | str) -> bytes | str:
    if isinstance(raw, bytes):
        return raw.removeprefix(_BOM.encode("utf-8"))
    return raw.removeprefix(_BOM)


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=parse_json_int,
                            parse_constant=reject_json_constant, object_pairs_hook=unique_json_keys)


def parse_line(number: int, raw: bytes | str) -> Any:
    """The JSON value of one line, or a ``LineIssue`` saying why it is not JSON."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            bad = err.object[err.start]
            message = f"not valid UTF-8 (byte 0x{bad:02x} at column {err.start + 1})"
            return LineIssue(number, message)
    try:
        return _DECODER.decode(raw.rstrip("\r\n"))
    except json.JSONDecodeError as err:
        return LineIssue(number, f"malformed JSON at column {err.colno}: {err.msg}")
    except JsonProblem as err:
        return LineIssue(number, str(err))
    except RecursionError:
        return LineIssue(number, "JSON is nested too deeply")
    except ValueError as err:
        return LineIssue(number, f"invalid JSON: {err}")
