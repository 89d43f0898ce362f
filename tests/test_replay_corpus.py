"""The reduction gives the same results after the performance work as before it.

``tests/data/replay_corpus_golden.json`` is the headless state of the corpus recording
(``tests/replay_corpus.py``: every event kind, invalid values, deltas, hostile text, three
controllers, lines to skip) at several instants, as the reduction gave it at 1da15a4, before the
second performance round (issue 20). The headless reduction, plain and gzip, the replay engine's
seeks and a store fed one event at a time through ``Store.apply`` must all give exactly that.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from migration_tui.headless import reduce_recording, state_dict
from migration_tui.recording import ReadStats, RecordingReader, decode_event, monotonic, open_binary
from migration_tui.replay import Replay
from migration_tui.store import Store
from tests.replay_corpus import INSTANTS, START, write_corpus

GOLDEN = Path(__file__).resolve().parent / "data" / "replay_corpus_golden.json"
#: Keys ``reduce_recording`` adds to ``state_dict``'s, and the skipped count (a seek counts only what it read).
_REDUCTION_ONLY = ("started_at", "duration", "header_ok", "skipped_lines")


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN.read_text())


@pytest.fixture(scope="module", params=["corpus.jsonl", "corpus.jsonl.gz"])
def corpus(request, tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus") / request.param)


def as_json(state):
    return json.loads(json.dumps(state))


def test_the_headless_reduction_gives_the_recorded_results(corpus, golden):
    for at in INSTANTS:
        assert as_json(reduce_recording(str(corpus), at)) == golden[repr(at)], at


def test_the_corpus_exercises_what_it_claims(golden):
    end = golden[repr(INSTANTS[-1])]
    assert end["skipped_lines"] > 20 and end["rejected_events"] > 100
    assert {m["controller"] for m in end["migrations"]} == {None, "east", "west"}
    assert any(m["invalid"] for m in end["migrations"])
    assert any(value is None for value in end["series"].values())
    assert "controller:east" in end["sources"] and end["sources"]["prometheus"]["ok"] is True


def without(state, keys=_REDUCTION_ONLY):
    return {key: value for key, value in as_json(state).items() if key not in keys}


@pytest.mark.parametrize("keyframe_events", [1, 97, 4096])
def test_seeks_in_any_order_give_the_recorded_results(corpus, golden, keyframe_events):
    with Replay(corpus, keyframe_events=keyframe_events) as replay:
        replay.index()
        order = [*INSTANTS, *INSTANTS]
        random.Random(keyframe_events).shuffle(order)
        for at in order:
            replay.seek(at)
            state = state_dict(replay.store, replay.now, at=replay.position)
            assert without(state) == without(golden[repr(at)]), (at, keyframe_events)


def test_one_event_at_a_time_through_apply_gives_the_recorded_results(corpus, golden):
    """The reference path: each line decoded on its own and applied with ``Store.apply``."""
    reader = RecordingReader(corpus)
    assert reader.started_at == START
    for at in INSTANTS:
        store, stats = Store(), ReadStats()
        with open_binary(corpus) as fp:
            fp.readline()
            lines = ((0, decode_event(line, stats)) for line in fp)
            last, key = None, repr(at)
            for _offset, event in monotonic(pair for pair in lines if pair[1] is not None):
                if event.ts > START + at:
                    break
                store.apply(event)
                last = event.ts
            else:
                at = min(at, last - START)
        state = state_dict(store, START + at, at=at)
        assert without(state) == without(golden[key]), at
