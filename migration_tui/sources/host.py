"""The host source: this machine's CPU, memory, disk, network and load, every poll interval.

The dashboard often runs on the bastion or the box being migrated, and an
operator who sees the controller slow down wants to know at once whether it
is their own machine that is struggling. Every reading here is a cheap,
non-blocking syscall (``cpu_percent(interval=None)`` compares with the
previous call instead of sleeping), so it runs on the event loop directly.
Rates (CPU, network) need two readings: the first event leaves them out.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from migration_tui.events import Event
from migration_tui.sources.base import Clock, Emit, wall_clock


class HostSource:
    """Samples psutil once per interval and emits a ``host`` event with ``scope: "host"``."""

    name = "host"
    warnings: tuple[str, ...] = ()

    def __init__(self, poll_interval_s: float = 2.0, disk_path: str = "/", clock: Clock = wall_clock) -> None:
        import psutil

        self._psutil = psutil
        self.poll_interval_s = poll_interval_s
        self.disk_path = disk_path
        self.clock = clock
        self._last_net: tuple[float, int, int] | None = None
        self._cpu_primed = False

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> HostSource:
        return cls(poll_interval_s=settings.poll_interval_s, **kwargs)

    def sample(self) -> dict[str, Any]:
        """One reading; CPU % and network bytes/s are None until a previous reading exists."""
        psutil = self._psutil
        data: dict[str, Any] = {"scope": "host"}
        cpu = psutil.cpu_percent(interval=None)
        data["cpu_percent"] = cpu if self._cpu_primed else None
        self._cpu_primed = True
        data["memory_percent"] = psutil.virtual_memory().percent
        try:
            data["disk_percent"] = psutil.disk_usage(self.disk_path).percent
        except OSError:
            data["disk_percent"] = None
        try:
            data["load1"] = psutil.getloadavg()[0]
        except (OSError, AttributeError):
            data["load1"] = None
        data["net_sent_bps"] = data["net_recv_bps"] = None
        counters = psutil.net_io_counters()
        if counters is not None:
            now = time.monotonic()
            if self._last_net is not None and now > self._last_net[0]:
                elapsed = now - self._last_net[0]
                # Counters can wrap or reset (an interface going away): never report a negative rate.
                data["net_sent_bps"] = max(0.0, (counters.bytes_sent - self._last_net[1]) / elapsed)
                data["net_recv_bps"] = max(0.0, (counters.bytes_recv - self._last_net[2]) / elapsed)
            self._last_net = (now, counters.bytes_sent, counters.bytes_recv)
        return data

    async def run(self, emit: Emit) -> None:
        """Emit a reading every poll interval until cancelled."""
        while True:
            started = self.clock()
            try:
                emit(Event(started, self.name, "host", self.sample()))
            except (OSError, self._psutil.Error) as exc:
                emit(Event(started, self.name, "source_error", {"error": f"host: {type(exc).__name__}: {exc}"[:160]}))
            await asyncio.sleep(max(0.0, self.poll_interval_s - (self.clock() - started)))
