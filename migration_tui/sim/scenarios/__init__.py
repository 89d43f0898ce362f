"""The simulator's scenarios by name, from the systems registry: which profile serves them, their seed, how to build them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from migration_tui import systems
from migration_tui.sim.engine import SimMigration


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    profile: str
    #: The seed system (../shared/seeds/NNN_*.txt) it acts out; also the default random seed.
    seed: int
    build: Callable[[], list[SimMigration]]
    summary: str


class _Scenarios(Mapping[str, ScenarioSpec]):
    """Every registered system's scenarios, looked up in the registry each time (it may grow)."""

    def __getitem__(self, name: str) -> ScenarioSpec:
        s = systems.scenarios()[name]
        return ScenarioSpec(s.name, s.profile, s.seed, systems.load(s.build), s.summary)

    def __iter__(self) -> Iterator[str]:
        return iter(systems.scenarios())

    def __len__(self) -> int:
        return len(systems.scenarios())


SCENARIOS: Mapping[str, ScenarioSpec] = _Scenarios()
