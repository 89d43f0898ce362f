"""A gzip recording cut short (a recorder still writing, or killed) replays up to the cut."""

from __future__ import annotations

import gzip
import io

from migration_tui.events import Event
from migration_tui.recording import RecordingWriter, decompress_to
from migration_tui.replay import Replay


def test_decompress_keeps_everything_before_the_cut(tmp_path):
    path = tmp_path / "rec.jsonl.gz"
    with RecordingWriter(path, started_at=1000.0) as writer:
        for number in range(2000):
            writer.write(Event(1000.0 + number, "controller", "log", {"message": f"line {number} " + "x" * 50}))
    data = path.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    plain = io.BytesIO()
    decompress_to(cut, plain)
    lines = plain.getvalue().splitlines()
    assert len(lines) > 500  # far more than nothing, though the file is under 1 MiB
    full = gzip.decompress(data).splitlines()
    assert lines[:-1] == full[: len(lines) - 1]
    with Replay(cut) as replay:
        replay.seek(400)
        assert replay.store.events_applied == 401


def test_two_gzip_members_are_both_read(tmp_path):
    path = tmp_path / "two.jsonl.gz"
    path.write_bytes(gzip.compress(b"first\n") + gzip.compress(b"second\n"))
    plain = io.BytesIO()
    decompress_to(path, plain)
    assert plain.getvalue() == b"first\nsecond\n"
