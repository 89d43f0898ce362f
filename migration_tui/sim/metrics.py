"""``/metrics`` for each profile, written with prometheus_client from the simulator's state.

Each system's own families are its ``serve.metrics`` (``ProfileEntry.metrics``).

A custom collector reads the state at scrape time, so nothing can go stale
and each simulator has its own private ``CollectorRegistry`` (tests run
many simulators in one process). The trading-service names are the ones
docs/controller-profiles.md fixes; the other profiles' names are ours:

canary      ``canary_phase``, ``canary_traffic_new_percent``, ``canary_error_rate{system}``,
            ``canary_latency_p99_seconds{system}``, ``canary_requests_per_second``
batch       ``batch_documents_migrated``, ``batch_documents_total``, ``batch_docs_per_second``,
            ``batch_failure_rate``, ``batch_retries_total``, ``batch_response_time_seconds``,
            ``batch_memory_bytes``, ``batch_issues{severity}``
dual-write  ``dual_write_s3_write_success_ratio``, ``dual_write_event_latency_seconds{quantile}``,
            ``dual_write_outbox_pending``, ``dual_write_events_written_total``,
            ``dual_write_events_per_second``, ``dual_write_mode{mode}``
all         ``migration_progress_percent{migration_id}``
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
