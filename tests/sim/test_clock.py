"""Clocks and speed: scenario time runs ``speed`` times faster, timestamps stay on the clock."""

from __future__ import annotations

import pytest

from migration_tui.sim.clock import ScaledClock, VirtualClock
from migration_tui.sim.simulator import Simulator, UnknownScenario


def test_virtual_clock_moves_only_forward() -> None:
    clock = VirtualClock(100.0)
    assert clock.advance(5) == 105.0
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(104.0)


def test_scaled_clock_runs_faster_than_its_base() -> None:
    base = VirtualClock(1000.0)
    scaled = ScaledClock(10.0, base=base.now)
    assert scaled.now() == 1000.0
    base.advance(3)
    assert scaled.now() == 1030.0
    with pytest.raises(ValueError):
        ScaledClock(0)


def test_speed_runs_the_scenario_faster_but_stamps_stay_on_the_clock() -> None:
    clock = VirtualClock()
    sim = Simulator("2pc-commit", clock=clock, speed=10.0)
    clock.advance(10)
    assert sim.advance() == 100.0
    assert sim.migrations[0].phase == "committing"
    heartbeats = [payload["at"] for kind, payload in sim.outbox if kind == "heartbeat"]
    assert len(heartbeats) > 200  # 100 scenario seconds of four participants
    assert max(heartbeats) <= clock.now() and min(heartbeats) >= sim.started_at


def test_unknown_scenario_names_the_choices() -> None:
    with pytest.raises(UnknownScenario, match="2pc-commit"):
        Simulator("nope", clock=VirtualClock())
