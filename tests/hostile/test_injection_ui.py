"""Hostile strings in every field of a recording, driven through the real app with Textual's pilot.

What is checked is what the compositor would send to the terminal (every
cell of the screen, from ``render_strips``), not a widget's inputs: each
hostile string is shown literally or as the visible placeholder, no control,
bidi or zero-width character is on screen, and neither a key nor a click on
text that looks like an action tag triggers anything.
"""

from __future__ import annotations

import re
from pathlib import Path

from migration_tui.feeds import ReplayFeed
from migration_tui.safe_text import PLACEHOLDER
from migration_tui.ui.app import MigrationApp
from tests.hostile.payloads import FORBIDDEN_CHARS, PAYLOADS

TABS = ("1", "2", "3", "4", "5", "6")


class WatchedApp(MigrationApp):
    """The real app, counting the actions a hostile ``[@click=...]`` tag would call."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.triggered: list[str] = []

    async def action_quit(self) -> None:
        self.triggered.append("quit")
        await super().action_quit()

    def action_bell(self) -> None:
        self.triggered.append("bell")
        super().action_bell()


def screen_lines(app: MigrationApp) -> list[str]:
    """Every row of the screen as the terminal would receive its characters."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


async def open_hostile(path: Path, size: tuple[int, int] = (120, 40)) -> tuple[WatchedApp, object]:
    app = WatchedApp(ReplayFeed(path, playing=False))
    return app, app.run_test(size=size)


async def settle(app: MigrationApp, pilot, at: float = 30.0) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.feed.seek_to(at)
    app.dashboard.refresh_view()
    await pilot.pause()
    await pilot.pause()


def assert_clean(lines: list[str], where: str) -> None:
    for row, line in enumerate(lines):
        bad = [hex(ord(ch)) for ch in line if ch in FORBIDDEN_CHARS]
        assert not bad, f"{where}, row {row}: {bad} in {line!r}"


async def test_every_tab_of_every_hostile_migration_shows_text_literally(hostile_recording: Path) -> None:
    app = WatchedApp(ReplayFeed(hostile_recording, playing=False))
    seen: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        count = len(app.feed.store.migrations)
        assert count >= len(PAYLOADS) - 2  # every payload was an id (two collapse to the same capped id or "?")
        for step in range(count):
            for tab in TABS if step < 2 else ("1",):
                await pilot.press(tab)
                await pilot.pause()
                lines = screen_lines(app)
                assert_clean(lines, f"migration {step}, tab {tab}")
                seen.extend(lines)
            await pilot.press("right_square_bracket")
            await pilot.pause()
        assert app.is_running and app.triggered == []
    text = "\n".join(seen)
    for name in ("markup_bold", "markup_close", "markup_variable", "markup_click", "markup_link", "html"):
        assert PAYLOADS[name] in text, name
    assert "[reverse blink]rb[/]" in text
    assert PLACEHOLDER in text
    assert "gnp.exe" in text and "\u202e" not in text  # the override is replaced, its text kept
    assert "Z" * 200 not in text and "界" * 100 not in text
    assert "ringring" not in text and "ring" in text  # BEL replaced, not silently dropped


async def test_clicking_action_tags_and_links_triggers_nothing(hostile_recording: Path) -> None:
    app = WatchedApp(ReplayFeed(hostile_recording, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        clicked = 0
        for tab in TABS:
            await pilot.press(tab)
            await pilot.pause()
            targets = {
                (match.end(), row)  # the visible word of the tag, where a link would be
                for row, line in enumerate(screen_lines(app))
                for match in re.finditer(r"\[@click=app\.(?:quit|bell)\]|\[on_click=app\.quit\]|\[link=[^\]]*\]", line)
            }
            for offset in sorted(targets)[:8]:
                await pilot.click(offset=offset)
                clicked += 1
        assert clicked >= 3, "the hostile action tags were on screen to be clicked"
        await pilot.pause()
        assert app.is_running
        assert app.triggered == []
        assert app.return_code is None


async def test_keys_on_every_focusable_widget_trigger_nothing(hostile_recording: Path) -> None:
    app = WatchedApp(ReplayFeed(hostile_recording, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        for tab in TABS:
            await pilot.press(tab)
            for key in ("tab", "enter", "down", "enter", "space", "shift+tab", "enter"):
                await pilot.press(key)
            await pilot.pause()
            assert_clean(screen_lines(app), f"tab {tab} after keys")
        assert app.is_running and app.triggered == []


async def test_an_invalid_number_is_said_to_be_invalid_not_shown(hostile_recording: Path) -> None:
    """The last migration event sends progress 150 %: the screen says invalid and never prints 150."""
    app = WatchedApp(ReplayFeed(hostile_recording, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        text = "\n".join(screen_lines(app))
        assert "invalid" in text
        assert "150" not in text


async def test_resize_to_20x5_and_back_keeps_running_and_clean(hostile_recording: Path) -> None:
    app = WatchedApp(ReplayFeed(hostile_recording, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        for size in ((20, 5), (1, 1), (80, 24), (20, 5), (120, 40)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.pause()
            lines = screen_lines(app)
            assert len(lines) == size[1]
            assert_clean(lines, f"at {size}")
        assert app.is_running
        text = "\n".join(screen_lines(app))
        assert "REPLAY" in text  # back at full size, the status bar is there again
