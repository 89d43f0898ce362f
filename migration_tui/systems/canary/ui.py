"""Seed 002's dashboard and wall pieces: the traffic split and legacy against new."""

from __future__ import annotations

from rich.text import Text

from migration_tui.model import Migration
from migration_tui.systems.base import Figure, MetricSpec, SystemUI
from migration_tui.ui import states
from migration_tui.ui.lookup import detail_bool, detail_number, is_invalid
from migration_tui.ui.view import View
from migration_tui.ui.widgets.system import detail_figure, label


def canary(view: View, migration: Migration) -> list[Text]:
    details = migration.details
    legacy_pct, _ = detail_number(details, "traffic_legacy_pct")
    new_pct, _ = detail_number(details, "traffic_new_pct")
    split = Text(no_wrap=True, end="")
    label(split, view, "traffic  legacy ")
    width = 30
    if legacy_pct is not None and new_pct is not None:
        # Two different characters, so the split reads the same without colour.
        old_w = int(round(width * legacy_pct / 100))
        split.append("▒" * old_w, style=view.style("state-muted"))
        split.append("█" * (width - old_w), style=view.style("state-info"))
    else:
        split.append("?" * width, style=view.style("state-warn"))
    split.append(" new  ", style=view.style("state-muted"))
    split.append(
        f"{detail_figure(view, migration, 'traffic_legacy_pct', '%', 0)} / {detail_figure(view, migration, 'traffic_new_pct', '%', 0)}"
    )
    lines = [split]
    head = Text(f"{'':8}{'health':<14}{'errors':>9}{'p99':>11}", style=view.style("state-muted"), no_wrap=True, end="")
    lines.append(head)
    for side in ("legacy", "new"):
        row = Text(no_wrap=True, end="")
        row.append(f"{side:<8}")
        healthy = detail_bool(details, f"{side}_healthy")
        row.append_text(view.badge(*states.participant_health(healthy, is_invalid(migration, f"{side}_healthy"))))
        row.append(" " * max(1, 22 - len(row.plain)))
        row.append(f"{detail_figure(view, migration, f'{side}_error_rate_pct', '%', 2):>9}")
        row.append(f"{detail_figure(view, migration, f'{side}_p99_ms', ' ms', 0):>11}")
        lines.append(row)
    sync = Text(no_wrap=True, end="")
    label(sync, view, "sync lag ")
    sync.append(detail_figure(view, migration, "sync_lag_s", " s"))
    label(sync, view, "   requests ")
    sync.append(detail_figure(view, migration, "requests_per_s", "/s", 0))
    lines.append(sync)
    return lines


UI = SystemUI(
    panel=canary,
    panel_endpoints=("/api/v2/health", "/api/v2/metrics", "/api/sync/status"),
    metrics=(
        MetricSpec("traffic_new_pct", "new traffic", "%", 0),
        MetricSpec("latency_p99_ms", "new p99", " ms"),
        MetricSpec("legacy/latency_p99_ms", "legacy p99", " ms"),
        MetricSpec("error_rate_pct", "new errors", "%", 2),
        MetricSpec("legacy/error_rate_pct", "old errors", "%", 2),
        MetricSpec("throughput_ops", "throughput", " op/s", 0),
    ),
    figures=(Figure("error_rate_pct", "new error rate", "%", 2), Figure("latency_p99_ms", "new p99", "ms")),
)
