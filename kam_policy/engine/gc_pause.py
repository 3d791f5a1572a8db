"""Pausing Python's cyclic garbage collector while a policy is read and compiled.

Loading a large policy allocates millions of objects that all survive (the AST, the compiled
closures); every full collection on the way walks all of them again, about a third of the load
time. Parsing and compiling make next to no reference cycles, so nothing is lost by collecting
once afterwards instead.

Pauses may overlap, in one thread or in several: the collector is switched back on when the last
pause ends, and only if it was on when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the ``with`` block without automatic cyclic garbage collection."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
