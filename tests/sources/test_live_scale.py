"""The live path's shortcuts at scale (issue 20): each gives what the long way gives.

- ``participant_dicts`` remembers the dict made for an item and hands the same one back
  for an equal item (values of the same types) on the next poll; a changed one is judged again.
- ``parse_json`` reads with orjson first and falls back to ``json`` for what orjson refuses
  or would read differently (integers past 64 bits).
- ``prometheus_series`` reads big families once per distinct text; the result is the whole
  text's (``_read_whole``), malformed text still one error every poll.
- A participants list longer than 1,000 is read whole, up to the store's limit.
"""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from migration_tui.sources.http import parse_json
from migration_tui.sources.profiles import _common
from migration_tui.sources.profiles._common import MAX_PARTICIPANT_ITEMS, Reading, _read_whole, prometheus_series
from migration_tui.sources.profiles.base import _participant_dict, participant_dicts
from migration_tui.store import MAX_PARTICIPANTS
from migration_tui.systems.twopc.profile import METRICS

NOW = 1_700_000_000.0


def people(count: int, beat: float = NOW) -> list[dict]:
    return [
        {"id": f"p{i:05d}", "type": "feed", "vote": "yes", "is_healthy": True, "last_heartbeat": beat + i}
        for i in range(count)
    ]


def long_way(body: list) -> list[dict]:
    return [_participant_dict({**item, "id": item["id"]}) for item in body]


def test_participants_are_read_up_to_the_stores_limit_not_1000():
    assert MAX_PARTICIPANT_ITEMS == MAX_PARTICIPANTS
    participants, errors = participant_dicts(people(10_000), "participants of 'big'")
    assert errors == []
    assert len(participants) == 10_000


def test_an_equal_item_gets_the_same_dict_a_changed_one_is_judged_again():
    where = "participants of 'memo'"
    first, _ = participant_dicts(json.loads(json.dumps(people(5))), where)
    body = json.loads(json.dumps(people(5)))  # equal items, other objects (as the next poll parses them)
    body[1]["last_heartbeat"] = NOW + 60
    body[2]["is_healthy"] = 1  # equal to True, but not a boolean: invalid
    body[3]["vote"] = "no"
    second, errors = participant_dicts(body, where)
    assert errors == []
    assert second == long_way(body)
    assert second[0] is first[0] and second[4] is first[4]
    assert all(second[i] is not first[i] for i in (1, 2, 3))
    assert second[2]["healthy"] is None and second[2]["invalid"] == ("healthy",)
    assert second[1]["last_heartbeat"] == NOW + 60


def test_a_nan_heartbeat_is_judged_every_time():
    where = "participants of 'nan'"
    for _ in range(2):
        (participant,), _ = participant_dicts([{"id": "a", "last_heartbeat": math.nan}], where)
        assert participant["last_heartbeat"] is None and participant["invalid"] == ("last_heartbeat",)


values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=3), st.lists(st.none())
)
items = st.one_of(
    st.fixed_dictionaries(
        {"id": st.sampled_from(["a", "b", "c", "", "\x1b[2J"])},
        optional={"vote": values, "is_healthy": values, "healthy": values, "last_heartbeat": values, "type": values},
    ),
    st.integers(),
    st.fixed_dictionaries({"id": st.integers(0, 2)}),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(items, max_size=6), min_size=1, max_size=4))
def test_remembering_never_changes_what_a_list_says(polls):
    """Poll after poll, the same result as judging every list afresh (``unique_items`` then each item)."""
    from migration_tui.sources.profiles.base import MAX_PARTICIPANT_ITEMS as limit
    from migration_tui.sources.profiles.base import unique_items

    for body in polls:
        got = participant_dicts(body, "participants of 'prop'")
        unique, errors = unique_items(body, "participants of 'prop'", limit=limit)
        # repr, not ==: 1 == 1.0 == True and -0.0 == 0.0, but they are not the same answer
        assert repr(got) == repr(([_participant_dict(item) for item in unique], errors))


def test_an_item_equal_in_python_but_not_in_json_is_judged_again():
    """Keys in another order, 1 for True and True for 1: equal dicts, the same types in order."""
    where = "participants of 'reordered'"
    (first,), _ = participant_dicts([{"id": "x", "vote": 1, "is_healthy": True, "last_heartbeat": 0.0}], where)
    (second,), _ = participant_dicts([{"id": "x", "is_healthy": 1, "vote": True, "last_heartbeat": -0.0}], where)
    assert (first["vote"], first["healthy"], first["invalid"]) == ("1", True, ())
    assert (second["vote"], second["healthy"], second["invalid"]) == ("pending", None, ("healthy",))
    assert math.copysign(1, second["last_heartbeat"]) == -1.0


def test_not_a_list_is_refused_as_before():
    assert participant_dicts({"id": "a"}, "participants of 'x'") == (
        [],
        ["participants of 'x': expected a list, got an object"],
    )


BODIES = [
    b'[{"id": "a", "last_heartbeat": 1700000000.25}]',
    b"[123456789012345678901234567890, -9223372036854775809, 18446744073709551615]",
    b"[NaN, Infinity, -Infinity, 1e400]",
    b'"\\ud800"',
    b'{"a": 1, "a": 2}',
    b"[1.0, -0.0, 0.1e1, 1E2]",
    b" [1] \n",
]


def test_parse_json_reads_what_json_reads():
    for body in BODIES:
        want, got = json.loads(body.decode()), parse_json("/x", body)
        assert repr(got) == repr(want), body
        assert type(got) is type(want)


def test_parse_json_refuses_what_it_refused():
    for body, said in [
        (b"\xff[1]", "not UTF-8"),
        (b"[1,", "not JSON"),
        (b"\xef\xbb\xbf[1]", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ]:
        try:
            parse_json("/x", body)
        except Exception as exc:
            assert said in str(exc)
        else:
            raise AssertionError(f"{body[:10]!r} was accepted")


def metrics_text(participants: int, bad_line: str = "", value: float = 0.02) -> str:
    lines = [
        "# HELP migration_progress_percent Migration progress, 0..100",
        "# TYPE migration_progress_percent gauge",
        f'migration_progress_percent{{migration_id="m"}} {value * 100}',
        "# HELP migration_latency_p95_seconds p95",
        "# TYPE migration_latency_p95_seconds gauge",
        f'migration_latency_p95_seconds{{pair="BTCUSDT"}} {value}',
        "# HELP migration_participant_healthy 1 if the participant heartbeats",
        "# TYPE migration_participant_healthy gauge",
        *(f'migration_participant_healthy{{migration_id="m",participant="p{i:05d}"}} 1.0' for i in range(participants)),
        bad_line,
        "# TYPE migration_error_rate gauge",
        f'migration_error_rate{{pair="BTCUSDT"}} {value / 10}',
    ]
    return "\n".join(lines) + "\n"


def both_ways(text: str) -> tuple[Reading, Reading]:
    short, whole = Reading(), Reading()
    prometheus_series(text, METRICS, "pair", set(), "BTCUSDT", short)
    _read_whole(text, METRICS, "pair", set(), "BTCUSDT", whole, "/metrics")
    return short, whole


def test_a_big_family_is_parsed_once_per_text(monkeypatch):
    calls: list[int] = []
    parse = _common._parse_family
    monkeypatch.setattr(
        _common, "_parse_family", lambda family, wanted: calls.append(len(family)) or parse(family, wanted)
    )
    for value in (0.02, 0.03, 0.04):  # the small families change, the participants' does not
        short, whole = both_ways(metrics_text(2_000, value=value))
        assert short.metrics == whole.metrics == {"latency_p95_ms": value * 1000, "error_rate_pct": value * 10}
        assert short.errors == whole.errors == []
    big = [size for size in calls if size >= _common._BIG_FAMILY]
    assert len(big) == 1


def test_malformed_text_in_a_remembered_family_is_an_error_every_poll():
    text = metrics_text(2_000, bad_line='migration_participant_healthy{participant="p"} not-a-number')
    for _ in range(2):
        short, whole = both_ways(text)
        assert short.errors == whole.errors == ["/metrics: not Prometheus text format (ValueError)"]
        assert short.metrics == whole.metrics  # what came before the bad line, as before


def test_past_the_sample_cap_as_before():
    short, whole = both_ways(metrics_text(_common.MAX_SAMPLES + 5))
    assert short.errors == whole.errors == [f"/metrics: more than {_common.MAX_SAMPLES} samples, the rest ignored"]
    assert short.metrics == whole.metrics


lines = st.sampled_from(
    [
        "# HELP migration_latency_p95_seconds p95",
        "# TYPE migration_latency_p95_seconds gauge",
        "# TYPE migration_latency_p95_seconds counter",
        "# TYPE migration_error_rate summary",
        "#TYPE migration_error_rate gauge",
        "# HELP other x",
        "# TYPE other",
        "# just a comment",
        '# HELP "migration_latency_p95_seconds" quoted',
        '# TYPE "migration_latency_p95_seconds" counter',
        "# HELP",
        "#\u00a0HELP other x",
        "# HELP 1bad x",
        'migration_latency_p95_seconds{pair="BTCUSDT"} 0.02',
        'migration_latency_p95_seconds{pair="ETHUSDT"} 0.03',
        'migration_latency_p95_seconds_total{pair="BTCUSDT"} 0.02',
        'migration_error_rate{pair="BTCUSDT"} 0.001',
        "migration_error_rate 5",
        "migration_memory_ratio 0.5",
        'other{a="b"} 1',
        'other{a="b} 1',
        "other NaN",
        "",
        "  ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(lines, max_size=12), st.integers(0, 3))
def test_family_at_a_time_reads_as_the_whole_text(chosen, big):
    filler = "\n".join(f'other{{i="{i:04d}"}} 1' for i in range(big * 150))
    text = "\n".join(chosen[:6] + (["# TYPE other gauge", filler] if big else []) + chosen[6:])
    short, whole = both_ways(text)
    assert (short.metrics, short.metrics_invalid, short.errors) == (whole.metrics, whole.metrics_invalid, whole.errors)
