"""The dashboard with the action keys: p pause, u resume, a abort, r rollback.

Built only by ``watch`` without ``--read-only`` and by ``demo`` (see ui/run.py): the
base ``MigrationScreen`` and ``DashboardScreen`` have no action path at all, and wall, replay and
``watch --read-only`` never import this module or ``migration_tui.actions``.
Each key opens the confirm screen (``confirm.py``, from the app by name) for the
selected migration; the keys are
declared once here, so the footer, the help screen and the palette list them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding, BindingType

from migration_tui.actions import ACTIONS, ActionClient
from migration_tui.model import CONTROLLER_SOURCE, Migration
from migration_tui.ui.screens.base import MigrationScreen
from migration_tui.ui.widgets import AlertsPane
from migration_tui.ui.widgets.alerts import ACTION_KEYS

if TYPE_CHECKING:
    from migration_tui.feeds import LiveFeed
    from migration_tui.rules import Rule
    from migration_tui.ui.screens.confirm import ConfirmScreen

_TOOLTIPS = {
    "pause": "Pause the migration (asks first)",
    "resume": "Resume the migration (asks first)",
    "abort": "Abort the migration (type its id)",
    "rollback": "Roll the migration back (type its id)",
}


class ActionDashboard(MigrationScreen):
    """The dashboard plus the four action keys, each behind a confirmation dialog."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(ACTION_KEYS[action], action, action.capitalize(), id=action, tooltip=_TOOLTIPS[action])
        for action in ACTIONS
    ]
    LIVE_ONLY_ACTIONS: ClassVar[frozenset[str]] = frozenset(ACTIONS)
    #: How the dialog works, for the help screen.
    HELP_NOTES: ClassVar[tuple[str, ...]] = (
        "Each key asks first, about the migration shown when pressed;",
        "  nothing is sent until you confirm.",
        "pause, resume: Enter or y confirms; Esc or n cancels;",
        "  Tab: the reason.",
        "abort, rollback: type the id, then Enter; Tab: the reason.",
        "Data not fresh: abort and rollback wait for fresh data,",
        "  or ctrl+o (override stale data) lets you act anyway.",
        "No answer in time: outcome unknown, status re-read;",
        "  R retries with the same Idempotency-Key.",
        "Every step goes to the audit log (MIGRATION_TUI_AUDIT_LOG).",
    )

    def __init__(self, feed: LiveFeed, rules: tuple[Rule, ...] | None = None, *, client: ActionClient) -> None:
        super().__init__(feed, rules)
        self.client = client
        self.dialog: ConfirmScreen | None = None

    @classmethod
    def with_client(cls, client: ActionClient) -> Any:
        """What ``MigrationApp(feed, dashboard=...)`` takes: builds the screen with this client."""
        return lambda feed, rules: cls(feed, rules, client=client)

    def on_mount(self) -> None:
        # Textual calls every class's on_mount in the MRO, this one first: the base screen's comes next.
        for pane in self.query(AlertsPane):
            pane.show_keys = True  # firing rules name the key that acts
        self._said_unoffered = ""

    def unoffered(self) -> dict[str, str]:
        """The actions the selected migration's controller does not offer, with why (a profile file may
        leave some out; a system's own source may offer none of abort and rollback)."""
        client: Any = self.client
        route = getattr(client, "client_for", None)  # several controllers: the selected migration's own
        selected = self.selected_migration
        if route is not None and selected is not None:
            client = route(selected.id) or client
        unavailable = getattr(client, "unavailable", None)
        if unavailable is None:
            return {}
        return {action: why for action in ACTIONS if (why := unavailable(action))}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ACTIONS and action in self.unoffered():
            self._say_unoffered()
            return False  # shown disabled; the reason is said once (below) and on the key press
        return super().check_action(action, parameters)

    def _say_unoffered(self) -> None:
        """Say once (per set of actions left out) why keys are disabled: "not offered by profile <name>"."""
        unoffered = self.unoffered()
        said = ", ".join(f"{action}: {why}" for action, why in unoffered.items())
        if said and said != getattr(self, "_said_unoffered", ""):
            self._said_unoffered = said
            self.notify(f"Disabled: {said}", severity="information", markup=False)

    def action_pause(self) -> None:
        self.open_dialog("pause")

    def action_resume(self) -> None:
        self.open_dialog("resume")

    def action_abort(self) -> None:
        self.open_dialog("abort")

    def action_rollback(self) -> None:
        self.open_dialog("rollback")

    def open_dialog(self, action: str) -> None:
        migration = self.selected_migration
        if migration is None:
            self.notify("No migration to act on yet.", severity="warning", markup=False)
            return
        if self.dialog is not None:
            return  # one decision at a time
        why = self.unoffered().get(action)
        if why:
            self.notify(f"{action.capitalize()} is {why}: nothing to send.", severity="warning", markup=False)
            return
        self.dialog = self.app.make_screen(
            "confirm",
            self.client,
            action,
            migration,
            self.feed,
            on_unknown=lambda: self.reread_controller(migration),
        )
        self.app.push_screen(self.dialog, callback=self._dialog_closed)

    def _dialog_closed(self, _outcome: object) -> None:
        self.dialog = None
        self.refresh_view()

    def reread_controller(self, migration: Migration | None = None) -> None:
        """After a timeout: poll the migration's own controller once now, so the screen shows whether it acted."""
        name = migration.source_name if migration is not None else CONTROLLER_SOURCE
        source = next((s for s in self.feed.sources if s.name == name and hasattr(s, "poll_once")), None)
        if source is None:
            return

        async def poll() -> None:
            if not hasattr(source, "make_client"):  # a system's own source (no HTTP client)
                await source.poll_once(self.feed.emit)
                return
            async with source.make_client() as http:
                await source.poll_once(http, self.feed.emit)

        self.run_worker(
            poll(), group="reread", exclusive=True, exit_on_error=False, description="re-read the controller"
        )
