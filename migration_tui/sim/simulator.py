"""The simulator: one scenario's migrations stepped in fixed ticks of scenario time.

Fixed ticks make a run depend only on the seed and the scenario time, never
on how often someone looks: polling every 10 ms or once a minute gives the
same state at the same moment. ``speed`` is scenario seconds per clock
second; timestamps handed out (``started_at``, heartbeats, events) are on
the clock, so a watcher's "heartbeat age" is true in its own time.

Thread-safe: every public method takes ``lock`` (the controller, the Redis
publisher and tests may touch it from different threads).
"""

from __future__ import annotations

import random
import threading
from collections import deque
from typing import Any

from migration_tui.sim.clock import Clock, WallClock
from migration_tui.sim.engine import SimMigration
from migration_tui.sim.scenarios import SCENARIOS, ScenarioSpec

#: Scenario seconds per step.
TICK_S = 1.0
#: Most heartbeats/events kept for a publisher that has fallen behind.
OUTBOX_LIMIT = 20_000
#: Most events kept for reading back (tests, the demo's log).
HISTORY_LIMIT = 5_000


class UnknownScenario(KeyError):
    pass


class Simulator:
    def __init__(
        self,
        scenario: str,
        *,
        seed: int | None = None,
        clock: Clock | None = None,
        speed: float = 1.0,
    ) -> None:
        spec = SCENARIOS.get(scenario)
        if spec is None:
            raise UnknownScenario(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.spec: ScenarioSpec = spec
        self.seed = spec.seed if seed is None else seed
        self.rng = random.Random(self.seed)
        self.clock: Clock = clock or WallClock()
        self.speed = speed
        self.lock = threading.RLock()
        self.started_at = self.clock.now()
        self.s = 0.0
        #: (kind, payload) for Redis: ("heartbeat", {...}) and ("event", {...}); drained by the publisher.
        self.outbox: deque[tuple[str, dict[str, Any]]] = deque(maxlen=OUTBOX_LIMIT)
        #: The events (not heartbeats) so far, oldest first, bounded.
        self.events: deque[dict[str, Any]] = deque(maxlen=HISTORY_LIMIT)
        self.migrations: list[SimMigration] = spec.build()
        for migration in self.migrations:
            migration.start(self.rng, self)

    @property
    def scenario(self) -> str:
        return self.spec.name

    @property
    def profile(self) -> str:
        return self.spec.profile

    # --- time ----------------------------------------------------------------

    def stamp(self, s: float) -> float:
        """Epoch seconds on the clock for scenario time ``s``."""
        return self.started_at + s / self.speed

    def advance(self) -> float:
        """Step every whole tick up to the clock's now; returns the scenario time reached."""
        with self.lock:
            target_s = (self.clock.now() - self.started_at) * self.speed
            while self.s + TICK_S <= target_s + 1e-9:
                self.s += TICK_S
                for migration in self.migrations:
                    migration.step(self.s, TICK_S, self.rng, self)
            return self.s

    def now(self) -> float:
        return self.stamp(self.s)

    # --- what happened (the Outbox protocol) ---------------------------------

    def event(self, migration_id: str, kind: str, message: str, s: float) -> None:
        payload = {"migration_id": migration_id, "kind": kind, "message": message, "at": self.stamp(s)}
        self.events.append(payload)
        self.outbox.append(("event", payload))

    def heartbeat(self, migration_id: str, participant_id: str, s: float) -> None:
        self.outbox.append(
            ("heartbeat", {"migration_id": migration_id, "participant_id": participant_id, "at": self.stamp(s)})
        )

    def drain(self) -> list[tuple[str, dict[str, Any]]]:
        """Take everything waiting for the publisher (after advancing to now)."""
        with self.lock:
            self.advance()
            items = list(self.outbox)
            self.outbox.clear()
            return items

    def requeue(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Put back what could not be published, ahead of anything newer."""
        with self.lock:
            self.outbox.extendleft(reversed(items))

    # --- lookups -------------------------------------------------------------

    def migration(self, migration_id: str) -> SimMigration | None:
        return next((m for m in self.migrations if m.id == migration_id), None)

    def act(self, migration: SimMigration, action: str, reason: str) -> None:
        """Apply an operator action now; raises engine.ActionRefused if it does not fit."""
        with self.lock:
            self.advance()
            migration.act(action, reason, self.s, self)

    def fingerprint(self) -> list[dict[str, Any]]:
        """A plain summary of every migration, for determinism checks and debugging."""
        with self.lock:
            return [
                {
                    "id": m.id,
                    "status": m.status,
                    "phase": m.phase,
                    "progress": m.progress,
                    "values": {k: round(v, 9) for k, v in sorted(m.values.items())},
                    "participants": {p.id: (p.vote, p.last_heartbeat_s) for p in m.participants.values()},
                }
                for m in self.migrations
            ]
