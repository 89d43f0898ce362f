"""KeyBar: the screen's keys on one line, grouped, dimmed when disabled, and clickable."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from migration_tui.ui.widgets.footer import DeclaredKeyOrder, KeyBar

SEEK = Binding.Group("Seek")


class Keys(DeclaredKeyOrder, Screen[None]):
    BINDINGS = [
        Binding("x", "press('x')", "Ex", tooltip="Press x"),
        Binding("y", "press('y')", "Why"),
        Binding("left", "press('left')", "back", group=SEEK),
        Binding("right", "press('right')", "on", group=SEEK),
        Binding("z", "press('z')", "Hidden", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pressed: list[str] = []

    def compose(self) -> ComposeResult:
        yield KeyBar(compact=False, show_command_palette=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if parameters == ("y",) else True  # y: shown, but disabled

    def action_press(self, key: str) -> None:
        self.pressed.append(key)


class KeysApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.keys = Keys()
        self.bells = 0

    def get_default_screen(self) -> Screen[None]:
        return self.keys

    def bell(self) -> None:
        self.bells += 1


def line(bar: KeyBar) -> str:
    return "".join(segment.text for segment in bar.render_line(0)).rstrip()


async def test_keys_grouped_in_declared_order_compact_when_narrow_and_disabled_ones_dim():
    app = KeysApp()
    async with app.run_test(size=(60, 3)) as pilot:
        bar = app.keys.query_one(KeyBar)
        assert line(bar) == " x Ex  y Why  ← → Seek"  # not z: show=False
        disabled = next(hit for hit in bar.hits if hit.key == "y")
        assert not disabled.enabled
        assert "dim" in str(bar.render().get_style_at_offset(app.console, disabled.start))
        bar.compact = True
        await pilot.pause()
        assert line(bar) == "x Ex y Why ← → Seek"
        bar.show_command_palette = True  # at the right end, where it fits
        await pilot.pause()
        assert line(bar).endswith(" ▏^p palette") and len(line(bar)) == 59
        assert any(hit.key == "ctrl+p" for hit in bar.hits)
        await pilot.resize_terminal(24, 3)  # no room beside the keys: left out, not drawn over them
        await pilot.pause()
        assert "palette" not in line(bar) and line(bar).startswith("x Ex y Why")


async def test_a_click_presses_an_enabled_key_and_rings_for_a_disabled_one():
    app = KeysApp()
    async with app.run_test(size=(60, 3)) as pilot:
        bar = app.keys.query_one(KeyBar)
        hits = {hit.key: hit for hit in bar.hits}
        await pilot.click(KeyBar, offset=(hits["x"].start, 0))
        await pilot.click(KeyBar, offset=(hits["right"].start, 0))
        await pilot.click(KeyBar, offset=(hits["y"].start, 0))
        await pilot.click(KeyBar, offset=(hits["right"].end + 1, 0))  # the group's word: not a key
        await pilot.pause()
        assert app.keys.pressed == ["x", "right"]
        assert app.bells == 1
        await pilot.hover(KeyBar, offset=(hits["x"].start, 0))
        assert bar.tooltip == "Press x"
        await pilot.hover(KeyBar, offset=(hits["right"].start, 0))
        assert bar.tooltip == "on"  # no tooltip of its own: its description
