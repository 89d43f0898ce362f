"""Only changed cells reach the terminal (``ui/screen_diff.py``), and the terminal still shows
exactly what Textual drew: proved on hand-made updates, and on the real app in a pty read by a
VT100 emulator (pyte), against the same session drawn the way Textual draws it
(``MIGRATION_TUI_FULL_REPAINT=1``)."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyte
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip

from migration_tui.ui.screen_diff import ScreenDiff, cells_of
from migration_tui.ui.textual_compat import ChopsUpdate, LayoutUpdate
from tests.e2e.pty_screen import PtyScreen

ROOT = Path(__file__).resolve().parents[2]
RED, BLUE = Style(color="red"), Style(color="blue")
CONSOLE = Console(color_system="truecolor", force_terminal=True, width=20)


def shown(*updates: str, width: int = 20, height: int = 3) -> list[str]:
    """What a VT100 terminal shows after the given bytes."""
    screen = pyte.Screen(width, height)
    stream = pyte.Stream(screen)
    for text in updates:
        stream.feed(text)
    return screen.display


def full(*lines: list[Segment], width: int = 20) -> LayoutUpdate:
    return LayoutUpdate([[Strip(line)] for line in lines], Region(0, 0, width, len(lines)))


def chops(y: int, x: int, segments: list[Segment], height: int = 3, span: tuple[int, int] | None = None) -> ChopsUpdate:
    """One chop (a widget's part of line ``y`` from ``x``), dirty over ``span`` (default: all of it)."""
    strip = Strip(segments)
    lines: list[dict[int, Strip | None]] = [{} for _ in range(height)]
    ends: list[list[int]] = [[] for _ in range(height)]
    lines[y] = {x: strip}
    ends[y] = [x + strip.cell_length]
    x1, x2 = span or (x, x + strip.cell_length)
    return ChopsUpdate(lines, [(y, x1, x2)], ends)


def test_a_ticking_clock_writes_the_digit_that_changed_not_the_bar() -> None:
    diff = ScreenDiff()
    bar = [Segment(" REPLAY ", BLUE), Segment(" ▶ 0:00:05", RED)]
    assert diff.render(full(bar), CONSOLE, (20, 1)) is None  # a full update: Textual writes it whole
    before = ChopsUpdate([{0: Strip(bar)}], [(0, 0, 18)], [[18]]).render_segments(CONSOLE)
    tick = [Segment(" REPLAY ", BLUE), Segment(" ▶ 0:00:06", RED)]
    update = chops(0, 0, tick, height=1)
    ours = diff.render(update, CONSOLE, (20, 1))
    assert ours is not None and "0:00:06" not in ours and ours.count("6") == 1 and "REPLAY" not in ours
    assert len(ours) < len(update.render_segments(CONSOLE)) / 2
    # The terminal shows exactly what Textual's own bytes would have shown.
    assert shown(before, ours, height=1) == shown(before, update.render_segments(CONSOLE), height=1)
    assert diff.render(chops(0, 0, tick, height=1), CONSOLE, (20, 1)) == ""  # nothing changed: nothing written


def test_a_cell_whose_style_alone_changed_is_written() -> None:
    diff = ScreenDiff()
    diff.render(full([Segment("abc", RED)]), CONSOLE, (20, 1))
    ours = diff.render(
        chops(0, 0, [Segment("a", RED), Segment("b", BLUE), Segment("c", RED)], height=1), CONSOLE, (20, 1)
    )
    assert ours is not None and "b" in ours and "a" not in ours.replace("\x1b[", "")


def test_unknown_cells_are_always_written_and_a_new_size_forgets_the_screen() -> None:
    diff = ScreenDiff()
    ours = diff.render(chops(1, 2, [Segment("hello")]), CONSOLE, (20, 3))
    assert ours is not None and "hello" in ours  # never drawn before: written whole
    assert diff.render(chops(1, 2, [Segment("hello")]), CONSOLE, (20, 3)) == ""
    again = diff.render(chops(1, 2, [Segment("hello")]), CONSOLE, (21, 3))  # resized: the terminal may show anything
    assert again is not None and "hello" in again


def test_a_full_update_over_a_known_screen_writes_only_what_differs() -> None:
    """A new layout that looks the same (the other tabs mounted, hidden, after the first frame) was
    a second full frame of about 11 KB at 120x40; over cells the terminal is known to show, only the
    cells that differ are written, and the terminal shows what Textual's own bytes would show."""
    diff = ScreenDiff()
    first = full([Segment("hello world", RED)], [Segment("status 0:01", BLUE)], width=11)
    assert diff.render(first, CONSOLE, (11, 2)) is None  # unknown cells: Textual writes it whole
    assert diff.render(first, CONSOLE, (11, 2)) == ""  # the same again: nothing at all
    later = full([Segment("hello world", RED)], [Segment("status 0:02", BLUE)], width=11)
    ours = diff.render(later, CONSOLE, (11, 2))
    assert ours is not None and "2" in ours and "hello" not in ours and "status" not in ours
    textual = first.render_segments(CONSOLE)
    assert shown(textual, ours, width=11, height=2) == shown(
        textual, later.render_segments(CONSOLE), width=11, height=2
    )
    diff.reset(0, 0)  # back from a suspension: the terminal may show anything
    assert diff.render(later, CONSOLE, (11, 2)) is None


def test_wide_characters_are_never_split_and_combining_marks_stay_on_their_cell() -> None:
    assert [text for text, _ in cells_of(Strip([Segment("a界e\u0301")]))] == ["a", "界", "", "e\u0301"]
    diff = ScreenDiff()
    diff.render(full([Segment("a界b")]), CONSOLE, (20, 1))
    first = diff.render(chops(0, 0, [Segment("a界c")], height=1), CONSOLE, (20, 1))
    assert first is not None and "c" in first and "界" not in first
    ours = diff.render(chops(0, 0, [Segment("a世c")], height=1), CONSOLE, (20, 1))
    assert ours is not None and "世" in ours  # the wide character written whole, from its left half
    assert shown("a界b", first, ours) == shown("a世c")


def test_only_the_dirty_span_is_compared_not_the_widget_left_of_it() -> None:
    diff = ScreenDiff()
    diff.render(full([Segment("left part, then 1")]), CONSOLE, (20, 1))
    update = chops(0, 0, [Segment("LEFT PART, then 2")], height=1, span=(16, 17))
    ours = diff.render(update, CONSOLE, (20, 1))
    # Textual writes from the widget's left edge; only the dirty span is Textual's to change.
    assert ours is not None and "2" in ours and "LEFT" not in ours


def _session(env_extra: dict[str, str]) -> tuple[list[list[tuple[str, str, str, bool]]], int]:
    """The 2pc sample replayed at 100x in a 100x30 pty, keys pressed across tabs and the help
    screen, until it ends and the screen is still: the cells pyte shows, and the bytes written."""
    env = {**os.environ, "TERM": "xterm-256color", **env_extra}
    env.pop("NO_COLOR", None)
    argv = [sys.executable, "-m", "migration_tui", "replay", str(ROOT / "sample_data" / "2pc-commit.jsonl.gz")]
    term = PtyScreen([*argv, "--speed", "60", "--no-bell"], columns=100, rows=30, env=env)
    try:
        term.wait_for(lambda text: "Overview" in text, what="the dashboard")
        for key in (b"2", b"3", b"1", b"?"):
            term.read_for(0.6)
            term.press(key)
        term.read_for(0.6)
        term.press(b"\x1b")  # close help
        term.wait_for(lambda text: "0:04:12 / 0:04:12" in text, timeout=60, what="the end of the recording")
        for key in (b"2", b"1", b"4", b"1"):
            term.read_for(0.6)
            term.press(key)
        while term.read_for(7.0):  # past any notification's timeout, until nothing more is written
            pass
        cells = [
            [(char.data, char.fg, char.bg, char.bold) for char in (term.screen.buffer[y][x] for x in range(100))]
            for y in range(30)
        ]
        return cells, term.bytes_read
    finally:
        term.close()


def test_the_app_in_a_terminal_shows_the_same_cells_as_with_textuals_own_writes() -> None:
    # The two sessions at once, each in its own pty (reading one blocks in os.read, not the other).
    with ThreadPoolExecutor(2) as pool:
        ours_run = pool.submit(_session, {})
        textuals_run = pool.submit(_session, {"MIGRATION_TUI_FULL_REPAINT": "1"})
        (ours, ours_bytes), (textuals, textual_bytes) = ours_run.result(), textuals_run.result()
    differing = [
        (y, "".join(c[0] for c in ours[y]), "".join(c[0] for c in textuals[y]))
        for y in range(30)
        if ours[y] != textuals[y]
    ]
    assert not differing, differing
    assert "Overview" in "".join(c[0] for c in ours[1])
    assert ours_bytes < textual_bytes  # and it cost less
