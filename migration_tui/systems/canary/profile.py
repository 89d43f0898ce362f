"""The ``canary`` profile: seed 002, the heartbeat service's parallel run then canary 10/25/50/100 %.

One migration per controller, read from ``/api/canary/status`` (ours), with the
new system's own ``/api/v2/health`` and ``/api/v2/metrics`` and the sync
service's ``/api/sync/status`` from the seed.

``details`` keys of the migration event (null = unknown or invalid, invalid
ones named ``details.<key>``):

- ``canary_phase``: 1..5 (1 parallel_run, 2 canary_10, 3 canary_25, 4 canary_50, 5 full_100)
- ``traffic_legacy_pct``, ``traffic_new_pct``: the traffic split, 0..100
- ``legacy_healthy``, ``new_healthy``: bool
- ``legacy_error_rate_pct``, ``new_error_rate_pct``: 0..100
- ``legacy_p99_ms``, ``new_p99_ms``: milliseconds
- ``new_health_status``: ``healthy`` | ``degraded`` | ``unhealthy`` from ``/api/v2/health``
- ``requests_per_s``, ``robots``: from ``/api/v2/metrics``
- ``sync_synced``, ``sync_lag_s``: from ``/api/sync/status``

``progress`` is the share of traffic on the new system. Series: ``error_rate_pct`` and
``latency_p99_ms`` (new system), ``legacy/error_rate_pct``, ``legacy/latency_p99_ms``,
``traffic_new_pct``, ``throughput_ops``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from migration_tui.sources.profiles._common import (
    MAX_COUNT,
    MAX_LATENCY_MS,
    as_dict,
    boolean,
    epoch_field,
    label,
    migration_record,
    number,
    ratio_pct,
)
from migration_tui.sources.profiles.base import Endpoint, SingleMigrationProfile, kind_of

PHASES: dict[int, str] = {1: "parallel_run", 2: "canary_10", 3: "canary_25", 4: "canary_50", 5: "full_100"}


def _object(bodies: Mapping[str, Any], key: str, path: str, errors: list[str]) -> Mapping[str, Any]:
    """A body that should be an object; anything else is reported and read as empty."""
    if key not in bodies:
        return {}
    body = bodies[key]
    if not isinstance(body, Mapping):
        errors.append(f"{path}: expected an object, got {kind_of(body)}")
        return {}
    return body


def migration_dict(status: Mapping[str, Any], bodies: Mapping[str, Any], errors: list[str]) -> dict[str, Any]:
    invalid: list[str] = []
    details: dict[str, Any] = {}
    phase_number = number(status, "phase", invalid, 1, 5, "details.canary_phase")
    if phase_number is not None and phase_number != int(phase_number):
        invalid.append("details.canary_phase")
        phase_number = None
    details["canary_phase"] = None if phase_number is None else int(phase_number)
    phase = label(status.get("phase_name")) or PHASES.get(details["canary_phase"] or 0, "unknown")
    split = as_dict(status.get("traffic_split"))
    details["traffic_legacy_pct"] = number(split, "legacy", invalid, 0, 100, "details.traffic_legacy_pct")
    details["traffic_new_pct"] = number(split, "new", invalid, 0, 100, "details.traffic_new_pct")
    for side in ("legacy", "new"):
        system = as_dict(status.get(side))
        details[f"{side}_healthy"] = boolean(system, "healthy", invalid, f"details.{side}_healthy")
        details[f"{side}_error_rate_pct"] = ratio_pct(system, "error_rate", invalid, f"details.{side}_error_rate_pct")
        details[f"{side}_p99_ms"] = number(system, "p99_ms", invalid, 0, MAX_LATENCY_MS, f"details.{side}_p99_ms")
    health = _object(bodies, "v2_health", "/api/v2/health", errors)
    details["new_health_status"] = label(health.get("status")) or None
    metrics = _object(bodies, "v2_metrics", "/api/v2/metrics", errors)
    details["requests_per_s"] = number(metrics, "requests_per_s", invalid, 0, 1e12, "details.requests_per_s")
    details["robots"] = number(metrics, "robots", invalid, 0, MAX_COUNT, "details.robots")
    if details["new_error_rate_pct"] is None and "error_rate" in metrics:
        details["new_error_rate_pct"] = ratio_pct(metrics, "error_rate", invalid, "details.new_error_rate_pct")
    if details["new_p99_ms"] is None and "p99_ms" in metrics:
        details["new_p99_ms"] = number(metrics, "p99_ms", invalid, 0, MAX_LATENCY_MS, "details.new_p99_ms")
    sync = _object(bodies, "sync", "/api/sync/status", errors)
    details["sync_synced"] = number(sync, "synced", invalid, 0, MAX_COUNT, "details.sync_synced")
    details["sync_lag_s"] = number(sync, "lag_s", invalid, 0, 1e9, "details.sync_lag_s")
    return migration_record(
        status,
        "canary",
        phase=phase,
        progress=details["traffic_new_pct"],
        started_at=epoch_field(status, "started_at", invalid),
        health=label(health.get("status")).upper(),
        details=details,
        invalid=invalid,
    )


#: Series fed from a detail; an invalid detail makes its series a gap.
SERIES_OF_DETAIL = {
    "new_error_rate_pct": "error_rate_pct",
    "new_p99_ms": "latency_p99_ms",
    "legacy_error_rate_pct": "legacy/error_rate_pct",
    "legacy_p99_ms": "legacy/latency_p99_ms",
    "traffic_new_pct": "traffic_new_pct",
    "requests_per_s": "throughput_ops",
}


class Canary(SingleMigrationProfile):
    name = "canary"
    default_system = "canary"
    list_path = "/api/canary/status"
    series_of_detail = SERIES_OF_DETAIL
    #: In the seed the new system and the sync service are processes of their own (ports
    #: 8001, 8002): a controller in front of the legacy one may not serve their paths.
    endpoints = (
        Endpoint("v2_health", "/api/v2/health", optional=True, what="the new system's own health"),
        Endpoint("v2_metrics", "/api/v2/metrics", optional=True, what="the new system's requests and robots"),
        Endpoint("sync", "/api/sync/status", optional=True, what="sync lag"),
    )

    def paths(self, detail_items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        return {endpoint.key: endpoint.path for endpoint in self.endpoints}

    def migration(
        self, item: Mapping[str, Any], bodies: Mapping[str, Any], now: float, errors: list[str]
    ) -> dict[str, Any]:
        return migration_dict(item, bodies, errors)


CANARY = Canary()
