"""Seed 004: event store moved to object storage by dual write (``dual-write`` profile).

Modes legacy -> dual_write -> new_read_path -> new_only. During dual_write
the object store throttles for 45 s: write success dips below the seed's
99 % alert line, p99 and the outbox backlog rise, then everything recovers
(about 4 minutes at 1x).
"""

from __future__ import annotations

import random

from migration_tui.sim.engine import Outbox, SimMigration, Stage

MODES = ("legacy", "dual_write", "new_read_path", "new_only")

FLAGS = {
    "legacy": {"ENABLE_S3_EVENT_STORE": 0, "ENABLE_DUAL_WRITE": 0, "WORKER_READ_FROM_S3": 0},
    "dual_write": {"ENABLE_S3_EVENT_STORE": 1, "ENABLE_DUAL_WRITE": 1, "WORKER_READ_FROM_S3": 0},
    "new_read_path": {"ENABLE_S3_EVENT_STORE": 1, "ENABLE_DUAL_WRITE": 1, "WORKER_READ_FROM_S3": 1},
    "new_only": {"ENABLE_S3_EVENT_STORE": 1, "ENABLE_DUAL_WRITE": 0, "WORKER_READ_FROM_S3": 1},
}

STEADY = {
    "write_success_pct": 99.96,
    "latency_p50_ms": 14.0,
    "latency_p95_ms": 62.0,
    "latency_p99_ms": 140.0,
    "outbox_pending": 25.0,
    "events_per_s": 180.0,
}
THROTTLED = {"write_success_pct": 97.6, "latency_p95_ms": 190.0, "latency_p99_ms": 430.0, "outbox_pending": 900.0}
RECOVERED = {"write_success_pct": 99.93, "latency_p95_ms": 70.0, "latency_p99_ms": 150.0, "outbox_pending": 30.0}
READ_FROM_S3 = {"latency_p50_ms": 18.0, "latency_p95_ms": 80.0, "latency_p99_ms": 170.0}

STAGES = (
    Stage("legacy", 30.0, (0.0, 0.0), STEADY, counts=FLAGS["legacy"]),
    Stage("dual_write", 40.0, (0.0, 15.0), counts=FLAGS["dual_write"], note="writing to PostgreSQL and S3"),
    Stage("dual_write", 45.0, (15.0, 30.0), THROTTLED, note="object store throttling: write success below 99 %"),
    Stage("dual_write", 40.0, (30.0, 50.0), RECOVERED, note="object store writes recovered"),
    Stage("new_read_path", 60.0, (50.0, 85.0), READ_FROM_S3, counts=FLAGS["new_read_path"]),
    Stage("new_only", 40.0, (85.0, 100.0), counts=FLAGS["new_only"], note="PostgreSQL keeps the outbox only"),
    Stage("new_only", progress=(100.0, 100.0), status="completed"),
)


class DualWriteMigration(SimMigration):
    system = "dual-write"
    rollback_s = 30.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.events_written = 0.0

    @property
    def mode(self) -> str:
        """The write mode in force: the last mode reached, and legacy again after a rollback."""
        if self.phase == "rolled_back":
            return "legacy"
        return next((phase for phase in reversed(self.phases_seen) if phase in MODES), "legacy")

    def flags(self) -> dict[str, bool]:
        return {name: bool(on) for name, on in FLAGS[self.mode].items()}

    def failure_branch(self, first_phase: str) -> list[Stage]:
        stages = super().failure_branch(first_phase)
        if first_phase == "rolling_back":
            last = stages[-1]
            stages[-1] = Stage(
                last.phase, progress=last.progress, status=last.status, metrics=STEADY, counts=FLAGS["legacy"]
            )
        return stages

    def health(self, s: float) -> str:
        success = self.values.get("write_success_pct", 100.0)
        if self.mode != "legacy" and success < 99.0:
            return "DEGRADED"
        return "HEALTHY"

    def advance_work(self, s: float, dt: float, rng: random.Random, out: Outbox) -> None:
        self.events_written += self.values.get("events_per_s", 0.0) * dt


def build() -> list[SimMigration]:
    return [
        DualWriteMigration(
            "dual-write-events",
            "event-store",
            STAGES,
            participants=(("api", "service"), ("worker", "worker"), ("outbox-relay", "worker")),
            config={"bucket": "spice-event-store", "modes": list(MODES)},
            noise={"write_success_pct": 0.0008, "events_per_s": 0.05, "outbox_pending": 0.1},
        )
    ]
