"""A sparkline that keeps gaps: pure functions from samples to block characters.

Textual's Sparkline draws a line through missing data; an operator must see
that a source went quiet, so a column with no value is left blank. Each
column covers an equal slice of the time window and shows the largest value
in its slice (the worst, for latency and errors). The window ends at the
first column edge at or after ``now`` (``quantised_end``): the slices sit
on a grid of the clock, so a sample stays in its column as time goes on.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from itertools import islice

BLOCKS = "▁▂▃▄▅▆▇█"
GAP = " "


def quantised_end(now: float, span_s: float, columns: int) -> float:
    """``now`` rounded up to a column's edge: the window moves a column at a time, not every frame
    (a sample stays in its column; only the newest column takes new ones)."""
    step = span_s / max(1, columns)
    return math.ceil(now / step) * step if step > 0 else now


def bucket(
    points: Sequence[tuple[float, float | None]], start: float, end: float, width: int, hold_s: float = 0.0
) -> list[float | None]:
    """The largest value in each of ``width`` equal slices of [start, end]; None where none.

    ``points`` are in time order. A slice with no sample of its own keeps the
    previous sample for up to ``hold_s`` seconds: a source polled every 2 s
    leaves some 1.5 s slices empty, and those are not gaps. A ``None`` sample
    (the source failed) and a silence longer than ``hold_s`` stay gaps.
    """
    if width <= 0 or end <= start:
        return []
    out: list[float | None] = [None] * width
    sampled = [False] * width
    span = (end - start) / width
    last = width - 1
    first = bisect_left(points, start, key=_time)  # the points are in time order
    for ts, value in islice(points, first, None):
        if ts > end:
            break
        index = int((ts - start) / span)
        if index > last:
            index = last
        sampled[index] = True
        if value is not None:
            current = out[index]
            if current is None or value > current:
                out[index] = value
    if hold_s > 0:
        _hold(points, out, sampled, start, span, hold_s, max(0, first - 1))
    return out


def _time(point: tuple[float, float | None]) -> float:
    return point[0]


def _hold(
    points: Sequence[tuple[float, float | None]],
    out: list[float | None],
    sampled: list[bool],
    start: float,
    span: float,
    hold_s: float,
    i: int = 0,
) -> None:
    """Fill slices without a sample from the newest earlier sample younger than ``hold_s``
    (``points[i]`` is the newest before ``start`` or older: the points before it cannot be)."""
    latest: tuple[float, float | None] | None = None
    count = len(points)
    for index in range(len(out)):
        slice_start = start + index * span
        while i < count and points[i][0] < slice_start:
            latest = points[i]
            i += 1
        if sampled[index] or latest is None or latest[1] is None:
            continue
        if slice_start - latest[0] <= hold_s:
            out[index] = latest[1]


def blocks(values: Sequence[float | None], floor: float | None = None, ceiling: float | None = None) -> str:
    """One block character per value, scaled between floor and ceiling; None stays a gap."""
    numbers = [v for v in values if v is not None]
    if not numbers:
        return GAP * len(values)
    lo = min(numbers) if floor is None else min(floor, min(numbers))
    hi = max(numbers) if ceiling is None else max(ceiling, max(numbers))
    span = hi - lo
    if span <= 0:
        return "".join(GAP if value is None else BLOCKS[0] for value in values)
    chars = []
    top = len(BLOCKS) - 1
    for value in values:
        if value is None:
            chars.append(GAP)
        else:
            level = int((value - lo) / span * top + 0.5)
            chars.append(BLOCKS[0 if level < 0 else top if level > top else level])
    return "".join(chars)
