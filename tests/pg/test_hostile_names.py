"""Hostile table names from a real catalog (PostgreSQL allows any character but NUL in a quoted
identifier): kept literally in the data, shown literally and safely on every tab of the dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_tui.feeds import ReplayFeed
from migration_tui.recording import RecordingWriter
from migration_tui.safe_text import PLACEHOLDER
from migration_tui.ui.app import MigrationApp
from tests.hostile.test_injection_ui import TABS, assert_clean, screen_lines, settle
from tests.pg.helpers import watching
from tests.servers import Replication, async_wait_for

pytestmark = pytest.mark.postgres

HOSTILE = {
    "escape": "evil\x1b[31mred\x1b[0m",
    "markup": "[bold]mk[/]",
    "click": "[@click=app.quit]q[/]",
    "rtl": "rtl\u202egnp.exe",
    "bell": "ring\x07ring",
    "newline": "two\nlines",
}


async def test_hostile_table_names_are_kept_and_shown_literally(pg_replication: Replication, tmp_path: Path) -> None:
    pg_replication.create(list(HOSTILE.values()), rows=5)
    pg_replication.subscribe()
    path = tmp_path / "hostile-pg.jsonl"
    with RecordingWriter(path) as writer:
        async with watching(pg_replication, sinks=[writer.write]) as watched:
            await async_wait_for(
                lambda: (watched.latest("mig_sub") or {}).get("details", {}).get("tables_ready") == len(HOSTILE),
                timeout=60,
            )
    ids = {p.id for p in watched.store.participants_of("mig_sub")}
    assert {f"public.{name}" for name in HOSTILE.values()} <= ids  # the catalog's bytes, untouched

    app = MigrationApp(ReplayFeed(path, playing=False))
    seen: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=1e6)
        for tab in TABS:
            await pilot.press(tab)
            await pilot.pause()
            lines = screen_lines(app)
            assert_clean(lines, f"tab {tab}")
            seen.extend(lines)
        assert app.is_running and app.return_code is None
    text = "\n".join(seen)
    assert "public.[bold]mk[/]" in text  # markup shown, not parsed (the id column is 20 wide)
    assert "public.[@click=app." in text
    assert "gnp.exe" in text and "\u202e" not in text
    assert PLACEHOLDER in text and "ring" in text
