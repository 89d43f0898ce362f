"""The headless state: the reduced store as one JSON object.

Keys pinned by ARCHITECTURE.md ("Headless state") are the ones scripts may
rely on; extra keys are allowed. ``now`` is the clock the ages are measured
against: the replay position in a replay, the wall clock when live.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

from migration_tui.frame import Frame
from migration_tui.rules import Rule
from migration_tui.store import Store

HEADLESS_VERSION = 1


def state_dict(
    store: Store,
    now: float,
    at: float | None = None,
    skipped_lines: int = 0,
    rules: Iterable[Rule] | None = None,
) -> dict[str, Any]:
    """``rules``: the rules in force (the rules file's); None = the built-in ones."""
    # The same frame the screens build at this instant: the same judgements, alerts and ranking.
    frame = Frame(store, now, None if rules is None else tuple(rules))
    judged = [item for items in frame.judgements.values() for item in items]
    migrations = []
    for migration in store.migrations.values():
        item = migration.to_dict()
        item["participants"] = [p.to_dict(now) for p in store.participants_of(migration.id)]
        own = {migration.scoped(migration.pair), migration.pair, migration.id} - {""}
        item["breakers"] = [b.to_dict() for name, b in store.breakers.items() if name in own]
        migrations.append(item)
    host = store.host.get("host")
    fleet = store.host.get("fleet")
    return {
        "version": HEADLESS_VERSION,
        "at": at,
        "now": now,
        "skipped_lines": skipped_lines,
        "migrations": migrations,
        "breakers": [b.to_dict() for b in store.breakers.values()],
        "series": {name: series.latest() for name, series in store.series.items()},
        "host": host.to_dict() if host is not None else {"cpu_percent": None, "memory_percent": None},
        "fleet": fleet.to_dict() if fleet is not None else None,
        "alerts": [alert.to_dict() for alert in frame.alerts],
        # Every rule that applies to each migration: firing, pending, ok or not_judged (with the reason).
        "rules": [item.to_dict() for item in judged],
        # Migration ids worst first, as the fleet view ranks them.
        "ranking": frame.ranking,
        "sources": {name: store.source(name).to_dict(now) for name in store.source_names()},
        "events_applied": store.events_applied,
        "rejected_events": store.rejected_events,
    }


def reduce_recording(path: str, at: float, rules: Iterable[Rule] | None = None) -> dict[str, Any]:
    """Stream a recording up to ``at`` seconds from its start and return the state.

    Streams (a gzip file is never decompressed to disk, and memory does not
    grow with the file). ``at`` past the end means the end.
    """
    from migration_tui.recording import RecordingReader, decode_chunks, is_gzip, open_binary

    reader = RecordingReader(path)
    store = Store()
    start = reader.started_at
    at = max(0.0, at)
    last: float | None = None
    reached_end = True
    stats = reader.stats
    # decode_chunks reads large pieces: a plain file needs no buffer of its own.
    with open_binary(reader.path) if is_gzip(reader.path) else open(reader.path, "rb", buffering=0) as fp:
        if reader.data_offset:
            fp.seek(reader.data_offset)
        chunks = decode_chunks(fp, stats, reader.data_offset)
        chunk = next(chunks, None)
        if start is None:  # no header: the recording starts at its first event
            while chunk is not None:
                if chunk.typed:  # never empty
                    start = chunk.events[0].ts  # type: ignore[index]
                    break
                first = next(chunk.events, None)  # type: ignore[call-overload]
                if first is not None:
                    start = first.ts
                    chunk.events = itertools.chain((first,), chunk.events)
                    break
                chunk = next(chunks, None)
        if start is not None:
            clock = -math.inf
            until = start + at
            while chunk is not None:
                clock, pending = store.fold_events(chunk.events, until, clock)
                if pending is not None:
                    chunk.stopped_at(pending)
                    reached_end = False
                    break
                chunk = None  # freed before the next one is read
                chunk = next(chunks, None)
            last = clock if clock != -math.inf else None
    if start is None:
        start = 0.0
    duration = None
    if reached_end:
        duration = max(0.0, (last if last is not None else start) - start)
        at = min(at, duration)
    state = state_dict(store, start + at, at=at, skipped_lines=reader.stats.skipped_lines, rules=rules)
    state["started_at"] = start
    state["duration"] = duration
    state["header_ok"] = reader.stats.header_ok
    return state


def summary(state: dict[str, Any]) -> str:
    """A few plain lines for a person (``--headless`` without ``--json``)."""
    lines = [
        f"at {state['at']:.1f}s, {len(state['migrations'])} migration(s), {state['skipped_lines']} line(s) skipped"
    ]
    for m in state["migrations"]:
        progress = "invalid" if m["progress"] is None else f"{m['progress']:.1f}%"
        lines.append(f"  {m['id']} [{m['system']}] {m['pair']} {m['status']} / {m['phase']} {progress}")
    for alert in state["alerts"]:
        lines.append(f"  {alert['state'].upper()} {alert['severity']}: {alert['message']}")
    unjudged: dict[str, int] = {}
    for item in state.get("rules", ()):
        if item["state"] == "not_judged":
            unjudged[item["reason"]] = unjudged.get(item["reason"], 0) + 1
    for reason, count in unjudged.items():
        lines.append(f"  NOT JUDGED: {count} rule(s): {reason}")
    return "\n".join(lines)
