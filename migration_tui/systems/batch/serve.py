"""The simulator's batch (seed 003) controller API: views of a ``Simulator`` as that controller's JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric

from migration_tui.sim.api import ACTIONS, iso, one, routes, static
from migration_tui.sim.metrics import gauge
from migration_tui.sim.simulator import Simulator


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


ROUTES = routes(
    [
        ("GET", "/health", static({"status": "ok", "service": "batch"})),
        ("GET", "/api/migration/health", one(batch_health)),
        ("GET", "/api/migration/status", one(batch_status)),
        *[("POST", f"/api/migration/{action}", action) for action in ACTIONS],
    ]
)


def metrics(sim: Simulator) -> Iterator[Metric]:
    """The ``/metrics`` families of this system's simulated controller."""
    m = sim.migrations[0]
    simple = {
        "batch_documents_migrated": m.documents_done,
        "batch_documents_total": float(m.documents_total),
        "batch_docs_per_second": m.values.get("docs_per_s", 0.0),
        "batch_failure_rate": m.values.get("failure_rate_pct", 0.0) / 100.0,
        "batch_response_time_seconds": m.values.get("response_time_ms", 0.0) / 1000.0,
        "batch_memory_bytes": m.values.get("memory_mb", 0.0) * 1024 * 1024,
    }
    for name, value in simple.items():
        family = gauge(name, name.replace("_", " "))
        family.add_metric([], value)
        yield family
    retries = CounterMetricFamily("batch_retries", "Batches retried after a failure")
    retries.add_metric([], float(m.retries))
    yield retries
    issues = gauge("batch_issues", "Open issues by severity", ("severity",))
    for severity in ("warnings", "errors", "critical"):
        issues.add_metric([severity], float(m.counts.get(severity, 0)))
    yield issues
