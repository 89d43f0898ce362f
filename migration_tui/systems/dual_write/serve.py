"""The simulator's dual-write (seed 004) controller API: views of a ``Simulator`` as that controller's JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric

from migration_tui.sim.api import ACTIONS, one, routes
from migration_tui.sim.metrics import gauge
from migration_tui.sim.simulator import Simulator


def dual_write_status(sim: Simulator, m: Any) -> dict[str, Any]:
    return {
        "id": m.id,
        "migration_mode": m.mode,
        "status": m.status,
        "phase": m.phase,
        "progress": m.progress,
        "started_at": sim.started_at,
        "s3_write_success_rate": round(m.values.get("write_success_pct", 0.0) / 100.0, 6),
        "event_latency_ms": {q: round(m.values.get(f"latency_{q}_ms", 0.0), 3) for q in ("p50", "p95", "p99")},
        "outbox_pending": int(m.values.get("outbox_pending", 0.0)),
        "events_written": int(m.events_written),
        "events_per_s": round(m.values.get("events_per_s", 0.0), 2),
        "flags": m.flags(),
        "health": m.health(sim.s),
    }


def dual_write_health(sim: Simulator, params: dict[str, str]) -> tuple[int, Any]:
    return 200, {"status": "ok", "service": "dual-write", "migration_mode": sim.migrations[0].mode}


ROUTES = routes(
    [
        ("GET", "/health", dual_write_health),
        ("GET", "/api/v1/migration/status", one(dual_write_status)),
        *[("POST", f"/api/v1/migration/{action}", action) for action in ACTIONS],
    ]
)


def metrics(sim: Simulator) -> Iterator[Metric]:
    """The ``/metrics`` families of this system's simulated controller."""
    m = sim.migrations[0]
    success = gauge("dual_write_s3_write_success_ratio", "Object store write success, 0..1")
    success.add_metric([], m.values.get("write_success_pct", 0.0) / 100.0)
    latency = gauge("dual_write_event_latency_seconds", "Event write latency", ("quantile",))
    for quantile, key in (("0.5", "latency_p50_ms"), ("0.95", "latency_p95_ms"), ("0.99", "latency_p99_ms")):
        latency.add_metric([quantile], m.values.get(key, 0.0) / 1000.0)
    outbox = gauge("dual_write_outbox_pending", "Outbox rows not yet delivered")
    outbox.add_metric([], m.values.get("outbox_pending", 0.0))
    written = CounterMetricFamily("dual_write_events_written", "Events written")
    written.add_metric([], float(int(m.events_written)))
    rate = gauge("dual_write_events_per_second", "Events written per second")
    rate.add_metric([], m.values.get("events_per_s", 0.0))
    mode = gauge("dual_write_mode", "1 for the mode in force", ("mode",))
    for name in ("legacy", "dual_write", "new_read_path", "new_only"):
        mode.add_metric([name], 1.0 if m.mode == name else 0.0)
    yield from (success, latency, outbox, written, rate, mode)
