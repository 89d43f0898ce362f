"""The replay engine in virtual time: every path ends in the state a straight read gives."""

import random

import pytest

from migration_tui.headless import state_dict
from migration_tui.recording import RecordingReader
from migration_tui.replay import MAX_SPEED, MIN_SPEED, Replay
from migration_tui.store import Store
from migration_tui.synthetic import START, write_synthetic

EVENTS = 6000
PER_SECOND = 20  # so the recording lasts 300 s


@pytest.fixture(scope="module", params=["jsonl", "jsonl.gz"])
def recording(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / f"synthetic.{request.param}"
    return write_synthetic(path, EVENTS, seed=3, events_per_second=PER_SECOND)


def fingerprint(store: Store, now: float) -> dict:
    state = state_dict(store, now)
    state["series_points"] = {name: s.points() for name, s in store.series.items()}
    state["log"] = [(line.ts, line.level, line.source, line.message) for line in store.log]
    state["breaker_opens"] = {k: list(v) for k, v in store.breaker_opens.items()}
    return state


def straight(path, position: float) -> dict:
    """The reference: one plain read of every event up to START + position."""
    store = Store()
    for event in RecordingReader(path).events():
        if event.ts > START + position:
            break
        store.apply(event)
    return fingerprint(store, START + position)


def test_straight_read_matches_reference(recording):
    with Replay(recording) as replay:
        replay.seek(123.4)
        assert fingerprint(replay.store, replay.now) == straight(recording, 123.4)


@pytest.mark.parametrize("speed", [MIN_SPEED, 1.0, 7.5, 60.0, MAX_SPEED])
def test_playing_at_any_speed_ends_where_a_straight_read_does(recording, speed):
    target = 40.0 if speed < 1 else 200.0
    with Replay(recording) as replay:
        replay.set_speed(speed)
        step = 0.25 if speed <= 1 else 0.05
        wall = target / speed
        ticks = int(wall / step)
        for _ in range(ticks):
            replay.tick(step)
        replay.tick(wall - ticks * step)
        assert replay.position == pytest.approx(target)
        assert fingerprint(replay.store, START + target) == straight(recording, target)


def test_pause_stops_the_clock(recording):
    with Replay(recording) as replay:
        replay.tick(5.0)
        replay.toggle()
        assert not replay.playing
        replay.tick(100.0)
        assert replay.position == pytest.approx(5.0)
        replay.toggle()
        replay.tick(1.0)
        assert replay.position == pytest.approx(6.0)
        assert fingerprint(replay.store, replay.now) == straight(recording, 6.0)


def test_seeking_back_and_forth_with_keyframes(recording):
    with Replay(recording, keyframe_events=500) as replay:
        replay.index()
        assert replay.keyframe_count == EVENTS // 500
        assert replay.duration == pytest.approx((EVENTS - 1) // PER_SECOND + (PER_SECOND - 1) / PER_SECOND)
        rng = random.Random(11)
        for position in [250.0, 10.0, 299.0, 0.0, 150.5, 150.6, 149.0] + [rng.uniform(0, 300) for _ in range(15)]:
            replay.seek(position)
            assert fingerprint(replay.store, replay.now) == straight(recording, position), position


def test_seek_before_indexing_and_past_the_end(recording):
    with Replay(recording) as replay:
        replay.seek(80.0)
        assert fingerprint(replay.store, replay.now) == straight(recording, 80.0)
        replay.seek(20.0)  # backwards with no keyframes: from the start
        assert fingerprint(replay.store, replay.now) == straight(recording, 20.0)
        replay.index()
        replay.seek(10_000.0)
        assert replay.position == pytest.approx(replay.duration)
        assert replay.store.events_applied == EVENTS


def test_seek_cost_is_bounded_by_one_keyframe_interval(recording):
    with Replay(recording, keyframe_events=400) as replay:
        replay.index()
        for position in (290.0, 30.0, 170.0):
            replay.seek(position + 5.0)
            replay.seek(position)  # backwards: restore a keyframe, read forward
            # events decoded since the restore: one interval plus the look-ahead event
            assert replay.stats.events <= 400 + 1
            assert fingerprint(replay.store, replay.now) == straight(recording, position)


def test_playing_to_the_end_stops(recording):
    with Replay(recording) as replay:
        replay.index()
        replay.set_speed(MAX_SPEED)
        replay.tick(10.0)
        assert not replay.playing and replay.position == pytest.approx(replay.duration)
        replay.toggle()  # play again from the start
        assert replay.playing and replay.position == 0.0


def test_speed_steps_are_clamped():
    from migration_tui.replay import Replay as R

    r = R.__new__(R)
    r.speed = 1.0
    r.faster()
    assert r.speed == 2.0
    for _ in range(30):
        r.faster()
    assert r.speed == MAX_SPEED
    for _ in range(30):
        r.slower()
    assert r.speed == MIN_SPEED


def test_out_of_order_timestamps_never_move_the_clock_back(tmp_path):
    from migration_tui.events import Event
    from migration_tui.recording import RecordingWriter

    path = tmp_path / "ooo.jsonl"
    with RecordingWriter(path, started_at=0.0) as w:
        for ts, value in [(1.0, 1.0), (5.0, 5.0), (3.0, 3.0), (6.0, 6.0)]:
            w.write(Event(ts, "prometheus", "metrics", {"values": {"x": value}}))
    with Replay(path) as replay:
        replay.seek(5.0)
        # the event stamped 3.0 came after 5.0 in the file: it is played at 5.0
        assert replay.store.series["x"].latest() == 3.0
        replay.seek(4.0)
        assert replay.store.series["x"].latest() == 1.0
