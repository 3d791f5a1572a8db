"""Display width of text in a terminal or editor: East Asian wide characters take two columns.

One function for every place that aligns text (diagnostic carets, tables, the formatter).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def text_width(text: str) -> int:
    """Columns ``text`` takes: East Asian wide and full-width characters count two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)
