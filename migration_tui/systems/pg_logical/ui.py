"""The pg-logical panel: what an operator checks before a cutover, and the wall's figures."""

from __future__ import annotations

from rich.text import Text

from migration_tui.model import Migration
from migration_tui.safe_text import age, clean
from migration_tui.systems.base import Figure, MetricSpec, SystemUI
from migration_tui.systems.pg_logical.reading import MIB
from migration_tui.ui.lookup import detail_number, is_invalid
from migration_tui.ui.view import View
from migration_tui.ui.widgets.system import detail_figure, label


def size(view: View, migration: Migration, key: str) -> str:
    """A byte count of ``details`` as B, KiB, MiB or GiB; ``—`` missing, ``invalid`` invalid."""
    value, _ = detail_number(migration.details, key)
    if value is None:
        return "invalid" if is_invalid(migration, key) else "—"
    for unit, scale in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024.0)):
        if abs(value) >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} B"


def _check(line: Text, view: View, ok: bool | None, words: str) -> None:
    """One cutover check after the line's label: ✔ passed, ✖ failed, a muted mark when unknown."""
    line.append(" " if line.plain == "cutover" else "  ")
    line.append_text(view.badge("muted" if ok is None else "ok" if ok else "bad", words))


def pg_logical(view: View, migration: Migration) -> list[Text]:
    details = migration.details
    tables = Text(no_wrap=True, end="")
    label(tables, view, "tables ")
    tables.append(
        f"{detail_figure(view, migration, 'tables_ready', digits=0)} / {detail_figure(view, migration, 'tables_total', digits=0)}"
    )
    label(tables, view, " ready   ")
    tables.append(detail_figure(view, migration, "tables_copying", digits=0))
    label(tables, view, " copying   ")
    tables.append(detail_figure(view, migration, "tables_synchronized", digits=0))
    label(tables, view, " synced")
    if details.get("rows_copied") is not None:
        label(tables, view, "   copied ")
        tables.append(
            f"{detail_figure(view, migration, 'rows_copied', ' rows', 0)}, {size(view, migration, 'bytes_copied')}"
        )

    lag = Text(no_wrap=True, end="")
    label(lag, view, "lag ")
    lag.append(f"{size(view, migration, 'lag_bytes')}, {detail_figure(view, migration, 'lag_s', ' s', 1)}")
    label(lag, view, "   apply ")
    lag.append(f"{size(view, migration, 'apply_rate_bps')}/s")
    label(lag, view, "   slot WAL kept ")
    lag.append(size(view, migration, "retained_wal_bytes"))
    label(lag, view, f" ({clean(details.get('wal_status'), 20)})")

    worker = Text(no_wrap=True, end="")
    label(worker, view, "apply worker ")
    heard, _ = detail_number(details, "heartbeat_age_s")
    running = details.get("worker_running")
    worker.append(
        ("running" if running else "not running") + (f", heard {age(heard)} ago" if heard is not None else "")
    )
    label(worker, view, "   errors ")
    worker.append(detail_figure(view, migration, "apply_errors", digits=0))
    label(worker, view, " apply, ")
    worker.append(detail_figure(view, migration, "sync_errors", digits=0))
    label(worker, view, " sync, ")
    worker.append(detail_figure(view, migration, "new_errors", digits=0))
    label(worker, view, " new   slot ")
    worker.append(clean(details.get("slot"), 40))

    checks = Text(no_wrap=True, end="")
    label(checks, view, "cutover")
    ready, _ = detail_number(details, "tables_ready")
    total, _ = detail_number(details, "tables_total")
    lag_bytes, _ = detail_number(details, "lag_bytes")
    new_errors, _ = detail_number(details, "new_errors")
    _check(checks, view, None if ready is None or total is None else ready == total and total > 0, "tables")
    _check(checks, view, details.get("enabled"), "enabled")
    _check(checks, view, bool(running), "worker")
    _check(checks, view, None if lag_bytes is None else lag_bytes < MIB, "lag < 1 MiB")
    _check(checks, view, None if new_errors is None else new_errors == 0, "no errors")
    _check(checks, view, details.get("publisher_ok"), "publisher")

    nxt = Text(no_wrap=True, end="")
    label(nxt, view, "next: ")
    nxt.append(clean(details.get("next_condition"), 200))
    return [tables, lag, worker, checks, nxt]


UI = SystemUI(
    panel=pg_logical,
    metrics=(
        MetricSpec("lag_mib", "lag", " MiB", 2),
        MetricSpec("lag_s", "lag time", " s", 1),
        MetricSpec("apply_mib_s", "apply", " MiB/s", 2),
        MetricSpec("new_errors", "new errors", "", 0),
        MetricSpec("retained_wal_mib", "slot WAL", " MiB", 1),
        MetricSpec("progress_pct", "tables", "%"),
    ),
    figures=(Figure("new_errors", "new errors", "", 0), Figure("lag_s", "lag", "s", 1)),
)
