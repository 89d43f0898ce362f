"""Clocks for the simulator: virtual time for tests, real (optionally scaled) time for demos.

The simulator never calls ``time.time()`` itself; it asks a clock, so a test
can step a whole scenario in microseconds and a demo can run it ten times
faster than life. A clock is anything with ``now() -> float`` (epoch seconds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

#: Where virtual clocks start by default: a fixed epoch, so runs are reproducible.
VIRTUAL_EPOCH = 1_700_000_000.0


class Clock(Protocol):
    def now(self) -> float: ...


class WallClock:
    """Real time."""

    def now(self) -> float:
        return time.time()


class ScaledClock:
    """Real time running ``speed`` times faster, starting from the wall time at creation.

    Give the same instance to the simulator and to the app's store so that
    "p95 above 50 ms for 3 minutes" means 3 simulated minutes on both sides.
    """

    def __init__(self, speed: float = 1.0, base: Callable[[], float] = time.time) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._base = base
        self._origin = base()

    def now(self) -> float:
        return self._origin + (self._base() - self._origin) * self.speed


class VirtualClock:
    """Time that moves only when told to; thread-safe so a test can step it while a server reads it."""

    def __init__(self, start: float = VIRTUAL_EPOCH) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backward); returns the new time."""
        if seconds < 0:
            raise ValueError("a clock does not go backward")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float) -> None:
        with self._lock:
            if when < self._now:
                raise ValueError("a clock does not go backward")
            self._now = when
