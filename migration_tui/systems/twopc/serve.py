"""The simulator's trading-service (seeds 000 and 001) controller API: views of a ``Simulator`` as that controller's JSON."""

from __future__ import annotations

from typing import Any

from migration_tui.sim.api import ACTIONS, by_id, routes, static
from migration_tui.sim.engine import SimMigration
from migration_tui.sim.simulator import Simulator


def trading_migration(sim: Simulator, m: SimMigration) -> dict[str, Any]:
    percentage = m.progress if m.system == "orderbook-rollout" else m.config.get("migration_percentage", 100)
    return {
        "id": m.id,
        "pair": m.pair,
        "system": m.system,
        "status": m.status,
        "phase": m.phase,
        "progress": m.progress,
        "started_at": sim.started_at,
        "updated_at": sim.now(),
        "config": dict(m.config),
        "migration_percentage": percentage,
        "health": m.health(sim.s),
    }


def trading_participants(sim: Simulator, m: SimMigration) -> list[dict[str, Any]]:
    return [
        {
            "id": p.id,
            "type": p.type,
            "vote": p.vote,
            "is_healthy": p.is_healthy(sim.s),
            "last_heartbeat": None if p.last_heartbeat_s is None else sim.stamp(p.last_heartbeat_s),
        }
        for p in m.participants.values()
    ]


def trading_votes(sim: Simulator, m: SimMigration) -> dict[str, int]:
    tally = {"yes": 0, "no": 0, "pending": 0, "timeout": 0}
    for participant in m.participants.values():
        tally[participant.vote] = tally.get(participant.vote, 0) + 1
    return tally


def trading_health(sim: Simulator, m: SimMigration) -> dict[str, Any]:
    unhealthy = [p.id for p in m.participants.values() if not p.is_healthy(sim.s)]
    health = m.health(sim.s)
    return {
        "is_healthy": health == "HEALTHY",
        "health": health,
        "checks": {
            "participants_healthy": not unhealthy,
            "unhealthy_participants": unhealthy,
            "latency_p95_ms": round(m.values.get("latency_p95_ms", 0.0), 3),
            "error_rate_pct": round(m.values.get("error_rate_pct", 0.0), 4),
            "memory_pct": round(m.values.get("memory_pct", 0.0), 3),
            "breakers_open": [b.name for b in m.breakers.values() if b.state == "open"],
        },
    }


def trading_breakers(sim: Simulator, params: dict[str, str]) -> tuple[int, Any]:
    rows = []
    for m in sim.migrations:
        breaker = m.breakers.get(m.pair)
        rows.append(
            {
                "pair": m.pair,
                "open": breaker is not None and breaker.state == "open",
                "state": breaker.state if breaker else "closed",
                "reason": breaker.reason if breaker else "",
                "opens_10m": breaker.opens_within(sim.s) if breaker else 0,
            }
        )
    return 200, rows


def trading_rollout_status(sim: Simulator, params: dict[str, str]) -> tuple[int, Any]:
    rows = [
        {
            "pair": m.pair,
            "current_percentage": m.progress,
            "target_percentage": m.config.get("target_percentage", m.config.get("migration_percentage", 100)),
            "status": m.status,
        }
        for m in sim.migrations
    ]
    return 200, rows


ROUTES = routes(
    [
        ("GET", "/health", static({"status": "ok", "service": "trading-service"})),
        ("GET", "/api/v1/migrations", lambda sim, p: (200, [trading_migration(sim, m) for m in sim.migrations])),
        ("GET", "/api/v1/migrations/{id}", by_id(trading_migration)),
        ("GET", "/api/v1/migrations/{id}/participants", by_id(trading_participants)),
        ("GET", "/api/v1/migrations/{id}/votes", by_id(trading_votes)),
        ("GET", "/api/v1/migrations/{id}/health", by_id(trading_health)),
        *[("POST", f"/api/v1/migrations/{{id}}/{action}", action) for action in ACTIONS],
        ("GET", "/admin/circuit-breaker/status", trading_breakers),
        ("GET", "/admin/migration/status", trading_rollout_status),
    ]
)
