"""The list of migrations across the top, the selected one marked; ``[`` and ``]`` step."""

from __future__ import annotations

from collections.abc import Iterator

from rich.text import Text

from migration_tui import systems
from migration_tui.safe_text import clean
from migration_tui.ui import states
from migration_tui.ui.colors import mark
from migration_tui.ui.view import View
from migration_tui.ui.widgets.text_pane import TextPane


def _by_pair(system: str) -> bool:
    """Whether the picker names a migration of ``system`` by its pair (a per-pair rollout)."""
    known = systems.get(system)
    return known is not None and known.shown_by_pair


class MigrationPicker(TextPane):
    """``[2/6] ▶ mig-b ✔ · mig-c ▲ …``: which migration is shown, and what else there is."""

    SECTIONS = ("migrations",)

    DEFAULT_CSS = """
    MigrationPicker {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    """

    def build(self, view: View, width: int) -> list[Text]:
        line = Text(no_wrap=True, end="", overflow="ellipsis")
        ids = list(view.store.migrations)
        if not ids:
            line.append("waiting for the first migration…", style=view.style("state-muted"))
            return [line]
        selected = view.migration_id
        position = ids.index(selected) if selected in ids else 0
        line.append(f"[{position + 1}/{len(ids)}] ", style=view.style("state-muted"))
        budget = max(10, width - 12)
        # With named controllers, ids are grouped under their controller's name (``east: m1 ✔ m2 ▲``).
        named = any(view.store.migrations[key].controller for key in ids)
        # A window of ids starting up to two before the selected one, as far back as still leaves
        # room for the selected one itself (at 80 columns, two long neighbours would push it out).
        for start in range(max(0, position - 2), position + 1):
            used = len(line.plain)
            for migration_id, label, piece in self._pieces(view, ids, start, named):
                used += len(label) + len(piece) + 3
                if migration_id == selected:
                    break
            if used <= budget:
                break
        for migration_id, label, piece in self._pieces(view, ids, start, named):
            if migration_id != selected and len(line.plain) + len(label) + len(piece) + 3 > budget:
                line.append("…", style=view.style("state-muted"))
                break
            if label:
                line.append(label, style=view.style("state-info"))
            if migration_id == selected:
                line.append("▶ " + piece, style=view.style("phase-current", bold=True))
            else:
                line.append("  " + piece, style=view.style("state-muted"))
            line.append(" ")
        line.append(" [ ] switch", style=view.style("state-muted"))
        return [line]

    @staticmethod
    def _pieces(view: View, ids: list[str], start: int, named: bool) -> Iterator[tuple[str, str, str]]:
        """From ``ids[start]`` on: each id, its controller's name where a new group starts (named
        controllers only, else ""), and what the picker shows for it (its id or pair, its mark)."""
        group: str | None = None
        for migration_id in ids[start:]:
            migration = view.store.migrations[migration_id]
            level, _ = states.status(migration.status)
            own_id = migration.remote_id if named else migration_id
            shown_as = migration.pair if migration.pair and _by_pair(migration.system) else own_id
            label = ""
            if named and (migration.controller or "") != group:
                group = migration.controller or ""
                label = f"{clean(migration.controller or '(unnamed)', 16)}:"
            yield migration_id, label, f"{clean(shown_as, 24)} {mark(level)}"
