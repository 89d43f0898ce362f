"""The six scenarios by name: which profile serves them, their seed, and how to build them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from migration_tui.sim.engine import SimMigration
from migration_tui.sim.scenarios import batch, canary, dual_write, orderbook_rollout, twopc


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    profile: str
    #: The seed system (../shared/seeds/NNN_*.txt) it acts out; also the default random seed.
    seed: int
    build: Callable[[], list[SimMigration]]
    summary: str


SCENARIOS: dict[str, ScenarioSpec] = {
    spec.name: spec
    for spec in (
        ScenarioSpec("2pc-commit", "trading-service", 0, twopc.build_commit, "BTCUSDT two-phase commit that commits"),
        ScenarioSpec("2pc-abort", "trading-service", 0, twopc.build_abort, "ETHUSDT prepare times out on marketdata"),
        ScenarioSpec(
            "orderbook-rollout", "trading-service", 1, orderbook_rollout.build, "per-pair rollout; SOLUSDT rolled back"
        ),
        ScenarioSpec("canary", "canary", 2, canary.build, "canary 10/25/50/100 % with a bump at 25 %"),
        ScenarioSpec("batch", "batch", 3, batch.build, "120k documents with checkpoints and a failure spike"),
        ScenarioSpec(
            "dual-write", "dual-write", 4, dual_write.build, "legacy -> dual_write -> new_read_path -> new_only"
        ),
    )
}
