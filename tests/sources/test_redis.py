"""RedisSource against a real redis-server: heartbeats, events, health, and a server killed mid-run."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from migration_tui.config import Settings
from migration_tui.events import Event
from migration_tui.freshness import FreshnessState, freshness
from migration_tui.sources.redis import (
    EVENTS_CHANNEL,
    HEARTBEAT_STREAM,
    BadEntry,
    RedisSource,
    health_values,
    heartbeat_from_fields,
    log_from_message,
)
from migration_tui.store import Store
from tests.servers import RedisServer, async_wait_for

pytestmark = pytest.mark.servers


def of_kind(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e.kind == kind]


@pytest.fixture()
async def running(redis_url: str) -> AsyncIterator[tuple[RedisSource, list[Event]]]:
    """A RedisSource running against the fixture server, connected and past its first health poll."""
    events: list[Event] = []
    source = RedisSource.from_settings(Settings(redis=redis_url, poll_interval_s=0.2, timeout_s=1.0))
    task = asyncio.create_task(source.run(events.append))
    try:
        await async_wait_for(lambda: of_kind(events, "metrics"), 10)
        yield source, events
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def beat(server: RedisServer, participant: str, at: float | str | None = None, **extra: str) -> str:
    client = server.client()
    try:
        fields = {"migration_id": "mig-1", "participant_id": participant, "at": str(time.time() if at is None else at)}
        fields.update(extra)
        return client.xadd(HEARTBEAT_STREAM, fields)
    finally:
        client.close()


def publish(server: RedisServer, payload: str) -> None:
    client = server.client()
    try:
        client.publish(EVENTS_CHANNEL, payload)
    finally:
        client.close()


async def test_xadded_heartbeats_become_heartbeat_events(redis_server: RedisServer, redis_url: str) -> None:
    beat(redis_server, "before-connect", at=1000.0)  # older than the source: not replayed
    events: list[Event] = []
    source = RedisSource(redis_url, poll_interval_s=0.2, timeout_s=1.0)
    task = asyncio.create_task(source.run(events.append))
    try:
        await async_wait_for(lambda: of_kind(events, "metrics"), 10)
        for participant, at in (("orderbook", 1700000000.5), ("engine", 1700000001.25)):
            beat(redis_server, participant, at=at)
        beats = await async_wait_for(lambda: len(of_kind(events, "heartbeat")) >= 2 and of_kind(events, "heartbeat"))
        assert [b.data for b in beats] == [
            {"migration_id": "mig-1", "participant_id": "orderbook", "at": 1700000000.5},
            {"migration_id": "mig-1", "participant_id": "engine", "at": 1700000001.25},
        ]
        assert all(b.source == "redis" for b in beats)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_bad_heartbeats_are_source_errors_not_crashes(redis_server: RedisServer, running) -> None:
    _source, events = running
    beat(redis_server, "engine", at="not-a-time")
    beat(redis_server, "engine", at="nan")
    beat(redis_server, "", at=1.0)
    beat(redis_server, "persistence", at=1700000002.0)
    await async_wait_for(lambda: of_kind(events, "heartbeat"))
    errors = [e.data["error"] for e in of_kind(events, "source_error")]
    assert errors == [
        "redis: bad heartbeat: at is not a valid epoch time",
        "redis: bad heartbeat: at is not a valid epoch time",
        "redis: bad heartbeat: participant_id is missing",
    ]
    assert [e.data["participant_id"] for e in of_kind(events, "heartbeat")] == ["persistence"]


async def test_channel_messages_become_log_events(redis_server: RedisServer, running) -> None:
    _source, events = running
    publish(redis_server, "{not json")
    publish(
        redis_server,
        json.dumps({"migration_id": "mig-1", "kind": "phase", "message": "prepared -> committing", "at": 1.0}),
    )
    logs = await async_wait_for(lambda: of_kind(events, "log"))
    assert logs[0].data == {"message": "phase: prepared -> committing", "level": "info", "migration_id": "mig-1"}
    assert [e.data["error"] for e in of_kind(events, "source_error")] == [
        "redis: bad event message: not a JSON object with a message"
    ]


async def test_health_metrics(redis_server: RedisServer, running) -> None:
    _source, events = running
    values = of_kind(events, "metrics")[0].data["values"]
    assert set(values) == {"redis/ping_ms", "redis/used_memory_pct", "redis/connected_clients", "redis/hit_ratio_pct"}
    assert 0 <= values["redis/ping_ms"] < 1000
    assert values["redis/used_memory_pct"] is None  # maxmemory 0: no limit to compare with
    assert values["redis/connected_clients"] >= 1
    client = redis_server.client()
    try:
        client.config_set("maxmemory", str(512 * 1024 * 1024))
        seen = len(events)
        later = await async_wait_for(
            lambda: [
                e for e in of_kind(events[seen:], "metrics") if e.data["values"]["redis/used_memory_pct"] is not None
            ]
        )
        assert 0 < later[0].data["values"]["redis/used_memory_pct"] < 100
        ratio = later[0].data["values"]["redis/hit_ratio_pct"]
        assert ratio is None or 0 <= ratio <= 100
    finally:
        client.config_set("maxmemory", "0")
        client.close()


async def test_server_killed_mid_subscription_then_restarted(redis_server: RedisServer, running) -> None:
    _source, events = running
    beat(redis_server, "orderbook")
    await async_wait_for(lambda: of_kind(events, "heartbeat"))

    redis_server.stop(kill=True)
    errors = await async_wait_for(lambda: of_kind(events, "source_error"), 10)
    assert errors[0].data["error"].startswith("redis: connection lost")

    redis_server.start()
    gap_logs = await async_wait_for(lambda: [e for e in of_kind(events, "log") if "missed" in e.data["message"]], 15)
    assert gap_logs[0].data["level"] == "warning"
    after = events.index(gap_logs[0])
    beat(redis_server, "engine")
    publish(redis_server, json.dumps({"kind": "checkpoint", "message": "resubscribed"}))
    await async_wait_for(
        lambda: (
            any(e.kind == "heartbeat" and e.data["participant_id"] == "engine" for e in events[after:])
            and any(e.kind == "log" and e.data["message"] == "checkpoint: resubscribed" for e in events[after:])
        ),
        10,
    )
    assert events.index(errors[0]) < after

    store = Store()
    for event in list(events):
        store.apply(event)
    assert store.rejected_events == 0
    assert {p.id for p in store.participants_of("mig-1")} == {"orderbook", "engine"}
    assert freshness(store.source("redis"), 0.2, store.now).state is FreshnessState.FRESH


async def test_unreachable_server_is_reported_with_the_password_redacted(redis_server: RedisServer) -> None:
    url = f"redis://:hunter2secret@127.0.0.1:{redis_server.port}/0"
    redis_server.stop()
    try:
        events: list[Event] = []
        source = RedisSource(url, poll_interval_s=0.2, timeout_s=0.5)
        task = asyncio.create_task(source.run(events.append))
        try:
            errors = await async_wait_for(lambda: of_kind(events, "source_error"), 10)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert errors[0].data["error"].startswith("redis: cannot connect")
        assert all("hunter2secret" not in json.dumps(e.data) for e in events)
    finally:
        redis_server.start()


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"participant_id": "p", "at": "1.0"}, "migration_id is missing"),
        ({"migration_id": "m", "participant_id": "p\x1b[2J", "at": "1.0"}, "control characters"),
        ({"migration_id": "m", "participant_id": "p", "at": "inf"}, "at is not"),
        ({"migration_id": "m", "participant_id": "p", "at": "-5"}, "at is not"),
        ({"migration_id": "m", "participant_id": "p"}, "at is not"),
    ],
)
def test_heartbeat_validation(fields: dict[str, str], why: str) -> None:
    with pytest.raises(BadEntry, match=why):
        heartbeat_from_fields(fields)


def test_log_message_shape() -> None:
    assert log_from_message(json.dumps({"message": "x" * 900, "level": "error"}))["message"] == "x" * 500
    assert log_from_message(json.dumps({"message": "hi", "level": "shout"}))["level"] == "info"
    with pytest.raises(BadEntry):
        log_from_message(json.dumps(["message"]))


def test_health_values_from_info() -> None:
    info = {"used_memory": 50, "maxmemory": 200, "connected_clients": 3, "keyspace_hits": 3, "keyspace_misses": 1}
    assert health_values(info, 0.5) == {
        "redis/ping_ms": 0.5,
        "redis/used_memory_pct": 25.0,
        "redis/connected_clients": 3.0,
        "redis/hit_ratio_pct": 75.0,
    }
    empty = health_values({"used_memory": 5, "maxmemory": 0, "keyspace_hits": 0, "keyspace_misses": 0}, float("nan"))
    assert empty == {
        "redis/ping_ms": None,
        "redis/used_memory_pct": None,
        "redis/connected_clients": None,
        "redis/hit_ratio_pct": None,
    }
