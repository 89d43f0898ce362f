"""Issue 14, "also expected by operators": the environment or controller, and READ-ONLY, on screen.

Against the simulator on a real socket, built the way ``watch`` builds it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_tui.config import Settings, build_settings
from migration_tui.feeds import ReplayFeed
from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.server import start_in_thread
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.run import build_watch
from migration_tui.ui.screens.wall import WallScreen
from migration_tui.ui.view import place_label
from migration_tui.ui.widgets import StatusBar

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture
def sim():
    clock = VirtualClock()
    clock.advance(10)
    with start_in_thread("2pc-commit", clock=clock) as running:
        yield running


async def status_line(app: MigrationApp, pilot) -> str:
    for _ in range(200):
        await pilot.pause(0.05)
        if app.feed.store.source("controller").ok():
            break
    app.dashboard.refresh_view()
    await pilot.pause()
    return app.dashboard.query_one(StatusBar).render().plain


async def test_read_only_watch_shows_the_badge_and_the_controller_host(sim, tmp_path):
    settings = Settings(controller=sim.url, read_only=True, poll_interval_s=0.2, audit_log=str(tmp_path / "a.jsonl"))
    feed, dashboard = build_watch(settings)
    app = MigrationApp(feed, dashboard=dashboard) if dashboard is not None else MigrationApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        line = await status_line(app, pilot)
    host = sim.url.split("//", 1)[1].rstrip("/")
    assert line.startswith(f" LIVE  {host}   READ-ONLY ")


async def test_environment_name_wins_and_there_is_no_badge_when_actions_work(sim, tmp_path):
    settings = Settings(
        controller=sim.url, environment="prod", poll_interval_s=0.2, audit_log=str(tmp_path / "a.jsonl")
    )
    feed, dashboard = build_watch(settings)
    app = MigrationApp(feed, dashboard=dashboard)
    async with app.run_test(size=(80, 24)) as pilot:
        line = await status_line(app, pilot)
    assert line.startswith(" LIVE  prod  ")
    assert "READ-ONLY" not in line and "127.0.0.1" not in line


async def test_the_wall_over_a_replay_says_read_only():
    feed = ReplayFeed(SAMPLES / "2pc-commit.jsonl.gz", playing=False)
    app = MigrationApp(feed, theme="high-contrast", dashboard=WallScreen.rotating(15))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        app.dashboard.refresh_view()
        await pilot.pause()
        assert "READ-ONLY" in app.dashboard.query_one(StatusBar).render().plain


def test_place_never_shows_userinfo_path_or_query():
    assert place_label(None, "https://ops:s3cret@ctl.example.net:8443/base?token=abc") == "ctl.example.net:8443"
    assert place_label(None, "http://[::1]:8080") == "[::1]:8080"
    assert place_label(None, "not a url") == ""
    assert place_label("prod\x1b[2J", "http://h:1") == "prod�[2J"
    assert place_label(None, None) == ""


def test_environment_comes_from_migration_tui_env():
    assert (
        build_settings({}, env={"MIGRATION_TUI_ENV": "staging"}, config_path=Path("/nonexistent")).environment
        == "staging"
    )
