"""The simulator's Redis publishing against a real redis-server."""

from __future__ import annotations

import json
import time

import httpx
import redis

from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.redis_publisher import EVENTS_CHANNEL, HEARTBEATS_STREAM
from migration_tui.sim.server import start_in_thread

DEADLINE_S = 10.0


def wait_for(condition, what: str):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_heartbeats_go_to_the_stream_and_events_to_the_channel(sim_redis_url: str) -> None:
    client = redis.Redis.from_url(sim_redis_url, decode_responses=True)
    pubsub = client.pubsub()
    pubsub.subscribe(EVENTS_CHANNEL)
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"
    clock = VirtualClock()
    with start_in_thread("2pc-abort", clock=clock, redis_url=sim_redis_url) as running:
        clock.advance(60)
        entries = wait_for(
            lambda: client.xrange(HEARTBEATS_STREAM) if client.xlen(HEARTBEATS_STREAM) > 100 else None, "heartbeats"
        )
        fields = entries[0][1]
        assert set(fields) == {"migration_id", "participant_id", "at"}
        assert fields["migration_id"] == "2pc-ethusdt"
        assert running.controller.sim.started_at <= float(fields["at"]) <= clock.now()
        senders_after_silence = {
            f["participant_id"] for _, f in entries if float(f["at"]) > running.controller.sim.stamp(41)
        }
        assert senders_after_silence == {"orderbook", "persistence", "engine"}  # marketdata went quiet
        events = []
        while len(events) < 5:
            message = pubsub.get_message(timeout=5)
            assert message is not None, "expected more events"
            if message["type"] == "message":
                events.append(json.loads(message["data"]))
        assert set(events[0]) == {"migration_id", "kind", "message", "at"}
        assert [e["kind"] for e in events[:4]] == ["phase", "vote", "vote", "vote"]
    pubsub.close()
    client.close()


def test_redis_down_does_not_stop_the_simulator_and_publishing_resumes(launch_redis) -> None:
    from tests.sim.conftest import free_port

    port = free_port()  # nothing listens here yet
    clock = VirtualClock()
    with start_in_thread("2pc-commit", clock=clock, redis_url=f"redis://127.0.0.1:{port}/0") as running:
        publisher = running.publisher
        assert publisher is not None
        clock.advance(20)
        wait_for(lambda: publisher.is_failing, "the publisher to notice Redis is down")
        answer = httpx.get(f"{running.url}/api/v1/migrations/2pc-btcusdt", timeout=5)
        assert answer.status_code == 200 and answer.json()["phase"] == "preparing"  # the simulator carries on
        assert len(running.controller.sim.outbox) > 20  # and keeps what it could not send
        launch_redis(port)
        wait_for(lambda: not publisher.is_failing and publisher.published > 0, "publishing to resume")
        client = redis.Redis.from_url(f"redis://127.0.0.1:{port}/0", decode_responses=True)
        first = client.xrange(HEARTBEATS_STREAM, count=1)[0][1]
        client.close()
        assert float(first["at"]) < running.controller.sim.stamp(2)  # the backlog went out, oldest first
