"""How the simulator serves a controller API (docs/controller-profiles.md): route tables.

Each simulated API is a route table: (method, path pattern) -> a view that turns
the simulator's state into the JSON the real system would send, or the name
of an operator action. No IO here; ``controller.py`` does auth,
idempotency and encoding.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from migration_tui.sim.engine import SimMigration
from migration_tui.sim.simulator import Simulator

View = Callable[[Simulator, dict[str, str]], tuple[int, Any]]
ACTIONS = ("pause", "resume", "abort", "rollback")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    view: View | None = None
    #: For action routes: which action; the migration comes from ``{id}`` or is the profile's only one.
    action: str | None = None


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")


def not_found(what: str) -> tuple[int, Any]:
    return 404, {"error": f"{what} not found"}


def one(view: Callable[[Simulator, SimMigration], Any]) -> View:
    """A view of the profile's single migration (canary, batch and dual-write run one each)."""
    return lambda sim, params: (200, view(sim, sim.migrations[0]))


def by_id(view: Callable[[Simulator, SimMigration], Any]) -> View:
    def by_id(sim: Simulator, params: dict[str, str]) -> tuple[int, Any]:
        migration = sim.migration(params["id"])
        return (200, view(sim, migration)) if migration is not None else not_found(f"migration {params['id']}")

    return by_id


def static(body: dict[str, Any]) -> View:
    return lambda sim, params: (200, dict(body))


def routes(rows: list[tuple[str, str, View | str]]) -> tuple[Route, ...]:
    """Rows of (method, path with ``{id}``, view or action name) -> compiled routes."""
    table = []
    for method, path, target in rows:
        pattern = re.compile("^" + re.escape(path).replace(r"\{id\}", r"(?P<id>[^/]+)") + "$")
        if isinstance(target, str):
            table.append(Route(method, pattern, action=target))
        else:
            table.append(Route(method, pattern, view=target))
    return tuple(table)


def routes_of(profile: str) -> tuple[Route, ...]:
    """The route table of a profile, from the system that serves it (``systems`` registry)."""
    from migration_tui import systems

    entry = systems.profile_entries().get(profile)
    if entry is None or not entry.routes:
        raise KeyError(profile)
    return systems.load(entry.routes)


def find(profile: str, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """The route for a request, its path parameters, and whether the path exists under another method."""
    path_exists = False
    for route in routes_of(profile):
        match = route.pattern.match(path)
        if match is None:
            continue
        if route.method == method:
            return route, match.groupdict(), True
        path_exists = True
    return None, {}, path_exists
