"""Recording format v2: a writer and a tolerant reader.

JSON Lines, gzip-compressed when the name ends in ``.gz``. The first line is
a header ``{"format": "migration-tui/recording", "version": 2, "started_at": s}``;
every other line is one event ``{"ts", "source", "kind", "data"}``.

Version 2 adds the kind ``participants_delta`` (only the participants that
changed since the last list; the controller source emits it between full
``participants`` lists). A version 1 reader would skip it and show stale
participants, hence the new version. Everything a version 1 file holds means
the same in version 2, so version 1 files are read and replayed exactly as
before; the writer writes version 2.

The reader never raises on content: lines it cannot decode (garbage, wrong
types, non-UTF-8 bytes, a truncated last line) and kinds it does not know are
skipped and counted. Events are returned in file order; an event stamped
earlier than the one before it is played at the earlier one's time (see
``effective_ts``), so the replay clock never runs backwards.
"""

from __future__ import annotations

import gzip
import io
import itertools
import math
import os
import time
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Annotated, Any, ClassVar, Union

import msgspec
import orjson

from migration_tui.events import KINDS, Event
from migration_tui.model import MAX_ABS

FORMAT = "migration-tui/recording"
VERSION = 2
#: Longest line the reader accepts; a longer one is skipped (and counted).
MAX_LINE_BYTES = 4 * 1024 * 1024
_MAX_TS = 1e11


class ReadStats(msgspec.Struct):
    """What the reader had to skip."""

    bad_lines: int = 0  # not JSON, not an object, wrong field types, too long
    unknown_kinds: int = 0
    events: int = 0
    header_ok: bool = False
    errors: list[str] = msgspec.field(default_factory=list)  # the first few reasons, for the screen

    @property
    def skipped_lines(self) -> int:
        return self.bad_lines + self.unknown_kinds

    def note(self, reason: str) -> None:
        self.bad_lines += 1
        if len(self.errors) < 5:
            self.errors.append(reason)


def is_gzip(path: str | os.PathLike[str]) -> bool:
    return str(path).endswith(".gz")


def open_binary(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open a recording for reading, decompressing on the fly if it is gzip."""
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb", buffering=1024 * 1024)


def decode_event(line: bytes, stats: ReadStats) -> Event | None:
    """One event from one line, or None (counted in ``stats``) if it is not one."""
    if len(line) > MAX_LINE_BYTES:
        stats.note("line too long")
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        if line.strip():
            stats.note("not JSON")
        return None
    if type(obj) is not dict:
        stats.note("not an object")
        return None
    ts = obj.get("ts")
    source = obj.get("source")
    kind = obj.get("kind")
    data = obj.get("data")
    if (
        type(source) is not str
        or type(kind) is not str
        or type(data) is not dict
        or type(ts) not in (float, int)
        or not (0 <= ts < _MAX_TS)
    ):
        stats.note("wrong field types")
        return None
    if kind not in KINDS:
        stats.unknown_kinds += 1
        return None
    stats.events += 1
    return Event(float(ts), source, kind, data)


#: One decoded event as the fast readers yield it: (offset just past its line, ts, source, kind, data).
Row = tuple[int, float, str, str, dict[str, Any]]


def decode_rows(lines: Iterator[bytes], stats: ReadStats, position: int = 0) -> Iterator[Row]:
    """``decode_event`` over many lines, as rows: the replay engine's and the headless reduction's
    hot loop. The same checks, in the same order, with the same counts, without an ``Event`` or a
    call per line. An over-long line is skipped and counted once, whether it comes whole or in
    pieces of at most ``MAX_LINE_BYTES + 1`` bytes (``readline(limit)``; ``position`` counts
    every piece). A stream
    that fails (a gzip file cut short, a damaged member) ends the rows: what came before stands."""
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    kinds = KINDS
    max_line = MAX_LINE_BYTES
    max_ts = _MAX_TS
    note = stats.note
    skipping = False  # inside an over-long line read in pieces (``readline(limit)``)
    try:
        for line in lines:
            position += len(line)
            if skipping:
                skipping = line[-1:] != b"\n"
                continue
            if len(line) > max_line:
                note("line too long")
                skipping = line[-1:] != b"\n"
                continue
            try:
                obj = loads(line)
            except decode_error:
                if line.strip():
                    note("not JSON")
                continue
            if type(obj) is not dict:
                note("not an object")
                continue
            ts = obj.get("ts")
            source = obj.get("source")
            kind = obj.get("kind")
            data = obj.get("data")
            if type(source) is not str or type(kind) is not str or type(data) is not dict:
                note("wrong field types")
                continue
            if type(ts) is not float:
                if type(ts) is not int:
                    note("wrong field types")
                    continue
                ts = float(ts)
            if not (0 <= ts < max_ts):
                note("wrong field types")
                continue
            if kind not in kinds:
                stats.unknown_kinds += 1
                continue
            stats.events += 1
            yield position, ts, source, kind, data
    except (EOFError, OSError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        # A gzip stream cut short, or a damaged member: what came before stands.
        note(f"stream ended early: {type(exc).__name__}")


# --- decoding many lines at once (the headless reduction's and the index's reader) -------------
#
# A chunk of whole lines is split, and each line decoded by msgspec (``map``: no Python code
# runs per line) into typed events, which check in C what ``decode_rows`` checks in Python: the
# four fields' types, ``ts`` in range, a known kind (and, for the two commonest kinds, the data's
# shape: a metrics sample is a number in range or null, a heartbeat names its migration and
# participant and gives a time in range; unknown fields are refused). A chunk that is not all
# such events (a bad line, an unknown kind, a value out of range, a line that is not one value)
# is decoded again line by line by ``decode_rows``, so what is skipped and counted is exactly
# what it skips and counts: typed decoding only ever takes lines that both decoders read alike.
# The data of the other kinds is kept raw by msgspec and decoded by ``orjson.loads``, as
# ``decode_rows`` decodes it; but a participants list or a host sample in the shape the
# controllers and the host source send (``ParticipantsData``, ``HostData``: plain strings, a
# boolean or null, numbers in range, no other fields) is typed by msgspec instead, event by
# event, and its handler in the store reads it without checking it again. Anything else in
# those kinds is a dict from ``orjson.loads``, as before: a shape msgspec refuses costs a
# second decode of that event's data, not the chunk's typed path.

_TS = Annotated[float, msgspec.Meta(ge=0.0, lt=_MAX_TS)]
_SAMPLE = Annotated[float, msgspec.Meta(ge=-MAX_ABS, le=MAX_ABS)] | None


class MetricsData(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    values: dict[str, _SAMPLE]
    invalid: list[str] | None = None


class MetricsEvent(msgspec.Struct, tag_field="kind", tag="metrics", forbid_unknown_fields=True, gc=False):
    """A ``metrics`` event whose samples are all numbers within ``MAX_ABS`` (or null)."""

    kind: ClassVar[str] = "metrics"
    ts: _TS
    source: str
    data: MetricsData


#: An id as the store keeps it (``model.text``'s limit): a longer one is read line by line.
_ID = Annotated[str, msgspec.Meta(max_length=256)]


class HeartbeatData(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    migration_id: _ID
    participant_id: _ID
    at: Annotated[float, msgspec.Meta(ge=0.0, le=1e11)]


class HeartbeatEvent(msgspec.Struct, tag_field="kind", tag="heartbeat", forbid_unknown_fields=True, gc=False):
    """A ``heartbeat`` event with string ids of at most 256 characters and a time within [0, 1e11]."""

    kind: ClassVar[str] = "heartbeat"
    ts: _TS
    source: str
    data: HeartbeatData


class ParticipantItem(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A listed participant as controllers send it. ``Participant.from_dict`` of such an item is
    ``Participant(id, type, vote or "pending", is_healthy, last_heartbeat, ())``: nothing
    in it is invalid or cut, and two equal items make equal participants. (A ``healthy``
    spelling, an ``invalid`` list, a null string, a string longer than the store keeps or any
    other field: a dict.)"""

    id: _ID
    type: _ID = ""
    vote: _ID = ""
    is_healthy: bool | None = None
    last_heartbeat: Annotated[float, msgspec.Meta(ge=0.0, le=1e11)] | None = None


class ParticipantsData(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A ``participants`` event's data whose every item is a ``ParticipantItem``."""

    migration_id: str
    participants: list[ParticipantItem]


#: A host sample's numbers: each within what ``HostResources.from_dict`` accepts (its bounds).
_PERCENT = Annotated[float, msgspec.Meta(ge=0.0, le=100.0)] | None


class HostData(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A ``host`` event's data with every number in range (or null) and a string scope:
    ``HostResources.from_dict`` of it has nothing invalid."""

    cpu_percent: Annotated[float, msgspec.Meta(ge=0.0, le=100.0 * 4096)] | None = None
    memory_percent: _PERCENT = None
    disk_percent: _PERCENT = None
    net_sent_bps: Annotated[float, msgspec.Meta(ge=0.0, le=1e13)] | None = None
    net_recv_bps: Annotated[float, msgspec.Meta(ge=0.0, le=1e13)] | None = None
    load1: Annotated[float, msgspec.Meta(ge=0.0, le=1e6)] | None = None
    scope: str = "host"


class OtherEvent(msgspec.Struct):
    """An event of any other kind (``data`` is its dict once ``_typed_chunk`` has decoded it)."""

    kind: ClassVar[str]
    ts: float
    source: str
    data: Any


_OTHER_KINDS = sorted(KINDS - {"metrics", "heartbeat"})
_OTHER_TYPES = tuple(
    msgspec.defstruct(
        f"{kind.title().replace('_', '')}Event",
        [("kind", ClassVar[str], kind), ("ts", _TS), ("source", str), ("data", msgspec.Raw)],
        bases=(OtherEvent,),
        tag_field="kind",
        tag=kind,
        forbid_unknown_fields=True,
    )
    for kind in _OTHER_KINDS
)
_OTHER_SET = frozenset(_OTHER_TYPES)
#: The class of each kind's typed events (what ``decode_chunks`` gives for a typed chunk).
TYPED_EVENTS: dict[str, type] = {cls.kind: cls for cls in (MetricsEvent, HeartbeatEvent, *_OTHER_TYPES)}
_DECODER = msgspec.json.Decoder(Union[(MetricsEvent, HeartbeatEvent, *_OTHER_TYPES)])  # type: ignore[valid-type]
#: The kinds whose data is typed when it has the usual shape (see above), by event class.
_TYPED_DATA = {
    TYPED_EVENTS["participants"]: msgspec.json.Decoder(ParticipantsData).decode,
    TYPED_EVENTS["host"]: msgspec.json.Decoder(HostData).decode,
}


class RowEvent(msgspec.Struct):
    """A row of ``decode_rows`` (a chunk decoded line by line) as an event of the typed stream."""

    ts: float
    source: str
    kind: str
    data: dict[str, Any]
    offset: int


#: How many bytes of whole lines are decoded at once.
CHUNK_BYTES = 65536


class Chunk:
    """The events of some whole lines: ``events`` in file order, either typed events
    (``MetricsEvent``, ``HeartbeatEvent``, an ``OtherEvent``; ``typed``: every line of the chunk
    is one event, a list, counted in the stats) or ``RowEvent``s (the chunk is decoded line by
    line as they are read, by ``decode_rows``, which counts them and the lines it skips)."""

    __slots__ = ("events", "start", "_text", "typed", "_stats")

    def __init__(self, events: Iterable[Any], start: int, text: bytes, typed: bool, stats: ReadStats) -> None:
        self.events = events
        self.start = start  # offset of the chunk's first byte
        self._text = text
        self.typed = typed
        self._stats = stats

    def all(self) -> list[Any]:
        """Every event, as a list (a chunk decoded line by line is read to its end)."""
        if type(self.events) is not list:
            self.events = list(self.events)
        return self.events  # type: ignore[return-value]

    def stopped_at(self, event: Any) -> None:
        """A fold stopped at ``event`` (read, not applied): the events after it were not read."""
        if self.typed:
            events = self.events
            index = next(i for i, item in enumerate(events) if item is event)  # type: ignore[arg-type]
            self._stats.events -= len(events) - index - 1  # type: ignore[arg-type]

    def offset_after(self, index: int) -> int:
        """The offset just past the line of ``all()[index]``."""
        if not self.typed:
            return self.all()[index].offset
        text = self._text
        end = -1
        for _ in range(index + 1):
            end = text.index(b"\n", end + 1)
        return self.start + end + 1


def _typed_chunk(text: bytes, end: int | None = None) -> list[Any] | None:
    """The events of ``text[:end]`` (whole lines) if every line is one event msgspec can type, else None."""
    # Each line with its newline (whitespace after the value, as the line reader sees it):
    # ``readlines`` finds them with memchr, twice as fast as ``split``; a partial last line past
    # ``end`` is dropped rather than the text copied without it.
    lines = io.BytesIO(text).readlines()
    if end is not None and end < len(text):
        lines.pop()
    try:
        # One line, one value (msgspec refuses what follows a value on its line, as orjson does).
        events = list(map(_DECODER.decode, lines))
    except (msgspec.DecodeError, RecursionError):
        return None
    loads = orjson.loads
    typed_data = _TYPED_DATA.get
    try:
        for event in itertools.compress(events, map(_OTHER_SET.__contains__, map(type, events))):
            decode = typed_data(type(event))
            if decode is not None:
                try:
                    event.data = decode(event.data)  # type: ignore[arg-type]
                    continue
                except (msgspec.DecodeError, RecursionError):
                    pass  # another shape: a dict, as decode_rows reads it
            data = event.data = loads(memoryview(event.data))  # type: ignore[arg-type]
            if type(data) is not dict:
                return None
    except orjson.JSONDecodeError:
        return None
    return events


def decode_chunks(fp: IO[bytes], stats: ReadStats, position: int = 0) -> Iterator[Chunk]:
    """``decode_rows`` over a file, a chunk of lines at a time (the same events, skips and counts).

    Reads pieces as the line reader would (for gzip, one buffer's worth at a time, so a stream
    that fails ends where it would end for ``decode_rows``: every whole line before the failure
    stands, the partial line after the last one is lost), and decodes ``CHUNK_BYTES`` of whole
    lines at once. An over-long line is skipped and counted once, without keeping it whole."""
    read = fp.read1 if hasattr(fp, "read1") else fp.read  # type: ignore[attr-defined]
    piece = -1 if isinstance(fp, gzip.GzipFile) else CHUNK_BYTES  # gzip: a buffer's worth, as readline
    note = stats.note
    pieces: list[bytes] = []
    held = 0  # bytes read since the last join
    try:
        while True:
            data = read(piece)
            if data:
                pieces.append(data)
                held += len(data)
                if held < CHUNK_BYTES:
                    continue
            held = 0
            text = b"".join(pieces)
            pieces.clear()
            end = text.rfind(b"\n") + 1 if data else len(text)  # at the end, the last line may have no newline
            if not end and len(text) > MAX_LINE_BYTES:  # an over-long line: skip it to its end
                note("line too long")
                position += len(text)
                while data := read(piece):
                    cut = data.find(b"\n") + 1
                    if cut:
                        position += cut
                        pieces.append(data[cut:])
                        break
                    position += len(data)
                if not data:
                    return
                continue
            if end:
                yield _chunk(text, stats, position, end)
                position += end
            if not data:
                return
            if end < len(text):
                pieces.append(text[end:])
    except (EOFError, OSError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        # A gzip stream cut short, or a damaged member: every whole line before it stands.
        text = b"".join(pieces)
        end = text.rfind(b"\n") + 1
        if end:
            yield _chunk(text, stats, position, end)
        note(f"stream ended early: {type(exc).__name__}")


def _chunk(text: bytes, stats: ReadStats, start: int, end: int) -> Chunk:
    """The events of ``text[:end]`` (whole lines, but the last at the end of the file), typed if it can be."""
    events = _typed_chunk(text, end) if end <= MAX_LINE_BYTES else None  # else a line may be too long
    if events is not None:
        stats.events += len(events)
        return Chunk(events, start, text, True, stats)
    if end < len(text):
        text = text[:end]
    # Line by line, lazily: a fold that stops inside the chunk has counted only the lines before.
    rows = (
        RowEvent(ts, source, kind, data, offset)
        for offset, ts, source, kind, data in decode_rows(io.BytesIO(text), stats, start)
    )
    return Chunk(rows, start, text, False, stats)


def monotonic(pairs: Iterator[tuple[int, Event]], clock: float = float("-inf")) -> Iterator[tuple[int, Event]]:
    """Events with ``effective_ts``: one stamped before its predecessor takes the predecessor's time."""
    for offset, event in pairs:
        if event.ts < clock:
            event = Event(clock, event.source, event.kind, event.data)
        else:
            clock = event.ts
        yield offset, event


def parse_header(line: bytes) -> dict[str, Any] | None:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict or obj.get("format") != FORMAT:
        return None
    started = obj.get("started_at")
    if type(started) not in (int, float) or not math.isfinite(started):
        return None
    return obj


class RecordingReader:
    """Reads one recording. ``events()`` streams; ``events_from(offset)`` resumes.

    Byte offsets are offsets into the decompressed stream. For a gzip file
    they are only meaningful to ``events_from`` on a plain copy; the replay
    engine makes one when it needs to seek (see ``replay.py``).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.stats = ReadStats()
        self.header: dict[str, Any] | None = None
        self.data_offset = 0
        try:
            with open_binary(self.path) as fp:
                first = fp.readline(MAX_LINE_BYTES + 1)
        except (EOFError, gzip.BadGzipFile, zlib.error):
            first = b""  # not gzip, or cut inside its first line: no header (check_recording says which)
        header = parse_header(first) if first else None
        if header is not None:
            self.header = header
            self.stats.header_ok = True
            self.data_offset = len(first)

    @property
    def started_at(self) -> float | None:
        return None if self.header is None else float(self.header["started_at"])

    def events(self) -> Iterator[Event]:
        """Every event, in file order."""
        for _offset, event in self.events_from(self.data_offset):
            yield event

    def events_from(self, offset: int, fp: IO[bytes] | None = None) -> Iterator[tuple[int, Event]]:
        """(offset just past the line, event) for each event from byte ``offset`` on."""
        own = fp is None
        if fp is None:
            fp = open_binary(self.path)
        stats = self.stats
        try:
            if offset:
                fp.seek(offset)
            for position, ts, source, kind, data in decode_rows(fp, stats, offset):
                yield position, Event(ts, source, kind, data)
        finally:
            if own:
                fp.close()


class RecordingError(ValueError):
    """A file that cannot be replayed at all; the message is one line fit for stderr (without the path)."""


#: How much of a file ``check_recording`` reads looking for an event when it has no header.
_PROBE_LINES = 1000
_PROBE_BYTES = 8 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def check_recording(path: str | os.PathLike[str]) -> list[str]:
    """Refuse a file that holds no recording at all; return notes about one that is valid but odd.

    Raises ``RecordingError`` for an empty file, a ``.gz`` name on something
    that is not gzip, a gzip stream from which not one line can be read, and a
    file with neither a header nor an event in its first lines. A damaged tail
    is not an error here: the reader keeps what came before and counts the rest.
    Returns notes, e.g. ``["no events"]`` for a header with nothing after it.
    Reads at most the first ``_PROBE_LINES`` lines.
    """
    from migration_tui.safe_text import clean

    with open(path, "rb") as raw:
        magic = raw.read(2)
    if not magic:
        raise RecordingError("empty")
    if is_gzip(path) and magic != _GZIP_MAGIC:
        raise RecordingError("not a gzip file (the name ends .gz)")
    lines: list[bytes] = []
    damaged = ""
    size = 0
    try:
        with open_binary(path) as fp:
            while len(lines) < _PROBE_LINES and size < _PROBE_BYTES:
                line = fp.readline(MAX_LINE_BYTES + 1)
                if not line:
                    break
                size += len(line)
                lines.append(line)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        damaged = "truncated" if isinstance(exc, EOFError) else "damaged"
    ended = not damaged and len(lines) < _PROBE_LINES and size < _PROBE_BYTES
    if not lines:
        if damaged:
            raise RecordingError(f"{damaged} gzip file: not one line could be read")
        raise RecordingError("empty (nothing in the gzip stream)")
    header = parse_header(lines[0])
    stats = ReadStats()
    # Whether any line is an event: decoding stops at the first (a thousand decodes cost 3 ms before the first frame).
    events = any(decode_event(line, stats) is not None for line in lines[1 if header else 0 :])
    if header is None and not events:
        if magic == _GZIP_MAGIC and not is_gzip(path):
            raise RecordingError("not a migration-tui recording (gzip data: name it .jsonl.gz to replay it)")
        first = lines[0].decode("utf-8", "replace").strip()
        raise RecordingError(f"not a migration-tui recording (first line: {clean(first, 60)})")
    notes = []
    if not events and (ended or damaged):
        notes.append("no events")
    if damaged:
        notes.append(f"{damaged} gzip file: what could be read is replayed, the rest is counted as skipped")
    return notes


class RecordingWriter:
    """Appends events to a recording, one line each, flushed at once.

    ``secrets`` are strings that must never reach the file (the API token):
    any line that contains one has it replaced before it is written.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        started_at: float | None = None,
        meta: dict[str, Any] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.path = Path(path)
        self._secrets = tuple(s.encode() for s in secrets if s)
        raw: IO[bytes]
        if is_gzip(self.path):
            raw = gzip.open(self.path, "wb", compresslevel=6)  # type: ignore[assignment]
        else:
            raw = open(self.path, "wb")
        self._fp = raw
        header = {"format": FORMAT, "version": VERSION, "started_at": time.time() if started_at is None else started_at}
        if meta:
            header.update({k: v for k, v in meta.items() if k not in header})
        self._write_line(orjson.dumps(header, option=orjson.OPT_NON_STR_KEYS))
        self.events_written = 0

    def _write_line(self, line: bytes) -> None:
        for secret in self._secrets:
            if secret in line:
                line = line.replace(secret, b"[redacted]")
        self._fp.write(line + b"\n")
        self._fp.flush()

    def write(self, event: Event) -> None:
        self._write_line(orjson.dumps(event.to_json_obj(), option=orjson.OPT_NON_STR_KEYS))
        self.events_written += 1

    def close(self) -> None:
        if not self._fp.closed:
            self._fp.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def decompress_to(path: str | os.PathLike[str], target: IO[bytes]) -> None:
    """Copy a gzip recording's plain text into ``target``, keeping what is readable.

    Decompresses incrementally, so a file cut short (a recorder still writing,
    or killed) keeps everything up to the cut, not just whole 1 MiB blocks.
    """
    decompressor = zlib.decompressobj(wbits=31)
    with open(path, "rb") as src:
        while raw := src.read(1024 * 1024):
            while raw:
                try:
                    target.write(decompressor.decompress(raw))
                except zlib.error:
                    target.flush()
                    return  # damaged: keep what came before
                if decompressor.eof:  # another gzip member may follow
                    raw = decompressor.unused_data
                    decompressor = zlib.decompressobj(wbits=31)
                else:
                    raw = b""
    target.flush()


__all__ = [
    "FORMAT",
    "VERSION",
    "ReadStats",
    "RecordingError",
    "RecordingReader",
    "check_recording",
    "RecordingWriter",
    "decode_event",
    "decode_rows",
    "decode_chunks",
    "Chunk",
    "Row",
    "monotonic",
    "decompress_to",
    "open_binary",
]
