"""A chart of one or a few series, drawn by plotext through textual-plotext.

``SeriesChart`` draws a ``ChartData`` (``migration_tui.ui.chart_data``): the
lines, the threshold as a dashed line, the marked moments as vertical lines
with their letter at the top, and a time axis that ends at "now" (the replay's
play head). It builds the picture only when its data, size or colours changed,
and keeps it: a repaint of the screen reuses the text it built.

This module imports plotext (about 0.1 s): the Metrics tab and the wall import
it only once they have the room for a chart, so the first paint does not pay it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from migration_tui.ui.chart_data import MARK_LETTERS, ChartData, time_ticks, value_axis
from migration_tui.ui.view import View

#: The marker of each line of a chart, in order: told apart without colour (NO_COLOR).
LINE_MARKERS = ("braille", "•", "+", "x", "o")
#: What the key under a chart shows for each marker.
MARKER_KEY = {"braille": "⣀⣀", "•": "••", "+": "++", "x": "xx", "o": "oo"}
#: The colours of the lines, by semantic alias (``migration_tui.ui.colors``).
LINE_ALIASES = ("spark-line", "state-ok", "phase-current", "state-info", "state-muted")
THRESHOLD_ALIAS = "spark-over"
MARK_ALIASES = {"phase": "state-info", "breaker": "breaker-open", "rule": "state-bad", "action": "state-warn"}
#: The order in which marked moments' letters are drawn (the last one shows where two meet).
KIND_ORDER = ("phase", "breaker", "rule", "action")
#: The threshold's dash, every other column.
DASH = "─"
#: More marked moments than this in a window: only their letters, no vertical lines (a forest hides the data).
MAX_MARK_LINES = 12
Rgb = tuple[int, int, int]


def chart_title(title: str, unit: str) -> str:
    """The chart's name and its unit in brackets, unless the name already says it ("docs/s", not "docs/s (/s)")."""
    return f"{title} ({unit})" if unit and not title.endswith(unit) else title


@dataclass(frozen=True)
class Palette:
    """The colours a chart draws with, from the theme; None under NO_COLOR-like themes without them."""

    lines: tuple[Rgb | None, ...]
    threshold: Rgb | None
    marks: tuple[tuple[str, Rgb | None], ...]

    def mark(self, kind: str) -> Rgb | None:
        return dict(self.marks).get(kind)


def _rgb(view: View, alias: str) -> Rgb | None:
    color = view.style(alias).color
    if color is None:
        return None
    triplet = color.get_truecolor()
    return (triplet.red, triplet.green, triplet.blue)


def palette(view: View) -> Palette:
    return Palette(
        lines=tuple(_rgb(view, alias) for alias in LINE_ALIASES),
        threshold=_rgb(view, THRESHOLD_ALIAS),
        marks=tuple((kind, _rgb(view, alias)) for kind, alias in MARK_ALIASES.items()),
    )


class SeriesChart(PlotextPlot):
    """The plot of one ``ChartData``; ``builds`` counts the pictures built (tests read it)."""

    DEFAULT_CSS = """
    SeriesChart {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.data: ChartData | None = None
        self.chart_colors: Palette | None = None
        self.builds = 0
        #: The calls made to plotext for the last picture, (name, args, options): tests read these.
        self.calls: list[tuple[str, tuple[object, ...], dict[str, object]]] = []
        self._picture: tuple[tuple[object, ...], Text] | None = None

    def set_data(self, data: ChartData, colors: Palette) -> bool:
        """Show ``data``; True if that changes the picture (only then is it built again)."""
        if data == self.data and colors == self.chart_colors:
            return False
        self.data, self.chart_colors = data, colors
        self.refresh()
        return True

    def render(self) -> Text:
        width, height = self.size
        key = (self.data, self.chart_colors, width, height)
        if self._picture is not None and self._picture[0] == key:
            return self._picture[1]
        text = self._draw_picture(width, height)
        self._picture = (key, text)
        return text

    def _plot_call(self, name: str, *args: object, **options: object) -> None:
        self.calls.append((name, args, options))
        getattr(self.plt, name)(*args, **options)

    def _draw_picture(self, width: int, height: int) -> Text:
        data, colors = self.data, self.chart_colors
        if data is None or colors is None or width < 20 or height < 5:
            return Text("")
        self.builds += 1
        self.calls = []
        plt = self.plt
        plt.clear_figure()
        plt.plotsize(width, height)
        plt._set_size(width, height)  # as PlotextPlot.render does: plotsize alone does not always take
        plt.theme("clear")  # the widget's own foreground and background, whatever the app's theme
        plt.title(chart_title(data.title, data.unit))
        lo, hi = data.y_range
        # The rows between the title, the frame and the time axis; the threshold on a row of its own.
        lo, hi, ticks, labels = value_axis(lo, hi, height - 4, data.threshold)
        plt.ylim(lo, hi)
        plt.yticks(ticks, labels)
        plt.xlim(-data.span_s, 0.0)
        ticks, labels = time_ticks(data.span_s, max(2, (width - 8) // 10))
        plt.xticks(ticks, labels)
        if data.threshold is not None:
            columns = max(2, width - 8)
            step = 2.0 * data.span_s / columns  # a dash every other column
            xs = []
            x = -data.span_s + step / 2
            while x < 0:
                xs.append(x)
                x += step
            self._plot_call("scatter", xs, [data.threshold] * len(xs), marker=DASH, color=colors.threshold or "default")
        for index, line in enumerate(data.lines):
            marker = LINE_MARKERS[index % len(LINE_MARKERS)]
            color = colors.lines[index % len(colors.lines)] or "default"
            for xs, ys in line.segments:
                # One call per unbroken run: plotext joins the points of a call, never two calls.
                self._plot_call("plot", list(xs), list(ys), marker=marker, color=color)
        for mark in data.marks[-MAX_MARK_LINES:] if len(data.marks) <= MAX_MARK_LINES else ():
            self._plot_call("vline", mark.x, colors.mark(mark.kind) or "default")
        # Drawn by kind, the rarer over the commoner where two share a column: an action over a phase change.
        for mark in sorted(data.marks, key=lambda mark: KIND_ORDER.index(mark.kind) if mark.kind in KIND_ORDER else 0):
            letter = MARK_LETTERS.get(mark.kind, ("?", ""))[0]
            self._plot_call("text", letter, mark.x, hi, color=colors.mark(mark.kind) or "default", background="default")
        return Text.from_ansi(plt.build(), no_wrap=True, end="")


def chart_key(data: ChartData, view: View) -> Text:
    """The line under a chart: which line is which, the limit, and the invalid samples left out."""
    key = Text(no_wrap=True, end="", overflow="ellipsis")
    for index, line in enumerate(data.lines):
        marker = LINE_MARKERS[index % len(LINE_MARKERS)]
        key.append(MARKER_KEY[marker], style=view.style(LINE_ALIASES[index % len(LINE_ALIASES)]))
        key.append(f" {line.label}  ")
        if not line.segments:
            key.append("(no data)  ", style=view.style("state-muted"))
    if data.threshold_words:
        key.append(f"{DASH} {DASH}", style=view.style(THRESHOLD_ALIAS))
        key.append(f" limit {data.threshold_words}  ")
    if data.invalid:
        plural = "value" if data.invalid == 1 else "values"
        key.append(f"▲ {data.invalid} invalid {plural} not drawn", style=view.style("state-warn"))
    return key


class ChartBox(Vertical):
    """A chart and its key line."""

    DEFAULT_CSS = """
    ChartBox {
        height: 1fr;
        width: 1fr;
        min-height: 6;
    }
    ChartBox > .chart-key {
        height: 1;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        # Made here, not in compose: the box is given its data before it is mounted.
        self.chart = SeriesChart()
        self.key = Static("", classes="chart-key", markup=False)

    def compose(self) -> ComposeResult:
        yield self.chart
        yield self.key

    def show_data(self, data: ChartData, view: View, colors: Palette) -> bool:
        """True if the picture changed (and will be built again)."""
        changed = self.chart.set_data(data, colors)
        if changed:
            self.key.update(chart_key(data, view))
        return changed


def marks_key(kinds: Mapping[str, int], view: View) -> Text:
    """What the letters on the charts mean, for the kinds present."""
    text = Text(no_wrap=True, end="")
    for kind, (letter, words) in MARK_LETTERS.items():
        if kinds.get(kind):
            text.append(letter, style=view.style(MARK_ALIASES[kind], bold=True))
            text.append(f" {words}  ", style=view.style("state-muted"))
    return text
