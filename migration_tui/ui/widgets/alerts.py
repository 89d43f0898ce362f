"""Alerts: what the rules say of each migration, the selected one's first.

The rules (``rules.judge``) recommend; they never act. Each alert names its
migration by id. The selected migration's alerts come first; another
migration's are marked ``other:``. Where the screen has the action keys
(``watch`` without ``--read-only``, ``demo``) it sets ``show_keys`` and a
firing rule of the selected migration names the key that carries the
recommendation out (the keys act on the selected migration only, so no other
migration's alert names one, nor one whose action is already under way).

Nothing is shown as passing unless it was judged: ``✔ no alerts`` only when
every rule that applies to every migration was judged within its threshold;
rules that could not be judged are counted with the reason (``? 3 rules not
judged: controller ERROR``). Enter (or a click) on an alert opens its
migration.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message

from migration_tui.frame import RANK_ENDED, RANK_FIRING, RANK_PENDING, RANK_UNDOING
from migration_tui.model import Alert, Migration
from migration_tui.rules import MIGRATION_ENDED, Judgement, alerts_of, not_judged_summary, under_way
from migration_tui.safe_text import clean
from migration_tui.ui import states
from migration_tui.ui.colors import level_alias, mark
from migration_tui.ui.view import View
from migration_tui.ui.widgets.text_pane import TextPane

#: The key that carries out each recommended action (see ARCHITECTURE.md "Keys").
ACTION_KEYS = {"pause": "p", "resume": "u", "abort": "a", "rollback": "r"}
MAX_ALERT_LINES = 8
#: The symbol of a rule that could not be judged (no data, stale, failing source, ended).
NOT_JUDGED_MARK = "?"
#: Not-judged reasons listed before "… and N more".
MAX_REASON_LINES = 3


def rule_badge(view: View, state: str) -> Text:
    """``✖ FIRING``, ``▲ pending`` or ``? not judged``: the help's vocabulary on every screen."""
    if state == "firing":
        return view.badge("bad", "FIRING", bold=True)
    if state == "pending":
        return view.badge("warn", "pending")
    return Text(f"{NOT_JUDGED_MARK} not judged", style=view.style("state-warn"), no_wrap=True, end="")


def alert_line(view: View, alert: Alert, show_keys: bool = False, other: bool = False) -> Text:
    """One alert; ``other`` marks it as another migration's than the one the keys act on."""
    line = Text(no_wrap=True, end="")
    line.append_text(rule_badge(view, alert.state))
    line.append(" ")
    if other:
        line.append("other: ", style=view.style("state-muted", bold=True))
    key = ACTION_KEYS.get(alert.action)
    migration = view.store.migrations.get(alert.migration)
    acting = migration is None or not under_way(migration)
    if alert.state == "firing" and key and show_keys and not other and acting:
        line.append(f"press {key}: ", style=view.style("state-bad", bold=True))
    line.append(clean(alert.message, 200))
    return line


def not_judged_line(view: View, reason: str, count: int) -> Text:
    level = "muted" if reason == MIGRATION_ENDED else "warn"
    rules = "rule" if count == 1 else "rules"
    return Text(
        f"{NOT_JUDGED_MARK} {count} {rules} not judged: {clean(reason, 100)}",
        style=view.style(level_alias(level)),
        no_wrap=True,
        end="",
    )


def needs_a_look(view: View, migration: Migration) -> tuple[int, str, str]:
    """(rank, text, level) of what most needs a look for one migration, for the fleet and the wall.

    The rank is the frame's (``frame.rank_of``): 0 an abort or rollback under way (or the failure
    branch), 1 a rule firing, 2 pending, 3 running (every rule judged within its threshold, or some
    not judged), 4 ended. The text never says "no alerts" unless every rule that applies was judged
    and passed."""
    judged = view.judgements.get(migration.id, [])
    rank = view.frame.rank(migration)
    alerts = alerts_of(judged)
    if rank == RANK_UNDOING:
        text = f"{mark('bad')} {migration.phase.upper()}"
        if alerts:
            # "✖ ROLLING_BACK: FIRING breaker opened 4 times ...": the alert without "rollback under way".
            alert = alerts[0]
            word = "FIRING" if alert.state == "firing" else "pending"
            short = _short(alert, migration)
            doing = under_way(migration)
            for lead in (f"{doing} under way: ", f"{doing} under way; "):
                short = short.removeprefix(lead) if doing else short
            text += f": {word} {short}"
        return rank, text, "bad"
    if rank == RANK_ENDED:
        level, word = states.status(migration.status)
        return rank, f"{mark(level)} {word}", level
    if rank == RANK_FIRING:
        return rank, f"{mark('bad')} FIRING {_short(alerts[0], migration)}", "bad"
    if rank == RANK_PENDING:
        return rank, f"{mark('warn')} pending {_short(alerts[0], migration)}", "warn"
    reasons = not_judged_summary(judged)
    if reasons:
        return rank, f"{NOT_JUDGED_MARK} not judged: {reasons[0][0]}", "warn"
    if not judged:
        return rank, "— no rules for this system", "muted"
    return rank, f"{mark('ok')} no alerts", "ok"


def _short(alert: Alert, migration: Migration) -> str:
    # The row names the migration already, and room is short at 80 columns: "ID: rollback
    # recommended: p95 ..." reads "rollback: p95 ..." here (a message of another shape stays whole).
    subject = f"{migration.id}: "
    message = alert.message[len(subject) :] if alert.message.startswith(subject) else alert.message
    return message.replace(f"{alert.action} recommended", alert.action, 1) if alert.action else message


class AlertsPane(TextPane):
    """The selected migration's alerts, then the others' (marked), then what could not be judged."""

    MIN_INTERVAL_S = 1.0  # series change several times a second; the eye needs once
    SECTIONS = ("migrations", "participants", "breakers", "series", "sources")
    CLOCK = True
    SELECTION = True  # the selected migration's alerts come first

    can_focus = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False, id="alerts-up"),
        Binding("down", "move(1)", "Down", show=False, id="alerts-down"),
        Binding("enter", "open", "Open", show=False, id="alerts-open", tooltip="Open the alert's migration"),
    ]

    DEFAULT_CSS = """
    AlertsPane {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: auto;
        max-height: 12;
        padding: 0 1;
    }
    """

    class Open(Message):
        """Enter (or a click) on an alert: show its migration."""

        def __init__(self, migration_id: str) -> None:
            super().__init__()
            self.migration_id = migration_id

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        #: The alerts listed, in order: (alert, another migration's than the selected one).
        self.alerts: list[tuple[Alert, bool]] = []
        #: True only on a screen with the action keys: never advertise a key that does not exist.
        self.show_keys = False
        self.cursor = 0

    def view_key(self, view: View) -> tuple[object, ...]:
        return (*super().view_key(view), self.show_keys)

    def build(self, view: View, width: int) -> list[Text]:
        judgements = view.judgements
        if not judgements:
            return [Text("— no migrations: nothing to judge", style=view.style("state-muted"), no_wrap=True, end="")]
        selected = view.migration_id
        own = alerts_of(judgements.get(selected, ()))
        others = alerts_of(j for key, items in judgements.items() if key != selected for j in items)
        self.alerts = [(alert, False) for alert in own] + [(alert, True) for alert in others]
        self.cursor = max(0, min(self.cursor, len(self.alerts) - 1))
        shown = self.alerts[:MAX_ALERT_LINES]
        lines = []
        for index, (alert, other) in enumerate(shown):
            line = alert_line(view, alert, self.show_keys, other)
            if index == self.cursor and self.has_focus:
                line.stylize(Style(reverse=True))
            lines.append(line)
        if len(self.alerts) > MAX_ALERT_LINES:
            more = len(self.alerts) - MAX_ALERT_LINES
            lines.append(Text(f"… and {more} more", style=view.style("state-muted"), end=""))
        lines.extend(self._unjudged(view, [j for items in judgements.values() for j in items]))
        return lines

    def _unjudged(self, view: View, judged: Iterable[Judgement]) -> list[Text]:
        judged = list(judged)
        reasons = not_judged_summary(judged)
        if not reasons:
            if self.alerts:
                return []
            if not judged:
                return [Text("— no rules apply to these migrations", style=view.style("state-muted"), end="")]
            return [view.badge("ok", "no alerts: every rule is within its threshold")]
        lines = [not_judged_line(view, reason, count) for reason, count in reasons[:MAX_REASON_LINES]]
        if len(reasons) > MAX_REASON_LINES:
            rest = sum(count for _reason, count in reasons[MAX_REASON_LINES:])
            lines.append(
                Text(f"{NOT_JUDGED_MARK} … and {rest} more not judged", style=view.style("state-warn"), end="")
            )
        passing = sum(1 for j in judged if j.state == "ok")
        if passing and not self.alerts:
            rules = "rule" if passing == 1 else "rules"
            lines.append(view.badge("ok", f"{passing} {rules} judged within threshold"))
        return lines

    # --- the cursor and Enter --------------------------------------------------------

    def _redraw(self) -> None:
        if self._view is not None:
            super().draw(self._view)

    def action_move(self, step: int) -> None:
        if self.alerts:
            self.cursor = max(0, min(self.cursor + step, min(len(self.alerts), MAX_ALERT_LINES) - 1))
            self._redraw()

    def action_open(self) -> None:
        if self.alerts:
            alert, _other = self.alerts[self.cursor]
            self.cursor = 0  # its alerts come first once it is selected
            self.post_message(self.Open(alert.migration))

    def on_click(self, event: events.Click) -> None:
        if 0 <= event.y < min(len(self.alerts), MAX_ALERT_LINES):
            self.cursor = event.y
            self.action_open()

    def on_focus(self) -> None:
        self._redraw()

    def on_blur(self) -> None:
        self._redraw()
