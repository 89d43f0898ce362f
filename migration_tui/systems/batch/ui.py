"""Seed 003's dashboard and wall pieces: documents, rate, ETA, checkpoint and the health score."""

from __future__ import annotations

from rich.text import Text

from migration_tui.model import Migration
from migration_tui.rules import format_duration
from migration_tui.safe_text import age, number
from migration_tui.systems.base import Figure, MetricSpec, SystemUI
from migration_tui.ui.lookup import detail_number, is_invalid
from migration_tui.ui.view import View
from migration_tui.ui.widgets.migration import controller_level, pace
from migration_tui.ui.widgets.system import detail_figure, label


def batch(view: View, migration: Migration) -> list[Text]:
    details = migration.details
    line = Text(no_wrap=True, end="")
    label(line, view, "documents ")
    line.append(
        f"{detail_figure(view, migration, 'documents_migrated', digits=0)} / {detail_figure(view, migration, 'documents_total', digits=0)}"
    )
    label(line, view, "   rate ")
    line.append(detail_figure(view, migration, "docs_per_s", " docs/s", 0))
    label(line, view, "   ETA ")
    eta, _ = detail_number(details, "eta_s")
    changes = view.store.progress_changes.get(migration.id, ())
    if eta is not None and pace(migration, changes, view.now, controller_level(view, migration)[0]).kind != "forward":
        eta = None  # the progress line says why (paused, not live, ...): no ETA here either
    line.append(
        "invalid" if eta is None and is_invalid(migration, "eta_s") else "—" if eta is None else format_duration(eta)
    )
    second = Text(no_wrap=True, end="")
    label(second, view, "retries ")
    second.append(detail_figure(view, migration, "retries", digits=0))
    label(second, view, "   last checkpoint ")
    second.append(detail_figure(view, migration, "last_checkpoint_documents", " docs", 0))
    at, _ = detail_number(details, "last_checkpoint_at")
    if at is not None:
        second.append(f", {age(view.now - at)} ago")
    third = Text(no_wrap=True, end="")
    label(third, view, "health score ")
    score = migration.health_score
    band = "ok" if score is not None and score >= 80 else "warn" if score is not None and score >= 50 else "bad"
    third.append_text(
        view.badge(
            band if score is not None else "muted",
            number(score, digits=0, invalid=is_invalid(migration, "health_score")),
            bold=True,
        )
    )
    label(third, view, "  = 100 - 5×")
    third.append(detail_figure(view, migration, "warnings", digits=0))
    label(third, view, " warnings - 15×")
    third.append(detail_figure(view, migration, "errors", digits=0))
    label(third, view, " errors - 30×")
    third.append(detail_figure(view, migration, "critical", digits=0))
    label(third, view, " critical")
    return [line, second, third]


UI = SystemUI(
    panel=batch,
    metrics=(
        MetricSpec("docs_per_s", "docs/s", "/s", 0),
        MetricSpec("progress_pct", "progress", "%"),
        MetricSpec("failure_rate_pct", "failures", "%", 2),
        MetricSpec("response_time_ms", "response", " ms"),
        MetricSpec("memory_mb", "memory", " MB", 0),
    ),
    figures=(Figure("failure_rate_pct", "failure rate", "%", 2), Figure("response_time_ms", "response", "ms")),
)
