"""``/metrics`` for each profile, written with prometheus_client from the simulator's state.

A custom collector reads the state at scrape time, so nothing can go stale
and each simulator has its own private ``CollectorRegistry`` (tests run
many simulators in one process). Every profile gets
``migration_progress_percent{migration_id}``; each system adds its own
families in its ``serve.metrics`` (``ProfileEntry.metrics``): the
trading-service names are the ones docs/controller-profiles.md fixes, the
other systems' names are ours and listed there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from migration_tui.sim.simulator import Simulator


def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def metrics_of(profile: str) -> Callable[[Simulator], Iterable[Metric]]:
    """The families a profile's simulated controller adds, from the system that serves it (``systems`` registry)."""
    from migration_tui import systems

    entry = systems.profile_entries()[profile]
    return systems.load(entry.metrics) if entry.metrics else lambda sim: ()


class SimulatorCollector(Collector):
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def collect(self) -> Iterator[Metric]:
        sim = self.sim
        progress = gauge("migration_progress_percent", "Migration progress, 0..100", ("migration_id",))
        for m in sim.migrations:
            progress.add_metric([m.id], m.progress)
        yield progress
        yield from metrics_of(sim.profile)(sim)


def metrics_registry(sim: Simulator) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SimulatorCollector(sim))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
