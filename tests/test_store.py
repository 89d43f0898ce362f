import io

import orjson

from migration_tui.events import Event
from migration_tui.store import LOG_LINES, Store


def ev(ts, kind, data, source="controller"):
    return Event(ts, source, kind, data)


def test_migration_events_replace_and_log_phase_changes():
    s = Store()
    s.apply(ev(1, "migration", {"id": "m1", "status": "in_progress", "phase": "preparing"}))
    s.apply(ev(2, "migration", {"id": "m1", "status": "in_progress", "phase": "committing", "progress": 40}))
    assert s.migrations["m1"].phase == "committing" and s.migrations["m1"].progress == 40
    assert any("preparing -> committing" in line.message for line in s.log)


def test_revision_changes_only_when_the_section_changes():
    s = Store()
    s.apply(ev(1, "migration", {"id": "m1", "phase": "preparing"}))
    rev = s.revision["migrations"]
    s.apply(ev(2, "migration", {"id": "m1", "phase": "preparing"}))
    assert s.revision["migrations"] == rev
    s.apply(ev(3, "migration", {"id": "m1", "phase": "prepared"}))
    assert s.revision["migrations"] != rev


def test_heartbeat_updates_one_participant_and_keeps_the_rest():
    s = Store()
    s.apply(
        ev(
            1,
            "participants",
            {
                "migration_id": "m1",
                "participants": [
                    {"id": "a", "type": "orderbook", "vote": "yes", "is_healthy": True, "last_heartbeat": 1.0},
                    {"id": "b", "vote": "pending", "last_heartbeat": 1.0},
                ],
            },
        )
    )
    s.apply(ev(5, "heartbeat", {"migration_id": "m1", "participant_id": "a", "at": 4.5}, source="redis"))
    a, b = s.participants_of("m1")
    assert a.last_heartbeat == 4.5 and a.vote == "yes" and a.type == "orderbook"
    assert b.last_heartbeat == 1.0
    # An older heartbeat never moves the clock backwards.
    s.apply(ev(6, "heartbeat", {"migration_id": "m1", "participant_id": "a", "at": 2.0}, source="redis"))
    assert s.participants_of("m1")[0].last_heartbeat == 4.5


def test_breaker_opens_are_counted_on_transitions_only():
    s = Store()
    for ts, is_open in [(1, True), (2, True), (3, False), (4, True), (5, False), (6, True)]:
        s.apply(ev(ts, "breakers", {"breakers": [{"pair": "BTCUSDT", "open": is_open, "reason": "p95"}]}))
    assert s.breaker_opens_since("BTCUSDT", 0) == 3
    assert s.breaker_opens_since("BTCUSDT", 3.5) == 2
    assert s.breakers["BTCUSDT"].open


def test_metrics_feed_bounded_series_with_gaps_for_bad_values():
    s = Store(series_window_s=60)
    for i in range(200):
        s.apply(ev(float(i), "metrics", {"values": {"p95": float(i), "bad": float("nan")}}, source="prometheus"))
    assert len(s.series["p95"]) == 60
    assert s.series["p95"].latest() == 199.0
    assert s.series["bad"].latest() is None


def test_freshness_tracks_success_and_error():
    s = Store()
    s.apply(ev(10, "source_ok", {}, source="prometheus"))
    assert s.source("prometheus").ok()
    s.apply(ev(12, "source_error", {"error": "connection refused"}, source="prometheus"))
    health = s.source("prometheus")
    assert not health.ok() and health.error == "connection refused" and health.last_success == 10
    s.apply(ev(14, "source_ok", {}, source="prometheus"))
    assert s.source("prometheus").ok()


def test_repeated_errors_are_logged_once():
    s = Store()
    for t in range(10):
        s.apply(ev(t, "source_error", {"error": "timeout"}, source="redis"))
    assert sum("timeout" in line.message for line in s.log) == 1


def test_wrong_shapes_are_counted_not_raised():
    s = Store()
    s.apply(ev(1, "participants", {"migration_id": "m1", "participants": "nope"}))
    s.apply(ev(1, "heartbeat", {"migration_id": "m1"}))
    s.apply(ev(1, "metrics", {"values": [1, 2]}))
    s.apply(ev(1, "no_such_kind", {}))
    s.apply(Event(1, "controller", "migration", "not a dict"))
    assert s.rejected_events == 4 and s.unknown_kinds == 1 and s.events_applied == 0


def test_log_is_bounded():
    s = Store()
    for i in range(LOG_LINES * 3):
        s.apply(ev(i, "log", {"message": f"line {i}"}))
    assert len(s.log) == LOG_LINES and s.log[-1].message == f"line {LOG_LINES * 3 - 1}"


def test_snapshot_is_independent_of_later_events():
    s = Store()
    s.apply(ev(1, "migration", {"id": "m1", "phase": "preparing"}))
    s.apply(ev(1, "participants", {"migration_id": "m1", "participants": [{"id": "a"}]}))
    s.apply(ev(1, "metrics", {"values": {"x": 1.0}}))
    snap = s.snapshot()
    s.apply(ev(2, "migration", {"id": "m1", "phase": "committing"}))
    s.apply(ev(2, "heartbeat", {"migration_id": "m1", "participant_id": "a", "at": 2.0}))
    s.apply(ev(2, "metrics", {"values": {"x": 2.0}}))
    assert snap.migrations["m1"].phase == "preparing"
    assert snap.participants_of("m1")[0].last_heartbeat is None
    assert snap.series["x"].latest() == 1.0
    # and the snapshot keeps working as a store of its own
    snap.apply(ev(3, "migration", {"id": "m1", "phase": "aborting"}))
    assert snap.migrations["m1"].phase == "aborting" and s.migrations["m1"].phase == "committing"


def participants_event(ts, items, migration_id="m1"):
    return ev(ts, "participants", {"migration_id": migration_id, "participants": items})


def test_a_poll_never_moves_a_fresher_heartbeat_back_in_time():
    s = Store()
    s.apply(participants_event(1, [{"id": "a", "vote": "pending", "last_heartbeat": 1.0}]))
    s.apply(ev(5, "heartbeat", {"migration_id": "m1", "participant_id": "a", "at": 4.5}, source="redis"))
    # The controller's next poll still reports the heartbeat it saw before Redis delivered ours.
    s.apply(participants_event(6, [{"id": "a", "vote": "yes", "last_heartbeat": 2.0}]))
    (a,) = s.participants_of("m1")
    assert a.last_heartbeat == 4.5 and a.vote == "yes"
    s.apply(participants_event(7, [{"id": "a", "vote": "yes"}]))  # no heartbeat in the poll at all
    assert s.participants_of("m1")[0].last_heartbeat == 4.5
    s.apply(participants_event(8, [{"id": "a", "vote": "yes", "last_heartbeat": 7.5}]))
    assert s.participants_of("m1")[0].last_heartbeat == 7.5
    # An unusable polled heartbeat is still shown as invalid, not hidden behind an older one.
    s.apply(participants_event(9, [{"id": "a", "vote": "yes", "last_heartbeat": float("nan")}]))
    (a,) = s.participants_of("m1")
    assert a.last_heartbeat is None and "last_heartbeat" in a.invalid


def test_an_unchanged_participant_keeps_its_object_and_only_changes_are_reported():
    s = Store()
    items = [{"id": f"p{i}", "vote": "pending", "last_heartbeat": 1.0} for i in range(5)]
    s.apply(participants_event(1, items))
    before = dict(s.participants["m1"])
    since = s.revision["participants"]
    changed = [dict(item) for item in items]  # a new list of new dicts, as each poll brings
    changed[1]["vote"] = "yes"
    s.apply(participants_event(2, changed[:4]))  # p1 voted, p4 is gone
    after = s.participants["m1"]
    assert [key for key in after if after[key] is before[key]] == ["p0", "p2", "p3"]
    assert after["p1"].vote == "yes"
    assert sorted(s.participants_changed_since("m1", since)) == ["p1", "p4"]
    since = s.revision["participants"]
    s.apply(ev(3, "heartbeat", {"migration_id": "m1", "participant_id": "p2", "at": 3.0}, source="redis"))
    s.apply(participants_event(4, [dict(item) for item in changed[:4]]))  # the same poll again
    assert s.participants_changed_since("m1", since) == ["p2"]
    assert s.participants["m1"]["p2"].last_heartbeat == 3.0
    rev = s.revision["participants"]
    s.apply(participants_event(5, [dict(item) for item in changed[:4]]))
    assert s.revision["participants"] == rev, "an identical poll is no change"
    # A copy (a replay keyframe) cannot tell what changed before it: readers compare everything.
    assert s.snapshot().participants_changed_since("m1", since) is None


def test_duplicate_participant_ids_keep_the_last_and_hostile_ids_are_parsed_every_time():
    s = Store()
    s.apply(participants_event(1, [{"id": "a", "vote": "no"}, {"id": 7}, {"id": "a", "vote": "yes"}, "junk"]))
    assert {p.id: p.vote for p in s.participants_of("m1")} == {"a": "yes", "7": "pending"}
    s.apply(participants_event(2, [{"id": "a", "vote": "yes"}, {"id": 7, "vote": "no"}]))
    assert {p.id: p.vote for p in s.participants_of("m1")} == {"a": "yes", "7": "no"}


def test_invalid_metric_samples_are_gaps_counted_per_series():
    store = Store()
    store.apply(ev(1.0, "metrics", {"values": {"a": 1.0, "b": float("nan")}}))
    store.apply(ev(2.0, "metrics", {"values": {"a": 1e300, "b": None}, "invalid": ["b"]}))
    store.apply(ev(3.0, "metrics", {"values": {"a": None, "b": 2.0}}))  # None alone: no answer, not invalid
    assert list(store.invalid_samples["a"]) == [2.0]
    assert list(store.invalid_samples["b"]) == [1.0, 2.0]
    assert store.series["a"].points() == [(1.0, 1.0), (2.0, None), (3.0, None)]
    copy = store.snapshot()
    store.apply(ev(4.0, "metrics", {"values": {"a": float("inf")}}))
    assert list(copy.invalid_samples["a"]) == [2.0]


def test_phase_changes_and_operator_actions_are_marked_once_each():
    store = Store()
    store.apply(ev(1.0, "migration", {"id": "m", "status": "in_progress", "phase": "one"}))
    store.apply(ev(2.0, "migration", {"id": "m", "status": "in_progress", "phase": "two"}))
    store.apply(ev(3.0, "migration", {"id": "m", "status": "in_progress", "phase": "two", "progress": 5.0}))
    store.apply(ev(4.0, "action", {"action": "pause", "migration_id": "m", "stage": "sent"}))
    store.apply(ev(4.5, "action", {"action": "pause", "migration_id": "m", "stage": "answered"}))
    store.apply(ev(5.0, "migration", {"id": "m", "status": "paused", "phase": "two"}))
    assert [(ts, kind) for ts, kind, _words in store.marks["m"]] == [
        (2.0, "phase"),
        (4.0, "action"),
        (5.0, "phase"),
    ]


def test_the_replay_fold_counts_invalid_samples_and_marks_as_apply_does():
    """The replay engine's fold (inline metrics) and Store.apply, one event at a time, agree on what
    the Metrics tab's charts read: invalid samples per series and the marks."""
    import orjson

    from migration_tui.recording import ReadStats, decode_rows

    events = [
        (1.0, "metrics", {"values": {"a": 1.0, "b": "NaN"}}),  # what strict JSON can carry
        (2.0, "metrics", {"values": {"a": 1e300, "b": None}, "invalid": ["b"]}),
        (3.0, "metrics", {"values": {"a": None, "b": 2.0, "c": True}}),
        (4.0, "migration", {"id": "m1", "system": "2pc", "status": "in_progress", "phase": "preparing"}),
        (5.0, "migration", {"id": "m1", "system": "2pc", "status": "in_progress", "phase": "prepared"}),
        (6.0, "metrics", {"values": {"a": -1e200}}),
        # several in one second: the fold keeps only the newest aside, yet counts every invalid one
        (7.1, "metrics", {"values": {"a": "bad", "b": 1.0}}),
        (7.4, "metrics", {"values": {"a": 3.0}}),
        (7.6, "metrics", {"values": {"a": None, "b": 5.0}, "invalid": ["a"]}),
        (7.8, "metrics", {"values": {"a": 4.0}}),
    ]
    applied = Store()
    for ts, kind, data in events:
        applied.apply(ev(ts, kind, data))
    lines = [orjson.dumps({"ts": ts, "source": "controller", "kind": kind, "data": data}) for ts, kind, data in events]
    folded = Store()
    folded.fold(decode_rows(iter(line + b"\n" for line in lines), ReadStats()))
    assert {k: list(v) for k, v in folded.invalid_samples.items()} == {
        k: list(v) for k, v in applied.invalid_samples.items()
    }
    assert folded.invalid_samples["a"] and 7.1 in folded.invalid_samples["a"]  # the case is exercised
    assert {k: v.points() for k, v in folded.series.items()} == {k: v.points() for k, v in applied.series.items()}
    assert {k: list(v) for k, v in folded.marks.items()} == {k: list(v) for k, v in applied.marks.items()}


def test_a_fold_tells_its_observers_what_it_applied_and_its_reader_what_it_refused():
    """The report reads the store as each migration event left it (``observers``) and leaves out
    what the store refused (``rejected``), while the fold runs on."""
    from migration_tui.recording import ReadStats, decode_chunks

    lines = [
        Event(1, "controller", "migration", {"id": "m1", "phase": "preparing", "progress": 1.0}),
        Event(2, "controller", "participants", {"migration_id": "m1", "participants": "nope"}),
        Event(3, "controller", "migration", {"id": "m1", "phase": "committing", "progress": 2.0}),
        Event(4, "redis", "heartbeat", {"migration_id": "m1", "participant_id": "p", "at": 4.0}),
    ]
    text = b"".join(orjson.dumps(event.to_json_obj()) + b"\n" for event in lines)
    (chunk,) = decode_chunks(io.BytesIO(text), ReadStats())
    s = Store()
    seen = []
    s.observers["migration"] = lambda ts, event: seen.append((ts, event.data["id"], s.migrations["m1"].phase))
    s.rejected = []
    s.fold_events(chunk.all())
    assert seen == [(1, "m1", "preparing"), (3, "m1", "committing")]
    assert [event.kind for event in s.rejected] == ["participants"] and s.rejected_events == 1
    copy = s.snapshot()
    assert copy.observers == {} and copy.rejected is None


def test_participants_read_by_every_frame_are_the_stores_until_one_changes():
    """``participants_of`` and ``participant_health`` answer from a copy kept per revision: after every
    kind of change (a full list, a delta, a heartbeat, applied or folded, a migration gone, a
    snapshot) they are the long way's, and between changes the very same tuple."""
    from migration_tui.recording import ReadStats, decode_rows

    def person(pid, healthy, beat):
        return {"id": pid, "vote": "yes", "healthy": healthy, "last_heartbeat": beat, "invalid": ()}

    steps = [
        (1.0, "migration", {"id": "m1", "system": "2pc", "status": "in_progress", "phase": "preparing"}),
        (2.0, "participants", {"migration_id": "m1", "participants": [person("a", None, 1.0), person("b", None, 1.0)]}),
        (3.0, "participants_delta", {"migration_id": "m1", "changed": [person("b", False, 2.0)], "removed": []}),
        (4.0, "heartbeat", {"migration_id": "m1", "participant_id": "a", "at": 3.5}),
        (5.0, "participants_delta", {"migration_id": "m1", "changed": [person("c", True, 5.0)], "removed": ["b"]}),
        (6.0, "migration_gone", {"id": "m1"}),
    ]

    def long_way(store):
        members = tuple(store.participants.get("m1", {}).values())
        return members, (
            any(p.healthy is not None for p in members),
            tuple(p.id for p in members if p.healthy is False),
        )

    applied, folded = Store(), Store()
    answers = []
    for ts, kind, data in steps:
        applied.apply(ev(ts, kind, data))
        line = orjson.dumps({"ts": ts, "source": "controller", "kind": kind, "data": data}) + b"\n"
        folded.fold(decode_rows(iter([line]), ReadStats()))
        for store in (applied, folded, applied.snapshot()):
            members = store.participants_of("m1")
            assert (members, store.participant_health("m1")) == long_way(store), (ts, kind)
            assert store.participants_of("m1") is members  # nothing changed: the same tuple
        answers.append((applied.participants_of("m1"), applied.participant_health("m1")))
    assert [len(m) for m, _ in answers] == [0, 2, 2, 2, 2, 0]
    assert [health for _, health in answers][1:5] == [(False, ()), (True, ("b",)), (True, ("b",)), (True, ())]
    assert answers[3][0][0].last_heartbeat == 3.5
    assert applied.participants_of("nobody") == () and "nobody" not in applied._participants_read
