"""Participants as deltas (``sources/deltas.py``) and the store applying them (``participants_delta``)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from migration_tui.events import Event
from migration_tui.sources.deltas import ParticipantsDiffer, diff_participants
from migration_tui.store import MAX_PARTICIPANTS, Store


def ev(ts, kind, data, source="controller"):
    return Event(ts, source, kind, data)


def delta(ts, changed=(), removed=(), migration_id="m1"):
    return ev(
        ts, "participants_delta", {"migration_id": migration_id, "changed": list(changed), "removed": list(removed)}
    )


def state(store, migration_id="m1"):
    """The participants as the screen and the headless state see them: in order, every field."""
    return list(store.participants.get(migration_id, {}).items())


def test_the_differ_emits_the_whole_list_then_only_changes_then_the_whole_list_again():
    differ = ParticipantsDiffer(MAX_PARTICIPANTS, full_every=4)
    a, b, c = {"id": "a", "vote": "yes"}, {"id": "b", "vote": "pending"}, {"id": "c"}
    assert differ.event("m1", [a, b]) == ("participants", {"migration_id": "m1", "participants": [a, b]})
    assert differ.event("m1", [dict(a), dict(b)]) is None  # equal items: nothing to say
    b2 = {"id": "b", "vote": "yes"}
    assert differ.event("m1", [a, b2, c]) == (
        "participants_delta",
        {"migration_id": "m1", "changed": [b2, c], "removed": []},
    )
    assert differ.event("m1", [b2, c]) == (
        "participants_delta",
        {"migration_id": "m1", "changed": [], "removed": ["a"]},
    )
    assert differ.event("m1", [b2, c])[0] == "participants"  # the 4th list since the last whole one
    differ.forget()
    assert differ.event("m1", [b2, c])[0] == "participants"  # after a failure


def test_the_same_list_passed_again_with_an_item_replaced_is_still_diffed():
    """The differ keeps the list it was given; a caller that replaces an item of that very list
    and passes it again still gets the change (the items are compared, not the lists' identity)."""
    differ = ParticipantsDiffer(MAX_PARTICIPANTS)
    items = [{"id": "a", "vote": "yes"}, {"id": "b", "vote": "pending"}]
    differ.event("m1", items)
    items[1] = {"id": "b", "vote": "no"}
    assert differ.event("m1", items) == (
        "participants_delta",
        {"migration_id": "m1", "changed": [{"id": "b", "vote": "no"}], "removed": []},
    )


def test_only_a_list_a_delta_can_say_exactly_becomes_one():
    previous = {"a": {"id": "a"}, "b": {"id": "b"}}
    assert diff_participants(previous, [{"id": "b"}, {"id": "a"}], 10) is None  # reordered
    assert diff_participants(previous, [{"id": "c"}, {"id": "a"}, {"id": "b"}], 10) is None  # inserted first
    assert diff_participants(previous, [{"id": "a"}, {"id": "a"}], 10) is None  # duplicate id
    assert diff_participants(previous, [{"id": 7}], 10) is None  # not a string id
    assert diff_participants(previous, [{"id": "x" * 257}], 10) is None  # longer than the store keeps
    assert diff_participants(previous, ["junk"], 10) is None
    assert diff_participants(previous, [{"id": "a"}, {"id": "b"}, {"id": "c"}], 2) is None  # over the bound
    _, changed, removed = diff_participants(previous, [{"id": "b"}, {"id": "c"}], 10)
    assert (changed, removed) == ([{"id": "c"}], ["a"])


def test_a_delta_changes_adds_and_removes_and_reports_only_those():
    s = Store()
    s.apply(ev(1, "participants", {"migration_id": "m1", "participants": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}))
    before = dict(s.participants["m1"])
    since = s.revision["participants"]
    s.apply(delta(2, changed=[{"id": "b", "vote": "yes"}, {"id": "d"}], removed=["a"]))
    assert [(p.id, p.vote) for p in s.participants_of("m1")] == [("b", "yes"), ("c", "pending"), ("d", "pending")]
    assert s.participants["m1"]["c"] is before["c"]
    assert s.participants_changed_since("m1", since) == ["a", "b", "d"]
    # A poll's older heartbeat never moves a fresher one back, as with a whole list.
    s.apply(ev(3, "heartbeat", {"migration_id": "m1", "participant_id": "c", "at": 9.0}, source="redis"))
    s.apply(delta(4, changed=[{"id": "c", "vote": "yes", "last_heartbeat": 5.0}]))
    (c,) = [p for p in s.participants_of("m1") if p.id == "c"]
    assert (c.vote, c.last_heartbeat) == ("yes", 9.0)
    assert s.rejected_events == 0 and s.events_applied == 4


def test_a_malformed_delta_is_rejected_whole_and_counted_and_the_store_goes_on():
    s = Store()
    s.apply(ev(1, "participants", {"migration_id": "m1", "participants": [{"id": "a"}, {"id": "b"}]}))
    kept = state(s)
    bad = [
        {"migration_id": "m1", "changed": "nope", "removed": []},
        {"migration_id": "m1", "changed": [], "removed": {"a": 1}},
        {"migration_id": "m1", "changed": [{"id": "c"}, "junk"], "removed": ["a"]},  # nothing of it applied
        {"migration_id": "m1", "changed": [{"id": 7}], "removed": []},
        {"migration_id": "m1", "changed": [], "removed": ["b", None]},
        {"migration_id": "m1", "changed": [{"id": f"p{i}"} for i in range(MAX_PARTICIPANTS + 1)], "removed": []},
        {"migration_id": "m1", "removed": ["a"]},
        {"changed": [], "removed": ["a"]},
    ]
    for i, data in enumerate(bad):
        s.apply(ev(2 + i, "participants_delta", data))
    s.apply(Event(20, "controller", "participants_delta", ["not", "a", "dict"]))
    assert s.rejected_events == len(bad) + 1
    assert state(s) == kept
    s.apply(delta(30, changed=[{"id": "a", "vote": "no"}]))
    assert [p.vote for p in s.participants_of("m1")] == ["no", "pending"]


def test_a_delta_never_grows_a_migration_past_the_bound():
    s = Store()
    s.apply(
        ev(
            1,
            "participants",
            {"migration_id": "m1", "participants": [{"id": f"p{i}"} for i in range(MAX_PARTICIPANTS)]},
        )
    )
    s.apply(delta(2, changed=[{"id": "one-too-many"}, {"id": "p5", "vote": "yes"}]))
    assert len(s.participants["m1"]) == MAX_PARTICIPANTS
    assert "one-too-many" not in s.participants["m1"] and s.participants["m1"]["p5"].vote == "yes"


IDS = st.sampled_from("abcdefg")
ITEM = st.fixed_dictionaries(
    {"id": IDS, "vote": st.sampled_from(["yes", "no", "pending"])},
    optional={
        "last_heartbeat": st.none() | st.floats(0, 100, allow_nan=False),
        "is_healthy": st.booleans() | st.just("maybe"),
        "type": st.sampled_from(["engine", "orderbook"]),
    },
)
POLL = st.lists(ITEM, max_size=7, unique_by=lambda item: item["id"]) | st.lists(ITEM, max_size=3)
STEP = st.tuples(st.just("poll"), POLL) | st.tuples(st.just("beat"), IDS, st.floats(0, 200, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(STEP, max_size=25), full_every=st.integers(1, 6), keyframe_at=st.integers(0, 25))
def test_deltas_reduce_to_the_state_whole_lists_reduce_to(steps, full_every, keyframe_at):
    """The same polls, as whole lists (version 1) and as the source emits them (version 2), with
    heartbeats of listed participants in between: the participants are the same after every step,
    also when the delta side continues from a keyframe copy (a replay's seek)."""
    whole, deltas = Store(), Store()
    differ = ParticipantsDiffer(MAX_PARTICIPANTS, full_every=full_every)
    listed: set[str] = set()
    for ts, step in enumerate(steps, start=1):
        if ts == keyframe_at:
            deltas = deltas.snapshot()
        if step[0] == "poll":
            items = step[1]
            listed = {item["id"] for item in items}
            whole.apply(ev(ts, "participants", {"migration_id": "m1", "participants": items}))
            change = differ.event("m1", [dict(item) for item in items])
            if change is not None:
                deltas.apply(ev(ts, *change))
        elif step[1] in listed:
            beat = ev(ts, "heartbeat", {"migration_id": "m1", "participant_id": step[1], "at": step[2]}, "redis")
            whole.apply(beat)
            deltas.apply(beat)
        assert state(deltas) == state(whole)
    assert deltas.rejected_events == whole.rejected_events == 0


def test_an_item_equal_only_in_python_is_a_change():
    """1 == True in Python but not in what the store reads (``"healthy": 1`` is invalid): the
    differ sends it as a change, in either of its two ways of comparing."""
    from migration_tui.model import Participant
    from migration_tui.sources.deltas import diff_participants

    first = [{"id": "a", "healthy": True, "last_heartbeat": 5.0}, {"id": "b", "healthy": True}]
    previous = {item["id"]: item for item in first}
    for then in ([{**first[0], "healthy": 1}, first[1]], [{**first[0], "healthy": 1}, {"id": "b", "healthy": 1.0}]):
        _current, changed, removed = diff_participants(previous, then, 100)
        assert [Participant.from_dict(item).invalid for item in changed] == [("healthy",)] * len(changed)
        assert [item["id"] for item in changed] == [item["id"] for item in then if item is not first[1]]
        assert removed == []
