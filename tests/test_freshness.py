"""freshness: fresh, STALE after three silent polls, ERROR when the last attempt failed."""

from __future__ import annotations

import math

import pytest

from migration_tui.freshness import Freshness, FreshnessState, format_age, freshness
from migration_tui.model import SourceHealth


def test_no_health_is_waiting() -> None:
    assert freshness(None, 2.0, 100.0) == Freshness(FreshnessState.WAITING, "waiting", None)
    assert freshness(SourceHealth("redis"), 2.0, 100.0).state is FreshnessState.WAITING


def test_recent_success_is_fresh() -> None:
    status = freshness(SourceHealth("controller", last_success=95.0), 2.0, 100.0)
    assert status.state is FreshnessState.FRESH
    assert status.label == "fresh"
    assert status.age_s == pytest.approx(5.0)
    assert not status.is_stale


def test_stale_after_three_poll_intervals() -> None:
    health = SourceHealth("controller", last_success=88.0)
    assert freshness(health, 4.0, 100.0).state is FreshnessState.FRESH  # 12 s == 3 x 4 s: not yet
    status = freshness(health, 2.0, 100.0)  # 12 s > 3 x 2 s
    assert status.state is FreshnessState.STALE
    assert status.label == "STALE 12s"
    assert status.is_stale


def test_error_wins_over_stale_and_names_the_message() -> None:
    health = SourceHealth("prometheus", last_success=10.0, last_error_at=99.0, error="connection refused")
    status = freshness(health, 2.0, 100.0)
    assert status.state is FreshnessState.ERROR
    assert status.label == "ERROR: connection refused"
    assert status.age_s == 90.0


def test_error_that_never_succeeded() -> None:
    status = freshness(SourceHealth("redis", last_error_at=5.0, error="timed out"), 2.0, 6.0)
    assert (status.state, status.label, status.age_s) == (FreshnessState.ERROR, "ERROR: timed out", None)


def test_recovered_source_is_fresh_again() -> None:
    health = SourceHealth("redis", last_success=100.0, last_error_at=99.0, error="connection lost")
    assert freshness(health, 2.0, 100.5).state is FreshnessState.FRESH


def test_error_message_is_one_short_line() -> None:
    health = SourceHealth("redis", last_error_at=1.0, error="bad\x1b[31m\nthing " + "x" * 500)
    label = freshness(health, 2.0, 2.0).label
    assert "\x1b" not in label and "\n" not in label
    assert label.startswith("ERROR: bad")
    assert len(label) <= len("ERROR: ") + 80


def test_empty_error_message_still_says_error() -> None:
    assert freshness(SourceHealth("redis", last_error_at=1.0, error=""), 2.0, 2.0).label == "ERROR: unknown error"


@pytest.mark.parametrize("interval", [0.0, -1.0, math.nan, math.inf])
def test_unusable_poll_interval_falls_back_to_one_second(interval: float) -> None:
    health = SourceHealth("host", last_success=0.0)
    assert freshness(health, interval, 2.0).state is FreshnessState.FRESH
    assert freshness(health, interval, 4.0).state is FreshnessState.STALE


@pytest.mark.parametrize(("age", "text"), [(0.4, "0s"), (12.9, "12s"), (119, "119s"), (300, "5m"), (7300, "2h")])
def test_format_age(age: float, text: str) -> None:
    assert format_age(age) == text
