"""Replay engine figures for docs/performance.md (issue 20: as ratios to a floor measured in the same run).

    .venv/bin/python benchmarks/replay_bench.py [--events 1000000] [--seeks 200] [--reps 3]

For the synthetic recording of N events (migration_tui/synthetic.py), plain and gzip, each
measurement in a fresh process, ``--reps`` times, taking turns:

1. The floor: ``orjson.loads`` of every line of the file, nothing else (gzip: decompressing too).
2. The headless reduction (``reduce_recording`` to the end, what ``replay --headless`` runs):
   its time, events/s, peak RSS, and its throughput as a ratio to the floor's
   (floor time / reduction time: 1.0 would be as fast as parsing alone).
3. The interactive replay: index time (and its ratio to the reduction's), then ``--seeks``
   random seeks forwards and backwards (p50 / p99 / max), 60 s of play at 1000x, peak RSS.

Ratios are best-of-N (the fastest floor against the fastest reduction: what the code costs when
the machine lets it run) with the median of the per-rep ratios beside them. ``checks`` holds each
target's figure; ``run_all.py`` judges them. The recording is written once under benchmarks/out/
(not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

FLOOR_CHILD = """
import gzip, json, resource, sys, time
import orjson
path = sys.argv[1]
t0 = time.perf_counter()
fp = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb", buffering=1024 * 1024)
loads = orjson.loads
lines = 0
with fp:
    for line in fp:
        try:
            loads(line)
        except orjson.JSONDecodeError:
            pass
        lines += 1
print(json.dumps({"seconds": time.perf_counter() - t0, "lines": lines,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

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
                  "seek_p99_ms": times[max(0, int(len(times) * 0.99) - 1)] * 1000, "seek_max_ms": times[-1] * 1000,
                  "play_1000x_60s_wall_s": played,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

#: The targets of issue 20 (target 1), judged by run_all.py: name -> (operator, target).
TARGETS = {
    "reduction_vs_parse_plain": (">=", 0.5),
    "reduction_vs_parse_gzip": (">=", 0.5),
    "seek_p99_ms_plain": ("<=", 20.0),
    "seek_p99_ms_gzip": ("<=", 20.0),
    "index_vs_reduction_plain": ("<=", 1.5),
    "index_vs_reduction_gzip": ("<=", 1.5),
    "replay_peak_rss_mb_plain": ("<=", 150.0),
}


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
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    results: dict = {
        "events": args.events,
        "reps": args.reps,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "load_average_before": os.getloadavg()[0],
    }
    figures: dict[str, float] = {}
    for gz in (False, True):
        path = ensure_recording(args.events, gz)
        key = "gzip" if gz else "plain"
        floors, reductions, seeks = [], [], []
        for _ in range(args.reps):  # taking turns, so a busy minute weighs on both
            floors.append(child(FLOOR_CHILD, str(path)))
            reductions.append(child(HEADLESS_CHILD, str(path)))
            seeks.append(child(SEEK_CHILD, str(path), str(args.seeks)))
        floor_s = [f["seconds"] for f in floors]
        reduce_s = [r["seconds"] for r in reductions]
        index_s = [s["index_s"] for s in seeks]
        events = reductions[0]["events"]
        results[key] = {
            "size_mb": round(path.stat().st_size / 1e6, 1),
            "events": events,
            "parse_floor_s": [round(v, 3) for v in floor_s],
            "parse_floor_lines_per_s": round(floors[0]["lines"] / min(floor_s)),
            "reduction_s": [round(v, 3) for v in reduce_s],
            "reduction_events_per_s": round(events / min(reduce_s)),
            "reduction_vs_parse": round(min(floor_s) / min(reduce_s), 3),
            "reduction_vs_parse_per_rep": [round(f / r, 3) for f, r in zip(floor_s, reduce_s, strict=True)],
            "reduction_peak_rss_mb": round(max(r["peak_rss_mb"] for r in reductions), 1),
            "parse_floor_peak_rss_mb": round(max(f["peak_rss_mb"] for f in floors), 1),
            "index_s": [round(v, 3) for v in index_s],
            "index_vs_reduction": round(min(index_s) / min(reduce_s), 3),
            "keyframes": seeks[0]["keyframes"],
            "seek_p50_ms": [round(s["seek_p50_ms"], 1) for s in seeks],
            "seek_p99_ms": [round(s["seek_p99_ms"], 1) for s in seeks],
            "seek_max_ms": [round(s["seek_max_ms"], 1) for s in seeks],
            "play_1000x_60s_wall_s": [round(s["play_1000x_60s_wall_s"], 3) for s in seeks],
            "replay_peak_rss_mb": round(max(s["peak_rss_mb"] for s in seeks), 1),
        }
        figures[f"reduction_vs_parse_{key}"] = results[key]["reduction_vs_parse"]
        figures[f"seek_p99_ms_{key}"] = min(results[key]["seek_p99_ms"])
        figures[f"index_vs_reduction_{key}"] = results[key]["index_vs_reduction"]
        figures[f"replay_peak_rss_mb_{key}"] = results[key]["replay_peak_rss_mb"]
        print(f"  {key}: {json.dumps({k: figures[k] for k in figures if k.endswith(key)})}", file=sys.stderr)
    results["checks"] = [
        {"name": name, "value": figures[name], "op": op, "target": target} for name, (op, target) in TARGETS.items()
    ]
    results["load_average_after"] = os.getloadavg()[0]
    results["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results["median_ratio_per_rep"] = {
        key: statistics.median(results[key]["reduction_vs_parse_per_rep"]) for key in ("plain", "gzip")
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
