"""The participants memo's shortcut for a poll where only the heartbeat moved (``_moved_heartbeat``)
gives what a full parse gives: the same participants, the same objects kept, the same change log,
for items whose other values differ only in type (1, 1.0, True), lists, keys and invalid values."""

from __future__ import annotations

import random

import msgspec
import orjson
import pytest

from migration_tui import recording
from migration_tui import store as store_module
from migration_tui.events import Event
from migration_tui.model import Participant
from migration_tui.store import Store

T = 1_700_000_000.0
IDS = ("a", "b", "c", "d" * 300)  # the last is kept as its first 256 characters
#: A longer id is not typed (``recording.ParticipantItem``): its lists are dicts.
TYPED_IDS = ("a", "b", "c", "d" * 256)
VALUES = {
    "type": ["db", "feed", 1, None],
    "vote": ["yes", "no", "", 1.0, None],
    "is_healthy": [True, False, None, 1, "yes"],
    "healthy": [True, 1.0],
    "invalid": [[], ["vote"], ["x", 1], "vote"],
    "last_heartbeat": [None, "soon", -1.0, 1e12, 5, True],
}


def _polls(seed: int, count: int = 400, values: dict = VALUES, ids: tuple[str, ...] = IDS):
    rng = random.Random(seed)
    items: dict[str, dict] = {}
    for i in range(count):
        ts = T + i
        for key in ids:
            item = items.setdefault(key, {"id": key, "type": "db", "vote": "yes", "is_healthy": True})
            if rng.random() < 0.7:  # else the same item as the last poll's
                item["last_heartbeat"] = ts - rng.choice((0.5, 2.0, 0.0))
            if rng.random() < 0.15:  # something else changes, or a heartbeat that is not a usable time
                field = rng.choice(list(values))
                if rng.random() < 0.2:
                    item.pop(field, None)
                else:
                    item[field] = rng.choice(values[field])
        listed = [dict(item) for key, item in items.items() if rng.random() < 0.95]
        yield Event(ts, "controller", "participants", {"migration_id": "m", "participants": listed})
        if rng.random() < 0.1:  # a delta changes one, which the next full list may not
            changed = {**items[rng.choice(ids)], "vote": "maybe"}
            yield Event(
                ts + 0.25,
                "controller",
                "participants_delta",
                {"migration_id": "m", "changed": [changed], "removed": []},
            )
        for _ in range(rng.randrange(3)):
            at = ts + rng.choice((-1.0, 0.2, 0.7))
            yield Event(
                ts + 0.5, "redis", "heartbeat", {"migration_id": "m", "participant_id": rng.choice(ids), "at": at}
            )


def _run(events, folded=False):
    """Each event applied (``folded``: by ``fold_events``, the recording reader's path), and the
    participants after each."""
    store = Store()
    states = []
    for event in events:
        revision = store.revision["participants"]
        if folded:
            store.fold_events([event])
        else:
            store.apply(event)
        # The participants, and the ids the event changed as a reader of the change log sees them.
        states.append(
            (
                {key: p for key, p in store.participants.get("m", {}).items()},
                store.participants_changed_since("m", revision),
            )
        )
    return store, states


@pytest.mark.parametrize("seed", range(6))
def test_the_heartbeat_shortcut_gives_what_a_full_parse_gives(monkeypatch, seed):
    events = list(_polls(seed))
    fast, fast_states = _run(events)
    monkeypatch.setattr(store_module, "_moved_heartbeat", lambda item, seen, parsed: None)
    slow, slow_states = _run(events)
    _assert_the_same_runs(fast, fast_states, slow, slow_states)


def _assert_the_same_runs(store, states, reference, reference_states):
    """The same participants after every event and the same ids changed by each, kept as the same
    objects from one event to the next as in the reference (readers compare by identity), and
    the same change log."""
    assert states == reference_states
    states, reference_states = [s[0] for s in states], [s[0] for s in reference_states]
    pairs = zip(states[:-1], states[1:], reference_states[:-1], reference_states[1:], strict=True)
    for before, after, ref_before, ref_after in pairs:
        kept = {key for key in after if before.get(key) is after[key]}
        assert kept == {key for key in ref_after if ref_before.get(key) is ref_after[key]}
    assert store.participants_changed_since("m", 0) == reference.participants_changed_since("m", 0)


#: Values of the shape ``recording.ParticipantItem`` types (and a few that it does not).
PLAIN_VALUES = {
    "type": ["db", "feed", ""],
    "vote": ["yes", "no", "", "x" * 300],
    "is_healthy": [True, False, None, None, 1],
    "last_heartbeat": [None, 0.0, -0.0, 1e11, 5.0, 7],
}


def _as_decoded(events):
    """The polls as ``recording.decode_chunks`` gives them: a list of the plain shape typed
    (``ParticipantsData``), any other a dict; a heartbeat typed (``HeartbeatEvent``, which
    ``fold_events`` keeps aside) unless its id is too long."""
    decode = recording._TYPED_DATA[recording.TYPED_EVENTS["participants"]]
    typed = beats = 0
    for event in events:
        if event.kind == "participants":
            try:
                event = Event(event.ts, event.source, event.kind, decode(orjson.dumps(event.data)))
                typed += 1
            except msgspec.DecodeError:
                pass
        elif event.kind == "heartbeat":
            try:
                event = recording._DECODER.decode(orjson.dumps(event._asdict()))
                beats += 1
            except msgspec.DecodeError:
                pass
        yield event
    assert typed >= 5  # the typed path is tested (most of the plain lists, a few of the mixed)
    assert beats >= 50


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "values",
    [PLAIN_VALUES, {key: PLAIN_VALUES[key] + VALUES[key] for key in PLAIN_VALUES}],
    ids=["plain", "mixed"],
)
def test_a_typed_list_gives_what_its_dict_gives(seed, values):
    """``Store._on_typed_participants`` against ``_on_participants`` of the same lists as dicts
    (each item through ``Participant.from_dict``), typed and dict lists in turn for the same ids:
    the same participants after every event, the same objects kept, the same change log."""
    events = list(_polls(seed, values=values, ids=TYPED_IDS))
    typed, typed_states = _run(_as_decoded(events), folded=True)
    plain, plain_states = _run(events)
    _assert_the_same_runs(typed, typed_states, plain, plain_states)
    # In longer folds, as the reader folds a chunk: heartbeats are kept aside across the lists
    # that change nothing (a typed list files them only when it changes something).
    decoded = list(_as_decoded(events))
    for size in (7, 50, len(decoded)):
        store = Store()
        for start in range(0, len(decoded), size):
            store.fold_events(decoded[start : start + size])
        assert store.participants == plain.participants, size
        assert store.participants_changed_since("m", 0) == plain.participants_changed_since("m", 0), size


MIGRATION_VALUES = {
    "progress": [None, "50", True, -1.0, 101, 10**30, 0, -0.0, 42],
    "status": ["in_progress", "paused", 1],
    "phase": ["preparing", "committing", None],
    "started_at": [T, T + 1, int(T), "x"],
    "health_score": [90.0, 90, 200.0, None],
    "details": [{"a": 1}, {"a": 1.0}, {"a": True}, {"b": 1, "a": 1}, {"a": 1, "b": 1}, {"a": -0.0}, {"a": 0.0}],
    "config": [{"x": [1, 2]}, {"x": [1.0, 2]}, None],
    "invalid": [[], ["phase"], "x"],
}


def _migration_polls(seed: int, count: int = 500):
    rng = random.Random(seed)
    data = {
        "id": "m",
        "system": "2pc",
        "pair": "BTCUSDT",
        "status": "in_progress",
        "phase": "preparing",
        "progress": 0.0,
    }
    for i in range(count):
        data = dict(data)
        data["progress"] = (
            round(rng.uniform(0, 100), 2) if rng.random() < 0.9 else rng.choice(MIGRATION_VALUES["progress"])
        )
        if rng.random() < 0.2:
            field = rng.choice(list(MIGRATION_VALUES))
            if rng.random() < 0.2:
                data.pop(field, None)
            else:
                data[field] = rng.choice(MIGRATION_VALUES[field])
        yield Event(T + i, "controller", "migration", data)


def _run_migrations(events):
    store = Store()
    states = []
    for event in events:
        store.apply(event)
        states.append((store.migrations.get("m"), store.rejected_events))
    return store, states


@pytest.mark.parametrize("seed", range(6))
def test_the_progress_shortcut_gives_what_a_full_parse_gives(monkeypatch, seed):
    events = list(_migration_polls(seed))
    fast, fast_states = _run_migrations(events)
    used = [0]
    original = store_module._moved_progress

    def counted(*args):
        result = original(*args)
        used[0] += result is not None
        return result

    monkeypatch.setattr(store_module, "_moved_progress", counted)
    _run_migrations(events)
    assert used[0] > 200  # the shortcut is what is tested
    monkeypatch.setattr(store_module, "_moved_progress", lambda *args: None)
    slow, slow_states = _run_migrations(events)
    for (fast_migration, fast_rejected), (slow_migration, slow_rejected) in zip(fast_states, slow_states, strict=True):
        assert fast_rejected == slow_rejected
        assert fast_migration == slow_migration
        assert repr(fast_migration) == repr(slow_migration)  # -0.0 and 0.0 are equal, not the same
    assert list(fast.log) == list(slow.log)
    assert fast.progress_changes == slow.progress_changes and fast.marks == slow.marks


def test_with_progress_sets_every_field():
    from migration_tui.model import Migration

    values = {
        "id": "x",
        "system": "2pc",
        "pair": "P",
        "status": "s",
        "phase": "p",
        "progress": 3.0,
        "started_at": 1.0,
        "health": "h",
        "health_score": 5.0,
        "details": {"a": 1.0},
        "config": {"k": 1},
        "invalid": ("v",),
        "controller": "c",
    }
    assert Migration.__struct_fields__ == tuple(values)
    parsed = Migration(**values)
    moved = store_module._with_progress(parsed, 7.5)
    assert moved == Migration(**{**values, "progress": 7.5}) and moved != parsed and parsed.progress == 3.0
    assert all(getattr(moved, name) is getattr(parsed, name) for name in values if name != "progress")


@pytest.mark.parametrize(
    ("first", "then"),
    [({"healthy": True}, {"healthy": 1}), ({"type": 1}, {"type": 1.0}), ({"type": 0.0}, {"type": -0.0})],
)
def test_an_item_equal_only_in_python_is_parsed_again(first, then):
    """1 == 1.0 == True and 0.0 == -0.0 in Python; ``from_dict`` tells them apart. A poll whose
    item differs from the last only so (and nothing else moved) is what a full parse gives."""
    store = Store()
    listed = [{"id": "a", "vote": "yes", "last_heartbeat": T, **first}]
    store.apply(Event(T, "controller", "participants", {"migration_id": "m", "participants": listed}))
    again = [{**listed[0], **then}]
    store.apply(Event(T + 1, "controller", "participants", {"migration_id": "m", "participants": again}))
    assert store.participants["m"]["a"] == Participant.from_dict(again[0])
