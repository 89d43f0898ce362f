"""A sparkline that keeps gaps: pure functions from samples to block characters.

Textual's Sparkline draws a line through missing data; an operator must see
that a source went quiet, so a column with no value is left blank. Each
column covers an equal slice of the time window, ending at ``now``, and
shows the largest value in its slice (the worst, for latency and errors).
"""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"
GAP = " "


def bucket(points: Sequence[tuple[float, float | None]], start: float, end: float, width: int) -> list[float | None]:
    """The largest value in each of ``width`` equal slices of [start, end]; None where none."""
    if width <= 0 or end <= start:
        return []
    out: list[float | None] = [None] * width
    span = (end - start) / width
    for ts, value in points:
        if value is None or ts < start or ts > end:
            continue
        index = min(width - 1, int((ts - start) / span))
        current = out[index]
        if current is None or value > current:
            out[index] = value
    return out


def blocks(values: Sequence[float | None], floor: float | None = None, ceiling: float | None = None) -> str:
    """One block character per value, scaled between floor and ceiling; None stays a gap."""
    numbers = [v for v in values if v is not None]
    if not numbers:
        return GAP * len(values)
    lo = min(numbers) if floor is None else min(floor, min(numbers))
    hi = max(numbers) if ceiling is None else max(ceiling, max(numbers))
    span = hi - lo
    chars = []
    top = len(BLOCKS) - 1
    for value in values:
        if value is None:
            chars.append(GAP)
        elif span <= 0:
            chars.append(BLOCKS[0])
        else:
            chars.append(BLOCKS[max(0, min(top, int((value - lo) / span * top + 0.5)))])
    return "".join(chars)
