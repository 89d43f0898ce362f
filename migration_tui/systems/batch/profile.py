"""The ``batch`` profile: seed 003, the schema migration engine with checkpoints.

One migration per controller, read from ``/api/migration/status``. The health
score is computed here from the counts with the seed's formula,
``100 - 5 x warnings - 15 x errors - 30 x critical`` floored at 0, never
taken from the server; with any count unknown the score is unknown.

``details`` keys of the migration event (null = unknown or invalid, invalid
ones named ``details.<key>``):

- ``documents_migrated``, ``documents_total``: counts
- ``docs_per_s``: documents per second
- ``eta_s``: seconds to completion (from ``estimatedCompletion``, else remaining / docs_per_s)
- ``retries``: count
- ``last_checkpoint_documents``, ``last_checkpoint_at`` (epoch s)
- ``warnings``, ``errors``, ``critical``: counts behind the health score
- ``failure_rate_pct``: 0..100
- ``response_time_ms``, ``memory_mb``
- ``in_migration``: bool; ``schema_version``: str; ``health_status``: the server's own word

``health`` is ``healthStatus`` upper-cased (HEALTHY / DEGRADED / CRITICAL / MAINTENANCE).
``progress`` is documents migrated / total. Series: ``docs_per_s``, ``failure_rate_pct``,
``response_time_ms``, ``memory_mb``, ``progress_pct``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from migration_tui.sources.profiles._common import (
    MAX_COUNT,
    MAX_LATENCY_MS,
    Reading,
    as_dict,
    boolean,
    epoch,
    epoch_field,
    label,
    migration_record,
    number,
    ratio_pct,
)
from migration_tui.sources.profiles.base import SingleMigrationProfile


def health_score(warnings: float | None, errors: float | None, critical: float | None) -> float | None:
    """Seed 003's health score, floored at 0; None when any count is unknown."""
    if warnings is None or errors is None or critical is None:
        return None
    return max(0.0, 100.0 - 5.0 * warnings - 15.0 * errors - 30.0 * critical)


def _count(data: Mapping[str, Any], key: str, invalid: list[str], detail: str) -> float | None:
    return number(data, key, invalid, 0.0, MAX_COUNT, f"details.{detail}")


def migration_dict(status: Mapping[str, Any], now: float) -> dict[str, Any]:
    invalid: list[str] = []
    details: dict[str, Any] = {}
    migrated = details["documents_migrated"] = _count(status, "documentsMigrated", invalid, "documents_migrated")
    total = details["documents_total"] = _count(status, "documentsTotal", invalid, "documents_total")
    rate = details["docs_per_s"] = number(status, "docsPerSecond", invalid, 0.0, 1e12, "details.docs_per_s")
    details["retries"] = _count(status, "retries", invalid, "retries")
    checkpoint = as_dict(status.get("lastCheckpoint"))
    details["last_checkpoint_documents"] = _count(checkpoint, "documents", invalid, "last_checkpoint_documents")
    details["last_checkpoint_at"] = epoch_field(checkpoint, "at", invalid, "details.last_checkpoint_at")
    for key in ("warnings", "errors", "critical"):
        details[key] = _count(status, key, invalid, key)
    details["failure_rate_pct"] = ratio_pct(status, "failureRate", invalid, "details.failure_rate_pct")
    details["response_time_ms"] = number(
        status, "responseTimeMs", invalid, 0, MAX_LATENCY_MS, "details.response_time_ms"
    )
    details["memory_mb"] = number(status, "memoryMb", invalid, 0, 1e9, "details.memory_mb")
    details["in_migration"] = boolean(status, "inMigration", invalid, "details.in_migration")
    details["schema_version"] = label(status.get("version")) or None
    details["health_status"] = label(status.get("healthStatus")) or None

    progress = None
    if migrated is not None and total is not None:
        if migrated > total:
            invalid.append("progress")  # more done than there is: one of the two counts is wrong
        elif total > 0:
            progress = 100.0 * migrated / total
        else:
            progress = 100.0
    eta = None
    if status.get("estimatedCompletion") is not None:
        completion = epoch(status.get("estimatedCompletion"))
        if completion is None:
            invalid.append("details.eta_s")
        else:
            eta = max(0.0, completion - now)
    elif migrated is not None and total is not None and rate and total >= migrated:
        eta = (total - migrated) / rate
    details["eta_s"] = eta
    return migration_record(
        status,
        "batch",
        phase=label(status.get("phase"), "unknown") or "unknown",
        progress=progress,
        started_at=epoch_field(status, "startedAt", invalid, "started_at"),
        health=label(status.get("healthStatus")).upper(),
        health_score=health_score(details["warnings"], details["errors"], details["critical"]),
        details=details,
        invalid=invalid,
    )


SERIES_OF_DETAIL = {
    "docs_per_s": "docs_per_s",
    "failure_rate_pct": "failure_rate_pct",
    "response_time_ms": "response_time_ms",
    "memory_mb": "memory_mb",
}


class Batch(SingleMigrationProfile):
    name = "batch"
    default_system = "batch"
    list_path = "/api/migration/status"
    series_of_detail = SERIES_OF_DETAIL
    #: The status document is all this system is read from: nothing optional.
    endpoints = ()

    def migration(
        self, item: Mapping[str, Any], bodies: Mapping[str, Any], now: float, errors: list[str]
    ) -> dict[str, Any]:
        return migration_dict(item, now)

    def also(self, reading: Reading, migration: Mapping[str, Any]) -> None:
        reading.validated("progress_pct", migration["progress"], "progress" in migration["invalid"])


BATCH = Batch()
