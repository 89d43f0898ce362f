"""What a chart of the Metrics tab (or the wall) shows, as plain data: no Textual, no plotext.

A ``ChartData`` is everything one chart draws: its lines as segments (a gap in
a series ends a segment, so no line is ever drawn through missing data), the
rule's threshold, the marked moments on the time axis (phase changes, breaker
opens, the rule firing, operator actions) and how many invalid samples were
left out. Two equal ``ChartData`` draw the same picture, which is how a chart
knows it need not draw again.

Time is in seconds relative to the window's end (``0`` is now, or the replay's
play head), rounded to a column of the chart, so a window that slides by less
than a column does not change the picture.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import msgspec

from migration_tui.model import Migration
from migration_tui.rules import Rule
from migration_tui.safe_text import clean
from migration_tui.store import Store
from migration_tui.systems.base import MetricSpec
from migration_tui.ui.lookup import series_key, threshold_rule
from migration_tui.ui.widgets.sparkline import bucket

#: The windows ``w`` cycles through: (label, seconds); None = everything the store holds.
WINDOWS: tuple[tuple[str, float | None], ...] = (
    ("1 m", 60.0),
    ("5 m", 300.0),
    ("15 m", 900.0),
    ("1 h", 3600.0),
    ("all", None),
)
DEFAULT_WINDOW = 1  # 5 m
#: The letter each kind of marked moment carries on the chart, and its word in the key.
MARK_LETTERS: dict[str, tuple[str, str]] = {
    "phase": ("P", "phase or status change"),
    "breaker": ("B", "breaker opened"),
    "rule": ("R", "rule firing"),
    "action": ("A", "operator action"),
}
#: A gap shorter than this many poll intervals is a slow poll, not missing data (as the sparklines).
HOLD_POLLS = 2.0


class Line(msgspec.Struct, frozen=True):
    """One series: its label and its unbroken runs of samples, as (xs, ys) pairs."""

    label: str
    segments: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]


class Mark(msgspec.Struct, frozen=True):
    """A moment on the time axis: where (seconds before the end), what kind, and in words."""

    x: float
    kind: str
    words: str


class ChartData(msgspec.Struct, frozen=True):
    title: str
    unit: str
    #: The window: from ``-span_s`` to 0 (the end).
    span_s: float
    lines: tuple[Line, ...]
    threshold: float | None = None
    #: "p95 ≤ 50 ms" — which series the limit is on, and which side is fine.
    threshold_words: str = ""
    marks: tuple[Mark, ...] = ()
    #: Invalid samples in the window (NaN, infinite, out of range): not plotted, counted.
    invalid: int = 0
    y_range: tuple[float, float] = (0.0, 1.0)

    @property
    def empty(self) -> bool:
        return not any(line.segments for line in self.lines)


def window_label(index: int) -> str:
    return WINDOWS[index % len(WINDOWS)][0]


def span_for(index: int, store: Store, keys: Iterable[str], end: float) -> float:
    """Seconds the window spans: the chosen one, or less while the data is younger than that,
    so that a fresh migration fills the charts instead of their last few columns ("all": the
    oldest sample's age). Either way rounded up to a minute, and at least one."""
    chosen = WINDOWS[index % len(WINDOWS)][1]
    starts = [
        start
        for key in keys
        if (series := store.series.get(key)) is not None and (start := series.first_ts()) is not None
    ]
    if not starts:
        return chosen if chosen is not None else 60.0
    age = float(max(60.0, math.ceil(max(0.0, end - min(starts)) / 60.0) * 60.0))
    return age if chosen is None else min(chosen, age)


def segments(values: Sequence[float | None], start: float, end: float) -> tuple[tuple[tuple[float, ...], ...], ...]:
    """The bucketed values as unbroken runs of (x, y): a None (a gap) ends a run.

    ``x`` is the centre of the value's slice of [start, end], relative to ``end``.
    """
    if not values:
        return ()
    width = (end - start) / len(values)
    runs: list[tuple[tuple[float, ...], tuple[float, ...]]] = []
    xs: list[float] = []
    ys: list[float] = []
    for index, value in enumerate(values):
        if value is None:
            if xs:
                runs.append((tuple(xs), tuple(ys)))
                xs, ys = [], []
            continue
        xs.append(round(start + (index + 0.5) * width - end, 3))
        ys.append(value)
    if xs:
        runs.append((tuple(xs), tuple(ys)))
    return tuple(runs)


def firing_times(points: Iterable[tuple[float, float | None]], rule: Rule) -> list[float]:
    """When ``rule`` started firing on these samples: past its threshold for ``for_s`` without a break.

    A gap or a sample within the threshold ends a run. (The rules also hold back a judgement on
    stale data or a failing source; a chart marks what the samples it draws say.)
    """
    fired: list[float] = []
    run_start: float | None = None
    done = False
    for ts, value in points:
        if value is None or not rule.breaks(value):
            run_start, done = None, False
            continue
        if run_start is None:
            run_start = ts
        if not done and ts - run_start >= rule.for_s:
            fired.append(ts)
            done = True
    return fired


def breakers_of(store: Store, migration: Migration) -> list[str]:
    """The breakers that belong to a migration: its pair (as its controller files it), its id, or its id and a word."""
    names = {migration.scoped(migration.pair) if migration.pair else "", migration.pair or "", migration.id} - {""}
    return [name for name in store.breaker_opens if name in names or name.startswith(f"{migration.id} ")]


def moments(store: Store, migration: Migration, start: float, end: float) -> list[tuple[float, str, str]]:
    """Phase changes, breaker opens and operator actions of a migration in [start, end], as (ts, kind, words)."""
    out = [(ts, kind, words) for ts, kind, words in store.marks.get(migration.id, ()) if start <= ts <= end]
    for name in breakers_of(store, migration):
        out.extend((ts, "breaker", f"breaker {clean(name, 40)} opened") for ts in store.breaker_opens[name])
    return sorted(moment for moment in out if start <= moment[0] <= end)


def _unit(spec: MetricSpec) -> str:
    return spec.unit.strip()


def chart_data(
    store: Store,
    migration: Migration,
    specs: Sequence[MetricSpec],
    title: str,
    end: float,
    span_s: float,
    columns: int,
    poll_interval_s: float,
    rules: tuple[Rule, ...] | None = None,
    with_moments: Sequence[tuple[float, str, str]] = (),
) -> ChartData:
    """The chart of ``specs`` (one line each, one unit) over ``[end - span_s, end]`` at ``columns`` points."""
    start = end - span_s
    columns = max(2, columns)
    lines = []
    numbers: list[float] = []
    invalid = 0
    threshold: Rule | None = None
    threshold_spec: MetricSpec | None = None
    marks: list[Mark] = [Mark(round(ts - end, 3), kind, words) for ts, kind, words in with_moments]
    for spec in specs:
        key = series_key(store, migration, spec.series)
        series = store.series.get(key) if key is not None else None
        points = series.points(since=start - 1.0) if series is not None else []
        values = bucket(points, start, end, columns, hold_s=HOLD_POLLS * poll_interval_s)
        numbers.extend(v for v in values if v is not None)
        lines.append(Line(spec.label, segments(values, start, end)))
        if key is not None:
            invalid += sum(1 for ts in store.invalid_samples.get(key, ()) if start <= ts <= end)
        rule = threshold_rule(migration.system, spec.series, rules)
        if rule is not None and threshold is None:
            threshold, threshold_spec = rule, spec
            if series is not None:
                earlier = series.points(since=start - rule.for_s - 1.0)
                for ts in firing_times(earlier, rule):
                    if start <= ts <= end:
                        marks.append(Mark(round(ts - end, 3), "rule", f"{rule.name} firing"))
    unit = _unit(specs[0]) if specs else ""
    words = ""
    limit = None
    if threshold is not None and threshold_spec is not None:
        limit = threshold.threshold
        side = "≤" if threshold.op == ">" else "≥"
        words = f"{threshold_spec.label} {side} {limit:g}{threshold_spec.unit}"
        numbers.append(limit)
    lo = min(numbers, default=0.0)
    hi = max(numbers, default=1.0)
    lo = 0.0 if lo >= 0 else lo
    if hi <= lo:
        hi = lo + 1.0
    hi = hi + (hi - lo) * 0.1
    return ChartData(
        title=title,
        unit=unit,
        span_s=span_s,
        lines=tuple(lines),
        threshold=limit,
        threshold_words=words,
        marks=tuple(sorted(marks, key=lambda mark: mark.x)),
        invalid=invalid,
        y_range=(lo, _nice(hi)),
    )


def _nice(value: float) -> float:
    """``value`` rounded up to 2 significant digits: the axis moves in steps, not with every sample."""
    if value <= 0:
        return value
    scale = 10 ** (math.floor(math.log10(value)) - 1)
    return math.ceil(value / scale) * scale


def value_ticks(lo: float, hi: float, slots: int) -> tuple[list[float], list[str]]:
    """At most ``slots`` ticks on the value axis at a round step (1, 2 or 5 times a power of ten)."""
    span = hi - lo
    if span <= 0 or slots < 1:
        return [lo], [_value_label(lo, 1.0)]
    raw = span / slots
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = []
    at = math.ceil(lo / step) * step
    while at <= hi + step * 1e-6:
        ticks.append(round(at, 10))
        at += step
    return ticks, [_value_label(tick, step) for tick in ticks]


def value_axis(
    lo: float, hi: float, rows: int, exact: float | None = None
) -> tuple[float, float, list[float], list[str]]:
    """(bottom, top, ticks, labels) for a value axis drawn on ``rows`` rows: every tick on a row of its own.

    plotext puts ``bottom`` on the lowest row and ``top`` on the highest, so a row is worth
    ``(top - bottom) / (rows - 1)``: that is made a round unit (1, 2, 2.5, 4 or 5 times a power of
    ten), and a tick is put on every row, or every other row on a tall chart. ``exact`` (the
    threshold, drawn with a character, not braille) is put on a row of its own where a unit allows:
    a dashed line a row off would say the limit is somewhere it is not.
    """
    intervals = max(1, rows - 1)
    span = max(hi - lo, 1e-9)
    power = 10 ** math.floor(math.log10(span / intervals))
    chosen = None
    for unit in (m * power for m in (1, 2, 2.5, 4, 5, 10, 20, 25, 40, 50, 100)):
        bottom = math.floor(lo / unit + 1e-9) * unit
        top = bottom + intervals * unit
        if top < hi - unit * 1e-6:
            continue
        if chosen is None:
            chosen = (unit, bottom, top)
        steps = None if exact is None else (exact - bottom) / unit
        if steps is None or abs(steps - round(steps)) < 1e-6:
            chosen = (unit, bottom, top)
            break
    assert chosen is not None
    unit, bottom, top = chosen
    every = 1 if intervals <= 6 else 2
    ticks = [round(bottom + j * unit, 10) for j in range(0, intervals + 1, every)]
    labels = [_value_label(tick, unit * every if unit * every >= 1 else unit) for tick in ticks]
    if (
        exact is not None
        and bottom <= exact <= top
        and abs((exact - bottom) / unit - round((exact - bottom) / unit)) > 1e-6
    ):
        # No round unit puts it on a row: its row is labelled with its own value instead.
        row = math.floor((exact - bottom) / unit + 0.5)  # half a row up, as plotext rounds it
        kept = [(t, label) for t, label in zip(ticks, labels, strict=True) if round((t - bottom) / unit) != row]
        kept.append((exact, f"{exact:,g}"))
        kept.sort()
        ticks, labels = [t for t, _ in kept], [label for _, label in kept]
    return bottom, top, ticks, labels


def _value_label(value: float, step: float) -> str:
    digits = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    if step == 2.5 * 10 ** math.floor(math.log10(step)) and step < 10:
        digits += 1
    text = f"{value:,.{digits}f}"
    return "0" if value == 0 else text


def time_ticks(span_s: float, slots: int) -> tuple[list[float], list[str]]:
    """Ticks on the time axis, relative to the end: at most ``slots``, at a round step, "now" at 0."""
    steps = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)
    step = next((s for s in steps if span_s / s <= max(1, slots)), steps[-1])
    ticks = []
    at = 0.0
    while at >= -span_s - 1e-9:
        ticks.append(at)
        at -= step
    ticks.reverse()
    return ticks, [_tick_label(tick) for tick in ticks]


def _tick_label(x: float) -> str:
    seconds = int(round(-x))
    if seconds == 0:
        return "now"
    if seconds % 3600 == 0:
        return f"-{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"-{seconds // 60}m"
    if seconds > 60:
        return f"-{seconds // 60}m{seconds % 60:02d}s"
    return f"-{seconds}s"
