"""FleetList: every migration as one line, worst first, with a cursor row; drawn as a TextPane.

Seed 001 runs one migration per trading pair, so the fleet can be hundreds of
rows that all change every second. A DataTable repaints every visible row
when any cell changes; this list formats only the rows on screen and
TextPane writes only the cells that changed. Ranking needs every migration's
worst rule, so the rules are judged for all of them, once per repaint by the
frame (``migration_tui.frame``, shared with the alerts pane and the wall), which
also ranks them; a series rule whose newest sample is within its
threshold is judged ok without walking back through its series.

Columns that do not fit leave, least useful first (system, then pair), so
"needs a look" always has room, at 80 columns too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType

from migration_tui.model import Migration
from migration_tui.safe_text import clean, number
from migration_tui.ui import states
from migration_tui.ui.colors import level_alias, mark
from migration_tui.ui.view import View
from migration_tui.ui.widgets.alerts import needs_a_look
from migration_tui.ui.widgets.text_pane import TextPane

#: (text as it came, level): cleaned and styled only when its row is on screen.
Cell = tuple[str, str]

#: A row: the cursor mark, then the columns that fit, then "needs a look" taking the rest.
CURSOR = "▶ "
LOOK_TITLE = "needs a look"
LOOK_MIN = 28
#: The widest the migration column grows when there is room.
ID_MAX = 32


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    #: When the pane is narrow, the column with the lowest ``keep`` leaves first.
    keep: float
    right: bool = False


COLUMNS = (
    Column("migration", 16, 5),
    Column("progress", 8, 4, right=True),
    Column("status", 13, 3),
    Column("phase", 9, 2),
    Column("pair", 9, 1),
    Column("system", 17, 0),
)
#: Shown when any migration belongs to a named controller; the migration column then shows the
#: id as that controller knows it. It leaves after the status, before the progress.
CONTROLLER_COLUMN = Column("controller", 10, 3.5)


#: The widest the controller column grows when there is room.
CONTROLLER_MAX = 20


def layout(
    width: int, longest_id: int = 0, controllers: bool = False, longest_controller: int = 0
) -> tuple[Column, ...]:
    """The columns shown at ``width``: all that leave "needs a look" at least LOOK_MIN cells.

    The migration column grows to ``longest_id`` (up to ID_MAX) with up to half the room to spare.
    With ``controllers`` (any migration belongs to a named controller) a controller column follows it,
    growing to ``longest_controller`` (up to CONTROLLER_MAX) with what room is then left."""
    # The migration column gives a cell to the controller's, so both fit beside the status at 80 columns.
    shown = [replace(COLUMNS[0], width=15), CONTROLLER_COLUMN, *COLUMNS[1:]] if controllers else list(COLUMNS)
    while shown and len(CURSOR) + sum(c.width + 1 for c in shown) + LOOK_MIN > width:
        shown.remove(min(shown, key=lambda c: c.keep))
    spare = width - len(CURSOR) - sum(c.width + 1 for c in shown) - LOOK_MIN
    if shown and shown[0].title == "migration" and longest_id > shown[0].width and spare > 1:
        grown = min(longest_id, ID_MAX, shown[0].width + spare // 2)
        spare -= grown - shown[0].width
        shown[0] = replace(shown[0], width=grown)
    for index, column in enumerate(shown):
        if column.title == CONTROLLER_COLUMN.title and longest_controller > column.width and spare > 1:
            shown[index] = replace(column, width=min(longest_controller, CONTROLLER_MAX, column.width + spare - 1))
    return tuple(shown)


def judged(view: View, migration: Migration) -> tuple[int, Cell]:
    """(rank, what needs a look): 0 abort or rollback under way, 1 firing, 2 pending, 3 running, 4 ended."""
    rank, text, level = needs_a_look(view, migration)
    return rank, (text, level)


def matches(migration: Migration, needle: str) -> bool:
    haystack = f"{migration.id}\n{migration.system}\n{migration.pair}\n{migration.status}\n{migration.phase}"
    return needle.lower() in haystack.lower()


def _cell(text: str, width: int, style: Style | str = "", right: bool = False) -> Text:
    """``text`` cleaned and fitted to ``width`` cells (an ellipsis when cut), padded to line up."""
    cell = Text(clean(text, width + 1), style=style, no_wrap=True, end="")
    cell.truncate(width, overflow="ellipsis")
    if right:
        cell.pad_left(width - cell.cell_len)
    else:
        cell.pad_right(width - cell.cell_len)
    return cell


class FleetList(TextPane):
    """The fleet, worst first; the cursor stays on its migration while the order moves."""

    SECTIONS = ("migrations", "series", "participants", "breakers")
    CLOCK = True  # pending rules count down
    SELECTION = False
    MIN_INTERVAL_S = 1.0

    can_focus = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False, id="fleet-up"),
        Binding("down", "move(1)", "Down", show=False, id="fleet-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="fleet-page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="fleet-page-down"),
        Binding("home", "move_to(0)", "First", show=False, id="fleet-first"),
        Binding("end", "move_to(-1)", "Last", show=False, id="fleet-last"),
    ]

    DEFAULT_CSS = """
    FleetList {
        height: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.needle = ""
        #: Migration ids in the order shown (worst first, filtered).
        self.order: list[str] = []
        self.cursor = 0
        self.top = 0
        self._looks: dict[str, Cell] = {}
        self._cursor_id: str | None = None
        self._longest_id = 0
        #: True while any migration shown belongs to a named controller (the controller column shows).
        self._controllers = False
        self._longest_controller = 0
        self._controller_column = False

    @property
    def current_id(self) -> str | None:
        """The migration under the cursor."""
        return self.order[self.cursor] if self.order else None

    @property
    def page(self) -> int:
        """Rows on screen (the first line is the header)."""
        return max(1, self.size.height - 1)

    # --- data ----------------------------------------------------------------------

    def draw(self, view: View) -> None:
        migrations = view.store.migrations
        # The frame ranks the fleet once per repaint; this list only filters and draws it.
        self.order = [key for key in view.frame.ranking if not self.needle or matches(migrations[key], self.needle)]
        self._controllers = any(migrations[key].controller for key in self.order)
        self._longest_controller = max((len(migrations[key].controller or "") for key in self.order), default=0)
        if self._controllers:
            self._longest_id = max((len(migrations[key].remote_id) for key in self.order), default=0)
        else:
            self._longest_id = max((len(key) for key in self.order), default=0)
        # What needs a look, worded for the rows on screen only, from this frame (see ``_row``).
        self._looks = {}
        with contextlib.suppress(ValueError):  # not listed (filtered out, gone): the cursor keeps its place
            self.cursor = self.order.index(self._cursor_id)  # type: ignore[arg-type]
        self._place_cursor(self.cursor)
        super().draw(view)

    def build(self, view: View, width: int) -> list[Text]:
        columns = layout(width, self._longest_id, self._controllers, self._longest_controller)
        self._controller_column = any(column.title == CONTROLLER_COLUMN.title for column in columns)
        self._scroll_to_cursor()
        lines = [self._header(view, columns, width)]
        migrations = view.store.migrations
        for index in range(self.top, min(len(self.order), self.top + self.page)):
            key = self.order[index]
            if key in migrations:
                lines.append(self._row(view, migrations[key], columns, width, index == self.cursor))
        if not self.order:
            words = "no migration matches the filter" if self.needle else "waiting for the first migration…"
            lines.append(Text(words, style=view.style("state-muted"), end=""))
        return lines

    def _header(self, view: View, columns: Sequence[Column], width: int) -> Text:
        line = Text(" " * len(CURSOR), style=view.style("state-muted", bold=True), no_wrap=True, end="")
        for column in columns:
            line.append_text(_cell(column.title, column.width, right=column.right))
            line.append(" ")
        line.append(LOOK_TITLE)
        line.truncate(width)
        return line

    def _row(self, view: View, migration: Migration, columns: Sequence[Column], width: int, current: bool) -> Text:
        line = Text(no_wrap=True, end="", style=Style(reverse=True, bold=True) if current else "")
        line.append(CURSOR if current else " " * len(CURSOR))
        for column in columns:
            text, level = self._cell_of(migration, column.title)
            line.append_text(_cell(text, column.width, view.style(level_alias(level)) if level else "", column.right))
            line.append(" ")
        look = self._looks.get(migration.id)
        if look is None:  # worded once per frame; a cursor move redraws from the same frame
            look = self._looks[migration.id] = judged(view, migration)[1]
        text, level = look
        line.append_text(_cell(text, max(0, width - line.cell_len), view.style(level_alias(level))))
        return line

    def _cell_of(self, migration: Migration, column: str) -> Cell:
        if column == "migration":
            # With a controller column, the id as the controller knows it (the column says which).
            return (migration.remote_id if self._controller_column else migration.id), ""
        if column == "controller":
            return migration.controller or "—", ""
        if column == "progress":
            return number(migration.progress, "%", 1, invalid="progress" in migration.invalid), ""
        if column == "status":
            level, word = states.status(migration.status)
            return f"{mark(level)} {word}", level
        if column == "phase":
            return migration.phase, ""
        if column == "pair":
            return migration.pair or "—", ""
        return migration.system, ""

    # --- the cursor ----------------------------------------------------------------

    def _place_cursor(self, index: int) -> None:
        self.cursor = max(0, min(index, len(self.order) - 1))
        self._cursor_id = self.current_id

    def _scroll_to_cursor(self) -> None:
        page = self.page
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + page:
            self.top = self.cursor - page + 1
        self.top = max(0, min(self.top, len(self.order) - page))

    def _moved(self, index: int) -> None:
        self._place_cursor(index)
        if self._view is not None:
            super().draw(self._view)  # the rows as ranked last: only the cursor moved

    def action_move(self, step: int) -> None:
        self._moved(self.cursor + step)

    def action_page(self, step: int) -> None:
        self.top = max(0, self.top + step * self.page)
        self._moved(self.cursor + step * self.page)

    def action_move_to(self, index: int) -> None:
        self._moved(index if index >= 0 else len(self.order) - 1)

    def on_resize(self, event: events.Resize) -> None:
        # How many rows fit depends on the height too (the filter box takes three lines):
        # draw the window again so the cursor row stays on screen.
        if self._view is not None:
            super().draw(self._view)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._moved(self.top + event.y - 1)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.action_move(3)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.action_move(-3)
