"""Decision tables as spreadsheets: export a table to CSV or XLSX, import edited rows back.

Typical use::

    from kam_policy.sheets import export_table, import_table

    export_table("grade_table", "grades.xlsx", policy="my_policy/")
    # ... HR edits the rows in a spreadsheet program ...
    result = import_table("grades.xlsx", "grade_table", policy="my_policy/")
    print(result.diff())          # only the rows that changed
    result.write()
"""

from kam_policy.sheets.cells import cell_problem
from kam_policy.sheets.grid import CellProblem, SheetError, TableSheet, cell_ref
from kam_policy.sheets.locate import TableSource, find_table
from kam_policy.sheets.rewrite import Rewrite, replace_rows
from kam_policy.sheets.transfer import ImportResult, export_table, import_table, read_rows

__all__ = [
    "CellProblem",
    "ImportResult",
    "Rewrite",
    "SheetError",
    "TableSheet",
    "TableSource",
    "cell_problem",
    "cell_ref",
    "export_table",
    "find_table",
    "import_table",
    "read_rows",
    "replace_rows",
]
