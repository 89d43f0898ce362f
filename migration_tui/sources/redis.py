"""The Redis source: server health, the heartbeat stream and the migration event channel.

Three loops share one connection session:

- health, every poll interval: PING latency, memory used against
  ``maxmemory``, connected clients and the keyspace hit ratio, as one
  ``metrics`` event (``redis/ping_ms``, ``redis/used_memory_pct``, ...);
- heartbeats: ``XREAD BLOCK`` on ``migration-tui:heartbeats``, starting at the
  stream's end when first connected and then from the last id read, one
  ``heartbeat`` event per valid entry (a bad entry is a ``source_error``);
- events: a subscription to ``migration-tui:events``, one ``log`` event per
  message.

If the server goes away, the source says so (``source_error``), reconnects
with ``sources.base.Backoff``, resubscribes, and logs that heartbeats may have
been missed in the gap: pub/sub messages sent meanwhile are gone, and a
restarted server without persistence has lost the stream too. Nothing missed
is assumed: the controller source re-reads every participant's last heartbeat
each poll, so ages stay true without this stream; heartbeats here only make
them fresher between polls.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Awaitable, Mapping
from typing import Any
from urllib.parse import urlsplit

from migration_tui.events import Event
from migration_tui.model import finite
from migration_tui.sources.base import Backoff, Clock, Emit, wall_clock

HEARTBEAT_STREAM = "migration-tui:heartbeats"
EVENTS_CHANNEL = "migration-tui:events"
XREAD_BLOCK_MS = 1000
XREAD_COUNT = 500
ID_CHARS = 256
MESSAGE_CHARS = 500
ERROR_CHARS = 160
LEVELS = ("info", "warning", "error")

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]+")


#: Longest wait for a client or pubsub to close before it is abandoned.
CLOSE_TIMEOUT_S = 2.0


class BadEntry(ValueError):
    """A stream entry or channel message that does not have the documented shape."""


def _identifier(fields: Mapping[str, Any], key: str) -> str:
    value = fields.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadEntry(f"{key} is missing")
    if len(value) > ID_CHARS or _UNPRINTABLE.search(value):
        raise BadEntry(f"{key} is too long or has control characters")
    return value


def heartbeat_from_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The ``heartbeat`` event data for one stream entry, or ``BadEntry`` saying what is wrong."""
    raw_at = fields.get("at")
    try:
        at = finite(float(raw_at), 0.0, 1e11) if isinstance(raw_at, str) else None
    except ValueError:
        at = None
    if at is None or at <= 0:
        raise BadEntry("at is not a valid epoch time")
    return {
        "migration_id": _identifier(fields, "migration_id"),
        "participant_id": _identifier(fields, "participant_id"),
        "at": at,
    }


def log_from_message(payload: Any) -> dict[str, Any]:
    """The ``log`` event data for one message on the events channel, or ``BadEntry``."""
    try:
        doc = json.loads(payload) if isinstance(payload, str) else None
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser goes
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("message"), str):
        raise BadEntry("not a JSON object with a message")
    kind = doc.get("kind")
    message = doc["message"][:MESSAGE_CHARS]
    data: dict[str, Any] = {
        "message": f"{kind[:64]}: {message}" if isinstance(kind, str) and kind else message,
        "level": doc["level"] if doc.get("level") in LEVELS else "info",
    }
    if isinstance(doc.get("migration_id"), str):
        data["migration_id"] = doc["migration_id"][:ID_CHARS]
    return data


def health_values(info: Mapping[str, Any], ping_ms: float) -> dict[str, float | None]:
    """The health series from an ``INFO`` answer and a measured PING."""
    used = finite(info.get("used_memory"), 0)
    limit = finite(info.get("maxmemory"), 0)
    hits = finite(info.get("keyspace_hits"), 0)
    misses = finite(info.get("keyspace_misses"), 0)
    lookups = None if hits is None or misses is None else hits + misses
    return {
        "redis/ping_ms": round(ping_ms, 3) if math.isfinite(ping_ms) else None,
        "redis/used_memory_pct": None if used is None or not limit else round(100.0 * used / limit, 3),
        "redis/connected_clients": finite(info.get("connected_clients"), 0),
        "redis/hit_ratio_pct": None if not lookups else round(100.0 * hits / lookups, 3),  # type: ignore[operator]
    }


class RedisSource:
    """Health, heartbeats and events from one Redis; reconnects by itself."""

    name = "redis"
    warnings: tuple[str, ...] = ()

    def __init__(
        self,
        url: str,
        poll_interval_s: float = 2.0,
        timeout_s: float = 5.0,
        clock: Clock = wall_clock,
        backoff: Backoff | None = None,
        stream: str = HEARTBEAT_STREAM,
        channel: str = EVENTS_CHANNEL,
    ) -> None:
        self.url = url
        self.poll_interval_s = poll_interval_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.backoff = backoff or Backoff(base_s=0.25, cap_s=max(10.0, poll_interval_s))
        self.stream = stream
        self.channel = channel
        self.last_id: str | None = None
        self._password = urlsplit(url).password or ""

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> RedisSource:
        if not settings.redis:
            raise ValueError("no Redis URL configured")
        return cls(settings.redis, poll_interval_s=settings.poll_interval_s, timeout_s=settings.timeout_s, **kwargs)

    def _error_text(self, exc: BaseException) -> str:
        text = str(exc) or type(exc).__name__
        if self._password:
            text = text.replace(self._password, "[redacted]")
        flat = _UNPRINTABLE.sub(" ", text).strip()
        return flat if len(flat) <= ERROR_CHARS else flat[: ERROR_CHARS - 1] + "…"

    def _client(self) -> Any:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        return Redis.from_url(
            self.url,
            decode_responses=True,
            encoding_errors="replace",
            socket_connect_timeout=self.timeout_s,
            socket_timeout=self.timeout_s + XREAD_BLOCK_MS / 1000,
            retry=Retry(NoBackoff(), 0),  # Backoff below decides when to try again
        )

    # --- the loop ----------------------------------------------------------------

    async def run(self, emit: Emit) -> None:
        """Connect, watch, and on any failure say so, back off and reconnect; ends only when cancelled."""
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import RedisError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        lost_at: float | None = None
        while True:
            client = self._client()
            connected = False
            try:
                await client.ping()
                connected = True
                self.backoff.reset()
                await self._session(client, emit, lost_at)
            except (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError) as exc:
                if _cancelling():
                    raise asyncio.CancelledError from exc  # asked to stop while a read timed out: stop
                what = "connection lost" if connected else "cannot connect"
                emit(
                    Event(self.clock(), self.name, "source_error", {"error": f"redis: {what}: {self._error_text(exc)}"})
                )
                if connected or lost_at is None:
                    lost_at = self.clock()
            except RedisError as exc:
                if _cancelling():
                    raise asyncio.CancelledError from exc
                emit(Event(self.clock(), self.name, "source_error", {"error": f"redis: {self._error_text(exc)}"}))
                if lost_at is None:
                    lost_at = self.clock()
            finally:
                await asyncio.shield(self._close(client))
            await asyncio.sleep(self.backoff.next_delay())

    async def _close(self, client: Any) -> None:
        try:
            # Bounded: closing a pubsub whose read was just cancelled can wait on its lock for
            # ever, and a source that cannot stop would hang the app's exit.
            await asyncio.wait_for(client.aclose(), CLOSE_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - closing a dead connection may fail in any way; nothing to report
            pass

    async def _session(self, client: Any, emit: Emit, lost_at: float | None) -> None:
        """Subscribe, find where the stream ends, then run the three loops until one fails."""
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            if self.last_id is None:
                newest = await client.xrevrange(self.stream, count=1)
                self.last_id = newest[0][0] if newest else "0-0"
            if lost_at is not None:
                gap_s = max(0.0, self.clock() - lost_at)
                message = (
                    f"redis: reconnected after {gap_s:.1f} s; heartbeats and events published in the gap may "
                    "have been missed (participants are re-read from the controller every poll)"
                )
                emit(Event(self.clock(), self.name, "log", {"message": message, "level": "warning"}))
            await _first_failure(self._health(client, emit), self._heartbeats(client, emit), self._events(pubsub, emit))
        finally:
            await asyncio.shield(self._close(pubsub))

    async def _health(self, client: Any, emit: Emit) -> None:
        while True:
            _stop_if_cancelled()  # redis-py can swallow a cancel inside a read and return
            started = time.perf_counter()
            await client.ping()
            ping_ms = (time.perf_counter() - started) * 1000.0
            info = await client.info()
            emit(Event(self.clock(), self.name, "metrics", {"values": health_values(info, ping_ms)}))
            await asyncio.sleep(self.poll_interval_s)

    async def _heartbeats(self, client: Any, emit: Emit) -> None:
        while True:
            _stop_if_cancelled()  # redis-py can swallow a cancel inside a read and return
            answer = await client.xread({self.stream: self.last_id or "0-0"}, count=XREAD_COUNT, block=XREAD_BLOCK_MS)
            for _stream, entries in answer or ():
                for entry_id, fields in entries:
                    self.last_id = entry_id
                    try:
                        data = heartbeat_from_fields(fields if isinstance(fields, Mapping) else {})
                    except BadEntry as exc:
                        emit(Event(self.clock(), self.name, "source_error", {"error": f"redis: bad heartbeat: {exc}"}))
                        continue
                    emit(Event(self.clock(), self.name, "heartbeat", data))

    async def _events(self, pubsub: Any, emit: Emit) -> None:
        while True:
            _stop_if_cancelled()  # redis-py can swallow a cancel inside a read and return
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if not message or message.get("type") != "message":
                continue
            try:
                data = log_from_message(message.get("data"))
            except BadEntry as exc:
                emit(Event(self.clock(), self.name, "source_error", {"error": f"redis: bad event message: {exc}"}))
                continue
            emit(Event(self.clock(), self.name, "log", data))


def _stop_if_cancelled() -> None:
    if _cancelling():
        raise asyncio.CancelledError


def _cancelling() -> bool:
    """True when this task has been asked to stop, even if a library turned that into another error."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)  # Python 3.11+
    return bool(cancelling is not None and cancelling())


async def _first_failure(*loops: Awaitable[None]) -> None:
    """Run endless loops together; when one raises, cancel the rest and raise its error."""
    tasks = [asyncio.ensure_future(loop) for loop in loops]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
