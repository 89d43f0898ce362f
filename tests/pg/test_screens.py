"""The real pg-logical run (sample_data/pg-logical.jsonl.gz) on the dashboard, the wall and the fleet view;
no action client where nothing may be sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_tui.config import ConfigError, build_settings
from migration_tui.feeds import ReplayFeed
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.run import build_watch
from migration_tui.ui.screens.wall import WallScreen
from tests.hostile.test_injection_ui import screen_lines, settle

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "pg-logical.jsonl.gz"
DSN = "host=127.0.0.1 port=1 dbname=app user=ops password=never-shown"


def text(app: MigrationApp) -> str:
    return " ".join(" ".join(screen_lines(app)).split())


async def test_the_dashboard_says_the_phase_its_condition_and_the_cutover_checks() -> None:
    app = MigrationApp(ReplayFeed(SAMPLE, playing=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=50)
        shown = text(app)
        assert "✔ initial copy › ▶ CATCHING UP › · streaming › · ready for cutover" in shown
        assert "paused by" in shown and "tables 4 / 4 ready" in shown
        assert "cutover ✔ tables ✖ enabled ✖ worker ✖ lag < 1 MiB" in shown
        assert "next: apply behind the publisher; on when all tables ready and lag < 16 MiB" in shown
        await pilot.press("3")
        await pilot.pause()
        assert "orders_move subscription ✖ OPEN" in text(app) and "orders_move slot ✖ OPEN" in text(app)
        await settle(app, pilot, at=125)
        await pilot.press("1")
        await pilot.pause()
        shown = text(app)
        assert "▶ READY FOR CUTOVER" in shown and "next: checks held 10 s" in shown


async def test_the_wall_shows_its_figures_and_phase() -> None:
    app = MigrationApp(ReplayFeed(SAMPLE, playing=False), dashboard=WallScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=50)
        await pilot.pause(1.2)  # the wall's judged panes redraw at most once a second
        app.dashboard.refresh_view()
        await pilot.pause()
        shown = text(app)
        assert "new errors" in shown and "lag" in shown and "of 4: CATCHING UP" in shown
        assert "pending" in shown  # its lag rule, judged on the wall too


def test_no_action_client_when_read_only_or_on_the_wall(tmp_path: Path) -> None:
    flags = {"kind_pg_publisher": DSN, "kind_pg_subscriber": DSN, "audit_log": str(tmp_path / "a.jsonl")}
    settings = build_settings({**flags, "read_only": True}, env={}, config_path=tmp_path / "none.toml")
    assert build_watch(settings)[1] is None
    settings = build_settings(flags, env={}, config_path=tmp_path / "none.toml")
    assert build_watch(settings, wall=True)[1] is None
    assert build_watch(settings)[1] is not None  # watch: pause and resume
    with pytest.raises(ConfigError, match="--controller and a source's own flags"):
        build_settings({**flags, "controller": ["http://127.0.0.1:9"]}, env={}, config_path=tmp_path / "none.toml")


def test_a_relay_viewer_given_the_pg_flags_may_pause_and_resume_but_polls_only_the_relay(tmp_path: Path) -> None:
    """Actions never travel through Redis: a relay viewer acts only on what it is given itself,
    as with an HTTP --controller. Given a pg-logical block it gets pause and resume for it, and
    still reads everything from the relay (the block's servers are not polled)."""
    flags = {"kind_pg_publisher": DSN, "kind_pg_subscriber": DSN, "audit_log": str(tmp_path / "a.jsonl")}
    relayed = build_settings({**flags, "relay": "redis://127.0.0.1:1/0"}, env={}, config_path=tmp_path / "x.toml")
    feed, dashboard = build_watch(relayed)
    assert dashboard is not None and not feed.read_only
    assert [source.name for source in feed.sources] == ["relay"]
    viewer = build_settings({"relay": "redis://127.0.0.1:1/0"}, env={}, config_path=tmp_path / "x.toml")
    feed, dashboard = build_watch(viewer)
    assert dashboard is None and feed.read_only  # given nothing to act on: read-only, as before
