"""Issue 14 item 7: number keys switch tabs with a participant filter set; the palette lists quit once."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList
from textual.widgets import Input, TabbedContent

from migration_tui.feeds import ReplayFeed
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.screens.wall import WallScreen
from tests.ui.conftest import settle

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


async def test_number_keys_switch_tabs_with_a_filter_set(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=100)
        tabs = app.dashboard.query_one(TabbedContent)
        await pilot.press("slash", *"eng", "enter")  # filter set, focus back on the table
        assert app.dashboard.query_one("#filter", Input).value == "eng"
        for key, tab in (("1", "overview"), ("4", "metrics"), ("2", "participants"), ("6", "log")):
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == tab, f"{key} showed {tabs.active}"
        await pilot.press("slash", "escape")  # Esc leaves the filter (still set)
        await pilot.press("3")
        await pilot.pause()
        assert tabs.active == "breakers"
        assert not isinstance(app.focused, Input)


async def palette_titles(app: MigrationApp, pilot) -> list[str]:
    await pilot.press("ctrl+p")
    for _ in range(40):
        await pilot.pause(0.05)
        commands = app.screen.query(CommandList)
        if commands and commands.first().option_count >= 5:
            break
    options = app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_wall_palette_lists_quit_once():
    feed = ReplayFeed(SAMPLES / "orderbook-rollout.jsonl.gz", playing=False)
    app = MigrationApp(feed, theme="high-contrast", dashboard=WallScreen.rotating(15))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        titles = await palette_titles(app, pilot)
        quits = [t for t in titles if "quit" in t.lower() or "leave migration-tui" in t.lower()]
        assert len(quits) == 1, quits


async def test_dashboard_palette_lists_quit_once(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        titles = await palette_titles(app, pilot)
        quits = [t for t in titles if "quit" in t.lower() or "leave migration-tui" in t.lower()]
        assert len(quits) == 1, quits
