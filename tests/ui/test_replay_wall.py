"""``replay FILE --wall``: a recording on the wall screen, as a team rehearses or the soak runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from migration_tui.cli import build_parser
from migration_tui.config import Settings
from migration_tui.feeds import ReplayFeed
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.run import _wall
from migration_tui.ui.screens.wall import BigFigure, FleetSummary, WallScreen
from tests.ui.conftest import settle

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "orderbook-rollout.jsonl.gz"


def test_the_replay_command_takes_wall_and_rotate():
    args = build_parser().parse_args(["replay", str(SAMPLE), "--wall", "--rotate", "5", "--speed", "60"])
    assert (args.wall, args.rotate, args.speed) == (True, 5.0, 60.0)
    assert build_parser().parse_args(["replay", str(SAMPLE)]).wall is False


def test_wall_and_headless_together_are_refused_with_a_message():
    done = subprocess.run(
        [sys.executable, "-m", "migration_tui", "replay", str(SAMPLE), "--wall", "--headless", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "choose one" in done.stderr and done.stdout == ""


def test_the_wall_defaults_to_high_contrast_but_a_chosen_theme_wins():
    settings, screen = _wall(Settings(), 7.0)
    assert settings.theme == "high-contrast"
    assert issubclass(screen, WallScreen) and screen.rotate_s == 7.0
    assert _wall(Settings(theme="light"), 7.0)[0].theme == "light"


async def test_a_recording_plays_on_the_wall_and_rotates():
    settings, screen = _wall(Settings(), 2.0)
    app = MigrationApp(ReplayFeed(SAMPLE, playing=False), theme=settings.theme, dashboard=screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=60)
        assert isinstance(app.dashboard, WallScreen)
        lines = app.dashboard.query_one(FleetSummary).render().plain.splitlines()
        assert len(lines) == 4 and lines[0].startswith("▶ rollout-")
        first = app.dashboard.selected_migration
        assert first is not None
        assert app.dashboard.query_one("#figure-progress", BigFigure).query_one(".figure-note") is not None
        for key in ("p", "u", "a", "r", "space", "right"):  # no action, and no replay key: a wall only shows
            await pilot.press(key)
        assert app.screen is app.dashboard and app.feed.replay.playing is False
        await pilot.pause(2.5)  # past --rotate 2: the next running migration
        await pilot.pause()
        assert app.dashboard.selected_migration is not None
        assert app.dashboard.selected_migration.id != first.id


async def test_the_wall_judges_by_the_rules_file():
    from migration_tui.rules import rules_from_toml

    rules = rules_from_toml(
        '[[rule]]\nname = "slow"\nsystems = ["orderbook-rollout"]\nseries = "latency_p95_ms"\nlabel = "p95"\n'
        'unit = "ms"\nthreshold = 5\nfor = "0s"\nseverity = "critical"\n'
    )
    settings, screen = _wall(Settings(), 15.0)
    app = MigrationApp(ReplayFeed(SAMPLE, playing=False), theme=settings.theme, rules=rules, dashboard=screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=60)
        latency = app.dashboard.query_one("#figure-latency", BigFigure)
        assert "limit ≤ 5ms" in str(latency.query_one(".figure-note").render())
        assert latency.has_class("-bad")  # the sample's p95 is well over 5 ms


async def test_a_repaint_that_arrives_while_the_app_exits_draws_nothing_and_raises_nothing(monkeypatch):
    """CI saw it once: the live clock's tick came while the wall's figures were being removed (NoMatches).

    Here every figure, as it is unmounted during the exit, asks the wall and the fleet beneath to repaint,
    as a feed's flush or the clock's tick would at that moment.
    """
    from migration_tui.ui.screens.fleet import FleetScreen

    asked: list[str] = []
    failed: list[str] = []

    def on_unmount(figure: BigFigure) -> None:
        asked.append(figure.id or "")
        for screen in (figure.screen, *fleets):
            try:
                screen.refresh_view()
            except Exception as error:  # noqa: BLE001 - the test reports any
                failed.append(f"{type(screen).__name__}: {error!r}")

    fleets: list[FleetScreen] = []
    monkeypatch.setattr(BigFigure, "on_unmount", on_unmount, raising=False)
    settings, screen = _wall(Settings(), 2.0)
    app = MigrationApp(ReplayFeed(SAMPLE, playing=False), theme=settings.theme, dashboard=screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot, at=60)
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
        fleets.append(app.screen)
    assert sorted(asked) == ["figure-errors", "figure-latency", "figure-phase", "figure-progress"]
    assert failed == []
