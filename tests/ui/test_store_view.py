"""StoreView.show: a widget redrawn at most once a second is redrawn in every second of the clock."""

from __future__ import annotations

from migration_tui.store import Store
from migration_tui.ui.view import StoreView, View


class Counting(StoreView):
    """Records the clock of each draw; what it shows changes at every call (a new series revision)."""

    SECTIONS = ("series",)
    MIN_INTERVAL_S = 1.0

    def __init__(self) -> None:
        self.drawn: list[float] = []

    def draw(self, view: View) -> None:
        self.drawn.append(view.now)


def test_at_most_once_a_second_means_once_in_each_second_of_the_clock():
    """A replay repaints as each second of its clock turns (a hundredth after, give or take the timer):
    two repaints can be 0.995 s apart, and the second must draw, or the screen skips a second (an age
    going 12s, 14s). Within one second nothing new is drawn; a jump back in time draws at once."""
    store = Store()
    widget = Counting()
    for revision, now in enumerate([10.01, 11.005, 11.5, 11.999, 12.0, 12.9, 13.02, 9.0], start=1):
        store.revision["series"] = revision  # new data at every repaint
        widget.show(View(store=store, now=now, mode="REPLAY"))
    assert widget.drawn == [10.01, 11.005, 12.0, 13.02, 9.0]


def test_a_new_theme_draws_within_the_second():
    store = Store()
    widget = Counting()
    store.revision["series"] = 1
    widget.show(View(store=store, now=10.2, mode="REPLAY"))
    store.revision["series"] = 2
    widget.show(View(store=store, now=10.4, mode="REPLAY", theme_generation=1))
    assert widget.drawn == [10.2, 10.4]
