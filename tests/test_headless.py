"""The headless state contract of ARCHITECTURE.md, through the real command line."""

import gzip
import json
import subprocess
import sys

import pytest

from migration_tui.synthetic import write_synthetic

PINNED_TOP = {"at", "skipped_lines", "migrations", "series", "host", "alerts", "sources"}
PINNED_MIGRATION = {"id", "system", "pair", "status", "phase", "progress", "participants", "breakers", "health_score"}
PINNED_PARTICIPANT = {"id", "type", "vote", "healthy", "heartbeat_age_s"}


def headless(path, at):
    out = subprocess.run(
        [sys.executable, "-m", "migration_tui", "replay", str(path), "--headless", "--at", str(at), "--json"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def assert_contract(state):
    assert PINNED_TOP <= state.keys()
    assert isinstance(state["skipped_lines"], int)
    for m in state["migrations"]:
        assert PINNED_MIGRATION <= m.keys()
        for p in m["participants"]:
            assert PINNED_PARTICIPANT <= p.keys()
        for b in m["breakers"]:
            assert {"name", "open", "reason"} <= b.keys()
    assert {"cpu_percent", "memory_percent"} <= state["host"].keys()
    for a in state["alerts"]:
        assert {"rule", "severity", "since", "message"} <= a.keys()
    for s in state["sources"].values():
        assert {"ok", "age_s", "error"} <= s.keys()


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("h") / "s.jsonl.gz", 3000, events_per_second=20)


def test_contract_keys_and_values(recording):
    state = headless(recording, 30)
    assert_contract(state)
    assert state["at"] == 30
    (migration,) = state["migrations"]
    assert migration["id"] == "mig-1" and migration["progress"] == pytest.approx(30 / 36, abs=0.01)
    assert {p["id"] for p in migration["participants"]} == {"orderbook", "persistence", "marketdata", "engine"}
    assert set(state["sources"]) >= {"controller", "host", "prometheus"}
    assert state["skipped_lines"] == 0


def test_at_past_the_end_means_the_end(recording):
    state = headless(recording, 10**6)
    assert state["at"] == pytest.approx(state["duration"]) and state["duration"] < 200


def test_damaged_copy_counts_skipped_lines_and_still_answers(recording, tmp_path):
    lines = gzip.decompress(recording.read_bytes()).split(b"\n")
    damaged = lines[:50] + [b"\x00\xff garbage", b'{"ts": "x"}', b'{"ts": 1, "source": "a", "kind": "zap", "data": {}}']
    damaged += lines[50:1000] + [lines[1000][: len(lines[1000]) // 2]]
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(b"\n".join(damaged))
    state = headless(path, 10**6)
    assert_contract(state)
    assert state["skipped_lines"] == 4


def test_missing_file_is_a_clear_error(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "migration_tui", "replay", str(tmp_path / "nope.jsonl"), "--headless", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "no such recording" in out.stderr
