"""Replay engine figures for docs/performance.md (issue: foundation targets).

    .venv/bin/python benchmarks/replay_bench.py [--events 1000000] [--seeks 200]

1. Headless reduction of an N-event recording (plain and gzip), in a fresh
   process: events/s over the whole command, and peak RSS.
2. Interactive replay in a fresh process: index time, then random seeks
   forwards and backwards (p50 / p99 / max), and peak RSS while replaying.

The recording is synthetic (migration_tui/synthetic.py), written once under
benchmarks/out/ (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

HEADLESS_CHILD = """
import json, resource, sys, time
from migration_tui.headless import reduce_recording
t0 = time.perf_counter()
state = reduce_recording(sys.argv[1], 1e8)
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "events": state["events_applied"] + state["rejected_events"],
                  "skipped": state["skipped_lines"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

SEEK_CHILD = """
import json, random, resource, sys, time
from migration_tui.replay import Replay
seeks = int(sys.argv[2])
t0 = time.perf_counter()
replay = Replay(sys.argv[1])
opened = time.perf_counter() - t0
t0 = time.perf_counter()
replay.index()
indexed = time.perf_counter() - t0
rng = random.Random(1)
times = []
for _ in range(seeks):
    target = rng.uniform(0, replay.duration)
    t0 = time.perf_counter()
    replay.seek(target)
    times.append(time.perf_counter() - t0)
# and play: 60 s of wall time at 1000x in 0.25 s ticks, from the start
replay.seek(0)
replay.set_speed(1000)
t0 = time.perf_counter()
for _ in range(240):
    replay.tick(0.25)
played = time.perf_counter() - t0
times.sort()
print(json.dumps({"open_s": opened, "index_s": indexed, "keyframes": replay.keyframe_count,
                  "duration_s": replay.duration, "seek_p50_ms": times[len(times) // 2] * 1000,
                  "seek_p99_ms": times[int(len(times) * 0.99) - 1] * 1000, "seek_max_ms": times[-1] * 1000,
                  "play_1000x_60s_wall_s": played,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def ensure_recording(events: int, gz: bool) -> Path:
    from migration_tui.synthetic import write_synthetic

    OUT.mkdir(exist_ok=True)
    path = OUT / f"synthetic-{events}.jsonl{'.gz' if gz else ''}"
    if not path.exists():
        write_synthetic(path, events)
    return path


def child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seeks", type=int, default=200)
    args = parser.parse_args()
    results = {"events": args.events, "cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
    for gz in (False, True):
        path = ensure_recording(args.events, gz)
        key = "gzip" if gz else "plain"
        results[f"size_mb_{key}"] = round(path.stat().st_size / 1e6, 1)
        headless = child(HEADLESS_CHILD, str(path))
        headless["events_per_s"] = headless["events"] / headless["seconds"]
        results[f"headless_{key}"] = headless
        results[f"seek_{key}"] = child(SEEK_CHILD, str(path), str(args.seeks))
    results["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
