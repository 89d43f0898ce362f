"""What one poll of a publisher and a subscriber says, as the dashboard's migrations (pure, no IO).

The source (``source.py``) reads the catalogs into plain rows; ``read`` turns
them into a ``Reading``: one migration per subscription (id = its name), its
tables and its apply worker as participants, series of lag and errors, and
breaker-style marks for a disabled subscription and a slot falling behind.

The phases and the condition that moves each on (``PHASES``, said on screen):

- **initial copy**: some table is still being copied (``srsubstate`` i, d or f);
  on when every table is copied (s or r).
- **catching up**: every table copied, but some table only synchronized (s), or
  the slot's lag is at least ``catchup_lag_bytes``; on when every table is
  ready (r) and the lag is under it.
- **streaming**: every table ready, changes applied as they come; on when the
  cutover checks (every table ready, enabled, apply worker running, lag under
  ``cutover_lag_bytes`` and ``cutover_lag_s``, no new errors, the publisher
  answering) have held for ``cutover_hold_s``.
- **ready for cutover**: those conditions hold; back to streaming when one breaks.

``details`` keys (null = unknown): tables_total, tables_ready, tables_copying
(i/d/f), tables_synchronized (s), rows_copied and bytes_copied (the COPYs the
publisher is running for this subscription's tables), lag_bytes, lag_s,
retained_wal_bytes, apply_rate_bps, apply_errors, sync_errors, new_errors
(counted in the last minute), heartbeat_age_s, enabled, worker_running,
slot, slot_active, wal_status, publisher_ok, held_s, next_condition.

Series, each ``<subscription>/<name>``: lag_mib, lag_s, apply_mib_s,
apply_errors, sync_errors, new_errors, retained_wal_mib, heartbeat_age_s,
progress_pct.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from migration_tui.model import finite, text
from migration_tui.sources.profiles._common import Reading
from migration_tui.systems.pg_logical import NAME as SYSTEM
from migration_tui.systems.pg_logical import PHASES

#: ``pg_subscription_rel.srsubstate`` in words.
TABLE_STATES = {
    "i": "init",
    "d": "copying",
    "f": "copied",
    "s": "synchronized",
    "r": "ready",
}
COPYING_STATES = frozenset("idf")
APPLY_WORKER = "apply worker"
MIB = 1024 * 1024
#: Bytes and seconds kept as valid: past these a figure from the catalogs is shown as invalid.
MAX_BYTES = 1e16
MAX_SECONDS = 1e9


@dataclass(frozen=True)
class Thresholds:
    """Where the phases turn and the marks open (defaults for a production cutover)."""

    catchup_lag_bytes: float = 16 * MIB
    cutover_lag_bytes: float = 1 * MIB
    cutover_lag_s: float = 5.0
    cutover_hold_s: float = 30.0
    #: The slot mark opens when the slot's lag is past this, or its WAL is no longer reserved.
    slot_behind_bytes: float = 256 * MIB
    #: The apply worker counts as not reporting when its last message is older than this.
    worker_silent_s: float = 90.0


@dataclass
class Subscription:
    """One subscription's rows from both sides (the source fills it; ``None``: not read this poll)."""

    name: str
    enabled: bool | None = None
    slot: str | None = None
    #: (schema, table) -> srsubstate
    tables: dict[tuple[str, str], str] = field(default_factory=dict)
    apply_pid: int | None = None
    #: epoch seconds of the apply worker's last message from the publisher
    last_msg_receipt: float | None = None
    #: (schema, table) -> epoch s of that table's sync worker's last message
    sync_workers: dict[tuple[str, str], float | None] = field(default_factory=dict)
    apply_errors: float | None = None
    sync_errors: float | None = None
    # from the publisher (None when it did not answer, or has no such slot)
    slot_found: bool = False
    slot_active: bool | None = None
    lag_bytes: Any = None
    retained_bytes: Any = None
    confirmed_lsn: Any = None
    wal_status: str | None = None
    lag_s: Any = None
    #: (schema, table) -> (rows, bytes) the publisher's COPY of it has sent so far
    copies: dict[tuple[str, str], tuple[Any, Any]] = field(default_factory=dict)


@dataclass
class Memory:
    """What the source remembers of one subscription between polls (rates, the cutover hold)."""

    confirmed: tuple[float, float] | None = None  # (ts, confirmed LSN as bytes)
    errors: list[tuple[float, float]] = field(default_factory=list)  # (ts, apply + sync errors)
    ok_since: float | None = None
    sync_errors_seen: float | None = None


def table_id(schema: str, table: str) -> str:
    """A table's participant id: ``schema.table`` as the catalogs spell it (shown literally, never quoted)."""
    return f"{schema}.{table}"


def phase_of(
    sub: Subscription, lag_bytes: float | None, cutover_ok: bool, held_s: float, t: Thresholds
) -> tuple[str, str]:
    """The phase and the words saying what moves it on."""
    states = list(sub.tables.values())
    total = len(states)
    copying = sum(1 for s in states if s in COPYING_STATES)
    synchronized = sum(1 for s in states if s == "s")
    if total == 0:
        return PHASES[0], "no tables in the subscription yet; on when the publication's are listed"
    if copying:
        return PHASES[0], f"{copying} of {total} tables still copying; on when all are copied (s or r)"
    if synchronized or (lag_bytes is not None and lag_bytes >= t.catchup_lag_bytes):
        why = f"{synchronized} tables synchronized, not ready" if synchronized else "apply behind the publisher"
        return PHASES[1], f"{why}; on when all tables ready and lag < {_bytes(t.catchup_lag_bytes)}"
    if cutover_ok and held_s >= t.cutover_hold_s:
        return PHASES[3], f"checks held {t.cutover_hold_s:g} s: stop writes on the publisher, wait for lag 0, switch"
    return PHASES[2], f"ready for cutover once every check is ✔ for {t.cutover_hold_s:g} s (held {held_s:.0f} s)"


def _bytes(value: float) -> str:
    return f"{value / MIB:.0f} MiB" if value >= MIB else f"{value:.0f} B"


def read(
    subs: Sequence[Subscription], memory: dict[str, Memory], now: float, publisher_ok: bool, t: Thresholds
) -> Reading:
    """The migrations, participants, breakers and series of one poll (``memory`` is updated in place)."""
    reading = Reading(breakers=[])
    for sub in subs:
        _one(reading, sub, memory.setdefault(sub.name, Memory()), now, publisher_ok, t)
    for gone in set(memory) - {sub.name for sub in subs}:
        del memory[gone]
    return reading


def _number(value: Any, hi: float, invalid: list[str], key: str, lo: float = 0.0) -> float | None:
    if value is None:
        return None
    number = finite(float(value) if not isinstance(value, (bool, str)) else value, lo, hi)
    if number is None:
        invalid.append(f"details.{key}")
    return number


def _one(reading: Reading, sub: Subscription, mem: Memory, now: float, publisher_ok: bool, t: Thresholds) -> None:
    invalid: list[str] = []
    name = sub.name
    lag_bytes = _number(sub.lag_bytes, MAX_BYTES, invalid, "lag_bytes")
    retained = _number(sub.retained_bytes, MAX_BYTES, invalid, "retained_wal_bytes")
    lag_s = _number(sub.lag_s, MAX_SECONDS, invalid, "lag_s")
    if lag_s is None and lag_bytes == 0 and "details.lag_s" not in invalid:
        lag_s = 0.0  # caught up: PostgreSQL clears replay_lag when there is nothing to wait for
    confirmed = _number(sub.confirmed_lsn, MAX_BYTES, invalid, "apply_rate_bps")
    rate = None
    if confirmed is not None:
        if mem.confirmed is not None and now > mem.confirmed[0] and confirmed >= mem.confirmed[1]:
            rate = (confirmed - mem.confirmed[1]) / (now - mem.confirmed[0])
        mem.confirmed = (now, confirmed)
    apply_errors = _number(sub.apply_errors, 1e13, invalid, "apply_errors")
    sync_errors = _number(sub.sync_errors, 1e13, invalid, "sync_errors")
    new_errors = None
    if apply_errors is not None and sync_errors is not None:
        mem.errors = [(ts, n) for ts, n in mem.errors if ts >= now - 60.0] + [(now, apply_errors + sync_errors)]
        new_errors = mem.errors[-1][1] - mem.errors[0][1]
    sync_error_rose = (
        sync_errors is not None and mem.sync_errors_seen is not None and sync_errors > mem.sync_errors_seen
    )
    if sync_errors is not None:
        mem.sync_errors_seen = sync_errors
    heartbeat_age = None if sub.last_msg_receipt is None else max(0.0, now - sub.last_msg_receipt)
    running = sub.apply_pid is not None
    cutover_ok = bool(
        sub.enabled
        and running
        and publisher_ok
        and lag_bytes is not None
        and lag_bytes < min(t.cutover_lag_bytes, t.catchup_lag_bytes)  # never while catching up
        and (lag_s is None or lag_s < t.cutover_lag_s)
        and not new_errors
        and all(state == "r" for state in sub.tables.values())
    )
    if cutover_ok:
        mem.ok_since = now if mem.ok_since is None else mem.ok_since
    else:
        mem.ok_since = None
    held = 0.0 if mem.ok_since is None else now - mem.ok_since
    phase, next_condition = phase_of(sub, lag_bytes, cutover_ok, held, t)

    states = sub.tables
    total = len(states)
    ready = sum(1 for s in states.values() if s == "r")
    ours = [sub.copies[key] for key in states if key in sub.copies]
    rows_copied = sum(int(r or 0) for r, _ in ours) if ours else None
    bytes_copied = sum(int(b or 0) for _, b in ours) if ours else None
    details: dict[str, Any] = {
        "tables_total": total,
        "tables_ready": ready,
        "tables_copying": sum(1 for s in states.values() if s in COPYING_STATES),
        "tables_synchronized": sum(1 for s in states.values() if s == "s"),
        "rows_copied": rows_copied,
        "bytes_copied": bytes_copied,
        "lag_bytes": lag_bytes,
        "lag_s": lag_s,
        "retained_wal_bytes": retained,
        "apply_rate_bps": rate,
        "apply_errors": apply_errors,
        "sync_errors": sync_errors,
        "new_errors": new_errors,
        "heartbeat_age_s": heartbeat_age,
        "enabled": sub.enabled,
        "worker_running": running,
        "slot": text(sub.slot) or None,
        "slot_active": sub.slot_active,
        "wal_status": text(sub.wal_status) or None,
        "publisher_ok": publisher_ok,
        "held_s": held,
        "next_condition": next_condition,
    }
    if publisher_ok and not sub.slot_found:
        details["slot"] = f"{text(sub.slot)} (not on the publisher)" if sub.slot else "none"
    unhealthy = (
        sub.enabled is False
        or not running
        or bool(new_errors)
        or (heartbeat_age is not None and heartbeat_age > t.worker_silent_s)
    )
    reading.migrations.append(
        {
            "id": name,
            "system": SYSTEM,
            "status": "paused" if sub.enabled is False else "in_progress",
            "phase": phase,
            "progress": 100.0 * ready / total if total else None,
            "health": "DEGRADED" if unhealthy else "HEALTHY",
            "details": details,
            "invalid": invalid,
        }
    )
    participants = []
    for (schema, table), state in states.items():
        # A table's heartbeat is the worker that moves it on: its sync worker while it copies, then
        # the apply worker (a synchronized or ready table is kept up by the apply). Before, a ready
        # table kept its finished sync worker's last message and its age grew as if it were lost.
        worker_seen = sub.sync_workers.get((schema, table))
        if worker_seen is None and state in ("s", "r"):
            worker_seen = sub.last_msg_receipt
        participants.append(
            {
                "id": table_id(schema, table),
                "type": "table",
                "vote": TABLE_STATES.get(state, f"state {text(state, '?', 4)}"),
                "healthy": not (sync_error_rose and state != "r"),
                "last_heartbeat": worker_seen,
            }
        )
    participants.append(
        {
            "id": APPLY_WORKER,
            "type": "worker",
            "vote": "running" if running else "disabled" if sub.enabled is False else "not running",
            "healthy": running and (heartbeat_age is None or heartbeat_age <= t.worker_silent_s),
            "last_heartbeat": sub.last_msg_receipt,
        }
    )
    reading.participants[name] = participants
    assert reading.breakers is not None
    reading.breakers.append(
        {
            "name": f"{name} subscription",
            "state": "open" if sub.enabled is False else "closed",
            "reason": "subscription disabled: nothing is applied (resume = ALTER SUBSCRIPTION … ENABLE)"
            if sub.enabled is False
            else "",
        }
    )
    behind = (lag_bytes is not None and lag_bytes > t.slot_behind_bytes) or (sub.wal_status in ("unreserved", "lost"))
    reason = ""
    if behind:
        reason = (
            f"slot WAL {sub.wal_status}: the subscriber may never catch up"
            if sub.wal_status in ("unreserved", "lost")
            else f"slot {_bytes(lag_bytes or 0)} behind (over {_bytes(t.slot_behind_bytes)})"
        )
    reading.breakers.append({"name": f"{name} slot", "state": "open" if behind else "closed", "reason": reason})
    # series name -> (value, the detail it comes from): sizes in MiB, so a limit reads "64 MiB"
    series = {
        "lag_mib": (None if lag_bytes is None else lag_bytes / MIB, "lag_bytes"),
        "lag_s": (lag_s, "lag_s"),
        "apply_mib_s": (None if rate is None else rate / MIB, "apply_rate_bps"),
        "apply_errors": (apply_errors, "apply_errors"),
        "sync_errors": (sync_errors, "sync_errors"),
        "new_errors": (new_errors, "new_errors"),
        "retained_wal_mib": (None if retained is None else retained / MIB, "retained_wal_bytes"),
        "heartbeat_age_s": (heartbeat_age, "heartbeat_age_s"),
        "progress_pct": (100.0 * ready / total if total else None, "tables_ready"),
    }
    for key, (value, detail) in series.items():
        if value is not None:
            reading.metrics[f"{name}/{key}"] = value
        elif f"details.{detail}" in invalid:
            reading.metrics[f"{name}/{key}"] = None
            reading.metrics_invalid.append(f"{name}/{key}")
