"""How the actions layer plugs in: a DashboardScreen subclass adds keys that exist only in LIVE mode."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from migration_tui.feeds import LiveFeed, ReplayFeed
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.commands import DashboardCommands
from migration_tui.ui.screens.dashboard import DashboardScreen
from tests.ui.conftest import settle


class WithActions(DashboardScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause_migration", "Pause", id="pause", tooltip="Pause the selected migration (asks first)"),
    ]
    LIVE_ONLY_ACTIONS = frozenset({"pause_migration"})

    def action_pause_migration(self) -> None:
        self.paused = self.selected_migration


async def test_live_only_keys_appear_in_live_mode():
    app = MigrationApp(LiveFeed([], mode="LIVE"), dashboard=WithActions)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        shown = {active.binding.action for active in app.dashboard.active_bindings.values()}
        assert "pause_migration" in shown and "help" in shown  # the base keys are kept
        titles = [str(hit.display) async for hit in DashboardCommands(app.dashboard).discover()]
        assert any("Pause the selected migration" in title for title in titles)
        await pilot.press("p")
        assert hasattr(app.dashboard, "paused")


async def test_live_only_keys_do_not_exist_in_replay(recordings):
    app = MigrationApp(ReplayFeed(recordings["2pc"], playing=False), dashboard=WithActions)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(app, pilot)
        shown = {active.binding.action for active in app.dashboard.active_bindings.values()}
        assert "pause_migration" not in shown
        titles = [str(hit.display) async for hit in DashboardCommands(app.dashboard).discover()]
        assert not any("Pause the selected migration" in title for title in titles)
        await pilot.press("p")
        assert not hasattr(app.dashboard, "paused")
