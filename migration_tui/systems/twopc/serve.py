"""The simulator's trading-service (seeds 000 and 001) controller API: views of a ``Simulator`` as that controller's JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric

from migration_tui.sim.api import ACTIONS, by_id, routes, static
from migration_tui.sim.engine import SimMigration
from migration_tui.sim.metrics import gauge
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


def metrics(sim: Simulator) -> Iterator[Metric]:
    """The ``/metrics`` families of this system's simulated controller."""
    per_pair = {
        "migration_latency_p50_seconds": ("latency_p50_ms", 0.001),
        "migration_latency_p95_seconds": ("latency_p95_ms", 0.001),
        "migration_latency_p99_seconds": ("latency_p99_ms", 0.001),
        "migration_error_rate": ("error_rate_pct", 0.01),
        "migration_throughput_ops": ("throughput_ops", 1.0),
    }
    for name, (key, scale) in per_pair.items():
        family = gauge(name, f"{key} of the pair's migration", ("pair",))
        for m in sim.migrations:
            family.add_metric([m.pair], m.values.get(key, 0.0) * scale)
        yield family
    memory = gauge("migration_memory_ratio", "Memory used, 0..1 (the highest of the migrations)")
    memory.add_metric([], max(m.values.get("memory_pct", 0.0) for m in sim.migrations) / 100.0)
    yield memory
    healthy = gauge("migration_participant_healthy", "1 if the participant heartbeats", ("migration_id", "participant"))
    for m in sim.migrations:
        for p in m.participants.values():
            healthy.add_metric([m.id, p.id], 1.0 if p.is_healthy(sim.s) else 0.0)
    yield healthy
    is_open = gauge("circuit_breaker_open", "1 while the pair's breaker is open", ("pair",))
    opens = CounterMetricFamily("circuit_breaker_opens", "Times the pair's breaker opened", labels=["pair"])
    for m in sim.migrations:
        breaker = m.breakers.get(m.pair)
        is_open.add_metric([m.pair], 1.0 if breaker is not None and breaker.state == "open" else 0.0)
        opens.add_metric([m.pair], float(len(breaker.opened_at_s)) if breaker is not None else 0.0)
    yield is_open
    yield opens
