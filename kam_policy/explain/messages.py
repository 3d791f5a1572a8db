"""Message catalogues for generated explanation phrases (English and Chinese)."""

from __future__ import annotations

import json
import locale
import os
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "zh")


@cache
def catalogue(lang: str) -> dict[str, Any]:
    """The phrases of one language (``en`` or ``zh``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    text = resources.files("kam_policy.explain").joinpath(f"messages/{lang}.json").read_text(
        "utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def default_language() -> str:
    """``zh`` when the locale is Chinese, else ``en``."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    current = locale.getlocale()[0] or ""
    return "zh" if current.lower().startswith("zh") else "en"
