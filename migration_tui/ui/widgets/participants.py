"""The participants of the selected migration: id, type, vote, health, heartbeat age.

Built for 10,000 rows: a change in the store touches only the rows whose
``Participant`` object changed (the store replaces an object when it
changes, so identity is enough, and says which ids changed, so the other
rows are not even looked at), and only rows on screen are written to the
DataTable: the once-a-second ages and any changed row. A row that changed out
of view is written when it scrolls into view.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.geometry import Region
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnDoesNotExist, ColumnKey, RowDoesNotExist, RowKey

from migration_tui.model import Participant
from migration_tui.safe_text import age, clean
from migration_tui.ui import states
from migration_tui.ui.colors import level_alias, mark
from migration_tui.ui.textual_compat import write_cell_keeping_layout
from migration_tui.ui.view import StoreView, View
from migration_tui.ui.widgets.table_sync import Cell, TableRows
from migration_tui.ui.widgets.text_pane import TextPane

COLUMNS = ("id", "type", "vote", "health", "heartbeat")
#: New rows added per frame: a list of 10,000 fills in a few frames instead of freezing the screen.
FILL_BATCH = 1000
#: Fixed widths: measuring 10,000 cells to size the columns would cost more than the rows.
WIDTHS = {"id": 20, "type": 12, "vote": 10, "health": 12, "heartbeat": 13}


def _row(participant: Participant, now: float, ended: bool = False) -> tuple[Cell, ...]:
    vote_level, vote_word = states.vote(participant.vote)
    health_level, health_word = states.participant_health(participant.healthy, "healthy" in participant.invalid)
    return (
        (participant.id, ""),
        (participant.type, ""),
        (f"{mark(vote_level)} {vote_word}", vote_level),
        (f"{mark(health_level)} {health_word}", health_level),
        _age_cell(participant, now, ended),
    )


def _age_cell(participant: Participant, now: float, ended: bool = False) -> Cell:
    """The heartbeat age, late and lost past its limits; once the migration ended, history (muted)."""
    if participant.last_heartbeat is None:
        word = "invalid" if "last_heartbeat" in participant.invalid else "—"
        return (word, "muted")
    age_s = participant.heartbeat_age_s(now)
    level = states.heartbeat(age_s, ended)
    suffix = {"warn": " ▲ late", "bad": " ✖ LOST"}.get(level, "")
    return (f"{age(age_s)}{suffix}", level)


def matches(participant: Participant, needle: str) -> bool:
    """Case-insensitive substring match on id, type, vote and health."""
    if not needle:
        return True
    health = "healthy" if participant.healthy else "unhealthy" if participant.healthy is False else ""
    haystack = f"{participant.id}\n{participant.type}\n{participant.vote}\n{health}".lower()
    return needle.lower() in haystack


class ParticipantsTable(StoreView, DataTable):
    """A DataTable kept in step with the store, cell by cell."""

    SECTIONS = ("participants",)
    CLOCK = True

    DEFAULT_CSS = """
    ParticipantsTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self.filter_text = ""
        self._rows = TableRows(self, COLUMNS)
        self._shown: dict[str, Participant] = {}
        self._shown_for: str | None = None
        self._drawn_filter = ""
        self._drawn_revision: int | None = None
        self._drawn_store: object = None
        self._last_view: View | None = None
        self._theme_generation: int | None = None
        self._filling = False
        #: The migration shown has ended: its participants' heartbeats are history, not alarms.
        self._ended = False
        self._ages_second: int | None = None

    def update_cell(
        self, row_key: RowKey | str, column_key: ColumnKey | str, value: object, *, update_width: bool = False
    ) -> None:
        """``DataTable.update_cell`` without throwing away the row order and line offsets.

        Textual's makes the next frame rebuild the row order and line offsets over all rows
        (about 20 ms for 10,000) and repaint every visible row. A new cell value moves no
        row: ``textual_compat.write_cell_keeping_layout`` forgets only the rendered cells and
        lines, and the one row is repainted. The tests render a cell after it.
        """
        if update_width:
            super().update_cell(row_key, column_key, value, update_width=True)
            return
        row_key = RowKey(row_key) if isinstance(row_key, str) else row_key
        column_key = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        try:
            row = self.get_row_index(row_key)
            self.get_column_index(column_key)
        except (RowDoesNotExist, ColumnDoesNotExist):
            raise CellDoesNotExist(f"No cell exists for row_key={row_key!r}, column_key={column_key!r}.") from None
        write_cell_keeping_layout(self, row_key, column_key, value)
        # Every row is one line high; a row out of view is drawn when it scrolls in.
        y = self.header_height + row - int(self.scroll_offset.y)
        if self.header_height <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column, key=column, width=WIDTHS[column])

    def view_key(self, view: View) -> tuple[object, ...]:
        return (*super().view_key(view), self.filter_text)

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        if self._last_view is not None:
            self.show(self._last_view)

    @property
    def shown_count(self) -> int:
        """How many participants the table shows (after the filter)."""
        return len(self._shown)

    @property
    def shown_ids(self) -> list[str]:
        """Participant ids in the order the table shows them."""
        return list(self._rows.order)

    def draw(self, view: View) -> None:
        self._last_view = view
        self._ended = view.migration is not None and view.migration.is_terminal
        if self._theme_generation != view.theme_generation:
            self._theme_generation = view.theme_generation
            self._rows.set_styler(lambda cell: _styled(view, cell))
            self._rows.restyle()
        migration_id = view.migration_id
        members = view.store.participants.get(migration_id, {}) if migration_id else {}
        revision = view.store.revision["participants"]
        if migration_id != self._shown_for or self.filter_text != self._drawn_filter:
            self._rows.clear()
            self._shown = {}
            self._shown_for = migration_id
            self._drawn_filter = self.filter_text
            self._drawn_revision = None
        if revision != self._drawn_revision or self._filling:
            ids = None
            if migration_id and not self._filling and self._drawn_revision is not None:
                if view.store is self._drawn_store:
                    ids = view.store.participants_changed_since(migration_id, self._drawn_revision)
            self._drawn_revision = revision
            self._drawn_store = view.store
            self._filling = not self._apply_changes(members, view.now, ids)
            if self._filling:
                self.call_after_refresh(self._fill_more)
        if int(view.now) != self._ages_second:
            # Once per second of the clock, all together: each changed cell repaints the whole
            # visible table, and rows whose ages tick at different moments would repaint it
            # several times a second. A row that changed meanwhile was redrawn with its age.
            self._ages_second = int(view.now)
            self._refresh_visible_ages(view)

    @property
    def is_filling(self) -> bool:
        """True while a long list is still being added, a batch per frame."""
        return self._filling

    def _fill_more(self) -> None:
        if self._filling and self._last_view is not None:
            self.draw(self._last_view)

    def _apply_changes(self, members: dict[str, Participant], now: float, ids: list[str] | None) -> bool:
        """Bring changed rows up to date; add at most FILL_BATCH new ones. True when complete.

        ``ids``: the participants that changed since the last call, or None to compare them all."""
        shown = self._shown
        needle = self.filter_text
        if ids is None:
            keys: Iterable[str] = members
            gone = [key for key in shown if key not in members]
        else:
            keys = ids
            gone = [key for key in ids if key in shown and key not in members]
        if gone and len(gone) > len(shown) // 2:
            self._rows.clear()  # mostly gone: starting again beats removing one by one
            shown.clear()
        else:
            for key in gone:
                del shown[key]
                self._rows.remove(key)
        changed: list[tuple[str, tuple[Cell, ...]]] = []
        added = 0
        complete = True
        for key in keys:
            participant = members.get(key)
            current = shown.get(key)
            if participant is None or current is participant:
                continue
            if not matches(participant, needle):
                if current is not None:
                    del shown[key]
                    self._rows.remove(key)
                continue
            if current is None:
                if added >= FILL_BATCH:
                    complete = False
                    continue
                added += 1
            shown[key] = participant
            changed.append((key, _row(participant, now, self._ended)))
        self._rows.update(changed, visible=set(self._window()))
        return complete

    def _window(self) -> list[str]:
        """Keys of the rows on screen (and a row either side)."""
        first = max(0, int(self.scroll_offset.y) - 1)
        return self._rows.order[first : first + max(1, self.size.height) + 2]

    def _refresh_visible_ages(self, view: View) -> None:
        now = view.now
        shown = self._shown
        # Also writes the other cells of a row that changed while out of view.
        self._rows.update_column(
            "heartbeat", ((key, _age_cell(shown[key], now, self._ended)) for key in self._window() if key in shown)
        )

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._last_view is not None and int(old_value) != int(new_value):
            self._refresh_visible_ages(self._last_view)


def _styled(view: View, cell: Cell) -> Text:
    text, level = cell
    style = view.style(level_alias(level)) if level else ""
    return Text(clean(text, 32), style=style, no_wrap=True, end="", overflow="ellipsis")


class ParticipantsNote(TextPane):
    """Why the participants table is empty, in one line above it; no lines (no height) when it is not.

    Drawn after the table in each refresh (it follows it in the DOM and is docked above it), so
    it reads what the table shows now."""

    SECTIONS = ("participants",)

    DEFAULT_CSS = """
    ParticipantsNote {
        dock: top;
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, table: ParticipantsTable, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.table = table

    def view_key(self, view: View) -> tuple[object, ...]:
        return (*super().view_key(view), self.table.filter_text, self.table.shown_count, self.table.is_filling)

    def build(self, view: View, width: int) -> list[Text]:
        migration_id = view.migration_id
        if migration_id is None or self.table.shown_count or self.table.is_filling:
            return []
        muted = view.style("state-muted")
        if not view.store.participants.get(migration_id):
            return [Text("no participants: this migration's controller reports none", style=muted, end="")]
        line = Text("no participant matches “", style=muted, end="")
        line.append(clean(self.table.filter_text, 60))
        line.append("” (/ to change the filter)", style=muted)
        return [line]
