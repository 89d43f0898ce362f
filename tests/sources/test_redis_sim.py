"""RedisSource reads what the simulator publishes: its participants' heartbeats and its events."""

from __future__ import annotations

import asyncio

import pytest

from migration_tui.events import Event
from migration_tui.sources.redis import RedisSource
from tests.servers import async_wait_for

pytestmark = pytest.mark.servers


def participants_seen(events: list[Event]) -> set[str]:
    return {e.data["participant_id"] for e in events if e.kind == "heartbeat"}


async def test_simulator_heartbeats_and_events_arrive(redis_url: str) -> None:
    from migration_tui.sim.clock import VirtualClock
    from migration_tui.sim.server import start_in_thread

    events: list[Event] = []
    source = RedisSource(redis_url, poll_interval_s=0.2, timeout_s=1.0)
    task = asyncio.create_task(source.run(events.append))
    clock = VirtualClock()
    running = start_in_thread("2pc-commit", clock=clock, redis_url=redis_url)
    try:
        await async_wait_for(lambda: any(e.kind == "metrics" for e in events), 10)
        clock.advance(60)  # a minute of scenario: heartbeats from every participant, and phase events
        await async_wait_for(lambda: len(participants_seen(events)) >= 4, 15)
        await async_wait_for(lambda: any(e.kind == "log" for e in events), 15)
        beats = [e for e in events if e.kind == "heartbeat"]
        assert {b.data["migration_id"] for b in beats} == {"2pc-btcusdt"}
        assert participants_seen(events) == {"orderbook", "persistence", "marketdata", "engine"}
        assert all(1_700_000_000 <= b.data["at"] <= clock.now() for b in beats)  # the simulator's own clock
        assert [e for e in events if e.kind == "source_error"] == []
        logs = [e for e in events if e.kind == "log"]
        assert all(e.data.get("migration_id") == "2pc-btcusdt" for e in logs), logs[:3]
    finally:
        running.stop()
        task.cancel()
        # A source that ignores cancellation would hang the app's exit: fail here, clearly.
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 15)
