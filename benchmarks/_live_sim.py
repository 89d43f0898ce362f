"""A large simulated controller for live_bench.py, served as a real process on a free loopback port.

    .venv/bin/python benchmarks/_live_sim.py participants N [--seed S]
    .venv/bin/python benchmarks/_live_sim.py migrations M [--first K] [--seed S]

Prints the URL it serves on its first line, then serves until SIGTERM or Ctrl-C.

Built from the simulator's own parts (``sim.engine``, the systems' scenarios, the
``trading-service`` routes and the stdlib HTTP server of ``sim/server.py``), not
from a scenario of the registry, whose sizes are fixed; so no CLI option was added.

``participants N``: one two-phase-commit migration (``2pc-scale``, BTCUSDT) with N
participants (``p00000``...; the four types in turn). They vote yes spread over the
first 20 s of prepare (live_bench.py measures after that, so every run sees the same
steady state); prepare then commit take an hour, so the migration is still
running, and its participants still polled, however long the benchmark runs.
Heartbeats are spread so that each participant is heard about every 30 s (27..33 s
apart, the first at a random point of the first 30 s), at both counts, as
scale_bench.py does: the comparison then measures the count only (with the
simulator's usual 1..2 s, 10,000 participants would each change every poll and
the 50 too, a test of change rate rather than of size). A participant is unhealthy
only after 90 s without one (three missed), so health does not flicker between
heartbeats.

``migrations M``: M per-pair rollouts (``P0000USDT``... from ``--first``), the
``orderbook-rollout`` system on the ``trading-service`` API: each steps through
10/25/50/75 % every 10..20 minutes (seeded), so all are still rolling out during
the benchmark; none has a breaker scripted. Their metrics (``/metrics``) are per pair.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from migration_tui.sim.controller import SimulatedController  # noqa: E402
from migration_tui.sim.engine import Cue, SimMigration, SimParticipant, Stage  # noqa: E402
from migration_tui.sim.server import _SimServer  # noqa: E402
from migration_tui.sim.simulator import Simulator  # noqa: E402
from migration_tui.systems.orderbook_rollout.scenario import HEALTHY, RolloutMigration  # noqa: E402
from migration_tui.systems.twopc.scenario import COMMIT_LOAD, CONFIG, STEADY, TwoPhaseCommitMigration  # noqa: E402

TYPES = ("orderbook", "database", "feed", "matching_engine")
HEARTBEAT_EVERY_S = (27.0, 33.0)
UNHEALTHY_AFTER_S = 90.0
VOTES_WITHIN_S = 20.0


class ScaleParticipant(SimParticipant):
    def is_healthy(self, s: float) -> bool:
        return self.last_heartbeat_s is not None and s - self.last_heartbeat_s <= UNHEALTHY_AFTER_S


class ScaleTwoPhase(TwoPhaseCommitMigration):
    """A 2pc migration whose participants heartbeat every ~30 s."""

    def start(self, rng: random.Random, out) -> None:
        super().start(rng, out)
        for participant in self.participants.values():
            participant.next_heartbeat_s = rng.uniform(0.0, 30.0)

    def _beat(self, s: float, rng: random.Random, out) -> None:
        for participant in self.participants.values():
            while participant.is_heartbeating and participant.next_heartbeat_s <= s:
                participant.last_heartbeat_s = participant.next_heartbeat_s
                participant.next_heartbeat_s += rng.uniform(*HEARTBEAT_EVERY_S)


def two_phase(participants: int) -> list[SimMigration]:
    ids = [f"p{i:05d}" for i in range(participants)]
    stages = (
        Stage("preparing", VOTES_WITHIN_S + 2, (0.0, 0.0), STEADY, note=f"prepare sent to {participants} participants"),
        Stage("prepared", 10.0, (0.0, 0.0), note="all participants voted yes"),
        Stage("committing", 3600.0, (0.0, 100.0), COMMIT_LOAD),
        Stage("committed", progress=(100.0, 100.0), metrics=STEADY, status="completed"),
    )
    cues = [Cue(1.0 + VOTES_WITHIN_S * i / participants, "vote", pid, "yes") for i, pid in enumerate(ids)]
    migration = ScaleTwoPhase(
        "2pc-scale",
        "BTCUSDT",
        stages,
        cues=cues,
        participants=[(pid, TYPES[i % 4]) for i, pid in enumerate(ids)],
        config={**CONFIG, "participant_ids": []},
    )
    migration.participants = {pid: ScaleParticipant(pid, p.type) for pid, p in migration.participants.items()}
    return [migration]


def rollouts(count: int, first: int, rng: random.Random) -> list[SimMigration]:
    migrations: list[SimMigration] = []
    for index in range(first, first + count):
        pair = f"P{index:04d}USDT"
        step_s = rng.uniform(600.0, 1200.0)
        stages = [Stage(f"{p:g}%", step_s, (p, p), HEALTHY) for p in (10.0, 25.0, 50.0, 75.0)]
        stages.append(Stage("100%", progress=(100.0, 100.0), metrics=HEALTHY, status="completed"))
        config = {"target_implementation": "adaptive_orderbook", "target_percentage": 100, "pair": pair}
        migrations.append(RolloutMigration(f"rollout-{pair.lower()}", pair, stages, config=config))
    return migrations


def build(kind: str, count: int, first: int, seed: int) -> SimulatedController:
    sim = Simulator("2pc-commit", seed=seed)  # its own migrations are replaced below
    with sim.lock:
        sim.migrations = two_phase(count) if kind == "participants" else rollouts(count, first, sim.rng)
        sim.events.clear()
        sim.outbox.clear()
        for migration in sim.migrations:
            migration.start(sim.rng, sim)
        sim.outbox.clear()
    return SimulatedController(sim)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("participants", "migrations"))
    parser.add_argument("count", type=int)
    parser.add_argument("--first", type=int, default=0, help="number of the first pair (migrations)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    controller = build(args.kind, args.count, args.first, args.seed)
    server = _SimServer(("127.0.0.1", args.port), controller)
    # Nobody drains the Redis outbox here: keep it from growing (it is bounded, but costs a copy).
    controller.sim.outbox = type(controller.sim.outbox)(maxlen=1)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
