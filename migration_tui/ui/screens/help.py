"""The help screen, generated from the bindings of the screen below it.

Nothing here is written twice: the keys and their descriptions come from
the same ``Binding`` data as the footer and the command palette, filtered
by the same ``check_action``. The legend explains the symbols and the two
ways a number can be missing.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from migration_tui.safe_text import INVALID, MISSING
from migration_tui.ui import textual_compat

LEGEND = (
    ("✔", "fine: closed breaker, healthy, fresh data, yes vote"),
    ("▲", "warning: STALE source, late heartbeat (> 5 s), half-open breaker, pending rule"),
    ("✖", "critical: OPEN breaker, ERROR, lost heartbeat (> 15 s), FIRING rule"),
    ("?", "a rule not judged: no data, stale data, its source failing, or the migration ended"),
    ("▶", "the current phase, or the selected migration"),
    ("↓", "progress falling (a rollback): its rate, and no ETA"),
    ("last known", "the controller is not answering: its last values, not live ones"),
    ("READ-ONLY", "nothing can be sent from this screen (watch --read-only, the wall)"),
    (INVALID, "the source sent a number that cannot be true (NaN, infinite, out of range)"),
    (MISSING, "nothing was reported for this figure (yet)"),
    ("\ufffd", "a control or invisible character from the server, shown as this mark"),
)


def key_label(binding: Binding) -> str:
    return binding.key_display or binding.key.split(",")[0]


def declared_bindings(screen: Screen[object]) -> list[tuple[object, Binding]]:
    """(owner, binding) for the screen's then the app's bindings, one per action, in order."""
    out: list[tuple[object, Binding]] = []
    seen: set[tuple[str, str]] = set()
    for owner in (screen, screen.app):
        for _key, binding in textual_compat.declared_bindings(owner):
            # One row per binding: "plus,equals_sign" is split into two keys with the same display.
            identity = (binding.id or binding.description or binding.key, binding.action)
            if binding.system or identity in seen:
                continue
            seen.add(identity)
            out.append((owner, binding))
    # Ours (they have ids) first; Textual's own (focus, copy) after.
    return sorted(out, key=lambda item: item[1].id is None)


def allowed(owner: object, binding: Binding) -> bool:
    """What ``check_action`` says about a binding now (hidden when False)."""
    return owner.check_action(binding.action.split("(")[0], ()) is not False  # type: ignore[attr-defined]


def binding_rows(screen: Screen[object]) -> list[tuple[str, str, str]]:
    """(key, description, tooltip) for each binding the screen and app allow now."""
    return [
        (key_label(binding), binding.description or binding.action, binding.tooltip)
        for owner, binding in declared_bindings(screen)
        if allowed(owner, binding)
    ]


def help_text(screen: Screen[object]) -> Text:
    text = Text(end="")
    text.append("Keys\n", style="bold")
    for key, description, tooltip in binding_rows(screen):
        text.append(f"  {key:<12}", style="bold")
        text.append(f"{description:<14}")
        text.append(f"{tooltip}\n", style="dim")
    notes = getattr(screen, "HELP_NOTES", ())
    if notes:
        # Only a screen with the action keys has these (never wall, replay or --read-only).
        text.append("\nActions\n", style="bold")
        for note in notes:
            text.append(f"  {note}\n")
    text.append("\nSymbols\n", style="bold")
    for symbol, meaning in LEGEND:
        text.append(f"  {symbol:<12}", style="bold")
        text.append(f"{meaning}\n")
    text.append("\nColours only repeat what the symbols and words say; NO_COLOR and --theme are honoured.", style="dim")
    return text


class HelpScreen(ModalScreen[None]):
    """Keys of the dashboard and what the symbols mean; any of Esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="close-help", tooltip="Back to the dashboard"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, dashboard: Screen[object]) -> None:
        super().__init__()
        self.dashboard = dashboard

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Help"
            yield Static(help_text(self.dashboard), id="help-text")
