"""The Metrics tab: a chart per series of the selected migration when there is room, sparklines when not.

The charts (``charts.py``, plotext) show a time axis ending now (the replay's
play head) over the window ``w`` cycles through, the rule's threshold as a
dashed line, and the marked moments (phase changes, breaker opens, the rule
firing, operator actions). Latency p50/p95/p99 share one chart; every other
series the system lists (``SystemUI.metrics``) has its own.

Below ``MIN_COLUMNS`` x ``MIN_ROWS`` the tab shows the sparklines
(``MetricsPane``) under a line saying why. The charts module, and plotext
with it, is imported only once the tab has the room for charts.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Vertical, VerticalScroll
from textual.widgets import Static

from migration_tui.systems.base import MetricSpec
from migration_tui.ui.chart_data import (
    WINDOWS,
    chart_data,
    moments,
    span_for,
    window_label,
)
from migration_tui.ui.lookup import series_key
from migration_tui.ui.view import StoreView, View
from migration_tui.ui.widgets.metrics import LATENCY, MetricsPane, specs
from migration_tui.ui.widgets.sparkline import quantised_end

if TYPE_CHECKING:
    from migration_tui.ui.widgets.charts import ChartBox

#: The terminal size from which the tab draws charts instead of sparklines.
MIN_COLUMNS = 100
MIN_ROWS = 30
#: From this width, three charts a row instead of two.
THREE_COLUMNS = 180


def chart_groups(shown: list[MetricSpec]) -> list[tuple[str, tuple[MetricSpec, ...]]]:
    """(title, specs) per chart: p50/p95/p99 latency together, every other series alone, in the system's order."""
    latency = tuple(spec for spec in shown if spec in LATENCY)
    groups: list[tuple[str, tuple[MetricSpec, ...]]] = []
    for spec in shown:
        if spec in LATENCY:
            if spec == latency[0]:
                groups.append(("latency " + "/".join(s.label for s in latency), latency))
        else:
            groups.append((spec.label, (spec,)))
    return groups


class MetricsTab(StoreView, Vertical):
    """The tab's content: a header line, then the charts or the sparklines."""

    SECTIONS = ("series", "migrations", "breakers", "sources")
    MIN_INTERVAL_S = 1.0  # at most one new picture a second, however fast the samples come

    DEFAULT_CSS = """
    MetricsTab {
        height: 1fr;
    }
    MetricsTab > #metrics-header {
        height: 1;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    MetricsTab > #metrics-charts {
        grid-size: 2;
        grid-gutter: 0 1;
        height: 1fr;
        display: none;
    }
    MetricsTab.-three > #metrics-charts {
        grid-size: 3;
    }
    MetricsTab.-charts > #metrics-charts {
        display: block;
    }
    MetricsTab.-charts > #metrics-sparklines {
        display: none;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._groups: list[tuple[str, tuple[MetricSpec, ...]]] | None = None
        self._boxes: list[ChartBox] = []
        self._last_view: View | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="metrics-header", markup=False)
        yield Grid(id="metrics-charts")
        with VerticalScroll(id="metrics-sparklines"):
            yield MetricsPane(id="metrics-pane")

    @property
    def has_room(self) -> bool:
        width, height = self.app.size
        return width >= MIN_COLUMNS and height >= MIN_ROWS

    @property
    def boxes(self) -> list[ChartBox]:
        """The charts shown now (tests read these)."""
        return self._boxes

    def view_key(self, view: View) -> tuple[Any, ...]:
        return (*super().view_key(view), view.chart_window, tuple(self.app.size), tuple(self.size), view.now)

    def on_resize(self) -> None:
        # A new size is not "too soon": charts or sparklines, and how many columns, at once.
        self.forget()
        if self._last_view is not None:
            self.show(self._last_view)

    def draw(self, view: View) -> None:
        self._last_view = view
        room = self.has_room
        migration = view.migration
        shown = specs(view) if migration is not None else []
        # Nothing to chart: the sparkline pane says why (no migration, none reported, not served).
        self.set_class(room and bool(shown), "-charts")
        self.set_class(self.app.size.width >= THREE_COLUMNS, "-three")
        header = self.query_one("#metrics-header", Static)
        if not room:
            words = f"charts need at least {MIN_COLUMNS} columns × {MIN_ROWS} rows; showing sparklines"
        elif not shown:
            words = "no series to chart"
        else:
            self._draw_charts(view, header, shown)
            return
        header.update(Text(words, style=view.style("state-muted"), end=""))

    def _draw_charts(self, view: View, header: Static, shown: list[MetricSpec]) -> None:
        migration = view.migration
        assert migration is not None
        groups = chart_groups(shown)
        grid = self.query_one("#metrics-charts", Grid)
        if groups != self._groups:
            from migration_tui.ui.widgets.charts import ChartBox  # plotext: only once charts are drawn

            self._groups = groups
            grid.remove_children()
            self._boxes = [ChartBox() for _ in groups]
            if self._boxes:
                grid.mount(*self._boxes)
        window = view.chart_window
        words = Text(no_wrap=True, end="")
        words.append("window ", style=view.style("state-muted"))
        words.append(window_label(window), style=view.style("state-info", bold=True))
        words.append(" (w: " + " / ".join(label for label, _ in WINDOWS) + ")  ", style=view.style("state-muted"))
        from migration_tui.ui.widgets.charts import marks_key, palette

        keys = [key for spec in shown if (key := series_key(view.store, migration, spec.series)) is not None]
        columns = max(10, (grid.size.width or self.app.size.width) // (3 if self.has_class("-three") else 2) - 8)
        span = span_for(window, view.store, keys, view.now)
        chosen = WINDOWS[window % len(WINDOWS)][1]
        if chosen is not None and span < chosen:  # the data is younger than the window
            words.append(f"{span / 60:.0f} m of data so far  ", style=view.style("state-muted"))
        end = quantised_end(view.now, span, columns)
        marked = moments(view.store, migration, end - span, end)
        colors = palette(view)
        kinds: Counter[str] = Counter(kind for _ts, kind, _words in marked)
        for box, (title, group) in zip(self._boxes, groups, strict=True):
            data = chart_data(
                view.store,
                migration,
                group,
                title,
                end,
                span,
                columns,
                view.poll_interval_s,
                view.rules,
                marked,
            )
            kinds.update(mark.kind for mark in data.marks if mark.kind == "rule")
            box.show_data(data, view, colors)
        words.append_text(marks_key(kinds, view))
        header.update(words)
