"""Record sample_data/pg-logical.jsonl.gz: a real logical-replication run between two real PostgreSQL clusters.

    .venv/bin/python scripts/make_pg_sample.py [--out sample_data/pg-logical.jsonl.gz]

Starts two clusters (initdb, ``wal_level = logical``) on free loopback ports in
temporary directories, as the test fixtures do (tests/servers.py; as root they
run as an unprivileged user), creates four tables with rows on the publisher, a
publication of them and a subscription on the other cluster, and drives a
write load on the publisher during the initial copy and after it. The real
pg-logical source polls both once a second and the real recorder writes every
event; mid-run an operator pauses the subscription and resumes it (the real
action client: ALTER SUBSCRIPTION … DISABLE / ENABLE), so the replay shows the
lag growing while it is paused and the catch-up after. Stops once the
subscription has been ready for cutover for a while, then stops the clusters.

Not deterministic (it is a real run): each run makes a different file.
The password of the test clusters is scrubbed from the recording.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from migration_tui.actions import AuditLog, Decision  # noqa: E402
from migration_tui.events import Event  # noqa: E402
from migration_tui.recording import RecordingWriter  # noqa: E402
from migration_tui.systems.pg_logical.actions import PgActionClient  # noqa: E402
from migration_tui.systems.pg_logical.reading import Thresholds  # noqa: E402
from migration_tui.systems.pg_logical.source import PgLogicalSource  # noqa: E402
from tests.servers import PG_PASSWORD, PgCluster, Replication, _pg_bindir  # noqa: E402

SUBSCRIPTION = "orders_move"
TABLES = {"orders": 1_500_000, "customers": 50_000, "items": 100_000, "payments": 200_000}
PAUSE_AT_S, RESUME_AT_S, LOAD_UNTIL_S = 40.0, 60.0, 75.0
TAIL_S = 20.0
MAX_S = 300.0


async def run(out: Path, poll_s: float) -> str:
    bindir = _pg_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed: scripts/install-servers.sh")
    workdirs = [Path(tempfile.mkdtemp(prefix=f"pg-sample-{side}-")) for side in ("publisher", "subscriber")]
    publisher, subscriber = (
        PgCluster(w, bindir, side) for w, side in zip(workdirs, ("publisher", "subscriber"), strict=True)
    )
    replication = Replication(publisher, subscriber, "shop")
    try:
        publisher.start(timeout=30)
        subscriber.start(timeout=30)
        replication.create(list(TABLES), rows=1000, publication="shop_pub")
        for table, rows in TABLES.items():
            replication.pub_sql(
                f'insert into "{table}" (payload) select md5(g::text) from generate_series(1, %s) g', (rows,)
            )
        plain = out.with_suffix("") if out.suffix == ".gz" else out
        with tempfile.TemporaryDirectory() as tmp:
            recorded = Path(tmp) / plain.name
            with RecordingWriter(recorded, secrets=(PG_PASSWORD,), meta={"made_by": "scripts/make_pg_sample.py"}) as w:
                summary = await _record(replication, w.write, Path(tmp) / "audit.jsonl", poll_s)
            data = recorded.read_bytes()
        assert PG_PASSWORD.encode() not in data
        out.write_bytes(gzip.compress(data, mtime=0) if out.suffix == ".gz" else data)
        return summary
    finally:
        for cluster in (publisher, subscriber):
            cluster.stop()
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)


async def _record(replication: Replication, write, audit_path: Path, poll_s: float) -> str:
    source = PgLogicalSource(
        replication.publisher_dsn(),
        replication.subscriber_dsn(),
        poll_interval_s=poll_s,
        thresholds=Thresholds(cutover_hold_s=10.0),
    )
    phases: list[str] = []

    def emit(event: Event) -> None:
        write(event)
        if event.kind == "migration" and (not phases or phases[-1] != event.data["phase"]):
            phases.append(event.data["phase"])

    actions = PgActionClient(replication.subscriber_dsn(), AuditLog(audit_path), emit, secrets=(PG_PASSWORD,))
    task = asyncio.create_task(source.run(emit))
    replication.subscribe(SUBSCRIPTION, publication="shop_pub")
    started = time.monotonic()
    load = replication.load(rows_per_batch=500)
    load.__enter__()
    done: set[str] = set()
    ready_since: float | None = None
    try:
        while time.monotonic() - started < MAX_S:
            await asyncio.sleep(0.5)
            elapsed = time.monotonic() - started
            for action, at in (("pause", PAUSE_AT_S), ("resume", RESUME_AT_S)):
                if elapsed >= at and action not in done:
                    done.add(action)
                    decision = Decision(action, SUBSCRIPTION, f"sample: {action} during the write load")
                    for stage in ("opened", "confirmed"):
                        actions.record(stage, decision)
                    await actions.send(decision)
            if elapsed >= LOAD_UNTIL_S and "load" not in done:
                done.add("load")
                await asyncio.to_thread(load.stop)
            if "load" in done and phases and phases[-1] == "ready for cutover":
                ready_since = ready_since or time.monotonic()
                if time.monotonic() - ready_since >= TAIL_S:
                    break
    finally:
        await asyncio.to_thread(load.stop)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return f"{time.monotonic() - started:.0f} s, phases: {' -> '.join(phases)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "sample_data" / "pg-logical.jsonl.gz"))
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls (default: 1)")
    args = parser.parse_args()
    print(asyncio.run(run(Path(args.out), args.poll)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
