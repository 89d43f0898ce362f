"""10,000 participants against 50: what the participant count costs the dashboard.

    .venv/bin/python benchmarks/scale_bench.py [--seconds 45] [--warmup 15] [--reps 3] [--duration 90] [--whole-lists]

Writes two recordings the same way (``RecordingWriter``, under benchmarks/out/):
one two-phase-commit migration; every second a ``migration`` event, the
controller's list of all N participants (votes arriving, each one's last
heartbeat) as the controller source emits it (``sources/deltas.py``: the whole
list first and every 30th second, otherwise a ``participants_delta`` of what
changed), ``heartbeat`` events spread over the second, round robin, so that
every participant is heard from every ``HEARTBEAT_INTERVAL_S`` seconds at both
counts (N / 33.3 a second: 1.5 for 50, 300 for 10,000), one ``metrics`` event
with the six 2pc series and a ``host`` sample. ``--whole-lists`` writes the
whole list every second instead (as the source did before the deltas), for
comparison.

Why one interval, and why 33.3 s: the comparison must measure the count only.
Before, 50 participants were each heard from every second and 10,000 every
33 s (``min(300, N)`` a second), so on the Participants tab every age on
screen ticked every second for 10,000 and hardly ever for 50. 33.3 s keeps the
10,000 recording's 300 heartbeats a second (its figures stay comparable with
the earlier runs); one second for both would mean 10,000 heartbeat events a
second, a test of event throughput rather than of the count. At 33 s most ages
on screen are past the 15 s LOST limit for both counts alike. Then
replays each at 1x in a 120x40 pseudo-terminal under measure_tui.py, on the
Overview tab (what ``replay`` opens on) and on the Participants tab (the
10,000-row table on screen), alternately, ``--reps`` times; medians.
Target: 10,000 participants cost <= 2x the CPU and bytes of 50.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from _common import HERE, OUT, PY, ours, ratio, side_by_side, stamp

START = 1_700_000_000.0
TYPES = ("orderbook", "persistence", "marketdata", "engine")
PHASES = ("preparing", "prepared", "committing", "committed")
#: Every participant is heard from this often, at both counts.
HEARTBEAT_INTERVAL_S = 10_000 / 300


def write_recording(path: Path, participants: int, duration_s: int, seed: int = 3, whole_lists: bool = False) -> Path:
    """One migration with ``participants`` participants, ``duration_s`` seconds long."""
    from migration_tui.events import Event
    from migration_tui.recording import RecordingWriter
    from migration_tui.sources.deltas import ParticipantsDiffer
    from migration_tui.store import MAX_PARTICIPANTS

    rng = random.Random(seed)
    ids = [f"p{i:05d}" for i in range(participants)]
    last_beat = [START - rng.uniform(0, 3) for _ in ids]
    differ = ParticipantsDiffer(MAX_PARTICIPANTS)
    cursor = 0
    meta = {"scenario": f"scale-{participants}", "participants": participants}
    with RecordingWriter(path, started_at=START, meta=meta) as writer:
        for second in range(duration_s):
            ts = START + second
            progress = min(100.0, 100.0 * second / duration_s)
            voted = min(participants, int(participants * second / (duration_s / 3)))
            writer.write(
                Event(
                    ts,
                    "controller",
                    "migration",
                    {
                        "id": "mig-scale",
                        "system": "2pc",
                        "pair": "BTCUSDT",
                        "status": "in_progress",
                        "phase": PHASES[min(3, int(progress // 25))],
                        "progress": round(progress, 2),
                        "started_at": START,
                    },
                )
            )
            rows = [
                {
                    "id": pid,
                    "type": TYPES[i % 4],
                    "vote": "yes" if i < voted else "pending",
                    "is_healthy": i % 997 != 0,
                    "last_heartbeat": round(last_beat[i], 3),
                }
                for i, pid in enumerate(ids)
            ]
            if whole_lists:
                change = ("participants", {"migration_id": "mig-scale", "participants": rows})
            else:
                change = differ.event("mig-scale", rows)  # one poll a second
            if change is not None:
                writer.write(Event(ts + 0.01, "controller", *change))
            per_s = int((second + 1) * participants / HEARTBEAT_INTERVAL_S) - cursor
            for slot in range(per_s):
                index = cursor % participants
                cursor += 1
                at = ts + 0.02 + 0.97 * slot / per_s
                last_beat[index] = at
                writer.write(
                    Event(
                        at,
                        "redis",
                        "heartbeat",
                        {"migration_id": "mig-scale", "participant_id": ids[index], "at": round(at, 3)},
                    )
                )
            wave = math.sin(second / 20)
            values = {
                "latency_p50_ms": round(8 + 2 * wave + rng.uniform(0, 1), 3),
                "latency_p95_ms": round(20 + 6 * wave + rng.uniform(0, 3), 3),
                "latency_p99_ms": round(31 + 8 * wave + rng.uniform(0, 4), 3),
                "error_rate_pct": round(0.05 + rng.uniform(0, 0.05), 4),
                "throughput_ops": round(1200 + rng.uniform(-50, 50), 1),
                "memory_pct": round(55 + 2 * wave, 2),
            }
            writer.write(Event(ts + 0.5, "prometheus", "metrics", {"values": values}))
            writer.write(
                Event(ts + 0.6, "host", "host", {"scope": "host", "cpu_percent": 20 + 5 * wave, "memory_percent": 61.5})
            )
    return path


def ensure(participants: int, duration_s: int, whole_lists: bool = False) -> Path:
    OUT.mkdir(exist_ok=True)
    kind = "whole" if whole_lists else "v2"
    path = OUT / f"participants-{participants}-{duration_s}s-hb{HEARTBEAT_INTERVAL_S:.0f}s-{kind}.jsonl.gz"
    if not path.exists():
        write_recording(path, participants, duration_s, whole_lists=whole_lists)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument("--warmup", type=float, default=15)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=int, default=90, help="recording length in seconds")
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--whole-lists", action="store_true", help="every participants list whole, no deltas")
    args = parser.parse_args()
    small, large = (ensure(n, args.duration, args.whole_lists) for n in (50, 10_000))
    results: dict = {
        "recordings": {str(p.name): round(p.stat().st_size / 1e6, 1) for p in (small, large)},
        "seconds": args.seconds,
        "warmup": args.warmup,
        "reps": args.reps,
        "size": f"{args.cols}x{args.rows}",
        "participants_as": "whole lists" if args.whole_lists else "deltas",
    }
    launcher = str(HERE / "_replay_tab.py")
    for tab in ("overview", "participants"):
        programs = {
            "50": ours("replay", str(small)) if tab == "overview" else [PY, launcher, str(small), tab],
            "10000": ours("replay", str(large)) if tab == "overview" else [PY, launcher, str(large), tab],
        }
        medians = side_by_side(programs, args.cols, args.rows, args.seconds, args.warmup, args.reps)
        results[tab] = {
            **medians,
            "cpu_ratio": ratio(medians["10000"]["cpu_percent"], medians["50"]["cpu_percent"]),
            "bytes_ratio": ratio(medians["10000"]["bytes_per_s"], medians["50"]["bytes_per_s"]),
            "targets": {"cpu_ratio": "<= 2.0", "bytes_ratio": "<= 2.0"},
        }
    results.update(stamp())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
