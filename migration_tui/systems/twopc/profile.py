"""The ``trading-service`` profile: seed 000 (two-phase commit) and seed 001 (per-pair rollout).

Both seeds share one API (docs/controller-profiles.md); a migration's
``system`` field says which it is (``2pc`` when absent). Latency, error rate,
throughput and memory exist only in ``/metrics``, read here with
``prometheus_client``'s parser.

``details`` keys of the migration event (numbers validated, null = unknown
or invalid, invalid ones named ``details.<key>`` in ``invalid``):

- ``migration_percentage``: the pair's current rollout percentage, 0..100 (seed 001)
- ``target_percentage``: the pair's target percentage, 0..100 (seed 001)
- ``rollout_status``: the pair's status string from ``/admin/migration/status`` (seed 001)
- ``votes_yes``, ``votes_no``, ``votes_pending``, ``votes_timeout``: vote counts (seed 000)
- ``health_ok``: bool from ``/api/v1/migrations/{id}/health`` ``is_healthy``

Series: ``latency_p50_ms``, ``latency_p95_ms``, ``latency_p99_ms``, ``error_rate_pct``,
``throughput_ops``, ``memory_pct``. For a pair of an ``orderbook-rollout`` migration
(and for every pair when more than one 2pc pair shows up) they are prefixed with the
pair, ``BTCUSDT/latency_p95_ms``, plus ``BTCUSDT/migration_pct``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from migration_tui.model import finite, text
from migration_tui.sources.profiles._common import (
    MAX_COUNT,
    Reading,
    boolean,
    epoch_field,
    label,
    label_values,
    number,
    path_id,
    prometheus_series,
    scalar_table,
    upper_health,
)
from migration_tui.sources.profiles.base import Endpoint, Profile, kind_of, participant_dicts, unique_items

ROLLOUT = "orderbook-rollout"

#: Prometheus metric -> (series name, scale to the series' unit, largest valid raw value).
METRICS: dict[str, tuple[str, float, float]] = {
    "migration_latency_p50_seconds": ("latency_p50_ms", 1000.0, 86_400.0),
    "migration_latency_p95_seconds": ("latency_p95_ms", 1000.0, 86_400.0),
    "migration_latency_p99_seconds": ("latency_p99_ms", 1000.0, 86_400.0),
    "migration_error_rate": ("error_rate_pct", 100.0, 1.0),
    "migration_throughput_ops": ("throughput_ops", 1.0, 1e12),
    "migration_memory_ratio": ("memory_pct", 100.0, 1.0),
}


def _config(value: Any) -> dict[str, Any]:
    """The migration's config, kept to a few scalar entries (it is shown, never acted on)."""
    return scalar_table(value)


def migration_dict(
    item: Mapping[str, Any],
    default_system: str,
    rollout_row: Mapping[str, Any],
    votes: Any,
    health: Any,
    errors: list[str],
) -> dict[str, Any]:
    """One migration event's data from the list item and its per-migration answers."""
    invalid: list[str] = []
    details: dict[str, Any] = {}
    percentage = number(item, "migration_percentage", invalid, 0.0, 100.0, "details.migration_percentage")
    if percentage is None and "current_percentage" in rollout_row:
        percentage = number(rollout_row, "current_percentage", invalid, 0.0, 100.0, "details.migration_percentage")
    if percentage is not None or "migration_percentage" in item or rollout_row:
        details["migration_percentage"] = percentage
    if rollout_row:
        details["target_percentage"] = number(
            rollout_row, "target_percentage", invalid, 0.0, 100.0, "details.target_percentage"
        )
        details["rollout_status"] = label(rollout_row.get("status"))
    if votes is not None:
        if isinstance(votes, Mapping):
            for vote in ("yes", "no", "pending", "timeout"):
                details[f"votes_{vote}"] = number(votes, vote, invalid, 0.0, MAX_COUNT, f"details.votes_{vote}")
        else:
            errors.append(f"votes of {item['id']!r}: expected an object, got {kind_of(votes)}")
    if health is not None:
        if isinstance(health, Mapping):
            details["health_ok"] = boolean(health, "is_healthy", invalid, "details.health_ok")
        else:
            errors.append(f"health of {item['id']!r}: expected an object, got {kind_of(health)}")
    return {
        "id": item["id"],
        "system": label(item.get("system"), default_system) or default_system,
        "pair": label(item.get("pair")),
        "status": label(item.get("status"), "unknown") or "unknown",
        "phase": label(item.get("phase"), "unknown") or "unknown",
        "progress": number(item, "progress", invalid, 0.0, 100.0),
        "started_at": epoch_field(item, "started_at", invalid),
        "health": upper_health(item.get("health")),
        "details": details,
        "config": _config(item.get("config")),
        "invalid": invalid,
    }


def metric_series(metrics_text: str, prefixed_pairs: set[str], plain_pair: str | None, reading: Reading) -> None:
    """Series values from Prometheus text into ``reading``; malformed text is one error, not a crash."""
    prometheus_series(metrics_text, METRICS, "pair", prefixed_pairs, plain_pair, reading)


def _metric_pairs(metrics_text: str) -> set[str]:
    """Pairs named in the text, found cheaply, for choosing which pair's series go unprefixed."""
    return label_values(metrics_text, "pair")


BREAKERS = "/admin/circuit-breaker/status"
ROLLOUT_STATUS = "/admin/migration/status"
DETAIL = "/api/v1/migrations/{id}"

#: Seed 000's runbook reads participants, votes and health per migration; the circuit
#: breakers and per-pair rollout status are seed 001's, and ``/metrics`` only adds the
#: series Prometheus may also give: a seed-000 controller need not serve them.
TRADING_SERVICE_ENDPOINTS = (
    Endpoint("participants", f"{DETAIL}/participants", what="participants"),
    Endpoint("votes", f"{DETAIL}/votes", what="vote counts"),
    Endpoint("health", f"{DETAIL}/health", what="the migration's health check"),
    Endpoint("breakers", BREAKERS, optional=True, what="circuit breakers"),
    Endpoint("rollout", ROLLOUT_STATUS, optional=True, what="per-pair rollout status"),
    Endpoint("metrics", "/metrics", optional=True, what="latency, error rate and throughput from the controller"),
)
#: Seed 001 (``--profile orderbook-rollout``): its own breakers and rollout status are
#: required; the per-migration health is seed 000's.
ORDERBOOK_ROLLOUT_ENDPOINTS = (
    Endpoint("participants", f"{DETAIL}/participants", optional=True, what="participants"),
    Endpoint("votes", f"{DETAIL}/votes", optional=True, what="vote counts"),
    Endpoint("health", f"{DETAIL}/health", optional=True, what="the migration's health check"),
    Endpoint("breakers", BREAKERS, what="circuit breakers"),
    Endpoint("rollout", ROLLOUT_STATUS, what="per-pair rollout status"),
    Endpoint("metrics", "/metrics", optional=True, what="latency, error rate and throughput from the controller"),
)


class TradingService(Profile):
    name = "trading-service"
    default_system = "2pc"
    list_path = "/api/v1/migrations"
    endpoints = TRADING_SERVICE_ENDPOINTS

    def __init__(
        self,
        default_system: str = "2pc",
        name: str = "trading-service",
        endpoints: tuple[Endpoint, ...] = TRADING_SERVICE_ENDPOINTS,
    ) -> None:
        self.default_system = default_system
        self.name = name
        self.endpoints = endpoints

    def paths(self, detail_items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        wanted = {"breakers": BREAKERS, "rollout": ROLLOUT_STATUS, "metrics": "/metrics"}
        for item in detail_items:
            migration_id = item["id"]
            base = f"/api/v1/migrations/{path_id(migration_id)}"
            wanted[f"health:{migration_id}"] = f"{base}/health"
            if (label(item.get("system"), self.default_system) or self.default_system) != ROLLOUT:
                # participants and votes belong to the two-phase commit; a per-pair rollout has neither
                wanted[f"participants:{migration_id}"] = f"{base}/participants"
                wanted[f"votes:{migration_id}"] = f"{base}/votes"
        return wanted

    def normalise(self, items: Sequence[Mapping[str, Any]], bodies: Mapping[str, Any], now: float) -> Reading:
        reading = Reading()
        rollout_rows: dict[str, Mapping[str, Any]] = {}
        if "rollout" in bodies:
            rows, errors = unique_items(bodies["rollout"], "/admin/migration/status", key="pair")
            reading.errors.extend(errors)
            rollout_rows = {row["pair"]: row for row in rows}
        prefixed: set[str] = set()
        plain: set[str] = set()
        for item in items:
            system = label(item.get("system"), self.default_system) or self.default_system
            migration = migration_dict(
                item,
                self.default_system,
                rollout_rows.get(text(item.get("pair")), {}) if system == ROLLOUT else {},
                bodies.get(f"votes:{item['id']}"),
                bodies.get(f"health:{item['id']}"),
                reading.errors,
            )
            reading.migrations.append(migration)
            pair = migration["pair"]
            if migration["system"] == ROLLOUT and pair:
                prefixed.add(pair)
                reading.series(f"{pair}/migration_pct", migration["details"].get("migration_percentage"), 0, 100)
            elif pair:
                plain.add(pair)
            key = f"participants:{item['id']}"
            if key in bodies:
                participants, errors = participant_dicts(bodies[key], f"participants of {item['id']!r}")
                reading.participants[item["id"]] = participants
                reading.errors.extend(errors)
        if "breakers" in bodies:
            reading.breakers = breaker_dicts(bodies["breakers"], reading.errors)
        metrics_text = bodies.get("metrics")
        if isinstance(metrics_text, str):
            if not plain:
                plain = _metric_pairs(metrics_text) - prefixed
            plain_pair = next(iter(plain)) if len(plain) == 1 else None
            metric_series(metrics_text, prefixed, plain_pair, reading)
        return reading


def breaker_dicts(body: Any, errors: list[str]) -> list[dict[str, Any]]:
    """Breakers as event dicts ``{name, state, reason, opens_10m}``; an unknown state is kept."""
    rows, row_errors = unique_items(body, "/admin/circuit-breaker/status", key="pair")
    errors.extend(row_errors)
    breakers = []
    for row in rows:
        state = row.get("state")
        if not isinstance(state, str):
            is_open = row.get("open")
            state = "open" if is_open is True else "closed" if is_open is False else "unknown"
        opens = finite(row.get("opens_10m"), 0, 1e9)
        if row.get("opens_10m") is not None and opens is None:
            errors.append(f"breaker {row['pair']!r}: opens_10m is not a valid count")
        breakers.append(
            {
                "name": row["pair"],
                "state": label(state, "unknown"),
                "open": label(state) == "open",
                "reason": text(row.get("reason"), "", 512),
                "opens_10m": None if opens is None else int(opens),
            }
        )
    return breakers


TRADING_SERVICE = TradingService()
