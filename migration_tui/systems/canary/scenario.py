"""Seed 002: heartbeat service, parallel run then a canary traffic split (``canary`` profile).

Phases 1..5: parallel_run, canary_10, canary_25, canary_50, full_100. At
25 % the new system's error rate and p99 rise for half a minute (below the
rollback triggers, 1 % and 500 ms), then recover, and the rollout completes
(about 4 minutes at 1x). Progress is the share of traffic on the new system.
"""

from __future__ import annotations

from migration_tui.sim.engine import SimMigration, Stage

PHASE_NUMBERS = {"parallel_run": 1, "canary_10": 2, "canary_25": 3, "canary_50": 4, "full_100": 5}

NORMAL = {
    "new_error_rate_pct": 0.18,
    "new_p99_ms": 185.0,
    "legacy_error_rate_pct": 0.25,
    "legacy_p99_ms": 240.0,
    "requests_per_s": 420.0,
    "robots": 1280.0,
    "sync_lag_s": 0.8,
}
BUMP = {"new_error_rate_pct": 0.85, "new_p99_ms": 445.0, "sync_lag_s": 3.5}
RECOVERED = {"new_error_rate_pct": 0.2, "new_p99_ms": 190.0, "sync_lag_s": 0.9}

STAGES = (
    Stage("parallel_run", 40.0, (0.0, 0.0), NORMAL, note="legacy and new run side by side, new gets no traffic"),
    Stage("canary_10", 40.0, (10.0, 10.0)),
    Stage("canary_25", 20.0, (25.0, 25.0)),
    Stage("canary_25", 30.0, (25.0, 25.0), BUMP, note="new system: error rate and p99 rising"),
    Stage("canary_25", 30.0, (25.0, 25.0), RECOVERED, note="new system recovered"),
    Stage("canary_50", 40.0, (50.0, 50.0)),
    Stage("full_100", 40.0, (100.0, 100.0)),
    Stage("full_100", progress=(100.0, 100.0), status="completed"),
)

#: Healthy means under the seed's rollback triggers.
ERROR_RATE_LIMIT_PCT = 1.0
P99_LIMIT_MS = 500.0


class CanaryMigration(SimMigration):
    system = "canary"
    rollback_s = 20.0

    @property
    def traffic_new_pct(self) -> float:
        return self.progress

    @property
    def phase_number(self) -> int | None:
        return PHASE_NUMBERS.get(self.phase)

    def side_is_healthy(self, side: str) -> bool:
        return (
            self.values.get(f"{side}_error_rate_pct", 0.0) <= ERROR_RATE_LIMIT_PCT
            and self.values.get(f"{side}_p99_ms", 0.0) <= P99_LIMIT_MS
        )

    def health(self, s: float) -> str:
        if not self.side_is_healthy("new"):
            return "UNHEALTHY"
        if self.values.get("new_error_rate_pct", 0.0) > 0.5 or self.values.get("new_p99_ms", 0.0) > 350.0:
            return "DEGRADED"
        return "HEALTHY"


def build() -> list[SimMigration]:
    return [
        CanaryMigration(
            "canary-heartbeat",
            "heartbeat",
            STAGES,
            participants=(("legacy", "service"), ("new", "service"), ("sync", "worker")),
            config={"phases": list(PHASE_NUMBERS), "rollback_triggers": {"error_rate": 0.01, "p99_ms": 500}},
            noise={"robots": 0.0, "new_error_rate_pct": 0.05, "legacy_error_rate_pct": 0.05},
        )
    ]
