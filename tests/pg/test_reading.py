"""The pure part of pg-logical: catalog rows to phases, progress, participants, marks and series."""

from __future__ import annotations

import math
from decimal import Decimal

from migration_tui.model import Migration
from migration_tui.systems.pg_logical.reading import MIB, Memory, Subscription, Thresholds, read

T = Thresholds(cutover_hold_s=10.0)


def sub(states: str, **kw) -> Subscription:
    tables = {("public", f"t{i}"): state for i, state in enumerate(states)}
    defaults = dict(enabled=True, slot="s", apply_pid=42, last_msg_receipt=99.0, apply_errors=0, sync_errors=0)
    defaults.update(slot_found=True, slot_active=True, lag_bytes=0, retained_bytes=100, confirmed_lsn=1000)
    defaults.update(kw)
    return Subscription("s", tables=tables, **defaults)


def one(subscription: Subscription, memory: dict | None = None, now: float = 100.0, publisher_ok: bool = True):
    reading = read([subscription], {} if memory is None else memory, now, publisher_ok, T)
    return reading, Migration.from_dict(reading.migrations[0])


def test_each_phase_and_what_moves_it_on() -> None:
    assert one(sub("rdi"))[1].phase == "initial copy"
    assert "2 of 3 tables still copying" in one(sub("rdi"))[1].details["next_condition"]
    assert "lag < 16 MiB" in one(sub("rrs"))[1].details["next_condition"]
    assert one(sub("rrs"))[1].phase == "catching up"
    assert one(sub("rrr", lag_bytes=32 * MIB))[1].phase == "catching up"
    memory: dict = {}
    assert one(sub("rrr"), memory, now=100.0)[1].phase == "streaming"
    assert one(sub("rrr"), memory, now=105.0)[1].phase == "streaming"
    assert one(sub("rrr"), memory, now=110.0)[1].phase == "ready for cutover"
    # one broken condition (lag over 1 MiB) and the hold starts again
    assert one(sub("rrr", lag_bytes=2 * MIB), memory, now=111.0)[1].phase == "streaming"
    assert one(sub("rrr"), memory, now=112.0)[1].phase == "streaming"


def test_progress_is_tables_ready_over_tables() -> None:
    _, migration = one(sub("rrdi"))
    assert migration.progress == 50.0
    assert migration.details["tables_ready"] == 2 and migration.details["tables_copying"] == 2


def test_a_disabled_subscription_is_paused_with_its_mark_open() -> None:
    reading, migration = one(sub("rrr", enabled=False, apply_pid=None))
    assert migration.status == "paused" and migration.phase == "streaming"
    marks = {b["name"]: b for b in reading.breakers}
    assert marks["s subscription"]["state"] == "open" and "ENABLE" in marks["s subscription"]["reason"]
    worker = reading.participants["s"][-1]
    assert worker["vote"] == "disabled" and worker["healthy"] is False


def test_a_slot_falling_behind_or_losing_its_wal_opens_the_slot_mark() -> None:
    assert {b["name"]: b["state"] for b in one(sub("r", lag_bytes=300 * MIB))[0].breakers}["s slot"] == "open"
    assert {b["name"]: b["state"] for b in one(sub("r", wal_status="lost"))[0].breakers}["s slot"] == "open"
    assert {b["name"]: b["state"] for b in one(sub("r"))[0].breakers}["s slot"] == "closed"


def test_new_errors_count_the_last_minute_and_mark_copying_tables_unhealthy() -> None:
    memory: dict[str, Memory] = {}
    one(sub("rd"), memory, now=100.0)
    reading, migration = one(sub("rd", sync_errors=3), memory, now=101.0)
    assert migration.details["new_errors"] == 3 and migration.health == "DEGRADED"
    healthy = {p["id"]: p["healthy"] for p in reading.participants["s"]}
    assert healthy == {"public.t0": True, "public.t1": False, "apply worker": True}
    assert one(sub("rd", sync_errors=3), memory, now=200.0)[1].details["new_errors"] == 0


def test_the_apply_rate_is_the_confirmed_position_per_second() -> None:
    memory: dict[str, Memory] = {}
    one(sub("r", confirmed_lsn=Decimal(1000)), memory, now=100.0)
    reading, migration = one(sub("r", confirmed_lsn=Decimal(5000)), memory, now=102.0)
    assert migration.details["apply_rate_bps"] == 2000.0 and reading.metrics["s/apply_mib_s"] == 2000.0 / MIB


def test_nan_infinite_and_negative_figures_are_invalid_not_shown() -> None:
    reading, migration = one(sub("r", lag_bytes=Decimal("NaN"), lag_s=math.inf, retained_bytes=-5))
    assert migration.details["lag_bytes"] is None and "details.lag_bytes" in migration.invalid
    assert "details.lag_s" in migration.invalid and "details.retained_wal_bytes" in migration.invalid
    assert reading.metrics["s/lag_mib"] is None and "s/lag_mib" in reading.metrics_invalid
    assert migration.phase == "streaming"  # never ready for cutover on a lag that cannot be read


def test_the_publisher_not_answering_never_reads_as_ready() -> None:
    memory: dict[str, Memory] = {}
    one(sub("rr"), memory, now=100.0)
    _, migration = one(sub("rr", lag_bytes=None, slot_found=False), memory, now=200.0, publisher_ok=False)
    assert migration.phase == "streaming" and migration.details["publisher_ok"] is False


def test_the_hold_never_counts_while_catching_up() -> None:
    low = Thresholds(catchup_lag_bytes=2048, cutover_hold_s=10.0)
    memory: dict[str, Memory] = {}
    for now in (100.0, 105.0, 111.0):  # caught up behind by 4 kB: catching up, however long
        migration = Migration.from_dict(read([sub("rr", lag_bytes=4096)], memory, now, True, low).migrations[0])
        assert migration.phase == "catching up"
    migration = Migration.from_dict(read([sub("rr", lag_bytes=0)], memory, 112.0, True, low).migrations[0])
    assert migration.phase == "streaming" and migration.details["held_s"] == 0.0


def test_a_table_is_heard_through_the_worker_that_moves_it_on() -> None:
    """While it copies, its sync worker's last message; once synchronized or ready, the apply
    worker's: a ready table's age must not grow from a sync worker that has finished."""
    subscription = sub("dri", last_msg_receipt=97.0, sync_workers={("public", "t0"): 95.0})
    reading, _ = one(subscription)
    heard = {p["id"]: p["last_heartbeat"] for p in reading.participants["s"]}
    assert heard == {"public.t0": 95.0, "public.t1": 97.0, "public.t2": None, "apply worker": 97.0}
