"""The participants memo's shortcut for a poll where only the heartbeat moved (``_moved_heartbeat``)
gives what a full parse gives: the same participants, the same objects kept, the same change log,
for items whose other values differ only in type (1, 1.0, True), lists, keys and invalid values."""

from __future__ import annotations

import random

import pytest

from migration_tui import store as store_module
from migration_tui.events import Event
from migration_tui.store import Store

T = 1_700_000_000.0
VALUES = {
    "type": ["db", "feed", 1, None],
    "vote": ["yes", "no", "", 1.0, None],
    "is_healthy": [True, False, None, 1, "yes"],
    "healthy": [True, 1.0],
    "invalid": [[], ["vote"], ["x", 1], "vote"],
    "last_heartbeat": [None, "soon", -1.0, 1e12, 5, True],
}


def _polls(seed: int, count: int = 400):
    rng = random.Random(seed)
    items: dict[str, dict] = {}
    for i in range(count):
        ts = T + i
        for key in ("a", "b", "c"):
            item = items.setdefault(key, {"id": key, "type": "db", "vote": "yes", "is_healthy": True})
            item["last_heartbeat"] = ts - rng.choice((0.5, 2.0, 0.0))
            if rng.random() < 0.15:  # something else changes, or a heartbeat that is not a usable time
                field = rng.choice(list(VALUES))
                if rng.random() < 0.2:
                    item.pop(field, None)
                else:
                    item[field] = rng.choice(VALUES[field])
        listed = [dict(item) for key, item in items.items() if rng.random() < 0.95]
        yield Event(ts, "controller", "participants", {"migration_id": "m", "participants": listed})
        for _ in range(rng.randrange(3)):
            at = ts + rng.choice((-1.0, 0.2, 0.7))
            yield Event(
                ts + 0.5, "redis", "heartbeat", {"migration_id": "m", "participant_id": rng.choice("abc"), "at": at}
            )


def _run(events):
    store = Store()
    states = []
    for event in events:
        store.apply(event)
        states.append({key: p for key, p in store.participants.get("m", {}).items()})
    return store, states


@pytest.mark.parametrize("seed", range(6))
def test_the_heartbeat_shortcut_gives_what_a_full_parse_gives(monkeypatch, seed):
    events = list(_polls(seed))
    fast, fast_states = _run(events)
    monkeypatch.setattr(store_module, "_moved_heartbeat", lambda item, seen, parsed: None)
    slow, slow_states = _run(events)
    assert fast_states == slow_states
    for before, after, slow_before, slow_after in zip(
        fast_states, fast_states[1:], slow_states, slow_states[1:], strict=False
    ):
        # The same participants kept as the same objects (readers compare by identity).
        kept = {key for key in after if before.get(key) is after[key]}
        assert kept == {key for key in slow_after if slow_before.get(key) is slow_after[key]}
    assert fast.participants_changed_since("m", 0) == slow.participants_changed_since("m", 0) or (
        fast.participants_changed_since("m", 0) is None and slow.participants_changed_since("m", 0) is None
    )
