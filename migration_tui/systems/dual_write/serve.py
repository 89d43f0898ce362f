"""The simulator's dual-write (seed 004) controller API: views of a ``Simulator`` as that controller's JSON."""

from __future__ import annotations

from typing import Any

from migration_tui.sim.api import ACTIONS, one, routes
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
