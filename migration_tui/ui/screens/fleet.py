"""The fleet view: every migration in one table, worst first, for when there are hundreds.

Seed 001 runs one migration per trading pair; this is where an operator
finds the one that needs them. Rows are sorted worst first (an abort or
rollback under way, then firing and pending rules, then running, then
ended), ``/`` filters by id, system, pair, status or phase, and Enter opens
that migration on the dashboard. It writes nothing, in any mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label

from migration_tui.model import FAILURE_PHASES, Migration
from migration_tui.rules import evaluate_one
from migration_tui.safe_text import MISSING, clean
from migration_tui.ui import states
from migration_tui.ui.colors import mark
from migration_tui.ui.view import StoreView, View
from migration_tui.ui.widgets.breakers import styled_cell
from migration_tui.ui.widgets.table_sync import Cell, TableRows

if TYPE_CHECKING:
    from migration_tui.ui.screens.dashboard import DashboardScreen

COLUMNS = ("migration", "system", "pair", "status", "phase", "progress", "needs a look")


def judged(view: View, migration: Migration) -> tuple[int, Cell]:
    """(rank, cell): 0 abort or rollback under way, 1 firing, 2 pending, 3 running, 4 ended."""
    if migration.phase in FAILURE_PHASES:
        return 0, (f"✖ {migration.phase.upper()}", "bad")
    if migration.is_terminal:
        level, word = states.status(migration.status)
        return 4, (f"{mark(level)} {word}", level)
    alerts = evaluate_one(view.store, migration, view.now, view.rules)
    if not alerts:
        return 3, ("✔ no alerts", "ok")
    alert = alerts[0]
    if alert.state == "firing":
        return 1, (f"✖ FIRING {alert.message}", "bad")
    return 2, (f"▲ pending {alert.message}", "warn")


def matches(migration: Migration, needle: str) -> bool:
    haystack = f"{migration.id}\n{migration.system}\n{migration.pair}\n{migration.status}\n{migration.phase}"
    return needle.lower() in haystack.lower()


class FleetTable(StoreView, DataTable):
    """One row per migration; changed cells only, re-sorted when the order changes."""

    SECTIONS = ("migrations", "series", "participants", "breakers")
    CLOCK = True  # pending rules count down
    SELECTION = False
    MIN_INTERVAL_S = 1.0

    DEFAULT_CSS = """
    FleetTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self._rows = TableRows(self, COLUMNS)
        self._order: list[str] = []
        self._theme_generation: int | None = None
        self.needle = ""

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column, key=column)

    def draw(self, view: View) -> None:
        if self._theme_generation != view.theme_generation:
            self._theme_generation = view.theme_generation
            self._rows.set_styler(lambda cell: styled_cell(view, cell, 80))
            self._rows.restyle()
        ranked: list[tuple[tuple[int, str], str, tuple[Cell, ...]]] = []
        for migration in view.store.migrations.values():
            if self.needle and not matches(migration, self.needle):
                continue
            rank, look = judged(view, migration)
            progress = MISSING if migration.progress is None else f"{migration.progress:.1f}%"
            level, word = states.status(migration.status)
            cells = (
                (migration.id, ""),
                (migration.system, ""),
                (migration.pair or MISSING, ""),
                (f"{mark(level)} {word}", level),
                (migration.phase, ""),
                (progress, ""),
                look,
            )
            ranked.append(((rank, migration.id), migration.id, cells))
        ranked.sort(key=lambda item: item[0])
        rows = {key: cells for _rank, key, cells in ranked}
        for key in [key for key in self._rows.cells if key not in rows]:
            self._rows.remove(key)
        order = [key for _rank, key, _cells in ranked]
        reorder = order != self._order
        self._order = order
        # Any update_cell repaints the visible table: write only the rows in view now,
        # and the others when they scroll in (TableRows keeps them stale till then).
        self._rows.update(rows.items(), visible=None if reorder else set(self._window()))
        if reorder:
            # DataTable sorts on cell values: the id cell shows the id as _styled cleaned it.
            position = {clean(key, 80): index for index, key in enumerate(order)}
            self.sort("migration", key=lambda cell: position.get(_plain(cell), len(position)))

    def _window(self) -> list[str]:
        """Keys of the rows on screen (and a row either side)."""
        first = max(0, int(self.scroll_offset.y) - 1)
        return self._order[first : first + max(1, self.size.height) + 2]

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if int(old_value) != int(new_value):
            self._rows.redraw(self._window())


def _plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


class FleetScreen(Screen[None]):
    """Every migration, worst first; Enter opens one on the dashboard, Esc goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="fleet-back", tooltip="Back to the dashboard"),
        Binding("slash", "filter", "Filter", key_display="/", id="fleet-filter", tooltip="Filter the migrations"),
        Binding("enter", "open", "Open", id="fleet-open", tooltip="Open the migration under the cursor"),
    ]

    DEFAULT_CSS = """
    FleetScreen #fleet-title {
        text-style: bold;
        padding: 0 1;
    }
    FleetScreen #fleet-filter-box {
        display: none;
    }
    FleetScreen #fleet-filter-box.-shown {
        display: block;
    }
    """

    def __init__(self, dashboard: DashboardScreen) -> None:
        super().__init__()
        self.dashboard = dashboard

    def compose(self) -> ComposeResult:
        yield Label("Fleet: every migration, worst first (Enter opens, / filters, Esc back)", id="fleet-title")
        yield Input(placeholder="filter by id, system, pair, status or phase", id="fleet-filter-box")
        yield FleetTable(id="fleet-table")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_view()
        self.set_interval(1.0, self.refresh_view, name="fleet-refresh")
        self.query_one(FleetTable).focus()

    def refresh_view(self) -> None:
        table = self.query_one(FleetTable)
        table.show(self.dashboard.build_view())
        count = len(self.dashboard.feed.store.migrations)
        self.query_one("#fleet-title", Label).update(
            f"Fleet: {count} migrations, worst first (Enter opens, / filters, Esc back)"
        )

    def action_back(self) -> None:
        box = self.query_one("#fleet-filter-box", Input)
        if box.has_focus:
            self.query_one(FleetTable).focus()
            if not box.value:
                box.remove_class("-shown")
            return
        self.dismiss()

    def action_filter(self) -> None:
        box = self.query_one("#fleet-filter-box", Input)
        box.add_class("-shown")
        box.focus()

    @on(Input.Changed, "#fleet-filter-box")
    def _filter_changed(self, event: Input.Changed) -> None:
        table = self.query_one(FleetTable)
        table.needle = event.value.strip()
        table.forget()
        self.refresh_view()

    @on(Input.Submitted, "#fleet-filter-box")
    def _filter_submitted(self) -> None:
        self.query_one(FleetTable).focus()

    @on(DataTable.RowSelected, "#fleet-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.row_key.value)

    def action_open(self) -> None:
        table = self.query_one(FleetTable)
        if table.row_count:
            self._open(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _open(self, migration_id: str | None) -> None:
        if migration_id is None:
            return
        self.dashboard.selected_id = migration_id
        self.dismiss()
        self.dashboard.refresh_view()
