"""The pg-logical source against two real PostgreSQL clusters: phases, lag, copy progress, failures."""

from __future__ import annotations

import asyncio
import threading
import time

import psycopg
import pytest

from migration_tui.systems.pg_logical.reading import PHASES
from tests.pg.helpers import watching
from tests.servers import Replication, async_wait_for

pytestmark = pytest.mark.postgres


async def test_every_phase_in_order_and_the_copy_progress_moves(pg_replication: Replication) -> None:
    pg_replication.create(["alpha", "beta", "gamma"], rows=2000)
    # One big table, so that its initial copy takes a few polls.
    pg_replication.pub_sql("create table big (id bigserial primary key, payload text not null)")
    pg_replication.sub_sql("create table big (id bigserial primary key, payload text not null)")
    pg_replication.pub_sql("insert into big (payload) select md5(g::text) from generate_series(1, 600000) g")
    pg_replication.pub_sql("alter publication mig_pub add table big")
    async with watching(pg_replication, poll_s=0.1) as watched:
        pg_replication.subscribe()
        with pg_replication.load(rows_per_batch=200):
            await async_wait_for(lambda: (watched.latest("mig_sub") or {}).get("phase") == "streaming", timeout=90)
        await async_wait_for(lambda: watched.latest("mig_sub")["phase"] == "ready for cutover", timeout=60)
    phases = watched.phases("mig_sub")
    assert phases[0] == "initial copy" and phases[-1] == "ready for cutover"
    assert "streaming" in phases
    indices = [PHASES.index(phase) for phase in phases]
    assert indices == sorted(indices), phases  # never back, never out of order
    copied = sorted({m["details"]["rows_copied"] for m in watched.migrations("mig_sub")} - {None})
    assert len(copied) >= 2 and copied[-1] > copied[0], copied  # the copy's rows moved between polls
    final = watched.latest("mig_sub")
    assert final["progress"] == 100.0 and final["details"]["tables_ready"] == 4
    participants = {p.id: p for p in watched.store.participants_of("mig_sub")}
    assert participants["public.big"].vote == "ready" and participants["apply worker"].vote == "running"
    assert participants["apply worker"].last_heartbeat is not None


def _hold_lock(replication: Replication, table: str, seconds: float) -> threading.Thread:
    """An ACCESS EXCLUSIVE lock on a subscriber table for ``seconds``: the apply worker waits behind it."""

    def hold() -> None:
        with psycopg.connect(replication.subscriber_dsn()) as conn:
            conn.execute(f"lock table {table} in access exclusive mode")
            time.sleep(seconds)
            conn.rollback()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    return thread


async def test_lag_rises_under_load_and_falls_after(pg_replication: Replication) -> None:
    pg_replication.create(["alpha", "beta", "gamma"], rows=100)
    pg_replication.subscribe()
    async with watching(pg_replication, poll_s=0.2) as watched:
        await async_wait_for(lambda: (watched.latest("mig_sub") or {}).get("phase") == "ready for cutover", timeout=60)
        at_rest = len(watched.values("mig_sub/lag_mib"))
        with pg_replication.load(rows_per_batch=2000):
            locker = _hold_lock(pg_replication, '"alpha"', 3.0)  # a long lock on the subscriber, as DDL takes
            await async_wait_for(lambda: max(watched.values("mig_sub/lag_mib")[at_rest:] or [0]) > 1.0)
            await asyncio.to_thread(locker.join)
        under_load = max(watched.values("mig_sub/lag_mib")[at_rest:])
        assert watched.latest("mig_sub")["phase"] != "ready for cutover" or under_load < 1.0
        await async_wait_for(lambda: watched.values("mig_sub/lag_mib")[-1] < 1 / 16, timeout=60)
        await async_wait_for(lambda: watched.latest("mig_sub")["phase"] == "ready for cutover", timeout=60)
    assert under_load > 1.0  # MiB
    assert watched.values("mig_sub/lag_s"), "no lag in seconds was ever read"
    assert max(watched.values("mig_sub/apply_mib_s")) > 0


async def test_a_stopped_publisher_is_failing_within_two_polls_and_recovers(pg_replication: Replication) -> None:
    pg_replication.create(["alpha", "beta"], rows=100)
    pg_replication.subscribe()
    poll_s = 0.5
    async with watching(pg_replication, poll_s=poll_s) as watched:
        await async_wait_for(lambda: (watched.latest("mig_sub") or {}).get("phase") == "ready for cutover", timeout=60)
        assert watched.store.source(watched.source.name).ok()
        stopped = time.monotonic()
        await asyncio.to_thread(pg_replication.publisher.stop)
        await async_wait_for(lambda: not watched.store.source(watched.source.name).ok(), timeout=10)
        assert time.monotonic() - stopped <= 2 * poll_s
        error = watched.store.source(watched.source.name).error
        assert error.startswith("publisher:"), error
        latest = watched.latest("mig_sub")
        assert latest["details"]["publisher_ok"] is False and latest["details"]["lag_bytes"] is None
        assert latest["phase"] == "streaming"  # never "ready for cutover" while the lag cannot be read
        await asyncio.to_thread(pg_replication.publisher.start, 30)
        await async_wait_for(lambda: watched.store.source(watched.source.name).ok(), timeout=30)
        await async_wait_for(lambda: watched.latest("mig_sub")["details"]["publisher_ok"] is True, timeout=30)


async def test_a_stopped_subscriber_is_failing_and_recovers(pg_replication: Replication) -> None:
    pg_replication.create(["alpha"], rows=10)
    pg_replication.subscribe()
    async with watching(pg_replication, poll_s=0.3) as watched:
        await async_wait_for(lambda: watched.latest("mig_sub") is not None, timeout=30)
        await asyncio.to_thread(pg_replication.subscriber.stop)
        await async_wait_for(lambda: not watched.store.source(watched.source.name).ok(), timeout=10)
        assert watched.store.source(watched.source.name).error.startswith("subscriber:")
        await asyncio.to_thread(pg_replication.subscriber.start, 30)
        await async_wait_for(lambda: watched.store.source(watched.source.name).ok(), timeout=60)
