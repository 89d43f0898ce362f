"""The controller source against the built-in simulator, for every scenario and so every profile.

The simulator serves docs/controller-profiles.md; these tests check that the
source detects each profile, reads every endpoint without a single error,
and fills the series and details the screens rely on. They run both through
the in-process transport and, when ``sim/server.py`` is there, over a real
socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import migration_tui.sim.clock as sim_clock
import migration_tui.sim.controller as sim_controller
import migration_tui.sim.transport as sim_transport
from migration_tui.events import Event
from migration_tui.model import Migration
from migration_tui.sources.controller import ControllerSource
from migration_tui.store import Store

TOKEN = "sim-token-not-for-screens"

#: scenario -> (profile detected, systems, series that must have a value, details that must have a value)
EXPECTED: dict[str, tuple[str, set[str], set[str], set[str]]] = {
    "2pc-commit": (
        "trading-service",
        {"2pc"},
        {"latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate_pct", "throughput_ops", "memory_pct"},
        {"votes_yes", "votes_no", "votes_pending", "votes_timeout", "health_ok"},
    ),
    "2pc-abort": ("trading-service", {"2pc"}, {"latency_p95_ms", "error_rate_pct", "memory_pct"}, {"votes_pending"}),
    "orderbook-rollout": (
        "trading-service",
        {"orderbook-rollout"},
        {"BTCUSDT/migration_pct", "BTCUSDT/latency_p95_ms", "BTCUSDT/error_rate_pct", "memory_pct"},
        {"migration_percentage", "target_percentage", "rollout_status"},
    ),
    "canary": (
        "canary",
        {"canary"},
        {"error_rate_pct", "latency_p99_ms", "legacy/error_rate_pct", "legacy/latency_p99_ms", "traffic_new_pct"},
        {"canary_phase", "traffic_legacy_pct", "traffic_new_pct", "legacy_healthy", "new_healthy", "sync_lag_s"},
    ),
    "batch": (
        "batch",
        {"batch"},
        {"docs_per_s", "failure_rate_pct", "response_time_ms", "memory_mb", "progress_pct"},
        {"documents_migrated", "documents_total", "docs_per_s", "eta_s", "retries", "last_checkpoint_documents"},
    ),
    "dual-write": (
        "dual-write",
        {"dual-write"},
        {"write_success_pct", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "outbox_pending", "events_per_s"},
        {"migration_mode", "write_success_pct", "outbox_pending", "events_written"},
    ),
}


@asynccontextmanager
async def in_process(scenario: str) -> AsyncIterator[tuple[ControllerSource, Any, Any]]:
    clock = sim_clock.VirtualClock()
    controller = sim_controller.SimulatedController(scenario, clock=clock, token=TOKEN)
    transport = sim_transport.SimulatorTransport(controller)
    yield ControllerSource("http://sim", token=TOKEN, transport=transport, clock=clock.now), controller, clock


@asynccontextmanager
async def over_a_socket(scenario: str) -> AsyncIterator[tuple[ControllerSource, Any, Any]]:
    import migration_tui.sim.server as server_module

    clock = sim_clock.VirtualClock()
    server = server_module.start_in_thread(scenario, clock=clock, token=TOKEN)
    try:
        yield ControllerSource(server.url, token=TOKEN, clock=clock.now), server.controller, clock
    finally:
        server.stop()


ROUTES: dict[str, Callable[[str], Any]] = {"in-process": in_process, "socket": over_a_socket}


async def poll_through(source: ControllerSource, clock: Any, polls: int = 4, step_s: float = 45.0) -> list[Event]:
    events: list[Event] = []
    async with source.make_client() as client:
        for _ in range(polls):
            await source.poll_once(client, events.append)
            clock.advance(step_s)
    return events


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("scenario", sorted(EXPECTED))
async def test_every_scenario_reads_cleanly(scenario: str, route: str) -> None:
    profile, systems, series, details = EXPECTED[scenario]
    async with ROUTES[route](scenario) as (source, controller, clock):
        events = await poll_through(source, clock)
    assert source.profile is not None and source.profile.name == profile
    assert [e.data["error"] for e in events if e.kind == "source_error"] == []

    store = Store()
    for event in events:
        store.apply(event)
    assert {m.id for m in store.migrations.values()} == {m.id for m in controller.sim.migrations}
    for migration in store.migrations.values():
        assert migration.system in systems
        assert migration.invalid == ()
        assert migration.phase_is_known, migration.phase
        assert migration.progress is not None
    assert series <= {name for name, s in store.series.items() if s.latest() is not None}
    last = {}
    for event in events:
        if event.kind == "migration":
            last[event.data["id"]] = event.data
    for data in last.values():
        missing = {key for key in details if data["details"].get(key) is None}
        assert not missing, (data["id"], missing)
    assert all(TOKEN not in repr(event) for event in events)


async def test_batch_health_score_is_computed_from_the_simulated_counts() -> None:
    async with in_process("batch") as (source, _controller, clock):
        events = await poll_through(source, clock, polls=6, step_s=60.0)
    scores = [(Migration.from_dict(e.data).health_score, e.data["details"]) for e in events if e.kind == "migration"]
    assert scores
    for score, details in scores:
        expected = max(0.0, 100 - 5 * details["warnings"] - 15 * details["errors"] - 30 * details["critical"])
        assert score == expected


async def test_two_phase_participants_are_the_four_of_the_seed() -> None:
    async with in_process("2pc-commit") as (source, _controller, clock):
        events = await poll_through(source, clock, polls=2)
    lists = [e.data["participants"] for e in events if e.kind == "participants"]
    assert {p["id"] for p in lists[-1]} == {"orderbook", "persistence", "marketdata", "engine"}


async def test_an_ended_migration_keeps_the_votes_of_its_final_read() -> None:
    """Details are fetched once more after a migration ends, then no longer: later polls carry them forward."""
    async with over_a_socket("2pc-abort") as (source, _controller, clock):
        events = await poll_through(source, clock, polls=12, step_s=30.0)
    migrations = [e.data for e in events if e.kind == "migration"]
    assert migrations[-1]["status"] == "aborted"
    ended = [m for m in migrations if m["status"] == "aborted"]
    assert len(ended) >= 3, "the test must poll the ended migration more than once"
    for migration in ended:
        assert migration["details"].get("votes_timeout") == 1.0, migration["details"]
