"""Finding a decision table in a policy's rule files: its AST, file, text and cell texts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kam_policy.engine.declarations import did_you_mean
from kam_policy.engine.sources import PolicySources, read_policy
from kam_policy.errors import PolicySyntaxError
from kam_policy.grammar import ast
from kam_policy.sheets.grid import SheetError, TableSheet, hit_text


@dataclass(frozen=True)
class TableSource:
    """Where a table is written: the policy's sources, the file's name and text, the table."""

    sources: PolicySources
    file: str  # relative to the policy folder, as spans name it
    text: str
    table: ast.Table

    @property
    def path(self) -> Path:
        return self.sources.root / self.file

    def sheet(self) -> TableSheet:
        """The table as a sheet: every cell exactly as the rule file writes it."""
        table = self.table
        rows = tuple(tuple(cell.span.text(self.text) for cell in row.cells) for row in table.rows)
        return TableSheet(table.name, hit_text(table.hit, table.aggregator),
                          tuple(f.name for f in table.inputs), tuple(f.name for f in table.outputs),
                          rows)


def find_table(name: str, policy: str | Path | None = None) -> TableSource:
    """The table ``name`` of the policy at ``policy`` (a folder or entry file; None: bundled).

    Raises:
        PolicySyntaxError: a rule file does not parse.
        SheetError: the policy has no such table.
    """
    sources = read_policy(policy)
    if sources.diagnostics:
        raise PolicySyntaxError(sources.diagnostics)
    tables = {item.name: (module, item) for module in sources.modules for item in module.items
              if isinstance(item, ast.Table)}
    if name not in tables:
        hint = did_you_mean(name, tables) or f"its tables are: {', '.join(sorted(tables))}"
        raise SheetError([f"the policy has no table '{name}'; {hint}"])
    module, table = tables[name]
    return TableSource(sources, module.source, sources.texts[module.source], table)
