"""Keep a DataTable in step with keyed rows, touching only the cells that changed.

Rows are described as tuples of ``Cell`` (plain text, level): cheap to build
and to compare. Only a cell whose description changed becomes a Rich
``Text`` and goes through ``update_cell``; rebuilding a table every tick
would cost CPU and bytes on a slow link for nothing.

A DataTable repaints every row on screen (and re-measures all its rows) on
any ``update_cell``, even of a row far off screen. So a long table passes the
rows in view to ``update``: a changed row out of view is only remembered
(``stale``) and written by ``redraw`` when it scrolls into view.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

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
        #: Rows whose cells changed out of view: key -> the cells the table still shows.
        self.stale: dict[str, tuple[Cell, ...]] = {}

    def set_styler(self, styler: Styler) -> None:
        self.styler = styler

    def clear(self) -> None:
        # Forget our rows first: clearing the table scrolls, and scroll handlers read them.
        self.cells.clear()
        self.order.clear()
        self.stale.clear()
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

    def update(self, rows: Iterable[tuple[str, tuple[Cell, ...]]], visible: Collection[str] | None = None) -> None:
        """Update or add the given rows; rows not mentioned are left alone.

        With ``visible`` (the keys in view), a changed row out of view is left stale."""
        new_rows: list[tuple[str, tuple[Cell, ...]]] = []
        stale = self.stale
        for key, cells in rows:
            old = self.cells.get(key)
            if old is None:
                new_rows.append((key, cells))
                continue
            if old == cells and key not in stale:
                continue
            self.cells[key] = cells
            if visible is not None and key not in visible:
                stale.setdefault(key, old)
                continue
            for column, before, after in zip(self.columns, stale.pop(key, old), cells, strict=True):
                if before != after:
                    self.table.update_cell(key, column, self.styler(after))
        for key, cells in new_rows:
            self.cells[key] = cells
            self.order.append(key)
            self.table.add_row(*(self.styler(cell) for cell in cells), key=key)

    def redraw(self, keys: Iterable[str]) -> None:
        """Write the stale rows among ``keys`` (rows that came into view)."""
        self.update([(key, self.cells[key]) for key in keys if key in self.stale])

    def update_column(self, column: str, values: Iterable[tuple[str, Cell]]) -> None:
        """Update one column of rows that exist, skipping cells that did not change (a stale row is written whole)."""
        index = self.columns.index(column)
        rows: list[tuple[str, tuple[Cell, ...]]] = []
        for key, cell in values:
            old = self.cells.get(key)
            if old is not None and (old[index] != cell or key in self.stale):
                rows.append((key, old[:index] + (cell,) + old[index + 1 :]))
        self.update(rows)

    def remove(self, key: str) -> None:
        if self.cells.pop(key, None) is not None:
            self.stale.pop(key, None)
            self.order.remove(key)
            self.table.remove_row(key)

    def restyle(self) -> None:
        """Draw every cell again (the theme changed)."""
        self.stale.clear()
        for key, cells in self.cells.items():
            for column, cell in zip(self.columns, cells, strict=True):
                self.table.update_cell(key, column, self.styler(cell))
