"""The relay: one poller in front of the controllers, many viewers behind Redis Streams.

``migration-tui relay`` runs the sources once (``Relay``) and appends every
event to a Redis Stream, one entry per event (field ``e``: the event in the
recording format's JSON shape, ``{"ts", "source", "kind", "data"}``), trimmed
with ``MAXLEN ~``. So a stream is a recording, and ``record --relay`` turns it
back into one.

Beside the stream (``NAME``) the relay keeps three keys:

- ``NAME:snapshot``: every ``snapshot_every`` events (and at least every
  ``snapshot_s`` seconds), the reduced state as a list of events
  (``state_events``) and the id of the last stream entry it includes. A viewer
  that joins late applies it, then reads on from that id, instead of reading
  the stream from its beginning.
- ``NAME:heartbeat``: the relay's clock, written every second, so a viewer can
  tell a quiet relay from a dead one.
- ``NAME:lease``: held by the one relay writing the stream (``SET NX`` with an
  expiry, renewed with the heartbeat). A second relay on the same stream is
  refused with a clear message.

Viewers (``RelaySource``) never write: they GET the snapshot and the
heartbeat and ``XREAD BLOCK`` the stream; a test connects them as a Redis user
that may only read. The relay is a source of its own on their screens
(``relay``), fresh while its heartbeat is; the upstream sources' events keep
their own names, so each upstream source's freshness is the relay's view of it.

Faults. Redis unreachable: the relay keeps up to ``buffer`` events and drops
the oldest beyond that, counting them; once Redis answers it writes what it
kept, then a ``log`` event saying how many it dropped and a ``metrics`` event
with every series it has seen set to null, so each series shows a gap there.
A viewer shows the relay ✖ within two poll intervals, reconnects with backoff
and resumes from the last id it applied; if the stream was trimmed past that
id meanwhile, it says how far and marks the gap the same way.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from migration_tui.events import Event
from migration_tui.store import Store

DEFAULT_STREAM = "migration-tui:relay"
#: Approximate length the stream is trimmed to (``XADD MAXLEN ~``).
MAXLEN = 100_000
SNAPSHOT_EVERY = 500
SNAPSHOT_S = 10.0
HEARTBEAT_S = 1.0
LEASE_S = 10
#: Events the relay keeps while Redis is unreachable; older ones are dropped (and counted).
BUFFER = 10_000
#: Most events one XREAD returns.
READ_COUNT = 1000
#: The source name of the relay on a viewer's screen.
RELAY_SOURCE = "relay"

#: Renew the lease only if it is still ours (an expired lease taken by another relay stays theirs).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class RelayRefused(RuntimeError):
    """Another relay holds the stream's lease."""


def keys(stream: str) -> tuple[str, str, str]:
    """The snapshot, heartbeat and lease keys of ``stream``."""
    return f"{stream}:snapshot", f"{stream}:heartbeat", f"{stream}:lease"


def state_events(store: Store) -> list[Event]:
    """Events that rebuild ``store``'s state in an empty store: its migrations, participants,
    breakers (with the times each opened, for the rules that count them), series and hosts, and
    each source's last answer and last error, each stamped when the store last heard it.

    Data events are stamped at their source's last success, so applying them never makes a failing
    source look fresh; a source's error comes after them. The log is not carried: the events
    themselves log what they imply (a migration seen, a breaker opened).
    """
    events: list[Event] = []
    sources = {name: store.source(name) for name in store.source_names()}
    now = store.now

    def stamp(source: str) -> float:
        health = sources.get(source)
        return health.last_success if health is not None and health.last_success is not None else now

    # Series first, oldest first, as one metrics event per timestamp.
    points: dict[float, dict[str, float | None]] = {}
    for name, series in store.series.items():
        for ts, value in series.points():
            points.setdefault(ts, {})[name] = value
    for ts in sorted(points):
        events.append(Event(ts, RELAY_SOURCE, "metrics", {"values": points[ts]}))
    for name, opens in store.breaker_opens.items():
        for ts in opens:
            events.append(Event(ts, RELAY_SOURCE, "breakers", {"breakers": [{"name": name, "state": "open"}]}))
            events.append(Event(ts, RELAY_SOURCE, "breakers", {"breakers": [{"name": name, "state": "closed"}]}))
    events.sort(key=lambda event: event.ts)
    if store.breakers:
        breakers = [breaker.to_dict() for breaker in store.breakers.values()]
        events.append(
            Event(max(now, events[-1].ts if events else now), RELAY_SOURCE, "breakers", {"breakers": breakers})
        )
    for migration in store.migrations.values():
        data = migration.to_dict()
        data["config"] = dict(migration.config)
        events.append(Event(stamp(migration.source_name), migration.source_name, "migration", data))
        participants = [
            {
                "id": p.id,
                "type": p.type,
                "vote": p.vote,
                "healthy": p.healthy,
                "last_heartbeat": p.last_heartbeat,
                "invalid": list(p.invalid),
            }
            for p in store.participants_of(migration.id)
        ]
        if participants:
            events.append(
                Event(
                    stamp(migration.source_name),
                    migration.source_name,
                    "participants",
                    {"migration_id": migration.id, "participants": participants},
                )
            )
    for scope, host in store.host.items():
        events.append(
            Event(
                stamp("host"), "host" if scope == "host" else RELAY_SOURCE, "host", {**host.to_dict(), "scope": scope}
            )
        )
    for name, health in sources.items():
        if name == RELAY_SOURCE:
            continue
        answered = (health.last_success, "source_ok", {"not_served": list(health.not_served)})
        failed = (health.last_error_at, "source_error", {"error": health.error or "unknown error"})
        for ts, kind, data in sorted((item for item in (answered, failed) if item[0] is not None), key=lambda i: i[0]):
            events.append(Event(ts, name, kind, data))
    return events


@dataclass
class RelayStats:
    """What the relay did, for its log lines and its exit summary."""

    written: int = 0
    dropped: int = 0
    snapshots: int = 0
    outages: int = 0


class Relay:
    """Runs ``sources`` and appends their events to a Redis Stream (see the module docstring).

    ``run`` raises ``RelayRefused`` if another relay holds the stream; otherwise it runs until
    cancelled and never raises for anything Redis does. ``say`` receives one line for the
    operator per thing worth saying (connected, lost, dropped, recovered).
    """

    def __init__(
        self,
        url: str,
        sources: list[Any],
        stream: str = DEFAULT_STREAM,
        *,
        maxlen: int = MAXLEN,
        snapshot_every: int = SNAPSHOT_EVERY,
        snapshot_s: float = SNAPSHOT_S,
        buffer: int = BUFFER,
        say: Callable[[str], None] = lambda line: None,
        clock: Callable[[], float] = time.time,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.url = url
        self.sources = sources
        self.stream = stream
        self.maxlen = maxlen
        self.snapshot_every = max(1, snapshot_every)
        self.snapshot_s = snapshot_s
        self.say = say
        self.clock = clock
        self.secrets = tuple(s for s in secrets if s)
        self.store = Store()
        self.stats = RelayStats()
        self._pending: deque[Event] = deque()
        self._buffer = max(1, buffer)
        self._wake = asyncio.Event()
        self._lease = str(uuid.uuid4())
        self._since_snapshot = 0
        self._last_snapshot = 0.0
        self._last_id: str | None = None
        self._dropped_unsaid = 0
        self._series_seen: set[str] = set()

    # --- events in -------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Take one event from a source: reduce it, and queue it for the stream."""
        if self.secrets:
            raw = orjson.dumps(event.to_json_obj())
            if any(secret.encode() in raw for secret in self.secrets):
                for secret in self.secrets:
                    raw = raw.replace(secret.encode(), b"[redacted]")
                obj = orjson.loads(raw)
                event = Event(obj["ts"], obj["source"], obj["kind"], obj["data"])
        self.store.apply(event)
        if event.kind == "metrics" and isinstance(event.data.get("values"), dict):
            self._series_seen.update(name for name in event.data["values"] if isinstance(name, str))
        if len(self._pending) >= self._buffer:
            self._pending.popleft()
            self.stats.dropped += 1
            self._dropped_unsaid += 1
        self._pending.append(event)
        self._wake.set()

    # --- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        from redis.exceptions import RedisError

        from migration_tui.sources.runner import SourceRunner

        client = self._client()
        try:
            # The lease first: a relay refused polls nothing. Redis down at the start is waited for.
            down = False
            while True:
                _stop_if_cancelled()
                try:
                    await self._take_lease(client)
                    break
                except (RedisError, OSError, asyncio.TimeoutError) as exc:
                    _stop_if_cancelled(exc)
                    if not down:
                        self.say(f"redis unreachable ({type(exc).__name__}): waiting for it before polling")
                        down = True
                    await asyncio.sleep(0.5)
            async with SourceRunner(self.sources, self.emit):
                await self._write_loop(client)
        finally:
            try:
                await asyncio.shield(self._release(client))
            finally:
                await asyncio.shield(_close(client))

    def _client(self) -> Any:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        return Redis.from_url(self.url, socket_connect_timeout=2.0, socket_timeout=5.0, retry=Retry(NoBackoff(), 0))

    async def _take_lease(self, client: Any) -> None:
        """Hold the stream's lease, or raise ``RelayRefused`` naming who holds it. A lease left by a
        relay that died (its heartbeat no longer moves) is waited out, so a restarted relay carries on."""
        _snapshot, heartbeat, lease = keys(self.stream)
        watched: tuple[bytes | None, float] | None = None  # (heartbeat seen, when first seen)
        said = False
        while not await client.set(lease, self._lease, nx=True, ex=LEASE_S):
            holder = await client.get(lease)
            beat = await client.get(heartbeat)
            now = time.monotonic()
            if watched is not None and beat != watched[0]:
                raise RelayRefused(
                    f"another relay is writing stream {self.stream!r} (lease {lease!r} held by "
                    f"{(holder or b'?').decode(errors='replace')[:40]}, and its heartbeat moves): stop it, or give "
                    "this relay another --stream"
                )
            if watched is None:
                watched = (beat, now)
            elif now - watched[1] > 3 * HEARTBEAT_S and not said:
                ttl = await client.ttl(lease)
                self.say(f"the previous relay of {self.stream!r} stopped without letting go: waiting {max(0, ttl)} s")
                said = True
            await asyncio.sleep(0.25)

    async def _release(self, client: Any) -> None:
        try:
            _snapshot, _heartbeat, lease = keys(self.stream)
            if await client.get(lease) == self._lease.encode():
                await client.delete(lease)
        except Exception:  # noqa: BLE001 - Redis may be gone as we stop; the lease then expires on its own
            pass

    async def _write_loop(self, client: Any) -> None:
        from redis.exceptions import RedisError

        down_since: float | None = None
        next_beat = 0.0
        while True:
            _stop_if_cancelled()  # asyncio.wait_for in 3.11 may swallow a cancellation that races its result
            try:
                now = time.monotonic()
                if now >= next_beat:
                    await self._beat(client)
                    next_beat = now + HEARTBEAT_S
                await self._flush(client)
                if down_since is not None:
                    self.say(f"redis reachable again after {time.monotonic() - down_since:.0f} s")
                    down_since = None
                if self._dropped_unsaid:
                    self._mark_gap(self._dropped_unsaid)
                    self._dropped_unsaid = 0
                    await self._flush(client)
                if self._since_snapshot >= self.snapshot_every or (
                    self._since_snapshot and time.monotonic() - self._last_snapshot >= self.snapshot_s
                ):
                    await self._snapshot(client)
            except (RedisError, OSError, asyncio.TimeoutError) as exc:
                _stop_if_cancelled(exc)
                if down_since is None:
                    down_since = time.monotonic()
                    self.stats.outages += 1
                    self.say(f"redis unreachable ({type(exc).__name__}): keeping up to {self._buffer} events")
                await asyncio.sleep(min(HEARTBEAT_S, 0.5))
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.05, next_beat - time.monotonic()))
            except asyncio.TimeoutError:
                pass

    async def _beat(self, client: Any) -> None:
        _snapshot, heartbeat, lease = keys(self.stream)
        await client.set(heartbeat, repr(self.clock()), ex=max(LEASE_S, 60))
        if not await client.eval(_RENEW, 1, lease, self._lease, LEASE_S):
            # Our lease expired (Redis lost it, or we were stopped too long): take it again if free.
            await self._take_lease(client)

    async def _flush(self, client: Any) -> None:
        while self._pending:
            batch = list(self._pending)[:500]
            pipe = client.pipeline(transaction=False)
            for event in batch:
                pipe.xadd(
                    self.stream,
                    {"e": orjson.dumps(event.to_json_obj(), option=orjson.OPT_NON_STR_KEYS)},
                    maxlen=self.maxlen,
                    approximate=True,
                )
            ids = await pipe.execute()
            for _ in batch:
                self._pending.popleft()
            self._last_id = ids[-1].decode() if isinstance(ids[-1], bytes) else str(ids[-1])
            self.stats.written += len(batch)
            self._since_snapshot += len(batch)

    def _mark_gap(self, dropped: int) -> None:
        message = f"relay dropped {dropped} event(s) while Redis was unreachable: series have a gap here"
        self.say(message)
        now = self.clock()
        self.emit(Event(now, RELAY_SOURCE, "log", {"level": "warning", "message": message}))
        if self._series_seen:
            self.emit(Event(now, RELAY_SOURCE, "metrics", {"values": dict.fromkeys(sorted(self._series_seen))}))
        self._dropped_unsaid = 0

    async def _snapshot(self, client: Any) -> None:
        if self._last_id is None:
            return
        snapshot, _heartbeat, _lease = keys(self.stream)
        doc = {
            "format": "migration-tui/relay-snapshot",
            "version": 1,
            "last_id": self._last_id,
            "events": [event.to_json_obj() for event in state_events(self.store)],
        }
        await client.set(snapshot, orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS))
        self._since_snapshot = 0
        self._last_snapshot = time.monotonic()
        self.stats.snapshots += 1


class RelaySource:
    """A viewer's source: the relay's snapshot, then its stream (see the module docstring). Read-only."""

    name = RELAY_SOURCE

    def __init__(
        self,
        url: str,
        stream: str = DEFAULT_STREAM,
        poll_interval_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        backoff: Any = None,
    ) -> None:
        from migration_tui.sources.base import Backoff

        self.url = url
        self.stream = stream
        self.poll_interval_s = poll_interval_s
        self.clock = clock
        self.backoff = backoff or Backoff(base_s=poll_interval_s / 2, cap_s=max(5.0, poll_interval_s))
        #: The id of the last stream entry applied ("" before the first).
        self.last_id = ""
        self._series_seen: set[str] = set()
        self.warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"RelaySource(stream={self.stream!r})"

    async def run(self, emit: Callable[[Event], None]) -> None:
        from redis.exceptions import RedisError

        while True:
            _stop_if_cancelled()
            client = self._client()
            try:
                await self._session(client, emit)
            except (RedisError, OSError, asyncio.TimeoutError) as exc:
                _stop_if_cancelled(exc)
                emit(
                    Event(
                        self.clock(),
                        self.name,
                        "source_error",
                        {"error": f"redis: {type(exc).__name__}: {_short(exc)}"},
                    )
                )
            finally:
                await asyncio.shield(_close(client))
            await asyncio.sleep(self.backoff.next_delay())

    def _client(self) -> Any:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No socket timeout: a read's own timeout racing a cancellation can swallow the cancellation
        # (and the viewer would never stop). Each command is bounded by ``_bounded`` instead.
        return Redis.from_url(self.url, socket_connect_timeout=2.0, retry=Retry(NoBackoff(), 0))

    async def _bounded(self, awaitable: Any, extra_s: float = 0.0) -> Any:
        """One command, given up (``asyncio.TimeoutError``) if the server says nothing in time."""
        return await asyncio.wait_for(awaitable, timeout=2.0 + extra_s)

    async def _session(self, client: Any, emit: Callable[[Event], None]) -> None:
        snapshot_key, heartbeat_key, _lease = keys(self.stream)
        await self._bounded(client.ping())
        self.backoff.reset()
        if not self.last_id:
            self.last_id = await self._start(client, snapshot_key, emit)
        else:
            await self._check_trimmed(client, emit)
        while True:
            _stop_if_cancelled()
            answer = await self._bounded(
                client.xread(
                    {self.stream: self.last_id or "0-0"}, count=READ_COUNT, block=int(self.poll_interval_s * 1000)
                ),
                self.poll_interval_s,
            )
            for _stream, entries in answer or ():
                for entry_id, fields in entries:
                    self.last_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                    event = _decode(fields.get(b"e"))
                    if event is None:
                        emit(
                            Event(
                                self.clock(),
                                self.name,
                                "source_error",
                                {"error": f"stream entry {self.last_id} is not an event"},
                            )
                        )
                        continue
                    self._note(event)
                    emit(event)
            await self._heartbeat(client, heartbeat_key, emit)

    async def _start(self, client: Any, snapshot_key: str, emit: Callable[[Event], None]) -> str:
        """Apply the newest snapshot (if any) and return the stream id to read on from."""
        raw = await self._bounded(client.get(snapshot_key), 2.0)
        doc = None
        if raw:
            try:
                doc = orjson.loads(raw)
            except orjson.JSONDecodeError:
                doc = None
        if (
            isinstance(doc, dict)
            and doc.get("format") == "migration-tui/relay-snapshot"
            and isinstance(doc.get("last_id"), str)
        ):
            for obj in doc.get("events") or ():
                event = _from_obj(obj)
                if event is not None:
                    self._note(event)
                    emit(event)
            return doc["last_id"]
        if raw:
            emit(
                Event(
                    self.clock(),
                    self.name,
                    "log",
                    {"level": "warning", "message": "relay snapshot unreadable: reading the stream from its start"},
                )
            )
        return "0-0"

    async def _check_trimmed(self, client: Any, emit: Callable[[Event], None]) -> None:
        """After a reconnect: if the stream no longer holds the entry after ours, say so and mark a gap."""
        first = await self._bounded(client.xrange(self.stream, count=1))
        if first:
            first_id = first[0][0].decode() if isinstance(first[0][0], bytes) else str(first[0][0])
            if _id_key(first_id) > _id_key(self.last_id) and self.last_id != "0-0":
                message = f"relay stream trimmed past {self.last_id} while disconnected: events lost, series have a gap"
                emit(Event(self.clock(), self.name, "log", {"level": "warning", "message": message}))
                if self._series_seen:
                    emit(
                        Event(self.clock(), self.name, "metrics", {"values": dict.fromkeys(sorted(self._series_seen))})
                    )

    async def _heartbeat(self, client: Any, heartbeat_key: str, emit: Callable[[Event], None]) -> None:
        raw = await self._bounded(client.get(heartbeat_key))
        now = self.clock()
        try:
            beat = float(raw) if raw else None
        except ValueError:
            beat = None
        if beat is None:
            emit(Event(now, self.name, "source_error", {"error": "no relay is writing this stream (no heartbeat)"}))
        elif now - beat > 2 * max(HEARTBEAT_S, self.poll_interval_s):
            # The same words for the whole silence, so the log says it once (the age is on screen).
            stopped = time.strftime("%H:%M:%SZ", time.gmtime(beat))
            emit(Event(now, self.name, "source_error", {"error": f"relay silent: its heartbeat stopped at {stopped}"}))
        else:
            emit(Event(now, self.name, "source_ok", {}))

    def _note(self, event: Event) -> None:
        if event.kind == "metrics":
            values = event.data.get("values")
            if isinstance(values, dict):
                self._series_seen.update(name for name in values if isinstance(name, str))


def _stop_if_cancelled(exc: BaseException | None = None) -> None:
    """Stop when this task was asked to, even if redis-py turned the cancellation into another error
    (a read cancelled mid-way can surface as a connection or timeout error)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)  # Python 3.11+
    if cancelling is not None and cancelling():
        raise asyncio.CancelledError from exc


def _id_key(entry_id: str) -> tuple[int, int]:
    try:
        ms, _, seq = entry_id.partition("-")
        return int(ms), int(seq or 0)
    except ValueError:
        return (0, 0)


def _from_obj(obj: Any) -> Event | None:
    if not isinstance(obj, dict):
        return None
    ts, source, kind, data = obj.get("ts"), obj.get("source"), obj.get("kind"), obj.get("data")
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or ts != ts or abs(ts) == float("inf"):
        return None
    if not isinstance(source, str) or not isinstance(kind, str) or not isinstance(data, dict):
        return None
    return Event(float(ts), source[:80], kind[:40], data)


def _decode(raw: Any) -> Event | None:
    if not raw:
        return None
    try:
        return _from_obj(orjson.loads(raw))
    except orjson.JSONDecodeError:
        return None


def _short(exc: BaseException) -> str:
    from migration_tui.safe_text import clean

    return clean(str(exc) or type(exc).__name__, 160)


async def _close(client: Any) -> None:
    try:
        await asyncio.wait_for(client.aclose(), 2.0)
    except Exception:  # noqa: BLE001 - closing a dead connection may fail in any way; nothing to report
        pass


def run_relay(settings: Any, snapshot_every: int = SNAPSHOT_EVERY) -> int:
    """``migration-tui relay``: until Ctrl-C or SIGTERM; one line on stderr per thing worth saying."""
    import signal
    import sys
    from dataclasses import replace

    from migration_tui.safe_text import clean
    from migration_tui.sources.runner import build_live_sources

    def say(line: str) -> None:
        print(f"migration-tui relay: {clean(line, 300)}", file=sys.stderr, flush=True)

    sources = build_live_sources(replace(settings, relay=None))
    secrets = (settings.token, *(s for spec in settings.controller_specs() for s in spec.secrets))
    relay = Relay(
        settings.relay,
        sources,
        settings.relay_stream,
        snapshot_every=snapshot_every,
        say=say,
        secrets=tuple(s for s in secrets if s),
    )

    async def main() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(relay.run())
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(signum, task.cancel)
            except (NotImplementedError, RuntimeError, ValueError):
                continue
        say(f"writing stream {settings.relay_stream!r} from {len(sources)} source(s); Ctrl-C stops")
        try:
            await task
        except asyncio.CancelledError:
            pass
        except RelayRefused as exc:
            say(str(exc))
            return 2
        stats = relay.stats
        say(f"stopped: {stats.written} event(s) written, {stats.dropped} dropped, {stats.snapshots} snapshot(s)")
        return 0

    return asyncio.run(main())
