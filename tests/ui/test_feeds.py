"""Feeds: live events reach the store on the app's loop, coalesced into few repaints."""

from __future__ import annotations

import asyncio
import threading

import pytest

from migration_tui.events import Event
from migration_tui.feeds import FRAME_S, INLINE_INDEX_BYTES, LiveFeed, ReplayFeed
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.widgets import MigrationPane, StatusBar


class BurstSource:
    """Emits many events at once, one from another thread, then waits to be cancelled."""

    name = "controller"

    def __init__(self, count: int) -> None:
        self.count = count
        self.done = asyncio.Event()

    async def run(self, emit) -> None:
        for number in range(self.count):
            emit(
                Event(
                    1_700_000_000.0 + number,
                    self.name,
                    "migration",
                    {
                        "id": "m1",
                        "system": "2pc",
                        "status": "in_progress",
                        "phase": "prepared",
                        "progress": number / self.count * 100,
                    },
                )
            )
        thread = threading.Thread(
            target=emit, args=(Event(1_700_000_100.0, "redis", "log", {"message": "from a thread"}),)
        )
        thread.start()
        thread.join()
        self.done.set()
        await asyncio.Event().wait()


class CrashingSource:
    name = "prometheus"

    async def run(self, emit) -> None:
        raise RuntimeError("bug in a source")


async def test_many_events_few_repaints(monkeypatch):
    from migration_tui.ui.screens.dashboard import DashboardScreen

    repaints = []
    original = DashboardScreen.refresh_view

    def counting(self) -> None:
        repaints.append(1)
        original(self)

    monkeypatch.setattr(DashboardScreen, "refresh_view", counting)
    source = BurstSource(500)
    feed = LiveFeed([source])
    app = MigrationApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await source.done.wait()
        for _ in range(5):
            await pilot.pause(0.05)
        assert feed.store.migrations["m1"].progress == 499 / 500 * 100
        assert any(line.message == "from a thread" for line in feed.store.log)
        assert 1 <= len(repaints) < 10  # 501 events, a handful of frames
        assert "m1" in app.dashboard.query_one(MigrationPane).render().plain


async def test_a_crashing_source_is_shown_not_swallowed():
    feed = LiveFeed([CrashingSource()])
    app = MigrationApp(feed)
    async with app.run_test(size=(120, 24)) as pilot:
        for _ in range(5):
            await pilot.pause(0.05)
        health = feed.store.source("prometheus")
        assert not health.ok() and "bug in a source" in (health.error or "")
        app.dashboard.refresh_view()
        assert "ERROR" in app.dashboard.query_one(StatusBar).render().plain


async def test_replay_feed_indexes_in_a_worker_then_knows_its_duration(recordings):
    feed = ReplayFeed(recordings["canary"], playing=False, inline_index_bytes=0)  # a worker however small
    assert feed.clock().indexing and feed.clock().duration_s is None
    app = MigrationApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)  # one tick notices the index is done
        assert feed.clock().duration_s == 300
        assert "0:05:00" in app.dashboard.query_one(StatusBar).render().plain


async def test_replay_keeps_its_index_out_of_full_collections(monkeypatch):
    """``migration-tui replay`` keeps its index until exit: once indexed, the keyframes (and all else
    then alive) are frozen out of the collector's full collections, which walked them again every time
    (about 100 ms for a fleet of 500). A feed made without ``keep_index`` (every other test's) freezes
    nothing: frozen objects are never collected, and tests share one process."""
    import gc
    from pathlib import Path

    from migration_tui.ui import run

    rollout = Path(__file__).resolve().parents[2] / "sample_data" / "orderbook-rollout.jsonl.gz"
    made = []
    monkeypatch.setattr(run, "_run", lambda feed, *rest: made.append(feed) or 0)
    run.run_replay(str(rollout), None)  # type: ignore[arg-type]
    assert made[0]._keep_index  # what the command line plays is kept

    gc.unfreeze()  # (tests/conftest.py unfreezes after each test too)
    try:
        for keep in (False, True):
            feed = ReplayFeed(rollout, playing=False, keep_index=keep)
            app = MigrationApp(feed)
            async with app.run_test(size=(80, 24)) as pilot:
                await app.workers.wait_for_complete()
                await pilot.pause(0.3)  # the index is announced
                assert feed.clock().duration_s is not None
                (keyframe,) = feed.replay._keyframes
                walked = any(obj is keyframe.store.migrations for obj in gc.get_objects())
                assert walked is not keep and (gc.get_freeze_count() > 0) is keep
    finally:
        gc.unfreeze()


async def test_replay_plays_on_the_virtual_clock(recordings):
    feed = ReplayFeed(recordings["canary"], speed=100.0)
    app = MigrationApp(feed)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        start = feed.replay.position
        while feed.replay.position < start + 20:
            await pilot.pause(0.05)
        assert feed.store.migrations["canary-hb"].phase != "unknown"


class SilentAfterOneSource:
    """Answers once, then goes quiet: its figures must be marked as old."""

    name = "controller"

    def __init__(self, answered_at: float) -> None:
        self.answered_at = answered_at

    async def run(self, emit) -> None:
        emit(
            Event(
                self.answered_at,
                self.name,
                "migration",
                {"id": "m1", "system": "batch", "status": "in_progress", "phase": "migrating", "progress": 40.0},
            )
        )
        await asyncio.Event().wait()


async def test_stale_controller_data_is_marked_next_to_the_progress():
    import time

    from migration_tui.ui.widgets import ProgressLine

    feed = LiveFeed([SilentAfterOneSource(time.time() - 60)], poll_interval_s=2.0)
    app = MigrationApp(feed)
    async with app.run_test(size=(120, 24)) as pilot:
        await pilot.pause(0.2)
        app.dashboard.refresh_view()
        text = app.dashboard.query_one(ProgressLine).render().plain
        assert "40.0%" in text and "▲ controller STALE 60s" in text


async def test_status_bar_says_when_a_file_is_not_a_recording(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\nthis is not a recording\n")
    feed = ReplayFeed(path, playing=False)
    app = MigrationApp(feed)
    async with app.run_test(size=(120, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        app.dashboard.refresh_view()
        status = app.dashboard.query_one(StatusBar).render().plain
        assert "no recording header" in status and "lines skipped" in status


async def test_the_first_event_after_a_quiet_frame_is_drawn_without_waiting_a_frame():
    """Leading-edge throttle: a lone heartbeat is not held back; a burst still gets one more repaint."""
    loop = asyncio.get_running_loop()
    feed = LiveFeed([])
    calls: list[float] = []
    # attach() without an app: the loop, its thread and the callback are all the feed needs to emit.
    feed._loop, feed._loop_thread = loop, threading.get_ident()
    feed._on_change = lambda: calls.append(loop.time())

    def event(n: int) -> Event:
        return Event(1_700_000_000.0 + n, "redis", "log", {"level": "info", "message": f"m{n}"})

    feed.emit(event(0))
    await asyncio.sleep(0)  # one turn of the loop: call_later(0) has run
    await asyncio.sleep(0)
    assert len(calls) == 1, "a lone event after a quiet spell must be drawn at once"
    for n in range(1, 50):  # a burst inside the same frame
        feed.emit(event(n))
    await asyncio.sleep(0)
    assert len(calls) == 1, "the burst waits for the end of the frame"
    await asyncio.sleep(FRAME_S * 2)
    assert len(calls) == 2 and calls[1] - calls[0] >= FRAME_S * 0.9
    assert len(feed.store.log) == 50


class NoTimers:
    """Where ``ReplayFeed.attach`` starts its worker and clock: nothing runs unless the test runs it."""

    def run_worker(self, *args, **kwargs) -> None:
        pass

    def set_interval(self, *args, **kwargs) -> None:
        pass

    def set_timer(self, *args, **kwargs) -> NoTimers.Timer:
        return NoTimers.Timer()

    class Timer:
        def stop(self) -> None:
            pass


async def test_a_playing_replay_opens_on_its_first_poll_round(recordings):
    """The first poll round is stamped microseconds after the start: at exactly 0 s the first
    frame was empty and filled a tick later, a second full frame."""
    from migration_tui.feeds import TICK_S

    feed = ReplayFeed(recordings["2pc"])
    feed.attach(NoTimers(), lambda: None)  # type: ignore[arg-type]
    assert feed.store.migrations, "the first frame has the migration, before any tick"
    assert feed.clock().position_s == TICK_S < 1  # the clock still reads 0:00:00
    paused = ReplayFeed(recordings["2pc"], playing=False)
    paused.attach(NoTimers(), lambda: None)  # type: ignore[arg-type]
    assert paused.clock().position_s == 0.0  # paused: exactly what is stamped at 0 s


async def test_the_status_bar_learns_the_length_when_the_index_ends_not_at_a_tick(recordings):
    feed = ReplayFeed(recordings["2pc"], inline_index_bytes=0)  # indexed by the worker's thread
    changes: list[bool] = []
    feed.attach(NoTimers(), lambda: changes.append(feed.clock().duration_s is not None))  # type: ignore[arg-type]
    await asyncio.to_thread(feed._index)  # the worker's thread; no tick ever runs here
    for _ in range(10):
        if changes:
            break
        await asyncio.sleep(0.01)
    assert changes == [True]


class Workers(NoTimers):
    """``NoTimers`` that counts the workers asked for and the notifications given."""

    def __init__(self) -> None:
        self.workers: list[str] = []
        self.notes: list[str] = []

    def run_worker(self, *args, name: str = "", **kwargs) -> None:
        self.workers.append(name)

    def notify(self, message: str, **kwargs) -> None:
        self.notes.append(message)


async def test_a_small_recording_is_indexed_before_the_first_frame(recordings):
    """A worker thread indexed every recording while the first frame was being built, taking
    the GIL from it, and for a small one ended just after it: the recording's length came in a
    second frame a moment later. A small recording is now indexed at ``attach``, so the first
    frame has its length; a larger one still has the worker."""
    small = ReplayFeed(recordings["2pc"])
    app = Workers()
    changes: list[float | None] = []
    small.attach(app, lambda: changes.append(small.clock().duration_s))  # type: ignore[arg-type]
    assert app.workers == [] and not small.clock().indexing
    assert small.clock().duration_s is not None and changes == [small.clock().duration_s]
    assert small.clock().position_s == pytest.approx(0.2)  # opened one tick in, as before

    size = small.replay.plain_size()
    assert 0 < size <= INLINE_INDEX_BYTES
    large = ReplayFeed(recordings["2pc"], inline_index_bytes=size - 1)  # as if one byte too long
    app = Workers()
    large.attach(app, lambda: None)  # type: ignore[arg-type]
    assert app.workers == ["replay-index"] and large.clock().indexing and large.clock().duration_s is None


async def test_a_failed_inline_index_is_shown_and_the_replay_goes_on(tmp_path, recordings):
    """A real failure: the plain recording is deleted after it was opened (the index reads it
    again by name). The status bar says so, a notification too, and the replay still plays
    from the file it holds open."""
    import shutil

    assert not recordings["2pc"].name.endswith(".gz")
    plain = tmp_path / "plain.jsonl"
    shutil.copy(recordings["2pc"], plain)
    feed = ReplayFeed(plain)
    plain.unlink()
    app = Workers()
    feed.attach(app, lambda: None)  # type: ignore[arg-type]
    assert feed.clock().index_error and "FileNotFoundError" in feed.clock().index_error
    assert app.notes and "plain.jsonl" in app.notes[0]
    assert feed.store.migrations  # the first poll round, read from the open file


async def test_the_first_frame_written_has_the_recordings_length(recordings):
    from migration_tui.ui.widgets.statusbar import StatusBar

    app = MigrationApp(ReplayFeed(recordings["2pc"]))
    frames: list[str] = []  # the status bar at each frame written
    display = app._display

    def spy_display(screen, renderable) -> None:
        if renderable is not None and screen.query(StatusBar):
            frames.append(screen.query_one(StatusBar).render().plain)
        display(screen, renderable)

    app._display = spy_display  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
    assert frames and "indexing" not in frames[0] and "0:00:00 / 0:0" in frames[0], frames[0]


def _play(path, speed: float, wall_s: float, monkeypatch, ticks: list[float] | None = None):
    """Ticks of a replay on a wall clock the test moves, each when the feed asks for the next
    (``next_tick_s``); (when it repainted, how late each round was shown). ``ticks`` gets the
    clock's position after each tick."""
    from migration_tui import feeds

    wall = [1000.0]
    monkeypatch.setattr(feeds.time, "monotonic", lambda: wall[0])  # the test's clock, not a fault
    feed = ReplayFeed(path, speed=speed)
    repaints: list[float] = []
    feed.attach(NoTimers(), lambda: repaints.append(wall[0]))  # type: ignore[arg-type]
    feed._announced_index = True  # no index worker runs here: its one repaint is another test's
    repaints.clear()
    waiting_since: float | None = None
    lateness: list[float] = []
    while wall[0] < 1000.0 + wall_s:
        wall[0] += feed.next_tick_s()
        applied, count = feed.store.events_applied, len(repaints)
        feed._tick()
        if ticks is not None:
            ticks.append(feed.replay.position)
        if feed.store.events_applied != applied and waiting_since is None:
            waiting_since = wall[0]
        if len(repaints) != count and waiting_since is not None:
            lateness.append(wall[0] - waiting_since)
            waiting_since = None
    return repaints, lateness


async def test_a_replay_at_1x_repaints_once_a_clock_second_not_every_tick(recordings, monkeypatch):
    """Five ticks a second each repainted for one poll round's events; the screen is in whole seconds."""
    ticks: list[float] = []
    repaints, lateness = _play(recordings["2pc"], 1.0, 20.0, monkeypatch, ticks)
    assert 18 <= len(repaints) <= 21  # one a second of the clock (the ticks were 100)
    assert lateness and max(lateness) < 1.0 + 1e-6  # every round on screen by the next second
    # One tick a second too, each just after the clock turns its second (they were five a second).
    assert len(ticks) <= 22
    assert all(0.0 < position % 1.0 <= 0.011 for position in ticks), ticks


def test_the_tick_comes_at_the_clocks_next_second_within_its_bounds(recordings):
    """At 1x the next tick is when the clock turns its second; faster, never under TICK_S apart;
    slower or paused, never over SLOW_TICK_S."""
    from migration_tui.feeds import SLOW_TICK_S, TICK_S, TURN_SLACK_S

    feed = ReplayFeed(recordings["2pc"])
    assert feed.next_tick_s() == TICK_S  # the index not announced yet: a tick watches for its end
    feed._announced_index = True
    feed.replay.seek(10.3)
    feed.replay.playing = True
    assert feed.next_tick_s() == pytest.approx(0.7 + TURN_SLACK_S)
    feed.replay.set_speed(2.0)
    assert feed.next_tick_s() == pytest.approx(0.35 + TURN_SLACK_S)
    feed.replay.set_speed(16.0)
    assert feed.next_tick_s() == TICK_S
    feed.replay.set_speed(0.25)
    assert feed.next_tick_s() == SLOW_TICK_S
    feed.replay.playing = False
    feed.replay.set_speed(1.0)
    assert feed.next_tick_s() == SLOW_TICK_S


async def test_a_slow_replay_still_shows_events_within_a_second(recordings, monkeypatch):
    """At 0.25x the clock's second lasts four real ones: events alone repaint a screen a second old."""
    repaints, lateness = _play(recordings["2pc"], 0.25, 20.0, monkeypatch)
    assert lateness and max(lateness) <= 1.2 + 1e-6  # at most a second and a tick late
    assert len(repaints) <= 2 * 20 / 4 + 2  # the clock's seconds (5), and the rounds between them
