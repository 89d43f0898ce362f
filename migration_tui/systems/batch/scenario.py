"""Seed 003: batch schema migration with checkpoints (``batch`` profile).

120 000 documents at about 600 docs/s, a checkpoint every 10 000. Mid-run
the failure rate spikes for 40 s: batches are retried with exponential
backoff, warnings and errors pile up so the health score (100 - 5 x
warnings - 15 x errors - 30 x critical) drops to DEGRADED, then recovers
and the run validates and completes (about 4.5 minutes at 1x).
"""

from __future__ import annotations

import random

from migration_tui.sim.engine import INF, Outbox, SimMigration, Stage

DOCUMENTS_TOTAL = 120_000
CHECKPOINT_EVERY = 10_000
RETRY_BASE_S = 1.0
RETRY_CAP_S = 16.0
#: Batches fail often enough to be retried above this failure rate.
RETRY_FAILURE_PCT = 2.0

CALM = {"warnings": 0, "errors": 0, "critical": 0}
STEADY = {"docs_per_s": 600.0, "failure_rate_pct": 0.3, "response_time_ms": 240.0, "memory_mb": 310.0}

STAGES = (
    Stage("preparing", 15.0, metrics={**STEADY, "docs_per_s": 0.0}, counts=CALM, note="backup verified"),
    Stage("migrating", 70.0, metrics=STEADY),
    Stage(
        "migrating",
        15.0,
        metrics={"docs_per_s": 380.0, "failure_rate_pct": 4.0, "response_time_ms": 900.0, "memory_mb": 420.0},
        counts={"warnings": 2, "errors": 1, "critical": 0},
        note="failure rate rising: batches retried with backoff",
    ),
    Stage(
        "migrating",
        25.0,
        metrics={"docs_per_s": 260.0, "failure_rate_pct": 7.5, "response_time_ms": 1400.0, "memory_mb": 480.0},
        counts={"warnings": 3, "errors": 2, "critical": 0},
    ),
    Stage("migrating", 30.0, metrics=STEADY, counts={"warnings": 1, "errors": 0, "critical": 0}, note="recovering"),
    Stage("migrating", INF, counts=CALM),  # until every document is copied
    Stage("validating", 20.0, metrics={**STEADY, "docs_per_s": 0.0}, note="all documents copied"),
    Stage("completed", metrics={**STEADY, "docs_per_s": 0.0}, status="completed"),
)


def health_score(counts: dict[str, float]) -> float:
    """The seed's formula, floored at 0."""
    return max(
        0.0, 100.0 - 5 * counts.get("warnings", 0) - 15 * counts.get("errors", 0) - 30 * counts.get("critical", 0)
    )


class BatchMigration(SimMigration):
    system = "batch"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.documents_total = DOCUMENTS_TOTAL
        self.documents_done = 0.0
        self.retries = 0
        self.checkpoint_documents = 0
        self.checkpoint_s: float | None = None
        self._retry_delay_s = RETRY_BASE_S
        self._next_retry_s: float | None = None

    @property
    def progress(self) -> float:
        return round(100.0 * self.documents_done / self.documents_total, 2)

    @property
    def health_score(self) -> float:
        return health_score(self.counts)

    @property
    def eta_s(self) -> float | None:
        rate = self.values.get("docs_per_s", 0.0)
        remaining = self.documents_total - self.documents_done
        if self.phase != "migrating" or rate <= 0:
            return None
        return remaining / rate

    def health_status(self) -> str:
        """healthy / degraded / critical by score band; maintenance while paused."""
        if self.is_paused:
            return "maintenance"
        score = self.health_score
        return "healthy" if score >= 80 else "degraded" if score >= 50 else "critical"

    def health(self, s: float) -> str:
        return self.health_status().upper()

    def failure_branch(self, first_phase: str) -> list[Stage]:
        # Documents are not un-copied here: a rollback switches readers back to the old schema.
        stages = super().failure_branch(first_phase)
        return [
            Stage(st.phase, st.duration_s, metrics={**STEADY, "docs_per_s": 0.0}, status=st.status, counts=CALM)
            for st in stages
        ]

    def advance_work(self, s: float, dt: float, rng: random.Random, out: Outbox) -> None:
        if self.phase != "migrating":
            return
        self.documents_done = min(self.documents_total, self.documents_done + self.values.get("docs_per_s", 0.0) * dt)
        while self.documents_done >= self.checkpoint_documents + CHECKPOINT_EVERY:
            self.checkpoint_documents += CHECKPOINT_EVERY
            self.checkpoint_s = s
            out.event(self.id, "checkpoint", f"checkpoint at {self.checkpoint_documents} documents", s)
        self._retry(s, out)
        if self.documents_done >= self.documents_total:
            self.jump_to("validating", s, out)

    def _retry(self, s: float, out: Outbox) -> None:
        """Failed batches are retried after 1, 2, 4, ... s (capped); the delay resets once calm."""
        if self.values.get("failure_rate_pct", 0.0) <= RETRY_FAILURE_PCT:
            self._retry_delay_s = RETRY_BASE_S
            self._next_retry_s = None
            return
        if self._next_retry_s is None:
            self._next_retry_s = s + self._retry_delay_s
        elif s >= self._next_retry_s:
            self.retries += 1
            out.event(self.id, "retry", f"batch retry {self.retries} after {self._retry_delay_s:g} s backoff", s)
            self._retry_delay_s = min(RETRY_CAP_S, self._retry_delay_s * 2)
            self._next_retry_s = s + self._retry_delay_s


def build() -> list[SimMigration]:
    return [
        BatchMigration(
            "batch-schema-v2",
            "documents",
            STAGES,
            participants=(("worker-1", "worker"), ("worker-2", "worker"), ("worker-3", "worker")),
            config={"batchSize": 100, "checkpointInterval": CHECKPOINT_EVERY, "maxRetries": 3, "version": "2.0"},
            noise={"docs_per_s": 0.02},
        )
    ]
