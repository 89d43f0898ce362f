"""``decode_chunks`` (msgspec, a chunk of lines at a time) against ``decode_rows`` (line by line).

The headless reduction and the replay's index read recordings with ``decode_chunks`` and fold
them with ``Store.fold_events``; a chunk that is not all events msgspec can type is decoded line
by line. Whatever the chunk size, they must give the events, offsets, skips and counts that
``decode_rows`` gives, and the state that ``Store.fold`` gives from its rows: lines msgspec and
orjson read differently (big integers, duplicate keys, two objects on a line, one object on two)
must never reach the typed path.
"""

from __future__ import annotations

import gzip
import json
import math
import random

import orjson
import pytest

from migration_tui import recording
from migration_tui.headless import reduce_recording, state_dict
from migration_tui.model import HostResources, Participant, text
from migration_tui.recording import (
    HeartbeatEvent,
    HostData,
    MetricsEvent,
    ParticipantsData,
    ReadStats,
    RecordingReader,
    decode_chunks,
    decode_rows,
    open_binary,
)
from migration_tui.replay import Replay
from migration_tui.store import Store
from tests.replay_corpus import INSTANTS, write_corpus
from tests.test_replay_corpus import GOLDEN, without

START = 1_700_000_000.0


def _line(ts, source, kind, data):
    return orjson.dumps({"ts": ts, "source": source, "kind": kind, "data": data}) + b"\n"


def _good(i: int) -> bytes:
    ts = START + i * 0.3
    slot = i % 7
    if slot == 0:
        return _line(
            ts, "controller", "migration", {"id": "m1", "status": "in_progress", "phase": "p", "progress": i % 100}
        )
    if slot == 1:
        items = [{"id": p, "vote": "yes", "is_healthy": True, "last_heartbeat": ts - 1} for p in ("a", "b")]
        return _line(ts, "controller", "participants", {"migration_id": "m1", "participants": items})
    if slot in (2, 3):
        return _line(ts, "redis", "heartbeat", {"migration_id": "m1", "participant_id": "ab"[i % 2], "at": ts})
    if slot == 4 and i % 2:
        return _line(ts, "host", "host", {"cpu_percent": (i * 7.3) % 100, "memory_percent": 40 + i % 3})
    return _line(ts, "prometheus", "metrics", {"values": {"x": i * 1.5, "y": None, f"s{i % 5}": i}})


#: Lines that only the line-by-line reader may judge (each with good lines around it).
ODD = [
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"x":1}}}{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"x":2}}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"x":1}}} {"ts":%(ts)s,"source":"p","kind":"log","data":{"message":"m"}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"log","data":{"message":\n"two lines"}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"x":123456789012345678901234567890}}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"migration","data":{"id":123456789012345678901234567890,"progress":5}}\n',
    b'{"ts":"x","ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"dup":1}}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"x":3}},"kind":"log"}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"x":1},"values":{"z":2}}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"bad":1},"invalid":["bad"]}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"w":1},"invalid":[]}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"w":1},"invalid":"yes"}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"t":true,"s":"1","big":1e16,"edge":-1e15,"n":null}}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"x":1},"unit":"ms"}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":[1]}}\n',
    b'{"ts":%(ts)s,"source":"r","kind":"heartbeat","data":{"migration_id":"m1","participant_id":"a","at":1700000500}}\n',
    b'{"ts":%(ts)s,"source":"r","kind":"heartbeat","data":{"migration_id":"m1","participant_id":"a","at":1e12}}\n',
    b'{"ts":%(ts)s,"source":"r","kind":"heartbeat","data":{"migration_id":"m1","participant_id":"new","at":%(ts)s}}\n',
    b'{"ts":%(ts)s,"source":"r","kind":"heartbeat","data":{"migration_id":"m1","participant_id":"a","at":%(ts)s,"x":1}}\n',
    b'{"ts":%(ts)s,"source":"r","kind":"heartbeat","data":{"migration_id":7,"participant_id":"a","at":%(ts)s}}\n',
    b'{"ts":%(ts)s,"source":"r","kind":"heartbeat","data":{"migration_id":"m1","participant_id":"'
    + b"a" * 300
    + b'","at":%(ts)s}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"telepathy","data":{}}\n',
    b'{"ts":1700000001,"source":"p","kind":"metrics","data":{"values":{"early":1}}}\n',
    b'{"ts":-1,"source":"p","kind":"metrics","data":{"values":{"x":1}}}\n',
    b'{"ts":1e11,"source":"p","kind":"metrics","data":{"values":{"x":1}}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"x":1}}}\r\n',
    b"\n",
    b"   \n",
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"x":1}},"extra":1}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"migration","data":[1,2]}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"log","data":{"message":"\\ud800 lone"}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"log","data":{"message":"\xff bad utf-8"}}\n',
    b'{"ts":%(ts)s,"source":"c\xff","kind":"log","data":{"message":"m"}}\n',
    b'{"ts":%(ts)s,"source":"p","kind":"metrics","data":{"values":{"x":NaN}}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"log","data":{"message":"deep","x":' + b"[" * 3000 + b"]" * 3000 + b"}}\n",
    b'{"ts":%(ts)s,"source":"c","kind":"log","data":{"message":"' + b"long " * 800 + b'"}}\n',
    b"not json at all\n",
    b"[1, 2, 3]\n",
    # Participants lists and host samples: typed when plain (recording.ParticipantItem, HostData),
    # a dict when not; the store must read both alike, and one after the other for the same ids.
    b'{"ts":%(ts)s,"source":"c","kind":"participants","data":{"migration_id":"m1","participants":[{"id":"a","healthy":false,"last_heartbeat":%(ts)s}]}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"participants","data":{"migration_id":"m1","participants":[{"id":"a","vote":"yes","invalid":["vote"]},{"id":"b","type":null}]}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"participants","data":{"migration_id":"m1","participants":[{"id":"a","vote":"","is_healthy":true,"last_heartbeat":1700000000},{"id":"b","last_heartbeat":-0.0}]}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"participants","data":{"migration_id":"m1","participants":[{"id":"a","last_heartbeat":1e12},{"id":"b","is_healthy":1}]}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"participants","data":{"migration_id":"m1","participants":[{"id":"a","id":"b","vote":"no"},{"id":"a","vote":"yes"},{"id":"a","vote":"no"}]}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"participants","data":{"migration_id":"m1","participants":[{"id":"a","vote":"yes","x":1},1,{"id":"b"}]}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"participants","data":{"migration_id":"m1","participants":[{"id":"'
    + b"p" * 300
    + b'","type":"'
    + b"t" * 300
    + b'"}]}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"participants","data":{"migration_id":"m1","participants":{"id":"a"}}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"participants","data":{"migration_id":"m1","participants":[]}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"participants","data":{"migration_id":"m1","participants":[{"id":"a","vote":"yes","is_healthy":true,"last_heartbeat":1.0},{"id":"b","vote":"yes","is_healthy":true,"last_heartbeat":1.0}]}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"participants_delta","data":{"migration_id":"m1","changed":[{"id":"a","vote":"no","is_healthy":true,"last_heartbeat":%(ts)s}],"removed":[]}}\n',
    b'{"ts":%(ts)s,"source":"c","kind":"participants","data":{"migration_id":"m2","participants":[{"id":"z","vote":"yes","last_heartbeat":1e11}],"extra":1}}\n',
    b'{"ts":%(ts)s,"source":"h","kind":"host","data":{"cpu_percent":500000}}\n',
    b'{"ts":%(ts)s,"source":"h","kind":"host","data":{"cpu_percent":true,"memory_percent":"5"}}\n',
    b'{"ts":%(ts)s,"source":"h","kind":"host","data":{"scope":"fleet","cpu_percent":5,"load1":null,"net_sent_bps":1e13}}\n',
    b'{"ts":%(ts)s,"source":"h","kind":"host","data":{"scope":7,"cpu_percent":5}}\n',
    b'{"ts":%(ts)s,"source":"h","kind":"host","data":{"scope":"mars","disk_percent":100,"swap":1}}\n',
    b'{"ts":%(ts)s,"source":"h","kind":"host","data":{"memory_percent":-0.0,"load1":1000000}}\n',
]


def _recording(path, odd_lines, goods=3000, seed=1, tail=b""):
    rng = random.Random(seed)
    lines = [orjson.dumps({"format": "migration-tui/recording", "version": 2, "started_at": START}) + b"\n"]
    places = sorted(rng.sample(range(goods), len(odd_lines)))
    odd = iter(odd_lines)
    for i in range(goods):
        lines.append(_good(i))
        if places and i == places[0]:
            places.pop(0)
            lines.append(next(odd) % {b"ts": repr(START + i * 0.3).encode()})
    data = b"".join(lines) + tail
    if str(path).endswith(".gz"):
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def _typed_as_row(event):
    if type(event) is MetricsEvent:
        data = {"values": event.data.values}
        if event.data.invalid is not None:
            data["invalid"] = event.data.invalid
    elif type(event) is HeartbeatEvent:
        data = {
            "migration_id": event.data.migration_id,
            "participant_id": event.data.participant_id,
            "at": event.data.at,
        }
    else:
        data = event.data
        if type(data) in (ParticipantsData, HostData):
            data = _as_the_store_reads(event.kind, data)
    return event.ts, event.source, event.kind, data


def _as_the_store_reads(kind, data):
    """A participants list or a host sample as the store reads it (``Store._on_participants``,
    ``_on_host``): typed by ``decode_chunks`` (``recording.ParticipantItem``: each item is its
    fields as they are) or the dict ``decode_rows`` gives, which ``from_dict`` reads. The two
    must be the same."""
    if type(data) is ParticipantsData:
        items = [
            Participant(i.id, i.type, i.vote or "pending", i.is_healthy, i.last_heartbeat, ())
            for i in data.participants
        ]
        return data.migration_id[:256], items
    if type(data) is HostData:
        return data.scope, HostResources(
            data.cpu_percent, data.memory_percent, data.disk_percent, data.net_sent_bps, data.net_recv_bps, data.load1
        )
    if kind == "participants":
        return text(data["migration_id"]), [Participant.from_dict(item) for item in data["participants"]]
    return data.get("scope", "host"), HostResources.from_dict(data)


def _normal(row):
    """A row with the numbers msgspec makes floats (samples, heartbeat times) as floats."""
    ts, source, kind, data = row
    if kind == "metrics" and type(data.get("values")) is dict and type(data.get("invalid", [])) is list:
        data = {**data, "values": {k: float(v) if type(v) is int else v for k, v in data["values"].items()}}
    if kind == "heartbeat" and type(data.get("at")) is int:
        data = {**data, "at": float(data["at"])}
    return ts, source, kind, data


def _expected(row, typed, event):
    """What a typed chunk's event must be for the line-by-line reader's ``row``."""
    if not typed:
        return tuple(row)
    row = _normal(tuple(row))
    if type(event[3]) is tuple:  # typed data, as the store reads it
        row = (*row[:3], _as_the_store_reads(row[2], row[3]))
    return row


def _both(path):
    reader = RecordingReader(path)
    rows_stats, chunk_stats = ReadStats(), ReadStats()
    with open_binary(path) as fp:
        fp.seek(reader.data_offset)
        rows = list(decode_rows(fp, rows_stats, reader.data_offset))
    events, offsets, typed = [], [], 0
    with open_binary(path) as fp:
        fp.seek(reader.data_offset)
        for chunk in decode_chunks(fp, chunk_stats, reader.data_offset):
            items = chunk.all()
            typed += len(items) if chunk.typed else 0
            for index, event in enumerate(items):
                row = _typed_as_row(event) if chunk.typed else (event.ts, event.source, event.kind, event.data)
                events.append((chunk.typed, row))
                offsets.append(chunk.offset_after(index))
    return rows, rows_stats, events, offsets, chunk_stats, typed


def _counts(stats: ReadStats) -> tuple:
    """What a reader counts: lines skipped, unknown kinds, events, and why it skipped each."""
    return stats.bad_lines, stats.unknown_kinds, stats.events, stats.errors


def _same(a, b):
    """Equal, with the same types (1 is not 1.0 here) and the same sign of zero."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    if type(a) is float:
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


@pytest.fixture(params=[300, 4096, recording.CHUNK_BYTES], ids=lambda size: f"chunk{size}")
def chunk_bytes(request, monkeypatch):
    monkeypatch.setattr(recording, "CHUNK_BYTES", request.param)
    return request.param


@pytest.mark.parametrize("name", ["odd.jsonl", "odd.jsonl.gz"])
def test_chunks_give_the_rows_offsets_and_counts_of_the_line_reader(tmp_path, chunk_bytes, name):
    path = _recording(tmp_path / name, ODD, tail=b'{"ts": 1700009999, "source": "p", "kind": "met')
    rows, rows_stats, events, offsets, chunk_stats, typed = _both(path)
    if chunk_bytes < 10_000:  # the whole file is one chunk at the default size, with odd lines in it
        assert typed > len(events) // 2  # most chunks are typed: the test tests the typed path
    assert len(events) == len(rows)
    typed_data = 0
    for (offset, *row), (typed, event), event_offset in zip(rows, events, offsets, strict=True):
        assert _same(_expected(row, typed, event), event), (offset, row, event)
        assert offset == event_offset
        typed_data += type(event[3]) is tuple
    if chunk_bytes < 10_000:
        assert typed_data > 300  # lists and host samples typed: the test tests that path too
    assert _counts(chunk_stats) == _counts(rows_stats)
    assert rows_stats.bad_lines >= 15 and rows_stats.unknown_kinds == 1


def _by_rows(path, at):
    """The headless reduction as it was before ``decode_chunks``: ``Store.fold`` over ``decode_rows``."""
    reader = RecordingReader(path)
    store = Store()
    start = reader.started_at
    with open_binary(path) as fp:
        fp.seek(reader.data_offset)
        clock, _offset, pending = store.fold(decode_rows(fp, reader.stats, reader.data_offset), until=start + at)
    if pending is None:
        at = min(at, max(0.0, clock - start))
    state = state_dict(store, start + at, at=at, skipped_lines=reader.stats.skipped_lines)
    return json.loads(json.dumps(state))


@pytest.mark.parametrize("name", ["odd.jsonl", "odd.jsonl.gz"])
def test_the_headless_reduction_gives_the_state_of_the_fold_of_rows(tmp_path, chunk_bytes, name):
    path = _recording(tmp_path / name, ODD)
    for at in (0.0, 0.3, 17.0, 300.0, 450.45, 899.7, 1e9):
        state = json.loads(json.dumps(reduce_recording(str(path), at)))
        assert without(state, ("started_at", "duration", "header_ok")) == _by_rows(path, at), at


def test_an_over_long_line_is_skipped_once_in_any_chunk(tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setattr(recording, "MAX_LINE_BYTES", 1000)
    long_lines = [
        b'{"ts":%(ts)s,"source":"c","kind":"log","data":{"message":"' + b"x" * size + b'"}}\n'
        for size in (900, 2000, 9000)
    ]
    path = _recording(tmp_path / "long.jsonl", long_lines, tail=b"y" * 5000)
    rows, rows_stats, events, offsets, chunk_stats, _typed = _both(path)
    assert [row[0] for row in rows] == offsets
    assert _counts(chunk_stats) == _counts(rows_stats)
    assert rows_stats.errors.count("line too long") == 3


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.97])
def test_a_gzip_stream_cut_short_keeps_the_same_lines(tmp_path, chunk_bytes, cut):
    whole = _recording(tmp_path / "whole.jsonl.gz", ODD[:5])
    data = whole.read_bytes()
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: int(len(data) * cut)])
    rows, rows_stats, events, offsets, chunk_stats, _typed = _both(path)
    assert [row[0] for row in rows] == offsets
    assert _counts(chunk_stats) == _counts(rows_stats)
    assert rows_stats.errors[-1].startswith("stream ended early")


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("name", ["corpus.jsonl", "corpus.jsonl.gz"])
def test_the_corpus_in_small_chunks_gives_the_recorded_results(tmp_path, chunk_bytes, golden, name):
    """tests/test_replay_corpus.py with chunks small enough that most of the corpus is typed."""
    corpus = write_corpus(tmp_path / name)
    for at in INSTANTS:
        assert json.loads(json.dumps(reduce_recording(str(corpus), at))) == golden[repr(at)], at
    with Replay(corpus, keyframe_events=97) as replay:
        replay.index()
        order = [*INSTANTS]
        random.Random(3).shuffle(order)
        for at in order:
            replay.seek(at)
            state = state_dict(replay.store, replay.now, at=replay.position)
            assert without(state) == without(golden[repr(at)]), at


@pytest.mark.parametrize("resolution", [1.0, 0.1, 0.3, 7.0, 1e-3])
def test_samples_at_a_bucket_edge_fall_in_the_bucket_fold_puts_them_in(resolution):
    """``fold_events`` decides that a sample opens a new bucket by comparing its time with a
    bound just before the next bucket's start, and divides only then: times within a few units
    in the last place of each start (either side), at resolutions that are not binary fractions,
    must give the series ``fold`` gives by dividing every time."""
    times = []
    for k in range(1, 40):
        edge = (START // resolution + k) * resolution
        times += [math.nextafter(edge, 0), edge, math.nextafter(edge, math.inf), edge + resolution / 3]
        times += [math.nextafter(math.nextafter(edge, 0), 0), edge - resolution * 1e-13]
    times.sort()
    rows = [(0, ts, "p", "metrics", {"values": {"x": float(i), f"s{i % 3}": -float(i)}}) for i, ts in enumerate(times)]
    typed = [recording._DECODER.decode(_line(ts, source, kind, data)[:-1]) for _, ts, source, kind, data in rows]
    by_rows, by_events = Store(series_resolution_s=resolution), Store(series_resolution_s=resolution)
    by_rows.fold(iter(rows))
    for start in range(0, len(typed), 17):  # in folds of a few events, as the index folds chunks
        by_events.fold_events(typed[start : start + 17])
    assert set(by_rows.series) == set(by_events.series) == {"x", "s0", "s1", "s2"}
    for name, series in by_rows.series.items():
        assert series.points() == by_events.series[name].points(), name
