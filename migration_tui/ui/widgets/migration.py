"""The selected migration: who and what, its phase as a timeline, and its progress.

The timeline is the system's happy path (``model.STAGES``); a phase on the
failure branch (``model.FAILURE_PHASES``) is drawn after it, and a phase the
dashboard does not know is shown as the server sent it, marked unknown.
Rate and ETA come from progress since ``started_at`` on the feed's clock, so
a replay shows the ETA the operator saw.
"""

from __future__ import annotations

import re

from rich.text import Text

from migration_tui.model import FAILURE_PHASES, Migration
from migration_tui.rules import format_duration
from migration_tui.safe_text import clean, number, safe
from migration_tui.ui import states
from migration_tui.ui.view import View
from migration_tui.ui.widgets.text_pane import TextPane

_PERCENT = re.compile(r"^(\d{1,3}(?:\.\d+)?)%$")


def stage_states(migration: Migration) -> list[tuple[str, str]]:
    """(stage, "done" | "current" | "todo") for each stage of the happy path."""
    stages = migration.stages
    phase = migration.phase
    if phase in stages:
        at = stages.index(phase)
        done_all = migration.status == "completed" and at == len(stages) - 1
        return [
            (s, "done" if i < at or (i == at and done_all) else "current" if i == at else "todo")
            for i, s in enumerate(stages)
        ]
    match = _PERCENT.match(phase)
    if match and all(_PERCENT.match(s) for s in stages):
        # Per-pair rollout: any percentage sits between the named steps.
        value = float(match.group(1))
        return [(s, "done" if float(s[:-1]) <= value else "todo") for s in stages]
    if phase in FAILURE_PHASES:
        return [(s, "todo") for s in stages]
    return [(s, "todo") for s in stages]


def timeline(migration: Migration, view: View) -> Text:
    line = Text(no_wrap=True, end="")
    marks = {"done": ("✔", "phase-done"), "current": ("▶", "phase-current"), "todo": ("·", "phase-todo")}
    for index, (stage, state) in enumerate(stage_states(migration)):
        if index:
            line.append(" › ", style=view.style("phase-todo"))
        symbol, alias = marks[state]
        label = stage.upper() if state == "current" else stage
        line.append(f"{symbol} {label}", style=view.style(alias, bold=state == "current"))
    phase = migration.phase
    if phase in FAILURE_PHASES:
        line.append("  ┃ ", style=view.style("phase-todo"))
        line.append(f"✖ {phase.upper()}", style=view.style("phase-failed", bold=True))
    elif not migration.phase_is_known and not _PERCENT.match(phase):
        line.append("  ┃ ", style=view.style("phase-todo"))
        line.append_text(safe(f"? {phase} (unknown phase)", style=view.style("state-warn", bold=True), limit=60))
    elif _PERCENT.match(phase) and phase not in migration.stages:
        line.append("  ┃ now ", style=view.style("phase-todo"))
        line.append(phase, style=view.style("phase-current", bold=True))
    return line


def rate_and_eta(migration: Migration, now: float) -> tuple[float | None, float | None]:
    """(% per minute, seconds to 100 %) from progress since start; None when unknown."""
    progress, started = migration.progress, migration.started_at
    if progress is None or started is None or now <= started or progress <= 0:
        return None, None
    per_s = progress / (now - started)
    if per_s <= 0:
        return None, None
    return per_s * 60, (100.0 - progress) / per_s if progress < 100 else 0.0


def progress_bar(migration: Migration, view: View, width: int) -> Text:
    progress = migration.progress
    invalid = "progress" in migration.invalid
    bar_w = max(5, min(40, width - 40))
    line = Text(no_wrap=True, end="")
    if progress is None:
        line.append("░" * bar_w, style=view.style("progress-todo"))
        line.append(f" {number(None, invalid=invalid)}", style=view.style("state-warn" if invalid else "state-muted"))
        return line
    filled = int(round(bar_w * progress / 100))
    line.append("█" * filled, style=view.style("progress-done"))
    line.append("░" * (bar_w - filled), style=view.style("progress-todo"))
    line.append(f" {progress:5.1f}%", style=view.style("state-info", bold=True))
    rate, eta = rate_and_eta(migration, view.now)
    reported_eta = migration.details.get("eta_s")
    if isinstance(reported_eta, (int, float)) and not isinstance(reported_eta, bool):
        eta = float(reported_eta)  # the controller's own estimate beats an average since start
    if migration.is_terminal:
        line.append("  finished", style=view.style("state-muted"))
    elif rate is not None and eta is not None:
        line.append(f"  {rate:.2f} %/min  ETA {format_duration(eta)}", style=view.style("state-muted"))
    else:
        line.append("  rate —  ETA —", style=view.style("state-muted"))
    return line


def no_migration_because(view: View, error: str, width: int) -> list[Text]:
    """Nothing to show and the controller says why (down, or not listing ``--migration``): say so, on 2 lines."""
    head = view.badge("bad", "NO MIGRATION", bold=True)
    head.append(" controller: ")
    room = max(10, width - head.cell_len)
    reason = clean(error, 400)
    first, rest = reason[:room], reason[room:]
    lines = [head + Text(first, end=""), Text(clean(rest, max(10, width)), end="")]
    return lines if rest else lines[:1]


class MigrationPane(TextPane):
    """Header and phase timeline of the selected migration (2 lines; redrawn when it changes)."""

    SECTIONS = ("migrations", "sources")

    DEFAULT_CSS = """
    MigrationPane {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: 2;
        padding: 0 1;
    }
    """

    def build(self, view: View, width: int) -> list[Text]:
        if view.migration is None:
            controller = view.store.source("controller")
            if not view.store.migrations and controller.error and not controller.ok():
                return no_migration_because(view, controller.error, width)
            waiting = "waiting for data…" if not view.store.migrations else ""
            return [Text(f"no migration selected {waiting}", end="")]
        migration = view.migration
        head = Text(no_wrap=True, end="")
        head.append(clean(migration.system, 24), style=view.style("state-info", bold=True))
        head.append("  ")
        head.append_text(safe(migration.id, style=view.style("state-info", bold=True), limit=40))
        if migration.pair:
            head.append("  ")
            head.append_text(safe(migration.pair, limit=24))
        head.append("  ")
        level, word = states.status(migration.status)
        head.append_text(view.badge(level, word, bold=True))
        if migration.health:
            level, word = states.health(migration.health)
            head.append("  ")
            head.append_text(view.badge(level, word))
        if migration.health_score is not None or "health_score" in migration.invalid:
            head.append("  score ")
            head.append(number(migration.health_score, digits=0, invalid="health_score" in migration.invalid))
        return [head, timeline(migration, view)]


class ProgressLine(TextPane):
    """Progress bar, %, rate, ETA and how old the controller's figures are: moves every second."""

    SECTIONS = ("migrations", "sources")
    CLOCK = True

    DEFAULT_CSS = """
    ProgressLine {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: 1;
        padding: 0 1;
    }
    """

    def build(self, view: View, width: int) -> list[Text]:
        if view.migration is None:
            return [Text("", end="")]
        line = progress_bar(view.migration, view, width)
        # Old numbers must never pass for live ones: say so next to them.
        if "controller" in view.store.source_names():
            level, label, _age = states.source(view.store.source("controller"), view.now, view.poll_interval_s)
            if level in ("warn", "bad"):
                line.append("  ")
                line.append_text(view.badge(level, f"controller {label}", bold=True))
        return [line]
