"""cProfile of one call, reduced to the top entries as text with short paths."""

from __future__ import annotations

import cProfile
import io
import pstats
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parents[1]) + "/"
_PATHS = re.compile(r"[^\s(]*/(site-packages|lib/python3\.\d+)/")


def top(fn: Callable[[Any], Any], arg: Any, count: int = 15) -> dict[str, str]:
    """The ``count`` top functions of one call of ``fn(arg)`` by own time and by cumulative."""
    profile = cProfile.Profile()
    profile.enable()
    fn(arg)
    profile.disable()
    return {order: _render(profile, order, count) for order in ("tottime", "cumulative")}


def _render(profile: cProfile.Profile, order: str, count: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats(order).print_stats(count)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    header = next(line for line in lines if "function calls" in line).strip()
    body = [_short(line) for line in lines[start:] if line.strip()]
    return "\n".join([header, *body])


def _short(line: str) -> str:
    return _PATHS.sub("", line.replace(_ROOT, ""))
