"""The view that fits the selected migration's system (see ARCHITECTURE.md "The five systems").

Each system draws its own lines (``SystemUI.panel`` in ``systems/<name>/ui.py``),
and may add a column of heartbeat ages beside them (``SystemUI.ages``); this
module holds the pane and the helpers they share. Figures come from ``details``
as listed in each system's ``profile.py``; a missing one is ``—``, an invalid
one says ``invalid``.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult

from migration_tui import systems
from migration_tui.model import Migration
from migration_tui.safe_text import number
from migration_tui.ui.lookup import detail_number, is_invalid, latest, threshold_rule
from migration_tui.ui.view import View
from migration_tui.ui.widgets.migration import controller_level, not_live_words
from migration_tui.ui.widgets.not_served import not_served_lines
from migration_tui.ui.widgets.text_pane import TextColumns, TextPane

MAX_PARTICIPANT_LINES = 6
MAX_PAIR_LINES = 24


def detail_figure(view: View, migration: Migration, key: str, unit: str = "", digits: int = 1) -> str:
    """A number of the migration's ``details`` with its unit, ``—`` when missing, ``invalid`` when invalid."""
    value, _ = detail_number(migration.details, key)
    return number(value, unit, digits, invalid=is_invalid(migration, key))


def label(line: Text, view: View, words: str) -> None:
    """Append ``words`` to ``line`` as a muted label."""
    line.append(words, style=view.style("state-muted"))


def judged(view: View, migration: Migration, series: str, unit: str, digits: int, width: int) -> Text:
    """A series' latest value against its rule: ``✖`` and the alarm colour past the threshold."""
    value = latest(view.store, migration, series)
    rule = threshold_rule(migration.system, series, view.rules)
    broken = value is not None and rule is not None and rule.breaks(value)
    shown = ("✖ " if broken else "") + number(value, unit, digits)
    level = "muted" if value is None else "bad" if broken else "ok"
    return Text(f" {shown:>{width - 1}}", style=view.style(f"state-{level}"), no_wrap=True, end="")


class SystemPanel(TextColumns):
    """Per-system figures of the selected migration (no lines for a system it does not know).

    A system with ``ages`` (2pc: the participants' heartbeat ages), which change every second, are a pane of
    their own right after the fixed-width lines: Textual writes a changed line from the
    left edge of its widget, so an age costs its own few cells, not the line.
    """

    DEFAULT_CSS = """
    SystemPanel {
        height: auto;
        padding: 0 1;
    }
    SystemPanel > .system-part {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: auto;
    }
    SystemPanel > SystemLines {
        width: 1fr;
    }
    SystemPanel > SystemAges {
        display: none;
        width: 1fr;
    }
    SystemPanel.-ages > SystemLines {
        width: 64;  /* a 2pc participant line: id 18, type 12, vote 10, health 1 + 12, label 11 */
    }
    SystemPanel.-ages > SystemAges {
        display: block;
    }
    """

    def compose(self) -> ComposeResult:
        yield SystemLines(classes="system-part")
        yield SystemAges(classes="system-part")


class _SystemPart(TextPane):
    MIN_INTERVAL_S = 1.0  # series change several times a second; the eye needs once
    SECTIONS = ("migrations", "participants", "breakers", "series", "sources")
    CLOCK = True


class SystemLines(_SystemPart):
    """The lines of ``SystemPanel`` (all of them but the heartbeat ages)."""

    def draw(self, view: View) -> None:
        # The ages pane shows (2pc) or leaves before this one is laid out or built: set during
        # the first layout, it showed a frame later, empty, and was drawn a frame after that.
        migration = view.migration
        if self.parent is not None:
            self.parent.set_class(migration is not None and systems.ui(migration.system).ages is not None, "-ages")
        super().draw(view)

    def build(self, view: View, width: int) -> list[Text]:
        migration = view.migration
        pieces = systems.ui(migration.system) if migration is not None else None
        if pieces is None or pieces.panel is None or migration is None:
            return []
        lines = pieces.panel(view, migration) + not_served_lines(view, *pieces.panel_endpoints)
        not_live = not_live_words(view)
        if not_live is not None and lines:
            # Every figure here comes from the controller: old ones must not pass for live.
            level = controller_level(view)[0]
            lines.insert(0, view.badge(level, f"last known ({not_live}): not live"))  # whole at 80 columns
        return lines


class SystemAges(_SystemPart):
    """The system's heartbeat ages column (2pc: its participants'), beside their lines."""

    def build(self, view: View, width: int) -> list[Text]:
        migration = view.migration
        ages = systems.ui(migration.system).ages if migration is not None else None
        return ages(view, migration) if ages is not None and migration is not None else []
