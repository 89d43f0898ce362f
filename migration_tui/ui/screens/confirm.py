"""The confirmation dialog: one operator decision about one migration, sent at most once.

The dialog captures the migration when it opens and acts on that one, even if
the table moves underneath it. It shows what the action will do and how old
the controller's data is. Pause and resume confirm with Enter or ``y``; abort
and rollback open with the cursor in an id field and confirm only once the id
typed matches exactly (the reason, with a default, is reached with Tab). While
the controller source is not fresh, abort and rollback stay disabled until
fresh data arrives or the operator ticks "override stale data" (ctrl+o).

The ``Decision`` (and so its ``Idempotency-Key``) is made once, when the
dialog opens; confirming fixes its reason, and a retry after an unknown or
failed outcome sends that same decision again. Nothing else is ever sent:
a second Enter while a request is in flight does nothing, and Escape or ``n``
before confirming sends nothing at all.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Static

from migration_tui.actions import CONSEQUENCES, DESTRUCTIVE, ActionClient, Decision, Outcome
from migration_tui.freshness import FreshnessState, format_age, freshness
from migration_tui.model import Migration
from migration_tui.safe_text import clean

if TYPE_CHECKING:
    from migration_tui.feeds import LiveFeed

#: Printed instead of a reason the operator left empty.
DEFAULT_REASON = "{action} from the migration-tui dashboard"
#: Width of the dialog's text column, after the row names.
TEXT_WIDTH = 62
#: What the controller's status says once an action took effect (status, or phase, in these).
TOOK_EFFECT: dict[str, frozenset[str]] = {
    "pause": frozenset({"paused"}),
    "resume": frozenset({"in_progress", "running"}),
    "abort": frozenset({"aborting", "aborted"}),
    "rollback": frozenset({"rolling_back", "rolled_back", "rollback_failed"}),
}


class TickBox(Checkbox):
    """A checkbox whose state is in its text, ``[x]`` or ``[ ]``, not only in its colour (NO_COLOR)."""

    #: As wide as ``[x]``: Textual measures the box from these and its one-character inside.
    BUTTON_LEFT = "["
    BUTTON_RIGHT = "]"

    def render(self) -> Content:
        # The box first (as a Checkbox made without button_first=False), then the label.
        box = Content.assemble("[", ("x" if self.value else " ", self.get_visual_style("toggle--button")), "]")
        label = self.label.pad(1, 1).stylize_before(self.get_visual_style("toggle--label"))
        return Content.assemble(box, label)


def reread_words(action: str, status: str, phase: str) -> str:
    """What a status read after an unknown outcome says about it."""
    now = f"{status} / {phase}"
    if status in TOOK_EFFECT[action] or phase in TOOK_EFFECT[action]:
        return f"status re-read: {now}: the {action} took effect"
    return f"status re-read: {now}: the {action} has not taken effect (R retries with the same key)"


def _mismatch(action: str, status: str | None) -> str:
    """Words for an action that does not fit the status shown (resume of a migration that is not
    paused, pause of one already paused): sent all the same, for the controller may know better."""
    if action == "resume" and status and status != "paused":
        return f"it is {status}, not paused: the controller will likely refuse"
    if action == "pause" and status == "paused":
        return "it is already paused: the controller will likely refuse"
    return ""


class ConfirmScreen(ModalScreen[Outcome | None]):
    """Confirm one action on one migration; dismissed with the last outcome (None if nothing was sent)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", priority=True, id="confirm-cancel", tooltip="Close; sends nothing"),
        Binding("n", "cancel", "Cancel", show=False, id="confirm-no", tooltip="Close; sends nothing"),
        Binding("enter", "confirm", "Confirm", id="confirm-enter", tooltip="Send the action (asks nothing more)"),
        Binding("y", "confirm_yes", "Yes", show=False, id="confirm-yes", tooltip="Pause or resume: send it"),
        Binding(
            "ctrl+o",
            "override",
            "Override stale",
            id="confirm-override",
            tooltip="Allow abort or rollback although the controller data is not fresh",
        ),
        Binding(
            "R", "retry", "Retry", id="confirm-retry", tooltip="Send the same decision again (same Idempotency-Key)"
        ),
    ]

    #: Focus is placed in on_mount: the id field for abort and rollback, nothing for pause and resume.
    AUTO_FOCUS = ""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
    }
    ConfirmScreen > Vertical {
        width: 78;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $warning;
        background: $surface;
        padding: 0 1;
    }
    ConfirmScreen.-destructive > Vertical {
        border: thick $error;
    }
    ConfirmScreen #stale {
        display: none;
        color: $text;
        background: $error 40%;
        text-style: bold;
    }
    ConfirmScreen.-stale #stale {
        display: block;
    }
    ConfirmScreen Horizontal {
        height: 1;
        margin-top: 1;
    }
    ConfirmScreen Horizontal > Label {
        width: 18;
    }
    ConfirmScreen Horizontal > Input {
        width: 1fr;
    }
    ConfirmScreen #override {
        display: none;
        margin-top: 1;
    }
    ConfirmScreen.-stale.-destructive #override {
        display: block;
    }
    ConfirmScreen #result {
        margin-top: 1;
    }
    ConfirmScreen #hint {
        color: $text-muted;
    }
    ConfirmScreen .field-note {
        color: $text-muted;
        text-style: italic;
    }
    ConfirmScreen #id-note {
        margin-top: 1;
    }
    ConfirmScreen #id-row {
        margin-top: 0;
    }
    """

    def __init__(
        self,
        client: ActionClient,
        action: str,
        migration: Migration,
        feed: LiveFeed,
        on_unknown: Callable[[], object] = lambda: None,
    ) -> None:
        super().__init__(classes="-destructive" if action in DESTRUCTIVE else "")
        self.client = client
        self.action = action
        self.feed = feed
        self.migration_id = migration.id
        self.migration = migration
        #: What the operator types for abort and rollback: the id as its controller knows it.
        self.typed_id = migration.remote_id
        #: The named controller the action goes to (None: the one unnamed controller).
        self.controller = migration.controller
        self.destructive = action in DESTRUCTIVE
        self.on_unknown = on_unknown
        #: Made once: its key is the one every send of this dialog carries.
        self.decision = Decision(action, migration.id, DEFAULT_REASON.format(action=action))
        self.confirmed = False
        self.sending = False
        self.outcome: Outcome | None = None
        self.note = ""
        #: When an outcome came back unknown (feed clock): a controller answer after it is the re-read.
        self.unknown_at: float | None = None
        self.unknown_text = ""

    # --- layout ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Confirm {self.action}"
            yield Static(id="summary")
            yield Static(id="stale")
            # No placeholders: grey text in a field reads as typed (and is plain under NO_COLOR).
            # What to type and the default go in words beside the empty fields.
            if self.destructive:
                note = Text(f"To confirm, type the id: {clean(self.typed_id, 60)}", end="")
                if self.controller:
                    note.append(f"  (on controller {clean(self.controller, 24)})")
                yield Static(note, classes="field-note", id="id-note")
                with Horizontal(id="id-row"):
                    yield Label("Id:")
                    yield Input(id="typed-id", compact=True, select_on_focus=False)
            with Horizontal(id="reason-row"):
                yield Label("Reason (Tab):")  # an empty compact Input shows nothing: say how to reach it
                yield Input(id="reason", compact=True)
            yield Static(Text(f"empty = default: “{self.decision.reason}”", end=""), classes="field-note")
            yield TickBox("override stale data (ctrl+o)", id="override", compact=True)
            yield Static(id="result")
            yield Static(id="hint")

    def effect(self) -> str:
        """What the action will do: the client's own words for it (a system's own client), else the usual."""
        consequence = getattr(self.client, "consequence", None)
        said = consequence(self.action, self.migration_id) if callable(consequence) else ""
        return said or CONSEQUENCES[self.action]

    def on_mount(self) -> None:
        self.client.record("opened", self.decision)
        if self.destructive:
            self.query_one("#typed-id", Input).focus()
        else:
            self.set_focus(None)  # Enter and y confirm; the reason can still be clicked or tabbed to
        self.refresh_state()
        self.set_interval(1.0, self.refresh_state, name="confirm-age")

    # --- what the dialog shows -------------------------------------------------------

    def freshness_now(self):
        # The migration's own controller: another controller being stale blocks nothing here.
        return freshness(self.feed.store.source(self.migration.source_name), self.feed.poll_interval_s, self.feed.now())

    @property
    def stale(self) -> bool:
        return self.freshness_now().state is not FreshnessState.FRESH

    @property
    def overridden(self) -> bool:
        return self.query_one("#override", Checkbox).value

    def blocked_reason(self) -> str:
        """Why Enter would send nothing now ("" when it would send)."""
        if self.sending:
            return "waiting for the controller's answer; nothing more is sent"
        if self.destructive:
            typed = self.query_one("#typed-id", Input).value
            if typed != self.typed_id:
                return "type the migration id" if not typed else "the id typed does not match"
            if self.stale and not self.overridden:
                return "controller data is not fresh: wait, or override with ctrl+o"
        return ""

    def refresh_state(self) -> None:
        fresh = self.freshness_now()
        current = self.feed.store.migrations.get(self.migration_id, self.migration)
        self.set_class(fresh.state is not FreshnessState.FRESH, "-stale")
        summary = Text(end="")
        who = f"controller {self.controller}" if self.controller else "controller"
        rows = (
            ("Migration", f"{self.typed_id} ({current.system or '?'}, {current.pair or 'no pair'})"),
            *((("Sent to", f"controller {self.controller} only"),) if self.controller else ()),
            ("Now", f"{current.status or '?'} / {current.phase or '?'}"),
            *((("Note", note),) if (note := _mismatch(self.action, current.status)) else ()),
            ("Action", self.action.upper()),
            ("Effect", self.effect()),
            ("Data", _data_age(fresh.label, fresh.age_s, who)),
        )
        for number, (name, value) in enumerate(rows):
            summary.append(("\n" if number else "") + f"{name:<10}", style="bold")
            summary.append(("\n" + " " * 10).join(textwrap.wrap(clean(value, 200), TEXT_WIDTH)))
        self.query_one("#summary", Static).update(summary)
        named = f" ({clean(self.controller, 24)})" if self.controller else ""
        self.query_one("#stale", Static).update(
            Text(f"CONTROLLER DATA IS NOT FRESH{named}: what you see may be out of date.", end="")
        )
        self.query_one("#hint", Static).update(Text(self.hint(), end=""))
        self.show_reread(current)

    def show_reread(self, current: Migration) -> None:
        """After an unknown outcome, once the controller has answered again: what its status says."""
        if self.unknown_at is None or self.outcome is None or self.outcome.state != "unknown":
            return
        answered = self.feed.store.source(self.migration.source_name).last_success
        if answered is None or answered < self.unknown_at:
            self.show_result(f"{self.unknown_text} · re-reading the status…", "bold yellow")
            return
        self.show_result(
            f"{self.unknown_text} · {reread_words(self.action, current.status, current.phase)}", "bold yellow"
        )

    def hint(self) -> str:
        if self.sending:
            return "sending… (Enter sends nothing more)"
        if self.confirmed:
            if self.outcome is not None and self.outcome.retryable:
                return "R retry with the same Idempotency-Key · Esc close"
            return "Enter or Esc close"
        return (
            "Enter confirm · Tab reason · Esc cancel"
            if self.destructive
            else "Enter/y confirm · Tab reason · Esc/n cancel"
        )

    def show_result(self, text: str, style: str = "") -> None:
        self.query_one("#result", Static).update(Text(clean(text, 400), style=style, end=""))

    # --- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # y and n are text while an Input has focus: the Input takes printable keys before any binding.
        if action == "confirm_yes":
            return not self.destructive  # abort and rollback: the id typed, then Enter
        if action == "override":
            return self.destructive and not self.confirmed
        if action == "retry":
            return self.confirmed and not self.sending and self.outcome is not None and self.outcome.retryable
        return True

    def action_cancel(self) -> None:
        if self.sending:
            self.show_result("waiting for the controller's answer; the dialog closes after it")
            return
        if not self.confirmed:
            self.client.record("cancelled", self.decision)
        self.dismiss(self.outcome)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_confirm()

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self.refresh_state()

    def action_override(self) -> None:
        box = self.query_one("#override", Checkbox)
        box.value = not box.value

    def action_confirm(self) -> None:
        if self.confirmed and not self.sending:
            if self.outcome is None or not self.outcome.retryable:
                self.dismiss(self.outcome)  # Enter after a final answer closes the dialog
            return
        blocked = self.blocked_reason()
        if blocked:
            self.show_result(f"nothing sent: {blocked}")
            self.refresh_state()
            return
        reason = self.query_one("#reason", Input).value.strip() or DEFAULT_REASON.format(action=self.action)
        # Same key: replace keeps every other field of the decision made when the dialog opened.
        self.decision = replace(self.decision, reason=reason)
        self.confirmed = True
        for box in self.query(Input):
            box.disabled = True
        self.query_one("#override", Checkbox).disabled = True
        self.set_focus(None)
        self.client.record("confirmed", self.decision)
        self._send()

    def action_confirm_yes(self) -> None:
        self.action_confirm()

    def action_retry(self) -> None:
        if self.check_action("retry", ()):
            self._send()

    def _send(self) -> None:
        self.sending = True
        self.outcome = None
        self.unknown_at = None
        self.show_result(f"sending {self.action} for {self.migration_id}…")
        self.refresh_state()
        self.run_worker(
            self._deliver(self.decision),
            group="action",
            exclusive=False,
            exit_on_error=False,
            description=f"send {self.action} for {self.migration_id}",
        )

    async def _deliver(self, decision: Decision) -> None:
        try:
            outcome = await self.client.send(decision)
        finally:
            self.sending = False
        self.outcome = outcome
        styles = {"ok": "bold green", "rejected": "bold red", "failed": "bold red", "unknown": "bold yellow"}
        words = {
            "ok": "Controller answered",
            "rejected": "Refused by the controller",
            "failed": "Failed",
            "unknown": "OUTCOME UNKNOWN",
        }
        self.show_result(f"{words[outcome.state]}: {outcome.message}", styles[outcome.state])
        if outcome.state == "unknown":
            self.unknown_at = self.feed.now()
            self.unknown_text = f"OUTCOME UNKNOWN: {outcome.message}"
            self.on_unknown()  # re-read the controller: did it act?
        self.refresh_state()


def _data_age(label: str, age_s: float | None, who: str = "controller") -> str:
    if age_s is None:
        return f"{who} {label}: no data yet"
    return f"{who} {label}, last answer {format_age(age_s)} ago"
