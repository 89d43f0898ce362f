"""The fleet view: 500 migrations worst first, a filter, and Enter opening one on the dashboard."""

from __future__ import annotations

from migration_tui.events import Event
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.feeds import LiveFeed
from migration_tui.ui.screens.fleet import FleetScreen, FleetTable

T0 = 1_700_000_000.0


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


async def open_fleet(count: int = 500):
    feed = LiveFeed([], mode="LIVE")
    app = MigrationApp(feed)
    for data in pairs(count):
        feed.store.apply(Event(T0, "controller", "migration", data))
    return feed, app


def _ordered(table: FleetTable) -> list[str]:
    return [table.get_row_at(i)[0].plain for i in range(table.row_count)]


async def test_five_hundred_migrations_worst_first():
    feed, app = await open_fleet(500)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
        table = app.screen.query_one(FleetTable)
        assert table.row_count == 500
        order = _ordered(table)
        rolling_back = sorted(d["id"] for d in pairs(500) if d["phase"] == "rolling_back")
        completed = sorted(d["id"] for d in pairs(500) if d["status"] == "completed")
        assert order[: len(rolling_back)] == rolling_back  # the ones being undone first
        assert order[-len(completed) :] == completed  # the ones that ended last
        assert "500 migrations" in str(app.screen.query_one("#fleet-title").render())


async def test_filter_then_enter_opens_that_migration_on_the_dashboard():
    feed, app = await open_fleet(500)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f", "slash", *"p42", "enter")
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        assert _ordered(table) == [f"rollout-p42{n}" for n in range(10)]
        target = _ordered(table)[0]
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert app.dashboard.selected_migration.id == target


async def test_escape_goes_back_and_nothing_changes_selection():
    feed, app = await open_fleet(20)
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
        cell = app.screen.query_one(FleetTable).get_row_at(0)[0].plain
        assert cell.startswith("[bold]x[/]") and "\x1b" not in cell and "\u202e" not in cell
        assert app.is_running
