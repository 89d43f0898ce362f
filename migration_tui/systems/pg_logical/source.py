"""The live source of the pg-logical system: polls a subscriber's and a publisher's catalogs.

Every poll reads, from the subscriber, ``pg_subscription`` with
``pg_stat_subscription_stats`` (enabled, slot, apply and sync error counts),
``pg_subscription_rel`` (each table's sync state) and ``pg_stat_subscription``
(the apply and sync workers, ``last_msg_receipt_time``); from the publisher,
``pg_replication_slots`` with ``pg_stat_replication`` (lag in bytes from the
slot's confirmed position, retained WAL, ``replay_lag``) and
``pg_stat_progress_copy`` (rows and bytes the initial copy has sent): five
statements a poll, whatever the number of tables (docs/performance.md).

Connections are read-only (``default_transaction_read_only``) with a short
``statement_timeout``, kept open between polls and opened again after a
failure. ``pg_subscription.subconninfo`` (which holds the publisher's password)
is never read. A DSN's password comes from libpq's own means (the DSN,
``PGPASSWORD``, ``~/.pgpass``); it is scrubbed from every emitted string and
masked wherever a DSN is shown (``masked``).

A subscriber that does not answer: ``source_error`` and a retry with backoff.
A publisher that does not answer: the subscriber's part is still shown (lag
unknown), then a ``source_error`` naming the publisher, at the next poll
interval, so the screen says ✖ within one or two intervals.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from migration_tui.events import Event
from migration_tui.model import controller_source, scoped_id
from migration_tui.sources.base import Backoff, Clock, Emit, scrub
from migration_tui.sources.controller import scope_reading
from migration_tui.sources.deltas import ParticipantsDiffer
from migration_tui.sources.http import sanitise
from migration_tui.store import MAX_PARTICIPANTS
from migration_tui.systems.pg_logical.reading import Memory, Subscription, Thresholds, read

log = logging.getLogger(__name__)

APPLICATION_NAME = "migration-tui"
MAX_SUBSCRIPTIONS = 200

SUBSCRIPTIONS = """
select s.oid, s.subname, s.subenabled, s.subslotname, st.apply_error_count, st.sync_error_count
from pg_subscription s
left join pg_stat_subscription_stats st on st.subid = s.oid
where s.subdbid = (select oid from pg_database where datname = current_database())
  and (%(name)s::text is null or s.subname = %(name)s::text)
order by s.subname
limit 200
"""
TABLES = """
select sr.srsubid, n.nspname, c.relname, sr.srsubstate
from pg_subscription_rel sr
join pg_class c on c.oid = sr.srrelid
join pg_namespace n on n.oid = c.relnamespace
where sr.srsubid = any(%(oids)s)
order by n.nspname, c.relname
"""
WORKERS = """
select w.subid, w.pid, n.nspname, c.relname, extract(epoch from w.last_msg_receipt_time)::float8
from pg_stat_subscription w
left join pg_class c on c.oid = w.relid
left join pg_namespace n on n.oid = c.relnamespace
where w.subid = any(%(oids)s)
"""
SLOTS = """
select r.slot_name, r.active,
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.confirmed_flush_lsn),
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.restart_lsn),
       pg_wal_lsn_diff(r.confirmed_flush_lsn, '0/0'),
       r.wal_status,
       extract(epoch from sr.replay_lag)::float8
from pg_replication_slots r
left join pg_stat_replication sr on sr.pid = r.active_pid
where r.slot_type = 'logical' and r.slot_name = any(%(slots)s)
"""
COPIES = """
select n.nspname, c.relname, p.tuples_processed, p.bytes_processed
from pg_stat_progress_copy p
join pg_class c on c.oid = p.relid
join pg_namespace n on n.oid = c.relnamespace
where p.datid = (select oid from pg_database where datname = current_database())
"""
#: The statements of one poll, in order (docs/performance.md counts them).
QUERIES = (SUBSCRIPTIONS, TABLES, WORKERS, SLOTS, COPIES)


def password_of(dsn: str) -> str | None:
    """The password a DSN (``key=value`` or ``postgresql://`` URI) carries, if any."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        return conninfo_to_dict(dsn).get("password") or None
    except Exception:  # noqa: BLE001 - an unreadable DSN: the caller masks all of it
        return None


def masked(dsn: str) -> str:
    """The DSN fit to show: its password replaced by ``****`` (an unreadable DSN is not shown at all)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - it may hold a password libpq could not find
        return "(a DSN libpq cannot read)"
    if parts.get("password"):
        parts["password"] = "****"
    return make_conninfo("", **{k: str(v) for k, v in parts.items()})


class PgLogicalSource:
    """Polls one subscriber (and its publisher) every ``poll_interval_s`` seconds; see the module docstring."""

    warnings: tuple[str, ...] = ()

    def __init__(
        self,
        publisher: str,
        subscriber: str,
        subscription: str | None = None,
        controller_name: str | None = None,
        poll_interval_s: float = 2.0,
        timeout_s: float = 5.0,
        thresholds: Thresholds | None = None,
        clock: Clock = time.time,
    ) -> None:
        self._publisher_dsn = publisher
        self._subscriber_dsn = subscriber
        self.subscription = subscription or None
        self.controller_name = controller_name
        self.name = controller_source(controller_name)
        self.poll_interval_s = poll_interval_s
        self.timeout_s = timeout_s
        self.thresholds = thresholds or Thresholds()
        self.clock = clock
        self.backoff = Backoff(base_s=poll_interval_s, cap_s=max(30.0, poll_interval_s))
        self._secrets = tuple(p for p in (password_of(publisher), password_of(subscriber)) if p)
        self._connections: dict[str, Any] = {}
        self._memory: dict[str, Memory] = {}
        self._seen: set[str] = set()
        self._participants = ParticipantsDiffer(MAX_PARTICIPANTS)
        self._last_ts = 0.0
        #: Statements sent by the last poll, per side (docs/performance.md).
        self.statements = {"subscriber": 0, "publisher": 0}

    def __repr__(self) -> str:  # the passwords are deliberately absent
        return (
            f"PgLogicalSource(publisher={masked(self._publisher_dsn)!r}, subscriber={masked(self._subscriber_dsn)!r})"
        )

    @property
    def publisher(self) -> str:
        """The publisher's DSN, masked."""
        return masked(self._publisher_dsn)

    @property
    def subscriber(self) -> str:
        """The subscriber's DSN, masked."""
        return masked(self._subscriber_dsn)

    # --- connections -----------------------------------------------------------

    async def connection(self, side: str) -> Any:
        """The open read-only connection to ``side`` ("publisher" or "subscriber"), connecting if needed."""
        import psycopg

        conn = self._connections.get(side)
        if conn is not None and not conn.closed:
            return conn
        dsn = self._publisher_dsn if side == "publisher" else self._subscriber_dsn
        timeout_ms = max(100, int(self.timeout_s * 1000 / 2))
        conn = await asyncio.wait_for(
            psycopg.AsyncConnection.connect(
                dsn,
                autocommit=True,
                connect_timeout=max(1, int(self.timeout_s)),
                application_name=APPLICATION_NAME,
                options=f"-c statement_timeout={timeout_ms} -c default_transaction_read_only=on"
                f" -c lock_timeout={timeout_ms}",
            ),
            self.timeout_s * 2,
        )
        self._connections[side] = conn
        return conn

    async def close(self) -> None:
        for conn in self._connections.values():
            try:
                await conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
        self._connections.clear()

    async def _query(self, side: str, statement: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        conn = await self.connection(side)
        self.statements[side] += 1
        try:
            cursor = await asyncio.wait_for(conn.execute(statement, params), self.timeout_s)
            return await cursor.fetchall()
        except BaseException:
            self._connections.pop(side, None)
            try:
                await conn.close()
            except Exception:  # noqa: BLE001
                pass
            raise

    # --- the loop --------------------------------------------------------------

    async def run(self, emit: Emit) -> None:
        """Poll until cancelled; never raises for anything the servers do."""
        try:
            while True:
                try:
                    reachable = await self.poll_once(emit)
                except (asyncio.CancelledError, KeyboardInterrupt):
                    raise
                except Exception as exc:  # a bug of ours must not end the feed
                    log.exception("pg-logical poll failed")
                    self._emit(emit, "source_error", {"error": f"internal error while polling: {type(exc).__name__}"})
                    reachable = False
                if reachable:
                    self.backoff.reset()
                    delay = self.poll_interval_s
                else:
                    delay = self.backoff.next_delay()
                await asyncio.sleep(delay)
        finally:
            await self.close()

    async def read_subscriber(self) -> list[Subscription]:
        rows = await self._query("subscriber", SUBSCRIPTIONS, {"name": self.subscription})
        subs: dict[int, Subscription] = {}
        for oid, name, enabled, slot, apply_errors, sync_errors in rows[:MAX_SUBSCRIPTIONS]:
            subs[oid] = Subscription(
                str(name), enabled=enabled, slot=slot, apply_errors=apply_errors, sync_errors=sync_errors
            )
        oids = list(subs)
        for subid, schema, table, state in await self._query("subscriber", TABLES, {"oids": oids}):
            subs[subid].tables[(str(schema), str(table))] = str(state)
        for subid, pid, schema, table, receipt in await self._query("subscriber", WORKERS, {"oids": oids}):
            sub = subs[subid]
            if table is None:
                sub.apply_pid = pid
                sub.last_msg_receipt = receipt
            elif pid is not None:
                sub.sync_workers[(str(schema), str(table))] = receipt
        return list(subs.values())

    async def read_publisher(self, subs: list[Subscription]) -> None:
        slots = [sub.slot for sub in subs if sub.slot]
        by_slot = {sub.slot: sub for sub in subs if sub.slot}
        for slot, active, lag, retained, confirmed, wal_status, lag_s in await self._query(
            "publisher", SLOTS, {"slots": slots}
        ):
            sub = by_slot[slot]
            sub.slot_found = True
            sub.slot_active, sub.lag_bytes, sub.retained_bytes = active, lag, retained
            sub.confirmed_lsn, sub.wal_status, sub.lag_s = confirmed, wal_status, lag_s
        copies = {
            (str(schema), str(table)): (rows, size)
            for schema, table, rows, size in await self._query("publisher", COPIES, {})
        }
        for sub in subs:
            sub.copies = {key: copies[key] for key in sub.tables if key in copies}

    async def poll_once(self, emit: Emit) -> bool:
        """One poll. True when the subscriber answered (even if the publisher did not)."""
        import psycopg

        self.statements = {"subscriber": 0, "publisher": 0}
        problems: list[str] = []
        try:
            subs = await self.read_subscriber()
        except (psycopg.Error, OSError, asyncio.TimeoutError) as exc:
            self._error(emit, [f"subscriber: {_words(exc)}"])
            return False
        publisher_ok = True
        try:
            await self.read_publisher(subs)
        except (psycopg.Error, OSError, asyncio.TimeoutError) as exc:
            publisher_ok = False
            problems.append(f"publisher: {_words(exc)}")
        if self.subscription is not None and not subs:
            problems.append(f"subscription {self.subscription!r} is not on the subscriber")
        now = self.clock()
        reading = read(subs, self._memory, now, publisher_ok, self.thresholds)
        if self.controller_name:
            scope_reading(reading, self.controller_name)
        listed = {scoped_id(self.controller_name, sub.name) for sub in subs}
        for gone in sorted(self._seen - listed):
            self._emit(emit, "migration_gone", {"id": gone})
            self._participants.forget(gone)
        self._seen = listed
        for migration in reading.migrations:
            self._emit(emit, "migration", migration)
        for migration_id, participants in reading.participants.items():
            change = self._participants.event(migration_id, participants)
            if change is not None:
                self._emit(emit, *change)
        if reading.breakers:
            self._emit(emit, "breakers", {"breakers": reading.breakers})
        if reading.metrics:
            self._emit(emit, "metrics", {"values": reading.metrics, "invalid": reading.metrics_invalid})
        if problems:
            self._error(emit, problems)
        else:
            self._emit(emit, "source_ok", {})
        return True

    # --- emitting --------------------------------------------------------------

    def _stamp(self) -> float:
        ts = max(self.clock(), self._last_ts + 1e-6)
        self._last_ts = ts
        return ts

    def _emit(self, emit: Emit, kind: str, data: dict[str, Any]) -> None:
        if self._secrets:
            data = scrub(data, self._secrets)
        emit(Event(self._stamp(), self.name, kind, data))

    def _error(self, emit: Emit, problems: list[str]) -> None:
        self._participants.forget()
        message = "; ".join(sanitise(p, self._secrets, limit=200) for p in problems[:3]) or "unknown error"
        self._emit(emit, "source_error", {"error": message})


def _words(exc: BaseException) -> str:
    """The server's (or libpq's) first line about a failure."""
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
