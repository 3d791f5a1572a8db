"""Decision-table rows -> a hash index on their equality cells, so a lookup need not scan.

When a table is compiled, each row is classified by the input columns it tests with an equality
against a constant (``"R00017"``, ``gold``, ``true``): that set of columns is the row's
*pattern*; ``-`` and every other test (``>= 95``, ``in [...]``) are not part of it. For each
pattern a dict maps the tuple of constants to the positions of the rows with those constants,
in row order. At evaluation each pattern is looked up once with the input values; the rows found
are the candidates, and only their remaining tests (the *residual* ones) still run. Every hit
policy sees the candidates in row order, so FIRST takes the lowest row, and COLLECT, RULE ORDER,
UNIQUE, ANY and PRIORITY see exactly the rows a scan would match.

A dict lookup agrees with ``==`` only for values whose hash is consistent with their equality.
Constants and input values of other types are therefore never indexed: a cell with such a
constant stays a residual test, and an input value of such a type (a list, a value that changes
with ``now``, anything that refuses to be hashed) makes ``candidates`` return None, and the
caller scans the rows as if there were no index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kam_policy.engine.compile_expr import Fn

Tests = tuple["Fn", ...]  # the tests a row still has to pass

# Types whose ``==`` and ``hash`` agree with each other across the whole set (Python's numeric
# hash makes 1 == Decimal("1.0") == Fraction(1) hash alike; bool is an int).
_EXACT: tuple[type, ...] = (str, int, bool, Decimal, Fraction, type(None))
_KEYABLE: dict[type, bool] = {t: True for t in _EXACT}

# An index pays for itself only when it replaces several row tests per lookup.
MIN_ROWS = 8


def keyable(value: Any) -> bool:
    """Whether ``value`` can serve as (or be looked up as) an index key: its type is one of the
    exact types above, or a subclass (a ``StrEnum``) that keeps their ``==`` and ``hash``."""
    kind = type(value)
    known = _KEYABLE.get(kind)
    if known is None:
        base = next((t for t in _EXACT if isinstance(value, t)), None)
        known = base is not None and kind.__eq__ is base.__eq__ \
            and kind.__hash__ is base.__hash__
        _KEYABLE[kind] = known
    return known


@dataclass(frozen=True)
class RowIndex:
    """The patterns of a table's rows, their dicts, and each row's residual tests."""

    patterns: tuple[tuple[tuple[int, ...], dict[tuple[Any, ...], tuple[int, ...]]], ...]
    residual: tuple[Tests, ...]  # by row position

    def candidates(self, args: Sequence[Any]) -> Sequence[int] | None:
        """Positions of the rows whose indexed cells equal ``args``, in row order; None when an
        input cannot be looked up (the caller then scans)."""
        found: list[tuple[int, ...]] = []
        try:
            for columns, table in self.patterns:
                key = tuple([args[i] for i in columns])
                for value in key:
                    if not keyable(value):
                        return None
                hit = table.get(key)
                if hit:
                    found.append(hit)
        except TypeError:  # e.g. a value that refuses to be hashed
            return None
        if len(found) == 1:
            return found[0]
        return sorted(position for hit in found for position in hit)


def build_index(width: int, tests: Sequence[Sequence[Fn | None]],
                constants: Sequence[Sequence[tuple[bool, Any]]]) -> RowIndex | None:
    """The index of a table's rows, or None when it would not save work.

    Args:
        width: the number of input columns.
        tests: per row, the compiled test of each input column (None for ``-``).
        constants: per row and column, (True, c) when the cell is ``== c`` with a keyable
            constant ``c``, else (False, None).

    Returns:
        The index; None for a table with fewer than ``MIN_ROWS`` rows, no equality cells, or
        so many patterns that looking each up would cost about as much as a scan.
    """
    if len(tests) < MIN_ROWS:
        return None
    by_pattern: dict[tuple[int, ...], dict[tuple[Any, ...], list[int]]] = {}
    residual: list[Tests] = []
    for position, (row_tests, row_constants) in enumerate(zip(tests, constants, strict=True)):
        columns = tuple(i for i in range(width) if row_constants[i][0])
        key = tuple(row_constants[i][1] for i in columns)
        by_pattern.setdefault(columns, {}).setdefault(key, []).append(position)
        residual.append(tuple(test for i, test in enumerate(row_tests)
                              if test is not None and i not in columns))
    if set(by_pattern) == {()} or 2 * len(by_pattern) > len(tests):
        return None
    patterns = tuple((columns, {key: tuple(rows) for key, rows in table.items()})
                     for columns, table in by_pattern.items())
    return RowIndex(patterns, tuple(residual))
