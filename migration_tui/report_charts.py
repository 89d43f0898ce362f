"""The report's charts, drawn with matplotlib (its SVG backend, no pyplot): one figure per migration.

Four panels over the whole run, sharing the time axis (minutes from the
recording's start): progress, latency, error rate and throughput (the series
each system names in its ``report.toml``), each rule's threshold on its
series drawn as a line, the criteria's as a dashed line; vertical lines mark
the moments rules went pending and fired, breakers opened, heartbeats were
lost and operator actions reached the controller; pauses are shaded.

A long series is thinned to at most ``MAX_POINTS`` points by keeping each
bucket's lowest and highest value, so a spike is never averaged away.
Text from the recording is cleaned and never parsed as mathtext.
"""

from __future__ import annotations

import io
import math
from array import array

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

from migration_tui.report import ChartSeries, MigrationReport, Report
from migration_tui.safe_text import clean

MAX_POINTS = 2000
#: How each kind of mark is drawn: colour, line style, legend label. Never colour alone: the styles differ.
MARKS = {
    "pending": ("#d98c00", ":", "rule pending"),
    "firing": ("#c00000", "-", "rule fired"),
    "breaker": ("#7b2cbf", "--", "breaker opened"),
    "heartbeat": ("#8c564b", "-.", "heartbeat lost"),
    "action": ("#1f5fbf", (0, (5, 1, 1, 1)), "operator action"),
}
_RC = {
    "text.parse_math": False,  # a "$" in a migration id is text, not mathtext
    "svg.hashsalt": "migration-tui",  # the same report gives the same file
    "svg.fonttype": "path",  # glyphs as paths: the picture needs no font where it is shown
    "font.size": 9,
}


def thin(ts: array, values: array, limit: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``limit`` points: each bucket's lowest and highest value, in time order.

    A bucket with no valid value stays a gap (NaN), so the line breaks where the data did.
    """
    t = np.frombuffer(ts, dtype=np.float64) if len(ts) else np.zeros(0)
    v = np.frombuffer(values, dtype=np.float64) if len(values) else np.zeros(0)
    n = len(t)
    if n <= limit:
        return t, v
    size = math.ceil(n / (limit // 2))
    buckets = math.ceil(n / size)
    pad = buckets * size - n
    tv = np.concatenate([t, np.full(pad, t[-1])]).reshape(buckets, size)
    vv = np.concatenate([v, np.full(pad, np.nan)]).reshape(buckets, size)
    empty = np.isnan(vv).all(axis=1)
    low = np.where(empty, 0, np.nanargmin(np.where(empty[:, None], 0.0, vv), axis=1))
    high = np.where(empty, 0, np.nanargmax(np.where(empty[:, None], 0.0, vv), axis=1))
    first, second = np.minimum(low, high), np.maximum(low, high)
    rows = np.arange(buckets)
    out_t = np.column_stack([tv[rows, first], tv[rows, second]]).ravel()
    out_v = np.column_stack([vv[rows, first], vv[rows, second]]).ravel()
    return out_t, out_v


def figure(report: Report, migration: MigrationReport) -> Figure:
    start = report.started_at
    with rc_context(_RC):
        # Fixed margins, not a layout engine: constrained layout measured every text twice and was
        # half the drawing's time. The panels' labels are short (numbers, a unit, a title).
        fig = Figure(figsize=(10, 9), dpi=100)
        fig.subplots_adjust(left=0.08, right=0.97, top=0.94, bottom=0.11, hspace=0.3)
        axes = fig.subplots(len(migration.charts), 1, sharex=True)
        fig.suptitle(f"{clean(migration.id, 80)} ({clean(migration.system, 40)}): {clean(migration.outcome, 120)}")
        drawn: set[str] = set()
        for ax, chart in zip(axes, migration.charts, strict=True):
            _panel(ax, chart, start)
            for span in migration.pauses:
                ax.axvspan((span.start - start) / 60, (span.end - start) / 60, color="#999999", alpha=0.25, lw=0)
            # One collection of lines per kind of mark and panel (hundreds of marks stay cheap to draw).
            for kind, (colour, style, label) in MARKS.items():
                xs = [(mark.ts - start) / 60 for mark in migration.marks if mark.kind == kind]
                if not xs:
                    continue
                ax.vlines(
                    xs,
                    0,
                    1,
                    transform=ax.get_xaxis_transform(),
                    colors=colour,
                    linestyles=style,
                    linewidth=1.2,
                    label=label if label not in drawn else None,
                )
                drawn.add(label)
        _phases(axes[0], migration, start)
        axes[-1].set_xlabel("minutes from the start of the recording")
        axes[-1].set_xlim(0, max(report.duration, 1.0) / 60)
        handles, labels = [], []
        for ax in axes:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                if label not in labels:
                    handles.append(handle)
                    labels.append(label)
        if migration.pauses:
            from matplotlib.patches import Patch

            handles.append(Patch(color="#999999", alpha=0.25))
            labels.append("paused")
        if handles:
            fig.legend(handles, labels, loc="lower center", ncols=4, fontsize=8)
    return fig


#: Phase changes labelled on the progress panel (a longer list would be unreadable; the table has them all).
MAX_PHASE_LABELS = 30


def _phases(ax, migration: MigrationReport, start: float) -> None:
    """Each change of phase or status on the progress panel: a thin line and the new phase's name."""
    for span in migration.spans[1 : MAX_PHASE_LABELS + 1]:
        x = (span.start - start) / 60
        ax.axvline(x, color="#777777", linestyle=(0, (1, 2)), linewidth=0.8)
        label = clean(span.phase if span.status in ("in_progress", span.phase) else f"{span.phase} ({span.status})", 40)
        ax.annotate(
            label,
            xy=(x, 1),
            xycoords=("data", "axes fraction"),
            xytext=(2, -2),
            textcoords="offset points",
            rotation=90,
            va="top",
            ha="left",
            fontsize=7,
            color="#444444",
        )


def _panel(ax, chart: ChartSeries, start: float) -> None:
    title = {"progress": "progress", "latency": "latency", "error": "error rate", "throughput": "throughput"}
    name = clean(chart.name or chart.label, 60)
    ax.set_ylabel(
        f"{clean(chart.label, 30)}{(' (' + clean(chart.unit.strip(), 10) + ')') if chart.unit.strip() else ''}"
    )
    if not len(chart.ts):
        ax.set_title(f"{title.get(chart.chart, chart.chart)}: no samples in the recording", loc="left", fontsize=9)
        ax.set_yticks([])
        return
    ts, values = thin(chart.ts, chart.values)
    minutes = (ts - start) / 60
    ax.plot(minutes, values, color="#1b1b1b", linewidth=1.2, label=None)
    ax.set_title(f"{title.get(chart.chart, chart.chart)}: {name}", loc="left", fontsize=9)
    for label, value, kind in chart.thresholds:
        ax.axhline(
            value,
            color="#c00000" if kind == "rule" else "#05612a",
            linestyle="--" if kind == "rule" else ":",
            linewidth=1,
            label="rule threshold" if kind == "rule" else "criterion limit",
        )
        ax.annotate(  # rules' labels on the right, criteria's on the left: the same value never overlaps
            clean(label, 60),
            xy=(1 if kind == "rule" else 0, value),
            xycoords=("axes fraction", "data"),
            ha="right" if kind == "rule" else "left",
            va="bottom",
            fontsize=7,
            color="#c00000" if kind == "rule" else "#05612a",
        )
    if chart.chart == "progress":
        ax.set_ylim(0, 105)
    ax.grid(True, color="#dddddd", linewidth=0.5)


def svg(report: Report, migration: MigrationReport) -> str:
    """One migration's charts as SVG text."""
    fig = figure(report, migration)
    out = io.StringIO()
    with rc_context(_RC):
        fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def svgs(report: Report) -> list[str]:
    return [svg(report, migration) for migration in report.migrations]
