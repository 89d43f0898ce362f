"""Circuit breakers: state as symbol + word, reason, and opens in the last 10 minutes."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from migration_tui.safe_text import clean
from migration_tui.store import BREAKER_WINDOW_S
from migration_tui.ui import states
from migration_tui.ui.colors import level_alias, mark
from migration_tui.ui.view import StoreView, View
from migration_tui.ui.widgets.table_sync import Cell, TableRows

COLUMNS = ("breaker", "state", "opens 10m", "reason")
#: More opens than this in 10 minutes is the seed-000 rollback threshold.
OPENS_LIMIT = 3


def styled_cell(view: View, cell: Cell, limit: int = 40) -> Text:
    text, level = cell
    return Text(clean(text, limit), style=view.style(level_alias(level)) if level else "", no_wrap=True, end="")


class BreakersTable(StoreView, DataTable):
    """One row per breaker; only changed cells are redrawn."""

    SECTIONS = ("breakers",)
    CLOCK = True  # the 10-minute window moves with the clock
    SELECTION = False

    DEFAULT_CSS = """
    BreakersTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row")
        self._rows = TableRows(self, COLUMNS)
        self._theme_generation: int | None = None

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column, key=column)

    def draw(self, view: View) -> None:
        if self._theme_generation != view.theme_generation:
            self._theme_generation = view.theme_generation
            self._rows.set_styler(lambda cell: styled_cell(view, cell))
            self._rows.restyle()
        since = view.now - BREAKER_WINDOW_S
        rows: dict[str, tuple[Cell, ...]] = {}
        for name, breaker in view.store.breakers.items():
            level, word = states.breaker(breaker.state)
            opens = view.store.breaker_opens_since(name, since)
            opens_level = "bad" if opens > OPENS_LIMIT else "warn" if opens else ""
            rows[name] = (
                (name, ""),
                (f"{mark(level)} {word}", level),
                (str(opens), opens_level),
                (breaker.reason or "—", ""),
            )
        self._rows.sync(rows)
