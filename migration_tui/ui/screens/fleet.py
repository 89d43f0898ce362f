"""The fleet view: every migration in one list, worst first, for when there are hundreds.

Seed 001 runs one migration per trading pair; this is where an operator
finds the one that needs them. Rows are sorted worst first (an abort or
rollback under way, then firing and pending rules, then running, then
ended), ``/`` filters by id, system, pair, status or phase, and Enter shows
that migration on the screen below: the dashboard, or the wall (which then
holds it instead of rotating). It writes nothing, in any mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input, Label

from migration_tui.ui.textual_compat import render_dirty_widgets_only
from migration_tui.ui.widgets.fleet_list import FleetList
from migration_tui.ui.widgets.footer import KeyBar

if TYPE_CHECKING:
    from migration_tui.ui.screens.base import MigrationScreen
    from migration_tui.ui.view import View


class FleetScreen(Screen["str | None"]):
    """Every migration, worst first; Enter shows one on the screen below (its id is the result), Esc goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="fleet-back", tooltip="Back to the screen below"),
        Binding("slash", "filter", "Filter", key_display="/", id="fleet-filter", tooltip="Filter the migrations"),
        Binding("enter", "open", "Open", id="fleet-open", tooltip="Show the migration under the cursor"),
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

    def __init__(self, dashboard: MigrationScreen) -> None:
        super().__init__()
        render_dirty_widgets_only(self)  # a second's changed rows repaint only their widgets
        self.dashboard = dashboard
        self._title = ""

    def compose(self) -> ComposeResult:
        yield Label("Fleet", id="fleet-title", markup=False)
        yield Input(placeholder="filter by id, system, pair, status or phase", id="fleet-filter-box")
        yield FleetList(id="fleet-list")
        yield KeyBar()

    def on_mount(self) -> None:
        self.refresh_view()
        self.query_one(FleetList).focus()

    def refresh_view(self, view: View | None = None) -> None:
        """Repaint from the screen below's data: called by its own repaint (the feed's, as data
        arrives and, live, every second) with the view it built, so the rows move with the screen
        below, not after it."""
        lists = self.query(FleetList)
        if not lists or not self.display:
            # Pushed but not composed yet (its on_mount draws it first), or being taken down as the
            # app exits: its widgets are not there (see can_draw).
            return
        fleet = lists.first()
        if view is None:
            view = self.dashboard.build_view()
        # The screen beneath draws nothing while the fleet covers it: the rules are watched (logged,
        # rung) from this frame, the one the ranking reads, so they are judged once a repaint.
        self.dashboard.watch_rules(view)
        fleet.show(view)
        total = len(self.dashboard.feed.store.migrations)
        shown = f"{len(fleet.order)} of {total}" if fleet.needle else str(total)
        controllers = {m.controller for m in self.dashboard.feed.store.migrations.values() if m.controller}
        on = f" on {len(controllers)} controllers" if len(controllers) > 1 else ""
        noun = "migration" if total == 1 else "migrations"  # "1 of 500 migrations", "1 migration"
        title = f"Fleet: {shown} {noun}{on}, worst first"
        if title != self._title:  # a Label repaints on every update
            self._title = title
            self.query_one("#fleet-title", Label).update(title)

    def action_back(self) -> None:
        box = self.query_one("#fleet-filter-box", Input)
        if box.has_focus:
            self.query_one(FleetList).focus()
            if not box.value:
                box.remove_class("-shown")
            return
        self.dismiss(None)

    def action_filter(self) -> None:
        box = self.query_one("#fleet-filter-box", Input)
        box.add_class("-shown")
        box.focus()

    @on(Input.Changed, "#fleet-filter-box")
    def _filter_changed(self, event: Input.Changed) -> None:
        fleet = self.query_one(FleetList)
        fleet.needle = event.value.strip()
        fleet.forget()
        self.refresh_view()

    @on(Input.Submitted, "#fleet-filter-box")
    def _filter_submitted(self) -> None:
        self.query_one(FleetList).focus()

    def action_open(self) -> None:
        migration_id = self.query_one(FleetList).current_id
        if migration_id is None:
            return
        self.dashboard.selected_id = migration_id
        self.dismiss(migration_id)
        self.dashboard.refresh_view()
