from migration_tui.series import CHUNK, Series


def test_same_second_replaces_and_new_second_appends():
    s = Series(capacity=10)
    s.append(100.1, 1.0)
    s.append(100.9, 2.0)
    s.append(101.0, 3.0)
    assert s.points() == [(100.9, 2.0), (101.0, 3.0)]


def test_gaps_are_none_not_interpolated():
    s = Series(capacity=10)
    s.append(1, 5.0)
    s.append(2, None)
    s.append(3, 7.0)
    assert [v for _, v in s.points()] == [5.0, None, 7.0]
    assert s.latest() == 7.0


def test_capacity_bounds_memory_and_keeps_newest():
    s = Series(capacity=300)
    for i in range(10_000):
        s.append(float(i), float(i))
    points = s.points()
    assert len(points) == 300 == len(s)
    assert points[-1] == (9999.0, 9999.0) and points[0] == (9700.0, 9700.0)
    held = s._chunked + len(s._ts)
    assert held <= 300 + 2 * CHUNK


def test_out_of_order_samples_are_dropped():
    s = Series(capacity=10)
    s.append(10, 1.0)
    s.append(5, 2.0)
    assert s.points() == [(10, 1.0)]


def test_snapshot_is_independent_and_shares_full_chunks():
    s = Series(capacity=1000)
    for i in range(3 * CHUNK + 5):
        s.append(float(i), float(i))
    snap = s.snapshot()
    for i in range(3 * CHUNK + 5, 3 * CHUNK + 50):
        s.append(float(i), -1.0)
    assert snap.points()[-1] == (3 * CHUNK + 4.0, 3 * CHUNK + 4.0)
    assert s.points()[-1][1] == -1.0
    assert snap._chunks[0] is s._chunks[0]


def test_since_filters_by_time():
    s = Series(capacity=100)
    for i in range(10):
        s.append(float(i), float(i))
    assert [t for t, _ in s.points(since=7)] == [7.0, 8.0, 9.0]


def test_newest_first_and_since_read_only_the_recent_end_and_agree_with_the_whole_window():
    import random

    rng = random.Random(7)
    for capacity in (1, 5, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7):
        s = Series(capacity=capacity)
        t = 0.0
        for _ in range(rng.randrange(0, 5 * CHUNK)):
            t += rng.choice((0.3, 1.0, 2.5))  # some samples share a second and replace the last
            s.append(t, None if rng.random() < 0.1 else rng.uniform(-5, 5))
        whole = s.points()
        assert list(s.newest_first()) == whole[::-1]
        # Also exactly at samples and just either side (chunk edges, the window's first sample).
        at_samples = [ts + d for ts, _value in rng.sample(whole, min(6, len(whole))) for d in (-1e-9, 0.0, 1e-9)]
        for since in (float("-inf"), 0.0, t / 2, t, t + 1, *at_samples):
            assert s.points(since=since) == [p for p in whole if p[0] >= since], (capacity, since)
    # Asking for the newest few reads only those: the generator stops where the caller does.
    s = Series(capacity=10_000)
    for i in range(10_000):
        s.append(float(i), float(i))
    newest = s.newest_first()
    assert [next(newest) for _ in range(3)] == [(9999.0, 9999.0), (9998.0, 9998.0), (9997.0, 9997.0)]


def test_first_ts_is_the_oldest_sample_points_would_give_past_chunks_and_capacity():
    for capacity, count in ((10, 0), (10, 5), (10, 25), (CHUNK + 7, 3 * CHUNK + 11), (2 * CHUNK, 2 * CHUNK)):
        s = Series(capacity=capacity)
        for t in range(count):
            s.append(float(t), 1.0)
        points = s.points()
        assert s.first_ts() == (points[0][0] if points else None), (capacity, count)
