"""The selected migration: who and what, its phase as a timeline, and its progress.

The timeline is the system's happy path (``model.STAGES``); a phase on the
failure branch (``model.FAILURE_PHASES``) is drawn after it, and a phase the
dashboard does not know is shown as the server sent it, marked unknown.
Rate and ETA come from progress since ``started_at`` on the feed's clock, so
a replay shows the ETA the operator saw.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec
from rich.text import Text

from migration_tui.freshness import format_age
from migration_tui.model import (
    CONTROLLER_SOURCE,
    FAILURE_PHASES,
    Migration,
    SourceHealth,
    controller_of_source,
    is_controller_source,
)
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


#: Statuses in which a migration moves by itself, so an ETA can mean something.
RUNNING_STATUSES: frozenset[str] = frozenset({"in_progress", "running"})
#: The rate is progress over this much of the recent past (feed clock), not since the start.
RATE_WINDOW_S = 60.0
#: Below this much observed history there is no rate yet ("measuring").
MIN_RATE_SPAN_S = 10.0
#: A rate smaller than this (% per minute) is no movement.
STILL_PER_MIN = 1e-6


class Pace(msgspec.Struct, frozen=True):
    """What the progress line says after the %: the rate, the ETA (or why there is none)."""

    #: forward | falling | held | paused | failing | ended | not_live | stopped | measuring | unknown
    kind: str
    rate_per_min: float | None
    eta_s: float | None
    text: str
    level: str = "muted"


def recent_rate(changes: Sequence[tuple[float, float]], now: float, window_s: float = RATE_WINDOW_S) -> float | None:
    """% per minute over the last ``window_s`` of ``changes`` ((ts, progress) at each change).

    None until ``MIN_RATE_SPAN_S`` of history; negative while progress falls; 0 while it holds.
    """
    if not changes:
        return None
    first_ts = changes[0][0]
    if now - first_ts < MIN_RATE_SPAN_S:
        return None
    start = max(now - window_s, first_ts)
    then = changes[0][1]
    for ts, value in changes:
        if ts > start:
            break
        then = value
    span = now - start
    if span <= 0:
        return None
    return (changes[-1][1] - then) / span * 60.0


def pace(migration: Migration, changes: Sequence[tuple[float, float]], now: float, controller: str = "ok") -> Pace:
    """The rate and ETA the data supports: an ETA only while progress moves forward in a running state.

    ``controller`` is the controller source's level (ok, warn, bad, muted): figures from a source
    that is not fresh say nothing about the rate now.
    """
    progress = migration.progress
    if progress is None:
        return Pace("unknown", None, None, "rate —  ETA —")
    if migration.is_terminal:
        word = "finished" if migration.status == "completed" else f"ended: {migration.status}"
        return Pace("ended", None, None, word)
    if controller in ("warn", "bad"):
        return Pace("not_live", None, None, "rate unknown, no ETA", "warn")
    rate = recent_rate(changes, now)
    falling = rate is not None and rate < -STILL_PER_MIN
    if migration.phase in FAILURE_PHASES:
        words = migration.phase.replace("_", " ")
        if falling:
            return Pace("failing", rate, None, f"↓ {abs(rate):.2f} %/min {words}, no ETA", "bad")
        return Pace("failing", rate, None, f"{words}, no ETA", "bad")
    if migration.status == "paused":
        return Pace("paused", None, None, "paused, no ETA", "warn")
    if falling:
        return Pace("falling", rate, None, f"↓ {abs(rate):.2f} %/min falling, no ETA", "warn")
    if migration.status not in RUNNING_STATUSES:
        return Pace("stopped", None, None, f"{clean(migration.status, 24)}, no ETA")  # the server's word: cleaned
    if rate is None:
        return Pace("measuring", None, None, "measuring rate…  ETA —")
    if rate <= STILL_PER_MIN:
        held_s = max(0.0, now - changes[-1][0])
        return Pace("held", 0.0, None, f"held at {progress:g} % for {format_duration(held_s)}, no ETA")
    eta = (100.0 - progress) / rate * 60.0
    reported = migration.details.get("eta_s")
    if isinstance(reported, (int, float)) and not isinstance(reported, bool):
        eta = float(reported)  # the controller's own estimate beats ours
    return Pace("forward", rate, eta, f"{rate:.2f} %/min  ETA {format_duration(eta)}")


def controller_source_name(view: View, migration: Migration | None = None) -> str:
    """The source whose freshness is the migration's: its own controller (``controller:NAME``),
    the unnamed ``controller`` when it has none or no migration is shown."""
    migration = migration if migration is not None else view.migration
    return migration.source_name if migration is not None else CONTROLLER_SOURCE


def controller_level(view: View, migration: Migration | None = None) -> tuple[str, str, float | None]:
    """(level, label, age) of the migration's controller source (the shown one's unless given);
    ("ok", "", None) when there is none to judge."""
    name = controller_source_name(view, migration)
    if name not in view.store.source_names():
        return "ok", "", None
    return states.source(view.store.source(name), view.now, view.poll_interval_s)


def not_live_words(view: View, migration: Migration | None = None) -> str | None:
    """ "controller ERROR 12s" / "controller STALE 40s" when the controller's figures are not live, else None."""
    level, label, age_s = controller_level(view, migration)
    if level not in ("warn", "bad"):
        return None
    word = "ERROR" if level == "bad" else "STALE"
    who = controller_words(view, migration)
    return f"{who} {word} {format_age(age_s)}" if age_s is not None else f"{who} {word}"


def controller_words(view: View, migration: Migration | None = None) -> str:
    """ "controller" for the unnamed one, "controller east" for a named one (the shown migration's unless given)."""
    migration = migration if migration is not None else view.migration
    name = None if migration is None else migration.controller
    return f"controller {clean(name, 24)}" if name else "controller"


def progress_bar(migration: Migration, view: View, width: int) -> Text:
    progress = migration.progress
    invalid = "progress" in migration.invalid
    bar_w = max(5, min(40, width - 50))
    line = Text(no_wrap=True, end="")
    if progress is None:
        line.append("░" * bar_w, style=view.style("progress-todo"))
        line.append(f" {number(None, invalid=invalid)}", style=view.style("state-warn" if invalid else "state-muted"))
        return line
    filled = int(round(bar_w * progress / 100))
    line.append("█" * filled, style=view.style("progress-done"))
    line.append("░" * (bar_w - filled), style=view.style("progress-todo"))
    line.append(f" {progress:5.1f}%", style=view.style("state-info", bold=True))
    judged = pace(
        migration, view.store.progress_changes.get(migration.id, ()), view.now, controller_level(view, migration)[0]
    )
    line.append("  ")
    if judged.level in ("warn", "bad"):
        line.append_text(view.badge(judged.level, judged.text))
    else:
        line.append(judged.text, style=view.style("state-muted"))
    return line


def last_action_text(view: View, migration: Migration) -> Text | None:
    """``paused by ops@host 3m ago: "reason"`` from the last action that reached the controller."""
    last = view.store.last_action.get(migration.id)
    if not last:
        return None
    done = {"pause": "paused", "resume": "resumed", "abort": "aborted", "rollback": "rolled back"}
    action = clean(str(last.get("action", "?")), 20)
    by = last.get("requested_by")
    who = f"by {clean(by, 40)}" if isinstance(by, str) and by else "(by whom not recorded)"
    ago = format_age(max(0.0, view.now - float(last.get("ts", view.now))))
    result = str(last.get("result") or "")
    line = Text(no_wrap=True, end="")
    if last.get("stage") == "sent":
        line.append(f"{action} sent {who} {ago} ago, no answer yet", style=view.style("state-warn"))
    elif result.startswith("ok"):
        line.append(f"{done.get(action, action)} {who} {ago} ago", style=view.style("state-muted"))
    else:
        line.append_text(view.badge("bad", f"{action} {who} {ago} ago failed"))
    reason = last.get("reason")
    if isinstance(reason, str) and reason:
        line.append(": ", style=view.style("state-muted"))
        line.append_text(safe(f"\u201c{reason}\u201d", style=view.style("state-muted"), limit=60))
    return line


def failing_controller(view: View) -> SourceHealth | None:
    """The first controller source that fails with an error (the unnamed one first), or None."""
    names = [CONTROLLER_SOURCE] + [n for n in view.store.source_names() if n != CONTROLLER_SOURCE]
    for name in names:
        if is_controller_source(name):
            source = view.store.source(name)
            if source.error and not source.ok():
                return source
    return None


def no_migration_because(view: View, error: str, width: int, controller: str | None = None) -> list[Text]:
    """Nothing to show and the controller says why (down, or not listing ``--migration``): say so, on 2 lines."""
    head = view.badge("bad", "NO MIGRATION", bold=True)
    head.append(f" controller {clean(controller, 24)}: " if controller else " controller: ")
    room = max(10, width - head.cell_len)
    reason = clean(error, 400)
    first, rest = reason[:room], reason[room:]
    lines = [head + Text(first, end=""), Text(clean(rest, max(10, width)), end="")]
    return lines if rest else lines[:1]


class MigrationPane(TextPane):
    """Header and phase timeline of the selected migration, and the last action taken on it.

    While the controller's data is not live the status and health are its last known
    values, said so (``▲ last known, controller ERROR 12s:``) and never drawn as fine.
    """

    SECTIONS = ("migrations", "sources")

    DEFAULT_CSS = """
    MigrationPane {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: auto;
        padding: 0 1;
    }
    """

    def view_key(self, view: View) -> tuple[object, ...]:
        # Ages move with the clock only while something on the header shows one.
        moving = not_live_words(view) is not None or view.migration_id in view.store.last_action
        return (*super().view_key(view), int(view.now) if moving else None)

    def build(self, view: View, width: int) -> list[Text]:
        if view.migration is None:
            controller = failing_controller(view) if not view.store.migrations else None
            if controller is not None and controller.error:
                return no_migration_because(view, controller.error, width, controller_of_source(controller.name))
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
        not_live = not_live_words(view)
        if not_live is not None:
            # Old words must not pass for live ones: no ✔, no level colour, "last known" first.
            # The controller's own level: ✖ while it fails, ▲ while it is only stale (as the status bar says).
            level = controller_level(view)[0]
            head.append_text(view.badge(level, f"{not_live.removeprefix('controller ')}, last known:", bold=True))
            head.append(f" {clean(migration.status, 24)}", style=view.style("state-muted"))
            if migration.health:
                head.append(f"  {clean(migration.health.upper(), 24)}", style=view.style("state-muted"))
        else:
            level, word = states.status(migration.status)
            head.append_text(view.badge(level, word, bold=True))
            if migration.health:
                level, word = states.health(migration.health)
                head.append("  ")
                head.append_text(view.badge(level, word))
        if migration.health_score is not None or "health_score" in migration.invalid:
            head.append("  score ")
            head.append(number(migration.health_score, digits=0, invalid="health_score" in migration.invalid))
        lines = [head, timeline(migration, view)]
        action = last_action_text(view, migration)
        if action is not None:
            lines.append(action)
        return lines


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
        if controller_source_name(view) in view.store.source_names():
            level, label, _age = controller_level(view)
            if level in ("warn", "bad"):
                line.append("  ")
                line.append_text(view.badge(level, f"{controller_words(view)} {label}", bold=True))
        return [line]
