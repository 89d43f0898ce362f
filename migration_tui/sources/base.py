"""The Source protocol every live source follows, and the shared reconnect backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, Protocol

from migration_tui.events import Event

Emit = Callable[[Event], None]
Clock = Callable[[], float]


#: Shown in the status bar while ``--insecure`` is in force for an https source.
INSECURE_WARNING = "TLS NOT VERIFIED (--insecure)"


class Source(Protocol):
    """A live source: ``run`` polls or subscribes until cancelled, emitting events.

    ``run`` must not raise for anything the outside world does (refused
    connections, timeouts, garbage): it emits ``source_error`` and retries
    with ``Backoff``. Cancelling the task is the only way it ends.
    """

    name: str
    #: Standing warnings for the status bar, e.g. that TLS verification is off.
    warnings: tuple[str, ...]

    async def run(self, emit: Emit) -> None: ...


class Backoff:
    """Capped exponential backoff with full jitter (AWS architecture blog style)."""

    def __init__(self, base_s: float = 0.5, cap_s: float = 30.0, rng: random.Random | None = None) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """Delay before the next try after one more failure."""
        self.failures += 1
        ceiling = min(self.cap_s, self.base_s * (2 ** min(self.failures - 1, 30)))
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


def wall_clock() -> float:
    return time.time()


def scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    """The value with every secret removed from every string in it (a server may echo a token back)."""
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, "[redacted]")
        return value
    if isinstance(value, dict):
        return {scrub(k, secrets): scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    return value
