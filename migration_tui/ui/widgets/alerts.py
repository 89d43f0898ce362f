"""Alerts: rules pending with their countdown, rules firing with the key that acts.

The rules (``rules.evaluate``) recommend; they never act. Where the screen
has the action keys (``watch`` without ``--read-only``) it sets ``show_keys``
and a firing rule names the key that carries the recommendation out; in
replay, demo, wall and read-only modes there is no such key, so none is named.
"""

from __future__ import annotations

from rich.text import Text

from migration_tui.model import Alert
from migration_tui.rules import evaluate
from migration_tui.safe_text import clean
from migration_tui.ui.view import View
from migration_tui.ui.widgets.text_pane import TextPane

#: The key that carries out each recommended action (see ARCHITECTURE.md "Keys").
ACTION_KEYS = {"pause": "p", "resume": "u", "abort": "a", "rollback": "r"}
MAX_ALERT_LINES = 8


def alert_line(view: View, alert: Alert, show_keys: bool = False) -> Text:
    line = Text(no_wrap=True, end="")
    if alert.state == "firing":
        level = "bad" if alert.severity == "critical" else "warn"
        line.append_text(view.badge(level, "FIRING", bold=True))
    else:
        line.append_text(view.badge("warn", "pending"))
    line.append(" ")
    key = ACTION_KEYS.get(alert.action)
    if alert.state == "firing" and key and show_keys:
        line.append(f"press {key}: ", style=view.style("state-bad", bold=True))
    line.append(clean(alert.message, 200))
    return line


class AlertsPane(TextPane):
    """The rules that are pending or firing for every migration, firing first."""

    MIN_INTERVAL_S = 1.0  # series change several times a second; the eye needs once
    SECTIONS = ("migrations", "participants", "breakers", "series")
    CLOCK = True
    SELECTION = False

    DEFAULT_CSS = """
    AlertsPane {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: auto;
        max-height: 10;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.alerts: list[Alert] = []
        #: True only on a screen with the action keys: never advertise a key that does not exist.
        self.show_keys = False

    def view_key(self, view: View) -> tuple[object, ...]:
        return (*super().view_key(view), self.show_keys)

    def build(self, view: View, width: int) -> list[Text]:
        # The same alert can come once per migration it concerns; show it once.
        unique: dict[tuple[str, str, str], Alert] = {}
        for alert in evaluate(view.store, view.now, view.rules):
            unique.setdefault((alert.rule, alert.state, alert.message), alert)
        self.alerts = list(unique.values())
        if not self.alerts:
            return [view.badge("ok", "no alerts: every rule is within its threshold")]
        lines = [alert_line(view, alert, self.show_keys) for alert in self.alerts[:MAX_ALERT_LINES]]
        if len(self.alerts) > MAX_ALERT_LINES:
            more = len(self.alerts) - MAX_ALERT_LINES
            lines.append(Text(f"… and {more} more", style=view.style("state-muted"), end=""))
        return lines
