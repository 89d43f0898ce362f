"""An empty participants table says why: the migration reports none, or the filter matches none."""

from __future__ import annotations

from pathlib import Path

from migration_tui.feeds import ReplayFeed
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.widgets import ParticipantsNote, ParticipantsTable
from tests.ui.conftest import settle

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def note(app: MigrationApp) -> str:
    return "\n".join(line.plain for line in app.dashboard.query_one(ParticipantsNote).lines)


async def test_a_filter_that_matches_nothing_says_so_and_a_match_clears_the_line(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=100)
        await pilot.press("2")
        await pilot.pause()
        assert app.dashboard.query_one(ParticipantsTable).shown_count > 0
        assert note(app) == ""  # rows shown: nothing to explain, and no height taken
        await pilot.press("slash", *"zzz\x1b[31m", "enter")
        await pilot.pause()
        await pilot.pause()
        assert app.dashboard.query_one(ParticipantsTable).shown_count == 0
        assert "no participant matches “zzz" in note(app)
        assert "\x1b" not in note(app)
        await pilot.press("slash", *["backspace"] * 10, *"eng", "enter")
        await pilot.pause()
        await pilot.pause()
        assert app.dashboard.query_one(ParticipantsTable).shown_count > 0 and note(app) == ""


async def test_a_migration_without_participants_says_its_controller_reports_none():
    app = MigrationApp(ReplayFeed(str(SAMPLES / "orderbook-rollout.jsonl.gz"), playing=False, start=60))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        await pilot.press("2")
        await pilot.pause()
        await pilot.pause()
        assert note(app) == "no participants: this migration's controller reports none"
