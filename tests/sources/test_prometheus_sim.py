"""A real prometheus scrapes the simulator's /metrics; PrometheusSource reads it back in the series' units."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from migration_tui.config import Settings
from migration_tui.events import Event
from migration_tui.sources.prometheus import PrometheusSource
from tests.servers import PrometheusServer

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def frozen_simulator() -> Iterator[object]:
    """The 2pc scenario on a virtual clock: its figures hold still while prometheus scrapes them."""
    from migration_tui.sim.clock import VirtualClock
    from migration_tui.sim.server import start_in_thread

    clock = VirtualClock()
    running = start_in_thread("2pc-commit", clock=clock)
    clock.advance(30)
    try:
        yield running
    finally:
        running.stop()


def served(url: str) -> dict[str, list[float]]:
    """The simulator's /metrics, read directly: metric name -> sample values."""
    out: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=5).text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample.value)
    return out


async def test_prometheus_scraping_the_simulator(frozen_simulator, prometheus_server) -> None:
    target = frozen_simulator.url.removeprefix("http://")
    server: PrometheusServer = prometheus_server([target], scrape_interval="500ms")
    server.wait_for_samples("migration_latency_p95_seconds", 2)
    truth = served(frozen_simulator.url)

    events: list[Event] = []
    source = PrometheusSource.from_settings(Settings(prometheus=server.url, profile="trading-service", timeout_s=2))
    await source.poll(events.append, source.clock())

    assert [e for e in events if e.kind == "source_error"] == []
    values = next(e for e in events if e.kind == "metrics").data["values"]
    for series, metric, scale in (
        ("latency_p50_ms", "migration_latency_p50_seconds", 1000),
        ("latency_p95_ms", "migration_latency_p95_seconds", 1000),
        ("latency_p99_ms", "migration_latency_p99_seconds", 1000),
        ("error_rate_pct", "migration_error_rate", 100),
        ("memory_pct", "migration_memory_ratio", 100),
    ):
        assert values[series] == pytest.approx(max(truth[metric]) * scale), series
    assert values["throughput_ops"] == pytest.approx(sum(truth["migration_throughput_ops"]))
    assert 0 < values["latency_p95_ms"] < 1000
