"""A pytest plugin: record every diagnostic kam_policy creates while the tests run.

``test_i18n`` checks, after every other test (the ``last`` marker), that each recorded message
and hint has a Chinese translation: a new message in the engine or the linter fails the suite
until ``kam_policy/i18n/messages/zh.json`` has a template for it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import pytest

from kam_policy.errors import Diagnostic
from kam_policy.i18n import STAGES

# (code, message, hint) -> the module that created the diagnostic
RECORDED: dict[tuple[str, str, str | None], str] = {}

_original: Callable[..., None] | None = None


def _recording(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def record(self: Diagnostic, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        creator = sys._getframe(1).f_globals.get("__name__", "")
        # Only what kam_policy reports in the stages the catalogues cover: not diagnostics a
        # test builds, nor copies (dataclasses.replace) such as translations.
        if creator.startswith("kam_policy.") and not creator.startswith("kam_policy.i18n") \
                and self.code.partition(".")[0] in STAGES:
            RECORDED.setdefault((self.code, self.message, self.hint), creator)

    return record


def pytest_configure(config: pytest.Config) -> None:
    global _original
    config.addinivalue_line("markers", "last: run this test after every other test")
    if _original is None:
        _original = Diagnostic.__init__
        Diagnostic.__init__ = _recording(_original)  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    global _original
    if _original is not None:
        Diagnostic.__init__ = _original  # type: ignore[method-assign]
        _original = None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    last = [item for item in items if item.get_closest_marker("last")]
    items[:] = [item for item in items if not item.get_closest_marker("last")] + last
