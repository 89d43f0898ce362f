"""Publishes the simulator's heartbeats and events to Redis, as docs/controller-profiles.md says.

* heartbeats: ``XADD migration-tui:heartbeats MAXLEN ~ 10000`` with fields
  ``migration_id``, ``participant_id``, ``at`` (epoch seconds as text);
* events: ``PUBLISH migration-tui:events`` JSON ``{"migration_id", "kind", "message", "at"}``
  for phase changes, votes, checkpoints, retries and breaker transitions.

It runs on its own thread with a synchronous redis-py client. Redis being
down never stops the simulator: the batch is put back, one line is logged
when publishing starts failing (and one when it recovers), and it retries
with capped backoff.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from typing import Any

from migration_tui.sim.simulator import Simulator
from migration_tui.sources.base import Backoff

HEARTBEATS_STREAM = "migration-tui:heartbeats"
EVENTS_CHANNEL = "migration-tui:events"
STREAM_MAXLEN = 10_000
#: Wall seconds between publishing rounds.
INTERVAL_S = 0.25

log = logging.getLogger("migration_tui.sim.redis")


class RedisPublisher:
    def __init__(self, sim: Simulator, redis_url: str, *, interval_s: float = INTERVAL_S) -> None:
        import redis

        self.sim = sim
        self.interval_s = interval_s
        self._client = redis.Redis.from_url(redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-redis-publisher", daemon=True)
        self._backoff = Backoff(base_s=0.5, cap_s=10.0, rng=random.Random(0))
        self.is_failing = False
        #: Items published so far (heartbeats + events), for tests and the status line.
        self.published = 0

    def start(self) -> RedisPublisher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        self._client.close()

    def publish_once(self) -> int:
        """Publish what is waiting; returns how many items went out. Raises on Redis errors."""
        items = self.sim.drain()
        if not items:
            return 0
        try:
            pipe = self._client.pipeline(transaction=False)
            for kind, payload in items:
                self._queue(pipe, kind, payload)
            pipe.execute()
        except Exception:
            self.sim.requeue(items)
            raise
        self.published += len(items)
        return len(items)

    @staticmethod
    def _queue(pipe: Any, kind: str, payload: dict[str, Any]) -> None:
        if kind == "heartbeat":
            fields = {
                "migration_id": payload["migration_id"],
                "participant_id": payload["participant_id"],
                "at": repr(float(payload["at"])),
            }
            pipe.xadd(HEARTBEATS_STREAM, fields, maxlen=STREAM_MAXLEN, approximate=True)
        else:
            pipe.publish(EVENTS_CHANNEL, json.dumps(payload, separators=(",", ":")))

    def _run(self) -> None:
        delay_s = self.interval_s
        while not self._stop.wait(delay_s):
            try:
                self.publish_once()
            except Exception as exc:  # any Redis or socket failure: keep the simulator alive
                if not self.is_failing:
                    log.warning("redis publish failed (%s: %s); retrying", type(exc).__name__, exc)
                self.is_failing = True
                delay_s = self._backoff.next_delay()
                continue
            if self.is_failing:
                log.warning("redis publish recovered")
            self.is_failing = False
            self._backoff.reset()
            delay_s = self.interval_s
