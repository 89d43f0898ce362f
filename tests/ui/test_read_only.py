"""Read-only modes provably cannot send: wall, replay and ``watch --read-only``.

Each mode is built the way the CLI builds it, against the simulator on a real
socket that counts every request that is not a GET. The driver presses every
key, runs every palette command, calls every action string and clicks every
widget, then presses every key again on the fleet view (``f``); afterwards
the server has seen no such request, and the footer, the help and the
palette never listed pause, resume, abort or rollback.

In process, ``migration_tui.actions`` is blocked (an import would raise and
crash the app); a subprocess runs the same driver from a clean interpreter and
reports whether the module was ever imported.
"""

from __future__ import annotations

import json
import string
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from textual.keys import _character_to_key
from textual.pilot import OutOfBounds
from textual.screen import Screen

from migration_tui.config import Settings
from migration_tui.feeds import ReplayFeed
from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.server import start_in_thread
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.commands import DashboardCommands
from migration_tui.ui.run import build_watch
from migration_tui.ui.screens.fleet import FleetScreen
from migration_tui.ui.screens.help import binding_rows
from migration_tui.ui.widgets.footer import KeyBar

ROOT = Path(__file__).resolve().parents[2]
RECORDING = ROOT / "sample_data" / "2pc-commit.jsonl.gz"
WRITES = ("pause", "resume", "abort", "rollback")
ACTION_STRINGS = [
    *WRITES,
    *(f"screen.{name}" for name in WRITES),
    *(f"app.{name}" for name in WRITES),
    "open_dialog('abort')",
    "confirm",
    "retry",
    "override",
]
#: Keys that would end the test session rather than exercise the app.
LEAVING = {"q", "ctrl+c", "ctrl+q"}
KEYS = [_character_to_key(c) for c in string.printable if c not in "q\t\n\r\x0b\x0c"] + [
    "enter",
    "escape",
    "tab",
    "shift+tab",
    "ctrl+o",
    "ctrl+r",
    "ctrl+p",
    "ctrl+s",
    "up",
    "down",
    "left",
    "right",
    "shift+left",
    "shift+right",
    "home",
    "end",
    "delete",
    "backspace",
    "f1",
]


class CountingController:
    """The simulator's handle(), noting every request that is not a read."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.writes: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def handle(self, method, path, headers, body):
        if method not in ("GET", "HEAD"):
            with self.lock:
                self.writes.append((method, path))
        return self.inner.handle(method, path, headers, body)


def build(mode: str, url: str, tmp: Path) -> MigrationApp:
    """The app as the CLI builds it for ``mode`` (wall, replay, replay-wall or read-only)."""
    if mode == "replay":
        return MigrationApp(ReplayFeed(RECORDING, playing=False))
    if mode == "replay-wall":  # replay FILE --wall, as run_replay builds it
        from migration_tui.ui.run import _wall

        wall_settings, wall = _wall(Settings(), 15.0)
        return MigrationApp(ReplayFeed(RECORDING, playing=False), theme=wall_settings.theme, dashboard=wall)
    settings = Settings(controller=url, read_only=mode == "read-only", poll_interval_s=0.2, audit_log=str(tmp / "a"))
    feed, dashboard = build_watch(settings, wall=mode == "wall")
    assert dashboard is None  # no action client was built
    if mode == "wall":
        from migration_tui.ui.screens.wall import WallScreen

        return MigrationApp(feed, dashboard=WallScreen)  # as run_wall builds it
    return MigrationApp(feed)


def listed_writes(app: MigrationApp, screen: Screen[object] | None = None) -> list[str]:
    """Anything in the footer, help or palette of ``screen`` (the dashboard's) that names a write action."""
    screen = screen or app.dashboard
    footer = [b.binding.action for b in screen.active_bindings.values() if b.binding.show]
    help_rows = [description.lower() for _key, description, _tip in binding_rows(screen)]
    palette = [action for *_rest, action in DashboardCommands(screen)._commands()]
    return [name for name in footer + help_rows + palette if name.split("(")[0] in WRITES]


async def back_to_dashboard(app: MigrationApp, pilot) -> None:
    while app.screen is not app.dashboard and len(app.screen_stack) > 1:
        app.pop_screen()
        await pilot.pause()
    app.dashboard.set_focus(None)


async def drive(app: MigrationApp, every_key_and_click: bool = True) -> list[str]:
    """Every palette command and action string, and every key and click; returns what the mode listed."""
    listed: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.5)  # the sources' first polls
        listed += listed_writes(app)
        for key in KEYS if every_key_and_click else ():
            await pilot.press(key)
            await back_to_dashboard(app, pilot)
        # The fleet view (f, in every mode): its keys, action strings and Enter, which only selects.
        await pilot.press("f")
        assert isinstance(app.screen, FleetScreen)
        listed += listed_writes(app, app.screen)
        for action in ACTION_STRINGS:
            await app.run_action(action, app.screen)
        for key in KEYS if every_key_and_click else ("down", "enter"):
            if not isinstance(app.screen, FleetScreen):
                await back_to_dashboard(app, pilot)
                await pilot.press("f")  # a key left it (Esc, Enter): open it again
            await pilot.press(key)
        await back_to_dashboard(app, pilot)
        for _title, _tip, runner, action in DashboardCommands(app.dashboard)._commands():
            if action != "quit":
                await runner()
                await pilot.pause()
                await back_to_dashboard(app, pilot)
        for action in ACTION_STRINGS:
            await app.run_action(action, app.dashboard)
            await app.run_action(action)
            await back_to_dashboard(app, pilot)
        for widget in list(app.dashboard.query("*")) if every_key_and_click else ():
            if isinstance(widget, KeyBar):
                for hit in list(widget.hits):  # every key on the bar, but "q Quit", which leaves (as above)
                    if hit.key not in LEAVING:
                        await pilot.click(widget, offset=(hit.start, 0))
                        await back_to_dashboard(app, pilot)
                continue
            try:
                await pilot.click(widget)
            except OutOfBounds:
                continue  # hidden (another tab, or not shown at this size)
            await back_to_dashboard(app, pilot)
        listed += listed_writes(app)
        assert app.is_running  # nothing above ended or crashed the app
    return listed


@pytest.fixture
def counted_sim():
    clock = VirtualClock()
    clock.advance(10)
    with start_in_thread("2pc-commit", clock=clock) as running:
        running.counter = CountingController(running.controller)
        running.server.controller = running.counter
        yield running


@pytest.mark.parametrize("mode", ["wall", "replay", "replay-wall", "read-only"])
async def test_nothing_can_send_in_read_only_modes(mode, counted_sim, tmp_path, monkeypatch):
    """In process, with the actions module blocked; keys and clicks are the subprocess test's (one run each)."""
    monkeypatch.setitem(sys.modules, "migration_tui.actions", None)  # any import of it now raises
    app = build(mode, counted_sim.url, tmp_path)
    listed = await drive(app, every_key_and_click=False)
    assert listed == []
    assert counted_sim.counter.writes == []
    assert counted_sim.controller.received_actions == []
    assert not (tmp_path / "a").exists()  # no audit log either
    if not mode.startswith("replay"):
        assert app.feed.store.migrations  # the app was really watching the simulator


@pytest.mark.timeout(400)  # three modes, every key and every click: about 60 s on a quiet machine
def test_every_key_command_action_and_click_sends_nothing_and_imports_no_actions(counted_sim, tmp_path):
    """A clean interpreter for each of the three modes, all three at once, drives it fully, then says
    whether migration_tui.actions was imported."""
    script = (
        "import asyncio, json, sys\n"
        "from pathlib import Path\n"
        "from tests.ui.test_read_only import build, drive\n"
        "listed = asyncio.run(drive(build(sys.argv[3], sys.argv[1], Path(sys.argv[2]))))\n"
        "print(json.dumps({'imported': 'migration_tui.actions' in sys.modules, 'listed': listed}))\n"
    )
    for mode in ("wall", "replay", "read-only"):
        (tmp_path / mode).mkdir()
    runs = {
        mode: subprocess.Popen(
            [sys.executable, "-c", script, counted_sim.url, str(tmp_path / mode), mode],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("wall", "replay", "read-only")
    }
    reports = {}
    for mode, run in runs.items():
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, f"{mode}: {err[-3000:]}"
        reports[mode] = json.loads(out.strip().splitlines()[-1])
    assert reports == {mode: {"imported": False, "listed": []} for mode in runs}
    assert counted_sim.counter.writes == []
    assert not any((tmp_path / mode / "a").exists() for mode in runs)  # no audit log either


async def test_the_live_dashboard_does_list_them(counted_sim, tmp_path):
    """The control: the same check finds the actions where they exist (so it can fail)."""
    settings = Settings(controller=counted_sim.url, poll_interval_s=0.2, audit_log=str(tmp_path / "a"))
    feed, dashboard = build_watch(settings)
    app = MigrationApp(feed, dashboard=dashboard)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert sorted(set(listed_writes(app))) == sorted(WRITES)
