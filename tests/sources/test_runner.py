"""The source runner: one emit for many sources, clean cancellation, restart after a crash."""

from __future__ import annotations

import asyncio
import importlib.util
import math

import pytest

from migration_tui.config import ConfigError, Settings
from migration_tui.events import Event
from migration_tui.sources.base import Backoff, Emit
from migration_tui.sources.controller import ControllerSource
from migration_tui.sources.runner import SourceRunner, build_live_sources
from tests.sources.conftest import LocalServer
from tests.sources.test_controller_source import TOKEN, two_pc, wait_until


class CrashingSource:
    """Breaks the Source contract by raising: a fault no real source produces on demand, so a stand-in."""

    name = "crashy"

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, emit: Emit) -> None:
        self.runs += 1
        emit(Event(0.0, self.name, "source_ok", {}))
        raise RuntimeError("boom")


async def test_sources_feed_one_emit_and_stop_cleanly(local_server: LocalServer) -> None:
    two_pc(local_server)
    controller = ControllerSource(local_server.url, poll_interval_s=0.05)
    crashy = CrashingSource()
    events: list[Event] = []
    runner = SourceRunner([controller, crashy], events.append, restart_backoff=Backoff(base_s=0.01, cap_s=0.02))
    async with runner:
        await wait_until(lambda: crashy.runs >= 2 and any(e.kind == "migration" for e in events))
        tasks = list(runner.tasks)
    assert all(task.done() for task in tasks)
    assert runner.tasks == []
    crash_errors = [e for e in events if e.source == "crashy" and e.kind == "source_error"]
    assert crash_errors and "RuntimeError" in crash_errors[0].data["error"]
    assert {e.source for e in events} == {"controller", "crashy"}


def test_build_live_sources_follows_the_settings(local_server: LocalServer) -> None:
    names = [s.name for s in build_live_sources(Settings(controller=local_server.url))]
    assert names[0] == "controller" and "prometheus" not in names and "redis" not in names
    names = [
        s.name
        for s in build_live_sources(
            Settings(controller=local_server.url, prometheus="http://127.0.0.1:9", redis="redis://127.0.0.1:9")
        )
    ]
    assert {"controller", "prometheus", "redis"} <= set(names)
    if importlib.util.find_spec("migration_tui.sources.host") is not None:
        assert names[-1] == "host"  # always on, whatever else is configured
    assert "controller" not in [s.name for s in build_live_sources(Settings())]


def test_from_settings_checks_the_profile_and_hides_the_token() -> None:
    with pytest.raises(ConfigError, match="unknown controller profile"):
        ControllerSource.from_settings(Settings(controller="http://127.0.0.1:9", profile="nonsense"))
    with pytest.raises(ConfigError, match="no controller URL"):
        ControllerSource.from_settings(Settings())
    source = ControllerSource.from_settings(
        Settings(controller="http://127.0.0.1:9", token=TOKEN, insecure=True, profile="canary")
    )
    assert source.verify_tls is False and source.profile is not None and source.profile.name == "canary"
    assert TOKEN not in repr(source)


def test_prometheus_follows_the_profile_the_controller_detects() -> None:
    from migration_tui.config import Settings
    from migration_tui.sources.profiles import get_profile

    settings = Settings(controller="http://127.0.0.1:9", prometheus="http://127.0.0.1:9")
    sources = {s.name: s for s in build_live_sources(settings)}
    prometheus, controller = sources["prometheus"], sources["controller"]
    assert "docs_per_s" not in prometheus.templates
    events: list = []
    controller.profile = get_profile("batch")  # as detection would set it
    assert prometheus._follow_profile(events.append)
    assert "docs_per_s" in prometheus.templates and events == []
    assert not prometheus._follow_profile(events.append)  # no change, no reload


class CrashesAfter:
    """Raises after ``seconds`` of running: a stand-in for a bug of ours (no real process raises on demand)."""

    name = "crashy"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.runs = 0

    async def run(self, emit: Emit) -> None:
        self.runs += 1
        await asyncio.sleep(self.seconds)
        raise RuntimeError(f"boom {self.runs}")


@pytest.mark.parametrize(("runs_for_s", "grows"), [(0.0, True), (0.06, False)])
async def test_the_restart_delay_grows_in_a_crash_loop_and_starts_over_after_a_good_run(
    runs_for_s: float, grows: bool
) -> None:
    source = CrashesAfter(runs_for_s)
    backoff = Backoff(base_s=0.001, cap_s=0.05)
    events: list[Event] = []
    async with SourceRunner([source], events.append, restart_backoff=backoff):
        await wait_until(lambda: source.runs >= 5)
    # A source that crashes at once backs off further each time; one that ran longer than the
    # cap starts again from the shortest delay after each crash.
    assert (backoff.failures >= 4) is grows and (backoff.failures == 1) is not grows
    errors = [e.data["error"] for e in events if e.kind == "source_error"]
    assert errors[0] == "crashed: RuntimeError: boom 1 (restarting)"


class SwallowsCancellation:
    """A source whose poll swallows its first cancellations, as a library's timeout racing a
    cancellation can on Python 3.11 (asyncio's and anyio's). A real source cannot be made to lose
    that race on demand, so this one does it on purpose."""

    name = "swallower"

    def __init__(self, swallow: float) -> None:
        self.swallow = swallow  # how many cancellations it swallows (inf: it never stops)
        self.swallowed = 0

    async def run(self, emit: Emit) -> None:
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if self.swallowed >= self.swallow:
                    raise
                self.swallowed += 1
                asyncio.current_task().uncancel()  # type: ignore[union-attr]  # as the racing timeout does


async def test_stop_cancels_again_a_source_that_swallowed_its_cancellation() -> None:
    source = SwallowsCancellation(swallow=2)
    runner = SourceRunner([source], [].append)
    runner.start()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(runner.stop(), 5)
    assert source.swallowed == 2 and not runner.tasks


async def test_stop_gives_up_on_a_source_that_never_stops() -> None:
    source = SwallowsCancellation(swallow=math.inf)
    runner = SourceRunner([source], [].append)
    runner.start()
    task = runner.tasks[0]
    await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(runner.stop(patience_s=1.2), 5)  # returns, so Ctrl-C cannot hang on it
    assert 1.0 <= loop.time() - started < 3.0 and source.swallowed >= 3
    assert not task.done()
    source.swallow = 0  # let it go, so that the test leaves nothing running
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
