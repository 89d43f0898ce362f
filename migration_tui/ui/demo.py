"""The demo's sources: the built-in simulator in-process, polled by the real controller source.

No server and no socket: each scenario's ``SimulatedController`` answers
through an httpx transport, so ``demo`` exercises the same live path
(controller source -> events -> store -> screens) as ``watch``. The host
source adds this machine's resources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migration_tui.config import Settings
    from migration_tui.sources.base import Source


def demo_sources(settings: Settings, scenario: str | None = None, speed: float = 1.0) -> list[Source]:
    """One controller source per scenario (all six when ``scenario`` is None) and the host source."""
    from migration_tui.sim.controller import SimulatedController
    from migration_tui.sim.scenarios import SCENARIOS
    from migration_tui.sim.transport import SimulatorTransport
    from migration_tui.sources.controller import ControllerSource
    from migration_tui.sources.host import HostSource

    names = [scenario] if scenario else list(SCENARIOS)
    sources: list[Source] = []
    for name in names:
        controller = SimulatedController(name, speed=speed)
        sources.append(
            ControllerSource(
                f"http://simulator.{name}.invalid",
                profile=SCENARIOS[name].profile,
                poll_interval_s=settings.poll_interval_s,
                timeout_s=settings.timeout_s,
                transport=SimulatorTransport(controller),
                per_migration_series=True,  # six controllers, one store: keep each system's series apart
            )
        )
    sources.append(HostSource(poll_interval_s=settings.poll_interval_s))
    return sources
