"""PrometheusSource against a real prometheus scraping a real /metrics endpoint."""

from __future__ import annotations

import asyncio
import math
import re

import httpx
import pytest

from migration_tui.config import Settings
from migration_tui.events import Event
from migration_tui.freshness import FreshnessState, freshness
from migration_tui.sources.prometheus import PrometheusSource, QueryTemplate, Unreachable, load_templates
from migration_tui.store import Store
from tests.servers import Exporter, PrometheusServer, async_wait_for, free_port

pytestmark = pytest.mark.servers

LATENCY_P95_S = {"BTCUSDT": 0.042, "ETHUSDT": 0.030}


@pytest.fixture(scope="module")
def scraped(exporter: Exporter, prometheus_server) -> PrometheusServer:
    """The exporter set to known values, and a prometheus that has scraped it a few times."""
    latency = {
        q: exporter.gauge(f"migration_latency_{q}_seconds", f"latency {q}", ["pair"]) for q in ("p50", "p95", "p99")
    }
    for pair, seconds in LATENCY_P95_S.items():
        latency["p95"].labels(pair=pair).set(seconds)
        latency["p50"].labels(pair=pair).set(seconds / 4)
        latency["p99"].labels(pair=pair).set(math.nan)
    exporter.gauge("migration_error_rate", "errors", ["pair"]).labels(pair="BTCUSDT").set(0.005)
    throughput = exporter.gauge("migration_throughput_ops", "ops", ["pair"])
    throughput.labels(pair="BTCUSDT").set(1200)
    throughput.labels(pair="ETHUSDT").set(800)
    exporter.gauge("migration_memory_ratio", "memory").set(0.5)
    exporter.gauge("node_memory_MemAvailable_bytes", "available").set(2 * 1024**3)
    exporter.gauge("node_memory_MemTotal_bytes", "total").set(8 * 1024**3)
    server = prometheus_server([exporter.target], scrape_interval="500ms")
    server.wait_for_samples("migration_memory_ratio", 2)
    return server


def source_for(server: PrometheusServer, profile: str = "trading-service", **kwargs) -> PrometheusSource:
    settings = Settings(prometheus=server.url, poll_interval_s=1.0, timeout_s=2.0)
    return PrometheusSource.from_settings(settings, profile=profile, **kwargs)


def kinds(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e.kind == kind]


async def test_instant_poll_fills_every_series_in_its_unit(scraped: PrometheusServer) -> None:
    events: list[Event] = []
    source = source_for(scraped)
    await source.poll(events.append, source.clock())

    assert kinds(events, "source_error") == []
    (metrics,) = kinds(events, "metrics")
    values = metrics.data["values"]
    assert values["latency_p95_ms"] == pytest.approx(42.0)  # max over pairs, seconds -> ms
    assert values["latency_p50_ms"] == pytest.approx(10.5)
    assert values["latency_p99_ms"] is None  # NaN samples are gaps, never numbers
    assert values["error_rate_pct"] == pytest.approx(0.5)  # ratio -> percent
    assert values["throughput_ops"] == pytest.approx(2000.0)
    assert values["memory_pct"] == pytest.approx(50.0)
    (fleet,) = kinds(events, "host")
    assert fleet.data["scope"] == "fleet"
    assert fleet.data["memory_percent"] == pytest.approx(75.0)
    assert fleet.data["cpu_percent"] is None  # no node_cpu_seconds_total scraped: an empty result


async def test_per_pair_series_for_the_rollout_profile(scraped: PrometheusServer) -> None:
    events: list[Event] = []
    source = source_for(scraped, profile="orderbook-rollout")
    await source.poll(events.append, source.clock())
    values = kinds(events, "metrics")[0].data["values"]
    assert values["BTCUSDT/latency_p95_ms"] == pytest.approx(42.0)
    assert values["ETHUSDT/latency_p95_ms"] == pytest.approx(30.0)
    assert values["ETHUSDT/throughput_ops"] == pytest.approx(800.0)
    assert "latency_p95_ms" not in values


async def test_backfill_emits_one_event_per_timestamp_in_order(scraped: PrometheusServer) -> None:
    scraped.wait_for_samples("migration_memory_ratio", 6)
    events: list[Event] = []
    source = source_for(scraped)
    now = source.clock()
    await source.backfill(events.append, now - 60, now)

    metrics = kinds(events, "metrics")
    assert len(metrics) >= 3
    stamps = [e.ts for e in metrics]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert all(now - 61 <= ts <= now + 1 for ts in stamps)  # the client rounds to whole seconds
    assert all(stamps[i + 1] - stamps[i] == pytest.approx(1.0) for i in range(len(stamps) - 1))  # the 1 s step
    latest = metrics[-1].data["values"]
    assert latest["latency_p95_ms"] == pytest.approx(42.0)
    assert latest["memory_pct"] == pytest.approx(50.0)
    assert latest["latency_p99_ms"] is None
    assert not any(k.startswith("fleet/") for e in metrics for k in e.data["values"])

    store = Store()
    for event in events:
        store.apply(event)
    assert store.rejected_events == 0
    assert len(store.series["latency_p95_ms"]) == len(metrics)  # the sparkline is full at once
    assert store.series["latency_p95_ms"].latest() == pytest.approx(42.0)


async def test_empty_result_is_a_gap_and_a_syntax_error_names_its_series(scraped: PrometheusServer) -> None:
    templates = {
        "memory_pct": QueryTemplate("memory_pct", "max(migration_memory_ratio)", "ratio"),
        "missing_ms": QueryTemplate("missing_ms", "max(no_such_metric_seconds)", "seconds"),
        "broken_ms": QueryTemplate("broken_ms", "max(migration_latency_p95_seconds", "seconds"),
    }
    source = PrometheusSource(scraped.url, templates, poll_interval_s=1.0, timeout_s=2.0)
    events: list[Event] = []
    await source.poll(events.append, source.clock())

    (error,) = kinds(events, "source_error")
    assert "broken_ms" in error.data["error"]
    assert "HTTP 400" in error.data["error"] and "parse error" in error.data["error"]
    values = kinds(events, "metrics")[0].data["values"]
    assert values == {"memory_pct": pytest.approx(50.0), "missing_ms": None, "broken_ms": None}


async def test_unaggregated_query_is_reported_not_guessed(scraped: PrometheusServer) -> None:
    templates = {"latency_p95_ms": QueryTemplate("latency_p95_ms", "migration_latency_p95_seconds", "seconds")}
    source = PrometheusSource(scraped.url, templates)
    events: list[Event] = []
    await source.poll(events.append, source.clock())
    (error,) = kinds(events, "source_error")
    assert "latency_p95_ms" in error.data["error"] and "2 series" in error.data["error"]
    assert kinds(events, "metrics")[0].data["values"] == {"latency_p95_ms": None}


def query_requests(server: PrometheusServer) -> float:
    """How many instant queries Prometheus has answered, from its own /metrics."""
    text = httpx.get(f"{server.url}/metrics", timeout=5).text
    match = re.search(r'prometheus_http_requests_total\{code="200",handler="/api/v1/query"\} (\S+)', text)
    return float(match.group(1)) if match else 0.0


async def test_one_query_per_series_per_poll(scraped: PrometheusServer) -> None:
    source = source_for(scraped, backfill_s=0)
    series_count = len(source.templates)
    before = query_requests(scraped)
    events: list[Event] = []
    await source.poll(events.append, source.clock())
    await source.poll(events.append, source.clock())
    assert query_requests(scraped) - before == 2 * series_count
    assert len(kinds(events, "metrics")) == 2


async def test_prometheus_stopped_mid_run_gives_source_error_then_recovers(
    exporter: Exporter, scraped: PrometheusServer, prometheus_server
) -> None:
    server = prometheus_server([exporter.target], scrape_interval="500ms")
    server.wait_for_samples("migration_memory_ratio", 1)
    events: list[Event] = []
    settings = Settings(prometheus=server.url, poll_interval_s=0.2, timeout_s=1.0)
    source = PrometheusSource.from_settings(settings, backfill_s=30)
    task = asyncio.create_task(source.run(events.append))
    try:
        await async_wait_for(lambda: kinds(events, "metrics"), 10)
        server.stop()
        # While it shuts down Prometheus may still answer 503 for a moment; then it is unreachable.
        unreachable = f"prometheus: cannot reach {server.url}"
        await async_wait_for(
            lambda: [e for e in kinds(events, "source_error") if e.data["error"].startswith(unreachable)], 10
        )
        assert task.done() is False
        errors_seen = len(events)
        server.start()

        def fresh_again() -> bool:
            if not any(e.kind == "metrics" and e.data["values"].get("memory_pct") for e in events[errors_seen:]):
                return False  # answering, but the first scrape after the restart has not landed yet
            store = Store()
            for event in events:
                store.apply(event)
            return freshness(store.source("prometheus"), 0.2, store.now).state is FreshnessState.FRESH

        # A restarting Prometheus may fail a query or two (503 until ready) before it answers again.
        await async_wait_for(fresh_again, 15)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        server.stop()


def test_every_profile_has_templates_and_override_keeps_the_unit() -> None:
    for profile in ("trading-service", "orderbook-rollout", "canary", "batch", "dual-write"):
        templates = load_templates(profile)
        assert "fleet/cpu_percent" in templates and len(templates) >= 5
    plain = load_templates("trading-service", {"latency_p95_ms": "max(my_p95_seconds)"})
    assert (plain["latency_p95_ms"].query, plain["latency_p95_ms"].scale) == ("max(my_p95_seconds)", 1000.0)
    table = load_templates("trading-service", {"latency_p95_ms": {"query": "max(my_p95_ms)", "unit": "ms"}})
    assert table["latency_p95_ms"].scale == 1.0
    assert load_templates("trading-service", {"queue_depth": "sum(q)"})["queue_depth"].scale == 1.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"latency_p95_ms": {"query": "x", "unit": "furlongs"}}, "unknown unit"),
        ({"error_rate_pct": {"query": "x", "unit": "seconds"}}, "cannot fill"),
        ({"latency_p95_ms": {"query": ""}}, "needs a PromQL"),
        ({"latency_p95_ms": {"query": "x", "step": 1}}, "unknown key"),
    ],
)
def test_bad_templates_are_refused_at_load(overrides, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_templates("trading-service", overrides)


async def test_unreachable_error_leaves_credentials_out() -> None:
    port = free_port()
    source = PrometheusSource(f"http://ops:pa55word@127.0.0.1:{port}", load_templates("trading-service"), timeout_s=1)
    with pytest.raises(Unreachable) as raised:
        await source.poll(lambda event: None, source.clock())
    assert str(raised.value).startswith(f"cannot reach http://127.0.0.1:{port}: connection refused")
    assert "pa55word" not in str(raised.value)


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="no PromQL templates"):
        load_templates("fleet")
