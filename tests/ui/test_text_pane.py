"""TextPane marks dirty only what changed on screen, including lines cut at the pane's edge."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region

from migration_tui.ui.widgets.text_pane import TextPane


class OneLine(TextPane):
    DEFAULT_CSS = "OneLine { width: 40; height: 1; }"

    text = ""

    def build(self, view, width: int) -> list[Text]:
        return [Text(self.text, no_wrap=True, overflow="ellipsis", end="")]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield OneLine()


async def draw(pane: OneLine, text: str, monkeypatch) -> list[Region]:
    regions: list[Region] = []
    real = TextPane.refresh

    def recording(self, *args, **kwargs):
        regions.extend(arg for arg in args if isinstance(arg, Region))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(TextPane, "refresh", recording)
    pane.text = text
    pane.draw(None)
    monkeypatch.setattr(TextPane, "refresh", real)
    return regions


async def test_a_change_in_a_short_line_marks_only_its_cells(monkeypatch):
    async with Host().run_test() as pilot:
        pane = pilot.app.query_one(OneLine)
        await draw(pane, "age 4s  fresh", monkeypatch)
        assert await draw(pane, "age 5s  fresh", monkeypatch) == [Region(4, 0, 1, 1)]


async def test_a_line_cut_at_the_edge_is_dirty_from_its_first_change_to_the_edge(monkeypatch):
    """The status bar showed 'contro0 / 0:04:12' at 80 columns: a long line became a shorter one
    with the same tail, and only the cells up to the end of the differing text were written."""
    async with Host().run_test() as pilot:
        pane = pilot.app.query_one(OneLine)
        tail = " / 0:04:12 x1 | controller fresh  prometheus fresh  host fresh"
        await draw(pane, "REPLAY >> to 1:40 indexed" + tail, monkeypatch)  # cut at 40 cells
        regions = await draw(pane, "REPLAY > 1:44" + tail, monkeypatch)  # the tail moves 12 cells left
        assert regions and regions[0].x == 8 and regions[0].right >= 40  # to the pane's edge


async def test_a_longer_line_with_the_same_tail_is_dirty_to_its_end(monkeypatch):
    """Pausing a replay at 80x24 showed '×2ntroller': the status line grew by 'PAUSED ', and its
    unchanged tail, now 7 cells further right, was not written there."""
    async with Host().run_test() as pilot:
        pane = pilot.app.query_one(OneLine)
        await draw(pane, "> 0:13 x1 | ctl ok", monkeypatch)
        regions = await draw(pane, "|| PAUSED 0:14 x2 | ctl ok", monkeypatch)
        assert regions and regions[0].x == 0 and regions[0].right == len("|| PAUSED 0:14 x2 | ctl ok")


def test_styled_characters_are_each_character_with_the_styles_on_it():
    """Built run by run between span edges; the same as asking each character which spans cover it."""
    import random

    from rich.text import Span

    from migration_tui.ui.widgets.text_pane import _styled_chars

    def per_character(text: Text) -> list[tuple[str, tuple[object, ...]]]:
        plain = text.plain
        return [
            (char, (text.style, *(span.style for span in text.spans if span.start <= index < span.end)))
            for index, char in enumerate(plain)
        ]

    rng = random.Random(1)
    for _ in range(2000):
        size = rng.randrange(0, 30)
        text = Text("".join(rng.choice("ab c✔") for _ in range(size)), style=rng.choice(["", "bold"]))
        for _ in range(rng.randrange(0, 6)):
            start = rng.randrange(0, size + 3)  # some spans run past the end, or start after it
            text.spans.append(Span(start, rng.randrange(start, size + 6), rng.choice(["red", "blue", "dim"])))
        assert _styled_chars(text) == per_character(text), text.spans


class ThreeLines(TextPane):
    DEFAULT_CSS = "ThreeLines { width: 30; height: 3; }"

    lines_to_show = ("one", "two", "three")

    def build(self, view, width: int) -> list[Text]:
        return [Text(line, end="") for line in self.lines_to_show]


class ThreeHost(App[None]):
    def compose(self) -> ComposeResult:
        yield ThreeLines()


async def test_only_a_changed_line_is_converted_again_and_the_screen_shows_every_line(monkeypatch):
    """Textual's own render_line converts every line of a widget whenever any part of it is
    refreshed; a TextPane converts only the line that changed, and still draws each line right."""
    from textual.visual import Visual

    from migration_tui.ui.widgets import text_pane

    converted: list[str] = []
    real = Visual.to_strips

    def counting(widget, visual, *args, **kwargs):
        strips = real(widget, visual, *args, **kwargs)
        if isinstance(widget, ThreeLines):
            converted.extend(strip.text for strip in strips)
        return strips

    monkeypatch.setattr(text_pane.Visual, "to_strips", counting)
    async with ThreeHost().run_test() as pilot:
        pane = pilot.app.query_one(ThreeLines)
        pane.draw(None)
        await pilot.pause()
        converted.clear()
        pane.lines_to_show = ("one", "TWO", "three")
        pane.draw(None)
        await pilot.pause()
        assert [text.rstrip() for text in converted] == ["TWO"]
        shown = [strip.text.rstrip() for strip in (pane.render_line(y) for y in range(3))]
        assert shown == ["one", "TWO", "three"]
        screen = pilot.app.export_screenshot()
        assert "TWO" in screen and "three" in screen and "two" not in screen
