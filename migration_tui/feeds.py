"""Feeds: what drives the store the screens render.

A feed owns a ``Store`` and a clock. ``ReplayFeed`` plays a recording on a
virtual clock; ``LiveFeed`` runs live sources (anything following
``sources.base.Source``) on the app's loop through ``sources.runner.SourceRunner``,
the supervisor ``record`` uses too. Both call
``on_change`` at most once per frame, however many events arrive: the screen
then lets each widget decide whether the section it shows changed.

Feeds never touch widgets. The index worker of a replay only fills the
replay's keyframes; the tick notices when it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from migration_tui.events import Event
from migration_tui.store import Store

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

    from migration_tui.recording import RecordingWriter
    from migration_tui.replay import Replay
    from migration_tui.sources.base import Backoff, Source
    from migration_tui.sources.runner import SourceRunner

#: Shortest time between two change notifications (one repaint per frame at most).
#: The first event after a quiet frame is drawn at once; a burst waits for the frame's end.
FRAME_S = 0.05
#: How often the replay clock advances while playing, at most (a replay faster than 1x).
TICK_S = 0.2
#: How often it advances at least: events of a replay slower than 1x show within a second.
SLOW_TICK_S = 1.0
#: A tick at the turn of the clock's second lands this long after it, never just before.
TURN_SLACK_S = 0.01
#: A recording this small (its plain bytes) is indexed before the first frame, on the app's
#: thread: about 30 ms on the project's machine, which an index thread would take from the
#: first frame anyway (it holds the GIL), and the first frame then has the recording's length
#: rather than a second frame a moment later. A larger one is indexed by a worker thread.
INLINE_INDEX_BYTES = 1 << 20

OnChange = Callable[[], None]


class ClockState(msgspec.Struct, frozen=True):
    """What the status bar shows about time: a replay's position, or nothing for live."""

    position_s: float | None = None
    duration_s: float | None = None
    speed: float = 1.0
    playing: bool = True
    indexing: bool = False
    index_error: str | None = None
    #: Lines of the recording the reader could not use (known once indexed).
    skipped_lines: int = 0
    #: False when the file does not start with a recording header (perhaps not a recording).
    header_ok: bool = True
    #: ``--start``, while it waits for the index (seeking without keyframes reads every event before it).
    seeking_to_s: float | None = None


def _keep() -> None:
    """Leave every object alive now out of future garbage collections (``gc.freeze``), after a
    collection so that no garbage is kept with them. Frozen objects are still freed when their
    last reference goes; only a cycle among them would outlive its use, so this is for objects
    kept until exit: the start-up heap and a replay's index."""
    import gc

    gc.collect()
    gc.freeze()


class ReplayFeed:
    """A recording played on a virtual clock; ``now()`` is the recording's time."""

    mode = "REPLAY"
    place = ""
    read_only = False
    poll_interval_s = 2.0
    warnings: tuple[str, ...] = ()

    def __init__(
        self,
        path: str | Path,
        speed: float = 1.0,
        start: float = 0.0,
        playing: bool = True,
        keep_index: bool = False,
        inline_index_bytes: int = INLINE_INDEX_BYTES,
    ) -> None:
        """``keep_index``: once indexed, the keyframes (and all else then alive) are left out of the
        garbage collector's full collections for good (``gc.freeze``): they live until exit, and a
        fleet's index is a few hundred thousand objects that each full collection walked again, for
        about 100 ms. For ``migration-tui replay``, not for tests sharing a process (see ``_keep``).
        ``inline_index_bytes``: a recording of at most this many plain bytes is indexed at
        ``attach``, before the first frame; a larger one by a worker thread."""
        from migration_tui.replay import Replay

        self.path = Path(path)
        self.replay: Replay = Replay(self.path)
        self.replay.set_speed(speed)
        self.replay.playing = playing
        self._start_s = start
        self._resume_after_start = playing
        self._on_change: OnChange = lambda: None
        self._last_tick: float | None = None
        self._last_repaint = float("-inf")
        self._index_error: str | None = None
        self._announced_index = False
        self._stop_indexing = threading.Event()
        self._keep_index = keep_index
        self._inline_index_bytes = inline_index_bytes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._app: App[Any] | None = None
        self._tick_timer: Timer | None = None

    @property
    def store(self) -> Store:
        # A seek backwards replaces the replay's store, so always ask it.
        return self.replay.store

    def now(self) -> float:
        return self.replay.now

    def clock(self) -> ClockState:
        replay = self.replay
        return ClockState(
            position_s=replay.position,
            duration_s=replay.duration,
            speed=replay.speed,
            playing=replay.playing,
            indexing=not replay.indexed and self._index_error is None,
            index_error=self._index_error,
            skipped_lines=replay.index_stats.skipped_lines if replay.index_stats is not None else 0,
            header_ok=replay.reader.stats.header_ok,
            seeking_to_s=self._start_s or None,
        )

    # --- lifecycle -------------------------------------------------------------

    def attach(self, app: App[Any], on_change: OnChange) -> None:
        """Start the clock and the index (a worker thread's, unless the recording is small);
        ``on_change`` runs on the app's loop."""
        self._on_change = on_change
        self._loop = asyncio.get_running_loop()
        self._app = app
        inline = self.replay.plain_size() <= self._inline_index_bytes
        if inline:
            self._index_inline()  # a failure is kept in _index_error and shown, as the worker's
        if self.replay.playing and not self._start_s:
            # Open one tick in: a poll round is stamped a moment after the recording's start,
            # so at exactly 0 s the screen would be empty and fill at the first tick, a second
            # full frame 0.2 s after the first. The clock still reads 0:00:00.
            self.replay.seek(TICK_S)
        else:
            self.replay._advance_to(self.replay.start)  # exactly what is stamped at 0 s
        if self._start_s:
            # Seek once the index has keyframes: without them a seek reads every event up to
            # the offset on this thread, which for a long recording freezes the first paint.
            self.replay.playing = False
        if inline:
            self._announce_index()
        else:
            app.run_worker(
                self._index,
                name="replay-index",
                group="replay-index",
                description=f"index {self.path.name} for fast seeking",
                exclusive=True,
                exit_on_error=False,
                thread=True,
            )
        self._last_tick = time.monotonic()
        self._schedule_tick()

    def _index_inline(self) -> None:
        """Index a small recording here and now. A failure is shown as the worker's would be: on
        the status bar and in a notification."""
        try:
            self.replay.index()
        except Exception as exc:
            self._index_error = f"{type(exc).__name__}: {exc}"
            if self._app is not None:
                self._app.notify(
                    f"index {self.path.name} for fast seeking: {exc}",
                    title="index failed",
                    severity="error",
                    markup=False,
                )

    def _index(self) -> None:
        try:
            self.replay.index(should_stop=self._stop_indexing.is_set)
        except Exception as exc:  # shown on the status bar, then re-raised to the worker
            self._index_error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            # The status bar learns the length now, not at the next tick: a short recording's
            # index ends while the first frame is drawn, and one frame carries both.
            loop = self._loop
            if loop is not None and not self._stop_indexing.is_set():
                with contextlib.suppress(RuntimeError):  # the app's loop has already closed
                    loop.call_soon_threadsafe(self._announce_index)

    def _announce_index(self) -> None:
        if not self._announced_index:
            self._announced_index = True
            if self._keep_index and self.replay.indexed:
                # After the next frame: a full collection takes 10-15 ms at start-up.
                if self._app is not None:
                    self._app.call_after_refresh(_keep)
                else:
                    _keep()
            if self._start_s:
                self._seek_to_start()  # play resumes at the next tick, within SLOW_TICK_S
            self._repaint()

    def next_tick_s(self) -> float:
        """Real seconds to the next tick: when the clock turns its next second, as the screen
        shows whole seconds (at 1x one tick a second, not five), but at least ``TICK_S`` apart
        faster than 1x and at most ``SLOW_TICK_S`` slower than it or paused; ``TICK_S`` while the
        index is not yet announced."""
        replay = self.replay
        if not self._announced_index:
            return TICK_S  # until the index is announced, each tick looks for its end too
        if not replay.playing:
            return SLOW_TICK_S
        speed = replay.speed
        position = replay.position
        to_turn = (math.floor(position) + 1 - position) / speed + TURN_SLACK_S
        return min(SLOW_TICK_S, max(TICK_S if speed > 1 else TURN_SLACK_S, to_turn))

    def _schedule_tick(self) -> None:
        """The next tick, ``next_tick_s`` from now (again after a control moved the clock)."""
        app = self._app
        if app is None:
            return
        if self._tick_timer is not None:
            self._tick_timer.stop()
        self._tick_timer = app.set_timer(self.next_tick_s(), self._timed_tick, name="replay-tick")

    def _timed_tick(self) -> None:
        self._tick_timer = None
        self._tick()
        self._schedule_tick()

    def _tick(self) -> None:
        wall_now = time.monotonic()
        wall_dt = 0.0 if self._last_tick is None else wall_now - self._last_tick
        self._last_tick = wall_now
        changed = False
        if self.replay.playing:
            replay = self.replay
            events, moment = self._shown_moment()
            replay.tick(wall_dt)
            events_now, moment_now = self._shown_moment()
            # The screen shows the recording a second at a time, as its clock does (every age and
            # figure on it is in whole seconds): a repaint when the clock's second changes, play
            # stops or a seek replaced the store; events alone repaint only a screen a second old
            # (played slower than 1x). Not five repaints a second for one poll round's events.
            changed = moment_now != moment or (events_now != events and wall_now - self._last_repaint >= 1.0)
        if not self._announced_index and (self.replay.indexed or self._index_error):
            self._announce_index()  # in case the worker's own call did not get through
        elif changed:
            self._repaint()

    def _repaint(self) -> None:
        self._last_repaint = time.monotonic()
        self._on_change()

    def _shown_moment(self) -> tuple[int, tuple[int, int, bool]]:
        """Events applied so far, and the moment shown: the store (a seek replaces it), the second, play."""
        replay = self.replay
        store = replay.store
        return store.events_applied, (id(store), int(replay.position), replay.playing)

    def _seek_to_start(self) -> None:
        start = self._start_s
        self._drop_start()
        self.replay.seek(start)
        self._last_tick = time.monotonic()

    def _drop_start(self) -> None:
        """A seek of one's own replaces a ``--start`` still waiting for the index."""
        if self._start_s:
            self._start_s = 0.0
            self.replay.playing = self._resume_after_start

    def stop(self) -> None:
        self._stop_indexing.set()

    # --- controls --------------------------------------------------------------

    def toggle(self) -> None:
        if self._start_s:  # still waiting to seek: play or pause once there
            self._resume_after_start = not self._resume_after_start
            self._repaint()
            return
        self.replay.toggle()
        self._last_tick = time.monotonic()
        self._moved()

    def seek_by(self, delta_s: float) -> None:
        self._drop_start()
        self.replay.seek(max(0.0, self.replay.position + delta_s))
        self._moved()

    def seek_to(self, position_s: float) -> None:
        self._drop_start()
        self.replay.seek(position_s)
        self._moved()

    def faster(self) -> None:
        self.replay.faster()
        self._moved()

    def slower(self) -> None:
        self.replay.slower()
        self._moved()

    def _moved(self) -> None:
        """The clock jumped, stopped, started or changed pace: repaint now, and tick at its
        next second from here."""
        self._repaint()
        self._schedule_tick()


class LiveFeed:
    """Live sources as asyncio tasks; their events reach the store on the app's loop."""

    poll_interval_s = 2.0

    def __init__(
        self,
        sources: Iterable[Source],
        mode: str = "LIVE",
        recorder: RecordingWriter | None = None,
        poll_interval_s: float = 2.0,
        restart_backoff: Backoff | None = None,
    ) -> None:
        self.sources = list(sources)
        #: How long a crashed source waits before it is started again (None: the runner's default).
        self.restart_backoff = restart_backoff
        self.mode = mode
        #: Shown in the status bar: the environment's name or the controller's host (``view.place_label``).
        self.place = ""
        #: True for ``watch --read-only`` and the wall: the status bar shows a READ-ONLY badge.
        self.read_only = mode == "WALL"
        self.store = Store()
        self.recorder = recorder
        self.poll_interval_s = poll_interval_s
        self._on_change: OnChange = lambda: None
        self._runner: SourceRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._flush_scheduled = False
        self._last_flush = float("-inf")

    def now(self) -> float:
        return time.time()

    def clock(self) -> ClockState:
        return ClockState()

    @property
    def warnings(self) -> tuple[str, ...]:
        """The sources' standing warnings (TLS verification off), each once."""
        return tuple(dict.fromkeys(w for source in self.sources for w in getattr(source, "warnings", ())))

    def attach(self, app: App[Any], on_change: OnChange) -> None:
        self._on_change = on_change
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        # The same supervisor as ``record``: a source that raises is shown as ✖ with its message
        # (a source_error), logged once, and started again with backoff.
        from migration_tui.sources.runner import SourceRunner

        self._runner = SourceRunner(self.sources, self.emit, restart_backoff=self.restart_backoff)
        self._runner.start()
        # Ages and freshness move with the wall clock even when nothing arrives.
        app.set_interval(1.0, on_change, name="live-clock")

    def emit(self, event: Event) -> None:
        """Apply an event; safe to call from another thread."""
        loop = self._loop
        if loop is not None and threading.get_ident() != self._loop_thread:
            loop.call_soon_threadsafe(self.emit, event)
            return
        self.store.apply(event)
        if self.recorder is not None:
            self.recorder.write(event)
        if not self._flush_scheduled and loop is not None:
            # Leading-edge throttle: at once if the last repaint is a frame old, else at the frame's end.
            self._flush_scheduled = True
            loop.call_later(max(0.0, self._last_flush + FRAME_S - loop.time()), self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._loop is not None:
            self._last_flush = self._loop.time()
        self._on_change()

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
        if self.recorder is not None:
            self.recorder.close()


Feed = ReplayFeed | LiveFeed
