"""Property tests for the parsers of outside data not already covered elsewhere.

Already covered, not repeated here: the controller profiles' normalisers with
arbitrary JSON (tests/sources/test_controller_profiles.py) and arbitrary
recording lines (tests/test_recording.py). Added here: Prometheus answers,
Redis payloads, hostile strings through every profile, and what the store and
the headless state make of any decoded recording line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migration_tui.events import KINDS, Event
from migration_tui.headless import state_dict
from migration_tui.recording import ReadStats, decode_event
from migration_tui.sources.profiles import PROFILES, get_profile
from migration_tui.sources.prometheus import PrometheusSource, QueryTemplate, _error_body, _sample, series_range
from migration_tui.sources.redis import BadEntry, health_values, heartbeat_from_fields, log_from_message
from migration_tui.store import Store
from tests.hostile.payloads import PAYLOADS

NOW = 1_700_000_000.0
DEEP = "[" * 100_000

numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
)
hostile = st.sampled_from(list(PAYLOADS.values()))
strings = st.one_of(st.text(max_size=20), hostile, st.sampled_from(["NaN", "+Inf", "-Inf", "1e400", "-5", "0x10"]))
scalars = st.one_of(st.none(), st.booleans(), numbers, strings)
json_ish = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)


def assert_true_number(value: Any, lo: float, hi: float, where: str) -> None:
    assert value is None or (isinstance(value, float) and math.isfinite(value) and lo <= value <= hi), (where, value)


# --- Prometheus answers ------------------------------------------------------------


def source() -> PrometheusSource:
    return PrometheusSource("http://127.0.0.1:9", {})


prom_sample = st.one_of(
    st.tuples(numbers, st.one_of(strings, numbers)).map(list),
    json_ish,
)
prom_item = st.one_of(
    st.fixed_dictionaries(
        {"metric": st.dictionaries(st.sampled_from(["pair", "__name__", "job"]), strings, max_size=3)},
        optional={"value": prom_sample, "values": st.lists(prom_sample, max_size=4)},
    ),
    json_ish,
)
prom_result = st.one_of(st.lists(prom_item, max_size=5), prom_sample, json_ish)
series_names = st.sampled_from(
    ["latency_p95_ms", "error_rate_pct", "throughput_ops", "memory_mb", "fleet/cpu_percent", "outbox_pending"]
)


@settings(max_examples=300, deadline=None)
@given(series=series_names, by=st.sampled_from([None, "pair"]), result=prom_result)
def test_any_prometheus_result_gives_true_numbers_or_gaps(series: str, by: str | None, result: Any) -> None:
    template = QueryTemplate(series, "q", None, by)
    invalid: list[str] = []
    values, error = source()._instant_values(template, result, invalid)
    assert error is None or isinstance(error, str)
    lo, hi = series_range(series)
    for name, value in values.items():
        assert isinstance(name, str) and name.endswith(series)
        assert_true_number(value, lo, hi, name)
    assert set(invalid) <= set(values)
    orjson.dumps(values)


@pytest.mark.parametrize(
    ("series", "raw", "shown"),
    [
        ("latency_p95_ms", "-0.5", None),  # a negative latency cannot be true
        ("latency_p95_ms", "+Inf", None),  # past the last bucket: invalid, not a number
        ("error_rate_pct", "250", None),  # a percentage over 100
        ("error_rate_pct", "-1", None),
        ("memory_mb", "-3", None),
        ("latency_p95_ms", "12.5", 12.5),
        ("error_rate_pct", "100", 100.0),
        ("fleet/cpu_percent", "350", 350.0),  # many cores: a fleet's CPU may pass 100
    ],
)
def test_prometheus_values_that_cannot_be_true_are_named_invalid(series: str, raw: str, shown: float | None) -> None:
    invalid: list[str] = []
    values, _ = source()._instant_values(QueryTemplate(series, "q"), [{"metric": {}, "value": [NOW, raw]}], invalid)
    assert values == {series: shown}
    assert invalid == ([] if shown is not None else [series])


def test_prometheus_nan_is_a_gap_not_invalid() -> None:
    invalid: list[str] = []
    values, _ = source()._instant_values(QueryTemplate("latency_p95_ms", "q"), [{"value": [NOW, "NaN"]}], invalid)
    assert values == {"latency_p95_ms": None} and invalid == []


@settings(max_examples=200, deadline=None)
@given(raw=json_ish)
def test_prometheus_sample_pairs(raw: Any) -> None:
    sample = _sample(raw)
    if sample is not None:
        ts, value = sample
        assert_true_number(ts, 0.0, 1e11, "ts")
        assert value is None or isinstance(value, float)


@pytest.mark.parametrize(
    "body",
    [repr(DEEP.encode()), repr(b"\xff\xfe"), repr(b'{"error": 5}'), "not a repr", repr(b'{"error": "\\u001b]52;c;x"}')],
)
def test_prometheus_error_bodies_never_raise(body: str) -> None:
    """A deeply nested error body raised RecursionError out of the poll and ended the source (fixed)."""
    assert isinstance(_error_body(body), str)


# --- Redis payloads ---------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(fields=st.dictionaries(st.sampled_from(["at", "migration_id", "participant_id", "x"]), strings, max_size=4))
def test_any_heartbeat_entry_is_an_event_or_a_bad_entry(fields: dict[str, str]) -> None:
    try:
        data = heartbeat_from_fields(fields)
    except BadEntry as exc:
        assert str(exc)
        return
    assert_true_number(data["at"], 1e-300, 1e11, "at")
    for key in ("migration_id", "participant_id"):
        assert not any(ch in data[key] for ch in "\x1b\x07\x9b\u202e\u2066\u200b")


@settings(max_examples=300, deadline=None)
@given(
    payload=st.one_of(
        strings,
        json_ish.map(json.dumps),
        st.dictionaries(st.sampled_from(["message", "level", "kind", "migration_id"]), scalars).map(json.dumps),
    )
)
def test_any_channel_message_is_a_log_or_a_bad_entry(payload: str) -> None:
    try:
        data = log_from_message(payload)
    except BadEntry:
        return
    assert isinstance(data["message"], str) and len(data["message"]) <= 600
    assert data["level"] in ("info", "warning", "error")
    assert Store().apply(Event(NOW, "redis", "log", data)) is None


def test_a_deeply_nested_channel_message_is_a_bad_entry() -> None:
    """Was a RecursionError that escaped RedisSource.run and killed the Redis feed (fixed)."""
    with pytest.raises(BadEntry):
        log_from_message(DEEP)


@settings(max_examples=200, deadline=None)
@given(
    info=st.dictionaries(
        st.sampled_from(["used_memory", "maxmemory", "keyspace_hits", "keyspace_misses", "connected_clients"]), scalars
    ),
    ping=numbers,
)
def test_any_info_answer_gives_true_numbers(info: dict[str, Any], ping: float) -> None:
    for name, value in health_values(info, float(ping)).items():
        assert value is None or math.isfinite(value), name


# --- hostile strings through every profile ------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(PROFILES)), data=st.data())
def test_hostile_strings_in_every_profile_field_are_kept_short_and_never_numbers(
    name: str, data: st.DataObject
) -> None:
    profile = get_profile(name)
    fields = ["id", "pair", "system", "status", "phase", "health", "scope", "phase_name", "migration_mode",
              "healthStatus", "version", "type", "vote", "reason", "state", "progress", "started_at", "startedAt"]  # fmt: skip
    item = {field: data.draw(hostile, label=field) for field in fields}
    items, _ = profile.discover([item] if not profile.single else item)
    bodies = {
        key: data.draw(st.one_of(st.just([item]), st.just(item)), label=key)
        for key in profile.paths(items)
        if key != "metrics"
    }
    reading = profile.normalise(items, bodies, NOW)

    def walk(value: Any) -> None:
        if isinstance(value, str):
            assert len(value) <= 512
        elif isinstance(value, float):
            assert math.isfinite(value)
        elif isinstance(value, Mapping):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for migration in reading.migrations:
        walk(migration)
        assert migration["progress"] is None  # a string is never read as a number
        assert migration["started_at"] is None
    walk(reading.participants)
    walk(reading.breakers or [])
    orjson.dumps([reading.migrations, reading.participants, reading.breakers])


# --- a decoded recording line, folded into the store -----------------------------------


event_data = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "migration_id",
            "participant_id",
            "participants",
            "breakers",
            "values",
            "at",
            "message",
            "level",
            "error",
            "action",
            "stage",
            "result",
            "progress",
            "status",
            "phase",
            "scope",
            "cpu_percent",
            "details",
            "invalid",
            "health_score",
            "pair",
            "system",
        ]  # fmt: skip
    ),
    json_ish,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(
    events=st.lists(
        st.fixed_dictionaries(
            {
                "ts": st.floats(0, 2e9),
                "source": st.one_of(hostile, st.sampled_from(["controller", "redis"])),
                "kind": st.sampled_from(sorted(KINDS)),
                "data": event_data,
            }
        ),
        max_size=12,
    )
)
def test_any_decoded_line_folds_into_a_state_that_serialises(events: list[dict[str, Any]]) -> None:
    store = Store()
    stats = ReadStats()
    for obj in events:
        event = decode_event(json.dumps(obj).encode(), stats)
        if event is not None:
            store.apply(event)
    assert store.events_applied + store.rejected_events + store.unknown_kinds == stats.events
    state = state_dict(store, store.now + 1.0, at=1.0)
    orjson.dumps(state)  # no NaN, no non-string keys, nothing unserialisable
    for migration in state["migrations"]:
        assert migration["progress"] is None or 0 <= migration["progress"] <= 100
    for value in state["series"].values():
        assert value is None or math.isfinite(value)
