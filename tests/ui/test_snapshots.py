"""Snapshot tests: each fixture recording at a fixed replay offset, at 80x24 and 120x40, and every theme.

The replay clock is virtual and paused, so what is drawn depends only on the
recording and the offset. Review a changed SVG before accepting it
(``pytest tests/ui/test_snapshots.py --snapshot-update``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_tui.feeds import ReplayFeed
from migration_tui.ui.app import MigrationApp
from tests.ui.conftest import settle

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
#: Offsets where each sample recording shows what it is about (see sample_data/README.md).
SAMPLE_OFFSETS = {
    "2pc-commit": 160,  # paused by the operator, progress holding
    "2pc-abort": 140,  # aborting after marketdata's vote timed out
    "orderbook-rollout": 270,  # SOLUSDT's fourth breaker open: rolling back
    "canary": 100,  # the 25 % bump on the new side
    "batch": 110,  # failure-rate spike, health score down
    "dual-write": 100,  # object-write success dip, rollback countdown
    "pg-logical": 50,  # a real run, paused under the write load: lag and retained WAL climbing, lag rule pending
}


def at(app, seconds: float, *keys: str):
    async def run_before(pilot) -> None:
        await settle(app, pilot, at=seconds)
        if keys:
            await pilot.press(*keys)
            await settle(app, pilot)

    return run_before


class TestScenarios:
    @pytest.mark.parametrize("scenario", list(SAMPLE_OFFSETS))
    @pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
    def test_sample_recording(self, snap_compare, scenario, size):
        path = SAMPLE_DATA / f"{scenario}.jsonl.gz"
        if not path.is_file():
            pytest.fail(f"missing sample recording {path}")
        app = MigrationApp(ReplayFeed(path, playing=False))
        assert snap_compare(app, terminal_size=size, run_before=at(app, SAMPLE_OFFSETS[scenario]))

    def test_participants_tab(self, snap_compare, make_app):
        app = make_app("2pc")
        assert snap_compare(app, terminal_size=(80, 24), run_before=at(app, 215, "2"))

    def test_breakers_tab(self, snap_compare, make_app):
        app = make_app("orderbook-rollout")
        assert snap_compare(app, terminal_size=(80, 24), run_before=at(app, 242, "3"))

    def test_hostile_text(self, snap_compare, make_app):
        app = make_app("hostile")
        assert snap_compare(app, terminal_size=(120, 40), run_before=at(app, 15))


class TestThemes:
    @pytest.mark.parametrize("theme", ["dark", "light", "high-contrast", "colorblind"])
    def test_theme(self, snap_compare, make_app, theme):
        app = make_app("orderbook-rollout", theme=theme)
        assert snap_compare(app, terminal_size=(100, 30), run_before=at(app, 242))


class TestScreens:
    def test_help(self, snap_compare, make_app):
        app = make_app("2pc")
        assert snap_compare(app, terminal_size=(100, 40), run_before=at(app, 150, "question_mark"))


class TestWall:
    """The wall screen (high-contrast) at the sizes a wall meets: a tmux pane, a laptop, a TV."""

    @pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)], ids=["80x24", "120x40", "200x50"])
    def test_wall_2pc_commit(self, snap_compare, size):
        from migration_tui.ui.screens.wall import WallScreen

        app = MigrationApp(
            ReplayFeed(SAMPLE_DATA / "2pc-commit.jsonl.gz", playing=False), theme="high-contrast", dashboard=WallScreen
        )
        assert snap_compare(app, terminal_size=size, run_before=at(app, 120))

    def test_wall_orderbook_rollout(self, snap_compare):
        from migration_tui.ui.screens.wall import WallScreen

        feed = ReplayFeed(SAMPLE_DATA / "orderbook-rollout.jsonl.gz", playing=False)
        app = MigrationApp(feed, theme="high-contrast", dashboard=WallScreen)
        assert snap_compare(app, terminal_size=(120, 40), run_before=at(app, SAMPLE_OFFSETS["orderbook-rollout"]))


class TestMetricsCharts:
    """Issue 21: the Metrics tab's charts (time axis, thresholds, marked moments) on the samples."""

    #: The keys that show the migration each sample is about: SOLUSDT (third) in the rollout.
    SHOW = {"2pc-commit": (), "orderbook-rollout": ("right_square_bracket", "right_square_bracket")}

    @pytest.mark.parametrize("scenario", ["2pc-commit", "orderbook-rollout"])
    @pytest.mark.parametrize("size", [(120, 40), (200, 50)], ids=["120x40", "200x50"])
    def test_metrics_tab(self, snap_compare, scenario, size):
        app = MigrationApp(ReplayFeed(SAMPLE_DATA / f"{scenario}.jsonl.gz", playing=False))
        keys = (*self.SHOW[scenario], "4")
        assert snap_compare(app, terminal_size=size, run_before=at(app, SAMPLE_OFFSETS[scenario], *keys))

    @pytest.mark.parametrize("theme", ["high-contrast", "colorblind", "NO_COLOR"])
    def test_metrics_tab_theme(self, snap_compare, monkeypatch, theme):
        if theme == "NO_COLOR":
            monkeypatch.setenv("NO_COLOR", "1")
        feed = ReplayFeed(SAMPLE_DATA / "orderbook-rollout.jsonl.gz", playing=False)
        app = MigrationApp(feed, theme=None if theme == "NO_COLOR" else theme)
        keys = (*self.SHOW["orderbook-rollout"], "4")
        assert snap_compare(
            app, terminal_size=(120, 40), run_before=at(app, SAMPLE_OFFSETS["orderbook-rollout"], *keys)
        )

    def test_metrics_tab_falls_back_to_sparklines_at_80x24(self, snap_compare):
        app = MigrationApp(ReplayFeed(SAMPLE_DATA / "2pc-commit.jsonl.gz", playing=False))
        assert snap_compare(app, terminal_size=(80, 24), run_before=at(app, SAMPLE_OFFSETS["2pc-commit"], "4"))

    def test_wall_orderbook_rollout_charts_at_200x50(self, snap_compare):
        from migration_tui.ui.screens.wall import WallScreen

        feed = ReplayFeed(SAMPLE_DATA / "orderbook-rollout.jsonl.gz", playing=False)
        app = MigrationApp(feed, theme="high-contrast", dashboard=WallScreen)
        assert snap_compare(app, terminal_size=(200, 50), run_before=at(app, SAMPLE_OFFSETS["orderbook-rollout"]))
