"""The fleet view: 500 migrations worst first, a filter, Enter opening one, 80 columns, and on the wall."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_tui.events import Event
from migration_tui.feeds import LiveFeed, ReplayFeed
from migration_tui.recording import RecordingWriter
from migration_tui.rules import evaluate_one
from migration_tui.synthetic import rollout_migration
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.screens.fleet import FleetScreen
from migration_tui.ui.screens.help import binding_rows
from migration_tui.ui.screens.wall import WallHeadline, WallScreen
from migration_tui.ui.widgets.fleet_list import LOOK_TITLE, FleetList, judged, layout
from tests.ui.conftest import settle

T0 = 1_700_000_000.0
#: The fixed offset of the fleet recording's snapshots: firing, pending, rolling back and ended rows.
OFFSET_S = 190


def pairs(count: int) -> list[dict]:
    """``count`` per-pair rollouts; every 97th rolling back, every 50th completed, the rest running."""
    out = []
    for n in range(count):
        phase, status = "50%", "in_progress"
        if n % 97 == 13:
            phase = "rolling_back"
        elif n % 50 == 7:
            phase, status = "100%", "completed"
        out.append(
            {
                "id": f"rollout-p{n:03d}",
                "system": "orderbook-rollout",
                "pair": f"P{n:03d}USDT",
                "status": status,
                "phase": phase,
                "progress": 50.0,
            }
        )
    return out


def write_fleet(path: Path, count: int = 60, seconds: int = 200) -> Path:
    """A per-pair rollout recording with every kind of row by ``OFFSET_S``.

    Pair n: n % 10 == 1 has p95 at 65 ms from the start (firing after 3 min), n % 10 == 5 from
    120 s (pending), n % 10 == 3 rolls back after 100 s, n % 10 == 7 completes at 150 s."""
    with RecordingWriter(path, started_at=T0, meta={"scenario": f"fleet-{count}"}) as writer:
        for second in range(seconds):
            ts = T0 + second
            values: dict[str, float] = {}
            for n in range(count):
                pair = f"P{n:03d}USDT"
                phase, status, progress = "50%", "in_progress", min(100.0, 40.0 + n % 9 + second * 0.25)
                if n % 10 == 3 and second >= 100:
                    phase = "rolling_back"
                elif n % 10 == 7 and second >= 150:
                    phase, status, progress = "100%", "completed", 100.0
                data = rollout_migration(pair, status, phase, progress, T0)
                writer.write(Event(ts, "controller", "migration", data))
                hot = n % 10 == 1 or (n % 10 == 5 and second >= 120)
                values[f"{pair}/latency_p95_ms"] = 65.0 + n % 4 if hot else 20.0 + n % 5
                values[f"{pair}/error_rate_pct"] = 0.05
            writer.write(Event(ts + 0.5, "prometheus", "metrics", {"values": values}))
    return path


@pytest.fixture(scope="module")
def fleet_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fleet(tmp_path_factory.mktemp("fleet") / "fleet-60.jsonl.gz")


def open_fleet(count: int = 500, dashboard=None) -> tuple[LiveFeed, MigrationApp]:
    feed = LiveFeed([], mode="LIVE")
    app = MigrationApp(feed) if dashboard is None else MigrationApp(feed, dashboard=dashboard)
    for data in pairs(count):
        feed.store.apply(Event(T0, "controller", "migration", data))
    return feed, app


async def open_fleet_view(app: MigrationApp, pilot) -> FleetList:
    """Press ``f`` on the dashboard or wall and return the fleet list it opened."""
    await pilot.press("f")
    await pilot.pause()
    return fleet_of(app)


def fleet_of(app: MigrationApp) -> FleetList:
    assert isinstance(app.screen, FleetScreen)
    return app.screen.query_one(FleetList)


async def test_five_hundred_migrations_worst_first():
    feed, app = open_fleet(500)
    async with app.run_test(size=(120, 40)) as pilot:
        fleet = await open_fleet_view(app, pilot)
        assert len(fleet.order) == 500
        rolling_back = sorted(d["id"] for d in pairs(500) if d["phase"] == "rolling_back")
        completed = sorted(d["id"] for d in pairs(500) if d["status"] == "completed")
        assert fleet.order[: len(rolling_back)] == rolling_back  # the ones being undone first
        assert fleet.order[-len(completed) :] == completed  # the ones that ended last
        assert "500 migrations" in str(app.screen.query_one("#fleet-title").render())
        # Only the rows on screen are drawn: the header and 37 rows (40 lines less the title and footer).
        assert len(fleet.lines) == fleet.size.height == 38
        assert fleet.lines[1].plain.startswith(f"▶ {rolling_back[0]}")


async def test_cursor_keys_page_home_end_click_and_the_cursor_follows_its_migration():
    feed, app = open_fleet(500)
    async with app.run_test(size=(80, 24)) as pilot:
        fleet = await open_fleet_view(app, pilot)
        page = fleet.page
        await pilot.press("down", "down")
        assert fleet.cursor == 2 and fleet.lines[3].plain.startswith("▶ ")
        await pilot.press("pagedown")
        assert fleet.cursor == 2 + page and fleet.top > 0
        await pilot.press("end")
        assert fleet.current_id == fleet.order[-1] and fleet.lines[-1].plain.startswith("▶ ")
        # A row scrolled into view by the cursor says what needs a look, as the frame judged it.
        last = feed.store.migrations[fleet.order[-1]]
        assert fleet._view is not None and fleet.lines[-1].plain.rstrip().endswith(judged(fleet._view, last)[1][0])
        await pilot.press("slash")  # the filter box takes three lines: the cursor row stays in view
        await pilot.pause()
        assert len(fleet.lines) == fleet.size.height and fleet.lines[-1].plain.startswith("▶ ")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("home")
        assert fleet.cursor == 0 and fleet.top == 0
        await pilot.click("#fleet-list", offset=(5, 4))  # the header is line 0: row 3
        assert fleet.cursor == 3 and fleet.lines[4].plain.startswith("▶ ")
        await pilot.press("down")
        chosen = fleet.current_id
        # It starts rolling back: it moves to the top, and the cursor with it.
        data = next(d for d in pairs(500) if d["id"] == chosen)
        feed.store.apply(Event(T0 + 1, "controller", "migration", {**data, "phase": "rolling_back"}))
        fleet.forget()
        app.screen.refresh_view()
        assert fleet.current_id == chosen and fleet.cursor < 6


async def test_the_fleet_moves_with_the_data_not_a_second_after(fleet_recording):
    """The fleet repaints when the screen below does (the feed's repaint, as data arrives), not on a
    timer of its own: a seek shows its rows at once, with no second's wait."""
    app = MigrationApp(ReplayFeed(fleet_recording, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=50)
        fleet = await open_fleet_view(app, pilot)
        assert all("ROLLING_BACK" not in line.plain for line in fleet.lines)  # nothing rolls back yet
        app.feed.seek_to(120)  # pairs 3, 13, 23, ... roll back from 100 s: they go to the top
        await pilot.pause()
        assert "rollout-p003usdt" in fleet.lines[1].plain and "ROLLING_BACK" in fleet.lines[1].plain


async def test_one_repaint_under_the_fleet_builds_one_view(fleet_recording, monkeypatch):
    """The screen below built a view for the repaint and the fleet then built a second from the
    same store: the fleet now draws from the one it is given."""
    from migration_tui.ui.screens.base import MigrationScreen

    app = MigrationApp(ReplayFeed(fleet_recording, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=50)
        fleet = await open_fleet_view(app, pilot)
        built: list[float] = []
        build_view = MigrationScreen.build_view
        monkeypatch.setattr(MigrationScreen, "build_view", lambda self: built.append(1) or build_view(self))
        app.feed.seek_to(120)  # the feed's repaint: the dashboard's refresh_view, then the fleet's
        await pilot.pause()
        assert "ROLLING_BACK" in fleet.lines[1].plain  # drawn from it
        assert len(built) == 1


async def test_filter_then_enter_opens_that_migration_on_the_dashboard():
    feed, app = open_fleet(500)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f", "slash", *"p42", "enter")
        await pilot.pause()
        fleet = fleet_of(app)
        assert fleet.order == [f"rollout-p42{n}" for n in range(10)]
        assert "10 of 500 migrations" in str(app.screen.query_one("#fleet-title").render())
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert app.dashboard.selected_migration.id == "rollout-p421"


async def test_escape_goes_back_and_nothing_changes_selection():
    feed, app = open_fleet(20)
    async with app.run_test(size=(80, 24)) as pilot:
        before = app.dashboard.selected_migration.id
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard and app.dashboard.selected_migration.id == before


async def test_hostile_ids_are_literal_in_the_fleet():
    feed = LiveFeed([], mode="LIVE")
    app = MigrationApp(feed)
    hostile = "[bold]x[/]\x1b[2J\u202e" + "Z" * 10_000
    feed.store.apply(
        Event(T0, "controller", "migration", {"id": hostile, "system": "[@click=app.quit]", "status": "in_progress"})
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        row = fleet_of(app).lines[1].plain
        assert row.startswith("▶ [bold]x[/]") and "\x1b" not in row and "\u202e" not in row
        assert len(row) <= 80
        assert app.is_running


async def test_a_nan_progress_is_shown_as_invalid():
    feed = LiveFeed([], mode="LIVE")
    app = MigrationApp(feed)
    data = {"id": "m1", "system": "2pc", "status": "in_progress", "phase": "preparing", "progress": float("nan")}
    feed.store.apply(Event(T0, "controller", "migration", data))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        assert "invalid" in fleet_of(app).lines[1].plain and "nan" not in fleet_of(app).lines[1].plain


async def test_every_column_is_on_screen_at_80x24(fleet_recording):
    app = MigrationApp(ReplayFeed(fleet_recording, playing=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=OFFSET_S)
        await pilot.press("f")
        await settle(app, pilot)
        fleet = fleet_of(app)
        assert fleet.region.right <= 80
        header = fleet.lines[0].plain
        titles = [column.title for column in layout(fleet.size.width)]
        assert titles == ["migration", "progress", "status", "phase"]  # pair and system come from 90 columns
        for title in [*titles, LOOK_TITLE]:
            assert title in header
        assert header.rstrip().endswith(LOOK_TITLE)
        rows = [line.plain for line in fleet.lines[1:]]
        assert [row.startswith("▶ ") for row in rows] == [True] + [False] * (len(rows) - 1)
        assert "✖ ROLLING_BACK" in rows[0] and "✖ FIRING rollback: p95" in rows[6]  # the six rolling back, then firing
        assert all(line.cell_len <= fleet.size.width for line in fleet.lines)
        wide = [column.title for column in layout(118)]
        assert wide == ["migration", "progress", "status", "phase", "pair", "system"]
        # Long ids get room when there is some to spare, never at "needs a look"'s expense.
        assert [layout(width, 40)[0].width for width in (80, 120, 200)] == [16, 22, 32]


async def test_the_cheap_ranking_agrees_with_the_rules(fleet_recording):
    """``judged`` (from the judgement shared by the view) ranks as the rules themselves say."""
    app = MigrationApp(ReplayFeed(fleet_recording, playing=False))
    async with app.run_test(size=(80, 24)) as pilot:
        for at in (30, 125, OFFSET_S, 199):
            await settle(app, pilot, at=at)
            view = app.dashboard.build_view()
            ranks = set()
            for migration in view.store.migrations.values():
                rank, (look, _level) = judged(view, migration)
                ranks.add(rank)
                alerts = evaluate_one(view.store, migration, view.now, view.rules)
                if rank in (1, 2, 3):
                    assert rank == (3 if not alerts else 1 if alerts[0].state == "firing" else 2)
                    assert not alerts or alerts[0].message.split(" recommended", 1)[1] in look
                else:
                    assert alerts == []
            if at == OFFSET_S:
                assert ranks == {0, 1, 2, 3, 4}


async def test_on_the_wall_f_opens_the_fleet_and_enter_holds_that_migration():
    feed, app = open_fleet(30, dashboard=WallScreen.rotating(2))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        wall = app.dashboard
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("p", "u", "a", "r", "y", "down", "down", "down")
        fleet = fleet_of(app)  # no key above left the fleet view
        chosen = fleet.current_id
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is wall and wall.selected_id == chosen and wall.held
        await pilot.pause()
        headline = wall.query_one(WallHeadline).lines[0].plain
        assert headline.startswith("⏸ HELD (esc rotates)") and chosen in headline  # on the wall, not only the footer
        for _ in range(5):
            wall._rotate()  # the one-second tick, driven here
        assert wall.selected_id == chosen  # held: no rotation
        footer = {b.binding.action for b in wall.active_bindings.values() if b.binding.show}
        assert "rotate_again" in footer and "fleet" in footer
        assert {"f", "esc"} <= {key for key, _description, _tip in binding_rows(wall)}  # and in the help
        await pilot.press("escape")
        assert not wall.held
        await pilot.pause()
        assert "HELD" not in wall.query_one(WallHeadline).lines[0].plain
        for _ in range(2):
            wall._rotate()
        assert wall.selected_id != chosen  # rotating again


async def test_on_the_wall_escape_from_the_fleet_changes_nothing():
    feed, app = open_fleet(30, dashboard=WallScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        wall = app.dashboard
        before = wall.selected_migration.id
        await pilot.press("f", "down", "escape")
        await pilot.pause()
        assert app.screen is wall and wall.selected_migration.id == before and not wall.held
        footer = {b.binding.action for b in wall.active_bindings.values() if b.binding.show}
        assert "rotate_again" not in footer  # nothing held: nothing to resume


class TestFleetSnapshots:
    """The fleet over a fixed recording offset: firing, pending, rolling back, running and ended rows."""

    @pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
    def test_fleet(self, snap_compare, fleet_recording, size):
        app = MigrationApp(ReplayFeed(fleet_recording, playing=False))

        async def run_before(pilot) -> None:
            await settle(app, pilot, at=OFFSET_S)
            await pilot.press("f")
            await settle(app, pilot)

        assert snap_compare(app, terminal_size=size, run_before=run_before)

    def test_fleet_on_the_wall(self, snap_compare, fleet_recording):
        app = MigrationApp(ReplayFeed(fleet_recording, playing=False), theme="high-contrast", dashboard=WallScreen)

        async def run_before(pilot) -> None:
            await settle(app, pilot, at=OFFSET_S)
            await pilot.press("f", "down", "down")
            await settle(app, pilot)

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_a_fleet_of_one_says_one_migration():
    """A newcomer replaying one sample read "Fleet: 1 migrations"."""
    _feed, app = open_fleet(1)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_fleet_view(app, pilot)
        title = str(app.screen.query_one("#fleet-title").render())
        assert "Fleet: 1 migration," in title
