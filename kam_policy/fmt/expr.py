"""Expressions (AST) -> layout documents, with the fewest parentheses that keep the meaning.

Each grammar level has a number; an operand is wrapped in parentheses only when its own level
is lower than its position requires (``a - (b - c)``, ``(a ?? b) ?? c``, ``not (a or b)``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from kam_policy.display import text_width
from kam_policy.fmt.comments import Key, Notes
from kam_policy.fmt.doc import (
    HARDLINE,
    LINE,
    SOFTLINE,
    Document,
    align,
    concat,
    fill,
    group,
    if_break,
    join,
    line_suffix,
    nest,
    render,
)
from kam_policy.grammar import ast

# Grammar levels, loosest first (policy.lark: expr, or_expr, and_expr, not_expr, comparison,
# coalesce, sum, product, unary, postfix, atom).
IF, OR, AND, NOT, COMPARE, COALESCE, SUM, PRODUCT, UNARY, POSTFIX, ATOM = range(11)

_BINARY_LEVEL = {"??": COALESCE, "+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT}
_NAME = re.compile(r"[^\W\d]\w*")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b",
            "\f": "\\f"}
_HIDDEN = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def quote(value: str) -> str:
    """A text literal for ``value``: JSON escapes, with invisible characters as ``\\uXXXX``."""
    return '"' + "".join(_escape(char) for char in value) + '"'


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if unicodedata.category(char) not in _HIDDEN:
        return char
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def key_text(key: str) -> str:
    """A map key: bare when it is a name, else a text literal."""
    return key if _NAME.fullmatch(key) else quote(key)


def level(expr: ast.Expr) -> int:
    """The grammar level an expression stands at without parentheses."""
    if isinstance(expr, ast.IfExpr):
        return IF
    if isinstance(expr, ast.BoolOp):
        return OR if expr.op == "or" else AND
    if isinstance(expr, ast.Unary):
        return NOT if expr.op == "not" else UNARY
    if isinstance(expr, ast.Compare | ast.IsNull):
        return COMPARE
    if isinstance(expr, ast.Binary):
        return _BINARY_LEVEL[expr.op]
    if isinstance(expr, ast.Attr | ast.Index | ast.Call):
        return POSTFIX
    return ATOM


class ExprPrinter:
    """Expressions -> documents; map and list literals consult the comment notes."""

    def __init__(self, source: str, notes: Notes, width: int) -> None:
        self.source = source
        self.notes = notes
        self.width = width

    def doc(self, expr: ast.Expr, at: int = IF) -> Document:
        """``expr`` standing where the grammar asks for level ``at``."""
        visit: Callable[[ast.Expr], Document] = getattr(self, f"visit_{type(expr).__name__}")
        inner = visit(expr)
        if level(expr) >= at:
            return inner
        return concat("(", align(inner), ")")

    def flat(self, expr: ast.Expr, at: int = IF) -> str:
        """``expr`` on one line (for table cells)."""
        return render(group(self.doc(expr, at)), 1 << 30)

    # ---- atoms ----
    def visit_Literal(self, node: ast.Literal) -> Document:
        if node.kind in ("number", "duration"):
            return node.span.text(self.source)
        if node.kind == "text":
            return quote(str(node.value))
        if node.kind == "business":
            return str(node.value)
        if node.kind == "null":
            return "null"
        return "true" if node.value else "false"

    def visit_Name(self, node: ast.Name) -> Document:
        return node.id

    def visit_ListExpr(self, node: ast.ListExpr) -> Document:
        items = [(item.span.start, self.doc(item)) for item in node.items]
        return self.bracketed(node.span.start, "[", "]", items)

    def visit_MapExpr(self, node: ast.MapExpr) -> Document:
        widest = self.key_column(node)
        entries = [(e.span.start, self.entry(e, widest)) for e in node.entries]
        return self.bracketed(node.span.start, "{", "}", entries)

    def key_column(self, node: ast.MapExpr) -> int:
        """A map of maps, one per line, reads as a table: its values start in one column when
        each fits on its line (at a parameter's indentation). 0: no column."""
        values = [e.value for e in node.entries]
        if len(values) < 2 or not all(isinstance(v, ast.MapExpr) for v in values):
            return 0
        widest = max(text_width(key_text(e.key)) for e in node.entries)
        longest = max(text_width(self.flat(value)) for value in values)
        return widest if 2 + widest + 2 + longest + 1 <= self.width else 0

    def entry(self, entry: ast.MapEntry, widest: int) -> Document:
        key = key_text(entry.key)
        padding = if_break(" " * (widest - text_width(key))) if widest else ""
        return concat(key, ":", padding, " ", self.doc(entry.value))

    def bracketed(self, block: int, open_: str, close: str,
                  items: list[tuple[int, Document]]) -> Document:
        """A list or map literal: on one line if it fits, else one item per line."""
        if block in self.notes.commented:
            return self.commented(block, open_, close, items)
        if not items:
            return open_ + close
        body = join(concat(",", LINE), [doc for _, doc in items])
        return group(open_, nest(2, SOFTLINE, *body), if_break(","), SOFTLINE, close)

    def commented(self, block: int, open_: str, close: str,
                  items: list[tuple[int, Document]]) -> Document:
        head: list[Document] = [open_]
        header = self.notes.header.get(block)
        if header is not None:
            head.append(line_suffix("  " + header.text))
        body = self.lines(block, [(key, concat(doc, ",")) for key, doc in items])
        return concat(*head, nest(2, HARDLINE, body), HARDLINE, close)

    def lines(self, block: int, units: Sequence[tuple[Key, Document]],
              forced: frozenset[Key] = frozenset()) -> Document:
        """Units on lines of their own, with their comments and blank lines."""
        parts: list[Document] = []
        for key, doc in units:
            comments = self.notes.before.get(key, [])
            blank_first = key in forced
            for comment in comments:
                _separate(parts, comment.blank_before or blank_first)
                parts.append(comment.text)
                blank_first = False
            _separate(parts, self.notes.blank_before(key) or blank_first)
            parts.append(doc)
            after = self.notes.after.get(key)
            if after is not None:
                parts.append(line_suffix("  " + after.text))
        for comment in self.notes.dangling.get(block, []):
            _separate(parts, comment.blank_before)
            parts.append(comment.text)
        return concat(*parts)

    def visit_Aggregate(self, node: ast.Aggregate) -> Document:
        head: list[Document] = []
        if node.value is not None:
            head += [self.doc(node.value), " for "]
        head += [node.var, " in ", self.doc(node.source, POSTFIX)]
        if node.where is not None:
            head += [" where ", nest(2, self.doc(node.where))]
        return concat(node.func, "(", align(*head), ")")

    # ---- postfix ----
    def visit_Attr(self, node: ast.Attr) -> Document:
        return concat(self.doc(node.obj, POSTFIX), ".", node.name)

    def visit_Index(self, node: ast.Index) -> Document:
        return concat(self.doc(node.obj, POSTFIX), "[", self.doc(node.key), "]")

    def visit_Call(self, node: ast.Call) -> Document:
        return concat(node.func, "(", self.arguments(node.args), ")")

    def arguments(self, args: tuple[ast.Arg, ...]) -> Document:
        """Call or emit arguments, packed on as few lines as fit, aligned after the ``(``."""
        docs = [self.argument(arg) for arg in args]
        if not docs:
            return ""
        return align(fill(join(concat(",", LINE), docs)))

    def argument(self, arg: ast.Arg) -> Document:
        value = self.doc(arg.value)
        return value if arg.name is None else concat(arg.name, ": ", value)

    # ---- operators ----
    def visit_Unary(self, node: ast.Unary) -> Document:
        if node.op == "not":
            return concat("not ", self.doc(node.operand, NOT))
        return concat("-", self.doc(node.operand, UNARY))

    def visit_Binary(self, node: ast.Binary) -> Document:
        operands, operators = _flatten(node)
        at = _BINARY_LEVEL[node.op]
        first_at, rest_at = (at + 1, at + 1) if node.op == "??" else (at, at + 1)
        docs = [self.doc(operands[0], first_at)]
        docs += [concat(op, " ", self.doc(e, rest_at)) for op, e in zip(operators, operands[1:],
                                                                         strict=True)]
        return fill(join(LINE, docs))

    def visit_Compare(self, node: ast.Compare) -> Document:
        return concat(self.doc(node.left, COALESCE), f" {node.op} ",
                      self.doc(node.right, COALESCE))

    def visit_IsNull(self, node: ast.IsNull) -> Document:
        tail = " is not null" if node.negated else " is null"
        return concat(self.doc(node.operand, COALESCE), tail)

    def visit_BoolOp(self, node: ast.BoolOp) -> Document:
        docs = [self.operand(node.op, node.values[0])]
        docs += [concat(node.op, " ", self.operand(node.op, v)) for v in node.values[1:]]
        return fill(join(LINE, docs))

    def operand(self, op: str, value: ast.Expr) -> Document:
        """An operand of ``and``/``or``. An ``and`` inside an ``or`` keeps its parentheses,
        although they are not needed, because readers misjudge that precedence."""
        if op == "and":
            return self.doc(value, NOT)
        if isinstance(value, ast.BoolOp):
            return concat("(", align(self.doc(value)), ")")
        return self.doc(value, AND)

    def visit_IfExpr(self, node: ast.IfExpr) -> Document:
        parts: list[Document] = ["if ", self.doc(node.cond), " then ", self.doc(node.then)]
        orelse = node.orelse
        while isinstance(orelse, ast.IfExpr):
            parts += [LINE, "else if ", self.doc(orelse.cond), " then ", self.doc(orelse.then)]
            orelse = orelse.orelse
        parts += [LINE, "else ", self.doc(orelse)]
        return group(*parts)


def _flatten(node: ast.Binary) -> tuple[list[ast.Expr], list[str]]:
    """A chain of one level's operators: left-nested for ``+ - * /``, right-nested for ``??``."""
    at = _BINARY_LEVEL[node.op]
    if node.op == "??":
        operands: list[ast.Expr] = [node.left]
        right: ast.Expr = node.right
        while isinstance(right, ast.Binary) and right.op == "??":
            operands.append(right.left)
            right = right.right
        operands.append(right)
        return operands, ["??"] * (len(operands) - 1)
    operators: list[str] = []
    left: ast.Expr = node
    rights: list[ast.Expr] = []
    while isinstance(left, ast.Binary) and _BINARY_LEVEL[left.op] == at:
        operators.append(left.op)
        rights.append(left.right)
        left = left.left
    return [left, *reversed(rights)], operators[::-1]


def _separate(parts: list[Document], blank: bool) -> None:
    """A line break before the next unit or comment (none before the first)."""
    if parts:
        parts.append(concat(HARDLINE, HARDLINE) if blank else HARDLINE)
