"""The store: the one place where state lives.

``Store.apply(event)`` folds events, in order, into the latest migrations,
participants, breakers, bounded series, host resources, a bounded log and
each source's freshness. Nothing here does IO or knows about Textual.

``revision`` counts changes per section so that a widget can skip a repaint
when the part it shows did not change.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import msgspec
import orjson

from migration_tui.events import Event
from migration_tui.freshness import format_age
from migration_tui.model import (
    CircuitBreaker,
    HostResources,
    Migration,
    Participant,
    SourceHealth,
    finite,
    same_json,
    text,
)
from migration_tui.recording import HeartbeatEvent, HostData, MetricsEvent, ParticipantItem, ParticipantsData
from migration_tui.series import _NAN, Series

if TYPE_CHECKING:
    from migration_tui.recording import Row

LOG_LINES = 500
# Revisions are unique across every store in the process, so a store restored
# from a keyframe never repeats a number a widget has already drawn.
_REVISIONS = itertools.count(1)
BREAKER_WINDOW_S = 600.0
MAX_SERIES = 4096
MAX_MIGRATIONS = 10_000
MAX_PARTICIPANTS = 100_000
#: Progress changes kept per migration (``progress_changes``): enough for a rate over a minute.
PROGRESS_CHANGES = 128
#: Moments kept per migration for the charts' time axis (phase changes, operator actions).
MARKS = 256
#: An action's "sent" and "answered" within this many seconds are one decision: one mark.
ACTION_MARK_S = 30.0
#: Invalid samples remembered per series (their times), for "N invalid values not drawn".
INVALID_SAMPLES = 1024

# Per migration: the last listed items by id -> (item, parsed, stored).
#: Per migration, per listed id: the last item, its parse (None for a typed item, which needs
#: none: ``recording.ParticipantItem``) and the participant it made.
_Memo = dict[str, tuple[Any, Participant | None, Participant]]


class LogLine(msgspec.Struct, frozen=True):
    ts: float
    level: str
    source: str
    message: str


class Store:
    """Folds events into state. Call ``apply`` from one thread only."""

    def __init__(self, series_window_s: float = 3600.0, series_resolution_s: float = 1.0) -> None:
        self.series_window_s = series_window_s
        self.series_resolution_s = series_resolution_s
        self._series_capacity = max(1, int(series_window_s / series_resolution_s))
        self.migrations: dict[str, Migration] = {}
        self.participants: dict[str, dict[str, Participant]] = {}
        # Per migration: the items last listed (a full list, then deltas), by id.
        self._participant_memo: dict[str, _Memo] = {}
        # The last migration event's data and migration, by its id as given.
        #: Per migration id: its last data as JSON but for its progress (``_json_but``), and its parse.
        self._migration_memo: dict[str, tuple[bytes, Migration]] = {}
        # Per migration: participant id -> revision of its last change, oldest first.
        self._participant_changes: dict[str, dict[str, int]] = {}
        self._changes_since = next(_REVISIONS)
        # Per migration: (``revision["participants"]`` then, its participants, their health) for
        # ``participants_of`` and ``participant_health``: each frame reads them, a poll changes them.
        self._participants_read: dict[str, _ParticipantsRead] = {}
        self.breakers: dict[str, CircuitBreaker] = {}
        self.breaker_opens: dict[str, deque[float]] = {}
        self.series: dict[str, Series] = {}
        # Within ``fold``: the newest sample of each series in the current resolution bucket, not
        # yet appended (only the last of a bucket survives in a series); ``settle`` appends them.
        self._open: dict[Series, tuple[float, Any]] = {}
        self._series_dirty = False
        # Within ``fold``: heartbeats of known participants not yet applied, (migration, participant)
        # -> the newest time, in the order of their last change; ``settle`` applies them.
        self._beats: dict[tuple[str, str], float] = {}
        # Within ``fold_events``: series name -> (time, the values of the newest metrics event in
        # the current resolution bucket that has it); ``settle`` appends them.
        self._fold_samples: dict[str, tuple[float, dict[str, float | None]]] = {}
        self.host: dict[str, HostResources] = {}
        self.log: deque[LogLine] = deque(maxlen=LOG_LINES)
        # Per migration: (ts, progress) each time its progress changed, the first sighting first.
        self.progress_changes: dict[str, deque[tuple[float, float]]] = {}
        # Per migration: the last operator action event seen (its data, with "ts").
        self.last_action: dict[str, dict[str, Any]] = {}
        # Per migration: (ts, kind, words) of the moments the charts mark on their time axis,
        # kind "phase" or "action" (breaker opens are in ``breaker_opens``), oldest first.
        self.marks: dict[str, deque[tuple[float, str, str]]] = {}
        # Per series: when a sample was invalid (NaN, infinite, out of range, or declared so by
        # its source). The series holds a gap there; the charts count these under the gap.
        self.invalid_samples: dict[str, deque[float]] = {}
        self._sources: dict[str, _SourceRecord] = {}
        self.now: float = 0.0  # the newest event time seen
        self.events_applied = 0
        self.unknown_kinds = 0
        self.rejected_events = 0
        # A reader that must know which events ``fold_events`` refused (the report) sets a list:
        # each one it refuses is appended.
        self.rejected: list[Any] | None = None
        # A reader that reads the store as an event of a kind left it (the report) puts a call
        # here under that kind: ``fold_events`` calls it with the event's effective time and the
        # event, once the event is applied (never for one refused).
        self.observers: dict[str, Callable[[float, Any], None]] = {}
        self.revision: dict[str, int] = {
            section: next(_REVISIONS)
            for section in ("migrations", "participants", "breakers", "series", "host", "log", "sources")
        }
        self._handlers: dict[str, Callable[[float, str, dict[str, Any]], None]] = {
            "migration": self._on_migration,
            "migration_gone": self._on_migration_gone,
            "participants": self._on_participants,
            "participants_delta": self._on_participants_delta,
            "heartbeat": self._on_heartbeat,
            "breakers": self._on_breakers,
            "metrics": self._on_metrics,
            "host": self._on_host,
            "source_ok": self._on_source_ok,
            "source_error": self._on_source_error,
            "log": self._on_log,
            "action": self._on_action,
        }

    # --- applying events -----------------------------------------------------

    def apply(self, event: Event) -> None:
        ts, source, kind, data = event
        handler = self._handlers.get(kind)
        if handler is None:
            self.unknown_kinds += 1
            return
        if not isinstance(data, dict):
            self.rejected_events += 1
            return
        if ts > self.now:
            self.now = ts
        try:
            handler(ts, source, data)
        except (TypeError, ValueError, AttributeError, KeyError):
            # A well-formed line whose data has the wrong shape: count it, keep going.
            self.rejected_events += 1
            return
        self.events_applied += 1
        if kind not in ("source_error", "action"):  # an operator's action is not an answer from the source
            self._touch(source, ts)

    def fold(
        self, rows: Iterator[Row], until: float = math.inf, clock: float = -math.inf
    ) -> tuple[float, int, Row | None]:
        """Apply decoded rows (``recording.decode_rows``) in order, as ``apply`` would each one,
        at their effective time (``recording.monotonic``: one stamped before ``clock``, the time
        of the row before it, takes that time), until one's effective time is past ``until``.

        Returns the effective time of the last row read, its offset (-1 if none was read) and
        that row if it is past ``until`` (with its effective time; not applied), else None. The
        replay engine's and the headless reduction's loop: no ``Event`` and one call per row."""
        handlers = self._handlers
        sources = self._sources
        series = self.series
        participants = self.participants
        resolution = self.series_resolution_s
        quiet = ("source_error", "action")
        wrong_shape = (TypeError, ValueError, AttributeError, KeyError)
        now = self.now
        offset = -1
        applied = 0
        open_ = self._open
        open_bucket: float | None = None
        beats = self._beats
        try:
            for offset, ts, source, kind, data in rows:
                if ts < clock:
                    ts = clock
                else:
                    clock = ts
                if ts > until:
                    return clock, offset, (offset, ts, source, kind, data)
                if (
                    kind == "metrics"
                    and type(data) is dict
                    and type(values := data.get("values")) is dict
                    and not data.get("invalid")  # values a source refused: _on_metrics, below
                ):
                    # _on_metrics, coalesced: a series keeps one sample per resolution bucket (a
                    # later one replaces it), so within a bucket only each series' newest sample
                    # is kept aside, and appended (checked) when the bucket ends or the fold does.
                    if ts > now:
                        now = self.now = ts
                    bucket = ts // resolution if resolution > 0 else ts
                    if bucket != open_bucket:
                        if open_:
                            self.settle()
                        open_bucket = bucket
                    for name, value in values.items():
                        target = series.get(name)
                        if target is None:
                            if len(series) >= MAX_SERIES or not isinstance(name, str):
                                continue
                            target = series[name] = Series(self._series_capacity, resolution)
                        if (
                            (type(value) is not float or value != value or not -1e15 < value < 1e15)
                            and value is not None
                            and finite(value) is None
                        ):
                            self._invalid_sample(name, ts)  # counted even if a later sample replaces it
                        open_[target] = (ts, value)
                    self._series_dirty = True
                elif (
                    kind == "heartbeat"
                    and type(data) is dict
                    and type(at := data.get("at")) is float
                    and 0.0 <= at <= 1e11
                    and type(migration_id := data.get("migration_id")) is str
                    and type(participant_id := data.get("participant_id")) is str
                    and (members := participants.get(migration_id := migration_id[:256])) is not None
                    and (current := members.get(participant_id := participant_id[:256])) is not None
                ):
                    # _on_heartbeat, coalesced, for a participant already known: only its newest
                    # heartbeat matters until another kind of event (or the fold's end) settles it.
                    if ts > now:
                        now = self.now = ts
                    key = (migration_id, participant_id)
                    held = beats.get(key)
                    last = held if held is not None else current.last_heartbeat
                    if last is None or at > last:
                        if held is not None:
                            del beats[key]  # newest change last, as the change log orders them
                        beats[key] = at
                else:
                    if beats:
                        self._settle_beats()
                    if kind == "metrics" and open_:
                        self.settle()  # a metrics event the long way: after the samples kept aside
                    handler = handlers.get(kind)
                    if handler is None:
                        self.unknown_kinds += 1
                        continue
                    if type(data) is not dict and not isinstance(data, dict):
                        self.rejected_events += 1
                        continue
                    if ts > now:
                        now = self.now = ts
                    try:
                        handler(ts, source, data)
                    except wrong_shape:
                        self.rejected_events += 1
                        continue
                    if kind in quiet:
                        applied += 1
                        continue
                applied += 1
                # _touch's common case inline: a known source that is not failing, answering again.
                record = sources.get(source)
                if record is not None:
                    last = record.last_success
                    if last is not None:
                        if ts <= last:
                            continue
                        error_at = record.last_error_at
                        if error_at is None or last >= error_at:
                            record.last_success = ts
                            continue
                self._touch(source, ts)
        finally:
            self.events_applied += applied
            self.settle()
        return clock, offset, None

    def fold_events(
        self, events: Iterable[Any], until: float = math.inf, clock: float = -math.inf, settle: bool = True
    ) -> tuple[float, Any | None]:
        """``fold`` for the events of ``recording.decode_chunks`` (typed events, and rows of chunks
        decoded line by line): the same state as ``fold`` gives for the same lines. Returns the
        effective time of the last event read and the event past ``until`` if one stopped the
        fold (not applied), else None. The headless reduction's and the index's loop.

        ``settle=False`` leaves the samples and heartbeats of the last moment aside (``settle``
        files them; so does the next fold, before anything that reads them): for a reader that
        folds in short runs and reads neither series nor participants between them (the report)."""
        handlers = self._handlers
        sources = self._sources
        participants = self.participants
        resolution = self.series_resolution_s
        quiet = ("source_error", "action")
        wrong_shape = (TypeError, ValueError, AttributeError, KeyError)
        now = self.now
        newest = -math.inf  # the time of the last event the fast paths applied (not yet in ``now``)
        applied = 0
        samples = self._fold_samples
        open_bucket: float | None = None
        # Times below bucket_edge are in open_bucket: a hair before the next bucket's start, so
        # that rounding never puts a time in the next bucket early (within the hair, each time
        # is divided again). -inf: the next sample divides (the first of the fold, or the first
        # after a metrics event the long way), and marks the series dirty.
        bucket_edge = -math.inf
        dirty = False
        beats = self._beats
        healthy: dict[str, _SourceRecord] = {}  # sources answering, not failing, within this fold
        metrics_source = beat_source = None  # a healthy source, and its record: see below
        metrics_record = beat_record = None
        metrics_event = MetricsEvent
        heartbeat_event = HeartbeatEvent
        observers = self.observers
        try:
            for event in events:
                ts = event.ts
                if ts < clock:
                    ts = clock
                else:
                    clock = ts
                if ts > until:
                    return clock, event
                cls = type(event)
                if cls is metrics_event and not (data := event.data).invalid:
                    # _on_metrics, coalesced as in ``fold``: within a resolution bucket only each
                    # series' newest sample survives, so the newest event that has it is kept
                    # aside (the samples are numbers in range or null: decoded so).
                    newest = ts  # times only grow within a fold: ``now`` takes it when read
                    if ts >= bucket_edge:
                        bucket = ts // resolution if resolution > 0 else ts
                        if bucket != open_bucket:
                            if samples:
                                self._settle_samples()
                            open_bucket = bucket
                        bucket_edge = (bucket + 1) * resolution * (1 - 1e-12) if resolution > 0 else -math.inf
                        dirty = True
                    values = data.values
                    sample = (ts, values)
                    for name in values:
                        samples[name] = sample
                    if event.source == metrics_source:  # the source of the last one, answering again
                        metrics_record.last_success = ts  # type: ignore[union-attr]
                        applied += 1
                        continue
                elif (
                    cls is heartbeat_event
                    and (members := participants.get(migration_id := (beat := event.data).migration_id)) is not None
                    and (current := members.get(participant_id := beat.participant_id)) is not None
                ):
                    # _on_heartbeat, coalesced as in ``fold``, for a participant already known.
                    newest = ts
                    at = beat.at
                    key = (migration_id, participant_id)
                    held = beats.get(key)
                    last = held if held is not None else current.last_heartbeat
                    if last is None or at > last:
                        if held is not None:
                            del beats[key]  # newest change last, as the change log orders them
                        beats[key] = at
                    if event.source == beat_source:  # as for metrics
                        beat_record.last_success = ts  # type: ignore[union-attr]
                        applied += 1
                        continue
                else:
                    kind = event.kind
                    if beats and kind in _READ_PARTICIPANTS and type(event.data) is not ParticipantsData:
                        self._settle_beats()  # no other kind reads or writes them; a typed list files them itself
                    healthy.clear()
                    metrics_source = beat_source = None
                    data = event.data
                    if cls is metrics_event:
                        data = {"values": data.values, "invalid": data.invalid}
                    elif cls is heartbeat_event:
                        data = {"migration_id": data.migration_id, "participant_id": data.participant_id, "at": data.at}
                    if kind == "metrics" and (samples or self._open):
                        if dirty:
                            self._series_dirty = True
                            dirty = False
                        bucket_edge = -math.inf
                        self.settle()  # a metrics event the long way: after the samples kept aside
                    handler = handlers.get(kind)
                    if handler is None:
                        self.unknown_kinds += 1
                        continue
                    if ts > now:
                        now = ts
                    self.now = now
                    try:
                        handler(ts, event.source, data)
                    except wrong_shape:
                        self.rejected_events += 1
                        if self.rejected is not None:
                            self.rejected.append(event)
                        continue
                    if observers and (observer := observers.get(kind)) is not None:
                        observer(ts, event)
                    if kind in quiet:
                        applied += 1
                        continue
                applied += 1
                # _touch's common case inline: a known source that is not failing, answering again;
                # once seen so, until an event of another kind, its time is set (times only grow).
                source = event.source
                record = healthy.get(source)
                if record is None:
                    record = sources.get(source)
                    if record is None or (last := record.last_success) is None:
                        self._touch(source, ts)
                        continue
                    if ts <= last:
                        continue
                    error_at = record.last_error_at
                    if error_at is not None and last < error_at:
                        self._touch(source, ts)
                        continue
                    healthy[source] = record
                record.last_success = ts
                # The source of each fast path's last event, to compare the next one's with (the
                # same string, not the same object: a decoded event's strings are new).
                if cls is metrics_event:
                    metrics_source, metrics_record = source, record
                elif cls is heartbeat_event:
                    beat_source, beat_record = source, record
        finally:
            self.now = now if now >= newest else newest
            self.events_applied += applied
            if dirty:
                self._series_dirty = True
            if settle:
                self.settle()
        return clock, None

    def _settle_samples(self) -> None:
        """Append the samples ``fold_events`` kept aside, as ``_on_metrics`` would have one by one."""
        series = self.series
        for name, (ts, values) in self._fold_samples.items():
            target = series.get(name)
            if target is None:
                if len(series) >= MAX_SERIES:
                    continue
                target = series[name] = Series(self._series_capacity, self.series_resolution_s)
            target.append(ts, values[name])
        self._fold_samples.clear()

    def _settle_beats(self) -> None:
        """Apply the heartbeats ``fold`` kept aside, as ``_on_heartbeat`` would have one by one."""
        participants = self.participants
        changes_of = self._participant_changes
        revision = self.revision
        for (migration_id, participant_id), at in self._beats.items():
            members = participants[migration_id]
            current = members[participant_id]
            invalid = current.invalid
            if invalid and "last_heartbeat" in invalid:
                invalid = tuple(f for f in invalid if f != "last_heartbeat")
            members[participant_id] = Participant(current.id, current.type, current.vote, current.healthy, at, invalid)
            number = revision["participants"] = next(_REVISIONS)
            changes = changes_of.get(migration_id)
            if changes is None:
                changes = changes_of[migration_id] = {}
            elif len(changes) + 1 > 2 * MAX_PARTICIPANTS:
                changes.clear()
                self._changes_since = number
            changes.pop(participant_id, None)  # newest last
            changes[participant_id] = number
        self._beats.clear()

    def settle(self) -> None:
        """Append the samples ``fold`` kept aside (each series' newest in the current bucket).
        ``fold`` settles before it returns; a reader inside a fold (the report's judgements)
        calls it first."""
        if self._beats:
            self._settle_beats()
        if self._fold_samples:
            self._settle_samples()
        open_ = self._open
        if open_:
            for target, (ts, value) in open_.items():
                if type(value) is not float or value != value or not -1e15 < value < 1e15:
                    value = finite(value)
                target.append(ts, value)
            open_.clear()
        if self._series_dirty:
            self._series_dirty = False
            self.revision["series"] = next(_REVISIONS)

    def _touch(self, source: str, ts: float) -> None:
        record = self._sources.get(source)
        if record is None:
            self._sources[source] = _SourceRecord(last_success=ts)
            self.revision["sources"] = next(_REVISIONS)
        elif record.last_success is None or ts > record.last_success:
            if record.failing:
                self.revision["sources"] = next(_REVISIONS)  # recovered from an error
                if ts >= record.last_error_at:
                    # Once per outage: the first answer after the errors began.
                    since = record.failing_since if record.failing_since is not None else record.last_error_at
                    self._log(
                        ts, "info", source, f"recovered after {format_age(max(0.0, ts - since))} (was: {record.error})"
                    )
            record.last_success = ts

    def _on_migration(self, ts: float, source: str, data: dict[str, Any]) -> None:
        # A controller reports every migration on every poll, mostly with only its progress
        # moved: then the last parse with the new progress is what ``from_dict`` would give.
        raw_id = data.get("id")
        key = _json_but(data, "progress") if type(raw_id) is str else None
        seen = self._migration_memo.get(raw_id) if key is not None else None
        migration = (seen is not None and _moved_progress(data, key, *seen)) or Migration.from_dict(data)
        previous = self.migrations.get(migration.id)
        if previous is None and len(self.migrations) >= MAX_MIGRATIONS:
            self.rejected_events += 1
            return
        if key is not None:
            memo = self._migration_memo
            if len(memo) >= MAX_MIGRATIONS and raw_id not in memo:
                memo.clear()
            memo[raw_id] = (key, migration)
        if migration.progress is not None:
            changes = self.progress_changes.get(migration.id)
            if changes is None:
                changes = self.progress_changes[migration.id] = deque(maxlen=PROGRESS_CHANGES)
            if not changes or changes[-1][1] != migration.progress:
                changes.append((ts, migration.progress))
        if previous is None or previous.progress != migration.progress or previous != migration:
            self.migrations[migration.id] = migration
            self.revision["migrations"] = next(_REVISIONS)
            if previous is None:
                self._log(
                    ts,
                    _transition_level(migration),
                    source,
                    f"migration {migration.id} seen: {migration.status} / {migration.phase}",
                )
            elif (previous.status, previous.phase) != (migration.status, migration.phase):
                if previous.phase == migration.phase:
                    change = f"{previous.status} -> {migration.status} (phase {migration.phase})"
                else:
                    change = f"{previous.phase} -> {migration.phase} ({migration.status})"
                self._log(ts, _transition_level(migration), source, f"{migration.id}: {change}")
                self._mark(migration.id, ts, "phase", change)

    def _on_migration_gone(self, ts: float, source: str, data: dict[str, Any]) -> None:
        migration_id = text(data["id"])
        if self.migrations.pop(migration_id, None) is not None:
            gone = self.participants.pop(migration_id, {})
            self.progress_changes.pop(migration_id, None)
            self.marks.pop(migration_id, None)
            self._participant_memo.pop(migration_id, None)
            self.revision["migrations"] = next(_REVISIONS)
            self._participants_changed(migration_id, list(gone))

    def _on_participants(self, ts: float, source: str, data: dict[str, Any] | ParticipantsData) -> None:
        if type(data) is ParticipantsData:
            self._on_typed_participants(data)
            return
        migration_id = text(data["migration_id"])
        items = data["participants"]
        if not isinstance(items, list):
            raise TypeError("participants must be a list")
        # A controller lists every participant on every poll, but few change between two polls:
        # an item equal to the last one seen for its id reuses its Participant, so a list of
        # 10,000 costs 10,000 dict comparisons, not 10,000 parses, and unchanged rows stay the
        # same objects (readers compare by identity).
        memo = self._participant_memo.get(migration_id, {})
        old = self.participants.get(migration_id, {})
        new: dict[str, Participant] = {}
        seen: _Memo = {}
        for item in items[:MAX_PARTICIPANTS]:
            if type(item) is not dict and not isinstance(item, Mapping):  # the common case first: ABCs are slow
                continue
            participant, entry = _reduce_item(item, memo, old)
            new[participant.id] = participant  # a duplicate id: the last one wins
            if entry is not None:
                seen[item["id"]] = entry
        self._listed(migration_id, old, new, seen)

    def _listed(self, migration_id: str, old: dict[str, Participant], new: dict[str, Participant], seen: _Memo) -> None:
        """A full list read: its memo kept, and its participants put in place of ``old`` if any
        was added, changed (a new object) or left out."""
        self._participant_memo[migration_id] = seen
        changed = [key for key, participant in new.items() if old.get(key) is not participant]
        changed += [key for key in old if key not in new]
        if changed:
            self.participants[migration_id] = new
            self._participants_changed(migration_id, changed)

    def _on_typed_participants(self, data: ParticipantsData) -> None:
        """``_on_participants`` for a list ``recording.decode_chunks`` typed (``ParticipantItem``,
        whose strings are at most 256 characters): an item's participant is its fields as they
        are, so it is compared with what is held without being made, and an item equal to the
        last one for its id (compared in C) whose participant is still held is that participant,
        as in ``_reduce_item``. (Its memo entry has no parse: ``_reduce_item`` takes a typed entry
        for a miss.) The changed ids are noted on the way, as ``_listed`` would find them."""
        migration_id = data.migration_id[:256]
        memo = self._participant_memo.get(migration_id, {})
        old = self.participants.get(migration_id, {})
        beats = self._beats  # heartbeats fold_events keeps aside (not filed before a typed list)
        new: dict[str, Participant] = {}
        seen: _Memo = {}
        changed: list[str] = []  # ids whose participant is not the one held, in the list's order
        held_ids = 0  # items whose id is held
        items = data.participants
        if len(items) > MAX_PARTICIPANTS:
            items = items[:MAX_PARTICIPANTS]
        for item in items:
            key = item.id
            current = old.get(key)
            hit = memo.get(key)
            if hit is not None and current is hit[2] and hit[0] == item:  # a dict never equals an item
                new[key] = current  # the same item, and nothing since but heartbeats, which it does not undo
                seen[key] = hit
                held_ids += 1
                continue
            heartbeat = item.last_heartbeat
            kind, vote, healthy = item.type, item.vote or "pending", item.is_healthy
            if current is not None:
                held_ids += 1
                held = beats.get((migration_id, key)) if beats else None  # newer than the participant's
                if (
                    (held is not None or (held := current.last_heartbeat) is not None)
                    and heartbeat is not None
                    and held >= heartbeat
                    and current.healthy is healthy
                    and current.type == kind
                    and current.vote == vote
                    and not current.invalid
                ):
                    new[key] = current  # _keep_later_heartbeat keeps the held heartbeat: what is held
                    seen[key] = (item, None, current)
                    continue
            participant = _keep_later_heartbeat(Participant(key, kind, vote, healthy, heartbeat, ()), current)
            if participant == current:
                participant = current
            else:
                if beats:
                    break  # filed first, and the list read again (below)
                changed.append(key)
            new[key] = participant  # a duplicate id: the last one wins
            seen[key] = (item, None, participant)
        else:
            duplicates = len(new) != len(items)
            if not changed and not duplicates and held_ids == len(old):
                # The same ids, each with the participant held: no change, and the heartbeats
                # kept aside are filed later as they would have been now.
                self._participant_memo[migration_id] = seen
                return
            if not beats:
                if duplicates:  # the last one of an id wins: the generic comparison
                    self._listed(migration_id, old, new, seen)
                    return
                self._participant_memo[migration_id] = seen
                if held_ids != len(old):  # ids read once each: a held one was left out
                    changed += [key for key in old if key not in new]
                self.participants[migration_id] = new
                self._participants_changed(migration_id, changed)
                return
        # A change, with heartbeats kept aside: they are filed first, as before any other list.
        self._settle_beats()
        self._on_typed_participants(data)

    def _on_participants_delta(self, ts: float, source: str, data: dict[str, Any]) -> None:
        """Only what changed since the last list (``sources/deltas.py``): each changed item goes
        through what a full list's item goes through; removed ids are dropped; new ids are
        appended. The whole event is checked before any of it is applied."""
        migration_id = text(data["migration_id"])
        items, removed = data["changed"], data["removed"]
        if type(items) is not list or type(removed) is not list:
            raise TypeError("changed and removed must be lists")
        if len(items) + len(removed) > MAX_PARTICIPANTS:
            raise ValueError("delta too large")
        if not all(type(item) is dict and type(item.get("id")) is str for item in items):
            raise TypeError("a changed participant is not an object with a string id")
        if not all(type(key) is str for key in removed):
            raise TypeError("a removed id is not a string")
        memo = self._participant_memo.setdefault(migration_id, {})
        members = self.participants.get(migration_id)
        if members is None:
            members = self.participants[migration_id] = {}
        changed: list[str] = []
        for key in removed:
            memo.pop(key, None)
            if members.pop(text(key, "?"), None) is not None:
                changed.append(text(key, "?"))
        for item in items:
            participant, entry = _reduce_item(item, memo, members)
            if participant.id not in members and len(members) >= MAX_PARTICIPANTS:
                continue  # as a full list beyond the bound: left out
            memo[item["id"]] = entry  # type: ignore[assignment]  # ids are strings: checked above
            if members.get(participant.id) is not participant:
                members[participant.id] = participant
                changed.append(participant.id)
        if changed:
            self._participants_changed(migration_id, changed)

    def _participants_changed(self, migration_id: str, ids: list[str]) -> None:
        revision = self.revision["participants"] = next(_REVISIONS)
        changes = self._participant_changes.setdefault(migration_id, {})
        if len(changes) + len(ids) > 2 * MAX_PARTICIPANTS:  # ids come and go: forget the oldest
            changes.clear()
            self._changes_since = revision
        for key in ids:
            changes.pop(key, None)  # newest last
            changes[key] = revision

    def participants_changed_since(self, migration_id: str, revision: int) -> list[str] | None:
        """Ids of the migration's participants added, changed or removed after ``revision``
        (a ``revision["participants"]`` of this store), in the order they changed; None when
        this store cannot tell (a keyframe, a trimmed log): then compare them all."""
        if revision < self._changes_since:
            return None
        changes = self._participant_changes.get(migration_id, {})
        ids: list[str] = []
        for key in reversed(changes):
            if changes[key] <= revision:
                break
            ids.append(key)
        ids.reverse()
        return ids

    def _on_heartbeat(self, ts: float, source: str, data: dict[str, Any]) -> None:
        # The commonest event: text() and finite() inline for their usual inputs (the same results).
        migration_id = data["migration_id"]
        migration_id = migration_id[:256] if type(migration_id) is str else text(migration_id)
        participant_id = data["participant_id"]
        participant_id = participant_id[:256] if type(participant_id) is str else text(participant_id)
        at = data["at"]
        if type(at) is not float or not 0.0 <= at <= 1e11:
            at = finite(at, 0.0, 1e11)
            if at is None:
                raise ValueError("heartbeat time is not a valid number")
        members = self.participants.get(migration_id)
        if members is None:
            members = self.participants[migration_id] = {}
        current = members.get(participant_id)
        if current is None:
            if len(members) >= MAX_PARTICIPANTS:
                raise ValueError("too many participants")
            current = Participant(participant_id)
        elif current.last_heartbeat is not None and at <= current.last_heartbeat:
            return
        invalid = current.invalid
        if invalid and "last_heartbeat" in invalid:
            invalid = tuple(f for f in invalid if f != "last_heartbeat")
        members[participant_id] = Participant(current.id, current.type, current.vote, current.healthy, at, invalid)
        # _participants_changed, for one id.
        revision = self.revision["participants"] = next(_REVISIONS)
        changes = self._participant_changes.get(migration_id)
        if changes is None:
            changes = self._participant_changes[migration_id] = {}
        elif len(changes) + 1 > 2 * MAX_PARTICIPANTS:
            changes.clear()
            self._changes_since = revision
        changes.pop(participant_id, None)  # newest last
        changes[participant_id] = revision

    def _on_breakers(self, ts: float, source: str, data: dict[str, Any]) -> None:
        items = data["breakers"]
        if not isinstance(items, list):
            raise TypeError("breakers must be a list")
        changed = False
        for item in items[:MAX_SERIES]:
            if not isinstance(item, Mapping):
                continue
            breaker = CircuitBreaker.from_dict(item)
            previous = self.breakers.get(breaker.name)
            if breaker.open and (previous is None or not previous.open):
                opens = self.breaker_opens.setdefault(breaker.name, deque(maxlen=64))
                opens.append(ts)
                count = self.breaker_opens_since(breaker.name, ts - BREAKER_WINDOW_S)
                times = f" ({count} times in {int(BREAKER_WINDOW_S // 60)} min)" if count > 1 else ""
                self._log(
                    ts,
                    "warning",
                    source,
                    f"breaker {breaker.name} opened{times}: {breaker.reason or 'no reason given'}",
                )
            elif (previous.state != breaker.state) if previous is not None else breaker.state != "closed":
                # Every open has its close: half-open, closed and unknown states are logged too.
                level, message = self._breaker_change(breaker, previous, ts)
                self._log(ts, level, source, message)
            if previous != breaker:
                self.breakers[breaker.name] = breaker
                changed = True
        if changed:
            self.revision["breakers"] = next(_REVISIONS)

    def _breaker_change(self, breaker: CircuitBreaker, previous: CircuitBreaker | None, ts: float) -> tuple[str, str]:
        """The level and the words of a breaker's change of state other than opening."""
        opened = self.breaker_opens.get(breaker.name)
        was_open = previous is not None and previous.state in ("open", "half_open", "half-open")
        if breaker.state == "closed":
            after = f" after {format_age(max(0.0, ts - opened[-1]))}" if opened and was_open else ""
            return "info", f"breaker {breaker.name} closed{after}"
        if breaker.state in ("half_open", "half-open"):
            return "warning", f"breaker {breaker.name} half-open: letting trial requests through"
        return "warning", f"breaker {breaker.name} state {breaker.state}"

    def _on_metrics(self, ts: float, source: str, data: dict[str, Any]) -> None:
        values = data["values"]
        if not isinstance(values, dict):
            raise TypeError("values must be an object")
        declared = data.get("invalid")
        declared = declared if isinstance(declared, list) and declared else ()
        series = self.series
        # Series.append's commonest case inline: a sample in the same resolution bucket as the
        # series' last one replaces it (several polls a second, or several scopes per event).
        resolution = self.series_resolution_s
        bucket = ts // resolution if resolution > 0 else ts
        for name, value in values.items():
            target = series.get(name)
            if target is None:
                if len(series) >= MAX_SERIES or not isinstance(name, str):
                    continue
                target = series[name] = Series(self._series_capacity, resolution)
            number = value if type(value) is float and value == value and -1e15 < value < 1e15 else finite(value)
            if bucket == target._bucket and target._ts:
                target._ts[-1] = ts
                target._vals[-1] = _NAN if number is None else number
            else:
                target.append(ts, number)
            if number is None and (value is not None or name in declared):
                self._invalid_sample(name, ts)
        self.revision["series"] = next(_REVISIONS)

    def _invalid_sample(self, name: str, ts: float) -> None:
        """A number that cannot be true (or one the source refused) at ``ts``: a gap, counted as invalid."""
        invalid = self.invalid_samples.get(name)
        if invalid is None:
            invalid = self.invalid_samples[name] = deque(maxlen=INVALID_SAMPLES)
        if not invalid or invalid[-1] != ts:
            invalid.append(ts)

    def _on_host(self, ts: float, source: str, data: dict[str, Any] | HostData) -> None:
        if type(data) is HostData:  # typed by recording.decode_chunks: every number in range
            scope = data.scope
            resources = HostResources(
                data.cpu_percent,
                data.memory_percent,
                data.disk_percent,
                data.net_sent_bps,
                data.net_recv_bps,
                data.load1,
            )
        else:
            scope = data.get("scope", "host")
            resources = HostResources.from_dict(data)
        scope = scope if scope in ("host", "fleet") else "host"
        if (held := self.host.get(scope)) is None or held.cpu_percent != resources.cpu_percent or held != resources:
            self.host[scope] = resources
            self.revision["host"] = next(_REVISIONS)

    def _on_source_ok(self, ts: float, source: str, data: dict[str, Any]) -> None:
        # Freshness is updated by apply(); the data may name endpoints the server does not serve.
        listed = data.get("not_served", ())
        not_served = tuple(sorted({text(path, "", 200) for path in listed if isinstance(path, str)}))
        record = self._sources.setdefault(source, _SourceRecord())
        if record.not_served != not_served:
            record.not_served = not_served
            self.revision["sources"] = next(_REVISIONS)

    def _on_source_error(self, ts: float, source: str, data: dict[str, Any]) -> None:
        message = text(data.get("error"), "unknown error", 300)
        record = self._sources.setdefault(source, _SourceRecord())
        new_outage = not record.failing
        first = new_outage or record.error != message
        if new_outage:
            record.failing_since = ts
        record.last_error_at = ts
        record.error = message
        self.revision["sources"] = next(_REVISIONS)
        if first:
            self._log(ts, "error", source, message)  # the log shows the source in its own column

    def _on_log(self, ts: float, source: str, data: dict[str, Any]) -> None:
        level = data.get("level", "info")
        self._log(
            ts, level if level in ("info", "warning", "error") else "info", source, text(data["message"], "", 500)
        )

    def _on_action(self, ts: float, source: str, data: dict[str, Any]) -> None:
        action = text(data["action"])
        migration_id = text(data["migration_id"])
        stage = text(data["stage"])
        result = text(data.get("result"), "", 300)
        message = f"action {action} on {migration_id}: {stage}" + (f" ({result})" if result else "")
        if stage in ("sent", "answered"):  # a decision that reached the controller, not one opened or cancelled
            previous = self.last_action.get(migration_id)
            if previous is None or previous.get("action") != data["action"] or ts - previous["ts"] > ACTION_MARK_S:
                self._mark(migration_id, ts, "action", f"{action} ({stage})")  # one mark a decision, not one a stage
            self.last_action[migration_id] = {**data, "ts": ts}
            self.revision["migrations"] = next(_REVISIONS)
        self._log(ts, "warning", source, message)

    def _mark(self, migration_id: str, ts: float, kind: str, words: str) -> None:
        marks = self.marks.get(migration_id)
        if marks is None:
            marks = self.marks[migration_id] = deque(maxlen=MARKS)
        marks.append((ts, kind, words))

    def note(self, ts: float, level: str, source: str, message: str) -> None:
        """A line for the event log from the screen itself (rule transitions), not from a source."""
        self._log(ts, level if level in ("info", "warning", "error") else "info", source, message)

    def _log(self, ts: float, level: str, source: str, message: str) -> None:
        self.log.append(LogLine(ts, level, source, message))
        self.revision["log"] = next(_REVISIONS)

    # --- reading -------------------------------------------------------------

    def source(self, name: str) -> SourceHealth:
        record = self._sources.get(name)
        if record is None:
            return SourceHealth(name)
        return SourceHealth(name, record.last_success, record.last_error_at, record.error, record.not_served)

    def source_names(self) -> list[str]:
        return list(self._sources)

    def breaker_opens_since(self, name: str, since: float) -> int:
        return sum(1 for t in self.breaker_opens.get(name, ()) if t >= since)

    def participants_of(self, migration_id: str) -> tuple[Participant, ...]:
        """A migration's participants in order: the same tuple until one of them changes (10,000
        of them are read by every frame and change once a poll)."""
        return self._read_participants(migration_id).members

    def participant_health(self, migration_id: str) -> tuple[bool, tuple[str, ...]]:
        """(whether any participant's health is reported, the ids of those reported unhealthy)."""
        read = self._read_participants(migration_id)
        if read.health is None:
            members = read.members
            reported = any(p.healthy is not None for p in members)
            read.health = (reported, tuple(p.id for p in members if p.healthy is False))
        return read.health

    def _read_participants(self, migration_id: str) -> _ParticipantsRead:
        revision = self.revision["participants"]
        read = self._participants_read.get(migration_id)
        if read is None or read.revision != revision:
            members = self.participants.get(migration_id)
            read = _ParticipantsRead(revision, tuple(members.values()) if members else ())
            if members is not None:  # a migration's, not any id asked for
                if len(self._participants_read) > len(self.participants):  # some are gone
                    self._participants_read = {
                        k: v for k, v in self._participants_read.items() if k in self.participants
                    }
                self._participants_read[migration_id] = read
        return read

    # --- keyframes -----------------------------------------------------------

    def snapshot(self) -> Store:
        """An independent copy; immutable values are shared, containers copied."""
        self.settle()
        copy = Store.__new__(Store)
        copy._open = {}
        copy._series_dirty = False
        copy._beats = {}
        copy._fold_samples = {}
        copy.series_window_s = self.series_window_s
        copy.series_resolution_s = self.series_resolution_s
        copy._series_capacity = self._series_capacity
        copy.migrations = dict(self.migrations)
        copy.participants = {k: dict(v) for k, v in self.participants.items()}
        # The memo and the change log are caches: a copy starts without them.
        copy._participant_memo = {}
        copy._migration_memo = {}
        copy._participant_changes = {}
        copy._changes_since = next(_REVISIONS)
        copy._participants_read = {}
        copy.breakers = dict(self.breakers)
        copy.breaker_opens = {k: deque(v, maxlen=v.maxlen) for k, v in self.breaker_opens.items()}
        copy.series = {k: v.snapshot() for k, v in self.series.items()}
        copy.host = dict(self.host)
        copy.log = deque(self.log, maxlen=self.log.maxlen)
        copy.progress_changes = {k: deque(v, maxlen=v.maxlen) for k, v in self.progress_changes.items()}
        copy.last_action = dict(self.last_action)
        copy.marks = {k: deque(v, maxlen=v.maxlen) for k, v in self.marks.items()}
        copy.invalid_samples = {k: deque(v, maxlen=v.maxlen) for k, v in self.invalid_samples.items()}
        copy._sources = {k: msgspec.structs.replace(v) for k, v in self._sources.items()}
        copy.now = self.now
        copy.events_applied = self.events_applied
        copy.unknown_kinds = self.unknown_kinds
        copy.rejected_events = self.rejected_events
        copy.rejected = None  # the reader that asked watches the original
        copy.observers = {}
        copy.revision = dict(self.revision)
        copy._handlers = {kind: getattr(copy, bound.__name__) for kind, bound in self._handlers.items()}
        return copy


class _SourceRecord(msgspec.Struct):
    """What the store knows of one source's answers (``source()`` turns it into a ``SourceHealth``)."""

    last_success: float | None = None
    last_error_at: float | None = None
    error: str | None = None
    failing_since: float | None = None  # when the current run of errors began (for "recovered after")
    not_served: tuple[str, ...] = ()

    @property
    def failing(self) -> bool:
        """The last thing heard was an error (the first error newer than the last success)."""
        return self.last_error_at is not None and (self.last_success is None or self.last_success < self.last_error_at)


#: The kinds whose handlers read or write participants (``fold_events`` settles heartbeats first).
_READ_PARTICIPANTS = frozenset({"participants", "participants_delta", "migration_gone", "heartbeat"})

#: A migration in one of these statuses or phases is logged as an error: it failed.
_ERROR_STATES = frozenset({"failed", "rollback_failed"})
#: ... as a warning: it is being undone, was undone, or stopped moving.
_WARNING_STATES = frozenset({"aborting", "aborted", "rolling_back", "rolled_back", "paused"})


def _transition_level(migration: Migration) -> str:
    """The log level of a migration entering its current status and phase: error when it
    failed, warning when an abort or rollback is under way or done (or it is paused), else
    info (running, completed)."""
    states = {migration.status, migration.phase}
    if states & _ERROR_STATES:
        return "error"
    if states & _WARNING_STATES:
        return "warning"
    return "info"


class _ParticipantsRead(msgspec.Struct):
    """``Store._read_participants``' answer for one migration at one participants revision."""

    revision: int
    members: tuple[Participant, ...]
    health: tuple[bool, tuple[str, ...]] | None = None


def _reduce_item(
    item: Mapping[str, Any], memo: _Memo, old: Mapping[str, Participant]
) -> tuple[Participant, tuple[Mapping[str, Any], Participant, Participant] | None]:
    """The participant one listed item makes, given the last items seen (``memo``) and the
    participants held (``old``), and the item's new memo entry (None when its id is not a
    string). An item equal to the last one for its id reuses that Participant; a poll keeps
    the later of the polled heartbeat and the one held; an equal result is the held object."""
    raw_id = item.get("id")
    hit = memo.get(raw_id) if type(raw_id) is str else None
    if hit is not None and type(hit[0]) is ParticipantItem:
        hit = None  # the last one for this id was typed (``Store._on_typed_participants``)
    if hit is not None and same_json(item, hit[0]):
        parsed = hit[1]
        current = old.get(parsed.id)
        if current is hit[2]:  # the same item, and no heartbeat since
            return current, hit
    elif hit is not None and (heartbeat := _moved_heartbeat(item, hit[0], hit[1])) is not None:
        # The usual poll: only the heartbeat moved. ``from_dict`` would give the last parse with it.
        seen = hit[1]
        parsed = Participant(seen.id, seen.type, seen.vote, seen.healthy, heartbeat, seen.invalid)
        current = old.get(parsed.id)
        if (
            current is not None
            and (held := current.last_heartbeat) is not None
            and held >= heartbeat
            and current.id == seen.id
            and current.type == seen.type
            and current.vote == seen.vote
            and current.healthy == seen.healthy
            and current.invalid == seen.invalid
        ):
            # _keep_later_heartbeat keeps the held heartbeat: the result equals what is held.
            return current, (item, parsed, current)
    else:
        parsed = Participant.from_dict(item)
        current = old.get(parsed.id)
    participant = _keep_later_heartbeat(parsed, current)
    if participant == current:
        participant = current
    return participant, ((item, parsed, participant) if type(raw_id) is str else None)


def _moved_heartbeat(item: Mapping[str, Any], seen: Mapping[str, Any], parsed: Participant) -> float | None:
    """The new ``last_heartbeat`` of ``item`` when ``item`` is ``seen`` (whose participant is
    ``parsed``) but for that valid heartbeat, so that ``Participant.from_dict(item)`` is ``parsed``
    with it; else None. The other values must be the same strings, booleans, None or lists of
    strings (1 == 1.0 == True would not do: ``from_dict`` tells them apart)."""
    heartbeat = item.get("last_heartbeat")
    if (
        type(heartbeat) is not float
        or not 0.0 <= heartbeat <= 1e11
        or len(item) != len(seen)
        or "last_heartbeat" not in seen
        or "last_heartbeat" in parsed.invalid
    ):
        return None
    if not _same_but(item, seen, "last_heartbeat", _same_flat):
        return None
    return heartbeat


_MISSING = object()


def _same_but(new: Mapping[str, Any], seen: Mapping[str, Any], moved: str, same: Any) -> bool:
    """Every value of ``new`` but ``moved`` is ``seen``'s: the same object, or of the same type,
    equal, and ``same(kind, value, other)`` (the caller's rule for what ``from_dict`` cannot tell
    apart)."""
    for key, value in new.items():
        other = seen.get(key, _MISSING)
        if value is other or key == moved:
            continue
        kind = type(value)
        if kind is not type(other) or value != other or not same(kind, value, other):
            return False
    return True


def _same_flat(kind: type, value: Any, _other: Any) -> bool:
    """A string, or a list of strings (a participant's values that a heartbeat leaves alone)."""
    return kind is str or ((kind is list or kind is tuple) and all(type(name) is str for name in value))


def _json_but(data: Mapping[str, Any], moved: str) -> bytes | None:
    """``data`` as JSON with ``moved``'s value null (in its place, or last if it has none): equal
    for two values that are the same JSON, types, signs and order included, but for ``moved``
    (``from_dict`` tells 1, 1.0 and True apart, and -0.0 from 0.0). None if orjson cannot write it."""
    try:
        return orjson.dumps({**data, moved: None})
    except TypeError:  # orjson.JSONEncodeError too: a big integer, a deep value
        return None


def _moved_progress(data: Mapping[str, Any], key: bytes, seen: bytes, parsed: Migration) -> Migration | None:
    """``Migration.from_dict(data)`` when ``data`` (``key``: its ``_json_but`` progress) is the
    data of ``parsed`` (``seen``) but for a valid ``progress``, else None."""
    progress = data.get("progress")
    if (
        type(progress) is not float
        and (type(progress) is not int or progress > 100)  # a big int is not a float's equal
        or not 0.0 <= progress <= 100.0
        or key != seen
        or "progress" in parsed.invalid
    ):
        return None
    return _with_progress(parsed, float(progress))


def _with_progress(parsed: Migration, progress: float, _replace: Any = msgspec.structs.replace) -> Migration:
    """``parsed`` with another progress (a copy made in C)."""
    return _replace(parsed, progress=progress)


def _keep_later_heartbeat(polled: Participant, current: Participant | None) -> Participant:
    """``polled``, but with ``current``'s heartbeat if that is later: a poll never moves a
    heartbeat (perhaps from Redis, fresher than the poll) back in time. An invalid polled
    heartbeat still shows as invalid."""
    if current is None or current.last_heartbeat is None or "last_heartbeat" in polled.invalid:
        return polled
    if polled.last_heartbeat is not None and polled.last_heartbeat >= current.last_heartbeat:
        return polled
    return Participant(polled.id, polled.type, polled.vote, polled.healthy, current.last_heartbeat, polled.invalid)
