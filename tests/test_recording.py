import gzip
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from migration_tui.events import Event
from migration_tui.recording import ReadStats, RecordingReader, RecordingWriter, decode_event

HEADER = b'{"format": "migration-tui/recording", "version": 1, "started_at": 100.0}\n'
GOOD = b'{"ts": 101.0, "source": "controller", "kind": "source_ok", "data": {}}\n'


def write(path, *lines):
    path.write_bytes(b"".join(lines))
    return path


def test_round_trip_plain_and_gzip(tmp_path):
    for name in ("r.jsonl", "r.jsonl.gz"):
        path = tmp_path / name
        events = [Event(100.0 + i, "controller", "metrics", {"values": {"x": float(i)}}) for i in range(5)]
        with RecordingWriter(path, started_at=100.0, meta={"scenario": "t"}) as w:
            for e in events:
                w.write(e)
        reader = RecordingReader(path)
        assert reader.started_at == 100.0 and reader.header["scenario"] == "t"
        assert list(reader.events()) == events
        assert reader.stats.skipped_lines == 0


def test_writer_flushes_each_line_so_a_reader_sees_it_at_once(tmp_path):
    path = tmp_path / "live.jsonl.gz"
    w = RecordingWriter(path, started_at=1.0)
    w.write(Event(2.0, "host", "host", {"cpu_percent": 1.0}))
    # not closed: a truncated gzip stream, but the flushed event is readable
    assert [e.kind for e in RecordingReader(path).events()] == ["host"]
    w.close()


def test_bad_lines_are_skipped_and_counted(tmp_path):
    path = write(
        tmp_path / "r.jsonl",
        HEADER,
        GOOD,
        b"garbage\n",
        b"[1, 2]\n",
        b'{"ts": "soon", "source": "x", "kind": "log", "data": {}}\n',
        b'{"ts": NaN, "source": "x", "kind": "log", "data": {}}\n',
        b'{"ts": 1e400, "source": "x", "kind": "log", "data": {}}\n',
        b'{"ts": 102, "source": "x", "kind": "log", "data": []}\n',
        b'{"ts": 102, "source": "x", "kind": "teleport", "data": {}}\n',
        b"\xff\xfe\xfa not utf-8\n",
        GOOD,
        b'{"ts": 103, "source": "controller", "ki',  # truncated last line
    )
    reader = RecordingReader(path)
    events = list(reader.events())
    assert len(events) == 2
    assert reader.stats.unknown_kinds == 1
    assert reader.stats.bad_lines == 8
    assert reader.stats.skipped_lines == 9


def test_missing_header_is_tolerated(tmp_path):
    path = write(tmp_path / "r.jsonl", GOOD, GOOD)
    reader = RecordingReader(path)
    assert reader.header is None and reader.started_at is None
    assert len(list(reader.events())) == 2


def test_truncated_gzip_keeps_what_came_before(tmp_path):
    path = tmp_path / "r.jsonl.gz"
    with RecordingWriter(path, started_at=1.0) as w:
        for i in range(2000):
            w.write(Event(1.0 + i, "host", "host", {"cpu_percent": float(i % 100)}))
    data = path.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    reader = RecordingReader(cut)
    events = list(reader.events())
    assert 0 < len(events) < 2000
    assert [e.ts for e in events] == [1.0 + i for i in range(len(events))]


def test_secrets_never_reach_the_file(tmp_path):
    path = tmp_path / "r.jsonl.gz"
    with RecordingWriter(path, started_at=1.0, secrets=("s3cr3t-token",)) as w:
        w.write(Event(2.0, "controller", "source_error", {"error": "401 for token s3cr3t-token"}))
    raw = gzip.decompress(path.read_bytes())
    assert b"s3cr3t-token" not in raw and b"[redacted]" in raw


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=30))
def test_arbitrary_byte_lines_never_crash_and_are_counted(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("h") / "r.jsonl"
    body = b"\n".join(line.replace(b"\n", b" ") for line in lines)
    path.write_bytes(HEADER + body)
    reader = RecordingReader(path)
    events = list(reader.events())
    nonblank = sum(1 for line in lines if line.replace(b"\n", b" ").strip())
    assert len(events) + reader.stats.skipped_lines == nonblank


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["ts", "source", "kind", "data", "x"]), json_values, max_size=5))
def test_arbitrary_json_objects_decode_or_count(obj):
    stats = ReadStats()
    event = decode_event(json.dumps(obj).encode(), stats)
    if event is None:
        assert stats.skipped_lines == 1
    else:
        assert isinstance(event.data, dict) and isinstance(event.ts, float)
        assert stats.events == 1


def test_the_writer_writes_version_2_and_a_version_1_file_still_reads_the_same(tmp_path):
    """Version 2 adds participants_delta; everything a version 1 file says reads as before."""
    full = Event(101.0, "controller", "participants", {"migration_id": "m1", "participants": [{"id": "a"}]})
    change = Event(102.0, "controller", "participants_delta", {"migration_id": "m1", "changed": [], "removed": ["a"]})
    with RecordingWriter(tmp_path / "v2.jsonl", started_at=100.0) as w:
        w.write(full)
        w.write(change)
    first = (tmp_path / "v2.jsonl").read_bytes().split(b"\n", 1)[0]
    assert json.loads(first) == {"format": "migration-tui/recording", "version": 2, "started_at": 100.0}
    reader = RecordingReader(tmp_path / "v2.jsonl")
    assert list(reader.events()) == [full, change] and reader.stats.skipped_lines == 0
    v1 = RecordingReader(write(tmp_path / "v1.jsonl", HEADER, json.dumps(full.to_json_obj()).encode() + b"\n", GOOD))
    assert v1.header["version"] == 1 and v1.stats.header_ok
    assert [e.kind for e in v1.events()] == ["participants", "source_ok"] and v1.stats.skipped_lines == 0
