"""Heartbeat latency: from an XADD to Redis to the participant's cell changing on screen.

    .venv/bin/python benchmarks/heartbeat_latency.py [--samples 200] [--reps 3]

A real redis-server (tests/servers.py) on a free loopback port; the simulator
(``start_in_thread("2pc-commit", redis_url=..., clock=VirtualClock())``) serving
the controller API over a real socket, its clock held still so that the only
heartbeats are ours and the controller keeps reporting each participant's
heartbeat as old; the app in-process under Textual's ``run_test()`` at 120x40
with the sources ``watch`` builds (ControllerSource + RedisSource) in a
``LiveFeed``, on the Participants tab.

Each sample picks a participant whose cell shows the controller's old heartbeat
(the controller's poll puts it back every 2 s), waits a random 0-250 ms (a
heartbeat's arrival has no relation to the dashboard's repaints), XADDs ``migration-tui:heartbeats``
``{migration_id, participant_id, at=now}`` and times:

* ``cell``: until the table's heartbeat cell for it reads ``0s`` (the widget's
  data; timed by wrapping the table's ``update_cell``),
* ``frame``: until the first frame the compositor produced with it so
  (timed in ``App._display``; the headless driver drops the bytes, so this is
  the frame that would be written, not the terminal showing it).

Each run takes ``--samples`` samples; the figures are the medians over
``--reps`` runs of each run's p50 / p95 / max (every run is kept in the output).
Target (live sources): p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, stamp

sys.path.insert(0, str(ROOT))

STREAM = "migration-tui:heartbeats"
FRESH = ("0s",)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def summary(values_s: list[float | None]) -> dict:
    ms = [v * 1000 for v in values_s if v is not None]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
    }


async def run(kind: str, samples: int, redis_url: str, poll_s: float) -> dict:
    import redis

    from migration_tui.feeds import LiveFeed
    from migration_tui.sim.clock import VirtualClock
    from migration_tui.sim.server import start_in_thread
    from migration_tui.sources.controller import ControllerSource
    from migration_tui.sources.redis import RedisSource
    from migration_tui.ui.app import MigrationApp
    from migration_tui.ui.widgets import ParticipantsTable

    # What the hooks saw for the participant being timed: when its cell turned fresh in the
    # table's data, and the first frame composed while it was fresh.
    watch: dict = {"pid": None, "cell": None, "frame": None}
    holder: dict = {}

    def fresh(pid: str) -> bool:
        try:
            return str(holder["table"].get_cell(pid, "heartbeat")) in FRESH
        except Exception:  # noqa: BLE001 - no table or row (yet)
            return False

    class Timed(MigrationApp):
        def _display(self, screen, renderable) -> None:  # type: ignore[override]
            super()._display(screen, renderable)
            pid = watch["pid"]
            if renderable is not None and pid and watch["frame"] is None and fresh(pid):
                watch["frame"] = time.perf_counter()

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.delete(STREAM)
    sim = start_in_thread("2pc-commit", redis_url=redis_url, clock=VirtualClock())
    try:
        sources = [
            ControllerSource(sim.url, profile="trading-service", poll_interval_s=poll_s),
            RedisSource(redis_url, poll_interval_s=poll_s),
        ]
        app = Timed(LiveFeed(sources, mode="LIVE"))
        async with app.run_test(size=(120, 40)) as pilot:
            # The tabs after the Overview are filled just after the first frame (a98a20f).
            deadline = time.monotonic() + 20
            while not app.dashboard.query(ParticipantsTable) and time.monotonic() < deadline:
                await pilot.pause(0.05)
            app.dashboard.action_show_tab("participants")
            table = app.dashboard.query_one(ParticipantsTable)
            migration_id = None
            while time.monotonic() < deadline:
                migration = app.dashboard.selected_migration
                if migration is not None and len(table.shown_ids) >= 4:
                    migration_id = migration.id
                    break
                await pilot.pause(0.05)
            if migration_id is None:
                raise RuntimeError("the participants never showed up")
            ids = list(table.shown_ids)
            holder["table"] = table
            update_cell = table.update_cell

            def timed_update_cell(*args, **kwargs):
                update_cell(*args, **kwargs)
                pid = watch["pid"]
                if pid and watch["cell"] is None and fresh(pid):
                    watch["cell"] = time.perf_counter()

            table.update_cell = timed_update_cell

            cell_s: list[float] = []
            frame_s: list[float | None] = []
            timeouts = 0
            turn = 0
            rng = random.Random(1)
            while len(cell_s) < samples:
                pid = ids[turn % len(ids)]
                turn += 1
                # wait until the controller's poll has put the old heartbeat back
                until = time.monotonic() + 3 * poll_s + 2
                while fresh(pid) and time.monotonic() < until:
                    await asyncio.sleep(0.01)
                # a heartbeat comes when it comes: a random phase against the last repaint
                await asyncio.sleep(rng.uniform(0.0, 0.25))
                watch.update(pid=pid, cell=None, frame=None)
                t0 = time.perf_counter()
                client.xadd(STREAM, {"migration_id": migration_id, "participant_id": pid, "at": repr(time.time())})
                limit = t0 + 2.0
                while watch["frame"] is None and time.perf_counter() < limit:
                    await asyncio.sleep(0.005)
                watch["pid"] = None
                if watch["cell"] is None:
                    timeouts += 1  # a controller poll landed in between and put the old value back
                    continue
                cell_s.append(watch["cell"] - t0)
                frame_s.append(None if watch["frame"] is None else watch["frame"] - t0)
    finally:
        sim.stop()
        client.close()
    return {
        "feed": kind,
        "cell": summary(cell_s),
        "frame": summary(frame_s),
        "discarded": timeouts,
        "cell_samples_ms": [round(v * 1000, 1) for v in cell_s],
        "frame_samples_ms": [None if v is None else round(v * 1000, 1) for v in frame_s],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3, help="runs of --samples each; medians of their figures")
    parser.add_argument("--poll", type=float, default=2.0, help="controller and Redis health poll interval, s")
    args = parser.parse_args()
    from tests.servers import RedisServer

    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (Debian package redis-server)")
    results: dict = {"samples": args.samples, "size": "120x40", "poll_s": args.poll, "target": "p95 <= 100 ms"}
    kinds = ("shipped",)
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), binary)
        server.start()
        try:
            runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
            for rep in range(args.reps):
                for kind in kinds:
                    runs[kind].append(asyncio.run(run(kind, args.samples, server.url, args.poll)))
                    brief = {key: runs[kind][-1][key] for key in ("cell", "frame", "discarded")}
                    print(f"  {kind} #{rep + 1}: {json.dumps(brief)}", file=sys.stderr, flush=True)
            for kind in kinds:
                results[kind] = {
                    what: {
                        key: round(statistics.median(r[what][key] for r in runs[kind]), 1)
                        for key in ("p50_ms", "p95_ms", "max_ms")
                    }
                    for what in ("cell", "frame")
                }
                results[kind]["runs"] = runs[kind]
        finally:
            server.stop()
    results.update(stamp())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
