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
    real, real_fitting = Visual.to_strips, TextPane._fitting_strip

    def counting(widget, visual, *args, **kwargs):
        strips = real(widget, visual, *args, **kwargs)
        if isinstance(widget, ThreeLines):
            converted.extend(strip.text for strip in strips)
        return strips

    def counting_fitting(pane, *args):  # the short way for a line that fits
        strip = real_fitting(pane, *args)
        if strip is not None:
            converted.append(strip.text)
        return strip

    monkeypatch.setattr(text_pane.Visual, "to_strips", counting)
    monkeypatch.setattr(TextPane, "_fitting_strip", counting_fitting)
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


async def test_a_line_that_comes_back_is_not_converted_again(monkeypatch):
    """An age going 0s, 1s, 2s and back, a value seen before: the strip drawn for the same text
    and styles is used again, and the screen still shows each line as it is now."""
    converted: list[str] = []
    real_fitting = TextPane._fitting_strip

    def counting_fitting(pane, *args):
        strip = real_fitting(pane, *args)
        if strip is not None:
            converted.append(strip.text.rstrip())
        return strip

    monkeypatch.setattr(TextPane, "_fitting_strip", counting_fitting)
    async with ThreeHost().run_test() as pilot:
        pane = pilot.app.query_one(ThreeLines)
        for lines in (("a", "0s", "x"), ("a", "1s", "x"), ("a", "0s", "x"), ("a", "1s", "y"), ("a", "2s", "x")):
            pane.lines_to_show = lines
            pane.draw(None)
            await pilot.pause()
            shown = [strip.text.rstrip() for strip in (pane.render_line(y) for y in range(3))]
            assert shown == list(lines)
        # Each text converted once, the first time it was drawn (in either line).
        assert sorted(converted) == ["0s", "1s", "2s", "a", "x", "y"], converted


def assert_drawn_alike(pane: TextPane, line: Text, width: int) -> bool:
    """The short way's strip is Textual's, segment by segment (text, style with its offset meta,
    control); returns False where the short way declines (the line does not fit, has a tab...)."""
    fast = pane._fitting_strip(line, width, pane.visual_style)
    if fast is None:
        return False
    slow = pane._textual_strip(line, width, pane.visual_style)
    assert list(fast) == list(slow), (line, list(fast), list(slow))
    assert fast.cell_length == slow.cell_length
    return True


async def test_a_fitting_line_is_drawn_as_textual_draws_it():
    """Random lines: wide and narrow characters, trailing spaces, empty lines, overlapping spans
    of Rich styles and style strings, a style on the whole line. A line that does not fit, or
    has a tab, is left to Textual (None)."""
    import random

    from rich.style import Style
    from rich.text import Span

    rng = random.Random(20261206)
    styles = [
        "bold red",
        "dim",
        "reverse",
        "on #223344",
        "italic underline",
        "green on black",
        "bold",
        Style(color="#ff8800"),
        Style(bgcolor="blue", bold=True),
        Style(dim=True, color="red"),
        Style(strike=True),
        Style(color="bright_black"),
        Style(reverse=True, color="cyan"),
    ]
    alphabet = "ab c0.9:%-✔✖▁▂▃▅▇█界 é"
    from migration_tui.ui.widgets.text_pane import _segment_style

    _segment_style.cache_clear()
    async with Host().run_test() as pilot:
        pane = pilot.app.query_one(OneLine)
        drawn = declined = 0
        for _ in range(600):
            plain = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 46)))
            if rng.random() < 0.05:
                plain = plain[:5] + "\t" + plain[5:]
            spans = []
            for _ in range(rng.randint(0, 6)):
                start = rng.randint(0, len(plain))
                spans.append(Span(start, rng.randint(start, len(plain)), rng.choice(styles)))
            line = Text(plain, style=rng.choice(["", *styles]) if rng.random() < 0.3 else "", spans=spans)
            if assert_drawn_alike(pane, line, 40):
                drawn += 1
            else:
                declined += 1
                assert line.cell_len > 40 or "\t" in plain
        assert drawn > 300 and declined > 20
    # Segments in the same styles at the same columns came from the remembered styles, and were
    # still drawn as Textual draws them.
    assert _segment_style.cache_info().hits > 100


async def test_every_line_of_every_pane_is_drawn_as_textual_draws_it(make_app):
    """Every line of every pane of every tab, for each seed system, at 120x40 and 80x24."""
    from migration_tui.ui.screens.base import TABS
    from tests.ui.conftest import settle
    from tests.ui.fixtures.make_recordings import SCENARIOS

    for scenario in SCENARIOS:
        for size in ((120, 40), (80, 24)):
            app = make_app(scenario)
            async with app.run_test(size=size) as pilot:
                await settle(app, pilot, at=150)
                drawn = 0
                for tab_id, _title in TABS:
                    app.dashboard.action_show_tab(tab_id)
                    await pilot.pause()
                    for pane in app.screen.query(TextPane):
                        if pane.display and pane.size.width:
                            for line in pane.lines:
                                drawn += assert_drawn_alike(pane, line, pane.size.width)
                assert drawn > 20, (scenario, size)
