"""Running the pg-logical source against the real clusters and reading what it emitted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from migration_tui.events import Event
from migration_tui.store import Store
from migration_tui.systems.pg_logical.reading import Thresholds
from migration_tui.systems.pg_logical.source import PgLogicalSource
from tests.servers import Replication

#: Quick phases for tests: ready for cutover after the conditions held one second.
FAST = Thresholds(cutover_hold_s=1.0)


class Watched:
    """The source's events, a real Store fed with them, and shortcuts to what the tests look at."""

    def __init__(self, source: PgLogicalSource) -> None:
        self.source = source
        self.events: list[Event] = []
        self.store = Store()
        #: More places every event goes (a RecordingWriter's ``write``).
        self.sinks: list[Callable[[Event], None]] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)
        self.store.apply(event)
        for sink in self.sinks:
            sink(event)

    def migrations(self, migration_id: str) -> list[dict[str, Any]]:
        return [e.data for e in self.events if e.kind == "migration" and e.data["id"] == migration_id]

    def phases(self, migration_id: str) -> list[str]:
        seen: list[str] = []
        for data in self.migrations(migration_id):
            if not seen or seen[-1] != data["phase"]:
                seen.append(data["phase"])
        return seen

    def latest(self, migration_id: str) -> dict[str, Any] | None:
        found = self.migrations(migration_id)
        return found[-1] if found else None

    def values(self, series: str) -> list[float]:
        return [
            e.data["values"][series]
            for e in self.events
            if e.kind == "metrics" and e.data["values"].get(series) is not None
        ]


@asynccontextmanager
async def watching(
    replication: Replication,
    poll_s: float = 0.2,
    thresholds: Thresholds = FAST,
    sinks: tuple[Callable[[Event], None], ...] | list[Callable[[Event], None]] = (),
    **options: Any,
) -> AsyncIterator[Watched]:
    """The source polling the replication's two databases in a task, until the block ends."""
    source = PgLogicalSource(
        replication.publisher_dsn(),
        replication.subscriber_dsn(),
        poll_interval_s=poll_s,
        thresholds=thresholds,
        **options,
    )
    watched = Watched(source)
    watched.sinks.extend(sinks)
    task = asyncio.create_task(source.run(watched.emit))
    try:
        yield watched
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
