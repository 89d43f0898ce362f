"""The controller API of each profile (docs/controller-profiles.md), as views of a Simulator.

Each profile is a route table: (method, path pattern) -> a view that turns
the simulator's state into the JSON the real system would send, or the name
of an operator action. No IO here; ``controller.py`` does auth,
idempotency and encoding.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from migration_tui.sim.engine import SimMigration
from migration_tui.sim.simulator import Simulator

View = Callable[[Simulator, dict[str, str]], tuple[int, Any]]
ACTIONS = ("pause", "resume", "abort", "rollback")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    view: View | None = None
    #: For action routes: which action; the migration comes from ``{id}`` or is the profile's only one.
    action: str | None = None


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")


def not_found(what: str) -> tuple[int, Any]:
    return 404, {"error": f"{what} not found"}


def _one(view: Callable[[Simulator, SimMigration], Any]) -> View:
    """A view of the profile's single migration (canary, batch and dual-write run one each)."""
    return lambda sim, params: (200, view(sim, sim.migrations[0]))


def _by_id(view: Callable[[Simulator, SimMigration], Any]) -> View:
    def by_id(sim: Simulator, params: dict[str, str]) -> tuple[int, Any]:
        migration = sim.migration(params["id"])
        return (200, view(sim, migration)) if migration is not None else not_found(f"migration {params['id']}")

    return by_id


def _static(body: dict[str, Any]) -> View:
    return lambda sim, params: (200, dict(body))


# --- trading-service (seeds 000 and 001) -------------------------------------


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


# --- canary (seed 002) -------------------------------------------------------


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


# --- batch (seed 003) ----------------------------------------------------------


def batch_status(sim: Simulator, m: Any) -> dict[str, Any]:
    eta_s = m.eta_s
    return {
        "inMigration": not m.is_terminal and m.phase in ("preparing", "migrating", "validating"),
        "version": "2.0",
        "healthStatus": m.health_status(),
        "estimatedCompletion": None if eta_s is None else iso(sim.now() + eta_s / sim.speed),
        "etaSeconds": None if eta_s is None else round(eta_s, 1),
        "id": m.id,
        "phase": m.phase,
        "status": m.status,
        "documentsMigrated": int(m.documents_done),
        "documentsTotal": m.documents_total,
        "docsPerSecond": round(m.values.get("docs_per_s", 0.0), 2),
        "retries": m.retries,
        "lastCheckpoint": None
        if m.checkpoint_s is None
        else {"documents": m.checkpoint_documents, "at": sim.stamp(m.checkpoint_s)},
        "warnings": int(m.counts.get("warnings", 0)),
        "errors": int(m.counts.get("errors", 0)),
        "critical": int(m.counts.get("critical", 0)),
        "failureRate": round(m.values.get("failure_rate_pct", 0.0) / 100.0, 6),
        "responseTimeMs": round(m.values.get("response_time_ms", 0.0), 2),
        "memoryMb": round(m.values.get("memory_mb", 0.0), 2),
        "startedAt": sim.started_at,
    }


def batch_health(sim: Simulator, m: Any) -> dict[str, Any]:
    return {"status": "operational", "lastCheck": iso(sim.now()), "compatibilityLayer": True}


# --- dual-write (seed 004) -----------------------------------------------------


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


# --- the tables ----------------------------------------------------------------


def _routes(rows: list[tuple[str, str, View | str]]) -> tuple[Route, ...]:
    """Rows of (method, path with ``{id}``, view or action name) -> compiled routes."""
    routes = []
    for method, path, target in rows:
        pattern = re.compile("^" + re.escape(path).replace(r"\{id\}", r"(?P<id>[^/]+)") + "$")
        if isinstance(target, str):
            routes.append(Route(method, pattern, action=target))
        else:
            routes.append(Route(method, pattern, view=target))
    return tuple(routes)


METRICS = "metrics"  # marker: the controller renders /metrics itself

PROFILES: dict[str, tuple[Route, ...]] = {
    "trading-service": _routes(
        [
            ("GET", "/health", _static({"status": "ok", "service": "trading-service"})),
            ("GET", "/api/v1/migrations", lambda sim, p: (200, [trading_migration(sim, m) for m in sim.migrations])),
            ("GET", "/api/v1/migrations/{id}", _by_id(trading_migration)),
            ("GET", "/api/v1/migrations/{id}/participants", _by_id(trading_participants)),
            ("GET", "/api/v1/migrations/{id}/votes", _by_id(trading_votes)),
            ("GET", "/api/v1/migrations/{id}/health", _by_id(trading_health)),
            *[("POST", f"/api/v1/migrations/{{id}}/{action}", action) for action in ACTIONS],
            ("GET", "/admin/circuit-breaker/status", trading_breakers),
            ("GET", "/admin/migration/status", trading_rollout_status),
        ]
    ),
    "canary": _routes(
        [
            ("GET", "/health", _static({"status": "ok", "service": "canary", "system": "legacy"})),
            ("GET", "/api/v2/health", _one(canary_v2_health)),
            ("GET", "/api/v2/metrics", _one(canary_v2_metrics)),
            ("GET", "/api/sync/status", _one(canary_sync)),
            ("GET", "/api/canary/status", _one(canary_status)),
            *[("POST", f"/api/canary/{action}", action) for action in ACTIONS],
        ]
    ),
    "batch": _routes(
        [
            ("GET", "/health", _static({"status": "ok", "service": "batch"})),
            ("GET", "/api/migration/health", _one(batch_health)),
            ("GET", "/api/migration/status", _one(batch_status)),
            *[("POST", f"/api/migration/{action}", action) for action in ACTIONS],
        ]
    ),
    "dual-write": _routes(
        [
            ("GET", "/health", dual_write_health),
            ("GET", "/api/v1/migration/status", _one(dual_write_status)),
            *[("POST", f"/api/v1/migration/{action}", action) for action in ACTIONS],
        ]
    ),
}


def find(profile: str, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """The route for a request, its path parameters, and whether the path exists under another method."""
    path_exists = False
    for route in PROFILES[profile]:
        match = route.pattern.match(path)
        if match is None:
            continue
        if route.method == method:
            return route, match.groupdict(), True
        path_exists = True
    return None, {}, path_exists
