"""Textual's Footer, recomposed only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


def keys_shown(screen: Screen[Any]) -> tuple[tuple[Any, ...], ...]:
    """What a Footer draws from the screen's bindings: each shown key, its words and state."""
    return tuple(
        (binding.key, binding.action, binding.description, binding.key_display, binding.group, enabled, tooltip)
        for _node, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show
    )


class KeysFooter(Footer):
    """A Footer that ignores a bindings signal which leaves its keys as they were.

    Textual's Footer removes and mounts every key on each signal: a screen pushed, focus
    moved, an idle refresh. ``replay`` got three in its first half second, each a frame
    more to compute and write (and over SSH, to send); most changed nothing shown.
    """

    _shown: tuple[tuple[Any, ...], ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        shown = keys_shown(screen)
        if self._bindings_ready and shown == self._shown:
            return
        super().bindings_changed(screen)
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            self._shown = shown
