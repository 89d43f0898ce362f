"""``migration-tui report``: a recording read once, start to end, into the first draft of a write-up.

``collect(path)`` streams the recording through the same ``Store`` and rules
the dashboard uses (a damaged file is read as far as it can be, the lines
skipped counted) and keeps, per migration: its phases and statuses over
time, pauses, progress and the chart series in full, the moments rules went
pending and fired, breakers opened, heartbeats were lost and operator
actions reached the controller; and each source's outages. Then each
system's success criteria (``criteria.py``, from the system's own
``report.toml``) are decided from that: "met", "not met" (the worst value and
when) or "cannot tell" (and why) — never a guess.

``markdown(report)`` and ``html(report)`` render it; text from the recording
is cleaned of control characters (``safe_text.clean``) and escaped for the
format it goes into. Charts are drawn by ``report_charts`` (matplotlib), only
when asked for. Nothing here names a system.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import html as _html
import math
import re
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from itertools import accumulate, compress, pairwise, repeat
from operator import attrgetter, contains, getitem, is_
from typing import Any

from migration_tui import criteria as _criteria
from migration_tui.model import (
    HEARTBEAT_LOST_S,
    Migration,
    finite,
    text,
)
from migration_tui.recording import (
    TYPED_EVENTS,
    Chunk,
    MetricsEvent,
    RecordingReader,
    decode_chunks,
    is_gzip,
    open_binary,
)
from migration_tui.rules import DEFAULT_POLL_S, ENDED_PHASES, Rule, applies, default_rules, judge
from migration_tui.safe_text import MISSING, clean
from migration_tui.store import MAX_SERIES, Store

#: Rules are judged once per poll interval of the recording, and at least this many seconds apart
#: (the moments they went pending and fired come from the judgement itself, so they are exact to
#: the sample, not to this step).
JUDGE_STEP_S = 1.0
#: A source that has not answered for this many poll intervals was silent (as ``freshness`` says STALE).
SILENT_AFTER_POLLS = 3
NOT_RECORDED = "not recorded"
MET, NOT_MET, CANNOT_TELL = "met", "not met", "cannot tell"
#: The outcome words of a migration that was undone, and the operator action that undoes it that way.
_UNDONE_BY = {"aborted": "abort", "aborting": "abort", "rolled_back": "rollback", "rolling_back": "rollback"}
#: The events that may track a migration (see ``_Collector._typed``).
_is_migration = partial(is_, TYPED_EVENTS["migration"])
#: The kinds that are no answer from their source: an operator's action, an error.
_QUIET_TYPES = frozenset((TYPED_EVENTS["action"], TYPED_EVENTS["source_error"]))
_SOURCE_ERROR = TYPED_EVENTS["source_error"]
_ts_of = attrgetter("ts")
_source_of = attrgetter("source")
_values_of = attrgetter("data.values")
_is_metrics = partial(is_, MetricsEvent)


# --- what the report holds -------------------------------------------------------------------------


@dataclass
class Span:
    phase: str
    status: str
    start: float
    end: float


@dataclass(frozen=True)
class Mark:
    """A moment on the time axis: ``kind`` is pending, firing, breaker, heartbeat or action."""

    ts: float
    kind: str
    label: str


@dataclass
class Outage:
    source: str
    kind: str  # "failing" (it answered with errors) or "silent" (it did not answer)
    start: float
    end: float | None  # None: still so when the recording ended
    message: str = ""


@dataclass(frozen=True)
class ActionRow:
    ts: float
    action: str
    stage: str
    by: str
    reason: str
    result: str


@dataclass(frozen=True)
class Verdict:
    criterion: str
    state: str  # MET, NOT_MET or CANNOT_TELL
    detail: str


@dataclass
class ChartSeries:
    chart: str
    name: str  # the series drawn ("" when the recording has none)
    label: str
    unit: str
    ts: array
    values: array  # NaN: a gap (invalid or missing)
    #: (label, value, drawn as): the rules' thresholds ("rule") and the criteria's ("criterion").
    thresholds: list[tuple[str, float, str]] = field(default_factory=list)


@dataclass
class MigrationReport:
    id: str
    system: str
    pair: str
    controller: str | None
    first_seen: float
    last_seen: float
    started_at: float | None
    ended_at: float | None
    status: str
    phase: str
    spans: list[Span]
    actions: list[ActionRow]
    marks: list[Mark]
    charts: list[ChartSeries]
    verdicts: list[Verdict]
    outcome: str
    undone_by: str  # who ended it that way (abort, rollback), or why that cannot be said
    participants: list[tuple[str, str]]  # (id, last vote)

    @property
    def pauses(self) -> list[Span]:
        return [span for span in self.spans if span.status == "paused"]

    def time_in_phases(self, start: float) -> list[tuple[str, float]]:
        """Seconds in each phase: the sum of its rows' lengths as the timeline shows them (each
        the difference of its two offsets from ``start``, the recording's, as shown: ``_span``)."""
        totals: dict[str, float] = {}
        for span in self.spans:
            shown = round(span.end - start) - round(span.start - start)
            totals[span.phase] = totals.get(span.phase, 0.0) + shown
        return list(totals.items())


@dataclass
class Report:
    path: str
    version: Any
    started_at: float
    ended_at: float
    events: int
    skipped_lines: int
    rejected_events: int
    skip_reasons: list[str]
    migrations: list[MigrationReport]
    outages: list[Outage]

    @property
    def duration(self) -> float:
        return max(0.0, self.ended_at - self.started_at)


# --- reading ----------------------------------------------------------------------------------------


class _Track:
    """What is followed of one migration while the recording is read."""

    def __init__(self, migration: Migration, ts: float) -> None:
        self.migration = migration
        self.first_seen = ts
        self.last_seen = ts
        self.spans: list[Span] = [Span(migration.phase, migration.status, ts, ts)]
        self.ended_at: float | None = ts if _ended(migration) else None
        self.progress_ts = array("d")
        self.progress = array("d")
        self.health_ts = array("d")
        self.health = array("d")
        self.actions: list[ActionRow] = []
        self.marks: list[Mark] = []
        self.breaker_opens: list[tuple[float, str]] = []
        self.breakers_seen = False
        self.rule_state: dict[str, str] = {}
        self.lost: set[str] = set()
        self.votes: dict[str, tuple[str, float]] = {}

    def update(self, migration: Migration, ts: float) -> None:
        self.last_seen = ts
        last = self.spans[-1]
        last.end = ts
        if (migration.phase, migration.status) != (last.phase, last.status):
            self.spans.append(Span(migration.phase, migration.status, ts, ts))
        if self.ended_at is None and _ended(migration):
            self.ended_at = ts
        self.migration = migration
        if migration.progress is not None or "progress" in migration.invalid:
            self.progress_ts.append(ts)
            self.progress.append(math.nan if migration.progress is None else migration.progress)
        if migration.health_score is not None or "health_score" in migration.invalid:
            self.health_ts.append(ts)
            self.health.append(math.nan if migration.health_score is None else migration.health_score)


def _ended(migration: Migration) -> bool:
    return migration.is_terminal or migration.phase in ENDED_PHASES


class _Collector:
    def __init__(self, rules: tuple[Rule, ...], poll_interval_s: float, migration_id: str | None) -> None:
        self.rules = rules
        self._kinds = {rule.name: rule.kind for rule in rules}
        self.poll = poll_interval_s
        self._silent_after = SILENT_AFTER_POLLS * poll_interval_s
        self._step = max(JUDGE_STEP_S, poll_interval_s)
        self.only = migration_id
        self.store = Store()
        self.tracks: dict[str, _Track] = {}
        self.series: dict[str, tuple[array, array]] = {}
        self.outages: list[Outage] = []
        self._last_ok: dict[str, float] = {}
        self._failing: dict[str, Outage] = {}
        self._breaker_seen: dict[str, float] = {}
        self._owner_cache: dict[str, list[_Track]] = {}
        self._wanted: set[str] = set()
        self._refused: list[Any] = []  # the events the store refused, as it refuses them
        self._tracked_at: list[tuple[int, set[str]]] = []  # in a chunk: (event, series wanted after it)
        self._wanted_before: set[str] = set()  # the series wanted when a chunk begins
        self._now: float | None = None
        self._clock = -math.inf
        self._next_judge = -math.inf
        self._wanted_for = 0
        self._owners_of_tracks = 0

    def run(self, chunks: Iterable[Chunk]) -> tuple[float | None, float | None, int]:
        """Apply every event of ``chunks`` (``recording.decode_chunks``) to the store at its
        effective time and follow what the report needs; (first ts, last ts, count).

        The store folds a typed chunk's events (``Store.fold_events``, the headless reduction's
        loop) in runs that end where the rules are judged (once per ``step`` of recording time,
        on the store as it was before the event that crossed it). The report reads the store as
        each migration, breakers and action event left it through the store's ``observers``.
        What the rest tell it (the samples of the series it keeps in full, each source's answers
        and errors) needs no store, and is taken from the whole chunk at once. A chunk decoded
        line by line (a damaged part of the file) is read one event at a time. What all this
        adds to the fold is what the report costs over ``replay --headless``.
        """
        store = self.store
        store.rejected = self._refused
        store.observers.update(migration=self._on_migration, breakers=self._on_breakers, action=self._on_action)
        first: float | None = None
        count = 0
        for chunk in chunks:
            events = chunk.all()
            if not events:
                continue
            count += len(events)
            # Each event's effective time (``recording.monotonic``: the clock never runs backwards).
            eff = list(map(_ts_of, events))
            if eff[0] < self._clock or eff != sorted(eff):  # a step back: rarely
                eff = list(accumulate(eff, max, initial=self._clock))
                del eff[0]
            if first is None:
                first = eff[0]
            if chunk.typed:
                self._typed(events, eff)
            else:
                for event, ts in zip(events, eff, strict=True):
                    self._row(event, ts)
            self._clock = eff[-1]
        store.settle()
        store.rejected = None
        store.observers.clear()
        return first, self._now, count

    def _judge_before(self, ts: float) -> None:
        """The rules judged, if an event at ``ts`` is the first past a step (and a migration is tracked)."""
        if self.tracks and ts >= self._next_judge:
            self.store.settle()  # what the fold keeps aside within a moment
            self._judge(self._now if self._now is not None else ts)
            self._next_judge = (ts // self._step + 1) * self._step

    def _typed(self, events: list[Any], eff: list[float]) -> None:
        """A typed chunk: folded in runs, then its samples and its sources' answers taken at once."""
        n = len(events)
        tracks = self.tracks
        fold = self.store.fold_events
        refused = self._refused
        types = list(map(type, events))
        self._tracked_at.clear()
        a = 0
        while a < n:
            self._judge_before(eff[a])
            if tracks:
                b = n if eff[-1] < self._next_judge else bisect.bisect_left(eff, self._next_judge, a + 1, n)
            else:  # until the first migration is tracked: the next event is judged once it is
                b = next(compress(range(a + 1, n + 1), map(_is_migration, types[a:])), n)
            fold(events[a:b], clock=eff[a - 1] if a else self._clock, settle=False)
            self._now = eff[b - 1]
            a = b
        # The series wanted before and after each event that changed the tracked migrations.
        wanted = [(0, self._wanted_before)]
        if self._tracked_at:
            index = {id(events[i]): i for i in compress(range(n), map(_is_migration, types))}
            wanted.extend((index[key] + 1, names) for key, names in self._tracked_at)
        self._wanted_before = self._want()
        if refused:
            dropped = set(map(id, refused))
            refused.clear()
            kept = [i for i in range(n) if id(events[i]) not in dropped]
            events = [events[i] for i in kept]
            eff = [eff[i] for i in kept]
            types = [types[i] for i in kept]
            wanted = [(bisect.bisect_left(kept, at), names) for at, names in wanted]
        if not events:
            return
        wanted.append((len(events), set()))
        for (lo, names), (hi, _) in pairwise(wanted):
            if hi > lo and names:
                self._samples(names, events[lo:hi], eff[lo:hi], types[lo:hi])
        self._answers(events, eff, types)

    def _samples(self, wanted: set[str], events: list[Any], eff: list[float], types: list[type]) -> None:
        """The samples of the ``wanted`` series (kept in full) in typed events (all applied)."""
        is_metrics = list(map(_is_metrics, types))
        values = list(map(_values_of, compress(events, is_metrics)))
        if not values:
            return
        times = list(compress(eff, is_metrics))
        for name in wanted.intersection(*values) if len(values) == 1 else wanted.intersection(set().union(*values)):
            kept = self.series.get(name) or self._new_series(name)
            if kept is None:
                continue
            has = list(map(contains, values, repeat(name)))
            if all(has):
                got = list(map(getitem, values, repeat(name)))
                kept[0].extend(times)
            else:
                got = list(map(getitem, compress(values, has), repeat(name)))
                kept[0].extend(compress(times, has))
            # A typed sample is a number within MAX_ABS (kept as it is) or null (a gap).
            try:
                numbers = array("d", got)
            except TypeError:  # a null
                numbers = array("d", [math.nan if v is None else v for v in got])
            kept[1].extend(numbers)

    def _answers(self, events: list[Any], eff: list[float], types: list[type]) -> None:
        """Each source's answers (and errors, which begin an outage) in a chunk's applied events."""
        if _QUIET_TYPES.isdisjoint(types):
            self._answered(list(map(_source_of, events)), eff)
            return
        quiet = list(map(_QUIET_TYPES.__contains__, types))
        lo = 0
        for i in compress(range(len(events)), quiet):
            if i > lo:
                self._answered(list(map(_source_of, events[lo:i])), eff[lo:i])
            if types[i] is _SOURCE_ERROR:
                self._source_error(events[i].source, eff[i], events[i].data)
            lo = i + 1
        if lo < len(events):
            self._answered(list(map(_source_of, events[lo:])), eff[lo:])

    def _answered(self, sources: list[str], times: list[float]) -> None:
        """``sources[i]`` answered at ``times[i]`` (in order): the end of an outage, or of a silence."""
        silent_after = self._silent_after
        last_ok = self._last_ok
        failing = self._failing
        # Each source's first answer here (and, below, its last).
        firsts = {source: times[sources.index(source)] for source in set(sources)}
        for source, at in firsts.items():
            if failing and source in failing:
                failing.pop(source).end = at
            else:
                last = last_ok.get(source)
                if last is not None and at - last > silent_after:
                    self.outages.append(Outage(source, "silent", last, at, f"no answer for {_dur(at - last)}"))
        if times[-1] - times[0] > silent_after:
            for source in self._silent_within(sources, times, firsts):
                own = times if len(firsts) == 1 else list(compress(times, map(source.__eq__, sources)))
                for before, after in pairwise(own):
                    if after - before > silent_after:
                        words = f"no answer for {_dur(after - before)}"
                        self.outages.append(Outage(source, "silent", before, after, words))
        if len(firsts) == 1:
            last_ok[sources[0]] = times[-1]
        else:
            backwards = sources[::-1]
            end = len(sources) - 1
            for source in firsts:
                last_ok[source] = times[end - backwards.index(source)]

    def _silent_within(self, sources: list[str], times: list[float], firsts: dict[str, float]) -> list[str]:
        """The sources that may have been silent for longer than ``_silent_after`` between two of
        their answers here: a silence that long covers a whole window of half its length,
        aligned to the clock, in which the source did not answer. Those with an answer in every
        such window between the first and last times here cannot have been."""
        width = self._silent_after / 2
        missing: set[str] = set()
        edge = (times[0] // width + 1) * width
        lo = bisect.bisect_left(times, edge)
        while edge + width <= times[-1]:
            hi = bisect.bisect_left(times, edge + width, lo)
            missing.update(firsts.keys() - set(sources[lo:hi]))
            if len(missing) == len(firsts):
                break
            edge += width
            lo = hi
        return [source for source in firsts if source in missing]

    def _source_error(self, source: str, ts: float, data: dict[str, Any]) -> None:
        failing = self._failing
        if source not in failing:
            outage = Outage(source, "failing", ts, None, clean(data.get("error"), 200))
            failing[source] = outage
            self.outages.append(outage)

    def _row(self, event: Any, ts: float) -> None:
        """One event of a chunk decoded line by line: applied (the observers read the store as it
        left it), then its samples and its answer taken."""
        self._judge_before(ts)
        self.store.fold_events((event,), clock=self._clock, settle=False)
        self._now = self._clock = ts
        self._tracked_at.clear()
        self._wanted_before = self._want()
        if self._refused:
            self._refused.clear()
            return
        kind = event.kind
        if kind == "metrics":
            values = event.data.get("values")
            if type(values) is dict:
                wanted = self._wanted_before
                for name, value in values.items():
                    if name in wanted:
                        self._keep(ts, name, value)
        elif kind == "source_error":
            self._source_error(event.source, ts, event.data)
            return
        elif kind == "action":
            return  # an operator's action is no answer from the source
        self._answered([event.source], [ts])

    def _on_migration(self, ts: float, event: Any) -> None:
        """A migration event, as the store left it: a migration tracked, or what changed in it."""
        key = text(event.data.get("id"), "?")
        migration = self.store.migrations.get(key)
        if migration is None:
            return
        track = self.tracks.get(key)
        if track is None:
            if self.only is None or self.only in (key, migration.remote_id):
                self.tracks[key] = _Track(migration, ts)
                self._tracked_at.append((id(event), self._want()))
        else:
            track.update(migration, ts)

    def _keep(self, ts: float, name: str, value: Any) -> None:
        """One sample of a series a tracked migration may read, as the store keeps it."""
        kept = self.series.get(name)
        if kept is None:
            kept = self._new_series(name)
            if kept is None:
                return
        kept[0].append(ts)
        # What the store keeps (``Store._on_metrics``): a finite number, else a gap.
        if type(value) is float and value == value and -1e15 < value < 1e15:
            kept[1].append(value)
        else:
            number = finite(value)
            kept[1].append(math.nan if number is None else number)

    def _new_series(self, name: str) -> tuple[array, array] | None:
        """Where a series is kept in full, if the store keeps it too (up to ``MAX_SERIES``)."""
        if len(self.series) >= MAX_SERIES or (name not in self.store.series and len(self.store.series) >= MAX_SERIES):
            return None
        kept = self.series[name] = (array("d"), array("d"))
        return kept

    def _want(self) -> set[str]:
        """The series kept in full: those a tracked migration's charts or criteria may read."""
        if self._wanted_for != len(self.tracks):  # tracks are only ever added
            wanted: set[str] = set()
            for track in self.tracks.values():
                migration = track.migration
                spec = _criteria.spec_for(migration.system)
                names = set(spec.charts.values()) | {c.series for c in spec.criteria if c.series}
                wanted.update(key for name in names for key in _candidates(migration, name))
            self._wanted = wanted
            self._wanted_for = len(self.tracks)
        return self._wanted

    def _on_breakers(self, ts: float, event: Any) -> None:
        opens = self.store.breaker_opens
        for item in event.data.get("breakers", ()):
            if not isinstance(item, dict):
                continue
            name = text(item.get("name", item.get("pair")), "?")
            owners = self._owners(name)
            for track in owners:
                track.breakers_seen = True
            times = opens.get(name)
            if times and self._breaker_seen.get(name) != times[-1]:
                self._breaker_seen[name] = times[-1]
                for track in owners:
                    track.breaker_opens.append((times[-1], name))
                    track.marks.append(Mark(times[-1], "breaker", f"breaker {clean(name, 60)} opened"))

    def _owners(self, breaker: str) -> list[_Track]:
        """The migrations a breaker belongs to (its pair, as its controller files it, its id, or its id and a word)."""
        if len(self._owner_cache) > 10_000:
            self._owner_cache.clear()
        found = self._owner_cache.get(breaker)
        if found is None or self._owners_of_tracks != len(self.tracks):
            if self._owners_of_tracks != len(self.tracks):
                self._owner_cache.clear()
                self._owners_of_tracks = len(self.tracks)
            found = self._owner_cache[breaker] = [
                track
                for track in self.tracks.values()
                if breaker
                in {
                    track.migration.scoped(track.migration.pair) if track.migration.pair else "",
                    track.migration.pair,
                    track.migration.id,
                }
                - {""}
                # a breaker a migration files under its own id and a word ("orders_move slot")
                or breaker.startswith(f"{track.migration.id} ")
            ]
        return found

    def _on_action(self, ts: float, event: Any) -> None:
        source, data = event.source, event.data
        key = text(data.get("migration_id"), "?")
        track = self.tracks.get(key)
        if track is None:
            # An action names the id as its controller knows it; its source names the controller.
            for candidate in self.tracks.values():
                if candidate.migration.remote_id == key and candidate.migration.source_name == source:
                    track = candidate
                    break
        if track is None:
            return
        row = ActionRow(
            ts,
            clean(data.get("action"), 40),
            clean(data.get("stage"), 40),
            clean(data["requested_by"], 120) if isinstance(data.get("requested_by"), str) else NOT_RECORDED,
            clean(data["reason"], 200) if isinstance(data.get("reason"), str) else NOT_RECORDED,
            clean(data.get("result"), 200) if data.get("result") is not None else "",
        )
        track.actions.append(row)
        if row.stage in ("sent", "answered"):
            if row.stage == "sent" or not any(a.stage == "sent" and a.action == row.action for a in track.actions[:-1]):
                track.marks.append(Mark(ts, "action", f"{row.action} {_by(row)}"))

    def _judge(self, now: float) -> None:
        store = self.store
        judged = judge(store, now, self.rules, self.poll)
        for key, track in self.tracks.items():
            migration = store.migrations.get(key)
            if migration is None:
                continue
            for item in judged.get(key, ()):
                previous = track.rule_state.get(item.rule, "ok")
                state = item.state if item.state in ("pending", "firing") else "ok"
                if state == previous:
                    continue
                track.rule_state[item.rule] = state
                alert = item.alert
                if alert is None:
                    continue
                # Pending before it fired: a series rule held for its "for" (the others fire at once).
                waited = self._kinds.get(item.rule) == "series" and (alert.fires_at or alert.since) > alert.since
                if previous == "ok" and (state == "pending" or waited):
                    track.marks.append(Mark(alert.since, "pending", f"{item.rule} pending"))
                if state == "firing":
                    at = alert.fires_at if alert.fires_at is not None and alert.fires_at <= now else now
                    track.marks.append(Mark(max(at, alert.since), "firing", f"{item.rule} fired"))
            members = store.participants.get(key)
            if not members:
                continue
            running = not _ended(migration)
            for pid, participant in members.items():
                vote = participant.vote
                seen = track.votes.get(pid)
                if seen is None or seen[0] != vote:
                    track.votes[pid] = (vote, now)
                if not running or participant.last_heartbeat is None:
                    continue
                lost = now - participant.last_heartbeat > HEARTBEAT_LOST_S
                if lost and pid not in track.lost:
                    track.lost.add(pid)
                    at = participant.last_heartbeat + HEARTBEAT_LOST_S
                    track.marks.append(Mark(at, "heartbeat", f"heartbeat of {clean(pid, 60)} lost"))
                elif not lost:
                    track.lost.discard(pid)


def collect(
    path: str,
    rules: Iterable[Rule] | None = None,
    migration_id: str | None = None,
) -> Report:
    """Read the whole recording at ``path`` and build the report (see the module's docstring)."""
    rules = default_rules() if rules is None else tuple(rules)
    reader = RecordingReader(path)
    header = reader.header or {}
    poll = header.get("poll_interval_s")
    if not (type(poll) in (int, float) and 0 < poll < 3600):
        poll = DEFAULT_POLL_S
    collector = _Collector(tuple(rules), float(poll), migration_id)
    # As the headless reduction reads (decode_chunks reads large pieces: a plain file needs no buffer).
    with open_binary(reader.path) if is_gzip(reader.path) else open(reader.path, "rb", buffering=0) as fp:
        if reader.data_offset:
            fp.seek(reader.data_offset)
        chunks = decode_chunks(fp, reader.stats, reader.data_offset)
        first, last, events = collector.run(chunks)
    start = reader.started_at if reader.started_at is not None else first
    if start is None:
        start = 0.0
    end = last if last is not None else start
    if collector.tracks:
        collector._judge(end)
    for source, ts in collector._last_ok.items():
        if source not in collector._failing and end - ts > SILENT_AFTER_POLLS * collector.poll:
            collector.outages.append(Outage(source, "silent", ts, None, "no answer until the recording ended"))
    migrations = [_finish(track, collector, rules, start, end) for track in collector.tracks.values()]
    stats = reader.stats
    return Report(
        path=path,
        version=header.get("version", NOT_RECORDED),
        started_at=start,
        ended_at=end,
        events=events,
        skipped_lines=stats.skipped_lines,
        rejected_events=collector.store.rejected_events,
        skip_reasons=list(stats.errors),
        migrations=migrations,
        outages=sorted(collector.outages, key=lambda o: (o.start, o.source, o.kind)),  # ties: one order always
    )


# --- deciding ---------------------------------------------------------------------------------------


def _candidates(migration: Migration, name: str) -> list[str]:
    """Where a migration's copy of a series may be, first found first, as the rules look (``rules._series_for``)."""
    pair = migration.pair
    scoped = f"{migration.scoped(pair)}/{name}" if pair and migration.controller else None
    return [key for key in (scoped, f"{pair}/{name}" if pair else None, f"{migration.id}/{name}", name) if key]


def _series_of(collector: _Collector, migration: Migration, name: str) -> tuple[str, tuple[array, array] | None]:
    """The migration's own copy of a series."""
    for key in _candidates(migration, name):
        if key in collector.series:
            return key, collector.series[key]
    return name, None


def _finish(track: _Track, collector: _Collector, rules: tuple[Rule, ...], start: float, end: float) -> MigrationReport:
    migration = track.migration
    spec = _criteria.spec_for(migration.system)
    spans = track.spans
    if track.ended_at is None:
        spans[-1].end = end  # still running when the recording ended
    phase_at = _phase_lookup(spans)
    charts: list[ChartSeries] = [
        ChartSeries("progress", "progress", "progress", " %", track.progress_ts, track.progress),
    ]
    own_rules = [rule for rule in rules if applies(rule, migration)]
    for chart in _criteria.CHARTS:
        name = spec.charts[chart]
        key, found = _series_of(collector, migration, name)
        ts, values = found if found is not None else (array("d"), array("d"))
        labelled = [rule for rule in own_rules if rule.kind == "series" and rule.series == name]
        label = labelled[0].label if labelled else name
        unit = labelled[0].unit if labelled else ""
        series = ChartSeries(chart, key if found is not None else "", label, unit, ts, values)
        for rule in labelled:
            series.thresholds.append(
                (f"rule {rule.name}: {rule.op} {_num(rule.threshold)}{rule.unit}", rule.threshold, "rule")
            )
        for criterion in spec.criteria:
            if criterion.kind == "series" and criterion.series == name:
                series.thresholds.append(
                    (
                        f"criterion: {criterion.op} {_num(criterion.threshold)}{criterion.unit}",
                        criterion.threshold,
                        "criterion",
                    )
                )
        charts.append(series)
    until = track.ended_at if track.ended_at is not None else end
    verdicts = [_decide(criterion, track, collector, phase_at, until, start) for criterion in spec.criteria]
    outcome, undone_by = _outcome(track, start)
    return MigrationReport(
        id=migration.id,
        system=migration.system,
        pair=migration.pair,
        controller=migration.controller,
        first_seen=track.first_seen,
        last_seen=track.last_seen,
        started_at=migration.started_at,
        ended_at=track.ended_at,
        status=migration.status,
        phase=migration.phase,
        spans=spans,
        actions=track.actions,
        marks=sorted(track.marks, key=lambda m: m.ts),
        charts=charts,
        verdicts=verdicts,
        outcome=outcome,
        undone_by=undone_by,
        participants=[(pid, vote) for pid, (vote, _since) in track.votes.items()],
    )


def _phase_lookup(spans: list[Span]) -> Callable[[float], str]:
    starts = [span.start for span in spans]

    def phase_at(ts: float) -> str:
        index = bisect.bisect_right(starts, ts) - 1
        return spans[max(0, index)].phase

    return phase_at


def _decide(
    criterion: _criteria.Criterion,
    track: _Track,
    collector: _Collector,
    phase_at: Callable[[float], str],
    until: float,
    start: float,
) -> Verdict:
    migration = track.migration
    kind = criterion.kind
    if kind == "not_recorded":
        return Verdict(criterion.text, CANNOT_TELL, criterion.why or "this recording cannot say")
    if kind == "status":
        if migration.status == criterion.equals:
            return Verdict(criterion.text, MET, f"{migration.status} at {_at(track.ended_at, start)}")
        if track.ended_at is None:
            return Verdict(
                criterion.text, CANNOT_TELL, f"still {migration.status} / {migration.phase} when the recording ended"
            )
        return Verdict(
            criterion.text, NOT_MET, f"ended {migration.status} / {migration.phase} at {_at(track.ended_at, start)}"
        )
    if kind == "votes":
        if not track.votes:
            return Verdict(criterion.text, CANNOT_TELL, "no participant votes in the recording")
        other = [(pid, vote, since) for pid, (vote, since) in track.votes.items() if vote != criterion.equals]
        if not other:
            return Verdict(criterion.text, MET, f"{len(track.votes)} of {len(track.votes)} voted {criterion.equals}")
        worst = "; ".join(
            f"{clean(pid, 60)}: {clean(vote, 30)} (from {_at(since, start)})" for pid, vote, since in other[:5]
        )
        return Verdict(
            criterion.text, NOT_MET, f"{len(other)} of {len(track.votes)} did not vote {criterion.equals}: {worst}"
        )
    if kind == "no_actions":
        sent = [a for a in track.actions if a.stage in ("sent", "answered")]
        if sent:
            first = sent[0]
            return Verdict(
                criterion.text,
                NOT_MET,
                f"{len({(a.action, round(a.ts)) for a in sent})} operator action(s); first: {first.action} at "
                f"{_at(first.ts, start)} {_by(first)}",
            )
        return Verdict(
            criterion.text,
            CANNOT_TELL,
            "no action from the dashboard in the recording; actions taken by other means are not recorded",
        )
    if kind == "breaker_opens":
        if not track.breakers_seen and not track.breaker_opens:
            return Verdict(criterion.text, CANNOT_TELL, "no circuit breaker of this migration in the recording")
        count = len(track.breaker_opens)
        if count > criterion.threshold:
            first, last = track.breaker_opens[0][0], track.breaker_opens[-1][0]
            return Verdict(
                criterion.text,
                NOT_MET,
                f"opened {count} time(s): first at {_at(first, start)}, last at {_at(last, start)}",
            )
        return Verdict(criterion.text, MET, f"opened {count} time(s)")
    if kind == "health_score":
        return _decide_samples(criterion, track.health_ts, track.health, "health score", phase_at, track, until, start)
    key, found = _series_of(collector, migration, criterion.series)
    if found is None:
        return Verdict(criterion.text, CANNOT_TELL, f"no {criterion.series} samples in the recording")
    return _decide_samples(criterion, found[0], found[1], key, phase_at, track, until, start)


def _decide_samples(
    criterion: _criteria.Criterion,
    ts: array,
    values: array,
    name: str,
    phase_at: Callable[[float], str],
    track: _Track,
    until: float,
    start: float,
) -> Verdict:
    phases = set(criterion.phases)
    valid = invalid = broken = 0
    worst: float | None = None
    worst_ts = 0.0
    first_ts = last_ts = None
    lo = bisect.bisect_left(ts, track.first_seen)
    hi = bisect.bisect_right(ts, until)
    for index in range(lo, hi):
        at = ts[index]
        if phases and phase_at(at) not in phases:
            continue
        if first_ts is None:
            first_ts = at
        last_ts = at
        value = values[index]
        if value != value:
            invalid += 1
            continue
        valid += 1
        if worst is None or criterion.worse(value, worst):
            worst, worst_ts = value, at
        if not criterion.holds(value):
            broken += 1
    where = f" in {', '.join(criterion.phases)}" if phases else ""
    if worst is None:
        if invalid:
            return Verdict(
                criterion.text, CANNOT_TELL, f"every {name} sample{where} was invalid or missing ({invalid})"
            )
        if phases:
            return Verdict(criterion.text, CANNOT_TELL, f"no {name} samples{where}: the migration never ran there")
        return Verdict(criterion.text, CANNOT_TELL, f"no {name} samples while the migration ran")
    worst_text = f"worst {_num(worst)}{criterion.unit} at {_at(worst_ts, start)} ({clean(phase_at(worst_ts), 40)})"
    if broken:
        return Verdict(criterion.text, NOT_MET, f"{worst_text}; {broken} of {valid} samples{where} outside the limit")
    if invalid:
        return Verdict(
            criterion.text,
            CANNOT_TELL,
            f"{invalid} sample(s){where} invalid or missing; the {valid} valid ones are within ({worst_text})",
        )
    seen = (last_ts or 0.0) - (first_ts or 0.0)
    if criterion.for_s and seen < criterion.for_s:
        return Verdict(
            criterion.text,
            CANNOT_TELL,
            f"within the limit for the {_dur(seen)} recorded{where}, but the criterion needs {_dur(criterion.for_s)} "
            f"({worst_text})",
        )
    ran = "" if track.ended_at is not None else "; the migration had not ended when the recording did"
    return Verdict(criterion.text, MET, f"{valid} samples{where}, {worst_text}{ran}")


def _outcome(track: _Track, start: float) -> tuple[str, str]:
    migration = track.migration
    if track.ended_at is None:
        return (
            f"still {migration.status} / {migration.phase} when the recording ended ({_at(track.last_seen, start)})",
            "",
        )
    outcome = f"{migration.status} / {migration.phase} at {_at(track.ended_at, start)}"
    action = _UNDONE_BY.get(migration.status) or _UNDONE_BY.get(migration.phase)
    if not action:
        return outcome, ""
    began = next((span for span in track.spans if span.phase in _UNDONE_BY or span.status in _UNDONE_BY), None)
    began_at = _at(began.start, start) if began else _at(track.ended_at, start)
    sent = [a for a in track.actions if a.action == action and a.stage in ("sent", "answered")]
    if sent:
        first = sent[0]
        return outcome, f"{action} sent from the dashboard at {_at(first.ts, start)} {_by(first)}"
    return outcome, (
        f"no operator {action} in the recording; the controller reported "
        f"{began.status + ' / ' + began.phase if began else migration.status} from {began_at}"
    )


# --- formatting -------------------------------------------------------------------------------------


def _num(value: float) -> str:
    if not math.isfinite(value):
        return "invalid"
    if value != 0 and abs(value) < 0.01:
        return f"{value:.4f}".rstrip("0")
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"


def _dur(seconds: float) -> str:
    whole = max(0, int(round(seconds)))
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m{whole % 60:02d}s"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole}s"


def _at(ts: float | None, start: float) -> str:
    """A moment as the recording's offset (what ``replay --start`` takes) and its UTC wall-clock."""
    if ts is None:
        return MISSING
    return f"+{_dur(ts - start)} ({_clock_at(ts, start)})"


def _span(a: float, b: float, start: float) -> str:
    """How long from ``a`` to ``b``, as the difference of their offsets as shown (``_at``): a row
    "+2m10s to +2m36s" says 26s, not the 25s that rounding 25.2 s alone would give."""
    return _dur(round(b - start) - round(a - start))


def _clock_at(ts: float, start: float) -> str:
    """``ts``'s UTC wall-clock as the report counts it: the recording's start to the nearest second
    (as the header shows it), plus ``ts``'s offset from it rounded as ``_dur`` rounds it. So an
    offset and its clock always agree, and agree with the header ("+55s (22:14:14 UTC)" for a
    moment 54.6 s after 22:13:20 did not: the offset rounded, the clock cut by strftime)."""
    try:
        return _wall(round(start) + round(ts - start))
    except (OverflowError, ValueError):
        return "invalid time"


def _wall(ts: float) -> str:
    """``ts`` to the nearest second (strftime alone would cut it)."""
    try:
        return _dt.datetime.fromtimestamp(round(ts), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "invalid time"


def chart_file_names(report: Report, stem: str) -> list[str]:
    """The file name of each migration's chart, beside a Markdown report named ``stem``.md."""
    names = []
    for index, migration in enumerate(report.migrations, 1):
        safe_id = re.sub(r"[^A-Za-z0-9._-]+", "_", migration.id)[:60].strip("._") or "migration"
        names.append(f"{stem}-{index}-{safe_id}.svg")
    return names


def _summary_rows(report: Report, m: MigrationReport) -> list[tuple[str, str]]:
    start = report.started_at
    began = m.started_at if m.started_at is not None else m.first_seen
    until = m.ended_at if m.ended_at is not None else m.last_seen
    duration = _span(began, until, start) + ("" if m.ended_at is not None else " so far (not ended in the recording)")
    who = _who(m, start)
    rows = [
        ("System", m.system),
        ("Pair", m.pair or MISSING),
        ("Controller", m.controller or "(the one unnamed controller)"),
        (
            "Started",
            _clock_at(began, start) + ("" if m.started_at is not None else " (first seen; start not reported)"),
        ),
        ("Ended", _clock_at(m.ended_at, start) if m.ended_at is not None else "not ended in the recording"),
        ("Duration", duration),
        ("Outcome", m.outcome),
    ]
    if m.undone_by:
        rows.append(("Ended by", m.undone_by))
    rows.append(("Who did what", who))
    return rows


def _who(m: MigrationReport, start: float) -> str:
    done = [a for a in m.actions if a.stage == "answered"] or [a for a in m.actions if a.stage == "sent"]
    if not done:
        return "no operator action in the recording"
    return "; ".join(f"{a.action} at {_at(a.ts, start)} {_by(a)}" + (f": {a.result}" if a.result else "") for a in done)


def _by(action: ActionRow) -> str:
    return "by whom not recorded" if action.by == NOT_RECORDED else f"by {action.by}"


def _pauses(m: MigrationReport) -> list[tuple[float, float]]:
    return [(span.start, span.end) for span in m.pauses]


# --- Markdown ---------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~&${}])")


def md(value: object, limit: int = 200) -> str:
    """Untrusted text for Markdown: control characters replaced, every character Markdown acts on escaped."""
    return _MD_SPECIAL.sub(r"\\\1", clean(value, limit))


def _md_table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("\n", " ") for cell in row) + " |" for row in rows]
    return lines + [""]


def markdown(report: Report, charts: list[str] | None = None) -> str:
    """The report as Markdown; ``charts``: each migration's chart image file (None: no charts)."""
    start = report.started_at
    out = [
        f"# Migration report: {md(report.path.rsplit('/', 1)[-1])}",
        "",
        f"Recording {md(report.path)} (format version {md(report.version)}): {_wall(start)} to "
        f"{_clock_at(report.ended_at, start)} ({_dur(report.duration)}), {report.events} events, "
        f"{report.skipped_lines} line(s) skipped, {report.rejected_events} event(s) rejected.",
        "",
    ]
    if report.skipped_lines:
        out += [f"Lines skipped because: {md('; '.join(report.skip_reasons) or 'unknown kinds')}.", ""]
    if charts is None:
        out += ["Charts: give `--out FILE.md` or `--out FILE.html` to draw them.", ""]
    if not report.migrations:
        out += ["No migration in this recording.", ""]
    for index, m in enumerate(report.migrations):
        out += [f"## Migration post-mortem: {md(m.id)}", "", "### Summary", ""]
        out += _md_table(("what", "value"), ((f"**{k}**", md(v, 600)) for k, v in _summary_rows(report, m)))
        out += ["### Phase timeline", ""]
        out += _md_table(
            ("from", "to", "phase", "status", "time"),
            (
                (_at(s.start, start), _at(s.end, start), md(s.phase), md(s.status), _span(s.start, s.end, start))
                for s in m.spans
            ),
        )
        out += _md_table(("phase", "time spent"), ((md(p), _dur(t)) for p, t in m.time_in_phases(start)))
        pauses = _pauses(m)
        out += [
            "Pauses: "
            + ("; ".join(f"{_at(a, start)} for {_span(a, b, start)}" for a, b in pauses) if pauses else "none")
            + ".",
            "",
        ]
        if charts is not None:
            out += [
                "### Charts",
                "",
                f"![progress, latency, error rate and throughput of {md(m.id)}]({charts[index]})",
                "",
            ]
        out += ["### Marked moments", ""]
        if m.marks:
            out += _md_table(("when", "what"), ((_at(k.ts, start), md(k.label)) for k in m.marks))
        else:
            out += ["No rule went pending or fired, no breaker opened, no heartbeat was lost, no action was sent.", ""]
        out += ["### Operator actions", ""]
        if m.actions:
            out += _md_table(
                ("when", "action", "stage", "by", "reason", "answer"),
                (
                    (_at(a.ts, start), md(a.action), md(a.stage), md(a.by), md(a.reason), md(a.result) or MISSING)
                    for a in m.actions
                ),
            )
        else:
            out += ["None in the recording.", ""]
        out += ["### Success criteria", ""]
        if m.verdicts:
            out += _md_table(
                ("criterion", "verdict", "detail"),
                ((md(v.criterion), _verdict_word(v.state), md(v.detail, 600)) for v in m.verdicts),
            )
        else:
            out += [f"System {md(m.system)} has no success criteria (report.toml).", ""]
        out += ["### What went well", "", "- ", "", "### What could be improved", "", "- ", ""]
    out += ["## Source outages", ""]
    if report.outages:
        out += _md_table(
            ("source", "what", "from", "to", "length"),
            (
                (
                    md(o.source),
                    md(o.kind + (f": {o.message}" if o.message else "")),
                    _at(o.start, start),
                    _at(o.end, start) if o.end is not None else "end of recording",
                    _span(o.start, o.end if o.end is not None else report.ended_at, start),
                )
                for o in report.outages
            ),
        )
    else:
        out += ["None: every source answered throughout.", ""]
    return "\n".join(out)


def _verdict_word(state: str) -> str:
    return {MET: "✔ met", NOT_MET: "✖ **not met**", CANNOT_TELL: "? cannot tell from this recording"}[state]


# --- HTML -------------------------------------------------------------------------------------------


def h(value: object, limit: int = 200) -> str:
    """Untrusted text for HTML: control characters replaced, then escaped."""
    return _html.escape(clean(value, limit), quote=True)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #111; background: #fff; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #999; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
.met { color: #05612a; } .not-met { color: #a00; font-weight: bold; } .cannot-tell { color: #6b4e00; }
img.chart { width: 100%; max-width: 60em; border: 1px solid #ccc; }
section.migration { page-break-before: always; }
section.migration:first-of-type { page-break-before: auto; }
@media print { body { margin: 0; max-width: none; } img.chart { page-break-inside: avoid; } }
"""


def _html_table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = []
    for index, row in enumerate(rows):
        attr = f' class="{classes[index]}"' if classes and classes[index] else ""
        body.append(f"<tr{attr}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html(report: Report, charts: list[str] | None = None) -> str:
    """One self-contained page: no script, no network; ``charts``: each migration's chart as SVG text."""
    import base64

    start = report.started_at
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Migration report: {h(report.path.rsplit('/', 1)[-1])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Migration report: {h(report.path.rsplit('/', 1)[-1])}</h1>",
        f"<p>Recording {h(report.path)} (format version {h(report.version)}): {_wall(start)} to "
        f"{_clock_at(report.ended_at, start)} ({_dur(report.duration)}), {report.events} events, "
        f"<span id='skipped'>{report.skipped_lines}</span> line(s) skipped, {report.rejected_events} event(s) rejected.</p>",
    ]
    if report.skipped_lines:
        parts.append(f"<p>Lines skipped because: {h('; '.join(report.skip_reasons) or 'unknown kinds')}.</p>")
    if not report.migrations:
        parts.append("<p>No migration in this recording.</p>")
    for index, m in enumerate(report.migrations):
        parts.append(f'<section class="migration"><h2>Migration post-mortem: {h(m.id)}</h2><h3>Summary</h3>')
        parts.append(_html_table(("what", "value"), ((f"<b>{k}</b>", h(v, 600)) for k, v in _summary_rows(report, m))))
        parts.append("<h3>Phase timeline</h3>")
        parts.append(
            _html_table(
                ("from", "to", "phase", "status", "time"),
                (
                    (_at(s.start, start), _at(s.end, start), h(s.phase), h(s.status), _span(s.start, s.end, start))
                    for s in m.spans
                ),
            )
        )
        parts.append(_html_table(("phase", "time spent"), ((h(p), _dur(t)) for p, t in m.time_in_phases(start))))
        pauses = _pauses(m)
        parts.append(
            "<p>Pauses: "
            + ("; ".join(f"{_at(a, start)} for {_span(a, b, start)}" for a, b in pauses) if pauses else "none")
            + ".</p>"
        )
        if charts is not None:
            data = base64.b64encode(charts[index].encode("utf-8")).decode("ascii")
            parts.append(
                f'<h3>Charts</h3><img class="chart" alt="progress, latency, error rate and throughput of {h(m.id)}" '
                f'src="data:image/svg+xml;base64,{data}">'
            )
        parts.append("<h3>Marked moments</h3>")
        if m.marks:
            parts.append(_html_table(("when", "what"), ((_at(k.ts, start), h(k.label)) for k in m.marks)))
        else:
            parts.append(
                "<p>No rule went pending or fired, no breaker opened, no heartbeat was lost, no action was sent.</p>"
            )
        parts.append("<h3>Operator actions</h3>")
        if m.actions:
            parts.append(
                _html_table(
                    ("when", "action", "stage", "by", "reason", "answer"),
                    (
                        (_at(a.ts, start), h(a.action), h(a.stage), h(a.by), h(a.reason), h(a.result) or MISSING)
                        for a in m.actions
                    ),
                )
            )
        else:
            parts.append("<p>None in the recording.</p>")
        parts.append("<h3>Success criteria</h3>")
        if m.verdicts:
            classes = [v.state.replace(" ", "-") for v in m.verdicts]
            parts.append(
                _html_table(
                    ("criterion", "verdict", "detail"),
                    (
                        (h(v.criterion), _html.escape(_verdict_word(v.state).replace("**", "")), h(v.detail, 600))
                        for v in m.verdicts
                    ),
                    classes,
                )
            )
        else:
            parts.append(f"<p>System {h(m.system)} has no success criteria (report.toml).</p>")
        parts.append("<h3>What went well</h3><p>…</p><h3>What could be improved</h3><p>…</p></section>")
    parts.append("<h2>Source outages</h2>")
    if report.outages:
        parts.append(
            _html_table(
                ("source", "what", "from", "to", "length"),
                (
                    (
                        h(o.source),
                        h(o.kind + (f": {o.message}" if o.message else "")),
                        _at(o.start, start),
                        _at(o.end, start) if o.end is not None else "end of recording",
                        _span(o.start, o.end if o.end is not None else report.ended_at, start),
                    )
                    for o in report.outages
                ),
            )
        )
    else:
        parts.append("<p>None: every source answered throughout.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


__all__ = ["CANNOT_TELL", "MET", "NOT_MET", "Report", "collect", "html", "markdown", "md", "h", "chart_file_names"]
