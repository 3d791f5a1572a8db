"""Rule file text -> comments attached to the units the formatter prints on lines of their own.

The engine's parser drops comments, so this module parses the text again with its own Lark
instance (the same grammar file, the same options, plus a lexer callback that keeps COMMENT
tokens). The Lark tree gives the *units* of the layout, each keyed as the printer will look it
up: items, the lines inside a rule or table, and the entries of map and list literals (the
*blocks* that a comment can sit inside). Each comment then belongs to one unit:

- a comment on a line of its own goes *before* the unit it precedes, or the unit it sits inside
  (a comment in the middle of an expression moves above that clause); at the end of a block it
  stays there, *dangling* before the closing brace;
- a comment after code goes *after* the last unit that starts before it, at the end of that
  unit's last line; after a block's opening brace it is the block's *header* comment. A unit with
  several such comments keeps none at its end: they move above it, in order.

Blank lines are kept (at most one) before every comment and unit.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from importlib import resources

from lark import Lark, Token, Tree

# A unit's key: the start offset of its AST node, or (block start, line kind) for the lines
# of rules and tables that have no node of their own (section, hit, because, ...).
Key = int | tuple[int, str]

ROOT = -1  # the key of the file's own block

_RULE_LINES = {"section": "section", "description": "description"}
# Table lines whose keyword is not part of the Lark subtree: the line's tag and its keyword.
_TABLE_KEYWORDS = {"table_inputs": ("in", "in"), "table_outputs": ("out", "out")}
_CLAUSES = ("for_clause", "let_clause", "when_clause", "emit")


@dataclass(frozen=True)
class Comment:
    """One ``# ...`` comment of the source."""

    text: str
    offset: int
    own_line: bool
    blank_before: bool


@dataclass
class Block:
    """A rule, a table, a map or a list literal: a bracketed sequence of units."""

    key: int
    start: int
    end: int
    units: list[Unit] = field(default_factory=list)

    @cached_property
    def starts(self) -> list[int]:
        return [unit.start for unit in self.units]

    def last_before(self, offset: int) -> int:
        """The index of the last unit that starts before ``offset`` (-1: none)."""
        return bisect_right(self.starts, offset) - 1


@dataclass
class Unit:
    """One thing the printer starts on a line of its own, with the blocks it contains."""

    key: Key
    start: int
    end: int
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Notes:
    """Where every comment and blank line goes, by unit key and block key."""

    before: dict[Key, list[Comment]] = field(default_factory=dict)
    after: dict[Key, Comment] = field(default_factory=dict)
    header: dict[int, Comment] = field(default_factory=dict)
    dangling: dict[int, list[Comment]] = field(default_factory=dict)
    blank: set[Key] = field(default_factory=set)
    commented: set[int] = field(default_factory=set)  # blocks holding any comment

    def blank_before(self, key: Key) -> bool:
        """Whether the source has a blank line just before the unit ``key``."""
        return key in self.blank


# ---- scanning ------------------------------------------------------------------------------

_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')
_lock = threading.Lock()
_sink: list[Token] = []


@cache
def _parser() -> Lark:
    grammar = resources.files("kam_policy.grammar").joinpath("policy.lark").read_text("utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True,
                lexer_callbacks={"COMMENT": _sink.append})


def _parse(text: str) -> tuple[Tree[Token], list[Token]]:
    with _lock:
        _sink.clear()
        try:
            tree = _parser().parse(text)
            return tree, list(_sink)
        finally:
            _sink.clear()


def comment_texts(text: str) -> list[str]:
    """The text of every comment in ``text`` (which must parse), in order.

    Outside texts and comments, no token of a valid file holds a ``"`` or a ``#``, so one scan
    for either finds them all without parsing.
    """
    return [m.group().rstrip() for m in _STRING_OR_COMMENT.finditer(text)
            if m.group().startswith("#")]


def scan(text: str) -> Notes:
    """Attach the comments and blank lines of ``text`` (which must parse) to units.

    Args:
        text: a rule file that the engine's parser accepts.

    Returns:
        The notes the printer consults for each unit and block.
    """
    tree, tokens = _parse(text)
    keyword = _KeywordFinder(text, tokens)
    units = [_item_unit(item, keyword) for item in _trees(tree.children)]
    comments = [_comment(text, token) for token in tokens]
    return _Attach(text).run(Block(ROOT, 0, len(text), units), comments)


def _comment(text: str, token: Token) -> Comment:
    offset = token.start_pos or 0
    line_start = text.rfind("\n", 0, offset) + 1
    own_line = not text[line_start:offset].strip()
    return Comment(str(token).rstrip(), offset, own_line, _blank_before(text, offset))


def _blank_before(text: str, offset: int) -> bool:
    """Whether an empty line separates ``offset`` from the code or comment before it."""
    newlines = 0
    index = offset - 1
    while index >= 0 and text[index] in " \t\r\n\f\v":
        newlines += text[index] == "\n"
        index -= 1
    return newlines >= 2 and index >= 0


# ---- the units of the layout -------------------------------------------------------------


def _trees(children: Sequence[Tree[Token] | Token | None]) -> list[Tree[Token]]:
    return [child for child in children if isinstance(child, Tree)]


def _span(tree: Tree[Token]) -> tuple[int, int]:
    return tree.meta.start_pos, tree.meta.end_pos


class _KeywordFinder:
    """Where the keyword before a subtree starts (``in`` before a table's input columns): back
    from the subtree over spaces and comments, then over the keyword."""

    def __init__(self, text: str, comments: list[Token]) -> None:
        self.text = text
        self.comment_starts = {(c.start_pos or 0) + len(c): c.start_pos or 0 for c in comments}

    def __call__(self, start: int, keyword: str) -> int:
        index = start
        while True:
            while index > 0 and self.text[index - 1].isspace():
                index -= 1
            if index not in self.comment_starts:
                return index - len(keyword)
            index = self.comment_starts[index]


def _item_unit(item: Tree[Token], keyword: _KeywordFinder) -> Unit:
    start, end = _span(item)
    if item.data == "rule":
        return Unit(start, start, end, [Block(start, start, end, _rule_units(item, start))])
    if item.data == "table":
        units = _table_units(item, start, keyword)
        return Unit(start, start, end, [Block(start, start, end, units)])
    return Unit(start, start, end, _blocks(item))


def _rule_units(rule: Tree[Token], key: int) -> list[Unit]:
    units: list[Unit] = []
    metas = 0
    for child in _trees(rule.children):
        start, end = _span(child)
        name = str(child.data)
        if name in _RULE_LINES:
            units.append(Unit((key, name), start, end))
        elif name == "meta":
            tag = str(child.children[0])
            if tag not in _RULE_LINES:
                tag = f"meta:{metas}"
                metas += 1
            units.append(Unit((key, tag), start, end))
        elif name == "because":
            units.append(Unit((key, "because"), start, end))
        elif name in _CLAUSES:
            units.append(Unit(start, start, end, _blocks(child)))
    return units


def _table_units(table: Tree[Token], key: int, keyword: _KeywordFinder) -> list[Unit]:
    units: list[Unit] = []
    for child in _trees(table.children):
        start, end = _span(child)
        name = str(child.data)
        if name == "row":
            units.append(Unit(start, start, end))
        elif name == "table_section":
            units.append(Unit((key, "section"), start, end))
        else:
            tag, word = _TABLE_KEYWORDS.get(name, ("hit", "hit"))
            units.append(Unit((key, tag), keyword(start, word), end))
    return units


def _blocks(tree: Tree[Token]) -> list[Block]:
    """The outermost map and list literals inside ``tree``, each with its entries as units."""
    found: list[Block] = []
    for child in _trees(tree.children):
        if child.data in ("map_", "list_"):
            start, end = _span(child)
            units = [Unit(_span(e)[0], *_span(e), _blocks_of_entry(e, child.data == "list_"))
                     for e in _trees(child.children)]
            found.append(Block(start, start, end, units))
        else:
            found.extend(_blocks(child))
    return found


def _blocks_of_entry(entry: Tree[Token], is_item: bool) -> list[Block]:
    if is_item and entry.data in ("map_", "list_"):
        wrapper: Tree[Token] = Tree("item", [entry])
        return _blocks(wrapper)
    return _blocks(entry)


# ---- attaching comments ------------------------------------------------------------------


class _Attach:
    def __init__(self, text: str) -> None:
        self.text = text
        self.before: defaultdict[Key, list[Comment]] = defaultdict(list)
        self.inside: defaultdict[Key, list[Comment]] = defaultdict(list)
        self.after: defaultdict[Key, list[Comment]] = defaultdict(list)
        self.header: defaultdict[int, list[Comment]] = defaultdict(list)
        self.dangling: defaultdict[int, list[Comment]] = defaultdict(list)
        self.notes = Notes()

    def run(self, root: Block, comments: list[Comment]) -> Notes:
        self.mark_blanks(root)
        for comment in comments:
            self.place(root, comment)
        self.finish(root)
        return self.notes

    def mark_blanks(self, block: Block) -> None:
        for unit in block.units:
            if _blank_before(self.text, unit.start):
                self.notes.blank.add(unit.key)
            for inner in unit.blocks:
                self.mark_blanks(inner)

    def place(self, block: Block, comment: Comment) -> None:
        self.notes.commented.add(block.key)
        offset = comment.offset
        index = block.last_before(offset)
        unit = block.units[index] if index >= 0 else None
        if unit is not None and offset < unit.end:
            inner = next((b for b in unit.blocks if b.start < offset < b.end), None)
            if inner is not None:
                self.place(inner, comment)
            else:
                (self.inside if comment.own_line else self.after)[unit.key].append(comment)
        elif comment.own_line:
            if index + 1 < len(block.units):
                self.before[block.units[index + 1].key].append(comment)
            else:
                self.dangling[block.key].append(comment)
        elif unit is not None:
            self.after[unit.key].append(comment)
        else:
            self.header[block.key].append(comment)

    def finish(self, block: Block) -> None:
        if self.header[block.key]:
            first, *rest = self.header[block.key]
            self.notes.header[block.key] = first
            moved = [replace(c, own_line=True, blank_before=False) for c in rest]
            target = self.before[block.units[0].key] if block.units else self.dangling[block.key]
            target[:0] = moved
        if self.dangling[block.key]:
            self.notes.dangling[block.key] = self.dangling[block.key]
        for unit in block.units:
            self.finish_unit(unit)
            for inner in unit.blocks:
                self.finish(inner)

    def finish_unit(self, unit: Unit) -> None:
        trailing = self.after[unit.key]
        if len(trailing) == 1:
            self.notes.after[unit.key] = trailing[0]
            trailing = []
        moved = sorted(self.inside[unit.key] + [replace(c, blank_before=False) for c in trailing],
                       key=lambda c: c.offset)
        if moved and self.notes.blank_before(unit.key):
            moved[0] = replace(moved[0], blank_before=True)
            self.notes.blank.discard(unit.key)
        comments = self.before[unit.key] + moved
        if comments:
            self.notes.before[unit.key] = comments
