"""Seed 000's dashboard and wall pieces: votes, the participants and their heartbeat ages."""

from __future__ import annotations

from rich.text import Text

from migration_tui.model import Migration
from migration_tui.safe_text import age, clean
from migration_tui.systems.base import Figure, MetricSpec, SystemUI
from migration_tui.ui import states
from migration_tui.ui.lookup import detail_bool
from migration_tui.ui.view import View
from migration_tui.ui.widgets.metrics import LATENCY
from migration_tui.ui.widgets.system import MAX_PARTICIPANT_LINES, detail_figure, label


def two_pc(view: View, migration: Migration) -> list[Text]:
    line = Text(no_wrap=True, end="")
    label(line, view, "votes ")
    for key, level, word in (
        ("votes_yes", "ok", "yes"),
        ("votes_pending", "muted", "pending"),
        ("votes_no", "bad", "no"),
        ("votes_timeout", "bad", "timeout"),
    ):
        line.append_text(view.badge(level, f"{word} {detail_figure(view, migration, key, digits=0)}"))
        line.append("  ")
    healthy = detail_bool(migration.details, "health_ok")
    if healthy is not None:
        line.append_text(view.badge(*states.participant_health(healthy)))
    lines = [line]
    members = view.store.participants_of(migration.id)
    for participant in members[:MAX_PARTICIPANT_LINES]:
        row = Text(no_wrap=True, end="")
        row.append(clean(participant.id, 17).ljust(18))
        row.append(clean(participant.type, 11).ljust(12), style=view.style("state-muted"))
        vote = view.badge(*states.vote(participant.vote))
        vote.truncate(10, overflow="ellipsis", pad=True)  # fixed widths: the ages line up beside
        row.append_text(vote)
        row.append(" ")
        health = view.badge(*states.participant_health(participant.healthy, "healthy" in participant.invalid))
        health.truncate(12, overflow="ellipsis", pad=True)
        row.append_text(health)
        row.append(" heartbeat ", style=view.style("state-muted"))
        lines.append(row)
    if len(members) > MAX_PARTICIPANT_LINES:
        more = len(members) - MAX_PARTICIPANT_LINES
        lines.append(Text(f"… {more} more on the Participants tab (2)", style=view.style("state-muted"), end=""))
    return lines


def two_pc_ages(view: View, migration: Migration) -> list[Text]:
    """The heartbeat ages of ``two_pc``'s participant lines, a column of their own (it changes every second)."""
    lines = [Text(end="")]
    for participant in view.store.participants_of(migration.id)[:MAX_PARTICIPANT_LINES]:
        age_s = participant.heartbeat_age_s(view.now)
        lines.append(view.badge(states.heartbeat(age_s, ended=migration.is_terminal), age(age_s)))
    return lines


UI = SystemUI(
    panel=two_pc,
    panel_endpoints=(
        "/api/v1/migrations/{id}/participants",
        "/api/v1/migrations/{id}/votes",
        "/api/v1/migrations/{id}/health",
    ),
    ages=two_pc_ages,
    metrics=(
        *LATENCY,
        MetricSpec("error_rate_pct", "errors", "%", 2),
        MetricSpec("throughput_ops", "throughput", " op/s", 0),
        MetricSpec("memory_pct", "memory", "%"),
    ),
    figures=(Figure("error_rate_pct", "error rate", "%", 2), Figure("latency_p95_ms", "p95 latency", "ms")),
)
