"""The wall: a read-only screen for a TV across the room.

Large figures (Textual's ``Digits``) for progress, the error rate and p95
latency of the migration shown; above them one line per migration (phase,
progress, worst alert), and a banner that shouts when a source is dead or
stale instead of letting the figures freeze silently. With several active
migrations it rotates between them every ``rotate_s`` seconds.

It has no action keys and never imports ``migration_tui.actions``: only help,
quit and switching the migration shown. The same feed and store as the
dashboard drive it, so ``wall`` works against live sources and replays.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Label

from migration_tui import systems
from migration_tui.frame import active
from migration_tui.model import FAILURE_PHASES, Migration
from migration_tui.rules import Rule
from migration_tui.safe_text import INVALID, MISSING, clean
from migration_tui.systems.base import Figure, MetricSpec
from migration_tui.ui import states
from migration_tui.ui.chart_data import chart_data, moments
from migration_tui.ui.colors import level_alias
from migration_tui.ui.lookup import series_for, threshold_rule
from migration_tui.ui.screens.base import MigrationScreen, can_draw
from migration_tui.ui.view import StoreView, View
from migration_tui.ui.widgets import MetricsPane, ProgressLine, StatusBar, SystemPanel
from migration_tui.ui.widgets.alerts import needs_a_look
from migration_tui.ui.widgets.metrics import window_for
from migration_tui.ui.widgets.migration import controller_level, not_live_words, timeline
from migration_tui.ui.widgets.sparkline import quantised_end
from migration_tui.ui.widgets.text_pane import TextPane

if TYPE_CHECKING:
    from migration_tui.feeds import LiveFeed, ReplayFeed

#: Seconds each active migration is shown before the wall moves to the next.
ROTATE_S = 15.0
#: From this size the wall charts its error measure and latency under the large figures.
CHART_COLUMNS = 160
CHART_ROWS = 45
#: Seconds the wall's charts span, ending now.
WALL_CHART_S = 600.0
#: Lines of the fleet summary before it says "+ N more".
SUMMARY_LINES = 8
FLEET_TOOLTIP = "Every migration in one list, worst first; Enter holds one on the wall"


def figures_of(system: str) -> tuple[Figure, Figure]:
    """The two figures beside progress for a system: its error measure and its latency
    (the first registered system's for one that names none)."""
    figures = systems.ui(system).figures or systems.ui(systems.default().name).figures
    if figures is None:
        raise LookupError(f"no wall figures for {system!r} and none for the default system")
    return figures


def worst_alert(view: View, migration: Migration) -> Text:
    """What most needs a look (as the fleet says it): an abort or rollback under way, the worst
    rule, rules not judged, or that it ended; "no alerts" only when every rule was judged and passed."""
    _rank, text, level = needs_a_look(view, migration)
    return Text(clean(text, 200), style=view.style(level_alias(level), bold=level == "bad"), no_wrap=True, end="")


def figure_text(value: float | None, digits: int) -> str:
    """What the Digits show: the number, or dashes when there is none (the note says why)."""
    if value is None:
        return "--"
    return f"{value:,.{digits}f}" if abs(value) < 100_000 else f"{value:,.0f}"


class SourceBanner(TextPane):
    """Shouts which source is dead or stale; no lines (no height) while every source is fresh.

    Never ``display: none``: the screen only redraws displayed widgets, so a hidden
    banner would never learn that it has something to shout."""

    SECTIONS = ("sources",)
    CLOCK = True
    SELECTION = False

    DEFAULT_CSS = """
    SourceBanner {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: auto;
        background: $error;
        color: $text;
        text-style: bold;
        padding: 0 1;
    }
    """

    def build(self, view: View, width: int) -> list[Text]:
        lines = []
        for name in view.store.source_names():
            level, label, _age = states.source(view.store.source(name), view.now, view.poll_interval_s)
            if level in ("bad", "warn"):
                lines.append(
                    Text(f"✖ {clean(name, 20).upper()} {clean(label, 100)}: the figures below are not live", end="")
                )
        self.set_class(bool(lines), "-shout")
        return lines


class WallPane(TextPane):
    """A wall pane judged by the rules: redrawn when anything they read changes, at most once a second."""

    SECTIONS = ("migrations", "series", "participants", "breakers")
    CLOCK = True
    MIN_INTERVAL_S = 1.0


class FleetSummary(WallPane):
    """One line per migration: the one shown marked ▶, with phase, progress and worst alert."""

    DEFAULT_CSS = """
    FleetSummary {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: auto;
        max-height: 10;
        padding: 0 1;
        border-bottom: solid $primary;
    }
    """

    def build(self, view: View, width: int) -> list[Text]:
        migrations = view.frame.by_urgency  # failing first, ended last
        if not migrations:
            return [Text("waiting for the first migration…", style=view.style("state-muted"), end="")]
        lines = []
        for migration in migrations[:SUMMARY_LINES]:
            current = migration.id == view.migration_id
            line = Text(no_wrap=True, end="", style=view.style("state-info", bold=True) if current else "")
            line.append("▶ " if current else "  ")
            line.append(clean(migration.id, 22).ljust(23))
            status = view.badge(*states.status(migration.status))
            status.truncate(15, pad=True)
            line.append_text(status)
            line.append(f" {clean(migration.phase, 16):<17}")
            progress = MISSING if migration.progress is None else f"{migration.progress:5.1f}%"
            line.append(f"{progress:>7}  ")
            line.append_text(worst_alert(view, migration))
            lines.append(line)
        if len(migrations) > SUMMARY_LINES:
            more = len(migrations) - SUMMARY_LINES
            lines.append(Text(f"  + {more} more", style=view.style("state-muted"), end=""))
        return lines


class WallHeadline(WallPane):
    """The migration shown: system, id, pair, status, its phase timeline and its worst alert."""

    DEFAULT_CSS = """
    WallHeadline {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: auto;
        padding: 0 1;
    }
    """

    def _held(self) -> bool:
        """True while the wall holds this migration (chosen in the fleet view) instead of rotating."""
        return bool(getattr(self.screen, "held", False))

    def build(self, view: View, width: int) -> list[Text]:
        migration = view.migration
        if migration is None:
            return [Text("no migration yet", style=view.style("state-muted"), end="")]
        title = Text(no_wrap=True, end="")
        if self._held():
            # Said first, where a cut title cannot hide it: the wall has stopped rotating.
            title.append("⏸ HELD", style=view.style("state-warn", bold=True))
            title.append(" (esc rotates)  ", style=view.style("state-muted"))
        title.append(f"{clean(migration.system, 20)}  ", style=view.style("state-muted"))
        title.append(clean(migration.remote_id, 60), style=view.style("state-info", bold=True))
        if migration.controller:
            # The id as its controller knows it, and which controller: the rotation crosses them.
            title.append(f" on {clean(migration.controller, 24)}", style=view.style("state-info"))
        if migration.pair:
            title.append(f"  {clean(migration.pair, 20)}")
        title.append("  ")
        not_live = not_live_words(view)
        if not_live is not None:
            # The banner shouts it too; the status here must not read as live either.
            level = controller_level(view)[0]  # ✖ while the controller fails, ▲ while only stale
            title.append_text(view.badge(level, f"{not_live.removeprefix('controller ')}, last known:", bold=True))
            title.append(f" {clean(migration.status, 24)}", style=view.style("state-muted"))
        else:
            title.append_text(view.badge(*states.status(migration.status), bold=True))
        return [title, timeline(migration, view), worst_alert(view, migration)]


def phase_step(migration: Migration) -> tuple[str, str, str]:
    """(figure, note, level) for the phase: its step number, "of 4" and its name; a failure in words."""
    name = clean(migration.phase, 40)
    if migration.phase in FAILURE_PHASES:
        return "--", f"✖ {name.upper()}", "bad"
    stages = migration.stages
    if migration.phase in stages:
        return str(stages.index(migration.phase) + 1), f"of {len(stages)}: {name.upper()}", "ok"
    return "--", f"{name} (not a known stage)", "warn"


class BigFigure(Vertical):
    """A title, the figure in Digits, and a note (unit and limit, or why there is no number)."""

    DEFAULT_CSS = """
    BigFigure {
        width: 1fr;
        height: auto;
        padding: 0 1;
    }
    BigFigure .figure-title {
        color: $text-muted;
        text-style: bold;
    }
    BigFigure.-bad Digits {
        color: $error;
    }
    BigFigure.-warn Digits {
        color: $warning;
    }
    """

    def compose(self) -> ComposeResult:
        yield Label("", classes="figure-title", markup=False)
        yield Digits("--")
        yield Label("", classes="figure-note", markup=False)

    def show(self, title: str, value: float | None, invalid: bool, digits: int, note: str, level: str) -> None:
        if value is None:
            note = INVALID if invalid else "no data"
        self.show_text(title, figure_text(value, digits), note, level)

    def show_text(self, title: str, text: str, note: str, level: str) -> None:
        """Digits take only digits and a few signs: ``text`` must be one of those (the note can be anything)."""
        self.query_one(".figure-title", Label).update(title)
        figure = self.query_one(Digits)
        if figure.value != text:
            figure.update(text)
        self.query_one(".figure-note", Label).update(note)
        self.set_class(level == "bad", "-bad")
        self.set_class(level == "warn", "-warn")


class WallCharts(StoreView, Horizontal):
    """From 160x45: the error measure and the latency over the last minutes, against their limits.

    The same charts as the Metrics tab (``charts.py``), over a fixed window; plotext is imported
    at the first draw, so a wall smaller than that never loads it."""

    SECTIONS = ("series", "migrations", "breakers")
    MIN_INTERVAL_S = 1.0

    DEFAULT_CSS = """
    WallCharts {
        height: 1fr;
        min-height: 10;
        display: none;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.boxes: list[Any] = []
        self._last_view: View | None = None

    def view_key(self, view: View) -> tuple[Any, ...]:
        return (*super().view_key(view), tuple(self.size), view.now)

    def on_resize(self) -> None:
        # Shown (from 160x45) or resized: drawn for the new size at once, not after the interval.
        self.forget()
        if self._last_view is not None:
            self.show(self._last_view)

    def draw(self, view: View) -> None:
        from migration_tui.ui.widgets.charts import ChartBox, palette  # plotext: only once there is room

        self._last_view = view

        if not self.boxes:
            self.boxes = [ChartBox(), ChartBox()]
            self.mount(*self.boxes)
        migration = view.migration
        if migration is None:
            return
        columns = max(10, (self.size.width or self.app.size.width) // 2 - 8)
        figures = figures_of(migration.system)
        # As the sparklines: the data's age rounded up to a minute, at most WALL_CHART_S.
        found = (series_for(view.store, migration, figure.series) for figure in figures)
        span = min(WALL_CHART_S, window_for([s.points(since=view.now - WALL_CHART_S) for s in found if s], view.now))
        end = quantised_end(view.now, span, columns)
        marked = moments(view.store, migration, end - span, end)
        colors = palette(view)
        for box, figure in zip(self.boxes, figures, strict=True):
            spec = MetricSpec(figure.series, figure.title, f" {figure.unit}" if figure.unit else "", figure.digits)
            data = chart_data(
                view.store,
                migration,
                (spec,),
                figure.title,
                end,
                span,
                columns,
                view.poll_interval_s,
                view.rules,
                marked,
            )
            box.show_data(data, view, colors)


class WallScreen(MigrationScreen, inherit_bindings=False):
    """The wall: fleet summary, the migration shown in large figures, and loud dead sources."""

    #: Help, switching the migration shown and the fleet view, as the dashboard declares them
    #: (the fleet shown in the footer here); then Esc to rotate again after the fleet chose one.
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            replace(binding, show=True, tooltip=FLEET_TOOLTIP) if binding.id == "fleet" else binding
            for binding in MigrationScreen.BINDINGS
            if isinstance(binding, Binding) and binding.id in ("help", "previous-migration", "next-migration", "fleet")
        ),
        Binding(
            "escape",
            "rotate_again",
            "Rotate",
            key_display="esc",
            id="rotate-again",
            tooltip="Rotate between the migrations again",
        ),
    ]

    DEFAULT_CSS = """
    WallScreen #figures {
        height: 1fr;
        align: center middle;
    }
    WallScreen #figures BigFigure {
        height: auto;
    }
    WallScreen #headline {
        margin-top: 1;
    }
    WallScreen #wall-system {
        max-height: 12;
    }
    WallScreen #wall-metrics {
        max-height: 9;
    }
    WallScreen #wall-detail {
        height: auto;
        border-top: hkey $panel;
    }
    WallScreen.-charts #figures {
        height: auto;
    }
    WallScreen.-charts #wall-charts {
        display: block;
    }
    """

    rotate_s: ClassVar[float] = ROTATE_S

    def __init__(self, feed: ReplayFeed | LiveFeed, rules: tuple[Rule, ...] | None = None) -> None:
        super().__init__(feed, rules)
        self._shown_for = 0.0
        #: True while the migration chosen in the fleet view is held on the wall (no rotation).
        self.held = False

    @classmethod
    def rotating(cls, rotate_s: float) -> Any:
        """What ``MigrationApp(feed, dashboard=...)`` takes: the wall rotating every ``rotate_s`` seconds."""
        return type(cls.__name__, (cls,), {"rotate_s": rotate_s})

    def compose(self) -> ComposeResult:
        yield SourceBanner(id="banner")
        yield FleetSummary(id="fleet-summary")
        yield WallHeadline(id="headline")
        with Horizontal(id="figures"):
            yield BigFigure(id="figure-phase")
            yield BigFigure(id="figure-progress")
            yield BigFigure(id="figure-errors")
            yield BigFigure(id="figure-latency")
        # With more room (160x45 and up): the error measure and latency charted against their limits.
        yield WallCharts(id="wall-charts")
        # With room (120x36 and up): the progress line with its rate, the system's own panel
        # (participants, per-pair table, traffic split ...) and the sparklines, below the figures.
        with Vertical(id="wall-detail", classes="wide-only"):
            yield ProgressLine(id="wall-progress")
            yield SystemPanel(id="wall-system")
            yield MetricsPane(id="wall-metrics")
        yield StatusBar(id="status")
        yield self.footer()

    @property
    def selected_migration(self) -> Migration | None:
        """The one chosen or rotated to; at first the most urgent (failing, then running)."""
        migrations = self.feed.store.migrations
        if self.selected_id in migrations:
            return migrations[self.selected_id]
        running = active(list(migrations.values()))
        return running[0] if running else None

    def apply_breakpoints(self) -> None:
        super().apply_breakpoints()
        width, height = self.app.size
        self.set_class(width >= CHART_COLUMNS and height >= CHART_ROWS, "-charts")

    def on_resize(self) -> None:
        # Textual calls the base screen's on_resize too (every class's handler in the MRO).
        self.set_class(self.size.width >= CHART_COLUMNS and self.size.height >= CHART_ROWS, "-charts")

    def on_mount(self) -> None:
        # Textual calls the base screen's on_mount too (every class's handler in the MRO).
        self.rotation_timer = self.set_interval(1.0, self._rotate, name="wall-rotation")

    def _rotate(self) -> None:
        """Every second: move on once the migration shown has had its ``rotate_s``."""
        self._shown_for += 1.0
        if self.held or self._shown_for < self.rotate_s:
            return
        self._shown_for = 0.0
        running = active(list(self.feed.store.migrations.values()))
        if len(running) < 2:
            return
        ids = [m.id for m in running]
        current = ids.index(self.selected_id) if self.selected_id in ids else -1
        self.selected_id = ids[(current + 1) % len(ids)]
        self.refresh_view()

    def action_step_migration(self, step: int) -> None:
        self._shown_for = 0.0  # a person chose: give them the full interval
        super().action_step_migration(step)

    def action_fleet(self) -> None:
        """The fleet view over the wall; the migration chosen there is held on the wall."""
        self.app.push_screen(self.app.make_screen("fleet", self), self._hold)

    def _hold(self, migration_id: str | None) -> None:
        if migration_id is not None:
            self.held = True
            self._held_changed()

    def action_rotate_again(self) -> None:
        self.held = False
        self._shown_for = 0.0
        self._held_changed()

    def _held_changed(self) -> None:
        """The footer's keys and the headline's mark, at once (``forget``: not after the headline's 1 s interval)."""
        self.refresh_bindings()
        self.query_one(WallHeadline).forget()
        self.refresh_view()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rotate_again":
            return self.held
        return action in ("help", "step_migration", "fleet", "quit") or None

    def build_view(self) -> View:
        # Nothing on the wall can send, even over a replay.
        return msgspec.structs.replace(super().build_view(), read_only=True)

    def refresh_view(self) -> None:
        super().refresh_view()
        if not can_draw(self):
            return
        self._show_figures(self.last_view)  # this repaint's view and frame, not a second one

    def _show_figures(self, view: View) -> None:
        migration = view.migration
        phase, progress, errors, latency = (
            self.query_one(f"#figure-{name}", BigFigure) for name in ("phase", "progress", "errors", "latency")
        )
        if migration is None:
            for figure in (phase, progress, errors, latency):
                figure.show("", None, False, 0, "waiting for data", "muted")
            return
        not_live = not_live_words(view)
        if not_live is None:
            phase.show_text("phase", *phase_step(migration))
            progress.show("progress", migration.progress, "progress" in migration.invalid, 1, "%", "ok")
        else:
            # Last known values: said under each, in the warning colour, never as fine.
            step, _note, _level = phase_step(migration)
            phase.show_text("phase", step, f"▲ last known ({not_live})", "warn")
            invalid = "progress" in migration.invalid
            progress.show("progress", migration.progress, invalid, 1, f"% ▲ last known ({not_live})", "warn")
        for widget, figure in zip((errors, latency), figures_of(migration.system), strict=True):
            series = series_for(view.store, migration, figure.series)
            value = None if series is None else series.latest()  # a gap or nothing yet: "no data"
            rule = threshold_rule(migration.system, figure.series, view.rules)
            note = figure.unit
            level = "ok"
            if rule is not None:
                broken = value is not None and rule.breaks(value)
                # Over its limit is said in words and a symbol, not by the colour alone.
                mark = f"✖ {'ABOVE' if rule.op == '>' else 'BELOW'} " if broken else ""
                note += f"   {mark}limit {'≤' if rule.op == '>' else '≥'} {rule.threshold:g}{figure.unit}"
                level = "bad" if broken else "ok"
            widget.show(figure.title, value, False, figure.digits, note, level)
