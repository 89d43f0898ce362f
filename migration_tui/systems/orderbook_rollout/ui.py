"""Seed 001's dashboard and wall pieces: one row per pair with its breaker and figures."""

from __future__ import annotations

from rich.text import Text

from migration_tui.model import Migration
from migration_tui.safe_text import clean, number
from migration_tui.systems.base import Figure, MetricSpec, SystemUI
from migration_tui.ui import states
from migration_tui.ui.lookup import breaker_for, detail_number, is_invalid, latest
from migration_tui.ui.view import View
from migration_tui.ui.widgets.metrics import LATENCY
from migration_tui.ui.widgets.not_served import BREAKERS_PATH
from migration_tui.ui.widgets.system import MAX_PAIR_LINES, detail_figure, judged


def orderbook(view: View, migration: Migration) -> list[Text]:
    store = view.store
    # The pairs of this migration's own controller: another controller's BTCUSDT is another migration.
    by_pair = {
        m.pair: m
        for m in store.migrations.values()
        if m.system == migration.system and m.pair and m.controller == migration.controller
    }
    header = Text(no_wrap=True, end="")
    header.append(
        f"  {'pair':<10} {'migrated':>8} {'target':>7}  {'breaker':<12} {'p95':>9} {'errors':>7}  state",
        style=view.style("state-muted"),
    )
    lines = [header]
    for pair, item in sorted(by_pair.items())[:MAX_PAIR_LINES]:
        row = Text(no_wrap=True, end="")
        selected = item.id == migration.id
        row.append("▶ " if selected else "  ", style=view.style("phase-current", bold=True))
        row.append(clean(pair, 10).ljust(10), style=view.style("state-info", bold=selected))
        pct, _ = detail_number(item.details, "migration_percentage")
        pct = pct if pct is not None else latest(store, item, "migration_pct")
        row.append(f" {number(pct, '%', 0, is_invalid(item, 'migration_percentage')):>8}")
        row.append(f" {detail_figure(view, item, 'target_percentage', '%', 0):>7}  ")
        breaker = breaker_for(store, item)
        level, word = states.breaker(breaker.state) if breaker else ("muted", "—")
        row.append_text(view.badge(level, word.ljust(10)))
        row.append_text(judged(view, item, "latency_p95_ms", " ms", 1, 10))
        row.append_text(judged(view, item, "error_rate_pct", "%", 2, 8))
        row.append("  ")
        row.append_text(view.badge(*states.health(item.health)))
        lines.append(row)
    if len(by_pair) > MAX_PAIR_LINES:
        lines.append(Text(f"… {len(by_pair) - MAX_PAIR_LINES} more pairs ([ and ] to step)", end=""))
    return lines


UI = SystemUI(
    panel=orderbook,
    panel_endpoints=("/admin/migration/status", BREAKERS_PATH, "/api/v1/migrations/{id}/health"),
    metrics=(
        MetricSpec("migration_pct", "migrated", "%", 0),
        *LATENCY,
        MetricSpec("error_rate_pct", "errors", "%", 2),
        MetricSpec("throughput_ops", "throughput", " op/s", 0),
        MetricSpec("memory_pct", "memory", "%"),
    ),
    figures=(Figure("error_rate_pct", "error rate", "%", 2), Figure("latency_p95_ms", "p95 latency", "ms")),
)
