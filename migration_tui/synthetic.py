"""Synthetic recordings of any length, for benchmarks and tests.

Deterministic for a given seed. The mix resembles a live two-phase-commit
session polled once a second: mostly metrics, heartbeats from many
participants, a migration update per poll, occasional breaker flips, host
samples and source errors. ``events_per_second`` sets the density.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from migration_tui.events import Event
from migration_tui.recording import RecordingWriter

START = 1_700_000_000.0
PHASES = ("preparing", "prepared", "committing", "committed")


def synthetic_events(count: int, seed: int = 7, events_per_second: int = 50) -> Iterator[Event]:
    rng = random.Random(seed)
    participants = ["orderbook", "persistence", "marketdata", "engine"]
    pairs = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    per_tick = max(1, events_per_second)
    for i in range(count):
        second, slot = divmod(i, per_tick)
        ts = START + second + slot / per_tick
        if slot == 0:
            progress = min(100.0, second / 36.0)
            yield Event(
                ts,
                "controller",
                "migration",
                {
                    "id": "mig-1",
                    "system": "2pc",
                    "pair": "BTCUSDT",
                    "status": "completed" if progress >= 100 else "in_progress",
                    "phase": PHASES[min(3, int(progress // 25))],
                    "progress": round(progress, 2),
                    "started_at": START,
                },
            )
        elif slot == 1:
            yield Event(
                ts,
                "controller",
                "participants",
                {
                    "migration_id": "mig-1",
                    "participants": [
                        {"id": p, "type": p, "vote": "yes", "is_healthy": True, "last_heartbeat": ts - 0.5}
                        for p in participants
                    ],
                },
            )
        elif slot == 2 and second % 30 == 0:
            yield Event(
                ts,
                "controller",
                "breakers",
                {"breakers": [{"pair": p, "open": rng.random() < 0.2, "reason": "latency"} for p in pairs]},
            )
        elif slot == 3:
            yield Event(ts, "host", "host", {"cpu_percent": rng.uniform(5, 60), "memory_percent": rng.uniform(30, 70)})
        elif slot == 4 and second % 97 == 0:
            yield Event(ts, "prometheus", "source_error", {"error": "timeout after 5.0s"})
        elif slot % 3 == 0:
            yield Event(
                ts,
                "redis",
                "heartbeat",
                {"migration_id": "mig-1", "participant_id": rng.choice(participants), "at": ts},
            )
        else:
            pair = pairs[slot % len(pairs)]
            yield Event(
                ts,
                "prometheus",
                "metrics",
                {
                    "values": {
                        f"{pair}/latency_p95_ms": round(rng.uniform(10, 70), 3),
                        f"{pair}/error_rate_pct": round(rng.uniform(0, 1.5), 4),
                        "throughput_ops": round(rng.uniform(900, 1100), 1),
                    }
                },
            )


def write_synthetic(path: str | Path, count: int, seed: int = 7, events_per_second: int = 50) -> Path:
    path = Path(path)
    with RecordingWriter(path, started_at=START, meta={"scenario": "synthetic", "seed": seed}) as writer:
        for event in synthetic_events(count, seed, events_per_second):
            writer.write(event)
    return path


def rollout_migration(pair: str, status: str, phase: str, progress: float, started_at: float) -> dict[str, object]:
    """The ``migration`` event data of one per-pair rollout (seed 001), as the controller source emits it."""
    return {
        "id": f"rollout-{pair.lower()}",
        "system": "orderbook-rollout",
        "pair": pair,
        "status": status,
        "phase": phase,
        "progress": progress,
        "started_at": started_at,
    }
