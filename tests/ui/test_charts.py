"""Issue 21: the Metrics tab's charts — gaps stay gaps, thresholds show, invalid samples are counted,
``w`` changes the window, and a chart is built again only when what it shows changed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from migration_tui import systems
from migration_tui.events import Event
from migration_tui.feeds import ReplayFeed
from migration_tui.recording import RecordingWriter
from migration_tui.rules import Rule
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.chart_data import WINDOWS, firing_times, segments, time_ticks, value_ticks
from migration_tui.ui.lookup import threshold_rule
from migration_tui.ui.widgets.metrics_tab import MIN_COLUMNS, MIN_ROWS, MetricsTab
from tests.ui.conftest import settle

START = 1_700_000_000.0
SYSTEM = systems.default().name
#: Series gone quiet from 100 s to 130 s: a gap.
QUIET = range(100, 131)
#: Two invalid samples of p95: one out of range, one its source declared invalid.
INVALID_AT = (200, 204)


def _recording(path: Path) -> Path:
    with RecordingWriter(path, started_at=START) as writer:
        for t in range(0, 301, 2):
            writer.write(
                Event(
                    START + t,
                    "controller",
                    "migration",
                    {"id": "mig-1", "system": SYSTEM, "pair": "BTCUSDT", "status": "in_progress", "phase": "x"},
                )
            )
            if t in QUIET:
                continue
            values: dict[str, float | None] = {
                "latency_p50_ms": 10.0 + math.sin(t / 10),
                "latency_p95_ms": 30.0 + 5 * math.sin(t / 10),
                "latency_p99_ms": 45.0,
                "error_rate_pct": 0.2,
            }
            invalid = []
            if t == INVALID_AT[0]:
                values["latency_p95_ms"] = 1e300  # cannot be true
            if t == INVALID_AT[1]:
                values["latency_p95_ms"] = None
                invalid = ["latency_p95_ms"]
            writer.write(Event(START + t, "controller", "metrics", {"values": values, "invalid": invalid}))
    return path


@pytest.fixture()
def app(tmp_path: Path) -> MigrationApp:
    return MigrationApp(ReplayFeed(_recording(tmp_path / "charts.jsonl"), playing=False))


async def _open_metrics(app: MigrationApp, pilot, at: float = 300) -> MetricsTab:
    await settle(app, pilot, at=at)
    await pilot.press("4")
    await settle(app, pilot)
    await pilot.pause()
    return app.dashboard.query_one(MetricsTab)


def _latency_box(tab: MetricsTab):
    return next(box for box in tab.boxes if box.chart.data is not None and len(box.chart.data.lines) == 3)


def test_segments_break_at_a_gap():
    runs = segments([1.0, 2.0, None, None, 5.0], 0.0, 5.0)
    assert [ys for _xs, ys in runs] == [(1.0, 2.0), (5.0,)]
    assert runs[0][0] == (-4.5, -3.5)  # slice centres, relative to the end


def test_firing_times_need_the_for_duration_without_a_break():
    rule = Rule(name="r", systems=(), series="s", threshold=10.0, for_s=4.0)
    points = [(0, 11.0), (2, 12.0), (4, None), (6, 11.0), (8, 11.0), (10, 12.0), (12, 1.0)]
    assert firing_times(points, rule) == [10]


def test_ticks_are_round():
    assert time_ticks(300, 6) == ([-300, -240, -180, -120, -60, 0], ["-5m", "-4m", "-3m", "-2m", "-1m", "now"])
    ticks, labels = value_ticks(0.0, 55.0, 6)
    assert ticks == [0, 10, 20, 30, 40, 50] and labels[-1] == "50"


async def test_a_gap_is_drawn_as_a_gap_and_the_threshold_is_a_dashed_line(app):
    rule = threshold_rule(SYSTEM, "latency_p95_ms")
    assert rule is not None, "the default system has a p95 rule"
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await _open_metrics(app, pilot)
        assert tab.has_class("-charts")
        box = _latency_box(tab)
        chart = box.chart
        p50 = chart.data.lines[0]
        # The quiet half minute splits the line: no segment spans 100..130 s (x -200..-170).
        assert len(p50.segments) >= 2
        for xs, _ys in p50.segments:
            assert not any(-195 < x < -175 for x in xs)
        plots = [call for call in chart.calls if call[0] == "plot"]
        assert len(plots) == sum(len(line.segments) for line in chart.data.lines)  # one call per unbroken run
        dashes = [call for call in chart.calls if call[0] == "scatter"]
        assert len(dashes) == 1
        assert set(dashes[0][1][1]) == {rule.threshold}
        assert dashes[0][2]["marker"] == "─"
        picture = chart.render().plain
        assert "─ ─ ─" in picture  # dashed: readable without colour
        assert f"limit p95 ≤ {rule.threshold:g} ms" in str(box.key.render())
        # The rendered picture never overflows the widget.
        assert max(len(line) for line in picture.splitlines()) <= chart.size.width


async def test_invalid_values_are_counted_and_not_plotted(app):
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await _open_metrics(app, pilot)
        box = _latency_box(tab)
        data = box.chart.data
        assert data.invalid == 2
        assert "2 invalid values not drawn" in str(box.key.render())
        for line in data.lines:
            for _xs, ys in line.segments:
                assert all(math.isfinite(y) and y < 1e6 for y in ys)
        errors = next(b for b in tab.boxes if b is not box and b.chart.data.title.startswith("errors"))
        assert errors.chart.data.invalid == 0
        assert "invalid" not in str(errors.key.render())
        # Over the last minute (a column a second or so) the invalid samples are gaps in p95, not points.
        app.feed.seek_to(230)
        await pilot.press("w", "w", "w", "w")  # 5 m -> 15 m -> 1 h -> all -> 1 m
        await settle(app, pilot)
        data = _latency_box(tab).chart.data
        assert data.span_s == 60.0
        p50, p95, _p99 = data.lines
        assert len(p50.segments) == 1
        assert len(p95.segments) == 3  # a gap at 200 s and one at 204 s, a valid sample between them
        assert not any(-30.5 < x < -29.5 for xs, _ys in p95.segments for x in xs)  # 200 s: 30 s before 230 s


async def test_the_window_key_cycles_and_changes_what_is_plotted(app):
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await _open_metrics(app, pilot)
        header = lambda: str(tab.query_one("#metrics-header").render())  # noqa: E731
        assert "window 5 m" in header()
        spans = []
        for label, _span in [*WINDOWS[2:], *WINDOWS[:2]]:
            await pilot.press("w")
            await settle(app, pilot)
            assert f"window {label}" in header()
            data = _latency_box(tab).chart.data
            spans.append(data.span_s)
            first_x = min(xs[0] for xs, _ys in data.lines[0].segments)
            assert first_x >= -data.span_s
        # 15 m, 1 h and all: the 300 s the recording holds (a window longer than the data spans the data).
        assert spans == [300.0, 300.0, 300.0, 60.0, 300.0]
        await pilot.press("w", "w", "w", "w")  # 15 m, 1 h, all, 1 m: only the last minute is plotted
        await settle(app, pilot)
        data = _latency_box(tab).chart.data
        assert data.span_s == 60.0
        assert all(x >= -60 for xs, _ys in data.lines[0].segments for x in xs)


async def test_a_migration_younger_than_the_window_fills_the_charts_and_the_header_says_so(app):
    """A fresh demo opened on the Metrics tab drew its first minute in the last few columns of a
    5-minute window: the charts now span the data's age (rounded up to a minute) until it fills
    the window, and say how much there is."""
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await _open_metrics(app, pilot, at=90)
        header = str(tab.query_one("#metrics-header").render())
        assert "window 5 m" in header and "2 m of data so far" in header
        data = _latency_box(tab).chart.data
        assert data.span_s == 120.0
        assert min(xs[0] for xs, _ys in data.lines[0].segments) < -80  # the first sample, 90 s back, is drawn
        await settle(app, pilot, at=300)  # five minutes of data: the window as chosen, and no note
        header = str(tab.query_one("#metrics-header").render())
        assert _latency_box(tab).chart.data.span_s == 300.0 and "so far" not in header


async def test_a_chart_is_built_again_only_when_what_it_shows_changed(app):
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await _open_metrics(app, pilot, at=250)
        charts = [box.chart for box in tab.boxes]
        assert charts and all(chart.builds >= 1 for chart in charts)
        before = [chart.builds for chart in charts]
        for _ in range(5):  # repaints with nothing new: no new picture
            app.dashboard.refresh_view()
            await pilot.pause()
        assert [chart.builds for chart in charts] == before
        app.feed.seek_to(250.5)  # half a second later: too soon to draw again (at most once a second)
        app.dashboard.refresh_view()
        await pilot.pause()
        assert [chart.builds for chart in charts] == before
        app.feed.seek_to(280)  # new samples: drawn again
        app.dashboard.refresh_view()
        await pilot.pause()
        await pilot.pause()
        assert all(chart.builds > count for chart, count in zip(charts, before, strict=True))


async def test_below_the_minimum_size_the_tab_shows_sparklines_and_says_why(app):
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await _open_metrics(app, pilot)
        assert not tab.has_class("-charts")
        said = str(tab.query_one("#metrics-header").render())
        assert said == f"charts need at least {MIN_COLUMNS} columns × {MIN_ROWS} rows; showing sparklines"
        assert tab.boxes == []  # plotext never asked
        assert tab.query_one("#metrics-pane").display


async def test_resizing_switches_between_sparklines_and_charts_at_once(app):
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await _open_metrics(app, pilot)
        assert not tab.has_class("-charts") and tab.boxes == []
        await pilot.resize_terminal(120, 40)  # the replay is paused: no new frame would come by itself
        await pilot.pause(0.2)
        await pilot.pause()
        assert tab.has_class("-charts") and len(tab.boxes) == 2  # latency, errors
        assert all(box.chart.builds == 1 and box.chart.size.width > 40 for box in tab.boxes)
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        assert not tab.has_class("-charts")
        assert "showing sparklines" in str(tab.query_one("#metrics-header").render())


async def test_the_wall_charts_its_figures_from_160x45_only(app):
    from migration_tui.ui.screens.wall import WallCharts, WallScreen

    wall = MigrationApp(app.feed, dashboard=WallScreen)
    async with wall.run_test(size=(159, 50)) as pilot:
        await settle(wall, pilot, at=300)
        charts = wall.dashboard.query_one(WallCharts)
        assert not charts.display and charts.boxes == []
        await pilot.resize_terminal(200, 50)
        await pilot.pause(0.2)
        await pilot.pause()
        assert charts.display and len(charts.boxes) == 2
        error_chart, latency_chart = (box.chart.data for box in charts.boxes)
        assert error_chart.threshold is not None and latency_chart.threshold is not None
        assert len(latency_chart.lines[0].segments) >= 2  # the quiet half minute is a gap on the wall too
        await pilot.resize_terminal(200, 44)
        await pilot.pause(0.2)
        assert not charts.display


def test_the_value_axis_puts_every_tick_and_the_threshold_on_a_row():
    from migration_tui.ui.chart_data import value_axis

    for lo, hi, rows, limit in [(0, 330, 6, 500), (0, 1100, 6, 500), (0, 1.1, 6, 1.0), (0, 1650, 12, 1000)]:
        bottom, top, ticks, _labels = value_axis(lo, hi, rows, limit)
        unit = (top - bottom) / (rows - 1)
        assert bottom <= lo and top >= hi
        assert all(abs((t - bottom) / unit - round((t - bottom) / unit)) < 1e-6 for t in ticks)  # on a row each
        assert abs((limit - bottom) / unit - round((limit - bottom) / unit)) < 1e-6 or limit > top
    # No round unit puts 90 on a row of 6: the row it is drawn on is labelled 90 instead.
    _bottom, _top, ticks, labels = value_axis(0, 99, 6, 90)
    assert 90 in ticks and "90" in labels and 100 not in ticks  # 4.5 rows up: drawn on the fifth, as plotext rounds


async def test_a_rule_firing_is_marked_on_its_chart_from_the_rules_in_force(tmp_path):
    # The rules file's, not the built-in ones: p99 over 40 ms for 20 s (it is 45 ms throughout).
    rule = Rule(name="p99_high", systems=(SYSTEM,), series="latency_p99_ms", label="p99", threshold=40.0, for_s=20.0)
    app = MigrationApp(ReplayFeed(_recording(tmp_path / "rules.jsonl"), playing=False), rules=(rule,))
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await _open_metrics(app, pilot)
        chart = _latency_box(tab).chart
        assert chart.data.threshold == 40.0 and chart.data.threshold_words == "p99 ≤ 40 ms"
        fired = [mark.x for mark in chart.data.marks if mark.kind == "rule"]
        # 20 s after the first sample (a silence is not a sample within the threshold: no second firing,
        # as the rules judge it). The end is now rounded up to a column (6 s at 5 m).
        assert fired == [pytest.approx(20 - 300, abs=7)]
        assert [args[0] for name, args, _ in chart.calls if name == "text"].count("R") == 1
        assert "R rule firing" in str(tab.query_one("#metrics-header").render())


def test_a_chart_title_names_its_unit_once() -> None:
    from migration_tui.ui.widgets.charts import chart_title

    assert chart_title("latency p50/p95/p99", "ms") == "latency p50/p95/p99 (ms)"
    assert chart_title("docs/s", "/s") == "docs/s"  # the demo's batch chart said "docs/s (/s)"
    assert chart_title("tables", "") == "tables"
