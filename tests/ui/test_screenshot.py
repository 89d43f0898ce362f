"""Screenshots: the ``s`` key saves the screen as SVG where it says, named after the recording's time in
a replay; ``replay --headless --at S --screenshot OUT.svg`` draws the dashboard at S without a terminal."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from migration_tui.feeds import ReplayFeed
from migration_tui.ui.app import MigrationApp

ROOT = Path(__file__).resolve().parents[2]
ABORT = ROOT / "sample_data" / "2pc-abort.jsonl.gz"


def header(path: Path) -> dict:
    with gzip.open(path, "rb") as fp:
        return json.loads(fp.readline())


def stamp(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def toasts(app: MigrationApp) -> str:
    return " ".join(str(toast.render()) for toast in app.screen.query("Toast"))


@pytest.mark.parametrize("wall", [False, True], ids=["dashboard", "wall"])
async def test_the_key_saves_the_screen_named_after_the_recordings_time_and_says_where(tmp_path, wall):
    extra = {}
    if wall:
        from migration_tui.ui.screens.wall import WallScreen

        extra["dashboard"] = WallScreen
    app = MigrationApp(ReplayFeed(ABORT, playing=False), screenshot_dir=str(tmp_path / "shots"), **extra)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await app.workers.wait_for_complete()
        app.feed.seek_to(95.0)
        await pilot.pause(0.2)
        await pilot.press("s")
        await pilot.pause(0.2)
        saved = sorted((tmp_path / "shots").glob("*.svg"))
        assert len(saved) == 1
        # The recording's time at the position shown, from its header: not the wall clock.
        expected = f"migration-tui-2pc-abort-{stamp(header(ABORT)['started_at'] + 95.0)}.svg"
        assert saved[0].name == expected
        text = saved[0].read_text()
        assert text.lstrip().startswith("<svg") and "2pc-ethusdt" in text
        assert str(saved[0]) in toasts(app)
        await pilot.press("s")  # the same moment again: a second file, never overwritten
        await pilot.pause(0.2)
        names = sorted(p.name for p in (tmp_path / "shots").glob("*.svg"))
        assert names == sorted([expected, expected.replace(".svg", "-2.svg")])


async def test_the_key_is_in_help_and_the_palette_and_types_into_the_filter_while_it_is_open(tmp_path):
    from migration_tui.ui.commands import DashboardCommands
    from migration_tui.ui.screens.help import binding_rows

    app = MigrationApp(ReplayFeed(ABORT, playing=False), screenshot_dir=str(tmp_path))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        assert ("s", "Screenshot") in {(key, description) for key, description, _tip in binding_rows(app.dashboard)}
        palette = {title: runner for title, _tip, runner, _action in DashboardCommands(app.dashboard)._commands()}
        title = "Save this screen as SVG (the notification says where) (s)"
        assert title in palette
        await palette[title]()
        await pilot.pause(0.2)
        assert len(list(tmp_path.glob("*.svg"))) == 1
        for svg in tmp_path.glob("*.svg"):
            svg.unlink()
        await pilot.press("slash")
        await pilot.press("s")
        await pilot.pause()
        assert not list(tmp_path.glob("*.svg"))  # typed into the filter, not a screenshot
        assert app.dashboard.query_one("#filter").value == "s"


async def test_a_directory_that_cannot_be_made_is_said_on_screen(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    app = MigrationApp(ReplayFeed(ABORT, playing=False), screenshot_dir=str(blocker / "shots"))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("s")
        await pilot.pause(0.2)
        assert "could not save" in toasts(app)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migration_tui", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_headless_screenshot_draws_the_dashboard_at_that_moment(tmp_path):
    out = tmp_path / "at-120.svg"
    done = cli("replay", str(ABORT), "--headless", "--at", "120", "--json", "--screenshot", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert f"written to {out}" in done.stderr
    text = out.read_text()
    assert text.lstrip().startswith("<svg")
    # Textual writes each cell's text with non-breaking spaces; read it back as plain words.
    words = re.sub(r"<[^>]+>", "", text).replace("&#160;", " ").replace("\xa0", " ")
    duration = int(state["duration"] or 0) if state["duration"] is not None else None
    assert "0:02:00" in words and "PAUSED" in words
    if duration:
        assert f"{duration // 3600}:{duration % 3600 // 60:02d}:{duration % 60:02d}" in words
    for migration in state["migrations"]:
        assert migration["id"] in words and migration["phase"].upper() in words.upper()
    assert ("FIRING" in words) == any(alert["state"] == "firing" for alert in state["alerts"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--screenshot", "x.svg"], "--screenshot only works with --headless"),
        (["--headless", "--screenshot", "x.png"], "must end in .svg"),
    ],
)
def test_headless_screenshot_refuses_what_it_cannot_do(tmp_path, args, message):
    done = cli("replay", str(ABORT), *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr
    assert not list(tmp_path.iterdir())
