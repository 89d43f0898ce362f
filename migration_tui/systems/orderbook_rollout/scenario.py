"""Seed 001: the adaptive order book rolled out pair by pair (``trading-service`` profile).

Each pair is its own migration (system ``orderbook-rollout``) stepping
10 / 25 / 50 / 75 / 100 % at its own pace. On SOLUSDT the new book is slow
at 50 %: p95 stays above 50 ms, its circuit breaker opens again and again,
and the controller's own safety rules (seed 000's table: p95 > 50 ms for
3 min, or more than 3 breaker opens in 10 min) roll that pair back while
the others carry on.
"""

from __future__ import annotations

import random

from migration_tui.sim.engine import INF, Cue, Outbox, SimBreaker, SimMigration, Stage

HEALTHY = {
    "latency_p50_ms": 9.0,
    "latency_p95_ms": 22.0,
    "latency_p99_ms": 35.0,
    "error_rate_pct": 0.08,
    "throughput_ops": 900.0,
    "memory_pct": 58.0,
}
SLOW = {
    "latency_p50_ms": 31.0,
    "latency_p95_ms": 71.0,
    "latency_p99_ms": 118.0,
    "error_rate_pct": 0.6,
    "throughput_ops": 640.0,
    "memory_pct": 79.0,
}
STEPS = (10.0, 25.0, 50.0, 75.0)

#: pair -> (seconds per step, the percentage at which it turns slow or None)
PAIRS: dict[str, tuple[float, float | None]] = {
    "BTCUSDT": (55.0, None),
    "ETHUSDT": (70.0, None),
    "SOLUSDT": (45.0, 50.0),
    "XRPUSDT": (85.0, None),
}
BAD_PAIR = "SOLUSDT"
BREAKER_REASON = "p95 latency above 50 ms"
#: The bad pair's breaker trips at these run times and closes 20 s later (half-open probe succeeds).
BREAKER_OPENS_S = (110.0, 165.0, 215.0, 262.0)

#: The controller's automatic rollback rules (seed 000 safety thresholds).
P95_LIMIT_MS = 50.0
P95_FOR_S = 180.0
MAX_OPENS_10M = 3


def pair_stages(step_s: float, slow_at: float | None) -> list[Stage]:
    stages = []
    for percent in STEPS:
        is_slow = slow_at is not None and percent >= slow_at
        duration = INF if is_slow else step_s  # a slow pair never earns its next step
        stages.append(Stage(f"{percent:g}%", duration, (percent, percent), SLOW if is_slow else HEALTHY))
        if is_slow:
            return stages
    stages.append(Stage("100%", progress=(100.0, 100.0), metrics=HEALTHY, status="completed"))
    return stages


def breaker_cues(pair: str) -> list[Cue]:
    cues = []
    for opened_s in BREAKER_OPENS_S:
        cues.append(Cue(opened_s, "breaker_open", pair, BREAKER_REASON))
        cues.append(Cue(opened_s + 20.0, "breaker_close", pair))
    return cues


class RolloutMigration(SimMigration):
    """One pair's rollout, with its breaker and the controller's automatic rollback."""

    system = "orderbook-rollout"
    rollback_s = 40.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.breakers[self.pair] = SimBreaker(self.pair)
        self.p95_high_since_s: float | None = None

    @property
    def percentage(self) -> float:
        return self.progress

    def health(self, s: float) -> str:
        if any(b.state == "open" for b in self.breakers.values()):
            return "UNHEALTHY"
        if self.values.get("latency_p95_ms", 0.0) > P95_LIMIT_MS or self.values.get("error_rate_pct", 0.0) > 1.0:
            return "DEGRADED"
        return "HEALTHY"

    def failure_branch(self, first_phase: str) -> list[Stage]:
        stages = super().failure_branch(first_phase)
        # Traffic drains off the new book while rolling back, so the latency stays high until it is done.
        return [
            stages[0],
            Stage(stages[1].phase, progress=stages[1].progress, status=stages[1].status, metrics=HEALTHY),
        ]

    def advance_work(self, s: float, dt: float, rng: random.Random, out: Outbox) -> None:
        if self.phase in ("aborting", "rolling_back"):
            return
        p95 = self.values.get("latency_p95_ms", 0.0)
        if p95 > P95_LIMIT_MS:
            self.p95_high_since_s = s if self.p95_high_since_s is None else self.p95_high_since_s
        else:
            self.p95_high_since_s = None
        opens = self.breakers[self.pair].opens_within(s)
        if opens > MAX_OPENS_10M:
            self.act("rollback", f"automatic: {opens} circuit breaker opens in 10 min", s, out)
        elif self.p95_high_since_s is not None and s - self.p95_high_since_s >= P95_FOR_S:
            self.act("rollback", "automatic: p95 latency above 50 ms for 3 min", s, out)


def build() -> list[SimMigration]:
    migrations: list[SimMigration] = []
    for pair, (step_s, slow_at) in PAIRS.items():
        migrations.append(
            RolloutMigration(
                f"rollout-{pair.lower()}",
                pair,
                pair_stages(step_s, slow_at),
                cues=breaker_cues(pair) if pair == BAD_PAIR else (),
                config={"target_implementation": "adaptive_orderbook", "target_percentage": 100, "pair": pair},
            )
        )
    return migrations
