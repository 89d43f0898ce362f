"""Hostile text from a recording is shown literally and triggers nothing; 10,000 participants stay correct."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text

from migration_tui.events import Event
from migration_tui.feeds import ReplayFeed
from migration_tui.recording import RecordingWriter
from migration_tui.sources.deltas import ParticipantsDiffer
from migration_tui.store import MAX_PARTICIPANTS
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.widgets import (
    BreakersTable,
    LogPane,
    MigrationPane,
    MigrationPicker,
    ParticipantsTable,
    ProgressLine,
    StatusBar,
)
from tests.ui.conftest import settle

FORBIDDEN = ("\x1b", "\x07", "\u202e", "\u2066", "\u200b", "\x9b")


def screen_text(app: MigrationApp) -> str:
    """Every character the terminal would receive for the current screen, as one string."""
    return app.export_screenshot()


async def test_hostile_text_is_literal_and_inert(make_app):
    app = make_app("hostile")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=15)
        head = app.dashboard.query_one(MigrationPane).render().plain
        assert "[@click=app.quit]q[/]" in head  # the id, literally
        assert "[bold red]x[/]" in head  # the pair, literally
        assert "invalid" in app.dashboard.query_one(ProgressLine).render().plain  # progress 150 % cannot be true
        picker = app.dashboard.query_one(MigrationPicker).render().plain
        assert "[@click=app.quit]q[/]" in picker
        status = app.dashboard.query_one(StatusBar).render().plain
        assert "ERROR" in status and "[bold]boom[/]" in status
        for text in (head, picker, status):
            assert not any(ch in text for ch in FORBIDDEN)
        # Clicking the text that looks like a link does nothing.
        await pilot.click(MigrationPicker, offset=(10, 0))
        await pilot.click(MigrationPane, offset=(8, 0))
        await pilot.pause()
        assert app.is_running
        for key in ("2", "3", "6"):
            await pilot.press(key)
            await pilot.pause()
        table = app.dashboard.query_one(ParticipantsTable)
        assert "[@click=app.quit]q[/]" in table._rows.cells
        breakers = app.dashboard.query_one(BreakersTable)
        assert "[bold red]x[/]" in breakers._rows.cells
        log = app.dashboard.query_one("#log-pane", LogPane)
        assert log.lines, "the log shows the hostile messages"
        svg = screen_text(app)
        for bad in FORBIDDEN:
            assert bad not in svg
        assert "Z" * 200 not in svg  # 10k-character strings are capped
        await pilot.click(LogPane, offset=(20, 2))
        await pilot.pause()
        assert app.is_running


async def test_hostile_cells_render_without_markup(make_app):
    app = make_app("hostile")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=15)
        await pilot.press("2")
        await pilot.pause()
        table = app.dashboard.query_one(ParticipantsTable)
        cell = table.get_cell("[bold red]x[/]", "id")
        assert cell.plain == "[bold red]x[/]"
        assert not cell.spans or all(not str(span.style).startswith("bold red") for span in cell.spans)
        escape = next(key for key in table._rows.cells if key.startswith("\x1b"))
        assert "\x1b" not in table.get_cell(escape, "id").plain


async def filled(table: ParticipantsTable, pilot) -> None:
    """Wait until a long list has been added (a batch per frame)."""
    await pilot.pause()
    while table.is_filling:
        await pilot.pause()


async def participants_tab(app: MigrationApp, pilot) -> ParticipantsTable:
    """At 1 s into the recording, on the Participants tab, once the list is filled."""
    await settle(app, pilot, at=1)
    await pilot.press("2")
    table = app.dashboard.query_one(ParticipantsTable)
    await filled(table, pilot)
    return table


def write_big_recording(path: Path, count: int, as_deltas: bool = False) -> Path:
    """10,000 participants, then one leaves and one turns unhealthy: as whole lists (format 1's
    way) or as the controller source emits them (a whole list, then a delta), the delta version
    with malformed deltas in between that the store must reject while the replay goes on."""
    start = 1_700_000_000.0
    members = [
        {"id": f"p-{i:05d}", "type": "worker", "vote": "yes", "is_healthy": True, "last_heartbeat": start - (i % 30)}
        for i in range(count)
    ]
    differ = ParticipantsDiffer(MAX_PARTICIPANTS)

    def participants(ts: float, items: list) -> Event:
        kind, data = (
            differ.event("big", items)
            if as_deltas
            else ("participants", {"migration_id": "big", "participants": items})
        )
        return Event(ts, "controller", kind, data)

    with RecordingWriter(path, started_at=start) as writer:
        writer.write(
            Event(
                start,
                "controller",
                "migration",
                {"id": "big", "system": "2pc", "status": "in_progress", "phase": "preparing", "progress": 10.0},
            )
        )
        writer.write(participants(start, members))
        if as_deltas:
            for bad in (
                {"migration_id": "big", "changed": "all", "removed": []},
                {"migration_id": "big", "changed": [1], "removed": []},
            ):
                writer.write(Event(start + 1.5, "controller", "participants_delta", bad))
        changed = [dict(m) for m in members[:-1]]  # the last one leaves
        changed[count // 2]["vote"] = "no"
        changed[count // 2]["is_healthy"] = False
        writer.write(participants(start + 2, changed))
        last = f"p-{count - 1 - 999:05d}"
        writer.write(
            Event(start + 4, "redis", "heartbeat", {"migration_id": "big", "participant_id": last, "at": start + 4})
        )
        writer.write(Event(start + 10, "controller", "source_ok", {}))
    return path


@pytest.mark.parametrize("as_deltas", [False, True], ids=["whole-lists", "deltas"])
async def test_ten_thousand_participants(tmp_path, as_deltas):
    path = write_big_recording(tmp_path / "big.jsonl", 10_000, as_deltas)
    if as_deltas:
        kinds = [line.split(b'"kind":"', 1)[1][:20] for line in path.read_bytes().splitlines()[1:]]
        assert sum(kind.startswith(b"participants_delta") for kind in kinds) == 3  # two malformed, one real
    app = MigrationApp(ReplayFeed(path, playing=False))
    async with app.run_test(size=(100, 30)) as pilot:
        table = await participants_tab(app, pilot)
        assert table.row_count == 10_000
        first_age = table._rows.cells["p-00001"][4]
        assert first_age == ("2s", "ok")  # heartbeat 1 s before start, seen at 1 s
        app.feed.seek_to(3)
        app.dashboard.refresh_view()
        await filled(table, pilot)
        assert table.row_count == 9_999
        assert app.feed.store.rejected_events == (2 if as_deltas else 0)
        assert "p-09999" not in table._rows.cells
        assert table._rows.cells["p-05000"][2] == ("✖ no", "bad")
        assert table._rows.cells["p-05000"][3] == ("✖ UNHEALTHY", "bad")
        # Off screen, the table still shows the old cell until the row scrolls into view.
        assert table.get_cell("p-05000", "vote").plain == "✔ yes" and "p-05000" in table._rows.stale
        table.scroll_to(y=4990, animate=False)
        await pilot.pause()
        assert table.get_cell("p-05000", "vote").plain == "✖ no" and "p-05000" not in table._rows.stale
        assert table.get_cell("p-05000", "health").plain == "✖ UNHEALTHY"
        table.scroll_home(animate=False)
        await pilot.pause()
        # Far rows are brought up to date when scrolled into view.
        table.scroll_end(animate=False)
        await pilot.pause()
        app.feed.seek_to(5)
        app.dashboard.refresh_view()
        await pilot.pause()
        assert table._rows.cells["p-09000"][4] == ("1s", "ok")
        assert table._rows.cells["p-09998"][4][1] in ("ok", "warn", "bad")
        await pilot.press("slash", *"p-0500")
        await filled(table, pilot)
        assert table.row_count == 10
        assert set(table.shown_ids) == {f"p-0500{i}" for i in range(10)}


async def test_a_long_list_fills_in_batches_without_freezing(tmp_path, monkeypatch):
    from migration_tui.ui.widgets.participants import FILL_BATCH

    counts: list[int] = []
    original = ParticipantsTable._fill_more

    def recording_fill(self) -> None:
        counts.append(self.row_count)  # rows on screen when the next batch starts, after a refresh
        original(self)

    monkeypatch.setattr(ParticipantsTable, "_fill_more", recording_fill)
    path = write_big_recording(tmp_path / "big.jsonl", 3 * FILL_BATCH + 5)
    app = MigrationApp(ReplayFeed(path, playing=False))
    async with app.run_test(size=(100, 30)) as pilot:
        table = await participants_tab(app, pilot)
        assert table.row_count == 3 * FILL_BATCH + 5
        assert counts[:3] == [FILL_BATCH, 2 * FILL_BATCH, 3 * FILL_BATCH]


async def test_updates_touch_only_changed_cells(tmp_path, monkeypatch):
    path = write_big_recording(tmp_path / "big.jsonl", 2_000)
    app = MigrationApp(ReplayFeed(path, playing=False))
    async with app.run_test(size=(100, 30)) as pilot:
        table = await participants_tab(app, pilot)
        calls: list[tuple[object, object]] = []
        original = ParticipantsTable.update_cell

        def counting(self, row_key, column_key, value, *, update_width=False):
            calls.append((row_key, column_key))
            return original(self, row_key, column_key, value, update_width=update_width)

        monkeypatch.setattr(ParticipantsTable, "update_cell", counting)
        app.feed.seek_to(3)
        app.dashboard.refresh_view()
        await pilot.pause()
        touched_rows = {str(row) for row, _column in calls}
        # Only the heartbeat ages of the rows on screen: the changed participant is far below.
        assert touched_rows and touched_rows <= set(table.shown_ids[:40])
        assert "p-01000" not in touched_rows and "p-01000" in table._rows.stale
        assert len(calls) < 100
        calls.clear()
        table.scroll_to(y=995, animate=False)
        await pilot.pause()
        assert {("p-01000", "vote"), ("p-01000", "health")} <= {(str(r), str(c)) for r, c in calls}
        assert table.get_cell("p-01000", "vote").plain == "✖ no"


async def test_a_changed_cell_on_screen_is_drawn_without_rebuilding_the_whole_table(tmp_path):
    """ParticipantsTable.update_cell keeps the DataTable's row order and offsets but not the drawn cell."""
    path = write_big_recording(tmp_path / "big.jsonl", 200)
    app = MigrationApp(ReplayFeed(path, playing=False))
    async with app.run_test(size=(100, 30)) as pilot:
        table = await participants_tab(app, pilot)

        def drawn(key: str) -> str:
            return table.render_line(table.get_row_index(key) + table.header_height).text

        assert "✔ yes" in drawn("p-00003")  # drawn once, so now in the table's caches
        update_count = table._update_count
        table.update_cell("p-00003", "vote", Text("✖ no"))
        await pilot.pause()
        assert "✖ no" in drawn("p-00003") and "✔ yes" in drawn("p-00004")
        assert table._update_count == update_count, "the row order and line offsets were thrown away"
