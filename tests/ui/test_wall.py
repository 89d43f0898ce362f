"""The wall: large figures, the fleet summary, rotation, a dead source shouted, and no action keys."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Digits

from migration_tui.config import Settings
from migration_tui.events import Event
from migration_tui.feeds import LiveFeed, ReplayFeed
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.run import build_watch
from migration_tui.ui.screens.help import binding_rows
from migration_tui.ui.screens.wall import BigFigure, FleetSummary, SourceBanner, WallScreen
from tests.servers import free_port, start_simulate
from tests.ui.conftest import settle

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
WRITES = ("pause", "resume", "abort", "rollback")


def wall_over(name: str, rotate_s: float = 15.0) -> MigrationApp:
    feed = ReplayFeed(SAMPLE_DATA / f"{name}.jsonl.gz", playing=False)
    return MigrationApp(feed, theme="high-contrast", dashboard=WallScreen.rotating(rotate_s))


def figure(app: MigrationApp, name: str) -> tuple[str, str]:
    widget = app.dashboard.query_one(f"#figure-{name}", BigFigure)
    return widget.query_one(Digits).value, str(widget.query_one(".figure-note").render())


async def test_large_figures_and_one_summary_line_per_migration():
    app = wall_over("2pc-commit")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=120)
        migration = app.dashboard.selected_migration
        assert migration is not None and migration.phase == "committing"
        assert figure(app, "progress")[0] == f"{migration.progress:,.1f}"
        assert figure(app, "phase") == ("3", "of 4: COMMITTING")
        p95 = app.feed.store.series["latency_p95_ms"].latest()
        assert figure(app, "latency")[0] == f"{p95:,.1f}" and "limit ≤ 50ms" in figure(app, "latency")[1]
        summary = app.dashboard.query_one(FleetSummary).render().plain
        assert summary.startswith("▶ 2pc-btcusdt") and "committing" in summary
        assert not app.dashboard.query_one(SourceBanner).has_class("-shout")  # every source fresh: nothing to shout


async def test_no_action_key_anywhere():
    app = wall_over("2pc-commit")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=60)
        for key in ("p", "u", "a", "r", "enter", "y"):
            await pilot.press(key)
        assert app.screen is app.dashboard
        footer = [b.binding.action for b in app.dashboard.active_bindings.values() if b.binding.show]
        rows = [description.lower() for _key, description, _tip in binding_rows(app.dashboard)]
        assert not [name for name in footer + rows if name.split("(")[0] in WRITES]
    # That the wall never imports migration_tui.actions is proven in a clean interpreter:
    # tests/ui/test_read_only.py drives the wall as run_wall builds it.


async def test_it_rotates_between_running_migrations_and_a_key_press_resets_the_interval():
    app = wall_over("orderbook-rollout", rotate_s=3)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=200)
        wall = app.dashboard
        # The one-second tick is driven by hand below; the real one is paused so that a slow,
        # loaded machine cannot slip in a tick of its own between two of ours.
        wall.rotation_timer.pause()
        running = [m.id for m in app.feed.store.migrations.values() if not m.is_terminal]
        assert len(running) >= 3
        first = wall.selected_migration.id
        seen = [first]
        for _ in range(3 * (len(running) - 1)):
            wall._rotate()  # the one-second tick, driven here instead of waited for
            if wall.selected_id != seen[-1]:
                seen.append(wall.selected_id)
        assert seen == running[running.index(first) :] + running[: running.index(first)]
        await pilot.press("right_square_bracket")
        chosen = wall.selected_id
        wall._rotate()
        wall._rotate()
        assert wall.selected_id == chosen  # two ticks of three: the person's choice stays
        summary = wall.query_one(FleetSummary).render().plain.splitlines()
        assert [line for line in summary if line.startswith("▶")] == [next(line for line in summary if chosen in line)]


async def test_an_invalid_progress_is_shown_as_invalid_not_as_a_number():
    feed = LiveFeed([], mode="WALL")
    app = MigrationApp(feed, dashboard=WallScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        data = {"id": "m1", "system": "2pc", "status": "in_progress", "phase": "preparing", "progress": 250.0}
        feed.store.apply(Event(1_700_000_000.0, "controller", "migration", data))
        app.dashboard.refresh_view()
        await pilot.pause()
        assert figure(app, "progress") == ("--", "invalid")
        assert figure(app, "latency") == ("--", "no data")


async def test_hostile_ids_are_literal_on_the_wall():
    feed = LiveFeed([], mode="WALL")
    app = MigrationApp(feed, dashboard=WallScreen)
    hostile = "[bold red]x[/]\x1b]52;c;aGk=\x07" + "W" * 10_000
    async with app.run_test(size=(80, 24)) as pilot:
        data = {"id": hostile, "system": "[@click=app.quit]", "status": "in_progress", "phase": "\u202eevil"}
        feed.store.apply(Event(1_700_000_000.0, "controller", "migration", data))
        app.dashboard.refresh_view()
        await pilot.pause()
        summary = app.dashboard.query_one(FleetSummary).render().plain
        assert "[bold red]x[/]" in summary and "\x1b" not in summary and "\u202e" not in summary
        assert app.is_running


async def test_a_dead_controller_is_shouted_and_the_shout_stops_when_it_comes_back(tmp_path):
    """The real ``simulate`` in its own process, killed and started again on the same port."""
    port = free_port()
    simulator = start_simulate(port)
    settings = Settings(
        controller=f"http://127.0.0.1:{port}", poll_interval_s=0.2, timeout_s=0.5, audit_log=str(tmp_path / "a")
    )
    feed, dashboard = build_watch(settings, wall=True)
    assert dashboard is None
    app = MigrationApp(feed, dashboard=WallScreen)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            banner = app.dashboard.query_one(SourceBanner)

            async def until(condition, seconds: float = 20.0) -> None:
                for _ in range(int(seconds / 0.05)):
                    if condition():
                        return
                    await pilot.pause(0.05)
                raise AssertionError("the wall did not get there in time")

            await until(lambda: feed.store.migrations and feed.store.source("controller").ok())
            await until(lambda: not banner.has_class("-shout"))
            assert banner.size.height == 0
            simulator.kill()
            simulator.wait()
            await until(lambda: banner.has_class("-shout"))
            shout = banner.render().plain
            assert "CONTROLLER" in shout and "not live" in shout
            simulator = start_simulate(port)
            await until(lambda: not banner.has_class("-shout"))
    finally:
        simulator.kill()
        simulator.wait()


async def test_a_figure_over_its_limit_says_so_in_words_not_colour_alone():
    """Issue 14 item 10: SOLUSDT's p95 of 70 ms against 50 ms is marked ✖ ABOVE, under NO_COLOR too."""
    app = wall_over("orderbook-rollout")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=270)
        app.dashboard.selected_id = "rollout-solusdt"
        app.dashboard.refresh_view()
        await pilot.pause()
        value, note = figure(app, "latency")
        assert float(value) > 50 and "✖ ABOVE limit ≤ 50ms" in note
        _errors, errors_note = figure(app, "errors")
        assert "✖" not in errors_note and "limit ≤ 1%" in errors_note  # 0.59 % is within 1 %
