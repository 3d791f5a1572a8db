"""A parsed rule file (``Module``) and its comment notes -> the canonical text.

Layout: 2-space indentation inside rule and table braces, one clause per line, table rows with
aligned ``|`` columns, a blank line between items of different kinds and around every rule and
table (other blank lines as in the source, at most one). Anything that does not fit in
``WIDTH`` columns breaks: a ``define`` after its ``=``, an ``emit`` before ``about``, ``else``
branches, ``and``/``or``/arithmetic chains before an operator, call arguments after a comma
(aligned after the ``(``), and map and list literals one entry per line.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from kam_policy.fmt.comments import ROOT, Key, Notes
from kam_policy.fmt.doc import HARDLINE, LINE, Document, concat, group, line_suffix, nest, render
from kam_policy.fmt.expr import POSTFIX, SUM, ExprPrinter, quote
from kam_policy.fmt.tables import rows_text
from kam_policy.grammar import ast

WIDTH = 100


def print_module(module: ast.Module, notes: Notes, source: str) -> str:
    """The canonical text of ``module``.

    Args:
        module: the parsed file.
        notes: its comments and blank lines (``comments.scan``).
        source: the file's text (numbers and durations are printed as written there).

    Returns:
        The formatted text, ending with one newline (empty for an empty file).
    """
    text = render(_Printer(source, notes, WIDTH).module(module), WIDTH)
    return text + "\n" if text else ""


class _Printer(ExprPrinter):
    def module(self, module: ast.Module) -> Document:
        units = [(item.span.start, self.item(item)) for item in module.items]
        return self.lines(ROOT, units, _forced_blanks(module.items))

    def item(self, item: ast.Item) -> Document:
        visit: Callable[[ast.Item], Document] = getattr(self, f"visit_{type(item).__name__}")
        return visit(item)

    # ---- declarations ----
    def visit_Header(self, node: ast.Header) -> Document:
        return f"policy {quote(node.name)} version {quote(node.version)}"

    def visit_Include(self, node: ast.Include) -> Document:
        return f"include {quote(node.path)}"

    def visit_Param(self, node: ast.Param) -> Document:
        typed = f": {type_text(node.type)}" if node.type is not None else ""
        return concat(f"param {node.name}{typed} = ", self.value(node.value))

    def visit_EnumDecl(self, node: ast.EnumDecl) -> Document:
        separator = " < " if node.ordered else " | "
        return f"enum {node.name} = {separator.join(node.members)}"

    def visit_ConclusionDecl(self, node: ast.ConclusionDecl) -> Document:
        title = f" {quote(node.title)}" if node.title is not None else ""
        return f"conclusion {node.name}({fields_text(node.fields)}) about {node.about}{title}"

    def visit_Define(self, node: ast.Define) -> Document:
        head = f"define {node.name}({fields_text(node.params)}) ="
        return group(head, nest(2, LINE, self.doc(node.body)))

    def value(self, expr: ast.Expr) -> Document:
        """The right-hand side of ``param x =`` or ``let x =``: continuation lines indent 2."""
        if isinstance(expr, ast.MapExpr | ast.ListExpr):
            return self.doc(expr)
        return nest(2, self.doc(expr))

    # ---- blocks ----
    def block(self, key: int, head: str, units: list[tuple[Key, Document]]) -> Document:
        """``head {``, the units indented by 2, ``}``."""
        parts: list[Document] = [head + " {"]
        header = self.notes.header.get(key)
        if header is not None:
            parts.append(line_suffix("  " + header.text))
        parts += [nest(2, HARDLINE, self.lines(key, units)), HARDLINE, "}"]
        return concat(*parts)

    def visit_Table(self, node: ast.Table) -> Document:
        key = node.span.start
        title = f" {quote(node.title)}" if node.title is not None else ""
        units: list[tuple[Key, Document]] = []
        if node.section is not None:
            units.append(((key, "section"), f"section {quote(node.section)}"))
        hit = f"{node.hit} {node.aggregator}" if node.aggregator else node.hit
        units += [((key, "hit"), f"hit {hit}"), ((key, "in"), f"in {fields_text(node.inputs)}"),
                  ((key, "out"), f"out {fields_text(node.outputs)}")]
        cells = [[self.cell(cell) for cell in row.cells] for row in node.rows]
        units += [(row.span.start, text) for row, text in zip(node.rows, rows_text(cells),
                                                              strict=True)]
        return self.block(key, f"table {node.name}{title}", units)

    def cell(self, cell: ast.Cell) -> str:
        if cell.expr is None:
            return "-"
        if cell.kind == "value":
            return self.flat(cell.expr)
        prefix = {"compare": f"{cell.op} ", "in": "in ", "not in": "not in "}[cell.kind]
        return prefix + self.flat(cell.expr, SUM)

    def visit_Rule(self, node: ast.Rule) -> Document:
        key = node.span.start
        title = f" {quote(node.title)}" if node.title is not None else ""
        units: list[tuple[Key, Document]] = []
        if node.section is not None:
            units.append(((key, "section"), f"section {quote(node.section)}"))
        if node.description is not None:
            units.append(((key, "description"), f"description {quote(node.description)}"))
        units += [((key, f"meta:{index}"), f"meta {name} {quote(value)}")
                  for index, (name, value) in enumerate(node.meta)]
        units += [(clause.span.start, self.clause(clause)) for clause in node.clauses]
        units += [(emit.span.start, self.emit(emit)) for emit in node.emits]
        if node.because is not None:
            units.append(((key, "because"), f"because {quote(node.because)}"))
        return self.block(key, f"rule {node.id}{title}", units)

    def clause(self, clause: ast.Clause) -> Document:
        if isinstance(clause, ast.LetClause):
            return concat(f"let {clause.name} = ", self.value(clause.value))
        if isinstance(clause, ast.WhenClause):
            return concat("when ", nest(2, self.doc(clause.cond)))
        parts: list[Document] = [f"for {clause.var} in ", self.doc(clause.source, POSTFIX)]
        if clause.where is not None:
            parts += [" where ", nest(2, self.doc(clause.where))]
        return concat(*parts)

    def emit(self, emit: ast.Emit) -> Document:
        parts: list[Document] = [f"emit {emit.name}(", self.arguments(emit.args), ")"]
        if emit.about is not None:
            parts.append(nest(2, LINE, "about ", nest(2, self.doc(emit.about))))
        return group(*parts)


def type_text(node: ast.TypeExpr) -> str:
    """A written type: ``number``, ``decimal(2)``, ``text?``, ``list[text]``, ``map[K, V]``."""
    if node.name in ("list", "map") and node.args:
        text = f"{node.name}[{', '.join(type_text(arg) for arg in node.args)}]"
    elif node.precision is not None:
        text = f"{node.name}({node.precision})"
    else:
        text = node.name
    return text + "?" if node.nullable else text


def fields_text(fields: tuple[ast.FieldDecl, ...]) -> str:
    """``name: type, name?: type`` (conclusion values, define parameters, table columns)."""
    return ", ".join(f"{f.name}{'?' if f.optional else ''}: {type_text(f.type)}" for f in fields)


def _forced_blanks(items: tuple[ast.Item, ...]) -> frozenset[Key]:
    """Items that start after a blank line whatever the source says: a change of kind, or a
    rule or table on either side."""
    forced: set[Key] = set()
    for previous, item in itertools.pairwise(items):
        blocks = (ast.Rule, ast.Table)
        if type(previous) is not type(item) or isinstance(item, blocks) \
                or isinstance(previous, blocks):
            forced.add(item.span.start)
    return frozenset(forced)
