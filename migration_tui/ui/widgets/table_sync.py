"""Keep a DataTable in step with keyed rows, touching only the cells that changed.

Rows are described as tuples of ``Cell`` (plain text, level): cheap to build
and to compare. Only a cell whose description changed becomes a Rich
``Text`` and goes through ``update_cell``; rebuilding a table every tick
would cost CPU and bytes on a slow link for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable

from migration_tui.safe_text import clean

#: One cell: (text as it came, level or "" for plain). Text is cleaned when drawn.
Cell = tuple[str, str]
Styler = Callable[[Cell], Text]


def plain_cell(cell: Cell, limit: int = 60) -> Text:
    return Text(clean(cell[0], limit), no_wrap=True, end="")


class TableRows:
    """The rows a DataTable shows, by key, with the columns in a fixed order."""

    def __init__(self, table: DataTable, columns: Sequence[str], styler: Styler = plain_cell) -> None:
        self.table = table
        self.columns = list(columns)
        self.styler = styler
        self.cells: dict[str, tuple[Cell, ...]] = {}
        self.order: list[str] = []

    def set_styler(self, styler: Styler) -> None:
        self.styler = styler

    def clear(self) -> None:
        # Forget our rows first: clearing the table scrolls, and scroll handlers read them.
        self.cells.clear()
        self.order.clear()
        self.table.clear()

    def sync(self, rows: Mapping[str, tuple[Cell, ...]]) -> None:
        """Make the table show exactly ``rows``: remove, update and add as needed."""
        gone = [key for key in self.cells if key not in rows]
        if len(gone) > len(self.cells) // 2 and gone:
            self.clear()  # mostly different rows: a fresh start is cheaper
        else:
            for key in gone:
                self.remove(key)
        self.update(rows.items())

    def update(self, rows: Iterable[tuple[str, tuple[Cell, ...]]]) -> None:
        """Update or add the given rows; rows not mentioned are left alone."""
        new_rows: list[tuple[str, tuple[Cell, ...]]] = []
        for key, cells in rows:
            old = self.cells.get(key)
            if old is None:
                new_rows.append((key, cells))
                continue
            if old == cells:
                continue
            self.cells[key] = cells
            for column, (before, after) in zip(self.columns, zip(old, cells, strict=True), strict=True):
                if before != after:
                    self.table.update_cell(key, column, self.styler(after))
        for key, cells in new_rows:
            self.cells[key] = cells
            self.order.append(key)
            self.table.add_row(*(self.styler(cell) for cell in cells), key=key)

    def update_column(self, column: str, values: Iterable[tuple[str, Cell]]) -> None:
        """Update one column of rows that exist, skipping cells that did not change."""
        index = self.columns.index(column)
        for key, cell in values:
            old = self.cells.get(key)
            if old is None or old[index] == cell:
                continue
            self.cells[key] = old[:index] + (cell,) + old[index + 1 :]
            self.table.update_cell(key, column, self.styler(cell))

    def remove(self, key: str) -> None:
        if self.cells.pop(key, None) is not None:
            self.order.remove(key)
            self.table.remove_row(key)

    def restyle(self) -> None:
        """Draw every cell again (the theme changed)."""
        for key, cells in self.cells.items():
            for column, cell in zip(self.columns, cells, strict=True):
                self.table.update_cell(key, column, self.styler(cell))
