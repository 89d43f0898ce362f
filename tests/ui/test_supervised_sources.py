"""The dashboard runs its sources through the same supervisor as ``record`` (issue 14, item 9):
a source that dies is shown ✖ with its message, restarted with backoff, seen fresh again,
and the log says so once on the way down and once on the way back."""

from __future__ import annotations

import asyncio
import time

from migration_tui.events import Event
from migration_tui.feeds import LiveFeed
from migration_tui.sources.base import Backoff, Emit
from migration_tui.sources.controller import ControllerSource
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.widgets import StatusBar
from tests.servers import async_wait_for
from tests.simulate import SimulateProcess


class CrashesThenWorks:
    """Raises on its first runs, then answers like a controller.

    A stand-in on purpose: a source raising out of ``run`` is a bug of ours, which no real
    process can produce on demand. ``release`` holds the working run back until the test
    has seen the crash on screen, so nothing depends on timing."""

    name = "controller"
    warnings: tuple[str, ...] = ()

    def __init__(self, crashes: int) -> None:
        self.crashes = crashes
        self.runs = 0
        self.release = asyncio.Event()

    async def run(self, emit: Emit) -> None:
        self.runs += 1
        if self.runs <= self.crashes:
            raise RuntimeError("bug in a source")
        await self.release.wait()
        while True:
            emit(
                Event(
                    time.time(),
                    self.name,
                    "migration",
                    {"id": "m1", "system": "batch", "status": "in_progress", "phase": "migrating", "progress": 40.0},
                )
            )
            await asyncio.sleep(0.1)


def status_line(app: MigrationApp) -> str:
    app.dashboard.refresh_view()
    return app.dashboard.query_one(StatusBar).render().plain


def controller_log(feed: LiveFeed) -> list[tuple[str, str]]:
    return [(line.level, line.message) for line in feed.store.log if line.source == "controller"]


async def test_a_crashed_source_is_shown_restarted_and_fresh_again_with_one_line_each_way() -> None:
    source = CrashesThenWorks(crashes=3)
    feed = LiveFeed([source], poll_interval_s=0.5, restart_backoff=Backoff(base_s=0.05, cap_s=0.1))
    app = MigrationApp(feed)
    async with app.run_test(size=(160, 24)) as pilot:
        # Three crashes, three restarts: the screen names the source, ✖ and the message.
        await async_wait_for(lambda: source.runs == 4)
        await pilot.pause(0.1)
        line = status_line(app)
        assert "controller" in line and "✖" in line and "bug in a source" in line, line
        assert not feed.store.source("controller").ok()
        source.release.set()
        await async_wait_for(lambda: feed.store.source("controller").ok() and "m1" in feed.store.migrations)
        await pilot.pause(0.3)
        line = status_line(app)
        assert "controller ✔ fresh" in line and "✖" not in line, line
        assert source.runs == 4  # restarted, and not again once it works
    log = controller_log(feed)
    crashes = [entry for entry in log if entry[0] == "error"]
    recoveries = [entry for entry in log if entry[1].startswith("recovered after")]
    assert crashes == [("error", "crashed: RuntimeError: bug in a source (restarting)")]
    assert len(recoveries) == 1 and recoveries[0][0] == "info"
    assert "was: crashed: RuntimeError" in recoveries[0][1]


async def test_a_real_controller_stopped_and_started_again_logs_its_recovery_once() -> None:
    """``migration-tui simulate`` as a process, killed (its sockets close with it) and started
    again on the same port: the controller source errors, then answers again."""
    sim = SimulateProcess("2pc-commit").start()
    # A stopped process refuses connections at once; the timeout only has to outlast a poll on a
    # loaded machine (at 1 s, a slow answer before the stop was logged as an outage of its own).
    source = ControllerSource(sim.url, poll_interval_s=0.1, timeout_s=10.0, backoff=Backoff(base_s=0.05, cap_s=0.2))
    feed = LiveFeed([source], poll_interval_s=0.1)
    app = MigrationApp(feed)
    try:
        async with app.run_test(size=(160, 24)) as pilot:
            await async_wait_for(lambda: feed.store.source("controller").ok() and feed.store.migrations)
            sim.stop()
            await async_wait_for(lambda: not feed.store.source("controller").ok())
            errors_at = feed.store.source("controller").last_error_at
            # Several failed polls: the error is logged once, not once per poll.
            await async_wait_for(lambda: feed.store.source("controller").last_error_at > errors_at + 0.5)
            assert "✖" in status_line(app)
            sim.start()
            await async_wait_for(lambda: feed.store.source("controller").ok())
            for _ in range(5):  # a few more good polls: nothing more to say
                await pilot.pause(0.1)
            assert "controller ✔ fresh" in status_line(app)
    finally:
        sim.stop()
    log = controller_log(feed)
    recoveries = [entry for entry in log if entry[1].startswith("recovered after")]
    assert len(recoveries) == 1 and recoveries[0][0] == "info", log
    assert len([entry for entry in log if entry[0] == "error"]) == 1, log
