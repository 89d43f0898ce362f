"""The migration systems the dashboard knows, one module each, behind one registry.

A line of ``MODULES`` per system: the module's ``SYSTEM`` (``systems.base.System``)
says everything specific to it. Nothing outside ``systems/`` names a system;
it asks here (``get``, ``all_systems``, ``profile_entries``, ``scenarios``,
``default_rules_text``, ``promql_tables``). ``register`` adds a system at run
time (a plug-in, or a test's toy system). docs/adding-a-system.md says how to
write one.
"""

from __future__ import annotations

import importlib
import threading

from migration_tui.systems.base import Figure, MetricSpec, ProfileEntry, Scenario, SourceKind, System, SystemUI, load

#: One line per built-in system, in the order they are listed, detected and shown.
MODULES: tuple[str, ...] = (
    "migration_tui.systems.twopc",
    "migration_tui.systems.orderbook_rollout",
    "migration_tui.systems.canary",
    "migration_tui.systems.batch",
    "migration_tui.systems.dual_write",
    "migration_tui.systems.pg_logical",
)

_registry: dict[str, System] = {}
#: Bumped by every ``register``/``unregister``, so what is derived from the registry can be cached.
_generation = 0


_ready = False
_filling: int | None = None  # the thread filling the registry now
_lock = threading.Lock()


def _systems() -> dict[str, System]:
    """The registry, filled on first use. Another thread waits until it is whole: a replay's index
    worker and the screen both ask at start, and rules cached from a half-filled registry would
    leave a system without its rules. (A call from the filling thread itself, during a system's
    import, gets what is there so far.)"""
    global _ready, _filling
    if _ready or _filling == threading.get_ident():
        return _registry
    with _lock:
        if not _ready:
            _filling = threading.get_ident()
            try:
                for module in MODULES:
                    system: System = importlib.import_module(module).SYSTEM
                    _registry.setdefault(system.name, system)
                _ready = True
            finally:
                _filling = None
    return _registry


def register(system: System) -> None:
    """Add (or replace) a system; it is listed after the built-in ones."""
    global _generation
    _systems()[system.name] = system
    _generation += 1


def unregister(name: str) -> None:
    global _generation
    _systems().pop(name, None)
    _generation += 1


def generation() -> int:
    """A number that changes whenever a system is registered or unregistered."""
    return _generation


def all_systems() -> tuple[System, ...]:
    return tuple(_systems().values())


def get(name: str) -> System | None:
    return _systems().get(name)


def default() -> System:
    """The system a migration belongs to when its data does not say (the first registered)."""
    return next(iter(_systems().values()))


#: A view a profile file (docs/profiles.md) may name that is no system of its own: ``generic`` shows a
#: migration on the first registered system's view (its timeline and panes; what the controller does
#: not report, such as votes, shows "—").
GENERIC = "generic"


def view_names() -> tuple[str, ...]:
    """What a profile file's ``system`` may name: every registered system, and ``generic``."""
    return (*_systems(), GENERIC)


def view(name: str) -> str | None:
    """The system whose view shows migrations a profile file files under ``name``; None if there is none."""
    if name in _systems():
        return name
    return default().name if name == GENERIC else None


def profile_entries() -> dict[str, ProfileEntry]:
    """Every controller profile by its ``--profile`` name, in registry order."""
    return {entry.name: entry for system in all_systems() for entry in system.profiles}


def scenarios() -> dict[str, Scenario]:
    """Every simulator scenario by name, in registry order."""
    return {scenario.name: scenario for system in all_systems() for scenario in system.scenarios}


def default_rules_text() -> str:
    """The built-in rules: each system's ``rules.toml``, one after the other."""
    return "\n".join(text for system in all_systems() if (text := system.data("rules.toml")))


def promql_text() -> str:
    """Each system's ``promql.toml`` (tables named after its profiles), one after the other."""
    return "\n".join(text for system in all_systems() if (text := system.data("promql.toml")))


def source_kinds() -> dict[str, SourceKind]:
    """The ``[[controllers]] kind``s systems read with sources of their own, by kind, in registry order."""
    kinds = (system.source_kind() for system in all_systems())
    return {kind.kind: kind for kind in kinds if kind is not None}


def ui(name: str) -> SystemUI:
    """The dashboard and wall pieces of a system; empty ones for a system nobody registered."""
    system = get(name)
    return system.ui_pieces() if system is not None else SystemUI()


__all__ = [
    "GENERIC",
    "MODULES",
    "Figure",
    "MetricSpec",
    "ProfileEntry",
    "Scenario",
    "SourceKind",
    "System",
    "SystemUI",
    "all_systems",
    "default",
    "default_rules_text",
    "generation",
    "get",
    "load",
    "profile_entries",
    "promql_text",
    "register",
    "scenarios",
    "source_kinds",
    "ui",
    "unregister",
    "view",
    "view_names",
]
