"""The demo's sources: the built-in simulator in-process, polled by the real controller source.

No server and no socket: each scenario's ``SimulatedController`` answers
through an httpx transport, so ``demo`` exercises the same live path
(controller source -> events -> store -> screens) as ``watch``. The host
source adds this machine's resources.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migration_tui.config import Settings
    from migration_tui.events import Event
    from migration_tui.sim.controller import SimulatedController
    from migration_tui.sources.base import Source


def demo_sources(settings: Settings, scenario: str | None = None, speed: float = 1.0) -> list[Source]:
    """One controller source per scenario (all six when ``scenario`` is None) and the host source."""
    return demo_setup(settings, scenario, speed)[0]


def demo_setup(
    settings: Settings, scenario: str | None = None, speed: float = 1.0
) -> tuple[list[Source], list[SimulatedController]]:
    """The demo's sources and the simulated controllers behind them (for the action client)."""
    from migration_tui.sim.controller import SimulatedController
    from migration_tui.sim.scenarios import SCENARIOS
    from migration_tui.sim.transport import SimulatorTransport
    from migration_tui.sources.controller import ControllerSource
    from migration_tui.sources.host import HostSource

    names = [scenario] if scenario else list(SCENARIOS)
    sources: list[Source] = []
    controllers: list[SimulatedController] = []
    for name in names:
        controller = SimulatedController(name, speed=speed)
        controllers.append(controller)
        sources.append(
            ControllerSource(
                demo_url(name),
                profile=SCENARIOS[name].profile,
                poll_interval_s=settings.poll_interval_s,
                timeout_s=settings.timeout_s,
                transport=SimulatorTransport(controller),
                # An estate: each scenario is a controller of its own, named after it, as
                # `watch --controller NAME=URL ...` names several (one scenario: just the one).
                controller_name=demo_controller_name(controller) if len(names) > 1 else None,
                per_migration_series=True,
            )
        )
    sources.append(HostSource(poll_interval_s=settings.poll_interval_s))
    return sources, controllers


def demo_url(scenario: str) -> str:
    return f"http://simulator.{scenario}.invalid"


def demo_controller_name(controller: SimulatedController) -> str:
    return controller.sim.spec.name


def demo_actions(settings: Settings, controllers: list[SimulatedController], emit: Callable[[Event], None]) -> Any:
    """The demo's action client: each decision goes to the simulator that runs its migration, through
    a real ``ActionClient`` over that simulator's in-process transport (the same delivery code as
    ``watch``). Its audit log is ``settings.audit_log`` or ``demo-audit.jsonl`` beside the real one,
    so practice never mixes with what was done to production."""
    from migration_tui.actions import ActionClient, ActionRouter, AuditLog, default_audit_path
    from migration_tui.sim.transport import SimulatorTransport

    audit = AuditLog(settings.audit_log or default_audit_path().with_name("demo-audit.jsonl"))
    clients = [
        ActionClient(
            demo_url(controller.sim.spec.name),
            controller.profile,
            audit,
            emit,
            timeout_s=settings.timeout_s,
            transport=SimulatorTransport(controller),
            controller=demo_controller_name(controller) if len(controllers) > 1 else None,
        )
        for controller in controllers
    ]
    return clients[0] if len(clients) == 1 else ActionRouter(clients)
