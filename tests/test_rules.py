"""Rules in virtual time: pending -> firing -> resolved, and flapping."""

import pytest

from migration_tui.events import Event
from migration_tui.rules import RulesError, default_rules, evaluate, format_duration, judge, rules_from_toml
from migration_tui.store import Store


def store_with(system="2pc", pair="BTCUSDT", **extra):
    s = Store()
    s.apply(
        Event(
            0.0,
            "controller",
            "migration",
            {"id": "m1", "system": system, "pair": pair, "status": "in_progress", "phase": "committing", **extra},
        )
    )
    return s


def feed(s, name, values, start=0.0, step=1.0):
    for i, v in enumerate(values):
        s.apply(Event(start + i * step, "prometheus", "metrics", {"values": {name: v}}))


def by_rule(alerts, name):
    return [a for a in alerts if a.rule == name]


def test_p95_pending_then_firing_then_resolved():
    s = store_with()
    feed(s, "latency_p95_ms", [60.0] * 100)
    (alert,) = by_rule(evaluate(s, 99.0), "latency_p95_high")
    assert alert.state == "pending" and alert.since == 0.0
    assert alert.message == "m1: rollback recommended in 1m21s unless p95 falls below 50 ms"
    assert alert.migration == "m1"
    feed(s, "latency_p95_ms", [60.0] * 100, start=100.0)
    (alert,) = by_rule(evaluate(s, 199.0), "latency_p95_high")
    assert alert.state == "firing" and alert.fires_at == 180.0
    assert "p95 60 ms above 50 ms for 3m19s" in alert.message
    feed(s, "latency_p95_ms", [20.0], start=200.0)
    assert by_rule(evaluate(s, 200.0), "latency_p95_high") == []


def test_flapping_restarts_the_for_clock():
    s = store_with()
    pattern = ([60.0] * 100 + [40.0]) * 3
    feed(s, "latency_p95_ms", pattern)
    # 100 s above, one sample below, three times over: never 180 s in a row
    assert all(by_rule(evaluate(s, t), "latency_p95_high")[0].state == "pending" for t in (99.0, 200.0, 301.0 - 1))
    assert by_rule(evaluate(s, len(pattern) - 1.0), "latency_p95_high") == []
    feed(s, "latency_p95_ms", [60.0] * 50, start=len(pattern))
    (alert,) = by_rule(evaluate(s, len(pattern) + 49.0), "latency_p95_high")
    assert alert.state == "pending" and alert.since == float(len(pattern))


def test_a_gap_breaks_the_run():
    s = store_with()
    feed(s, "error_rate_pct", [2.0] * 200 + [None] + [2.0] * 200)
    (alert,) = by_rule(evaluate(s, 400.0), "error_rate_high")
    assert alert.state == "pending" and alert.since == 201.0


def test_scoped_series_is_preferred_per_pair():
    s = store_with(pair="ETHUSDT")
    feed(s, "ETHUSDT/latency_p95_ms", [80.0] * 200)
    feed(s, "latency_p95_ms", [10.0] * 200)
    (alert,) = by_rule(evaluate(s, 199.0), "latency_p95_high")
    assert alert.state == "firing"


def test_stale_series_is_not_judged():
    s = store_with()
    feed(s, "latency_p95_ms", [60.0] * 200)
    assert by_rule(evaluate(s, 199.0 + 500), "latency_p95_high") == []


def test_breaker_opens_more_than_three_in_ten_minutes():
    s = store_with()
    for i, is_open in enumerate([True, False] * 4):
        s.apply(Event(i * 30.0, "controller", "breakers", {"breakers": [{"pair": "BTCUSDT", "open": is_open}]}))
    s.apply(Event(300.0, "controller", "source_ok", {}))  # the controller still answers
    (alert,) = by_rule(evaluate(s, 300.0), "breaker_flapping")
    assert alert.state == "firing" and "opened 4 times" in alert.message
    s.apply(Event(691.0, "controller", "source_ok", {}))
    assert by_rule(evaluate(s, 90.0 + 601), "breaker_flapping") == []


def test_unhealthy_participant_recommends_pause():
    s = store_with()
    s.apply(
        Event(
            1.0,
            "controller",
            "participants",
            {
                "migration_id": "m1",
                "participants": [{"id": "engine", "is_healthy": False}, {"id": "orderbook", "is_healthy": True}],
            },
        )
    )
    (alert,) = by_rule(evaluate(s, 2.0), "participant_unhealthy")
    assert alert.action == "pause" and "engine" in alert.message


def test_batch_health_score_bands():
    s = store_with(system="batch", pair="", health_score=45.0)
    names = {a.rule for a in evaluate(s, 1.0)}
    assert {"health_degraded", "health_critical"} <= names


def test_terminal_migrations_get_no_recommendations():
    s = store_with()
    feed(s, "latency_p95_ms", [90.0] * 300)
    s.apply(Event(299.0, "controller", "migration", {"id": "m1", "system": "2pc", "status": "completed"}))
    assert evaluate(s, 299.0) == []
    judged = judge(s, 299.0)["m1"]
    assert judged and all((j.state, j.reason) == ("not_judged", "migration ended") for j in judged)


def test_default_rules_cover_every_system():
    systems = {system for rule in default_rules() for system in rule.systems}
    assert systems == {"2pc", "orderbook-rollout", "canary", "batch", "dual-write", "pg-logical"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[rule]]\nname = 1", "needs a name"),
        ('[[rule]]\nname = "x"\nkind = "vibes"', "unknown kind"),
        ('[[rule]]\nname = "x"\nseries = "s"\nop = "="', "op must be"),
        ('[[rule]]\nname = "x"\nseries = "s"\nfor = "soon"', "not a duration"),
        ("rule = [", "mine.toml"),
    ],
)
def test_bad_rules_files_say_what_is_wrong(text, message):
    with pytest.raises(RulesError, match=message):
        rules_from_toml(text, "mine.toml")


def test_format_duration():
    assert [format_duration(s) for s in (5, 65, 3725)] == ["5s", "1m05s", "1h02m"]


def test_rolling_back_is_still_judged_and_says_the_rollback_is_under_way():
    s = store_with()
    feed(s, "latency_p95_ms", [90.0] * 300)
    assert by_rule(evaluate(s, 299.0), "latency_p95_high")
    s.apply(
        Event(
            299.0,
            "controller",
            "migration",
            {"id": "m1", "system": "2pc", "pair": "BTCUSDT", "status": "in_progress", "phase": "rolling_back"},
        )
    )
    (alert,) = by_rule(evaluate(s, 299.0), "latency_p95_high")
    assert alert.state == "firing" and alert.migration == "m1"
    assert "rollback under way" in alert.message and "recommended" not in alert.message


def test_breaker_opens_count_only_the_migrations_own_breakers():
    s = store_with(pair="")  # a migration with no breaker of its own
    for i, is_open in enumerate([True, False] * 5):
        s.apply(Event(i * 30.0, "controller", "breakers", {"breakers": [{"pair": "ETHUSDT", "open": is_open}]}))
    s.apply(Event(300.0, "controller", "source_ok", {}))
    assert by_rule(evaluate(s, 300.0), "breaker_flapping") == []
    (m1,) = [j for j in judge(s, 300.0)["m1"] if j.rule == "breaker_flapping"]
    assert (m1.state, m1.reason) == ("not_judged", "no data for its circuit breaker")
    s.apply(Event(0.0, "controller", "migration", {"id": "m2", "system": "2pc", "pair": "ETHUSDT"}))
    (alert,) = by_rule(evaluate(s, 300.0), "breaker_flapping")
    assert alert.message.startswith("m2:") and alert.migration == "m2"


SERIES_RULES = [rule for rule in default_rules() if rule.kind == "series"]


def _breaking(rule, bad=True):
    margin = max(abs(rule.threshold) * 0.5, 1.0)
    if rule.op == "<":
        margin = min(margin, rule.threshold / 2)  # a percentage below its threshold stays positive
    value = rule.threshold + margin if rule.op == ">" else rule.threshold - margin
    good = rule.threshold - margin if rule.op == ">" else min(rule.threshold + margin, 100.0)
    return value if bad else good


def _series_store(rule):
    return store_with(system=rule.systems[0], pair="" if rule.systems[0] != "2pc" else "BTCUSDT")


@pytest.mark.parametrize("rule", SERIES_RULES, ids=lambda r: r.name)
def test_every_series_rule_goes_pending_firing_resolved(rule):
    s = _series_store(rule)
    steps = int(rule.for_s) + 2
    feed(s, rule.series, [_breaking(rule)] * steps)
    if rule.for_s:
        (alert,) = by_rule(evaluate(s, rule.for_s / 2), rule.name)
        assert alert.state == "pending" and "recommended in" in alert.message
    (alert,) = by_rule(evaluate(s, steps - 1.0), rule.name)
    assert alert.state == "firing" and alert.action == rule.action
    feed(s, rule.series, [_breaking(rule, bad=False)], start=float(steps))
    assert by_rule(evaluate(s, float(steps)), rule.name) == []


@pytest.mark.parametrize("rule", SERIES_RULES, ids=lambda r: r.name)
def test_every_series_rule_flapping(rule):
    s = _series_store(rule)
    run = max(int(rule.for_s * 0.6), 1)  # each bad run is shorter than `for`
    pattern = ([_breaking(rule)] * run + [_breaking(rule, bad=False)]) * 4
    feed(s, rule.series, pattern)
    states = set()
    for t in range(len(pattern)):
        alerts = by_rule(evaluate(s, float(t)), rule.name)
        states.add(alerts[0].state if alerts else "resolved")
    if rule.for_s:
        assert states == {"pending", "resolved"}  # it never fires: the for clock restarts each time
    else:
        assert states == {"firing", "resolved"}  # no for: it follows every flap


def _participants(s, ts, healthy):
    data = {"migration_id": "m1", "participants": [{"id": "engine", "is_healthy": healthy}]}
    s.apply(Event(ts, "controller", "participants", data))


def test_participant_unhealthy_fires_resolves_and_flaps():
    s = store_with()
    states = []
    for t, healthy in enumerate([True, False, True, False, False, True]):
        _participants(s, float(t), healthy)
        states.append(bool(by_rule(evaluate(s, float(t)), "participant_unhealthy")))
    assert states == [False, True, False, True, True, False]


def test_health_score_fires_resolves_and_flaps():
    s = store_with(system="batch", pair="")
    seen = []
    for t, score in enumerate([95.0, 70.0, 40.0, 85.0, 45.0, 100.0]):
        migration = {"id": "m1", "system": "batch", "status": "in_progress", "phase": "migrating"}
        s.apply(Event(float(t), "controller", "migration", {**migration, "health_score": score}))
        seen.append({a.rule for a in evaluate(s, float(t))} & {"health_degraded", "health_critical"})
    assert seen == [
        set(),
        {"health_degraded"},
        {"health_degraded", "health_critical"},
        set(),
        {"health_degraded", "health_critical"},
        set(),
    ]


def test_breaker_flapping_resolves_when_the_opens_leave_the_window():
    s = store_with()
    for i, is_open in enumerate([True, False] * 3):
        s.apply(Event(i * 30.0, "controller", "breakers", {"breakers": [{"pair": "BTCUSDT", "open": is_open}]}))
    assert by_rule(evaluate(s, 200.0), "breaker_flapping") == []  # three opens: not more than three
    s.apply(Event(200.0, "controller", "breakers", {"breakers": [{"pair": "BTCUSDT", "open": True}]}))
    (alert,) = by_rule(evaluate(s, 200.0), "breaker_flapping")
    assert alert.state == "firing" and alert.action == "rollback"
    assert by_rule(evaluate(s, 200.0 + 601.0), "breaker_flapping") == []


def _states(s, now, rule):
    (item,) = [j for j in judge(s, now)["m1"] if j.rule == rule]
    return item.state, item.reason


def test_a_failing_controller_leaves_its_rules_not_judged():
    """Issue 14 item 3: no all-clear from data the failing source can no longer send."""
    s = store_with()
    s.apply(Event(0.0, "controller", "breakers", {"breakers": [{"pair": "BTCUSDT", "open": False}]}))
    s.apply(Event(0.0, "controller", "metrics", {"values": {"latency_p95_ms": 10.0}}))
    assert _states(s, 1.0, "breaker_flapping") == ("ok", "")
    assert _states(s, 1.0, "latency_p95_high") == ("ok", "")
    s.apply(Event(2.0, "controller", "source_error", {"error": "HTTP 500"}))
    assert _states(s, 2.5, "breaker_flapping") == ("not_judged", "controller ERROR")
    assert _states(s, 2.5, "latency_p95_high") == ("not_judged", "controller ERROR")
    # The same series still arriving from Prometheus is judged.
    s.apply(Event(3.0, "prometheus", "metrics", {"values": {"latency_p95_ms": 12.0}}))
    assert _states(s, 3.5, "latency_p95_high") == ("ok", "")


def test_rules_without_data_are_not_judged_and_old_data_is_stale():
    s = store_with()
    s.apply(Event(0.0, "controller", "source_ok", {}))
    assert _states(s, 0.5, "latency_p95_high") == ("not_judged", "no data for latency_p95_ms")
    assert _states(s, 0.5, "participant_unhealthy") == ("not_judged", "no participant health reported")
    s.apply(Event(1.0, "prometheus", "metrics", {"values": {"latency_p95_ms": 10.0}}))
    for ts in range(2, 200, 2):
        s.apply(Event(float(ts), "prometheus", "source_ok", {}))
    assert _states(s, 198.0, "latency_p95_high") == ("not_judged", "data stale (3m17s old)")


def test_an_invalid_newest_sample_is_not_judged_not_an_all_clear():
    """A NaN or missing newest value says nothing about the threshold: never "within"."""
    s = store_with()
    feed(s, "latency_p95_ms", [10.0, 12.0])
    assert _states(s, 1.0, "latency_p95_high") == ("ok", "")
    s.apply(Event(2.0, "prometheus", "metrics", {"values": {"latency_p95_ms": float("nan")}}))
    assert _states(s, 2.0, "latency_p95_high") == ("not_judged", "newest latency_p95_ms sample invalid or missing")
    feed(s, "latency_p95_ms", [11.0], start=3.0)
    assert _states(s, 3.0, "latency_p95_high") == ("ok", "")


def test_a_series_is_found_by_the_most_specific_name_first():
    """A named controller's pair series, then the pair's, then the migration's own, then the store-wide one:
    each found only while every more specific one is missing."""
    s = Store()
    s.apply(
        Event(
            0.0,
            "controller:east",
            "migration",
            {
                "id": "east:m1",
                "system": "2pc",
                "pair": "BTCUSDT",
                "status": "in_progress",
                "phase": "committing",
                "controller": "east",
            },
        )
    )

    def state(now):
        (item,) = [j for j in judge(s, now)["east:m1"] if j.rule == "latency_p95_high"]
        return item.state, item.reason

    names = ["east:BTCUSDT/latency_p95_ms", "BTCUSDT/latency_p95_ms", "east:m1/latency_p95_ms", "latency_p95_ms"]
    # Only the name being tested breaks the threshold, so the state says which series was read.
    for wanted in names:
        s.series.clear()
        for name in names[names.index(wanted) :]:
            feed(s, name, [80.0 if name == wanted else 10.0] * 3)
        assert state(2.0) == ("pending", ""), wanted
    s.series.clear()
    assert state(2.0) == ("not_judged", "no data for latency_p95_ms")


@pytest.mark.parametrize("seed", range(40))
def test_judging_without_asking_each_source_gives_what_asking_gives(seed, monkeypatch):
    """``_Sources.any_trouble`` lets a judgement skip the freshness of its sources when none is in
    trouble; the judgements must be those of the long way (every source asked), whatever the sources'
    states: fresh, failing, silent, or never heard from."""
    import random

    from migration_tui import rules

    rng = random.Random(seed)
    s = Store()
    for index, controller in enumerate([None, "east", "west"]):
        source = "controller" if controller is None else f"controller:{controller}"
        data = {
            "id": f"m{index}",
            "system": rng.choice(["2pc", "orderbook-rollout", "batch"]),
            "pair": "BTCUSDT",
            "status": "in_progress",
            "phase": "committing",
            "health_score": rng.choice([None, 10.0, 90.0]),
        }
        if controller:
            data.update(controller=controller, id=f"{controller}:m{index}")
        s.apply(Event(0.0, source, "migration", data))
        if rng.random() < 0.5:
            s.apply(Event(1.0, source, "breakers", {"breakers": [{"pair": "BTCUSDT", "open": rng.random() < 0.5}]}))
    for source in ("controller", "controller:east", "controller:west", "prometheus"):
        for ts in range(rng.randrange(0, 40)):
            s.apply(Event(float(ts), source, "metrics", {"values": {"latency_p95_ms": rng.choice([10.0, 80.0])}}))
        if rng.random() < 0.3:
            s.apply(Event(rng.uniform(0, 40), source, "source_error", {"error": "HTTP 500"}))
    now = rng.choice([5.0, 41.0, 100.0, 400.0])
    quick = judge(s, now)
    monkeypatch.setattr(rules._Sources, "any_trouble", property(lambda self: True))
    assert judge(s, now) == quick
