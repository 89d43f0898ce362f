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
    from migration_tui.actions import ActionClient, Decision, Outcome
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
                per_migration_series=True,  # six controllers, one store: keep each system's series apart
            )
        )
    sources.append(HostSource(poll_interval_s=settings.poll_interval_s))
    return sources, controllers


def demo_url(scenario: str) -> str:
    return f"http://simulator.{scenario}.invalid"


class DemoActions:
    """The demo's action client: each decision goes to the simulator that runs its migration.

    It offers what the confirmation dialog uses (``record``, ``send``, ``in_flight``) and
    hands each call to a real ``ActionClient`` over that simulator's in-process transport,
    so pausing in the demo goes through the same delivery code as ``watch``.
    """

    def __init__(self, routes: list[tuple[SimulatedController, ActionClient]]) -> None:
        self.routes = routes

    def client_for(self, migration_id: str) -> ActionClient:
        for controller, client in self.routes:
            if controller.sim.migration(migration_id) is not None:
                return client
        return self.routes[0][1]  # unknown id: that simulator answers 404, shown in the dialog

    def record(self, stage: str, decision: Decision, result: str = "") -> None:
        self.client_for(decision.migration_id).record(stage, decision, result)

    async def send(self, decision: Decision) -> Outcome:
        return await self.client_for(decision.migration_id).send(decision)

    def in_flight(self, decision: Decision) -> bool:
        return self.client_for(decision.migration_id).in_flight(decision)


def demo_actions(settings: Settings, controllers: list[SimulatedController], emit: Callable[[Event], None]) -> Any:
    """The demo's action client. Its audit log is ``settings.audit_log`` or ``demo-audit.jsonl``
    beside the real one, so practice never mixes with what was done to production."""
    from migration_tui.actions import ActionClient, AuditLog, default_audit_path
    from migration_tui.sim.transport import SimulatorTransport

    audit = AuditLog(settings.audit_log or default_audit_path().with_name("demo-audit.jsonl"))
    routes = [
        (
            controller,
            ActionClient(
                demo_url(controller.sim.spec.name),
                controller.profile,
                audit,
                emit,
                timeout_s=settings.timeout_s,
                transport=SimulatorTransport(controller),
            ),
        )
        for controller in controllers
    ]
    return DemoActions(routes)
