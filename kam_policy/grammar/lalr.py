"""A table-driven LALR(1) parser that builds the AST while it parses.

It runs on Lark's own analysis of ``policy.lark`` — the LALR parse table and the contextual
lexer's compiled per-state scanners — so it accepts exactly the language Lark accepts and cuts
exactly Lark's tokens. What it replaces is Lark's Python parse loop, its parse tree (about 40
nodes per decision-table row, most of them one-child links of the precedence chain) and the
transformer pass: a reduction calls the builder (``builder.AstBuilder``) once per AST node, and
a one-child link only changes the parser state.

Spans follow Lark's ``propagate_positions``: a node runs from the start of its first part to the
end of its last, tokens the grammar drops (``"|"``, ``"("``) included; a node inlined through
parentheses (``?atom: "(" expr ")"``) keeps its own span but counts, as a part of its parent,
with its parentheses (Lark's "container").

What it does not handle raises ``Rejected``: a syntax error, a tree deeper than ``MAX_DEPTH``,
or (when it is set up) a grammar feature it does not know; an error the builder finds is raised
as the builder raises it. The caller then parses with Lark's tree, which reports the error (or
reads the deep tree) exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from lark import Lark
from lark.grammar import Rule, Terminal
from lark.lexer import PatternStr, UnlessCallback
from lark.parsers.lalr_analysis import Shift

from kam_policy.grammar.builder import AstBuilder
from kam_policy.grammar.span import Span, point_span

# An entry of the parse stack. A token: its position (start, end, line, column, end_line,
# end_column), None, its terminal name and its text (``builder.Tok``). Else: its position (with
# its parentheses; Nones if it has none), its span if that is the same position (else None), its
# value (a node; the children of a spliced rule) and the depth of the tree Lark would build.
Entry = tuple[Any, ...]
Reduce = Callable[[AstBuilder, list[Entry]], Entry]

_VALUE = 7
_DEPTH = 8
_NOWHERE = (None, None, None, None, None, None)

# Lark's tree is turned into the AST recursively, so a tree too deep for Python's stack is
# reported as nested too deeply (from a shallow stack, at about 490 levels). Deeper trees than
# this are left to that path, to be read or reported exactly as they always were.
MAX_DEPTH = 200


class Rejected(Exception):
    """The fast parser does not handle this text (or this grammar): use Lark's tree."""


class _Scanner(NamedTuple):
    """The lexer of some parser states: Lark's compiled pattern of the terminals they accept."""

    match: Callable[[str, int], re.Match[str] | None]
    newlines: frozenset[str]  # the terminals that may hold a line break
    ignore: frozenset[str]
    keywords: dict[str, dict[str, str]]  # terminal -> {text: keyword terminal} (Lark's "unless")


class _Rule(NamedTuple):
    """What a reduction by one grammar rule does."""

    size: int
    origin: str
    reduce: Reduce | None  # None: a one-child link; the child stays as it is


class FastParser:
    """Parses rule files with the tables of one Lark LALR parser (built with
    ``maybe_placeholders=True``)."""

    def __init__(self, lark: Lark) -> None:
        if not getattr(getattr(lark, "options", None), "maybe_placeholders", False):
            raise Rejected("a Lark parser without maybe_placeholders")
        try:
            table = lark.parser.parser._parse_table
            lexers = lark.parser.lexer.lexers
            self._start: int = table.start_states["start"]
            self._end: int = table.end_states["start"]
            rules: Sequence[Rule] = lark.rules
        except (AttributeError, KeyError) as error:
            raise Rejected(f"unexpected Lark internals: {error!r}") from None
        index = {rule: position for position, rule in enumerate(rules)}
        nullable = _nullable(rules)
        self._rules = [_plan(rule, nullable) for rule in rules]
        self._actions: list[dict[str, int]] = [{} for _ in range(len(table.states))]
        for state, row in table.states.items():
            self._actions[state] = {
                str(symbol): arg if action is Shift else ~index[arg]  # str: Lark's are Tokens
                for symbol, (action, arg) in row.items()}
        self._links: dict[tuple[int, int, str], int] = {}  # see _follow
        scanners: dict[int, _Scanner] = {}
        self._scanners = [scanners.setdefault(id(lexers[s]), _scanner(lexers[s]))
                          for s in range(len(table.states))]

    def parse(self, text: str, builder: AstBuilder) -> Any:
        """The AST of ``text`` (built by ``builder``).

        Raises:
            Rejected: a syntax error, or a tree too deep to build here.
            PolicySyntaxError: what the builder raises (the tree path reports it in order).
        """
        actions, rules, scanners, links = self._actions, self._rules, self._scanners, self._links
        stack: list[Entry] = []
        push = stack.append
        states = [self._start]
        pos, line, line_start, length = 0, 1, 0, len(text)
        last: Entry = (0, 0, 1, 1, 1, 1, None, "$END", "")
        while True:
            match_at, newline_kinds, ignored, keywords = scanners[states[-1]]
            token: Entry | None = None
            while pos < length:  # the next token, as Lark's contextual lexer cuts it
                match = match_at(text, pos)
                if match is None:
                    raise Rejected("unexpected character")
                kind: str = match.lastgroup  # type: ignore[assignment]
                value = match.group()
                start, column, first_line = pos, pos - line_start + 1, line
                pos = match.end()
                if kind in newline_kinds:
                    newlines = value.count("\n")
                    if newlines:
                        line += newlines
                        line_start = start + value.rindex("\n") + 1
                if kind in ignored:
                    continue
                if kind in keywords:
                    kind = keywords[kind].get(value, kind)
                token = (start, pos, first_line, column, line, pos - line_start + 1, None, kind,
                         value)
                break
            if token is None:  # the end of the text
                kind, token = "$END", (*last[:7], "$END", "")
            else:
                last = token
            while True:
                action = actions[states[-1]].get(kind)
                if action is None:
                    raise Rejected(f"unexpected {kind}")
                if action >= 0:
                    states.append(action)
                    push(token)
                    break
                size, origin, reduce = rules[~action]
                if reduce is None:  # one-child links, all the way down the chain at once
                    key = (states[-2], states[-1], kind)
                    target = links.get(key)
                    if target is None:
                        target = links[key] = self._follow(*key)
                    states[-1] = target
                    continue
                if size:
                    children = stack[-size:]
                    del stack[-size:]
                    del states[-size:]
                else:
                    children = []
                push(reduce(builder, children))
                states.append(actions[states[-1]][origin])
                if kind == "$END" and states[-1] == self._end:
                    return stack[-1][_VALUE]

    def _follow(self, below: int, top: int, kind: str) -> int:
        """The state after every one-child link that ``kind`` reduces from ``top`` (over
        ``below``): such links change neither the stack's entries nor the state below."""
        while True:
            action = self._actions[top].get(kind)
            if action is None or action >= 0:
                return top
            _, origin, reduce = self._rules[~action]
            if reduce is not None:
                return top
            top = self._actions[below][origin]


def _scanner(lexer: Any) -> _Scanner:
    """Lark's compiled scanner of one lexer state (built if Lark has not yet)."""
    try:
        scanner = lexer.scanner
        patterns = scanner._mres
        callbacks = lexer.callback
        ignore, newlines = lexer.ignore_types, lexer.newline_types
    except AttributeError as error:
        raise Rejected(f"unexpected Lark lexer: {error!r}") from None
    if len(patterns) != 1 or not isinstance(patterns[0], re.Pattern):
        raise Rejected("a lexer split over several patterns")
    keywords: dict[str, dict[str, str]] = {}
    for kind, callback in callbacks.items():
        terminals = getattr(getattr(callback, "scanner", None), "terminals", None)
        if type(callback) is not UnlessCallback or terminals is None or not all(
                isinstance(t.pattern, PatternStr) and not t.pattern.flags for t in terminals):
            raise Rejected(f"a lexer callback on {kind}")
        keywords[str(kind)] = {str(t.pattern.value): str(t.name) for t in terminals}
    return _Scanner(patterns[0].match, frozenset(map(str, newlines)), frozenset(map(str, ignore)),
                    keywords)


def _nullable(rules: Sequence[Rule]) -> set[str]:
    """The rules that can match nothing (their nodes have no position)."""
    found: set[str] = set()
    grown = True
    while grown:
        grown = False
        for rule in rules:
            if rule.origin.name not in found and all(
                    not s.is_term and s.name in found for s in rule.expansion):
                found.add(rule.origin.name)
                grown = True
    return found


def _plan(rule: Rule, nullable: set[str]) -> _Rule:
    """The reduction of one rule, as Lark's tree builder would shape it: which children are kept
    (tokens written as strings in the grammar are dropped), which are spliced in (``_rules``),
    where a missing ``[optional]`` part stands as None, and whether a ``?rule`` with one child
    is replaced by that child."""
    expansion = rule.expansion
    keep_all = rule.options.keep_all_tokens
    empty_before = [0] * (len(expansion) + 1)  # Nones before each child, and after the last
    if rule.options.empty_indices:
        marks = "".join(str(int(b)) for b in rule.options.empty_indices)
        empty_before = [len(ones) for ones in marks.split("0")]
    kept: list[tuple[int, bool, bool, int]] = []  # (index, is a token, splice, Nones before)
    nones = 0
    for position, symbol in enumerate(expansion):
        nones += empty_before[position]
        if keep_all or not (isinstance(symbol, Terminal) and symbol.filter_out):
            splice = not symbol.is_term and symbol.name.startswith("_")
            kept.append((position, symbol.is_term, splice, nones))
            nones = 0
    nones += empty_before[len(expansion)]
    name = str(rule.origin.name)
    may_be_empty = not expansion or any(not s.is_term and s.name in nullable for s in expansion)
    if rule.options.expand1 and not rule.alias:
        if len(kept) != 1 or kept[0][2] or kept[0][3] or nones:
            raise Rejected(f"rule ?{name} may have other than one child")
        position, is_token = kept[0][0], kept[0][1]
        if len(expansion) == 1:
            return _Rule(1, name, None)
        return _Rule(len(expansion), name, _inline(position, is_token, may_be_empty))
    children = _children(kept, nones)
    subtrees = [p for p, symbol in enumerate(expansion) if not symbol.is_term]
    depth = _depth(subtrees)
    if name.startswith("_"):
        return _Rule(len(expansion), name, _splice(children, depth, may_be_empty))
    handler = getattr(AstBuilder, rule.alias or rule.options.template_source or name, None)
    if handler is None:
        raise Rejected(f"no builder for rule {name}")
    if may_be_empty:
        return _Rule(len(expansion), name, _node(handler, children, depth))
    one = kept[0][:2] if len(kept) == 1 and kept[0][2:] == (False, 0) and not nones else None
    if one is not None and len(subtrees) <= 1:
        below = subtrees[0] if subtrees else None
        return _Rule(len(expansion), name, _one_child_node(handler, one, below))
    return _Rule(len(expansion), name, _placed_node(handler, children, depth))


def _children(kept: list[tuple[int, bool, bool, int]],
              nones: int) -> Callable[[list[Entry]], list[Any]]:
    """The function picking a reduction's children (for the builder) from its stack entries."""
    plain = not nones and not any(before for _, _, _, before in kept)
    if plain and len(kept) == 1 and kept[0][2]:  # ``row: "|" _cells``: the spliced list itself
        only = kept[0][0]
        return lambda entries: entries[only][_VALUE]
    if plain and len(kept) == 2 and kept[0][:3] == (0, False, True) and not kept[1][2]:
        added, is_token = kept[1][0], kept[1][1]  # ``_list: _list item``: one more, in place

        def extend(entries: list[Entry]) -> list[Any]:
            found: list[Any] = entries[0][_VALUE]
            found.append(entries[added] if is_token else entries[added][_VALUE])
            return found

        return extend
    if not nones and not any(splice or before for _, _, splice, before in kept):
        if len(kept) == 1:
            position, is_token = kept[0][0], kept[0][1]
            if is_token:
                return lambda entries: [entries[position]]
            return lambda entries: [entries[position][_VALUE]]
        picks = [(position, is_token) for position, is_token, _, _ in kept]
        return lambda entries: [entries[p] if t else entries[p][_VALUE] for p, t in picks]

    def pick(entries: list[Entry]) -> list[Any]:
        found: list[Any] = []
        for position, is_token, splice, before in kept:
            if before:
                found += [None] * before
            if is_token:
                found.append(entries[position])
            elif splice:
                if found:
                    found += entries[position][_VALUE]
                else:
                    found = entries[position][_VALUE]  # reused: a long list grows in place
            else:
                found.append(entries[position][_VALUE])
        if nones:
            found += [None] * nones
        return found

    return pick


def _bounds(entries: list[Entry], may_be_empty: bool) -> tuple[Entry, Entry] | None:
    """The first and last entry with a position (None if none has)."""
    if not may_be_empty:
        return entries[0], entries[-1]
    placed = [e for e in entries if e[0] is not None]
    return (placed[0], placed[-1]) if placed else None


def _depth(subtrees: list[int]) -> Callable[[list[Entry]], int]:
    """The function giving the depth of the deepest of a reduction's subtrees."""
    if not subtrees:
        return lambda entries: 0
    if len(subtrees) == 1:
        only = subtrees[0]
        return lambda entries: entries[only][_DEPTH]
    if len(subtrees) == 2:
        one, other = subtrees
        return lambda entries: max(entries[one][_DEPTH], entries[other][_DEPTH])
    return lambda entries: max(entries[p][_DEPTH] for p in subtrees)


def _inline(position: int, is_token: bool, may_be_empty: bool) -> Reduce:
    """``?rule: "(" expr ")"``: the child itself, counted with the tokens around it."""

    def reduce(builder: AstBuilder, entries: list[Entry]) -> Entry:
        child = entries[position]
        bounds = _bounds(entries, may_be_empty)
        if is_token or bounds is None:
            return child
        first, last = bounds
        return (first[0], last[1], first[2], first[3], last[4], last[5], None, child[_VALUE],
                child[_DEPTH])

    return reduce


def _splice(children: Callable[[list[Entry]], list[Any]], depth: Callable[[list[Entry]], int],
            may_be_empty: bool) -> Reduce:
    """A ``_rule`` (and Lark's ``x*``, ``x+`` helpers): its children, spliced into the parent."""

    def reduce(builder: AstBuilder, entries: list[Entry]) -> Entry:
        bounds = _bounds(entries, may_be_empty)
        if bounds is None:
            return (*_NOWHERE, None, children(entries), depth(entries))
        first, last = bounds
        return (first[0], last[1], first[2], first[3], last[4], last[5], None, children(entries),
                depth(entries))

    return reduce


def _node(handler: Callable[..., Any], children: Callable[[list[Entry]], list[Any]],
          depth: Callable[[list[Entry]], int]) -> Reduce:
    """A rule that makes a node: the builder's method of the rule's name, with the span (for a
    rule that may match nothing; see ``_placed_node`` for the others)."""

    def reduce(builder: AstBuilder, entries: list[Entry]) -> Entry:
        below = depth(entries)
        if below >= MAX_DEPTH:
            raise Rejected("a tree this deep")
        bounds = _bounds(entries, True)
        if bounds is None:
            span = point_span(builder.source, builder.text, 0)
            return (*_NOWHERE, span, handler(builder, span, *children(entries)), below + 1)
        first, last = bounds
        span = Span(builder.source, first[0], last[1], first[2], first[3], last[4], last[5])
        return (first[0], last[1], first[2], first[3], last[4], last[5], span,
                handler(builder, span, *children(entries)), below + 1)

    return reduce


def _placed_node(handler: Callable[..., Any], children: Callable[[list[Entry]], list[Any]],
                 depth: Callable[[list[Entry]], int]) -> Reduce:
    """``_node`` for a rule whose every part has a position (all but ``start``)."""

    def reduce(builder: AstBuilder, entries: list[Entry]) -> Entry:
        below = depth(entries)
        if below >= MAX_DEPTH:  # Lark's recursive transformer decides what it makes of it
            raise Rejected("a tree this deep")
        first = entries[0]
        last = entries[-1]
        span = first[6] if first is last else None  # a node standing for its only part
        if span is None:
            span = Span(builder.source, first[0], last[1], first[2], first[3], last[4], last[5])
        return (first[0], last[1], first[2], first[3], last[4], last[5], span,
                handler(builder, span, *children(entries)), below + 1)

    return reduce


def _one_child_node(handler: Callable[..., Any], child: tuple[int, bool],
                    subtree: int | None) -> Reduce:
    """``_placed_node`` for a rule with one child and at most one subtree (``"a"``, ``-x``,
    a table cell): most nodes of a large policy."""
    position, is_token = child

    def reduce(builder: AstBuilder, entries: list[Entry]) -> Entry:
        below = entries[subtree][_DEPTH] if subtree is not None else 0
        if below >= MAX_DEPTH:
            raise Rejected("a tree this deep")
        first = entries[0]
        last = entries[-1]
        span = first[6] if first is last else None
        if span is None:
            span = Span(builder.source, first[0], last[1], first[2], first[3], last[4], last[5])
        value = entries[position] if is_token else entries[position][_VALUE]
        return (first[0], last[1], first[2], first[3], last[4], last[5], span,
                handler(builder, span, value), below + 1)

    return reduce
