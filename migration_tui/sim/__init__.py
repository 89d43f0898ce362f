"""The built-in simulator of the five seed systems (used by ``demo``, ``simulate`` and tests).

* ``Simulator`` (simulator.py): a scenario's migrations, stepped on an injectable clock;
* ``SimulatedController`` (controller.py): the controller API as one pure ``handle()``;
* ``start_in_thread`` / ``serve`` (server.py): that API over real HTTP;
* ``SimulatorTransport`` (transport.py): that API in-process for httpx;
* ``RedisPublisher`` (redis_publisher.py): heartbeats and events to Redis.
"""

from __future__ import annotations

from migration_tui.sim.clock import ScaledClock, VirtualClock, WallClock
from migration_tui.sim.scenarios import SCENARIOS
from migration_tui.sim.simulator import Simulator

__all__ = ["SCENARIOS", "ScaledClock", "Simulator", "VirtualClock", "WallClock"]
