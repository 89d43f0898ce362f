"""The cost of polling pg-logical: statements per poll and their time on the servers, at 10 and 1,000 tables.

    .venv/bin/python benchmarks/pg_poll_cost.py [--tables 10 1000] [--polls 20]

Two real PostgreSQL clusters (tests/servers.py, ``wal_level = logical``) with
``pg_stat_statements`` preloaded. For each table count: a database on both,
that many tables of 100 rows, a publication of them all and a subscription,
waited for until every table is ready (``srsubstate = 'r'``). Then
``pg_stat_statements_reset()`` on both sides, ``--polls`` polls of the real
``PgLogicalSource.poll_once`` one after the other, and ``pg_stat_statements``
read on each side: calls and ``total_exec_time`` of the source's statements
(the rows whose query is one of ``source.QUERIES``), per poll. The time a poll
takes as the client sees it (loopback, psycopg) is measured around each call.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, stamp

sys.path.insert(0, str(ROOT))

from migration_tui.systems.pg_logical.source import PgLogicalSource  # noqa: E402
from tests.servers import PgCluster, Replication, _pg_bindir, wait_for  # noqa: E402

STATS = """
select calls, total_exec_time from pg_stat_statements
where dbid = (select oid from pg_database where datname = current_database())
  and query not ilike '%pg_stat_statements%'
"""


def measure(replication: Replication, tables: int, polls: int) -> dict[str, float]:
    names = [f"t{i:04d}" for i in range(tables)]
    replication.create(names, rows=100)
    for cluster in (replication.publisher, replication.subscriber):
        cluster.sql("create extension if not exists pg_stat_statements", dbname=replication.dbname)
    replication.subscribe()

    def ready() -> bool:
        count = replication.sub_sql("select count(*) from pg_subscription_rel where srsubstate = 'r'")[0][0]
        return count == tables

    started = time.monotonic()
    wait_for(ready, timeout=900, interval=1.0)
    sync_s = time.monotonic() - started
    source = PgLogicalSource(replication.publisher_dsn(), replication.subscriber_dsn())

    async def run() -> list[float]:
        events: list = []
        await source.poll_once(events.append)  # connect first: connections are kept between polls
        for sql in (replication.pub_sql, replication.sub_sql):
            sql("select pg_stat_statements_reset()")
        times = []
        for _ in range(polls):
            t0 = time.perf_counter()
            await source.poll_once(events.append)
            times.append(time.perf_counter() - t0)
        await source.close()
        assert not [e for e in events if e.kind == "source_error"], "a poll failed"
        return times

    times = asyncio.run(run())
    result = {"tables": tables, "sync_s": sync_s, "client_ms": 1000 * sorted(times)[len(times) // 2]}
    for side, sql in (("subscriber", replication.sub_sql), ("publisher", replication.pub_sql)):
        rows = sql(STATS)
        result[f"{side}_statements"] = sum(calls for calls, _ in rows) / polls
        result[f"{side}_ms"] = sum(total for _, total in rows) / polls
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--polls", type=int, default=20)
    args = parser.parse_args()
    bindir = _pg_bindir()
    if bindir is None:
        print("PostgreSQL is not installed: scripts/install-servers.sh", file=sys.stderr)
        return 2
    settings = {
        "shared_preload_libraries": "pg_stat_statements",
        "max_sync_workers_per_subscription": "4",
        "max_worker_processes": "16",
        "max_locks_per_transaction": "256",
    }
    workdirs = [Path(tempfile.mkdtemp(prefix=f"pg-bench-{side}-")) for side in ("publisher", "subscriber")]
    clusters = [
        PgCluster(w, bindir, side, settings) for w, side in zip(workdirs, ("publisher", "subscriber"), strict=True)
    ]
    print(f"# {stamp()}")
    print(
        "| tables | statements per poll (subscriber + publisher) | server time per poll, subscriber | publisher | poll as the client sees it (median) | initial sync took |"
    )
    print("|---|---|---|---|---|---|")
    try:
        for cluster in clusters:
            cluster.start(timeout=30)
        for tables in args.tables:
            replication = Replication(clusters[0], clusters[1], f"bench_{tables}")
            try:
                r = measure(replication, tables, args.polls)
            finally:
                replication.drop()
            print(
                f"| {tables:,} | {r['subscriber_statements']:g} + {r['publisher_statements']:g} "
                f"| {r['subscriber_ms']:.2f} ms | {r['publisher_ms']:.2f} ms | {r['client_ms']:.1f} ms | {r['sync_s']:.0f} s |",
                flush=True,
            )
    finally:
        for cluster in clusters:
            cluster.stop()
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
