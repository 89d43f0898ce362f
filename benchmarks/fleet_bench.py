"""The fleet view with 500 migrations against the dashboard with one: what the fleet costs.

    .venv/bin/python benchmarks/fleet_bench.py [--seconds 30] [--warmup 10] [--reps 3] [--duration 90]

Writes two recordings the same way (``RecordingWriter``, under benchmarks/out/):
N per-pair rollouts (seed 001: one migration per trading pair); every second a
``migration`` event for each of them (its percentage creeping up, a few rolling
back, a few completing) and one ``metrics`` event with each pair's p95 latency
and error rate. Then replays each at 1x in a 120x40 pseudo-terminal under
measure_tui.py: 500 migrations on the fleet view (``_replay_fleet.py``, which
presses ``f`` at start) and 1 migration on the dashboard's Overview (what
``replay`` opens on), alternately, ``--reps`` times; medians.
Target (issue 7): the fleet view with 500 updating once a second uses <= 2x the
CPU of the single-migration dashboard.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from _common import HERE, OUT, PY, ours, ratio, side_by_side, stamp

START = 1_700_000_000.0


def write_recording(path: Path, migrations: int, duration_s: int, seed: int = 5) -> Path:
    from migration_tui.events import Event
    from migration_tui.recording import RecordingWriter
    from migration_tui.synthetic import rollout_migration

    rng = random.Random(seed)
    pairs = [f"P{i:03d}USDT" for i in range(migrations)]
    meta = {"scenario": f"fleet-{migrations}", "migrations": migrations}
    with RecordingWriter(path, started_at=START, meta=meta) as writer:
        for second in range(duration_s):
            ts = START + second
            values: dict[str, float] = {}
            for index, pair in enumerate(pairs):
                phase, status = "50%", "in_progress"
                progress = min(100.0, 50.0 + second * 0.4 + index % 7)
                if index % 97 == 13 and second > duration_s // 3:
                    phase = "rolling_back"
                elif progress >= 100.0:
                    phase, status = "100%", "completed"
                data = rollout_migration(pair, status, phase, round(progress, 1), START)
                writer.write(Event(ts + index / (2 * migrations), "controller", "migration", data))
                wave = math.sin((second + index) / 15)
                values[f"{pair}/latency_p95_ms"] = round(20 + 8 * wave + rng.uniform(0, 3), 2)
                values[f"{pair}/error_rate_pct"] = round(0.05 + rng.uniform(0, 0.05), 3)
            writer.write(Event(ts + 0.6, "prometheus", "metrics", {"values": values}))
    return path


def ensure(migrations: int, duration_s: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"fleet-{migrations}-{duration_s}s.jsonl.gz"
    if not path.exists():
        write_recording(path, migrations, duration_s)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=int, default=90, help="recording length in seconds")
    parser.add_argument("--migrations", type=int, default=500)
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=40)
    args = parser.parse_args()
    single, fleet = ensure(1, args.duration), ensure(args.migrations, args.duration)
    programs = {
        "single dashboard": ours("replay", str(single)),
        f"fleet view {args.migrations}": [PY, str(HERE / "_replay_fleet.py"), str(fleet)],
    }
    medians = side_by_side(programs, args.cols, args.rows, args.seconds, args.warmup, args.reps)
    name = f"fleet view {args.migrations}"
    results = {
        "recordings": {p.name: round(p.stat().st_size / 1e6, 2) for p in (single, fleet)},
        "seconds": args.seconds,
        "warmup": args.warmup,
        "reps": args.reps,
        "size": f"{args.cols}x{args.rows}",
        **medians,
        "cpu_ratio": ratio(medians[name]["cpu_percent"], medians["single dashboard"]["cpu_percent"]),
        "bytes_ratio": ratio(medians[name]["bytes_per_s"], medians["single dashboard"]["bytes_per_s"]),
        "targets": {"cpu_ratio": "<= 2.0"},
    }
    results.update(stamp())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
