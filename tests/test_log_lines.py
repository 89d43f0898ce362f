"""What the store writes to the log (issue 14, items 9 and 10): the level of each migration
transition, every breaker open with its close, a source's crash once and its recovery once.

The recordings are the committed samples, read by the real reader into the real store."""

from pathlib import Path

import pytest

from migration_tui.events import Event
from migration_tui.recording import RecordingReader
from migration_tui.store import LogLine, Store

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def replayed(name: str) -> tuple[Store, float]:
    """The store after the whole sample, and the recording's first event time."""
    store = Store()
    start = None
    for event in RecordingReader(SAMPLES / name).events():
        start = event.ts if start is None else start
        store.apply(event)
    assert start is not None
    return store, start


def lines(store: Store, *words: str) -> list[LogLine]:
    return [line for line in store.log if all(word in line.message for word in words)]


def test_a_rollback_starting_is_a_warning_and_completions_are_info() -> None:
    store, start = replayed("orderbook-rollout.jsonl.gz")
    [rolling_back] = lines(store, "rollout-solusdt", "-> rolling_back")
    assert rolling_back.level == "warning"
    assert round(rolling_back.ts - start) == 262
    [rolled_back] = lines(store, "rollout-solusdt", "-> rolled_back")
    assert rolled_back.level == "warning"
    completed = lines(store, "(completed)")
    assert [line.message.split(":")[0] for line in completed] == [
        "rollout-btcusdt",
        "rollout-ethusdt",
        "rollout-xrpusdt",
    ]
    assert {line.level for line in completed} == {"info"}
    steps = lines(store, "(in_progress)")
    assert steps and {line.level for line in steps if "rolling_back" not in line.message} == {"info"}


def test_an_abort_starting_is_a_warning() -> None:
    store, _start = replayed("2pc-abort.jsonl.gz")
    [aborting] = lines(store, "2pc-ethusdt", "-> aborting")
    assert aborting.level == "warning"
    [aborted] = lines(store, "2pc-ethusdt", "-> aborted")
    assert aborted.level == "warning"


def test_a_pause_is_a_warning_and_the_resume_and_commit_are_info() -> None:
    store, _start = replayed("2pc-commit.jsonl.gz")
    [paused] = lines(store, "in_progress -> paused")
    [resumed] = lines(store, "paused -> in_progress")
    [committed] = lines(store, "-> committed")
    assert (paused.level, resumed.level, committed.level) == ("warning", "info", "info")


@pytest.mark.parametrize(
    ("status", "phase", "level"),
    [
        ("failed", "committing", "error"),
        ("rollback_failed", "rolling_back", "error"),
        ("in_progress", "rolling_back", "warning"),
        ("in_progress", "aborting", "warning"),
        ("completed", "committed", "info"),
        ("in_progress", "committing", "info"),
    ],
)
def test_each_transition_has_the_level_of_the_state_it_enters(status: str, phase: str, level: str) -> None:
    store = Store()
    store.apply(Event(1.0, "controller", "migration", {"id": "m1", "status": "in_progress", "phase": "prepared"}))
    store.apply(Event(2.0, "controller", "migration", {"id": "m1", "status": status, "phase": phase}))
    assert store.log[-1].level == level and store.log[-1].message.startswith("m1: ")
    # A migration first seen already in that state is logged at the same level.
    first = Store()
    first.apply(Event(1.0, "controller", "migration", {"id": "m2", "status": status, "phase": phase}))
    assert first.log[-1].level == level


def test_every_breaker_open_has_its_close() -> None:
    store, start = replayed("orderbook-rollout.jsonl.gz")
    opened = lines(store, "breaker SOLUSDT opened")
    closed = lines(store, "breaker SOLUSDT closed")
    assert [round(line.ts - start) for line in opened] == [110, 165, 215, 262]
    assert len(closed) == len(opened) == 4
    for was_open, close in zip(opened, closed, strict=True):
        assert was_open.ts < close.ts and "after 20s" in close.message and close.level == "info"
    assert {line.level for line in opened} == {"warning"}
    assert "4 times in 10 min" in opened[-1].message
    # In time order an open is always followed by its close before the next open.
    states = [line.message.split()[2].rstrip(":") for line in store.log if line.message.startswith("breaker SOLUSDT")]
    assert states == ["opened", "closed"] * 4
    assert not lines(store, "breaker BTCUSDT")  # never left closed: nothing to say


def breakers(ts: float, state: str) -> Event:
    return Event(ts, "controller", "breakers", {"breakers": [{"name": "SOLUSDT", "state": state}]})


def test_half_open_and_unknown_breaker_states_are_logged() -> None:
    store = Store()
    for ts, state in [(1, "closed"), (2, "open"), (30, "half_open"), (40, "closed"), (50, "weird")]:
        store.apply(breakers(ts, state))
    messages = [(line.level, line.message) for line in store.log]
    assert messages[0][1].startswith("breaker SOLUSDT opened") and messages[0][0] == "warning"
    assert messages[1] == ("warning", "breaker SOLUSDT half-open: letting trial requests through")
    assert messages[2] == ("info", "breaker SOLUSDT closed after 38s")
    assert messages[3] == ("warning", "breaker SOLUSDT state weird")


def test_a_failing_source_is_logged_once_and_its_recovery_once_with_how_long() -> None:
    store = Store()
    store.apply(Event(100.0, "controller", "source_ok", {}))
    for ts in (101.0, 103.0, 105.0, 107.0, 109.0, 111.0, 113.0):  # the same error on every poll
        store.apply(Event(ts, "controller", "source_error", {"error": "connection refused"}))
    store.apply(Event(113.5, "controller", "source_ok", {}))
    store.apply(Event(115.0, "controller", "source_ok", {}))
    log = [(line.level, line.source, line.message) for line in store.log]
    assert log == [
        ("error", "controller", "connection refused"),
        ("info", "controller", "recovered after 12s (was: connection refused)"),
    ]
    assert store.source("controller").ok()
