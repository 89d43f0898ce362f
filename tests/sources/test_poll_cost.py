"""What polling costs as the estate grows (issue 20), over real sockets.

- One detail budget for the dashboard: spreading an estate over more controllers does not
  multiply the per-migration requests. Each controller details its fair share of
  ``MAX_DETAILED``; one controller alone details ``MAX_DETAILED``, as before.
- The poll interval is start to start, whatever a poll takes."""

from __future__ import annotations

from typing import Any

from migration_tui.config import ControllerSpec, Settings
from migration_tui.events import Event
from migration_tui.sources.controller import MAX_DETAILED, ControllerSource, DetailBudget
from migration_tui.sources.runner import build_live_sources
from tests.sources.conftest import LocalServer


def test_one_controller_alone_gets_the_whole_budget():
    budget = DetailBudget(50)
    assert budget.share("controller", 500) == 50
    assert budget.share("controller", 7) == 7


def test_equal_demands_split_it_evenly_and_small_ones_leave_the_rest_to_others():
    budget = DetailBudget(50)
    for name in ("c1", "c2", "c3", "c4", "c5"):
        budget.share(name, 100)
    assert [budget.share(name, 100) for name in ("c1", "c2", "c3", "c4", "c5")] == [10] * 5
    budget = DetailBudget(50)
    budget.share("small", 3)
    budget.share("big", 400)
    budget.share("mid", 20)
    assert (budget.share("small", 3), budget.share("mid", 20), budget.share("big", 400)) == (3, 20, 27)
    budget = DetailBudget(50)
    for name in ("a", "b", "c"):
        budget.share(name, 100)
    assert sum(budget.share(name, 100) for name in ("a", "b", "c")) == 50
    assert DetailBudget(50).share("idle", 0) == 0


def rollouts(server: LocalServer, count: int) -> None:
    """A trading-service controller with ``count`` running per-pair rollouts (each asks for its health)."""
    server.json("/health", {"status": "ok", "service": "trading-service"})
    listed = [
        {"id": f"r{i}", "pair": f"P{i}USDT", "system": "orderbook-rollout", "status": "in_progress", "phase": "25%"}
        for i in range(count)
    ]
    server.json("/api/v1/migrations", listed)
    for i in range(count):
        server.json(f"/api/v1/migrations/r{i}/health", {"is_healthy": True})
    server.json("/admin/circuit-breaker/status", [])
    server.json("/admin/migration/status", [])


def health_requests(server: LocalServer) -> int:
    return sum(1 for path in server.paths_requested() if path.endswith("/health") and path != "/health")


async def test_two_controllers_share_one_budget_over_real_sockets(
    local_server: LocalServer, other_server: LocalServer
) -> None:
    rollouts(local_server, 40)
    rollouts(other_server, 40)
    budget = DetailBudget()
    sources = [
        ControllerSource(server.url, profile="trading-service", controller_name=name, detail_budget=budget)
        for name, server in (("a", local_server), ("b", other_server))
    ]
    events: list[Event] = []
    clients = [source.make_client() for source in sources]
    try:
        for _ in range(2):  # the first poll of the first one sees no other demand yet
            for server in (local_server, other_server):
                server.requests.clear()
            for source, client in zip(sources, clients, strict=True):
                assert await source.poll_once(client, events.append)
    finally:
        for client in clients:
            await client.aclose()
    assert (health_requests(local_server), health_requests(other_server)) == (MAX_DETAILED // 2,) * 2
    assert [e for e in events if e.kind == "source_error"] == []
    assert {e.data["id"] for e in events if e.kind == "migration"} == {f"{n}:r{i}" for n in "ab" for i in range(40)}


async def test_one_controller_details_as_many_as_before(local_server: LocalServer) -> None:
    rollouts(local_server, 60)
    source = ControllerSource(local_server.url, profile="trading-service")
    async with source.make_client() as client:
        assert await source.poll_once(client, [].append)
    assert health_requests(local_server) == MAX_DETAILED


def test_the_dashboards_controllers_are_built_with_one_budget():
    specs: tuple[Any, ...] = tuple(
        ControllerSpec(name, f"http://127.0.0.1:{port}", where="--controller") for name, port in (("a", 9), ("b", 10))
    )
    sources = [s for s in build_live_sources(Settings(controllers=specs)) if isinstance(s, ControllerSource)]
    assert len(sources) == 2 and sources[0].detail_budget is sources[1].detail_budget
    assert sources[0].detail_budget.total == MAX_DETAILED


async def test_polls_start_one_interval_apart_however_long_a_poll_takes(local_server: LocalServer) -> None:
    """The poll interval is start to start: a controller whose every poll takes 0.4 s is polled every
    0.6 s, not every 1.0 s (the interval slept after the poll, as it was)."""
    import asyncio
    import time

    rollouts(local_server, 1)
    started: list[float] = []
    listed = local_server.routes["/api/v1/migrations"]

    def slow_list(handler: Any) -> None:
        started.append(time.monotonic())
        time.sleep(0.4)  # a slow controller, for real: the server thread answers late
        listed(handler)

    local_server.routes["/api/v1/migrations"] = slow_list
    source = ControllerSource(local_server.url, profile="trading-service", poll_interval_s=0.6)
    events: list[Event] = []
    task = asyncio.create_task(source.run(events.append))
    try:
        while len(started) < 5:
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    gaps = [b - a for a, b in zip(started, started[1:], strict=False)]
    assert sum(gaps) / len(gaps) < 0.85, gaps  # slept after each poll: 1.0 s or more
    assert min(gaps) >= 0.55, gaps
    assert [e for e in events if e.kind == "source_error"] == []
