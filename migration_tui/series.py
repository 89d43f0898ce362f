"""A bounded time series that is cheap to append to and cheap to snapshot.

Samples live in fixed-size chunks of ``array('d')``. Full chunks are never
changed again, so a snapshot shares them and copies only the open chunk:
that is what lets the replay engine keep many keyframes of long series in
little memory. Memory is bounded by ``capacity`` samples plus one chunk.

A value of ``None`` is a gap (the source had no answer, or the number was
invalid) and is stored as NaN; readers get ``None`` back, so a sparkline
draws a gap instead of a line across it.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Iterator
from itertools import chain

CHUNK = 128
_NAN = float("nan")


class Series:
    __slots__ = ("resolution_s", "capacity", "_chunks", "_chunked", "_ts", "_vals", "_bucket")

    def __init__(self, capacity: int = 3600, resolution_s: float = 1.0) -> None:
        self.capacity = max(1, capacity)
        self.resolution_s = resolution_s
        self._chunks: deque[tuple[array, array]] = deque()
        self._chunked = 0  # samples held in _chunks
        self._ts = array("d")
        self._vals = array("d")
        self._bucket: float | None = None

    def append(self, ts: float, value: float | None) -> None:
        """Add a sample; one in the same resolution bucket as the last replaces it."""
        bucket = ts // self.resolution_s if self.resolution_s > 0 else ts
        stored = _NAN if value is None else value
        if bucket == self._bucket and self._ts:
            self._ts[-1] = ts
            self._vals[-1] = stored
            return
        if self._bucket is not None and bucket < self._bucket:
            return  # out of order: a series only moves forward
        self._bucket = bucket
        if len(self._ts) >= CHUNK:
            self._chunks.append((self._ts, self._vals))
            self._chunked += len(self._ts)
            self._ts = array("d")
            self._vals = array("d")
            while self._chunks and self._chunked - len(self._chunks[0][0]) >= self.capacity:
                self._chunked -= len(self._chunks.popleft()[0])
        self._ts.append(ts)
        self._vals.append(stored)

    def __len__(self) -> int:
        return min(self.capacity, self._chunked + len(self._ts))

    def _all(self) -> Iterator[tuple[float, float]]:
        for ts_chunk, val_chunk in self._chunks:
            yield from zip(ts_chunk, val_chunk, strict=True)
        yield from zip(self._ts, self._vals, strict=True)

    def points(self, since: float | None = None) -> list[tuple[float, float | None]]:
        """The retained samples, oldest first, as (ts, value or None)."""
        if since is not None:
            # Timestamps only grow: each chunk's samples from ``since`` on are found by bisection
            # and copied as slices (a sparkline's minute of an hour's window, every second).
            out: list[tuple[float, float | None]] = []
            skip = self._chunked + len(self._ts) - len(self)  # older than the window
            for ts_chunk, val_chunk in chain(self._chunks, ((self._ts, self._vals),)):
                count = len(ts_chunk)
                if skip >= count or not count or ts_chunk[-1] < since:
                    skip = max(0, skip - count)
                    continue
                start = max(skip, bisect_left(ts_chunk, since))
                skip = 0
                out.extend(zip(ts_chunk[start:], val_chunk[start:], strict=True))
            return [(ts, None if value != value else value) for ts, value in out]  # NaN: a gap
        out = [(t, None if math.isnan(v) else v) for t, v in self._all()]
        return out[-self.capacity :]

    def newest_first(self) -> Iterator[tuple[float, float | None]]:
        """The retained samples, newest first, as (ts, value or None), read only as far as asked.

        For readers that want the last few samples (how long has a rule been broken?):
        ``points()`` copies the whole window, up to ``capacity`` samples, every time.
        """
        left = len(self)
        for ts_chunk, val_chunk in chain(((self._ts, self._vals),), reversed(self._chunks)):
            for index in range(len(ts_chunk) - 1, -1, -1):
                if left <= 0:
                    return
                left -= 1
                value = val_chunk[index]
                yield ts_chunk[index], None if math.isnan(value) else value

    def latest(self) -> float | None:
        """The newest value, or None if there is none or it is a gap."""
        if self._vals:
            value = self._vals[-1]
        elif self._chunks:
            value = self._chunks[-1][1][-1]
        else:
            return None
        return None if math.isnan(value) else value

    def first_ts(self) -> float | None:
        """The oldest retained sample's time (without copying the window, as ``points`` does)."""
        skip = max(0, self._chunked + len(self._ts) - self.capacity)  # older than the window
        for ts_chunk, _values in chain(self._chunks, ((self._ts, self._vals),)):
            if skip < len(ts_chunk):
                return ts_chunk[skip]
            skip -= len(ts_chunk)
        return None

    def latest_ts(self) -> float | None:
        if self._ts:
            return self._ts[-1]
        if self._chunks:
            return self._chunks[-1][0][-1]
        return None

    def snapshot(self) -> Series:
        """A copy that shares the full chunks and copies the open one."""
        copy = Series.__new__(Series)
        copy.capacity = self.capacity
        copy.resolution_s = self.resolution_s
        copy._chunks = deque(self._chunks)
        copy._chunked = self._chunked
        copy._ts = array("d", self._ts)
        copy._vals = array("d", self._vals)
        copy._bucket = self._bucket
        return copy
