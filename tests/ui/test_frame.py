"""Issue 15, item 2: one frame per repaint.

The rules are judged once per repaint, however many panes read them (the
dashboard's alerts pane and rule watch, the fleet view, the wall's summary,
headline and figures), and the frame's ranking is the fleet view's order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_tui import frame as frame_module
from migration_tui.feeds import ReplayFeed
from migration_tui.frame import Frame
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.screens.fleet import FleetScreen
from migration_tui.ui.widgets import AlertsPane
from migration_tui.ui.widgets.fleet_list import FleetList
from tests.ui.conftest import settle

ROLLOUT = Path(__file__).resolve().parents[2] / "sample_data" / "orderbook-rollout.jsonl.gz"


@pytest.fixture()
def judge_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts ``rules.judge`` as the frame calls it (one entry per call)."""
    calls: list[int] = []
    real = frame_module.judge

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(frame_module, "judge", counting)
    return calls


async def test_a_frame_judges_once_however_much_is_read(judge_calls):
    app = MigrationApp(ReplayFeed(ROLLOUT, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=270)
        judge_calls.clear()
        frame = Frame(app.feed.store, app.feed.now())
        assert frame.alerts and frame.ranking and frame.judgements and frame.by_urgency
        assert frame.ranking[0] == "rollout-solusdt"  # rolling back: worst first
        assert [frame.rank(m) for m in frame.by_urgency][0] == frame_module.RANK_UNDOING
        assert len(judge_calls) == 1


async def test_the_dashboard_the_fleet_and_the_wall_judge_once_per_repaint(judge_calls):
    app = MigrationApp(ReplayFeed(ROLLOUT, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=270)
        dashboard = app.dashboard
        pane = dashboard.query_one(AlertsPane)
        pane.forget()
        dashboard.rule_watch.rebaseline()  # the rule watch reads the frame too in this repaint
        judge_calls.clear()
        dashboard.refresh_view()
        assert pane.alerts  # the pane drew this repaint's alerts
        assert len(judge_calls) == 1

        await pilot.press("f")
        await pilot.pause()
        fleet = app.screen
        assert isinstance(fleet, FleetScreen)
        fleet.query_one(FleetList).forget()
        judge_calls.clear()
        fleet.refresh_view()
        assert len(judge_calls) == 1
        # The fleet's order is the frame's ranking.
        assert fleet.query_one(FleetList).order == dashboard.last_view.frame.ranking

    from migration_tui.ui.screens.wall import FleetSummary, WallHeadline, WallScreen

    app = MigrationApp(ReplayFeed(ROLLOUT, playing=False), dashboard=WallScreen.rotating(15.0))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot, at=270)
        wall = app.dashboard
        for pane in (wall.query_one(FleetSummary), wall.query_one(WallHeadline)):
            pane.forget()
        wall.rule_watch.rebaseline()
        judge_calls.clear()
        wall.refresh_view()
        assert wall.query_one(FleetSummary).lines
        assert len(judge_calls) == 1


async def test_with_the_fleet_open_the_rules_are_judged_once_a_second_and_still_watched(judge_calls):
    """The fleet covers the dashboard: the dashboard's repaint no longer judges for its rule watch;
    the fleet's frame feeds both the ranking and the watch (two judgements a second cost the fleet
    its 2x budget), and transitions are still logged while the fleet is open."""
    app = MigrationApp(ReplayFeed(ROLLOUT, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=90)
        await pilot.press("f")
        await pilot.pause()
        fleet = app.screen
        assert isinstance(fleet, FleetScreen)
        logged_before = len(app.feed.store.log)
        judge_calls.clear()
        for second in range(91, 101):  # ten seconds of the recording, each repainted by both screens
            await settle(app, pilot, at=second)  # the feed's repaint: the dashboard's, which repaints the fleet
            drawn = fleet.query_one(FleetList).lines[1:]
            app.dashboard.refresh_view()  # and again in the same second (a live flush): nothing new to judge
            assert fleet.query_one(FleetList).lines[1:] == drawn
        assert len(judge_calls) == 10  # one a second, not two
        # SOLUSDT's p95 rule goes pending at about 95 s: logged from the fleet's frame.
        new = [line.message for line in list(app.feed.store.log)[logged_before:] if line.source == "rules"]
        assert any("rollout-solusdt" in message for message in new)
