from __future__ import annotations

from migration_tui.model import SourceHealth
from migration_tui.ui import states
from migration_tui.ui.widgets.sparkline import BLOCKS, GAP, blocks, bucket


def test_heartbeat_turns_warning_then_critical():
    assert states.heartbeat(None) == "muted"
    assert states.heartbeat(5.0) == "ok"
    assert states.heartbeat(5.1) == "warn"
    assert states.heartbeat(15.0) == "warn"
    assert states.heartbeat(15.1) == "bad"
    # After the migration ended, an old heartbeat is history, not an alarm.
    assert states.heartbeat(600.0, ended=True) == "muted"


def test_source_freshness_words():
    fresh = SourceHealth("controller", last_success=100.0)
    assert states.source(fresh, now=101.0, poll_interval_s=2.0)[:2] == ("ok", "fresh")
    level, word, _ = states.source(fresh, now=107.0, poll_interval_s=2.0)
    assert level == "warn" and word.startswith("STALE")
    failing = SourceHealth("controller", last_success=100.0, last_error_at=101.0, error="refused")
    level, word, _ = states.source(failing, now=101.0, poll_interval_s=2.0)
    assert level == "bad" and "refused" in word
    assert states.source(SourceHealth("x"), now=1.0, poll_interval_s=2.0)[0] == "muted"


def test_every_breaker_state_has_a_word_not_just_a_colour():
    assert states.breaker("open") == ("bad", "OPEN")
    assert states.breaker("closed") == ("ok", "closed")
    assert states.breaker("half_open") == ("warn", "half-open")
    assert states.breaker("weird")[1] == "weird"


def test_bucket_keeps_gaps_and_takes_the_worst_value():
    points = [(0.0, 1.0), (1.0, 5.0), (2.0, None), (6.0, 2.0)]
    assert bucket(points, 0.0, 8.0, 4) == [5.0, None, None, 2.0]


def test_bucket_holds_a_sample_across_empty_columns_but_not_across_a_silence_or_a_failure():
    # A source polled every 2 s, drawn in 1 s columns: the odd columns have no sample of
    # their own and must not look like outages.
    polled = [(float(t), 10.0) for t in range(0, 10, 2)]
    assert bucket(polled, 0.0, 10.0, 10, hold_s=4.0) == [10.0] * 10
    assert bucket(polled, 0.0, 10.0, 10) == [10.0, None] * 5  # without hold: false gaps
    # Silent after t=2: held until 4 s have passed, then a gap.
    quiet = [(0.0, 1.0), (2.0, 3.0)]
    assert bucket(quiet, 0.0, 10.0, 10, hold_s=4.0) == [1.0, 1.0, 3.0, 3.0, 3.0, 3.0, 3.0, None, None, None]
    # A failed poll (None) is a gap at once and is not papered over by the sample before it.
    failed = [(0.0, 1.0), (2.0, None), (6.0, 2.0)]
    assert bucket(failed, 0.0, 8.0, 8, hold_s=4.0) == [1.0, 1.0, None, None, None, None, 2.0, 2.0]


def test_blocks_leave_gaps_blank():
    drawn = blocks([0.0, None, 10.0])
    assert drawn[1] == GAP
    assert drawn[0] == "▁" and drawn[2] == "█"
    assert blocks([None, None]) == GAP * 2


def test_blocks_scale_to_the_threshold():
    # A value at half the threshold is drawn half high, not full height.
    assert blocks([25.0], floor=0.0, ceiling=50.0) in ("▄", "▅")


def test_sparkline_window_grows_a_minute_at_a_time_up_to_ten():
    from migration_tui.ui.widgets.metrics import window_for

    assert window_for([[]], now=1000.0) == 600.0  # no data: the full window
    assert window_for([[(990.0, 1.0)]], now=1000.0) == 60.0
    assert window_for([[(900.0, 1.0)], [(860.0, None)]], now=1000.0) == 180.0
    assert window_for([[(0.0, 1.0)]], now=1000.0) == 600.0


def test_a_fleet_with_no_samples_says_so_instead_of_empty_gauges():
    from migration_tui.model import HostResources
    from migration_tui.store import Store
    from migration_tui.ui.view import View
    from migration_tui.ui.widgets.resources import block

    view = View(store=Store(), now=0.0, mode="LIVE")
    empty = [line.plain for line in block(view, "fleet", HostResources())]
    assert empty == ["fleet", "no samples (node_exporter metrics?)"]
    some = [line.plain for line in block(view, "fleet", HostResources(cpu_percent=40.0))]
    assert some[1].startswith("cpu") and "40.0%" in some[1] and some[2].endswith("—")
    # A figure the source declared invalid is not "no samples": the gauges say invalid.
    bad = [line.plain for line in block(view, "fleet", HostResources(invalid=("cpu_percent",)))]
    assert "invalid" in bad[1]


def _bucket_before(points, start, end, width, hold_s=0.0):
    """``bucket`` as it was before it skipped to ``start`` by bisection (the reference)."""
    if width <= 0 or end <= start:
        return []
    out = [None] * width
    sampled = [False] * width
    span = (end - start) / width
    for ts, value in points:
        if ts < start or ts > end:
            continue
        index = min(width - 1, int((ts - start) / span))
        sampled[index] = True
        current = out[index]
        if value is not None and (current is None or value > current):
            out[index] = value
    if hold_s > 0:
        latest = None
        i = 0
        for index in range(width):
            slice_start = start + index * span
            while i < len(points) and points[i][0] < slice_start:
                latest = points[i]
                i += 1
            if sampled[index] or latest is None or latest[1] is None:
                continue
            if slice_start - latest[0] <= hold_s:
                out[index] = latest[1]
    return out


def _blocks_before(values, floor=None, ceiling=None):
    numbers = [v for v in values if v is not None]
    if not numbers:
        return GAP * len(values)
    lo = min(numbers) if floor is None else min(floor, min(numbers))
    hi = max(numbers) if ceiling is None else max(ceiling, max(numbers))
    span = hi - lo
    top = len(BLOCKS) - 1
    return "".join(
        GAP if v is None else BLOCKS[0] if span <= 0 else BLOCKS[max(0, min(top, int((v - lo) / span * top + 0.5)))]
        for v in values
    )


def test_bucket_and_blocks_give_what_they_gave_before_they_were_made_cheaper():
    """``bucket`` now starts at the window's first point (bisection) and ``blocks`` clamps without
    calls: the same columns as the plain loops over 3,000 random windows (points before, inside
    and after the window, exactly on its edges, gaps, equal times, holds and none)."""
    import random

    rng = random.Random(11)
    for _ in range(3000):
        count = rng.randrange(0, 80)
        times = sorted(rng.uniform(0, 100) for _ in range(count))
        if times and rng.random() < 0.3:
            times[rng.randrange(len(times))] = 40.0  # exactly on the window's start
        times.sort()
        points = [(ts, None if rng.random() < 0.15 else rng.uniform(-5, 50)) for ts in times]
        start = rng.choice([40.0, rng.uniform(-10, 90)])
        end = start + rng.choice([0.0, 1.0, rng.uniform(0.5, 80)])
        width = rng.randrange(0, 40)
        hold = rng.choice([0.0, 1.0, 4.0])
        values = bucket(points, start, end, width, hold_s=hold)
        assert values == _bucket_before(points, start, end, width, hold), (points, start, end, width, hold)
        floor = rng.choice([None, 0.0, -10.0])
        ceiling = rng.choice([None, 10.0, 100.0])
        assert blocks(values, floor, ceiling) == _blocks_before(values, floor, ceiling)
    assert blocks([3.0, None, 3.0]) == _blocks_before([3.0, None, 3.0]) == "▁ ▁"  # nothing to scale


def test_a_sample_keeps_its_column_as_the_clock_moves_within_a_column():
    """The sparklines' columns are slices of a grid on the clock (as the charts'), not of the
    last N seconds: a column's samples stay in it as time goes on, so with no new sample the
    lines are the same all through a column's time and move by a whole column after it. (Slices
    ending at ``now`` moved every sample a fraction of a column every second: every line redrawn
    and rewritten each second for data that had not changed.)"""
    from pathlib import Path

    from migration_tui.replay import Replay
    from migration_tui.ui.view import View
    from migration_tui.ui.widgets.metrics import LABEL_W, MetricsChart

    replay = Replay(Path(__file__).resolve().parents[2] / "sample_data" / "2pc-commit.jsonl.gz")
    replay.index()
    replay.seek(201.0)
    store = replay.store
    migration = next(iter(store.migrations.values()))
    width = 60
    chart = MetricsChart()

    def lines(now: float) -> list[str]:
        return [line.plain for line in chart.build(View(store, now, "REPLAY", migration), width)[1:]]

    first = lines(replay.start + 201.0)
    step = chart._window_s / (width - LABEL_W - 1)
    edge = (int((replay.start + 201.0) / step) + 1) * step  # the next column edge after 201 s
    early, late = lines(edge - 0.95 * step), lines(edge - 0.05 * step)
    assert len(first) >= 4 and early == late == first  # no sample came: nothing moves
    moved = lines(edge + 0.05 * step)
    assert moved != late  # past the edge: a column on
