import math

import pytest

from migration_tui.model import (
    CircuitBreaker,
    HostResources,
    Migration,
    Participant,
    SourceHealth,
    finite,
    participants_from,
)


@pytest.mark.parametrize(
    "value, expected",
    [
        (1, 1.0),
        (2.5, 2.5),
        (float("nan"), None),
        (float("inf"), None),
        (-float("inf"), None),
        (True, None),
        ("42", None),
        (None, None),
        (10**400, None),
        (1e16, None),
    ],
)
def test_finite_accepts_only_real_bounded_numbers(value, expected):
    assert finite(value) == expected


def test_migration_marks_invalid_numbers_instead_of_guessing():
    m = Migration.from_dict({"id": "m1", "progress": float("nan"), "health_score": 140, "started_at": -5})
    assert m.progress is None and m.health_score is None and m.started_at is None
    assert set(m.invalid) == {"progress", "health_score", "started_at"}


def test_progress_over_100_is_invalid_not_clamped():
    m = Migration.from_dict({"id": "m1", "progress": 250.0})
    assert m.progress is None
    assert "progress" in m.invalid


def test_unknown_phase_and_status_are_kept_as_sent():
    m = Migration.from_dict({"id": "m1", "system": "2pc", "phase": "reticulating", "status": "weird"})
    assert m.phase == "reticulating" and m.status == "weird"
    assert not m.phase_is_known
    assert not m.is_terminal


def test_migration_tolerates_wrong_types_everywhere():
    m = Migration.from_dict({"id": ["x"], "system": 3, "progress": "50", "details": [1, 2], "config": "no"})
    assert m.id == "?"
    assert m.progress is None and "progress" in m.invalid
    assert dict(m.details) == {} and dict(m.config) == {}


def test_details_keep_scalars_and_mark_bad_numbers():
    m = Migration.from_dict({"id": "m", "details": {"split": 25, "mode": "dual_write", "bad": float("inf"), "x": {}}})
    assert m.details["split"] == 25.0 and m.details["mode"] == "dual_write"
    assert m.details["bad"] is None and "details.bad" in m.invalid
    assert "x" not in m.details


def test_long_strings_are_capped():
    m = Migration.from_dict({"id": "a" * 10_000})
    assert len(m.id) == 256


def test_participant_reads_is_healthy_and_heartbeat_age():
    p = Participant.from_dict({"id": "engine", "is_healthy": False, "last_heartbeat": 100.0, "vote": "yes"})
    assert p.healthy is False and p.vote == "yes"
    assert p.heartbeat_age_s(103.5) == 3.5
    assert p.to_dict(103.5)["heartbeat_age_s"] == 3.5


def test_participant_with_non_bool_health_is_unknown_and_invalid():
    p = Participant.from_dict({"id": "engine", "is_healthy": "yes"})
    assert p.healthy is None and "healthy" in p.invalid


def test_duplicate_participants_keep_the_last():
    ps = participants_from([{"id": "a", "vote": "no"}, "junk", {"id": "a", "vote": "yes"}, {"id": "b"}])
    assert [(p.id, p.vote) for p in ps] == [("a", "yes"), ("b", "pending")]


def test_breaker_from_open_flag_or_state():
    assert CircuitBreaker.from_dict({"pair": "BTCUSDT", "open": True}).open
    assert CircuitBreaker.from_dict({"name": "x", "state": "half_open"}).state == "half_open"
    assert CircuitBreaker.from_dict({"name": "x", "open": "maybe"}).state == "unknown"


def test_host_resources_out_of_range_is_invalid():
    h = HostResources.from_dict({"cpu_percent": 12.5, "memory_percent": 180.0, "disk_percent": math.nan})
    assert h.cpu_percent == 12.5 and h.memory_percent is None and h.disk_percent is None
    assert set(h.invalid) == {"memory_percent", "disk_percent"}


def test_source_health_ok_and_age():
    assert not SourceHealth("x").ok()
    fresh = SourceHealth("x", last_success=10.0, last_error_at=5.0, error="old")
    assert fresh.ok() and fresh.to_dict(12.0) == {"ok": True, "age_s": 2.0, "error": None, "not_served": []}
    failing = SourceHealth("x", last_success=10.0, last_error_at=11.0, error="boom")
    assert not failing.ok() and failing.to_dict(12.0)["error"] == "boom"


@pytest.mark.parametrize(
    ("cls", "values"),
    [
        (
            "Participant",
            {
                "id": "p1",
                "type": "engine",
                "vote": "yes",
                "healthy": False,
                "last_heartbeat": 12.5,
                "invalid": ("healthy",),
            },
        ),
        (
            "HostResources",
            {
                "cpu_percent": 12.5,
                "memory_percent": 40.0,
                "disk_percent": None,
                "net_sent_bps": 1e6,
                "net_recv_bps": 2e6,
                "load1": 0.7,
                "invalid": ("disk_percent",),
            },
        ),
    ],
)
def test_hot_domain_objects_are_frozen_structs(cls, values):
    """Participants and host samples are made for every heartbeat, listed change and host sample a
    replay folds: frozen msgspec Structs, whose positional fields are in this order, equal and
    hashed by value, and which refuse a change (as the frozen dataclasses they were did)."""
    import msgspec

    from migration_tui import model

    kind = getattr(model, cls)
    assert issubclass(kind, msgspec.Struct) and kind.__struct_fields__ == tuple(values)
    made, built = kind(*values.values()), kind(**values)
    assert made == built and hash(made) == hash(built) and made is not built
    assert [getattr(made, name) for name in values] == list(values.values())
    assert made != kind(*[None if name == "invalid" else value for name, value in values.items()][:-1])
    with pytest.raises(AttributeError):
        setattr(made, next(iter(values)), "changed")
    assert getattr(made, next(iter(values))) == next(iter(values.values()))
