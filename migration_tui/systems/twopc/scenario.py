"""Seed 000: two-phase-commit cutover of one order book (``trading-service``).

``2pc-commit``: BTCUSDT; the four participants vote yes one by one, then the
commit runs 0 -> 100 % and the migration ends ``completed`` / ``committed``
(about 3 minutes at 1x).

``2pc-abort``: ETHUSDT; ``marketdata`` stops heartbeating during prepare,
its vote times out, and the coordinator aborts (aborting -> aborted). It is
the one participant left unhealthy.
"""

from __future__ import annotations

from migration_tui.sim.engine import Cue, SimMigration, Stage

PARTICIPANTS = (
    ("orderbook", "orderbook"),
    ("persistence", "database"),
    ("marketdata", "feed"),
    ("engine", "matching_engine"),
)

CONFIG = {
    "target_implementation": "new_orderbook_v2",
    "migration_percentage": 100,
    "prepare_timeout": "5m",
    "commit_timeout": "10m",
    "abort_timeout": "3m",
    "overall_timeout": "30m",
    "enable_rollback": True,
    "enable_safety_checks": True,
    "participant_ids": [pid for pid, _ in PARTICIPANTS],
}

STEADY = {
    "latency_p50_ms": 8.0,
    "latency_p95_ms": 19.0,
    "latency_p99_ms": 31.0,
    "error_rate_pct": 0.05,
    "throughput_ops": 1200.0,
    "memory_pct": 56.0,
}
COMMIT_LOAD = {
    "latency_p50_ms": 12.0,
    "latency_p95_ms": 29.0,
    "latency_p99_ms": 44.0,
    "error_rate_pct": 0.12,
    "throughput_ops": 1050.0,
    "memory_pct": 68.0,
}
AFTER_COMMIT = {**STEADY, "latency_p95_ms": 17.0, "memory_pct": 61.0}

COMMIT_STAGES = (
    Stage("preparing", 30.0, (0.0, 0.0), STEADY, note="prepare sent to 4 participants"),
    Stage("prepared", 12.0, (0.0, 0.0), note="all participants voted yes"),
    Stage("committing", 150.0, (0.0, 100.0), COMMIT_LOAD),
    Stage("committed", progress=(100.0, 100.0), metrics=AFTER_COMMIT, status="completed"),
)
COMMIT_CUES = (
    Cue(5.0, "vote", "orderbook", "yes"),
    Cue(11.0, "vote", "persistence", "yes"),
    Cue(18.0, "vote", "marketdata", "yes"),
    Cue(26.0, "vote", "engine", "yes"),
)

ABORT_STAGES = (
    # The prepare timeout is the abort cue below; this stage never ends on its own.
    Stage("preparing", 600.0, (0.0, 0.0), STEADY, note="prepare sent to 4 participants"),
)
ABORT_CUES = (
    Cue(6.0, "vote", "orderbook", "yes"),
    Cue(14.0, "vote", "persistence", "yes"),
    Cue(22.0, "vote", "engine", "yes"),
    Cue(40.0, "heartbeat_stop", "marketdata"),
    Cue(41.0, "log", "marketdata", "marketdata: no heartbeat; waiting for its vote"),
    Cue(130.0, "vote", "marketdata", "timeout"),
    Cue(130.0, "abort", "", "prepare timed out: marketdata did not vote"),
)


class TwoPhaseCommitMigration(SimMigration):
    """A 2pc migration: participants vote; once the commit starts, only a rollback can undo it."""

    system = "2pc"
    abort_s = 25.0
    rollback_s = 40.0

    def health(self, s: float) -> str:
        if any(not p.is_healthy(s) for p in self.participants.values()):
            return "UNHEALTHY"
        if self.values.get("latency_p95_ms", 0.0) > 50.0 or self.values.get("error_rate_pct", 0.0) > 1.0:
            return "DEGRADED"
        return "HEALTHY"

    def refusal(self, action: str) -> str | None:
        if action == "abort" and self.phase in ("committing", "committed"):
            return f"migration is {self.phase}: the commit has started, only a rollback can undo it"
        return super().refusal(action)

    def votes(self) -> dict[str, int]:
        tally = {"yes": 0, "no": 0, "pending": 0, "timeout": 0}
        for participant in self.participants.values():
            tally[participant.vote] = tally.get(participant.vote, 0) + 1
        return tally


def build_commit() -> list[SimMigration]:
    return [
        TwoPhaseCommitMigration(
            "2pc-btcusdt",
            "BTCUSDT",
            COMMIT_STAGES,
            cues=COMMIT_CUES,
            participants=PARTICIPANTS,
            config=CONFIG,
        )
    ]


def build_abort() -> list[SimMigration]:
    return [
        TwoPhaseCommitMigration(
            "2pc-ethusdt",
            "ETHUSDT",
            ABORT_STAGES,
            cues=ABORT_CUES,
            participants=PARTICIPANTS,
            config=CONFIG,
        )
    ]
