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


def write_session(path, version):
    """One 2pc migration polled once a second for 200 s, 40 participants voting, some leaving and
    joining, heartbeats between polls; its participants as whole lists (version 1, header and all)
    or as the controller source emits them (version 2: whole, then deltas)."""
    import random

    import orjson

    from migration_tui.events import Event
    from migration_tui.recording import FORMAT, RecordingWriter
    from migration_tui.sources.deltas import ParticipantsDiffer
    from migration_tui.store import MAX_PARTICIPANTS

    rng = random.Random(5)
    start = 1_700_000_000.0
    members = {
        f"p{i:02d}": {"id": f"p{i:02d}", "type": "engine", "vote": "pending", "is_healthy": True} for i in range(40)
    }
    differ = ParticipantsDiffer(MAX_PARTICIPANTS)
    events = []
    for second in range(200):
        ts = start + second
        events.append(Event(ts, "controller", "migration", {"id": "m1", "system": "2pc", "progress": second / 2}))
        for key in rng.sample(sorted(members), 3):
            members[key] = {**members[key], "vote": rng.choice(["yes", "no"]), "last_heartbeat": ts - rng.random()}
        if second % 37 == 5:
            members.pop(rng.choice(sorted(members)))
        if second % 41 == 7:
            members[f"n{second}"] = {"id": f"n{second}", "type": "marketdata", "vote": "pending"}
        items = [dict(item) for item in members.values()]
        if version == 1:
            events.append(Event(ts + 0.1, "controller", "participants", {"migration_id": "m1", "participants": items}))
        elif (change := differ.event("m1", items)) is not None:
            events.append(Event(ts + 0.1, "controller", *change))
        events.append(Event(ts + 0.2, "controller", "source_ok", {}))
        beat = {"migration_id": "m1", "participant_id": rng.choice(sorted(members)), "at": ts + 0.5}
        events.append(Event(ts + 0.5, "redis", "heartbeat", beat))
    if version == 1:
        header = {"format": FORMAT, "version": 1, "started_at": start}
        path.write_bytes(b"".join(orjson.dumps(obj) + b"\n" for obj in [header, *(e.to_json_obj() for e in events)]))
    else:
        with RecordingWriter(path, started_at=start) as writer:
            for event in events:
                writer.write(event)
    return path


def test_a_session_as_whole_lists_v1_and_as_deltas_v2_gives_the_same_state(tmp_path):
    v1 = write_session(tmp_path / "v1.jsonl", 1)
    v2 = write_session(tmp_path / "v2.jsonl.gz", 2)
    assert b'"participants_delta"' not in v1.read_bytes()
    assert gzip.decompress(v2.read_bytes()).count(b'"participants_delta"') > 100
    for at in (0.15, 33.3, 120, 10**6):
        whole, deltas = headless(v1, at), headless(v2, at)
        assert deltas == whole
        assert len(whole["migrations"][0]["participants"]) >= 1


SAMPLES = __import__("pathlib").Path(__file__).resolve().parent.parent / "sample_data"


def run_headless(path, at, env=None):
    import os

    out = subprocess.run(
        [sys.executable, "-m", "migration_tui", "replay", str(path), "--headless", "--at", str(at), "--json"],
        capture_output=True,
        timeout=60,
        check=True,
        env={**{k: v for k, v in os.environ.items() if k != "MIGRATION_TUI_RULES"}, **(env or {})},
    )
    return json.loads(out.stdout)


def test_a_migration_rolling_back_is_still_judged():
    """Issue 14 item 3: at 270 s SOLUSDT rolls back with its breaker opened 4 times and p95 70 ms."""
    state = headless(SAMPLES / "orderbook-rollout.jsonl.gz", 270)
    sol = {a["rule"]: a for a in state["alerts"] if a["migration"] == "rollout-solusdt"}
    assert sol["breaker_flapping"]["state"] == "firing"
    assert "breaker opened 4 times" in sol["breaker_flapping"]["message"]
    assert "rollback under way" in sol["breaker_flapping"]["message"]
    assert sol["latency_p95_high"]["state"] in ("pending", "firing")
    rules = {(r["migration"], r["rule"]): r for r in state["rules"]}
    assert rules[("rollout-solusdt", "latency_p95_high")]["state"] == sol["latency_p95_high"]["state"]
    # The completed pair is not judged (never "within its threshold"); a running one is judged.
    assert {r["state"] for (m, _), r in rules.items() if m == "rollout-btcusdt"} == {"not_judged"}
    assert rules[("rollout-btcusdt", "latency_p95_high")]["reason"] == "migration ended"
    assert rules[("rollout-ethusdt", "latency_p95_high")]["state"] == "ok"


def test_an_aborted_migration_is_not_judged():
    state = headless(SAMPLES / "2pc-abort.jsonl.gz", 10**6)
    (migration,) = state["migrations"]
    assert migration["status"] == "aborted"
    assert state["alerts"] == []
    assert state["rules"] and {(r["state"], r["reason"]) for r in state["rules"]} == {("not_judged", "migration ended")}


def test_headless_uses_the_rules_file_in_force(tmp_path):
    """Issue 14 item 9: MIGRATION_TUI_RULES is honoured by --headless as by the screen."""
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rule]]\nname = "tight_p95"\nsystems = ["orderbook-rollout"]\nseries = "latency_p95_ms"\n'
        'label = "p95"\nunit = " ms"\nop = ">"\nthreshold = 1.0\nfor = "0s"\nseverity = "warning"\naction = "pause"\n'
    )
    built_in = run_headless(SAMPLES / "orderbook-rollout.jsonl.gz", 60)
    custom = run_headless(SAMPLES / "orderbook-rollout.jsonl.gz", 60, env={"MIGRATION_TUI_RULES": str(rules)})
    assert {r["rule"] for r in built_in["rules"]} >= {"latency_p95_high", "breaker_flapping"}
    assert {r["rule"] for r in custom["rules"]} == {"tight_p95"}
    firing = {a["migration"] for a in custom["alerts"] if a["rule"] == "tight_p95" and a["state"] == "firing"}
    assert firing and all("pause recommended" in a["message"] for a in custom["alerts"])
