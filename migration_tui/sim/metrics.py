"""``/metrics`` for each profile, written with prometheus_client from the simulator's state.

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

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from migration_tui.sim.simulator import Simulator


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


class SimulatorCollector(Collector):
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def collect(self) -> Iterator[Metric]:
        sim = self.sim
        progress = _gauge("migration_progress_percent", "Migration progress, 0..100", ("migration_id",))
        for m in sim.migrations:
            progress.add_metric([m.id], m.progress)
        yield progress
        yield from getattr(self, "_" + sim.profile.replace("-", "_"))()

    def _trading_service(self) -> Iterator[Metric]:
        sim = self.sim
        per_pair = {
            "migration_latency_p50_seconds": ("latency_p50_ms", 0.001),
            "migration_latency_p95_seconds": ("latency_p95_ms", 0.001),
            "migration_latency_p99_seconds": ("latency_p99_ms", 0.001),
            "migration_error_rate": ("error_rate_pct", 0.01),
            "migration_throughput_ops": ("throughput_ops", 1.0),
        }
        for name, (key, scale) in per_pair.items():
            family = _gauge(name, f"{key} of the pair's migration", ("pair",))
            for m in sim.migrations:
                family.add_metric([m.pair], m.values.get(key, 0.0) * scale)
            yield family
        memory = _gauge("migration_memory_ratio", "Memory used, 0..1 (the highest of the migrations)")
        memory.add_metric([], max(m.values.get("memory_pct", 0.0) for m in sim.migrations) / 100.0)
        yield memory
        healthy = _gauge(
            "migration_participant_healthy", "1 if the participant heartbeats", ("migration_id", "participant")
        )
        for m in sim.migrations:
            for p in m.participants.values():
                healthy.add_metric([m.id, p.id], 1.0 if p.is_healthy(sim.s) else 0.0)
        yield healthy
        is_open = _gauge("circuit_breaker_open", "1 while the pair's breaker is open", ("pair",))
        opens = CounterMetricFamily("circuit_breaker_opens", "Times the pair's breaker opened", labels=["pair"])
        for m in sim.migrations:
            breaker = m.breakers.get(m.pair)
            is_open.add_metric([m.pair], 1.0 if breaker is not None and breaker.state == "open" else 0.0)
            opens.add_metric([m.pair], float(len(breaker.opened_at_s)) if breaker is not None else 0.0)
        yield is_open
        yield opens

    def _canary(self) -> Iterator[Metric]:
        m = self.sim.migrations[0]
        phase = _gauge("canary_phase", "Canary phase 1..5")
        phase.add_metric([], float(m.phase_number or 0))
        traffic = _gauge("canary_traffic_new_percent", "Share of traffic on the new system")
        traffic.add_metric([], m.traffic_new_pct)
        error = _gauge("canary_error_rate", "Error rate, 0..1", ("system",))
        p99 = _gauge("canary_latency_p99_seconds", "p99 latency", ("system",))
        for side in ("legacy", "new"):
            error.add_metric([side], m.values.get(f"{side}_error_rate_pct", 0.0) / 100.0)
            p99.add_metric([side], m.values.get(f"{side}_p99_ms", 0.0) / 1000.0)
        requests = _gauge("canary_requests_per_second", "Requests per second, both systems")
        requests.add_metric([], m.values.get("requests_per_s", 0.0))
        yield from (phase, traffic, error, p99, requests)

    def _batch(self) -> Iterator[Metric]:
        m = self.sim.migrations[0]
        simple = {
            "batch_documents_migrated": m.documents_done,
            "batch_documents_total": float(m.documents_total),
            "batch_docs_per_second": m.values.get("docs_per_s", 0.0),
            "batch_failure_rate": m.values.get("failure_rate_pct", 0.0) / 100.0,
            "batch_response_time_seconds": m.values.get("response_time_ms", 0.0) / 1000.0,
            "batch_memory_bytes": m.values.get("memory_mb", 0.0) * 1024 * 1024,
        }
        for name, value in simple.items():
            family = _gauge(name, name.replace("_", " "))
            family.add_metric([], value)
            yield family
        retries = CounterMetricFamily("batch_retries", "Batches retried after a failure")
        retries.add_metric([], float(m.retries))
        yield retries
        issues = _gauge("batch_issues", "Open issues by severity", ("severity",))
        for severity in ("warnings", "errors", "critical"):
            issues.add_metric([severity], float(m.counts.get(severity, 0)))
        yield issues

    def _dual_write(self) -> Iterator[Metric]:
        m = self.sim.migrations[0]
        success = _gauge("dual_write_s3_write_success_ratio", "Object store write success, 0..1")
        success.add_metric([], m.values.get("write_success_pct", 0.0) / 100.0)
        latency = _gauge("dual_write_event_latency_seconds", "Event write latency", ("quantile",))
        for quantile, key in (("0.5", "latency_p50_ms"), ("0.95", "latency_p95_ms"), ("0.99", "latency_p99_ms")):
            latency.add_metric([quantile], m.values.get(key, 0.0) / 1000.0)
        outbox = _gauge("dual_write_outbox_pending", "Outbox rows not yet delivered")
        outbox.add_metric([], m.values.get("outbox_pending", 0.0))
        written = CounterMetricFamily("dual_write_events_written", "Events written")
        written.add_metric([], float(int(m.events_written)))
        rate = _gauge("dual_write_events_per_second", "Events written per second")
        rate.add_metric([], m.values.get("events_per_s", 0.0))
        mode = _gauge("dual_write_mode", "1 for the mode in force", ("mode",))
        for name in ("legacy", "dual_write", "new_read_path", "new_only"):
            mode.add_metric([name], 1.0 if m.mode == name else 0.0)
        yield from (success, latency, outbox, written, rate, mode)


def metrics_registry(sim: Simulator) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SimulatorCollector(sim))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
