"""The view state handed to widgets, and the rule for when a widget redraws.

A widget shows a few sections of the store (``revision`` keys) and perhaps
ages that move with the clock. ``StoreView.show`` compares what it drew last
with what it would draw now and calls ``draw`` only when something it shows
changed: a section's revision, the selected migration, or (for widgets that
show ages) the whole second of the clock. Revisions are unique across the
process, so ``!=`` is enough even after a replay seek swaps the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import msgspec
from rich.style import Style
from rich.text import Text

from migration_tui.feeds import ClockState
from migration_tui.frame import Frame
from migration_tui.model import Migration
from migration_tui.rules import Judgement, Rule
from migration_tui.safe_text import clean
from migration_tui.store import Store
from migration_tui.ui.colors import level_alias, mark, rich_style


class View(msgspec.Struct, frozen=True):
    """Everything a widget may read: the store, the clock, the selection and the frame.

    The frame (``migration_tui.frame``) holds the judgements of this repaint: built here from
    the store, ``now``, the rules and the selection unless one is passed in (a copy made with
    ``msgspec.structs.replace`` keeps its frame: change only what the frame does not read)."""

    store: Store
    now: float
    mode: str
    migration: Migration | None = None
    clock: ClockState = msgspec.field(default_factory=ClockState)
    poll_interval_s: float = 2.0
    theme_variables: Mapping[str, Any] = msgspec.field(default_factory=dict)
    theme_generation: int = 0
    #: The safety rules in force (``Settings.rules_file`` or the built-in ones); None = built-in.
    rules: tuple[Rule, ...] | None = None
    #: Standing warnings about how the data is fetched, e.g. TLS verification off.
    warnings: tuple[str, ...] = ()
    #: Which environment or controller this is ("prod", "127.0.0.1:8080"); "" when none.
    place: str = ""
    #: Nothing can be sent from this screen (``watch --read-only``, the wall).
    read_only: bool = False
    #: The Metrics tab's time window: an index into ``chart_data.WINDOWS`` (``w`` cycles it).
    chart_window: int = 1
    #: The judgements of this repaint, shared by every widget that reads them.
    frame: Frame = None  # type: ignore[assignment]  # built in __post_init__ when not given

    def __post_init__(self) -> None:
        if self.frame is None:
            frame = Frame(self.store, self.now, self.rules, self.poll_interval_s, self.migration_id)
            msgspec.structs.force_setattr(self, "frame", frame)

    @property
    def judgements(self) -> dict[str, list[Judgement]]:
        """Every migration's rules judged at ``now``, by migration id: once per frame, shared by
        the alerts pane, the fleet and the wall (a repaint builds one view and one frame)."""
        return self.frame.judgements

    @property
    def migration_id(self) -> str | None:
        return None if self.migration is None else self.migration.id

    def style(self, alias: str, bold: bool = False) -> Style:
        return rich_style(self.theme_variables, alias, bold)

    def badge(self, level: str, word: str, bold: bool = False) -> Text:
        """``✖ OPEN`` in the level's colour: symbol and word, never colour alone."""
        return Text(
            f"{mark(level)} {clean(word, 60)}", style=self.style(level_alias(level), bold), no_wrap=True, end=""
        )


def place_label(environment: str | None, controller: str | None) -> str:
    """What the status bar names: the configured environment, else the controller's host:port.

    Never the URL's userinfo, path or query (a token can hide in any of them).
    """
    if environment:
        return clean(environment, 24)
    if not controller:
        return ""
    try:
        parts = urlsplit(controller)
        host, port = parts.hostname, parts.port
    except ValueError:
        return ""
    if not host:
        return ""
    host = f"[{host}]" if ":" in host else host
    return clean(f"{host}:{port}" if port else host, 40)


class StoreView:
    """Mixin for widgets that render part of the store."""

    #: Store sections (``Store.revision`` keys) this widget shows.
    SECTIONS: ClassVar[tuple[str, ...]] = ()
    #: True if it shows ages or countdowns: redraw once per second of the clock.
    CLOCK: ClassVar[bool] = False
    #: True if what it shows depends on which migration is selected. (A change *to* a
    #: migration is a change of the "migrations" section: list it in SECTIONS.)
    SELECTION: ClassVar[bool] = True

    #: Redraw at most once per this many seconds of the feed's clock (counted from the clock's
    #: whole intervals, 10:00:01, 10:00:02, ..., not from the last draw: a replay repaints as each
    #: second turns, and 0.999 s after the last draw must not wait for the next) for data changes
    #: alone; a new selection, theme or a jump back in time still redraws at once.
    MIN_INTERVAL_S: ClassVar[float] = 0.0

    _drawn_key: tuple[Any, ...] | None = None
    _drawn_at: tuple[float, str | None, int] | None = None

    def view_key(self, view: View) -> tuple[Any, ...]:
        store = view.store
        return (
            tuple(store.revision[name] for name in self.SECTIONS),
            view.migration_id if self.SELECTION else None,
            int(view.now) if self.CLOCK else None,
            view.theme_generation,
        )

    def show(self, view: View) -> bool:
        """Redraw if something this widget shows changed; True if it did."""
        key = self.view_key(view)
        if key == self._drawn_key:
            return False
        drawn_at = self._drawn_at
        interval = self.MIN_INTERVAL_S
        if (
            interval
            and drawn_at is not None
            and drawn_at[0] <= view.now
            and view.now // interval == drawn_at[0] // interval
            and (view.migration_id, view.theme_generation) == drawn_at[1:]
        ):
            return False  # too soon: the first frame of the next interval draws it
        self._drawn_key = key
        self._drawn_at = (view.now, view.migration_id, view.theme_generation)
        self.draw(view)
        return True

    def forget(self) -> None:
        """Draw again next time whatever happens (theme or size changed)."""
        self._drawn_key = None
        self._drawn_at = None

    def draw(self, view: View) -> None:  # pragma: no cover - every widget overrides it
        raise NotImplementedError
