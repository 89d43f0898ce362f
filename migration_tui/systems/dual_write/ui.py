"""Seed 004's dashboard and wall pieces: write success, outbox, event latency and the feature flags."""

from __future__ import annotations

from rich.text import Text

from migration_tui.model import Migration
from migration_tui.systems.base import Figure, MetricSpec, SystemUI
from migration_tui.ui.lookup import detail_bool, detail_number
from migration_tui.ui.view import View
from migration_tui.ui.widgets.metrics import LATENCY
from migration_tui.ui.widgets.system import detail_figure, label


def dual_write(view: View, migration: Migration) -> list[Text]:
    details = migration.details
    line = Text(no_wrap=True, end="")
    label(line, view, "object write success ")
    success, _ = detail_number(details, "write_success_pct")
    level = "muted" if success is None else "ok" if success >= 99 else "bad"
    line.append_text(view.badge(level, detail_figure(view, migration, "write_success_pct", "%", 2), bold=True))
    label(line, view, " (≥ 99%)   outbox ")
    line.append(detail_figure(view, migration, "outbox_pending", digits=0))
    label(line, view, "   written ")
    line.append(detail_figure(view, migration, "events_written", digits=0))
    flags = Text(no_wrap=True, end="")
    label(flags, view, "flags ")
    for key, name in (
        ("flag_enable_s3_event_store", "S3_EVENT_STORE"),
        ("flag_enable_dual_write", "DUAL_WRITE"),
        ("flag_worker_read_from_s3", "READ_FROM_S3"),
    ):
        value = detail_bool(details, key)
        flags.append_text(
            view.badge("info" if value else "muted", f"{name} {'on' if value else 'off' if value is False else '—'}")
        )
        flags.append("  ")
    latency = Text(no_wrap=True, end="")
    label(latency, view, "event latency ")
    for key in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"):
        latency.append(f"{key.split('_')[1]} {detail_figure(view, migration, key, ' ms', 0)}  ")
    return [line, latency, flags]


UI = SystemUI(
    panel=dual_write,
    metrics=(
        MetricSpec("write_success_pct", "write ok", "%", 2),
        *LATENCY,
        MetricSpec("outbox_pending", "outbox", "", 0),
        MetricSpec("events_per_s", "events/s", "/s", 0),
    ),
    figures=(Figure("write_success_pct", "write success", "%", 2), Figure("latency_p95_ms", "p95 latency", "ms")),
)
