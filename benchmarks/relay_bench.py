"""The relay (issue 18): one poller and fifty viewers against one simulated controller.

    .venv/bin/python benchmarks/relay_bench.py [--seconds 20] [--viewers 50] [--dashboards 2] [--reps 2]

Starts a real redis-server (a temporary directory, a free port) and the 2pc-commit simulator over
HTTP (in this process, its requests counted), then measures, each in the same run:

1. Requests per second reaching the controller: one directly polling source (what one `watch`
   makes), then the relay with N viewers reading from Redis (target: the same).
2. Event latency from the relay's XADD (the stream entry's id is Redis' clock at the XADD) to a
   viewer's having the event, over the headless viewers (a separate process): p50/p95/p99
   (target p95 <= 50 ms).
3. A viewer's CPU: `watch --relay` against `watch --controller` in a 120x40 pseudo-terminal under
   measure_tui.py, alternately, `--reps` times; medians (target <= 1x). Two of the N viewers.
4. Redis memory: the stream's bytes per entry (MEMORY USAGE / XLEN) and the five-system demo
   estate's events per second, run through a relay for `--seconds`; one hour with the
   stream trimmed at MAXLEN ~100,000.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from _common import PY, ROOT, byte_compile, measure, median_of, ours

sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Redis:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="relay-bench-")
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def counted_simulator():
    """The 2pc-commit simulator over HTTP, counting the requests it answers."""
    from migration_tui.sim.server import start_in_thread

    sim = start_in_thread("2pc-commit")
    counter = {"n": 0}
    lock = threading.Lock()
    handle = sim.controller.handle

    def counting(*args, **kwargs):
        with lock:
            counter["n"] += 1
        return handle(*args, **kwargs)

    sim.controller.handle = counting
    return sim, counter


async def _run_for(seconds: float, *coroutines) -> None:
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.sleep(seconds)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def controller_rate(seconds: float, url: str, counter: dict, redis_url: str | None, viewers: int) -> float:
    """Requests/s at the controller: one direct poller, or (with ``redis_url``) the relay and ``viewers``."""
    from migration_tui.relay import Relay
    from migration_tui.sources.controller import ControllerSource

    async def direct() -> None:
        await ControllerSource(url, poll_interval_s=1.0).run(lambda event: None)

    readers = None
    if redis_url:
        readers = subprocess.Popen(
            [PY, __file__, "--read", redis_url, "--viewers", str(viewers), "--seconds", str(seconds + 4)],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(2)
    before = counter["n"]
    started = time.monotonic()
    if redis_url:
        relay = Relay(redis_url, [ControllerSource(url, poll_interval_s=1.0)], "bench:relay")
        asyncio.run(_run_for(seconds, relay.run()))
    else:
        asyncio.run(_run_for(seconds, direct()))
    rate = (counter["n"] - before) / (time.monotonic() - started)
    if readers is not None:
        out, _ = readers.communicate(timeout=60)
        return rate, json.loads(out.strip().splitlines()[-1])
    return rate, None


def read_viewers(redis_url: str, viewers: int, seconds: float) -> dict:
    """``--read`` mode: N RelaySources in one process; each event's latency from its XADD."""
    from migration_tui.relay import RelaySource

    latencies: list[float] = []

    class Timed(RelaySource):
        async def _session(self, client, emit):  # note each entry's age as it is applied
            last = self.last_id

            def timed(event):
                if self.last_id != last_seen[0] and self.last_id and "-" in self.last_id:
                    last_seen[0] = self.last_id
                    latencies.append(time.time() - int(self.last_id.split("-")[0]) / 1000)
                emit(event)

            last_seen = [last]
            await RelaySource._session(self, client, timed)

    async def main() -> None:
        sources = [Timed(redis_url, "bench:relay", poll_interval_s=1.0) for _ in range(viewers)]
        await _run_for(seconds, *(s.run(lambda e: None) for s in sources))

    asyncio.run(main())
    # The first read of each viewer is the backlog (or the snapshot): only entries read live count.
    live = sorted(latencies[viewers:]) or [float("nan")]

    def pct(p: float) -> float:
        return round(live[min(len(live) - 1, int(p * len(live)))] * 1000, 2)

    return {"entries_read": len(latencies), "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99)}


def estate_memory(seconds: float, redis_url: str) -> dict:
    """The five-system demo estate through a relay: events/s and the stream's bytes per entry."""
    import redis

    from migration_tui.config import Settings
    from migration_tui.relay import MAXLEN, Relay
    from migration_tui.ui.demo import demo_sources

    sources = demo_sources(Settings(poll_interval_s=2.0))
    relay = Relay(redis_url, sources, "bench:estate")
    started = time.monotonic()
    asyncio.run(_run_for(seconds, relay.run()))
    elapsed = time.monotonic() - started
    client = redis.Redis.from_url(redis_url)
    entries = client.xlen("bench:estate")
    stream_bytes = client.memory_usage("bench:estate", samples=0) or 0
    snapshot_bytes = client.memory_usage("bench:estate:snapshot", samples=0) or 0
    per_entry = stream_bytes / max(1, entries)
    per_hour = relay.stats.written / elapsed * 3600
    kept = min(per_hour, MAXLEN)
    return {
        "events_per_s": round(relay.stats.written / elapsed, 1),
        "bytes_per_entry": round(per_entry),
        "snapshot_bytes": snapshot_bytes,
        "one_hour_entries": round(per_hour),
        "one_hour_mb_trimmed": round((kept * per_entry + snapshot_bytes) / 1e6, 1),
        "one_hour_mb_untrimmed": round((per_hour * per_entry + snapshot_bytes) / 1e6, 1),
    }


def late_join(redis_url: str, minutes: int = 10, reps: int = 5) -> dict:
    """Ten minutes of a busy session (50 events/s) through a relay; then a viewer joins: seconds
    from its start until its store holds the relay's migrations and its relay source is fresh."""
    from migration_tui.relay import Relay, RelaySource
    from migration_tui.store import Store
    from migration_tui.synthetic import synthetic_events

    async def run() -> list[float]:
        relay = Relay(redis_url, [], "bench:late", snapshot_every=5000)
        task = asyncio.ensure_future(relay.run())
        for event in synthetic_events(minutes * 60 * 50, events_per_second=50):
            relay.emit(event)
        while relay._pending or relay.stats.snapshots < 1:
            await asyncio.sleep(0.05)
        times = []
        for _ in range(reps):
            store = Store()
            viewer = RelaySource(redis_url, "bench:late", poll_interval_s=1.0)
            started = time.perf_counter()
            reader = asyncio.ensure_future(viewer.run(store.apply))
            while not (store.migrations == relay.store.migrations and store.source("relay").ok()):
                await asyncio.sleep(0.005)
            times.append(time.perf_counter() - started)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return times

    times = asyncio.run(run())
    return {
        "events_before_join": minutes * 60 * 50,
        "join_s_median": round(statistics.median(times), 3),
        "join_s": [round(t, 3) for t in times],
    }


def viewer_cpu(redis_url: str, sim_url: str, seconds: float, reps: int) -> dict:
    """`watch --relay` against `watch --controller`, each in a 120x40 pty, alternately."""
    from migration_tui.relay import Relay
    from migration_tui.sources.controller import ControllerSource

    relay = Relay(redis_url, [ControllerSource(sim_url, poll_interval_s=1.0)], "bench:relay")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(_run_for(10_000, relay.run()),), daemon=True)
    thread.start()
    home = tempfile.mkdtemp(prefix="relay-bench-home-")
    env_note = {"HOME": home}
    os.environ.update(env_note)
    byte_compile()
    programs = {
        "relay viewer": ours("watch", "--relay", redis_url, "--stream", "bench:relay", "--read-only"),
        "direct watch": ours("watch", "--controller", sim_url, "--read-only"),
    }
    runs: dict[str, list[dict]] = {name: [] for name in programs}
    for rep in range(reps):
        for name, cmd in programs.items():
            runs[name].append(measure(cmd, 120, 40, seconds, 5, label=f"{name} #{rep + 1}"))
            print(f"  {name} #{rep + 1}: {json.dumps(runs[name][-1])}", file=sys.stderr, flush=True)
    return {name: median_of(values) for name, values in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--dashboards", type=int, default=2)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--read", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--late-join-only", action="store_true", help="only the late viewer's join time")
    args = parser.parse_args()
    if args.read:
        print(json.dumps(read_viewers(args.read, args.viewers, args.seconds)))
        return
    redis_server = Redis()
    if args.late_join_only:
        try:
            print(json.dumps(late_join(redis_server.url)))
        finally:
            redis_server.stop()
        return
    sim, counter = counted_simulator()
    try:
        direct_rate, _ = controller_rate(args.seconds, sim.url, counter, None, 0)
        headless = max(0, args.viewers - args.dashboards)
        relay_rate, latency = controller_rate(args.seconds, sim.url, counter, redis_server.url, headless)
        cpu = viewer_cpu(redis_server.url, sim.url, args.seconds, args.reps)
        memory = estate_memory(args.seconds, redis_server.url)
        joined = late_join(redis_server.url)
    finally:
        sim.stop()
        redis_server.stop()
    viewer, direct = cpu["relay viewer"], cpu["direct watch"]
    print(
        json.dumps(
            {
                "controller_requests_per_s": {
                    "one_direct_poller": round(direct_rate, 2),
                    f"relay_with_{args.viewers}_viewers": round(relay_rate, 2),
                    "ratio": round(relay_rate / direct_rate, 2) if direct_rate else None,
                },
                "xadd_to_viewer_latency": latency,
                "viewer_cpu": {
                    "relay_viewer_pct": viewer["cpu_percent"],
                    "direct_watch_pct": direct["cpu_percent"],
                    "ratio": round(viewer["cpu_percent"] / direct["cpu_percent"], 2) if direct["cpu_percent"] else None,
                    "runs": cpu,
                },
                "redis_memory_five_system_estate": memory,
                "late_join": joined,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
