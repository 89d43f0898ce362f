"""Issue 14 item 11 (layout): what the README says about wide terminals is what the screen does.

80x24: the panes in tabs, the wall as it was. From 120x36 the Overview adds this host's
resources and the log below; from 160 columns the log sits beside the Overview, full height.
The wall at 120x36 and up uses the room below its figures for the progress line, the
system's panel and the sparklines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_tui.feeds import ReplayFeed
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.screens.base import _is_displayed
from migration_tui.ui.screens.wall import WallScreen
from tests.ui.conftest import settle

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def displayed(app: MigrationApp, selector: str) -> bool:
    widget = app.dashboard.query_one(selector)
    return _is_displayed(widget, app.dashboard) and widget.region.height > 0


@pytest.mark.parametrize(
    ("size", "log_below", "log_beside"),
    [((80, 24), False, False), ((120, 40), True, False), ((200, 50), False, True)],
)
async def test_overview_uses_the_width(size, log_below, log_beside):
    app = MigrationApp(ReplayFeed(SAMPLES / "2pc-commit.jsonl.gz", playing=False))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot, at=160)
        assert displayed(app, "#overview-log") is log_below
        assert displayed(app, "#overview-log-side") is log_beside
        if log_beside:
            side = app.dashboard.query_one("#overview-log-side")
            main = app.dashboard.query_one("#overview-main")
            assert side.region.x >= main.region.right  # beside, not below
            assert any("paused" in line.plain for line in side.lines)


@pytest.mark.parametrize(("size", "detail"), [((80, 24), False), ((200, 50), True)])
async def test_the_wall_fills_a_large_screen_and_keeps_80x24(size, detail):
    feed = ReplayFeed(SAMPLES / "orderbook-rollout.jsonl.gz", playing=False)
    app = MigrationApp(feed, theme="high-contrast", dashboard=WallScreen.rotating(15))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot, at=200)
        assert displayed(app, "#wall-detail") is detail
        if detail:
            system = "\n".join(line.plain for line in app.dashboard.query_one("#wall-system").lines)
            assert "SOLUSDT" in system and "XRPUSDT" in system  # every pair of the rollout
            assert "%/min" in app.dashboard.query_one("#wall-progress").render().plain
            used = sum(w.region.height for w in app.dashboard.query("#wall-detail"))
            assert used >= 15
