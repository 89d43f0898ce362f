"""The replay engine: a recording played on a virtual clock.

Position is seconds from the recording's start (its header's ``started_at``,
or the first event's time when the header is missing). ``tick(wall_dt)``
moves the position by ``wall_dt * speed`` while playing; ``seek(t)`` jumps
anywhere, forwards or backwards.

Seeking does not re-read the file from the start: ``index()`` reads it once
and keeps a keyframe (a store snapshot and a file offset) every
``keyframe_events`` events, so a seek restores the nearest keyframe at or
before the target and applies at most that many events. Snapshots share
immutable values and full series chunks, so keyframes stay small.

Events are applied in file order. An event stamped earlier than its
predecessor is applied at its predecessor's time: the clock never runs
backwards (``effective_ts``).
"""

from __future__ import annotations

import bisect
import functools
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from migration_tui.events import Event
from migration_tui.recording import (
    MAX_LINE_BYTES,
    ReadStats,
    RecordingReader,
    Row,
    decode_chunks,
    decode_rows,
    decompress_to,
    is_gzip,
)
from migration_tui.store import Store

MIN_SPEED = 0.1
MAX_SPEED = 1000.0
SPEED_STEPS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 100.0, 300.0, 1000.0)
KEYFRAME_EVENTS = 2048  # a seek reads at most this many events past its keyframe


@dataclass(frozen=True, slots=True)
class Keyframe:
    clock: float  # effective time of the last event applied
    offset: int  # file offset just past that event
    store: Store


class Replay:
    """Plays one recording into a Store. Not thread-safe except ``index()``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        keyframe_events: int = KEYFRAME_EVENTS,
        store_factory: Callable[[], Store] = Store,
    ) -> None:
        self.reader = RecordingReader(path)
        self.keyframe_events = max(1, keyframe_events)
        self._store_factory = store_factory
        self._plain_tmp: IO[bytes] | None = None
        if is_gzip(path):
            # Offsets into a gzip stream cannot be sought cheaply: keep a plain copy.
            self._plain_tmp = tempfile.NamedTemporaryFile(prefix="migration-tui-replay-", suffix=".jsonl")
            decompress_to(path, self._plain_tmp)
            self._fp: IO[bytes] = self._plain_tmp
        else:
            self._fp = open(path, "rb", buffering=1024 * 1024)
        self._reader_for_offsets = _PlainReader(self.reader, self._fp)
        first = self._first_event_ts()
        header_start = self.reader.started_at
        self.start: float = header_start if header_start is not None else (first if first is not None else 0.0)
        self.speed = 1.0
        self.playing = True
        self.finished = False
        self.position = 0.0
        self.end_clock: float | None = None  # known after index()
        self.index_stats: ReadStats | None = None
        self._keyframes: list[Keyframe] = []
        self._clocks: list[float] = []
        self._lock = threading.Lock()
        self._reset_to(None)

    # --- reading ---------------------------------------------------------------

    def _first_event_ts(self) -> float | None:
        for row in self._reader_for_offsets.rows_from(self.reader.data_offset, ReadStats()):
            return row[1]
        return None

    def _reset_to(self, keyframe: Keyframe | None) -> None:
        self.stats = ReadStats()
        if keyframe is None:
            self.store = self._store_factory()
            self._clock = float("-inf")
            self._target = float("-inf")
            offset = self.reader.data_offset
        else:
            self.store = keyframe.store.snapshot()
            self._clock = keyframe.clock
            self._target = keyframe.clock
            offset = keyframe.offset
        self._rows: Iterator[Row] = self._reader_for_offsets.rows_from(offset, self.stats)
        self._pending: Row | None = None
        self.finished = False

    def _advance_to(self, target: float) -> None:
        """Apply every event whose effective time is at or before ``target``."""
        store = self.store
        self._target = target
        pending = self._pending
        if pending is not None:
            if pending[1] > target:
                return
            store.fold((pending,), clock=pending[1])
            self._pending = None
        self._clock, _offset, self._pending = store.fold(self._rows, until=target, clock=self._clock)
        if self._pending is None:
            self.finished = True

    # --- keyframes -------------------------------------------------------------

    def index(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Read the whole recording once, keeping keyframes; safe to run in a thread."""
        stats = ReadStats()
        store = self._store_factory()
        clock = float("-inf")
        count = 0
        every = self.keyframe_events
        since = 0  # events since the last keyframe
        with open(self._fp.name, "rb", buffering=0) as fp:  # decode_chunks reads large pieces
            fp.seek(self.reader.data_offset)
            for chunk in decode_chunks(fp, stats, self.reader.data_offset):
                events = chunk.all()
                done = 0
                while done < len(events):
                    take = min(every - since, len(events) - done)
                    part = events if take == len(events) else events[done : done + take]
                    clock, _pending = store.fold_events(part, clock=clock)
                    done += take
                    since += take
                    count += take
                    if since < every:
                        break
                    since = 0
                    if should_stop():
                        return
                    frame = Keyframe(clock, chunk.offset_after(done - 1), store.snapshot())
                    with self._lock:
                        self._keyframes.append(frame)
                        self._clocks.append(clock)
        self.end_clock = clock if count else self.start
        self.index_stats = stats

    @property
    def indexed(self) -> bool:
        return self.index_stats is not None

    def plain_size(self) -> int:
        """Bytes of the recording as the index reads it (decompressed, for a gzip file)."""
        return os.fstat(self._fp.fileno()).st_size

    @property
    def duration(self) -> float | None:
        return None if self.end_clock is None else max(0.0, self.end_clock - self.start)

    @property
    def keyframe_count(self) -> int:
        return len(self._keyframes)

    # --- playing ---------------------------------------------------------------

    def seek(self, position: float) -> None:
        """Show the state at ``position`` seconds from the start (clamped to the recording)."""
        position = max(0.0, position)
        if self.duration is not None:
            position = min(position, self.duration)
        target = self.start + position
        with self._lock:
            i = bisect.bisect_right(self._clocks, target) - 1
            frame = self._keyframes[i] if i >= 0 else None
        # Reading on from where we are beats a keyframe that is no nearer.
        current_ok = target >= self._target and (frame is None or frame.clock <= self._target)
        if not current_ok:
            self._reset_to(frame)
        self.position = position
        self._advance_to(target)

    def tick(self, wall_dt: float) -> None:
        """Move the clock on by ``wall_dt`` real seconds at the current speed."""
        if not self.playing or wall_dt <= 0:
            return
        position = self.position + wall_dt * self.speed
        if self.duration is not None and position >= self.duration:
            position = self.duration
            self.playing = False
        self.position = position
        self._advance_to(self.start + position)
        if self.finished and self.duration is None:
            # Not indexed yet: stop at the last event instead of running on past it.
            last = max(self._clock - self.start, 0.0)
            if self.position > last:
                self.position = last
                self.playing = False

    def set_speed(self, speed: float) -> None:
        self.speed = min(MAX_SPEED, max(MIN_SPEED, speed))

    def faster(self) -> None:
        self.set_speed(next((s for s in SPEED_STEPS if s > self.speed + 1e-9), MAX_SPEED))

    def slower(self) -> None:
        self.set_speed(next((s for s in reversed(SPEED_STEPS) if s < self.speed - 1e-9), MIN_SPEED))

    def toggle(self) -> None:
        if not self.playing and self.duration is not None and self.position >= self.duration:
            self.seek(0.0)
        self.playing = not self.playing

    @property
    def now(self) -> float:
        """The virtual wall clock: the recording's time at the current position."""
        return self.start + self.position

    def close(self) -> None:
        self._fp.close()

    def __enter__(self) -> Replay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _PlainReader:
    """Decodes events from an uncompressed recording at byte offsets."""

    def __init__(self, reader: RecordingReader, fp: IO[bytes]) -> None:
        self._reader = reader
        self._fp = fp

    def rows_from(self, offset: int, stats: ReadStats, fp: IO[bytes] | None = None) -> Iterator[Row]:
        """Decoded rows (``recording.decode_rows``) from byte ``offset`` on; a line is read at
        most ``MAX_LINE_BYTES + 1`` bytes at a time, so an over-long one never fills memory."""
        fp = fp if fp is not None else self._fp
        fp.seek(offset)
        return decode_rows(iter(functools.partial(fp.readline, MAX_LINE_BYTES + 1), b""), stats, offset)

    def events_from(self, offset: int, stats: ReadStats, fp: IO[bytes] | None = None) -> Iterator[tuple[int, Event]]:
        for position, ts, source, kind, data in self.rows_from(offset, stats, fp):
            yield position, Event(ts, source, kind, data)
