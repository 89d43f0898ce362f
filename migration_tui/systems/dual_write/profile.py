"""The ``dual-write`` profile: seed 004, the event store moved to object storage by dual write.

One migration per controller, read from ``/api/v1/migration/status`` (ours).
The phase is the migration mode: legacy -> dual_write -> new_read_path -> new_only.

``details`` keys of the migration event (null = unknown or invalid, invalid
ones named ``details.<key>``):

- ``migration_mode``: legacy | dual_write | new_read_path | new_only (kept as sent if unknown)
- ``write_success_pct``: object store write success, 0..100
- ``latency_p50_ms``, ``latency_p95_ms``, ``latency_p99_ms``: event latency
- ``outbox_pending``: count; ``events_written``: count (a counter)
- ``flag_enable_s3_event_store``, ``flag_enable_dual_write``, ``flag_worker_read_from_s3``: bool

Series: ``write_success_pct``, ``latency_p50_ms``, ``latency_p95_ms``, ``latency_p99_ms``,
``outbox_pending``, and ``events_per_s`` (the source's rate of ``events_written``
between two polls; a gap after a counter reset).
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
    epoch_field,
    label,
    migration_record,
    number,
    ratio_pct,
)
from migration_tui.sources.profiles.base import SingleMigrationProfile

FLAGS = {
    "ENABLE_S3_EVENT_STORE": "flag_enable_s3_event_store",
    "ENABLE_DUAL_WRITE": "flag_enable_dual_write",
    "WORKER_READ_FROM_S3": "flag_worker_read_from_s3",
}


def migration_dict(status: Mapping[str, Any]) -> dict[str, Any]:
    invalid: list[str] = []
    details: dict[str, Any] = {}
    mode = label(status.get("migration_mode"), "unknown") or "unknown"
    details["migration_mode"] = mode
    details["write_success_pct"] = ratio_pct(status, "s3_write_success_rate", invalid, "details.write_success_pct")
    latency = as_dict(status.get("event_latency_ms"))
    for quantile in ("p50", "p95", "p99"):
        key = f"latency_{quantile}_ms"
        details[key] = number(latency, quantile, invalid, 0.0, MAX_LATENCY_MS, f"details.{key}")
    details["outbox_pending"] = number(status, "outbox_pending", invalid, 0.0, MAX_COUNT, "details.outbox_pending")
    details["events_written"] = number(status, "events_written", invalid, 0.0, MAX_COUNT, "details.events_written")
    flags = as_dict(status.get("flags"))
    for flag, key in FLAGS.items():
        details[key] = boolean(flags, flag, invalid, f"details.{key}")
    return migration_record(
        status,
        "dual-write",
        phase=mode,
        progress=number(status, "progress", invalid, 0.0, 100.0),
        started_at=epoch_field(status, "started_at", invalid),
        health=label(status.get("health")).upper(),
        details=details,
        invalid=invalid,
    )


SERIES_OF_DETAIL = {
    "write_success_pct": "write_success_pct",
    "latency_p50_ms": "latency_p50_ms",
    "latency_p95_ms": "latency_p95_ms",
    "latency_p99_ms": "latency_p99_ms",
    "outbox_pending": "outbox_pending",
}


class DualWrite(SingleMigrationProfile):
    name = "dual-write"
    default_system = "dual-write"
    list_path = "/api/v1/migration/status"
    series_of_detail = SERIES_OF_DETAIL
    #: The status document is all this system is read from: nothing optional.
    endpoints = ()

    def migration(
        self, item: Mapping[str, Any], bodies: Mapping[str, Any], now: float, errors: list[str]
    ) -> dict[str, Any]:
        return migration_dict(item)

    def also(self, reading: Reading, migration: Mapping[str, Any]) -> None:
        # Events written is a counter: the source turns it into events per second.
        written = migration["details"]["events_written"]
        reading.validated("events_per_s", written, "details.events_written" in migration["invalid"], counter=True)


DUAL_WRITE = DualWrite()
