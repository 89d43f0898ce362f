"""Sparklines of the selected migration's latency, errors and throughput.

Each line: label, sparkline over the last ten minutes (gaps stay gaps, columns
past the threshold in the alarm colour), the current value with its unit,
and the threshold from the built-in rules.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult

from migration_tui import systems
from migration_tui.safe_text import number
from migration_tui.systems.base import MetricSpec
from migration_tui.ui.lookup import series_for, threshold_rule
from migration_tui.ui.view import View
from migration_tui.ui.widgets.not_served import METRICS_PATH, not_served_lines
from migration_tui.ui.widgets.sparkline import blocks, bucket, quantised_end
from migration_tui.ui.widgets.text_pane import TextColumns, TextPane

WINDOW_S = 600.0
#: A sparkline column with no sample keeps the previous one for this many poll intervals;
#: a longer silence (or a failed poll) is a gap.
HOLD_POLLS = 2.0
MIN_WINDOW_S = 60.0


#: The latency sparklines most systems show (and any system without a list of its own).
LATENCY = (
    MetricSpec("latency_p50_ms", "p50", " ms"),
    MetricSpec("latency_p95_ms", "p95", " ms"),
    MetricSpec("latency_p99_ms", "p99", " ms"),
)
LABEL_W = 11
VALUE_W = 11
LIMIT_W = 11


class MetricsPane(TextColumns):
    """One sparkline per metric of the selected migration's system, under a time axis.

    Two panes side by side: the sparklines, and the latest values with their limits.
    Textual writes a changed line from the left edge of its widget, so a value that
    changes every second costs its own few cells, not the sparkline before it.
    """

    DEFAULT_CSS = """
    MetricsPane {
        height: auto;
        min-height: 1;
        padding: 0 1;
    }
    MetricsPane > .metrics-part {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: auto;
    }
    MetricsPane > MetricsChart {
        width: 1fr;
    }
    MetricsPane > MetricsValues {
        width: 24;  /* 1 + VALUE_W + 1 + LIMIT_W */
    }
    """

    def compose(self) -> ComposeResult:
        yield MetricsChart(classes="metrics-part")
        yield MetricsValues(classes="metrics-part")


def specs(view: View) -> list[MetricSpec]:
    """The metrics to show: the system's list, keeping only series that exist."""
    migration = view.migration
    if migration is None:
        return []
    return [
        spec
        for spec in systems.ui(migration.system).metrics or LATENCY
        if series_for(view.store, migration, spec.series) is not None
    ]


class MetricsChart(TextPane):
    """The labels and sparklines of ``MetricsPane``, under the time axis."""

    MIN_INTERVAL_S = 1.0  # series change several times a second; the eye needs once
    SECTIONS = ("series", "sources")  # sources: whether the controller serves /metrics

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._window_s = WINDOW_S

    def view_key(self, view: View) -> tuple[object, ...]:
        migration = view.migration
        # The window slides with the clock one column at a time, so a source that went
        # quiet shows up as a growing gap even though no new sample arrives.
        column_s = self._window_s / max(4, self.size.width - LABEL_W - 1)
        which = None if migration is None else (migration.system, migration.controller, migration.pair)
        return (*super().view_key(view), which, int(view.now // column_s))

    def build(self, view: View, width: int) -> list[Text]:
        if view.migration is None:
            return [Text("Metrics: no migration selected", style=view.style("state-muted"), end="")]
        shown = specs(view)
        if not shown:
            absent = not_served_lines(view, METRICS_PATH)
            said = "Metrics: none reported" if absent else "Metrics: none reported yet"
            return [Text(said, style=view.style("state-muted"), end=""), *absent]
        migration = view.migration
        spark_w = max(4, width - LABEL_W - 1)
        since = view.now - WINDOW_S
        points = {}
        for spec in shown:
            series = series_for(view.store, migration, spec.series)
            points[spec.series] = series.points(since=since) if series is not None else []
        self._window_s = window_for(points.values(), view.now)
        return [self._axis(view, spark_w)] + [self._line(view, spec, spark_w, points[spec.series]) for spec in shown]

    def _axis(self, view: View, spark_w: int) -> Text:
        """The header: what the columns are, and the time the sparklines span."""
        axis = Text(no_wrap=True, end="", style=view.style("state-muted"))
        axis.append("Metrics".ljust(LABEL_W), style=view.style("state-muted", bold=True))
        axis.append(" ")
        start = f"-{int(self._window_s // 60)} min"
        axis.append(start + "now".rjust(spark_w - len(start)))
        return axis

    def _line(self, view: View, spec: MetricSpec, spark_w: int, points: list[tuple[float, float | None]]) -> Text:
        migration = view.migration
        assert migration is not None
        rule = threshold_rule(migration.system, spec.series, view.rules)
        # Columns on a grid of the clock, as the charts' (``quantised_end``): a sample keeps its
        # column as time goes on, and the line moves a whole column at a time.
        end = quantised_end(view.now, self._window_s, spark_w)
        values = bucket(points, end - self._window_s, end, spark_w, hold_s=HOLD_POLLS * view.poll_interval_s)
        threshold = rule.threshold if rule is not None else None
        chars = blocks(values, floor=0.0 if all(v is None or v >= 0 for v in values) else None, ceiling=threshold)
        line = Text(no_wrap=True, end="")
        line.append(spec.label[:LABEL_W].ljust(LABEL_W), style=view.style("state-muted"))
        line.append(" ")
        normal, over = view.style("spark-line"), view.style("spark-over")
        # One append a run of columns in one style (the columns over the limit, the others).
        if rule is None:
            line.append(chars, style=normal)
            return line
        breaks = rule.breaks
        flags = [value is not None and breaks(value) for value in values]
        start = 0
        for end in range(1, len(flags) + 1):
            if end == len(flags) or flags[end] != flags[start]:
                line.append(chars[start:end], style=over if flags[start] else normal)
                start = end
        return line


class MetricsValues(TextPane):
    """The latest value and the limit of each metric of ``MetricsPane`` ("last known" while its source fails)."""

    MIN_INTERVAL_S = 1.0
    SECTIONS = ("series", "sources")
    _stale = False

    def build(self, view: View, width: int) -> list[Text]:
        migration = view.migration
        shown = specs(view) if migration is not None else []
        if migration is None or not shown:
            return []
        self._stale = False
        lines = [self._line(view, spec) for spec in shown]
        # A value whose source failed since it came is the last known one, not the latest: said in words.
        header = Text(" " + "latest".rjust(VALUE_W) + " " + "limit".rjust(LIMIT_W), style=view.style("state-muted"))
        if self._stale:
            header = Text(" " + "last known".rjust(VALUE_W), style=view.style("state-warn"))
            header.append(" " + "limit".rjust(LIMIT_W), style=view.style("state-muted"))
        return [header] + lines

    def _line(self, view: View, spec: MetricSpec) -> Text:
        migration = view.migration
        assert migration is not None
        series = series_for(view.store, migration, spec.series)
        rule = threshold_rule(migration.system, spec.series, view.rules)
        current = series.latest() if series is not None else None
        latest_ts = series.latest_ts() if series is not None else None
        stale = latest_ts is not None and view.frame.not_live(latest_ts, migration) is not None
        self._stale = self._stale or stale
        level = "muted" if current is None else "bad" if rule is not None and rule.breaks(current) else "ok"
        if stale and level == "ok":
            level = "muted"  # not live: never drawn as fine
        shown = number(current, spec.unit, spec.digits)
        if level == "bad":
            shown = "✖ " + shown
        line = Text(" ", no_wrap=True, end="")
        line.append(shown.rjust(VALUE_W), style=view.style(f"state-{level}" if level != "muted" else "state-muted"))
        line.append(" ")
        if rule is not None:
            limit = f"{'≤' if rule.op == '>' else '≥'} {number(rule.threshold, spec.unit, spec.digits)}"
            line.append(limit.rjust(LIMIT_W), style=view.style("state-muted"))
        else:
            line.append(" " * LIMIT_W)
        return line


def window_for(point_lists, now: float) -> float:
    """Seconds the sparklines span: the data's age rounded up to a minute, from 1 to 10 minutes.

    A fresh migration fills the width instead of a sliver at the right; the span
    grows a minute at a time, so the picture does not rescale on every sample.
    """
    starts = [points[0][0] for points in point_lists if points]
    if not starts:
        return WINDOW_S
    age_s = max(0.0, now - min(starts))
    return float(min(WINDOW_S, max(MIN_WINDOW_S, math.ceil(age_s / 60.0) * 60.0)))
