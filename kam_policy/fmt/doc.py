"""Layout documents -> text: a Wadler/Prettier-style algebra and its line-fitting printer.

A document says where a line *may* break (``LINE``, ``SOFTLINE``), where it must (``HARDLINE``),
and which breaks go together (``group``: all of a group's own lines break, or none do). The
printer keeps a group flat when it fits in the remaining width, and otherwise breaks it. A
``fill`` breaks each of its separators on its own, packing as many parts per line as fit.
Widths are display columns: CJK characters count two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kam_policy.display import text_width


@dataclass(frozen=True, slots=True)
class Concat:
    """Parts printed one after the other."""

    parts: tuple[Document, ...]
    hard: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Group:
    """Contents printed flat if they fit, else broken; a group holding a hard line is broken."""

    contents: Document
    hard: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Nest:
    """Contents whose line breaks indent ``indent`` columns more."""

    indent: int
    contents: Document
    hard: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Align:
    """Contents whose line breaks indent to the column where the contents start."""

    contents: Document
    hard: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Line:
    """A possible line break: a space (``soft``: nothing) when flat; ``hard`` always breaks."""

    soft: bool = False
    hard: bool = False


@dataclass(frozen=True, slots=True)
class LineSuffix:
    """Text (a trailing comment) deferred to the end of the line it is printed on."""

    text: str
    hard: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Fill:
    """``content, separator, content, ...``: each separator breaks only if the next content
    does not fit on the line."""

    parts: tuple[Document, ...]
    hard: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class IfBreak:
    """``broken`` when the enclosing group is broken, else ``flat``."""

    broken: Document
    flat: Document
    hard: bool = field(default=False, compare=False)


Document = str | Concat | Group | Nest | Align | Line | LineSuffix | Fill | IfBreak

LINE = Line()
SOFTLINE = Line(soft=True)
HARDLINE = Line(hard=True)


def _hard(doc: Document) -> bool:
    return False if isinstance(doc, str) else doc.hard


def concat(*parts: Document) -> Document:
    """The parts one after another."""
    return Concat(parts, any(_hard(p) for p in parts))


def group(*parts: Document) -> Group:
    """The parts as one group: flat if they fit, otherwise every line of the group breaks."""
    contents = concat(*parts)
    return Group(contents, _hard(contents))


def nest(indent: int, *parts: Document) -> Nest:
    """The parts, with line breaks indented ``indent`` more."""
    contents = concat(*parts)
    return Nest(indent, contents, _hard(contents))


def align(*parts: Document) -> Align:
    """The parts, with line breaks indented to the column where they start."""
    contents = concat(*parts)
    return Align(contents, _hard(contents))


def fill(parts: list[Document]) -> Fill:
    """Alternating contents and separators, packed onto as few lines as fit."""
    return Fill(tuple(parts), any(_hard(p) for p in parts))


def if_break(broken: Document, flat: Document = "") -> IfBreak:
    """``broken`` in a broken group, ``flat`` in a flat one."""
    return IfBreak(broken, flat, _hard(broken) or _hard(flat))


def line_suffix(text: str) -> LineSuffix:
    """``text`` at the end of the current line, however the rest of the line is laid out."""
    return LineSuffix(text)


def join(separator: Document, docs: list[Document]) -> list[Document]:
    """``docs`` with ``separator`` between each two."""
    joined: list[Document] = []
    for index, doc in enumerate(docs):
        if index:
            joined.append(separator)
        joined.append(doc)
    return joined




# ---- the printer -----------------------------------------------------------------------------

# A command: indentation, flat?, document.
_Cmd = tuple[int, bool, Document]


def render(doc: Document, width: int) -> str:
    """Lay ``doc`` out in ``width`` columns.

    Args:
        doc: the document.
        width: the line width; a part that cannot be broken may still run past it.

    Returns:
        The text, without trailing spaces on any line.
    """
    return _Printer(width).run(doc)


class _Printer:
    def __init__(self, width: int) -> None:
        self.width = width
        self.out: list[str] = []
        self.pos = 0
        self.cmds: list[_Cmd] = []
        self.suffixes: list[_Cmd] = []

    def run(self, doc: Document) -> str:
        self.cmds.append((0, False, doc))
        while self.cmds:
            self.step(*self.cmds.pop())
        for _, _, suffix in self.suffixes:
            self.emit(str(suffix))
        return "".join(self.out)

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.pos += text_width(text)

    def step(self, indent: int, flat: bool, doc: Document) -> None:
        if isinstance(doc, str):
            self.emit(doc)
        elif isinstance(doc, Concat):
            self.cmds.extend((indent, flat, part) for part in reversed(doc.parts))
        elif isinstance(doc, Nest):
            self.cmds.append((indent + doc.indent, flat, doc.contents))
        elif isinstance(doc, Align):
            self.cmds.append((self.pos, flat, doc.contents))
        elif isinstance(doc, Group):
            self.step_group(indent, flat, doc)
        elif isinstance(doc, Line):
            self.step_line(indent, flat, doc)
        elif isinstance(doc, LineSuffix):
            self.suffixes.append((indent, flat, doc.text))
        elif isinstance(doc, IfBreak):
            self.cmds.append((indent, flat, doc.flat if flat else doc.broken))
        else:
            self.step_fill(indent, flat, doc)

    def step_group(self, indent: int, flat: bool, doc: Group) -> None:
        keep_flat = not doc.hard and (
            flat or _fits((indent, True, doc.contents), self.cmds, self.width - self.pos))
        self.cmds.append((indent, keep_flat, doc.contents))

    def step_line(self, indent: int, flat: bool, doc: Line) -> None:
        if flat and not doc.hard:
            if not doc.soft:
                self.emit(" ")
            return
        if self.suffixes:
            self.cmds.append((indent, flat, doc))
            self.cmds.extend(reversed(self.suffixes))
            self.suffixes.clear()
            return
        self.trim()
        self.out.append("\n" + " " * indent)
        self.pos = indent

    def trim(self) -> None:
        while self.out:
            kept = self.out[-1].rstrip(" ")
            if kept:
                self.out[-1] = kept
                return
            self.out.pop()

    def step_fill(self, indent: int, flat: bool, doc: Fill) -> None:
        parts = doc.parts
        if flat or not parts:
            self.cmds.extend((indent, flat, part) for part in reversed(parts))
            return
        room = self.width - self.pos
        content = parts[0]
        last = len(parts) <= 2
        fits = _fits((indent, True, content), self.cmds if last else [], room, strict=True)
        if len(parts) == 1:
            self.cmds.append((indent, fits, content))
            return
        if len(parts) == 2:
            self.cmds.extend([(indent, fits, parts[1]), (indent, fits, content)])
            return
        pair = concat(content, parts[1], parts[2])
        rest = self.cmds if len(parts) == 3 else []
        both = _fits((indent, True, pair), rest, room, strict=True)
        self.cmds.append((indent, False, Fill(parts[2:], doc.hard)))
        self.cmds.append((indent, both, parts[1]))
        self.cmds.append((indent, fits, content))


def _fits(cmd: _Cmd, rest: list[_Cmd], room: int, strict: bool = False) -> bool:
    """Whether ``cmd`` (flat), then ``rest`` up to its first line break, fit in ``room`` columns.

    ``strict``: a hard break inside ``cmd`` itself means it does not fit.
    """
    stack: list[tuple[bool, Document, bool]] = [(cmd[1], cmd[2], strict)]
    rest_index = len(rest)
    while room >= 0:
        if not stack:
            if rest_index == 0:
                return True
            rest_index -= 1
            stack.append((rest[rest_index][1], rest[rest_index][2], False))
            continue
        flat, doc, must = stack.pop()
        if isinstance(doc, str):
            room -= text_width(doc)
        elif isinstance(doc, Concat | Fill):
            stack.extend((flat, part, must) for part in reversed(doc.parts))
        elif isinstance(doc, Nest | Align):
            stack.append((flat, doc.contents, must))
        elif isinstance(doc, Group):
            if must and doc.hard:
                return False
            stack.append((flat and not doc.hard, doc.contents, must))
        elif isinstance(doc, IfBreak):
            stack.append((flat, doc.flat if flat else doc.broken, must))
        elif isinstance(doc, Line):
            if doc.hard and must:
                return False
            if doc.hard or not flat:
                return True
            room -= 0 if doc.soft else 1
    return False
