"""The pure profile normalisers: arbitrary JSON-ish input never raises, never yields a bad number."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from migration_tui.model import Migration, Participant
from migration_tui.sources.profiles import PROFILES, get_profile, profile_from_health
from migration_tui.sources.profiles._common import Reading
from migration_tui.systems.batch.profile import health_score

NOW = 1_700_000_000.0

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12))
json_ish = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)

#: Field names the profiles read, so generated objects hit the interesting paths often.
FIELDS = [
    "id", "pair", "system", "status", "phase", "progress", "started_at", "health", "config", "migration_percentage",
    "vote", "type", "is_healthy", "last_heartbeat", "open", "state", "reason", "opens_10m", "current_percentage",
    "target_percentage", "yes", "no", "pending", "timeout", "phase_name", "traffic_split", "legacy", "new",
    "healthy", "error_rate", "p99_ms", "requests_per_s", "robots", "synced", "lag_s", "documentsMigrated",
    "documentsTotal", "docsPerSecond", "retries", "lastCheckpoint", "documents", "at", "warnings", "errors",
    "critical", "failureRate", "responseTimeMs", "memoryMb", "startedAt", "estimatedCompletion", "inMigration",
    "healthStatus", "migration_mode", "s3_write_success_rate", "event_latency_ms", "p50", "p95", "p99",
    "outbox_pending", "events_written", "flags", "ENABLE_DUAL_WRITE",
]  # fmt: skip
field_values = st.one_of(scalars, st.dictionaries(st.sampled_from(FIELDS), scalars, max_size=6))
objects = st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=12)
bodies_of = st.one_of(json_ish, objects, st.lists(objects, max_size=4))


def check_numbers(value: Any, where: str = "") -> None:
    """Every number anywhere in an event's data is finite and within the model's bounds."""
    if isinstance(value, float):
        assert math.isfinite(value) and abs(value) <= 1e15, where
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_numbers(item, f"{where}.{key}")
    elif isinstance(value, list):
        for item in value:
            check_numbers(item, where)


def check_reading(reading: Reading) -> None:
    for migration in reading.migrations:
        check_numbers(migration)
        model = Migration.from_dict(migration)
        assert set(migration["invalid"]) <= set(model.invalid)
        if model.progress is not None:
            assert 0 <= model.progress <= 100
    for participants in reading.participants.values():
        check_numbers(participants)
        ids = [p["id"] for p in participants]
        assert len(ids) == len(set(ids))
        for participant in participants:
            Participant.from_dict(participant)
    check_numbers(reading.breakers or [])
    check_numbers(reading.metrics)
    for name, value in reading.metrics.items():
        assert value is not None or name in reading.metrics_invalid
    orjson.dumps(
        [reading.migrations, reading.participants, reading.breakers, reading.metrics, reading.errors]
    )  # serialisable as a recording line, nothing silently turned into null
    assert all(isinstance(error, str) for error in reading.errors)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(PROFILES)), list_body=bodies_of, extra=st.data())
def test_any_json_never_raises_and_never_gives_a_bad_number(name: str, list_body: Any, extra: st.DataObject) -> None:
    profile = get_profile(name)
    items, errors = profile.discover(list_body)
    assert all(isinstance(error, str) for error in errors)
    paths = profile.paths(items)
    bodies = {}
    for key in paths:
        if key == "metrics":
            bodies[key] = extra.draw(st.text(max_size=200), label="metrics")
        else:
            bodies[key] = extra.draw(bodies_of, label=key)
    check_reading(profile.normalise(items, bodies, NOW))


@settings(max_examples=100, deadline=None)
@given(bad=st.one_of(st.just(float("nan")), st.just(float("inf")), st.just(-1), st.just(1e300), st.just(10**400)))
def test_out_of_range_numbers_become_null_and_are_named(bad: Any) -> None:
    batch = get_profile("batch")
    (item,), _ = batch.discover({"id": "b", "documentsMigrated": bad, "documentsTotal": 10, "warnings": bad})
    reading = batch.normalise([item], {}, NOW)
    (migration,) = reading.migrations
    assert migration["details"]["documents_migrated"] is None
    assert {"details.documents_migrated", "details.warnings"} <= set(migration["invalid"])
    assert migration["health_score"] is None  # one count unknown: no score rather than a flattering one
    assert migration["progress"] is None

    trading = get_profile("trading-service")
    items, _ = trading.discover([{"id": "m", "progress": bad}])
    reading = trading.normalise(items, {"participants:m": [{"id": "p", "last_heartbeat": bad}]}, NOW)
    assert reading.migrations[0]["progress"] is None and "progress" in reading.migrations[0]["invalid"]
    assert reading.participants["m"][0]["invalid"] == ("last_heartbeat",)


@given(
    warnings=st.integers(min_value=0, max_value=50),
    errors=st.integers(min_value=0, max_value=10),
    critical=st.integers(min_value=0, max_value=5),
)
def test_batch_health_score_is_the_seed_formula_and_ignores_the_server(
    warnings: int, errors: int, critical: int
) -> None:
    batch = get_profile("batch")
    status = {"id": "b", "warnings": warnings, "errors": errors, "critical": critical, "healthScore": 100}
    (item,), _ = batch.discover({**status, "health_score": 100})
    (migration,) = batch.normalise([item], {}, NOW).migrations
    expected = max(0, 100 - 5 * warnings - 15 * errors - 30 * critical)
    assert migration["health_score"] == expected == health_score(warnings, errors, critical)


def test_batch_eta_from_the_estimate_or_from_the_rate() -> None:
    batch = get_profile("batch")
    from_estimate = {"id": "b", "estimatedCompletion": "2023-11-14T22:15:00Z"}
    (migration,) = batch.normalise([from_estimate], {}, 1_699_999_200.0).migrations
    assert migration["details"]["eta_s"] == 900.0  # 22:15:00Z is epoch 1_700_000_100
    from_rate = {"id": "b", "documentsMigrated": 100, "documentsTotal": 300, "docsPerSecond": 4}
    (migration,) = batch.normalise([from_rate], {}, NOW).migrations
    assert migration["details"]["eta_s"] == 50.0
    no_zone = {"id": "b", "estimatedCompletion": "2023-11-14T22:15:00"}
    (migration,) = batch.normalise([no_zone], {}, NOW).migrations
    assert migration["details"]["eta_s"] is None and "details.eta_s" in migration["invalid"]


def test_canary_phase_from_its_number_and_the_split_as_progress() -> None:
    canary = get_profile("canary")
    status = {"id": "c", "phase": 3, "traffic_split": {"legacy": 75, "new": 25}, "new": {"error_rate": 0.02}}
    reading = canary.normalise([status], {"v2_metrics": {"requests_per_s": 120}}, NOW)
    (migration,) = reading.migrations
    assert (migration["phase"], migration["progress"]) == ("canary_25", 25.0)
    assert reading.metrics["error_rate_pct"] == 2.0 and reading.metrics["throughput_ops"] == 120
    broken = canary.normalise([{"id": "c", "phase": 2.5}], {}, NOW).migrations[0]
    assert broken["details"]["canary_phase"] is None and broken["phase"] == "unknown"


def test_orderbook_rollout_series_are_per_pair() -> None:
    trading = get_profile("trading-service")
    items, _ = trading.discover(
        [
            {"id": "r1", "system": "orderbook-rollout", "pair": "ETHUSDT", "migration_percentage": 25},
            {"id": "m1", "system": "2pc", "pair": "BTCUSDT"},
        ]
    )
    metrics = (
        'migration_latency_p95_seconds{pair="ETHUSDT"} 0.010\nmigration_latency_p95_seconds{pair="BTCUSDT"} 0.020\n'
    )
    reading = trading.normalise(
        items, {"metrics": metrics, "rollout": [{"pair": "ETHUSDT", "target_percentage": 50}]}, NOW
    )
    assert reading.metrics == {"ETHUSDT/migration_pct": 25.0, "ETHUSDT/latency_p95_ms": 10.0, "latency_p95_ms": 20.0}
    assert reading.migrations[0]["details"]["target_percentage"] == 50.0


def test_health_names_the_profile_only_when_known() -> None:
    assert profile_from_health({"service": "canary"}) is PROFILES["canary"]
    assert profile_from_health({"service": "something-else"}) is None
    assert profile_from_health(["canary"]) is None
