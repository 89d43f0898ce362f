"""Item reuse across polls (issue 20): a participants list read item by item when most of its
items' bytes are the last answer's, and the steps after it passing unchanged items by identity.

Each shortcut is checked poll after poll against the long way: ``ListReader.parse`` against
``json.loads`` of the same body, ``participant_dicts`` against judging the list afresh,
``diff_participants`` against diffing copies (no object shared with the last list).
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migration_tui.events import Event
from migration_tui.sources.controller import ControllerSource
from migration_tui.sources.deltas import ParticipantsDiffer, diff_participants
from migration_tui.sources.http import FetchError
from migration_tui.sources.lists import ListReader
from migration_tui.sources.profiles.base import (
    MAX_PARTICIPANT_ITEMS,
    _participant_dict,
    participant_dicts,
    unique_items,
)
from migration_tui.store import Store
from tests.sources.conftest import LocalServer

# Strings that look like the separators between items, nested objects and lists, numbers
# orjson and json read differently: every one must come out as json reads it.
tricky = st.sampled_from(["},{", "}, {", '"},{"', "}\n,\n{", "\\", "\u2028", "x"])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    tricky,
    st.text(max_size=4),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(tricky, inner, max_size=2)),
    max_leaves=4,
)
objects = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c", "d", "e"])},
    optional={"vote": values, "is_healthy": values, "last_heartbeat": values, "note": values},
)
element = st.one_of(objects, objects, objects, scalars)
formats = st.sampled_from(
    [
        {"separators": (",", ":")},
        {},
        {"indent": 2},
        {"indent": "\t", "separators": (" ,", ": ")},
    ]
)


def dumps(body: list, fmt: dict) -> bytes:
    return (" " + json.dumps(body, **fmt) + "\n").encode()


@settings(max_examples=500, deadline=None)
@given(
    st.lists(objects, min_size=1, max_size=6),
    st.lists(st.tuples(st.lists(element, max_size=3), st.integers(0, 6), st.booleans()), min_size=1, max_size=6),
    formats,
    formats,
)
def test_a_reader_reads_every_body_as_json_reads_it(first, later, fmt, other_fmt):
    reader = ListReader()
    last: list = first
    for step, (new, keep, same_format) in enumerate([([], 0, True), *later]):
        body = last if step == 0 else last[:keep] + new  # kept items: most bytes are the last answer's
        raw = dumps(body, fmt if same_format else other_fmt)
        got = reader.parse("/p", raw)
        assert repr(got) == repr(json.loads(raw)), raw
        assert reader.parse("/p", raw) is got  # the same bytes: the same value
        last = body


flat = st.fixed_dictionaries({"id": st.text(max_size=3)}, optional={"v": scalars, "w": tricky})


@settings(max_examples=300, deadline=None)
@given(
    st.lists(flat, min_size=2, max_size=8),
    st.lists(st.tuples(st.integers(0, 7), flat), min_size=1, max_size=8),
    formats,
)
def test_a_list_that_mostly_holds_still_is_read_as_json_reads_it(first, changes, fmt):
    """The usual case, flat objects, one changing at a time: read item by item from the second answer on."""
    reader = ListReader()
    body = list(first)
    for index, item in [(0, body[0]), *changes]:
        body[index % len(body)] = item
        raw = dumps(body, fmt)
        assert repr(reader.parse("/p", raw)) == repr(json.loads(raw)), raw


def test_unchanged_items_are_last_times_objects_changed_ones_new():
    reader = ListReader()
    body = [{"id": f"p{i}", "last_heartbeat": 1000.0 + i} for i in range(10)]
    first = reader.parse("/p", json.dumps(body).encode())  # the first answer: parsed whole
    body[3]["last_heartbeat"] = 2000.0
    second = reader.parse("/p", json.dumps(body).encode())  # held still: read item by item
    body[5]["last_heartbeat"] = 3000.0
    third = reader.parse("/p", json.dumps(body).encode())
    assert third == body and second[3] == body[3] and first[3] != body[3]
    assert [i for i in range(10) if third[i] is not second[i]] == [5]
    everything_new = [{"id": f"p{i}", "last_heartbeat": 5000.0 + i} for i in range(10)]
    fourth = reader.parse("/p", json.dumps(everything_new).encode())
    assert fourth == everything_new and not any(a is b for a, b in zip(fourth, third, strict=True))


def test_a_body_that_is_not_json_is_refused_every_time_and_a_good_one_read_after():
    reader = ListReader()
    good = json.dumps([{"id": "a"}, {"id": "b"}]).encode()
    reader.parse("/p", good)
    for bad in (b'[{"id": "a"},{"id": "b",}]', b'[{"id": "a"},{"id": "b"}', b'[{"id": "a"},{"id": "b"}] x'):
        for _ in range(2):
            with pytest.raises(FetchError, match="not JSON"):
                reader.parse("/p", bad)
    assert reader.parse("/p", good) == [{"id": "a"}, {"id": "b"}]
    big = b'[{"id": "a"},{"id": "b", "n": 123456789012345678901234567890}]'
    assert reader.parse("/p", big)[1]["n"] == 123456789012345678901234567890  # an int, as json reads it


participant_items = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c", "d"])},
    optional={
        "vote": st.sampled_from(["yes", "no", None, 1]),
        "is_healthy": st.sampled_from([True, False, 1, None, "yes"]),
        "last_heartbeat": st.one_of(st.floats(0, 2e9), st.sampled_from([float("nan"), "2024-01-01T00:00:00Z", []])),
    },
)


def later_poll(last: list, changes: list[tuple[int, dict | int]]) -> list:
    """The last poll's list, most items the same objects, some replaced (as ``ListReader`` gives)."""
    body = list(last)
    for index, item in changes:
        if body:
            body[index % len(body)] = item
    return body


@settings(max_examples=400, deadline=None)
@given(
    st.lists(participant_items, max_size=6),
    st.lists(
        st.lists(st.tuples(st.integers(0, 5), st.one_of(participant_items, st.integers())), max_size=3), max_size=5
    ),
)
def test_participants_and_their_diff_are_the_long_ways_poll_after_poll(first, later):
    where = "participants of 'reuse'"
    body = first
    last_emitted: dict | None = None
    for changes in [[], *later]:
        body = later_poll(body, changes)
        got = participant_dicts(body, where)
        unique, errors = unique_items(body, where, limit=MAX_PARTICIPANT_ITEMS)
        assert got == ([_participant_dict(item) for item in unique], errors)
        if last_emitted is not None:
            shortcut = diff_participants(last_emitted, got[0], MAX_PARTICIPANT_ITEMS)
            long_way = diff_participants(copy.deepcopy(last_emitted), copy.deepcopy(got[0]), MAX_PARTICIPANT_ITEMS)
            assert shortcut == long_way
        fresh = diff_participants({}, got[0], MAX_PARTICIPANT_ITEMS)
        last_emitted = fresh[0] if fresh is not None else None


fields = participant_items.map(lambda item: {k: v for k, v in item.items() if k != "id"})


@settings(max_examples=400, deadline=None)
@given(
    st.lists(fields, min_size=1, max_size=6),
    st.lists(
        st.tuples(
            st.lists(st.tuples(st.integers(0, 5), fields), max_size=3),  # items changed in place
            st.one_of(st.none(), fields),  # one more listed at the end
            st.integers(0, 2),  # items no longer listed (from the end)
        ),
        max_size=6,
    ),
)
def test_the_differ_fed_last_polls_objects_emits_what_it_emits_fed_copies(first, later):
    """``ParticipantsDiffer`` passes over unchanged items by identity and updates what it remembers
    in place: poll after poll (items changing, coming and going), the events a differ fed
    ``participant_dicts``' lists emits are those of one fed deep copies (no object shared)."""
    where = "participants of 'differ'"
    shared, copies = ParticipantsDiffer(MAX_PARTICIPANT_ITEMS, 1000), ParticipantsDiffer(MAX_PARTICIPANT_ITEMS, 1000)
    body = [{"id": f"p{i}", **item} for i, item in enumerate(first)]
    born = len(body)
    for changes, more, fewer in [([], None, 0), *later]:
        body = later_poll(body, [(i, {"id": body[i % len(body)]["id"], **item}) for i, item in changes if body])
        if more is not None:
            body = [*body, {"id": f"p{born}", **more}]
            born += 1
        body = body[: max(0, len(body) - fewer)]
        listed = participant_dicts(body, where)[0]
        assert shared.event("m", listed) == copies.event("m", copy.deepcopy(listed))


async def test_a_big_list_held_still_reaches_the_store_as_fresh_parses_would(local_server: LocalServer) -> None:
    """Over a real socket: 2,000 participants, a few changing each poll; the store ends where
    whole lists would leave it, and the source emits only what changed."""
    local_server.json("/health", {"status": "ok", "service": "trading-service"})
    local_server.json(
        "/api/v1/migrations",
        [{"id": "m1", "pair": "BTCUSDT", "status": "in_progress", "phase": "committing", "progress": 1.0}],
    )
    local_server.json("/api/v1/migrations/m1/votes", {"yes": 2000})
    local_server.json("/api/v1/migrations/m1/health", {"is_healthy": True})
    people = [
        {"id": f"p{i:04d}", "type": "feed", "vote": "yes", "is_healthy": True, "last_heartbeat": 1000.0 + i}
        for i in range(2000)
    ]
    source = ControllerSource(local_server.url, profile="trading-service", clock=lambda: 5000.0)
    store, events = Store(), []
    async with source.make_client() as client:
        for poll in range(5):
            for i in range(poll * 7, poll * 7 + 5):
                people[i] = {**people[i], "last_heartbeat": 4000.0 + poll}
            local_server.json("/api/v1/migrations/m1/participants", people)
            start = len(events)
            assert await source.poll_once(client, events.append)
            kinds = [e.kind for e in events[start:] if e.kind.startswith("participants")]
            assert kinds == (["participants"] if poll == 0 else ["participants_delta"])
            if poll:
                delta = next(e for e in events[start:] if e.kind == "participants_delta")
                assert [p["id"] for p in delta.data["changed"]] == [f"p{i:04d}" for i in range(poll * 7, poll * 7 + 5)]
    for event in events:
        store.apply(event)
    whole = Store()
    whole.apply(
        Event(
            5000.0,
            "controller",
            "participants",
            {"migration_id": "m1", "participants": [_participant_dict(item) for item in people]},
        )
    )
    assert store.participants["m1"] == whole.participants["m1"]
    assert [e for e in events if e.kind == "source_error"] == []
