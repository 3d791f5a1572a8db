"""A one-line progress display on a text stream: share done, lines, rate and time left."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress", "duration"]

_BAR = 20
_BLOCKS = " ▏▎▍▌▋▊▉█"


class Progress:
    """Redraws one status line in place on a terminal, or writes a line now and then elsewhere.

    Args:
        stream: where to draw (standard error).
        total: the bytes to read when known (a file's size), for the share done and time left.
        terminal: redraw in place (``\\r``) every ``interval`` seconds; otherwise write a new
            line every ``interval`` seconds.
        interval: seconds between two draws.
        clock: a monotonic clock, in seconds.
    """

    def __init__(self, stream: TextIO, *, total: int | None, terminal: bool,
                 interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.total = total or None
        self.terminal = terminal
        self.interval = interval if interval is not None else (0.1 if terminal else 5.0)
        self._clock = clock
        self._start = clock()
        self._next = self._start + self.interval
        self._shown = 0

    def update(self, done: int, lines: int) -> None:
        """Report ``done`` bytes and ``lines`` lines so far; draws when it is time to."""
        now = self._clock()
        if now >= self._next:
            self._next = now + self.interval
            self._draw(self.render(done, lines, now - self._start))

    def close(self, done: int, lines: int) -> None:
        """Draw the final state and end the line."""
        self._draw(self.render(done, lines, self._clock() - self._start))
        if self.terminal:
            self.stream.write("\n")
            self.stream.flush()

    def render(self, done: int, lines: int, elapsed: float) -> str:
        """The status text: ``42% |████████▍           | 420,000 lines  5,012 lines/s  ETA 1m56s``
        (without a total: lines, rate and time so far)."""
        rate = lines / elapsed if elapsed > 0 else 0.0
        tail = f"{lines:,} lines  {rate:,.0f} lines/s"
        if self.total is None:
            return f"{tail}  {duration(elapsed)}"
        share = min(done / self.total, 1.0)
        left = elapsed * (1 - share) / share if share > 0 else None
        eta = duration(left) if left is not None else "?"
        return f"{share:4.0%} |{_bar(share)}| {tail}  ETA {eta}"

    def _draw(self, text: str) -> None:
        if not self.terminal:
            self.stream.write(text + "\n")
            self.stream.flush()
            return
        width = shutil.get_terminal_size((80, 24)).columns - 1
        text = text[:width]
        self.stream.write("\r" + text + " " * max(0, self._shown - len(text)))
        self.stream.flush()
        self._shown = len(text)


def _bar(share: float) -> str:
    eighths = round(share * _BAR * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (_BLOCKS[part] if part and full < _BAR else "")
    return bar.ljust(_BAR)


def duration(seconds: float) -> str:
    """``0.4s``, ``12.3s``, ``3m12s``, ``1h02m``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
