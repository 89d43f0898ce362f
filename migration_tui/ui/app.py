"""MigrationApp: wiring only. Themes, the feed, the dashboard screen and quitting.

The feed calls back at most once per frame; the app hands that to the
dashboard, which owns everything else.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from migration_tui.feeds import LiveFeed, ReplayFeed
from migration_tui.rules import Rule
from migration_tui.ui.colors import with_aliases
from migration_tui.ui.commands import DashboardCommands
from migration_tui.ui.screen_diff import ScreenDiff
from migration_tui.ui.screens.base import MigrationScreen
from migration_tui.ui.screens.dashboard import DashboardScreen
from migration_tui.ui.textual_compat import install_screen_diff, quiet_driver_class, use_no_color_filter
from migration_tui.ui.themes import DEFAULT_THEME, load_all, load_theme


class MigrationApp(App[int]):
    """The dashboard over one feed (replay, live, demo or wall)."""

    TITLE = "migration-tui"
    COMMANDS = App.COMMANDS | {DashboardCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave migration-tui (nothing is sent)"),
        # In help and the palette, not in the footer, which keeps every key on one line at 80 columns.
        Binding(
            "s",
            "screenshot",
            "Screenshot",
            show=False,
            id="screenshot",
            tooltip="Save this screen as SVG (the notification says where)",
        ),
    ]

    def __init__(
        self,
        feed: ReplayFeed | LiveFeed,
        theme: str | None = None,
        rules: tuple[Rule, ...] | None = None,
        dashboard: type[MigrationScreen] = DashboardScreen,
        bell: bool = True,
        screenshot_dir: str | None = None,
    ) -> None:
        super().__init__()
        #: Where the screenshot key saves (None: ``screenshot.default_dir()``).
        self.screenshot_dir = screenshot_dir
        #: Ring the terminal bell when a rule starts firing (``--no-bell`` / ``bell = false`` turn it off).
        self.rule_bell = bell
        if self.no_color:
            # NO_COLOR means no colour codes at all (no-color.org), not Textual's greys:
            # every state also has a symbol and a word, so nothing is lost.
            use_no_color_filter(self)
        #: What the terminal shows, so that only changed cells are written (None: Textual writes as it does;
        #: MIGRATION_TUI_FULL_REPAINT=1 for a terminal that loses what it was sent).
        self.screen_diff: ScreenDiff | None = None
        if not os.environ.get("MIGRATION_TUI_FULL_REPAINT"):
            self.screen_diff = ScreenDiff()
            install_screen_diff(self, self.screen_diff)
        self.feed = feed
        for item in load_all():
            self.register_theme(item)
        chosen = theme or DEFAULT_THEME
        if chosen not in self.available_themes:
            self.register_theme(load_theme(chosen))  # raises ThemeError naming the problem
        self.theme = chosen
        # The actions layer passes its screen with the keys (see screens/actions.py), the wall its own.
        self.dashboard = dashboard(feed, rules)

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this platform, but on Linux one whose input thread sleeps until a key
        comes, not ten times a second (``textual_compat.QuietLinuxDriver``)."""
        return quiet_driver_class(super().get_driver_class())

    def _forget_screen(self, _app: object = None) -> None:
        """Back from a suspension the terminal's content is unknown: every cell is written again."""
        if self.screen_diff is not None:
            self.screen_diff.reset(0, 0)

    def make_screen(self, name: str, *args: Any, **kwargs: Any) -> Screen[Any]:
        """The screens a screen opens, by name (``help``, ``fleet``, ``confirm``): no screen imports
        another. Imported when first opened (``confirm`` brings in the action client)."""
        if name == "help":
            from migration_tui.ui.screens.help import HelpScreen

            return HelpScreen(*args, **kwargs)
        if name == "fleet":
            from migration_tui.ui.screens.fleet import FleetScreen

            return FleetScreen(*args, **kwargs)
        if name == "confirm":
            from migration_tui.ui.screens.confirm import ConfirmScreen

            return ConfirmScreen(*args, **kwargs)
        raise ValueError(f"no screen named {name!r}")

    def action_screenshot(self) -> None:
        """Save the screen as SVG and say where (or why it could not be saved)."""
        from migration_tui.ui import screenshot

        try:
            path = screenshot.save(self, self.screenshot_dir)
        except OSError as exc:
            self.notify(f"could not save: {exc.strerror or exc}", title="screenshot", severity="error", markup=False)
            return
        self.notify(f"saved to {path}", title="screenshot", markup=False, timeout=8)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # Quitting is listed once, from the bindings ("Leave migration-tui (q)").
        return (command for command in super().get_system_commands(screen) if command.title != "Quit")

    def get_css_variables(self) -> dict[str, str]:
        # The semantic aliases ($breaker-open, $state-bad, ...) for every theme.
        variables = with_aliases(super().get_css_variables())
        self.theme_variables = variables
        return variables

    def get_default_screen(self) -> MigrationScreen:
        # The dashboard is the bottom screen, not pushed over Textual's empty default one:
        # a screen beneath passes its first paint up as a second full-screen frame.
        return self.dashboard

    def on_mount(self) -> None:
        if self.screen_diff is not None:
            self.app_resume_signal.subscribe(self, self._forget_screen)
        self.feed.attach(self, self.dashboard.refresh_view)
        self.theme_changed_signal.subscribe(self, lambda _theme: self.dashboard.restyle())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place where background failures reach the operator."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(
                f"{event.worker.description}: {event.worker.error}",
                title="background task failed",
                severity="error",
                markup=False,
            )

    def on_unmount(self) -> None:
        self.feed.stop()
