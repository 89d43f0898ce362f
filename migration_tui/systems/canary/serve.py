"""The simulator's canary (seed 002) controller API: views of a ``Simulator`` as that controller's JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import Metric

from migration_tui.sim.api import ACTIONS, one, routes, static
from migration_tui.sim.metrics import gauge
from migration_tui.sim.simulator import Simulator


def _canary_side(m: Any, side: str) -> dict[str, Any]:
    return {
        "healthy": m.side_is_healthy(side),
        "error_rate": round(m.values.get(f"{side}_error_rate_pct", 0.0) / 100.0, 6),
        "p99_ms": round(m.values.get(f"{side}_p99_ms", 0.0), 3),
    }


def canary_status(sim: Simulator, m: Any) -> dict[str, Any]:
    new_pct = m.traffic_new_pct
    return {
        "id": m.id,
        "phase": m.phase_number,
        "phase_name": m.phase,
        "traffic_split": {"legacy": round(100.0 - new_pct, 2), "new": new_pct},
        "status": m.status,
        "legacy": _canary_side(m, "legacy"),
        "new": _canary_side(m, "new"),
        "started_at": sim.started_at,
        "health": m.health(sim.s),
    }


def canary_v2_health(sim: Simulator, m: Any) -> dict[str, Any]:
    side = _canary_side(m, "new")
    return {"status": m.health(sim.s).lower(), "error_rate": side["error_rate"], "p99_ms": side["p99_ms"]}


def canary_v2_metrics(sim: Simulator, m: Any) -> dict[str, Any]:
    side = _canary_side(m, "new")
    requests_new = m.values.get("requests_per_s", 0.0) * m.traffic_new_pct / 100.0
    return {
        "error_rate": side["error_rate"],
        "p99_ms": side["p99_ms"],
        "requests_per_s": round(requests_new, 3),
        "robots": int(m.values.get("robots", 0.0)),
    }


def canary_sync(sim: Simulator, m: Any) -> dict[str, Any]:
    return {"synced": int(m.values.get("robots", 0.0)), "lag_s": round(m.values.get("sync_lag_s", 0.0), 3)}


ROUTES = routes(
    [
        ("GET", "/health", static({"status": "ok", "service": "canary", "system": "legacy"})),
        ("GET", "/api/v2/health", one(canary_v2_health)),
        ("GET", "/api/v2/metrics", one(canary_v2_metrics)),
        ("GET", "/api/sync/status", one(canary_sync)),
        ("GET", "/api/canary/status", one(canary_status)),
        *[("POST", f"/api/canary/{action}", action) for action in ACTIONS],
    ]
)


def metrics(sim: Simulator) -> Iterator[Metric]:
    """The ``/metrics`` families of this system's simulated controller."""
    m = sim.migrations[0]
    phase = gauge("canary_phase", "Canary phase 1..5")
    phase.add_metric([], float(m.phase_number or 0))
    traffic = gauge("canary_traffic_new_percent", "Share of traffic on the new system")
    traffic.add_metric([], m.traffic_new_pct)
    error = gauge("canary_error_rate", "Error rate, 0..1", ("system",))
    p99 = gauge("canary_latency_p99_seconds", "p99 latency", ("system",))
    for side in ("legacy", "new"):
        error.add_metric([side], m.values.get(f"{side}_error_rate_pct", 0.0) / 100.0)
        p99.add_metric([side], m.values.get(f"{side}_p99_ms", 0.0) / 1000.0)
    requests = gauge("canary_requests_per_second", "Requests per second, both systems")
    requests.add_metric([], m.values.get("requests_per_s", 0.0))
    yield from (phase, traffic, error, p99, requests)
