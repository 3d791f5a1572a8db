"""Rule file text -> the same policy in the one canonical layout (``kam-policy fmt``).

The text is parsed by the engine's parser (so syntax errors are the usual diagnostics), the
comments are collected and attached to the lines they belong to (``comments``), and the AST is
printed back (``printer``) with the fewest parentheses that keep the meaning. Formatting is
idempotent, and the result is checked to parse to the same AST with the same comments.
"""

from __future__ import annotations

from kam_policy.fmt.comments import comment_texts, scan
from kam_policy.fmt.printer import WIDTH, print_module
from kam_policy.grammar.parse import parse

__all__ = ["WIDTH", "FormatterError", "format_text"]


class FormatterError(RuntimeError):
    """The formatter produced text that does not mean the same as its input (a bug of ours)."""


def format_text(text: str, source: str = "<policy>") -> str:
    """Format one rule file.

    Args:
        text: the rule file's text.
        source: the name syntax errors carry (usually the file's path).

    Returns:
        The canonical text: the same AST (spans aside) and the same comments, in UTF-8 without
        a byte-order mark, with ``\n`` line ends.

    Raises:
        PolicySyntaxError: ``text`` does not parse.
        FormatterError: the result would not mean the same (please report it).
    """
    text = text.removeprefix("\ufeff")
    module = parse(text, source)
    formatted = print_module(module, scan(text), text)
    try:
        same = parse(formatted, source) == module
    except Exception as error:
        raise FormatterError(f"{source}: the formatted text does not parse: {error}") from error
    if not same:
        raise FormatterError(f"{source}: the formatted text parses to a different policy")
    if sorted(comment_texts(formatted)) != sorted(comment_texts(text)):
        raise FormatterError(f"{source}: the formatted text lost or changed a comment")
    return formatted

