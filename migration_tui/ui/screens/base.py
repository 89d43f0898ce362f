"""MigrationScreen: the base of the screens over one feed, never pushed itself.

``MigrationScreen`` (dashboard.py), ``ActionDashboard`` (actions.py, the same
with the action keys) and ``WallScreen`` (wall.py) derive from it, so no
screen imports another. It owns the dashboard's layout (the wall composes
its own), the keys, the selection and the repaint. The screens it opens
(help, fleet) come from the app by name (``MigrationApp.make_screen``).

Keys are declared once as data (``BINDINGS``); the footer, the help screen
and the command palette all read them, and ``check_action`` hides what the
current mode forbids (replay controls outside replay, anything while typing
a filter). The actions layer plugs in here: add its bindings to
``BINDINGS`` (or a subclass's) and its rule to ``check_action``; the
selected migration is ``selected_migration``.

``refresh_view`` is the one repaint: the app calls it at most once per
frame, and each visible widget redraws only if the part it shows changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Label, TabbedContent, TabPane, Tabs

from migration_tui.model import Migration
from migration_tui.rules import Rule
from migration_tui.ui.chart_data import DEFAULT_WINDOW, WINDOWS
from migration_tui.ui.rule_watch import RuleWatch
from migration_tui.ui.textual_compat import place_tab_underline, render_dirty_widgets_only
from migration_tui.ui.view import StoreView, View
from migration_tui.ui.widgets import (
    AlertsPane,
    BreakersTable,
    LogPane,
    MetricsPane,
    MigrationPane,
    MigrationPicker,
    ParticipantsNote,
    ParticipantsTable,
    ProgressLine,
    ResourcesPane,
    StatusBar,
    SystemPanel,
)
from migration_tui.ui.widgets.footer import DeclaredKeyOrder, KeyBar
from migration_tui.ui.widgets.metrics_tab import MetricsTab
from migration_tui.ui.widgets.not_served import BREAKERS_PATH, NotServedNote

if TYPE_CHECKING:
    from migration_tui.feeds import LiveFeed, ReplayFeed

#: Tab ids in the order of their number keys.
TABS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("participants", "Participants"),
    ("breakers", "Breakers"),
    ("metrics", "Metrics"),
    ("host", "Host"),
    ("log", "Log"),
)
#: Actions that only make sense while replaying a recording.
REPLAY_ACTIONS = frozenset({"toggle_play", "seek", "faster", "slower"})
SEEK_S = 10.0
#: ``[`` and ``]`` share one footer entry ("[ ] Migration"), so the action keys fit at 80 columns.
MIGRATION_KEYS = Binding.Group("Migration")
SEEK_KEYS = Binding.Group("Seek 10s")
SPEED_KEYS = Binding.Group("Speed")
SEEK_LONG_S = 60.0
#: From this width (and 36 rows) the Overview also shows this host's resources and the log.
WIDE_COLUMNS = 120
#: From this width the Overview's log sits beside it, full height, instead of below it.
SIDE_LOG_COLUMNS = 160


def _tab_binding(number: int, tab_id: str, title: str) -> Binding:
    return Binding(
        str(number),
        f"show_tab('{tab_id}')",
        title,
        show=False,
        id=f"tab-{tab_id}",
        tooltip=f"Show the {title} tab",
    )


class MigrationScreen(DeclaredKeyOrder, Screen[None]):
    """Every pane of the selected migration, in tabs at 80x24 and side by side when wide.

    The shared base: the app pushes one of its subclasses, never this class."""

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (WIDE_COLUMNS, "-wide"),
        (SIDE_LOG_COLUMNS, "-xwide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (36, "-tall")]
    #: The view of the last repaint (None before the first).
    last_view: View | None = None

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "question_mark", "help", "Help", key_display="?", id="help", tooltip="Every key, and what the symbols mean"
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            id="filter",
            tooltip="Filter the participants by id, type, vote or health",
        ),
        Binding(
            "left_square_bracket",
            "step_migration(-1)",
            "Prev",
            key_display="[",
            group=MIGRATION_KEYS,
            id="previous-migration",
            tooltip="Show the previous migration",
        ),
        Binding(
            "right_square_bracket",
            "step_migration(1)",
            "Next",
            key_display="]",
            group=MIGRATION_KEYS,
            id="next-migration",
            tooltip="Show the next migration",
        ),
        Binding(
            "f",
            "fleet",
            "Fleet",
            show=False,
            id="fleet",
            tooltip="Every migration in one table, worst first; Enter opens one",
        ),
        Binding(
            "space", "toggle_play", "Play/Pause", priority=True, id="replay-toggle", tooltip="Play or pause the replay"
        ),
        Binding(
            "left",
            f"seek({-SEEK_S})",
            "-10s",
            group=SEEK_KEYS,
            key_display="←",
            priority=True,
            id="replay-back",
            tooltip="Seek 10 s back",
        ),
        Binding(
            "right",
            f"seek({SEEK_S})",
            "+10s",
            group=SEEK_KEYS,
            key_display="→",
            priority=True,
            id="replay-forward",
            tooltip="Seek 10 s forward",
        ),
        Binding(
            "shift+left",
            f"seek({-SEEK_LONG_S})",
            "-60s",
            show=False,
            priority=True,
            id="replay-back-long",
            tooltip="Seek 60 s back",
        ),
        Binding(
            "shift+right",
            f"seek({SEEK_LONG_S})",
            "+60s",
            show=False,
            priority=True,
            id="replay-forward-long",
            tooltip="Seek 60 s forward",
        ),
        Binding(
            "plus,equals_sign",
            "faster",
            "Faster",
            group=SPEED_KEYS,
            key_display="+",
            priority=True,
            id="replay-faster",
            tooltip="Replay faster",
        ),
        Binding(
            "minus",
            "slower",
            "Slower",
            key_display="-",
            priority=True,
            group=SPEED_KEYS,
            id="replay-slower",
            tooltip="Replay slower",
        ),
        Binding(
            "escape", "close_filter", "Close filter", show=False, id="close-filter", tooltip="Leave the filter box"
        ),
        Binding(
            "w",
            "chart_window",
            "Window",
            show=False,
            id="chart-window",
            tooltip="Metrics charts: the next time window (1 m, 5 m, 15 m, 1 h, all)",
        ),
        *(_tab_binding(number, tab_id, title) for number, (tab_id, title) in enumerate(TABS, 1)),
    ]

    DEFAULT_CSS = """
    MigrationScreen .pane-title {
        color: $text-muted;
        text-style: bold;
        padding: 0 1;
        width: 1fr;
    }
    MigrationScreen #filter {
        display: none;
        height: 3;
    }
    MigrationScreen #filter.-shown {
        display: block;
    }
    MigrationScreen .wide-only {
        display: none;
    }
    MigrationScreen.-wide.-tall .wide-only, MigrationScreen.-xwide.-tall .wide-only {
        display: block;
    }
    MigrationScreen .xwide-only {
        display: none;
    }
    MigrationScreen.-xwide.-tall .xwide-only {
        display: block;
    }
    MigrationScreen.-xwide.-tall #overview-log {
        display: none;
    }
    MigrationScreen #overview-columns {
        height: 1fr;
    }
    MigrationScreen #overview-main {
        width: 1fr;
    }
    MigrationScreen #overview-log-side {
        width: 2fr;
        max-width: 90;
        height: 1fr;
        border-left: vkey $panel;
    }
    MigrationScreen #overview-side {
        height: auto;
    }
    MigrationScreen #overview-metrics {
        width: 1fr;
    }
    MigrationScreen #overview-host {
        width: 40;
    }
    MigrationScreen #overview-log {
        height: 1fr;
        min-height: 6;
    }
    MigrationScreen TabPane {
        padding: 0;
    }
    MigrationScreen #tabs {
        height: 1fr;
    }
    """

    #: Actions that write to a controller (pause, resume, abort, rollback): the actions
    #: layer lists its action names here and they exist only in LIVE and DEMO mode.
    LIVE_ONLY_ACTIONS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, feed: ReplayFeed | LiveFeed, rules: tuple[Rule, ...] | None = None) -> None:
        super().__init__()
        render_dirty_widgets_only(self)  # a second's figures repaint only their widgets
        self.feed = feed
        self.rules = rules
        self.selected_id: str | None = None
        self.theme_generation = 0
        #: The Metrics tab's window, an index into ``chart_data.WINDOWS`` (``w`` cycles it).
        self.chart_window = DEFAULT_WINDOW
        self.rule_watch = RuleWatch(bell=self._ring)

    # --- layout ------------------------------------------------------------------

    def apply_breakpoints(self) -> None:
        """The width and height classes for the terminal's size now, before the first layout.

        Textual sets them on the first Resize, after a first layout without them: at 120
        columns that laid the panes out stacked, then side by side, a frame apart.
        """
        width, height = self.app.size
        horizontal, vertical = self.HORIZONTAL_BREAKPOINTS or [], self.VERTICAL_BREAKPOINTS or []
        classes = {name: False for _, name in horizontal + vertical}
        for size, breakpoints in ((width, horizontal), (height, vertical)):
            # Textual's rule: the class of the largest breakpoint the size reaches, if any.
            reached = [(breakpoint, name) for breakpoint, name in breakpoints if size >= breakpoint]
            if reached:
                classes[max(reached)[1]] = True
        self.update_classes(classes, animate=False)

    def compose(self) -> ComposeResult:
        self.apply_breakpoints()
        yield MigrationPicker(id="picker")
        with TabbedContent(initial="overview", id="tabs"):
            with TabPane("1 Overview", id="overview"), Horizontal(id="overview-columns"):
                with VerticalScroll(id="overview-main"):
                    yield MigrationPane(id="migration")
                    yield ProgressLine(id="progress")
                    yield SystemPanel(id="system")
                    yield Label("Alerts", classes="pane-title")
                    yield AlertsPane(id="alerts")
                    with Horizontal(id="overview-side"):
                        yield MetricsPane(id="overview-metrics")
                        yield ResourcesPane(id="overview-host", classes="wide-only")
                    yield LogPane(id="overview-log", classes="wide-only")
                yield LogPane(id="overview-log-side", classes="xwide-only")
            # The other tabs are filled just after the first frame (``_fill_later_tabs``): they start
            # hidden, and making, styling and laying out their widgets first made the first paint later.
            for number, (pane_id, name) in enumerate(TABS[1:], 2):
                yield TabPane(f"{number} {name}", id=pane_id)
        yield StatusBar(id="status")
        yield self.footer()

    def later_tabs(self) -> dict[str, list[Widget]]:
        """The widgets of the tabs after the Overview (filled after the first frame), by tab id."""
        table = ParticipantsTable(id="participants-table")
        return {
            "participants": [
                Input(placeholder="filter participants (Enter or Esc to leave)", id="filter"),
                table,
                ParticipantsNote(table, id="participants-note"),
            ],
            "breakers": [NotServedNote(BREAKERS_PATH, id="breakers-not-served"), BreakersTable(id="breakers-table")],
            "metrics": [MetricsTab(id="metrics-tab")],
            "host": [ResourcesPane(id="host-pane")],
            "log": [LogPane(id="log-pane")],
        }

    async def _fill_later_tabs(self) -> None:
        """Mount the hidden tabs' widgets (the first frame is out); then draw those on screen."""
        empty = [pane for pane in self.query(TabPane) if not pane.children]  # none on the wall
        if not empty or not can_draw(self):
            return
        later = self.later_tabs()
        for pane in empty:
            await pane.mount_all(later.get(pane.id or "", []))
        if can_draw(self):
            self.views_changed()

    def footer(self) -> KeyBar:
        """The key bar for the terminal's width now (see ``on_resize``)."""
        width = self.app.size.width
        return KeyBar(compact=width < 120, show_command_palette=width >= 100)

    def on_mount(self) -> None:
        self._views: list[StoreView] = self._find_views()
        for tabs in self.query(Tabs):
            place_tab_underline(tabs)  # in the first frame, not a frame after it
        self.refresh_view()
        self.call_after_refresh(self._fill_later_tabs)

    def _find_views(self) -> list[StoreView]:
        """The widgets that draw from the store, in screen order."""
        return [w for w in self.query("*") if isinstance(w, StoreView)]

    def views_changed(self) -> None:
        """The later tabs' widgets are in: drawn now from the last repaint's view if on screen (a tab
        chosen before they arrived), else when their tab is shown. Not a repaint of the rest."""
        known = set(self._views)
        self._views = self._find_views()
        view = getattr(self, "last_view", None)
        if view is None:
            return
        for widget in self._views:
            if widget not in known and _is_displayed(widget, self):  # type: ignore[arg-type]
                widget.show(view)

    # --- the repaint ---------------------------------------------------------------

    @property
    def selected_migration(self) -> Migration | None:
        """The migration every pane shows, and the one any action would act on."""
        migrations = self.feed.store.migrations
        if self.selected_id in migrations:
            return migrations[self.selected_id]
        return next(iter(migrations.values()), None)

    def build_view(self) -> View:
        migration = self.selected_migration
        if migration is not None:
            self.selected_id = migration.id
        feed = self.feed
        return View(
            store=feed.store,
            now=feed.now(),
            mode=feed.mode,
            migration=migration,
            clock=feed.clock(),
            poll_interval_s=feed.poll_interval_s,
            theme_variables=getattr(self.app, "theme_variables", {}),
            theme_generation=self.theme_generation,
            rules=self.rules,
            warnings=feed.warnings,
            place=getattr(feed, "place", ""),
            read_only=getattr(feed, "read_only", False),
            chart_window=self.chart_window,
        )

    def refresh_view(self) -> None:
        """Let every visible widget redraw what changed; hidden ones catch up when shown."""
        if not can_draw(self):
            return
        view = self.last_view = self.build_view()  # one view, one frame: every pane reads the same judgements
        cover = self.app.screen if self.is_attached else self
        if cover is not self and not cover.is_modal:
            # Under a full screen (the fleet): nothing shows here; on_screen_resume catches up. A
            # screen showing this one's data (its ``dashboard``) repaints now, with the data, not a
            # second out of step on a timer of its own, from this view; it feeds the rule watch from
            # that frame (one view and one judgement a repaint, not two).
            if getattr(cover, "dashboard", None) is self:
                cover.refresh_view(view)  # type: ignore[attr-defined]
            return
        self.watch_rules(view)
        for widget in self._views:
            if _is_displayed(widget, self):  # type: ignore[arg-type]
                widget.show(view)

    def watch_rules(self, view: View) -> None:
        """Rules going pending, firing or back: logged once each; the bell when one starts firing."""
        store = view.store
        if not self.rule_watch.due(store, view.now):
            return
        # A replay step longer than a few ticks is a jump, not play: taken silently (see RuleWatch).
        max_step = max(5.0, 2.0 * view.clock.speed) if view.mode == "REPLAY" else float("inf")
        self.rule_watch.observe(store, view.now, view.judgements, max_step)

    def _ring(self) -> None:
        if getattr(self.app, "rule_bell", True):
            self.app.bell()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def restyle(self) -> None:
        """The theme changed: everything draws again with the new colours."""
        self.theme_generation += 1
        self.refresh_view()

    @on(TabbedContent.TabActivated)
    def _tab_shown(self) -> None:
        self.call_after_refresh(self.refresh_view)

    def on_resize(self) -> None:
        # Narrow, the footer's keys go closer together and the palette's key (in help) leaves,
        # so every key of the screen fits at 80 columns.
        footer = self.query_one(KeyBar)
        footer.compact = self.size.width < 120
        footer.show_command_palette = self.size.width >= 100
        self.call_after_refresh(self.refresh_view)

    # --- what the mode allows ------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.LIVE_ONLY_ACTIONS and (
            self.feed.mode not in ("LIVE", "DEMO") or isinstance(self.focused, Input)
        ):
            return False  # no action path in replay or wall mode (they never build an action client)
        if action in REPLAY_ACTIONS:
            if self.feed.mode != "REPLAY":
                return False
            if isinstance(self.focused, Input):
                return False  # the keys are text while typing a filter
        if action == "close_filter":
            return isinstance(self.focused, Input)
        if action == "chart_window":
            return not isinstance(self.focused, Input)  # a "w" typed into the filter is text
        return True

    # --- actions -------------------------------------------------------------------

    def action_help(self) -> None:
        self.app.push_screen(self.app.make_screen("help", self))

    def action_fleet(self) -> None:
        self.app.push_screen(self.app.make_screen("fleet", self))

    def action_show_tab(self, tab_id: str) -> None:
        tabs = self.query_one(TabbedContent)
        focused = self.focused
        if focused is not None and tabs.active_pane is not None and focused in tabs.active_pane.walk_children():
            # A widget of the tab being left (the participants table, the filter) would keep
            # focus while hidden, and the next focus (the filter box) would switch back to its tab.
            self.set_focus(None)
        tabs.active = tab_id

    def action_chart_window(self) -> None:
        """The Metrics charts' next window: 1 m, 5 m, 15 m, 1 h, all, and round again."""
        self.chart_window = (self.chart_window + 1) % len(WINDOWS)
        for tab in self.query(MetricsTab):
            tab.forget()  # a person asked: drawn at once, not after the once-a-second interval
        self.refresh_view()

    def action_step_migration(self, step: int) -> None:
        ids = list(self.feed.store.migrations)
        if not ids:
            return
        current = ids.index(self.selected_id) if self.selected_id in ids else 0
        self.selected_id = ids[(current + step) % len(ids)]
        self.refresh_view()

    @on(AlertsPane.Open)
    def _alert_opened(self, event: AlertsPane.Open) -> None:
        """Enter on an alert: show its migration, as ``[`` and ``]`` do."""
        if event.migration_id in self.feed.store.migrations:
            self.selected_id = event.migration_id
            self.refresh_view()

    def action_filter(self) -> None:
        self.action_show_tab("participants")
        box = self.query_one("#filter", Input)
        box.add_class("-shown")
        box.focus()

    def action_close_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.value:
            box.remove_class("-shown")
        self.query_one(ParticipantsTable).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        table = self.query_one(ParticipantsTable)
        table.set_filter(event.value.strip())
        if self.last_view is not None:  # the line saying why the table is empty, now (a paused replay does not tick)
            self.query_one(ParticipantsNote).show(self.last_view)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.action_close_filter()

    def _replay(self) -> Any:
        return self.feed

    def action_toggle_play(self) -> None:
        self._replay().toggle()

    def action_seek(self, delta_s: float) -> None:
        self.rule_watch.rebaseline()  # no burst of old transitions, no bell, for what the seek skips
        self._replay().seek_by(float(delta_s))

    def action_faster(self) -> None:
        self._replay().faster()

    def action_slower(self) -> None:
        self._replay().slower()


def _is_displayed(widget: Widget, screen: Screen[Any]) -> bool:
    node: Any = widget
    while node is not None and node is not screen:
        if not node.display:
            return False
        node = node.parent
    return True


def can_draw(screen: Screen[Any]) -> bool:
    """Mounted and not being taken down: a feed's flush or the clock's tick can arrive while the
    app exits, when the screen's widgets are already gone (``display`` is False for a node that is
    closing or being removed, Textual's public word for it)."""
    return hasattr(screen, "_views") and screen.display
