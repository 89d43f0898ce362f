"""The generic migration state machine every simulated system is built from.

A migration walks a table of ``Stage`` rows (phase, duration, progress range,
metric targets). Timed ``Cue`` rows script what happens inside a stage (a
vote, a heartbeat that stops, a breaker that opens). Operator actions swap
the rest of the table for a failure branch (aborting -> aborted, rolling_back
-> rolled_back). Systems differ only in their tables and in a few overridden
methods (health, extra counters), so a scenario reads as data.

Everything here runs in *scenario seconds* (``s``); the simulator turns
them into epoch stamps. All randomness comes from the ``random.Random``
passed in, in a fixed order, so one seed always gives one run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from migration_tui.model import TERMINAL_STATUSES

INF = math.inf

#: A participant whose last heartbeat is older than this (scenario seconds) is unhealthy.
HEARTBEAT_TIMEOUT_S = 5.0
#: Seconds for a metric to move about two thirds of the way to a new target.
METRIC_EASE_S = 4.0
#: Relative noise of a metric unless the migration says otherwise.
DEFAULT_NOISE = 0.03


@dataclass(frozen=True)
class Stage:
    """One row of a timeline. ``progress`` is (at entry, at exit); None keeps the value at entry."""

    phase: str
    duration_s: float = INF
    progress: tuple[float | None, float | None] = (None, None)
    metrics: Mapping[str, float] = field(default_factory=dict)
    status: str = "in_progress"
    note: str = ""
    #: Discrete figures set exactly on entry (warning counts, flags), not eased or noised.
    counts: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Cue:
    """Something scripted to happen ``at_s`` seconds into the migration's own run time."""

    at_s: float
    kind: str  # vote | heartbeat_stop | heartbeat_resume | breaker_open | breaker_close | abort | rollback | log
    target: str = ""
    value: str = ""


@dataclass
class SimParticipant:
    id: str
    type: str
    vote: str = "pending"
    is_heartbeating: bool = True
    last_heartbeat_s: float | None = None
    next_heartbeat_s: float = 0.0

    def is_healthy(self, s: float) -> bool:
        return self.last_heartbeat_s is not None and s - self.last_heartbeat_s <= HEARTBEAT_TIMEOUT_S


@dataclass
class SimBreaker:
    name: str
    state: str = "closed"
    reason: str = ""
    opened_at_s: list[float] = field(default_factory=list)

    def opens_within(self, s: float, window_s: float = 600.0) -> int:
        return sum(1 for t in self.opened_at_s if s - window_s < t <= s)


class Outbox(Protocol):
    """Where a migration reports what Redis subscribers should hear."""

    def event(self, migration_id: str, kind: str, message: str, s: float) -> None: ...
    def heartbeat(self, migration_id: str, participant_id: str, s: float) -> None: ...


class ActionRefused(Exception):
    """An action that does not fit the state; the message is the reason shown in the 409."""


class SimMigration:
    """One migration walking its stage table. Subclasses add a system's own figures."""

    system = "generic"
    #: Failure branches; subclasses may lengthen or annotate them.
    abort_s = 15.0
    rollback_s = 25.0

    def __init__(
        self,
        id: str,
        pair: str,
        stages: Sequence[Stage],
        *,
        cues: Iterable[Cue] = (),
        participants: Iterable[tuple[str, str]] = (),
        config: Mapping[str, Any] | None = None,
        noise: Mapping[str, float] | None = None,
    ) -> None:
        self.id = id
        self.pair = pair
        self.config = dict(config or {})
        self.stages: list[Stage] = list(stages)
        self.cues = sorted(cues, key=lambda cue: cue.at_s)
        self.participants = {pid: SimParticipant(pid, ptype) for pid, ptype in participants}
        self.breakers: dict[str, SimBreaker] = {}
        self.noise = dict(noise or {})
        self.stage_index = 0
        self.stage_run_s = 0.0
        self.run_s = 0.0
        self.is_paused = False
        self.entry_progress = 0.0
        self.baseline = dict(self.stages[0].metrics)
        self.targets: dict[str, float] = dict(self.baseline)
        self.levels: dict[str, float] = dict(self.baseline)
        self.values: dict[str, float] = dict(self.baseline)
        self.counts: dict[str, float] = dict(self.stages[0].counts)
        self.phases_seen: list[str] = [self.stages[0].phase]
        self._next_cue = 0

    # --- reading -------------------------------------------------------------

    @property
    def stage(self) -> Stage:
        return self.stages[self.stage_index]

    @property
    def phase(self) -> str:
        return self.stage.phase

    @property
    def status(self) -> str:
        if self.is_paused:
            return "paused"
        return self.stage.status

    @property
    def is_terminal(self) -> bool:
        return self.stage.status in TERMINAL_STATUSES

    def _progress_range(self) -> tuple[float, float]:
        start, end = self.stage.progress
        start = self.entry_progress if start is None else start
        return start, start if end is None else end

    @property
    def progress(self) -> float:
        start, end = self._progress_range()
        duration = self.stage.duration_s
        fraction = 0.0 if not math.isfinite(duration) or duration <= 0 else min(1.0, self.stage_run_s / duration)
        return round(start + (end - start) * fraction, 2)

    def health(self, s: float) -> str:
        """HEALTHY / DEGRADED / UNHEALTHY; systems override with their own checks."""
        return "HEALTHY"

    # --- time ----------------------------------------------------------------

    def start(self, rng: random.Random, out: Outbox) -> None:
        """Schedule the first heartbeats and announce the first phase."""
        for participant in self.participants.values():
            participant.last_heartbeat_s = 0.0  # joining counts as the first sign of life
            participant.next_heartbeat_s = rng.uniform(0.0, 1.0)
        out.event(
            self.id, "phase", f"{self.id}: {self.phase}" + (f" ({self.stage.note})" if self.stage.note else ""), 0
        )

    def step(self, s: float, dt: float, rng: random.Random, out: Outbox) -> None:
        """Advance by ``dt`` scenario seconds, ending at ``s``."""
        self._beat(s, rng, out)
        if not self.is_paused and not self.is_terminal:
            self.run_s += dt
            self.stage_run_s += dt
            self._fire_cues(s, out)
            while not self.is_terminal and self.stage_run_s >= self.stage.duration_s:
                self.stage_run_s -= self.stage.duration_s
                self._enter(self.stage_index + 1, s, out)
            if not self.is_paused and not self.is_terminal:
                self.advance_work(s, dt, rng, out)
        self._step_metrics(dt, rng)

    def advance_work(self, s: float, dt: float, rng: random.Random, out: Outbox) -> None:
        """Per-tick work of a running migration (documents copied, outbox drained); systems override."""

    def _beat(self, s: float, rng: random.Random, out: Outbox) -> None:
        for participant in self.participants.values():
            while participant.is_heartbeating and participant.next_heartbeat_s <= s:
                participant.last_heartbeat_s = participant.next_heartbeat_s
                out.heartbeat(self.id, participant.id, participant.next_heartbeat_s)
                participant.next_heartbeat_s += rng.uniform(1.0, 2.0)

    def _fire_cues(self, s: float, out: Outbox) -> None:
        while self._next_cue < len(self.cues) and self.cues[self._next_cue].at_s <= self.run_s:
            cue = self.cues[self._next_cue]
            self._next_cue += 1
            self.on_cue(cue, s, out)
            if self.is_terminal:
                return

    def on_cue(self, cue: Cue, s: float, out: Outbox) -> None:
        if cue.kind == "vote":
            self.participants[cue.target].vote = cue.value
            out.event(self.id, "vote", f"{cue.target} voted {cue.value}", s)
        elif cue.kind == "heartbeat_stop":
            self.participants[cue.target].is_heartbeating = False
        elif cue.kind == "heartbeat_resume":
            participant = self.participants[cue.target]
            participant.is_heartbeating = True
            participant.next_heartbeat_s = s
        elif cue.kind in ("breaker_open", "breaker_close"):
            breaker = self.breakers.setdefault(cue.target, SimBreaker(cue.target))
            is_opening = cue.kind == "breaker_open"
            breaker.state = "open" if is_opening else "closed"
            breaker.reason = cue.value if is_opening else ""
            if is_opening:
                breaker.opened_at_s.append(s)
            message = f"circuit breaker {cue.target} " + (f"opened: {cue.value}" if is_opening else "closed")
            out.event(self.id, "breaker", message, s)
        elif cue.kind == "abort":
            self._branch("aborting", cue.value, s, out)
        elif cue.kind == "rollback":
            self._branch("rolling_back", cue.value, s, out)
        elif cue.kind == "log":
            out.event(self.id, "log", cue.value, s)

    def jump_to(self, phase: str, s: float, out: Outbox) -> None:
        """Leave the current stage early for the first stage named ``phase`` (work finished sooner)."""
        index = next(i for i, stage in enumerate(self.stages) if stage.phase == phase)
        self.stage_run_s = 0.0
        self._enter(index, s, out)

    def _enter(self, index: int, s: float, out: Outbox) -> None:
        self.entry_progress = self._progress_range()[1]
        self.stage_index = min(index, len(self.stages) - 1)
        self.targets.update(self.stage.metrics)
        self.counts.update(self.stage.counts)
        is_new_phase = self.phases_seen[-1] != self.phase
        if is_new_phase:
            self.phases_seen.append(self.phase)
        if is_new_phase or self.stage.note:
            note = f" ({self.stage.note})" if self.stage.note else ""
            out.event(self.id, "phase", f"{self.id}: {self.phase}{note}", s)
        if self.is_terminal:
            self.is_paused = False

    def _step_metrics(self, dt: float, rng: random.Random) -> None:
        ease = 1.0 - math.exp(-dt / METRIC_EASE_S)
        for name, target in self.targets.items():
            level = self.levels.get(name, target)
            level += (target - level) * ease
            self.levels[name] = level
            value = max(0.0, level * (1.0 + rng.gauss(0.0, self.noise.get(name, DEFAULT_NOISE))))
            self.values[name] = min(100.0, value) if name.endswith("_pct") else value

    # --- operator actions ----------------------------------------------------

    def refusal(self, action: str) -> str | None:
        """Why ``action`` does not fit the state now, or None if it does."""
        if action == "pause":
            if self.is_terminal:
                return f"migration is {self.status}"
            if self.is_paused:
                return "migration is already paused"
            if self.phase in ("aborting", "rolling_back"):
                return f"cannot pause while {self.phase}"
            return None
        if action == "resume":
            return None if self.is_paused else f"migration is not paused (status {self.status})"
        if action in ("abort", "rollback"):
            if self.phase in ("aborting", "rolling_back"):
                return f"migration is already {self.phase}"
            if action == "abort" and self.is_terminal:
                return f"migration is {self.status}; nothing to abort"
            if action == "rollback" and self.is_terminal and self.status != "completed":
                return f"migration is {self.status}; nothing to roll back"
            return None
        return f"unknown action {action}"

    def act(self, action: str, reason: str, s: float, out: Outbox) -> None:
        """Apply an operator action; raises ActionRefused with the reason if it does not fit."""
        refusal = self.refusal(action)
        if refusal is not None:
            raise ActionRefused(refusal)
        if action == "pause":
            self.is_paused = True
            out.event(self.id, "action", f"{self.id}: paused ({reason})", s)
        elif action == "resume":
            self.is_paused = False
            out.event(self.id, "action", f"{self.id}: resumed ({reason})", s)
        elif action == "abort":
            self._branch("aborting", reason, s, out)
        else:
            self._branch("rolling_back", reason, s, out)

    def failure_branch(self, first_phase: str) -> list[Stage]:
        """The stages after an abort or rollback; systems may override to change the figures."""
        if first_phase == "aborting":
            return [Stage("aborting", self.abort_s), Stage("aborted", status="aborted", metrics=self.baseline)]
        return [
            Stage("rolling_back", self.rollback_s, progress=(None, 0.0)),
            Stage("rolled_back", progress=(0.0, 0.0), status="rolled_back", metrics=self.baseline),
        ]

    def _branch(self, first_phase: str, reason: str, s: float, out: Outbox) -> None:
        self.entry_progress = self.progress
        self.is_paused = False
        self.stages = self.failure_branch(first_phase)
        self.stage_index = 0
        self.stage_run_s = 0.0
        # The script no longer applies, except that open breakers still close.
        self.cues = self.cues[: self._next_cue] + [c for c in self.cues[self._next_cue :] if c.kind == "breaker_close"]
        self.targets.update(self.stage.metrics)
        self.counts.update(self.stage.counts)
        self.phases_seen.append(first_phase)
        out.event(
            self.id, "phase", f"{self.id}: {first_phase} ({reason})" if reason else f"{self.id}: {first_phase}", s
        )
