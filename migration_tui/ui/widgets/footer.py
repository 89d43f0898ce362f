"""The key bar: the screen's keys on one line, as Textual's Footer shows them, in one widget.

Textual's Footer is a container of one widget per key, built after the screen's first
frame and rebuilt on every bindings signal. At startup that was a dozen widgets mounted,
styled twice each and laid out, three frames written in the first half second and the
first frame 0.1 s later than without it. ``KeyBar`` draws the same keys as one line of
text: the first frame has them, and it redraws only when the keys it shows change.
Mouse users keep what the Footer gave them: a click on a key presses it, and hovering
shows the key's tooltip.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any, ClassVar, NamedTuple

import msgspec
from rich.text import Text
from textual import events
from textual.binding import ActiveBinding, Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget

from migration_tui.ui.textual_compat import declared_keys


class ShownKey(NamedTuple):
    """One key the bar shows, with what of it the bar draws (compared to know when to redraw)."""

    key: str
    action: str
    description: str
    key_display: str | None
    group: Binding.Group | None
    enabled: bool
    tooltip: str


def keys_shown(screen: Screen[Any]) -> tuple[ShownKey, ...]:
    """What the bar draws from the screen's bindings: each shown key, its words and state."""
    return tuple(
        ShownKey(binding.key, binding.action, binding.description, binding.key_display, binding.group, enabled, tooltip)
        for _node, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show
    )


class DeclaredKeyOrder:
    """A screen mixin: its active keys in the order the screen declares them, whatever has focus.

    Textual orders them from the focused widget outwards, so a focused tab strip or table
    (which bind the arrows themselves) moved the arrow keys to the front of the footer, and
    the keys moved each time focus did.
    """

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings = super().active_bindings  # type: ignore[misc]
        order = {key: index for index, key in enumerate(declared_keys(self))}  # type: ignore[arg-type]
        last = len(order)
        return dict(sorted(bindings.items(), key=lambda item: order.get(item[0], last)))


class KeyHit(msgspec.Struct, frozen=True):
    """Where one key is drawn on the bar (cells ``start`` to ``end``), for clicks and tooltips."""

    start: int
    end: int
    key: str
    enabled: bool
    tooltip: str
    text: str


class KeyBar(Widget, can_focus=False):
    """The keys of the current screen, grouped as Textual's Footer groups them."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"keybar--key", "keybar--description", "keybar--edge"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyBar > .keybar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .keybar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyBar > .keybar--edge {
        color: $foreground 20%;
    }
    """

    #: Less space around each key (narrow terminals).
    compact: reactive[bool] = reactive(False)
    #: The command palette's key at the right end.
    show_command_palette: reactive[bool] = reactive(True)

    def __init__(self, *, compact: bool = False, show_command_palette: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(KeyBar.compact, compact)
        self.set_reactive(KeyBar.show_command_palette, show_command_palette)
        self._shown: tuple[ShownKey, ...] | None = None
        self.hits: list[KeyHit] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if keys_shown(screen) != self._shown:
            self.refresh()

    # --- drawing -------------------------------------------------------------------

    def render(self) -> Text:
        screen, app = self.screen, self.app
        bindings = screen.active_bindings
        self._shown = shown = keys_shown(screen)
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        description_style = self.get_component_rich_style("keybar--description", partial=True)
        compact = self.compact
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        hits: list[KeyHit] = []

        def key(shown_key: ShownKey, padded: bool) -> None:
            display = app.get_key_display(bindings[shown_key.key].binding)
            start = len(text)
            text.append(f" {display} " if padded else display, key_style)
            tooltip = shown_key.tooltip or shown_key.description
            hits.append(KeyHit(start, len(text), shown_key.key, shown_key.enabled, tooltip, display))
            if not shown_key.enabled:
                text.stylize("dim", start, len(text))

        # One entry per action (``+`` and ``=`` both mean faster: only the first is shown).
        by_action: dict[str, ShownKey] = {}
        for shown_key in shown:
            by_action.setdefault(shown_key.action, shown_key)
        for group, entries in groupby(by_action.values(), key=lambda shown_key: shown_key.group):
            members = list(entries)
            if group is not None and len(members) > 1:
                text.append(" " if not compact else "")
                for shown_key in members:
                    key(shown_key, padded=False)
                    text.append(" ")
                text.append(group.description, description_style)
                text.append(" ")
            else:
                for shown_key in members:
                    key(shown_key, padded=not compact)
                    words = shown_key.description
                    text.append(f" {words} " if compact else f"{words} ", description_style)
        self._palette(text, hits, bindings, key_style, description_style)
        self.hits = hits
        return text

    def _palette(
        self,
        text: Text,
        hits: list[KeyHit],
        bindings: dict[str, ActiveBinding],
        key_style: Any,
        description_style: Any,
    ) -> None:
        """The command palette's key, right-aligned after a thin rule, where it fits."""
        app = self.app
        palette = bindings.get(app.COMMAND_PALETTE_BINDING) if app.ENABLE_COMMAND_PALETTE else None
        if not self.show_command_palette or palette is None:
            return
        display = app.get_key_display(palette.binding)
        label = f"▏{display} {palette.binding.description} "
        start = self.size.width - len(label)
        if start <= len(text):
            return  # no room beside the keys
        text.append(" " * (start - len(text)))
        text.append("▏", self.get_component_rich_style("keybar--edge"))
        hits.append(
            KeyHit(
                start + 1,
                start + 1 + len(display),
                palette.binding.key,
                palette.enabled,
                palette.binding.tooltip or palette.binding.description,
                display,
            )
        )
        text.append(display, key_style)
        text.append(f" {palette.binding.description} ", description_style)

    # --- the mouse -------------------------------------------------------------------

    def hit_at(self, x: int) -> KeyHit | None:
        return next((hit for hit in self.hits if hit.start <= x < hit.end), None)

    def on_click(self, event: events.Click) -> None:
        hit = self.hit_at(event.x)
        if hit is None:
            return
        if hit.enabled:
            self.app.simulate_key(hit.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hit = self.hit_at(event.x)
        self.tooltip = hit.tooltip if hit is not None else None
