"""The fleet view in live mode, against the simulator serving the per-pair rollout over a real socket."""

from __future__ import annotations

from migration_tui.config import Settings
from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.server import start_in_thread
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.run import build_watch
from migration_tui.ui.screens.actions import ActionDashboard
from migration_tui.ui.screens.fleet import FleetScreen
from migration_tui.ui.widgets.fleet_list import FleetList


async def test_live_fleet_lists_every_pair_and_enter_opens_its_dashboard_with_the_action_keys(tmp_path):
    clock = VirtualClock()
    clock.advance(30)
    with start_in_thread("orderbook-rollout", clock=clock) as sim:
        settings = Settings(controller=sim.url, poll_interval_s=0.2, audit_log=str(tmp_path / "audit.jsonl"))
        feed, dashboard = build_watch(settings)
        app = MigrationApp(feed, dashboard=dashboard)
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(100):  # the first polls over HTTP
                if len(feed.store.migrations) == 4:
                    break
                await pilot.pause(0.05)
            assert isinstance(app.dashboard, ActionDashboard)
            await pilot.press("f")
            await pilot.pause()
            assert isinstance(app.screen, FleetScreen)
            fleet = app.screen.query_one(FleetList)
            assert sorted(fleet.order) == sorted(feed.store.migrations)
            assert len(fleet.order) == 4
            await pilot.press("end", "enter")
            await pilot.pause()
            assert app.screen is app.dashboard
            assert app.dashboard.selected_id == fleet.order[-1]
            # The dashboard it opened on is the live one: the action keys are there.
            shown = {active.binding.action for active in app.dashboard.active_bindings.values()}
            assert {"pause", "abort", "rollback"} <= shown
            assert sim.controller.received_actions == []  # opening a migration sends nothing
