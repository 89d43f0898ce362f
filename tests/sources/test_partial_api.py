"""A partial controller API is not a dead controller (issue 14, item 1).

A controller that serves seed 000's endpoints and none of seed 001's
(``tests/seed000.py``, a real server on a loopback socket) keeps the
controller source fresh: its optional endpoints are *not served*, said once in
the log and named in ``source_ok``; a failing optional endpoint and a missing
required one are still errors. ``check`` reports each endpoint.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from typing import Any

import pytest

from migration_tui.config import Settings
from migration_tui.events import Event
from migration_tui.headless import state_dict
from migration_tui.sources.check import check
from migration_tui.sources.controller import ControllerSource
from migration_tui.sources.profiles import PROFILES, Endpoint, get_profile
from migration_tui.store import Store
from tests.seed000 import MIGRATION_ID, Seed000Controller, serve
from tests.servers import free_port

NOT_SERVED = ["/admin/circuit-breaker/status", "/admin/migration/status", "/metrics"]
BASE = f"/api/v1/migrations/{MIGRATION_ID}"


async def poll(source: ControllerSource, times: int) -> list[Event]:
    events: list[Event] = []
    async with source.make_client() as client:
        for _ in range(times):
            await source.poll_once(client, events.append)
    return events


def kinds(events: list[Event], kind: str) -> list[dict[str, Any]]:
    return [event.data for event in events if event.kind == kind]


def log_lines(events: list[Event]) -> list[str]:
    return [data["message"] for data in kinds(events, "log")]


async def test_a_seed_000_controller_stays_fresh_and_says_not_served_once() -> None:
    with serve() as (url, _state):
        source = ControllerSource(url, poll_interval_s=0.1)
        events = await poll(source, 4)
    assert kinds(events, "source_error") == []
    oks = kinds(events, "source_ok")
    assert len(oks) == 4 and all(ok == {"not_served": NOT_SERVED} for ok in oks)
    said = [line for line in log_lines(events) if "does not serve" in line]
    assert said == [
        "controller does not serve /admin/circuit-breaker/status (404): circuit breakers not shown",
        "controller does not serve /admin/migration/status (404): per-pair rollout status not shown",
        "controller does not serve /metrics (404): latency, error rate and throughput from the controller not shown",
    ]  # once each over four polls
    store = Store()
    for event in events:
        store.apply(event)
    health = store.source("controller")
    assert health.ok() and health.error is None
    assert health.not_served == tuple(NOT_SERVED)
    assert [p.id for p in store.participants_of(MIGRATION_ID)] == ["orderbook", "persistence", "marketdata", "engine"]
    assert store.migrations[MIGRATION_ID].details["votes_yes"] == 4
    assert [line.level for line in store.log if "does not serve" in line.message] == ["info"] * 3
    assert state_dict(store, store.now)["sources"]["controller"]["not_served"] == NOT_SERVED


@pytest.mark.parametrize("status", [405, 501])
async def test_405_and_501_also_mean_not_served(status: int) -> None:
    with serve() as (url, state):
        state.overrides["/admin/circuit-breaker/status"] = (status, {"error": "no"})
        events = await poll(ControllerSource(url), 2)
    assert kinds(events, "source_error") == []
    assert f"controller does not serve /admin/circuit-breaker/status ({status}): circuit breakers not shown" in (
        log_lines(events)
    )


async def test_served_again_and_failing_are_said_when_they_change() -> None:
    with serve() as (url, state):
        source = ControllerSource(url)
        first = await poll(source, 2)
        state.overrides["/admin/circuit-breaker/status"] = (200, [{"pair": "BTCUSDT", "open": False, "reason": ""}])
        again = await poll(source, 2)
        state.overrides["/admin/circuit-breaker/status"] = (500, {"error": "breaker store down"})
        failing = await poll(source, 1)
    assert kinds(first, "source_error") == []
    assert log_lines(again) == ["controller serves /admin/circuit-breaker/status again"]
    assert kinds(again, "source_ok")[-1] == {"not_served": NOT_SERVED[1:]}
    assert kinds(again, "breakers")[-1]["breakers"][0]["name"] == "BTCUSDT"
    # Served, then failing: a problem of the poll like any failure (no "not served" about it).
    (error,) = kinds(failing, "source_error")
    assert "GET /admin/circuit-breaker/status: HTTP 500: breaker store down" in error["error"]


async def test_not_served_then_failing_is_said_and_is_an_error() -> None:
    with serve() as (url, state):
        source = ControllerSource(url)
        await poll(source, 1)
        state.overrides["/metrics"] = (503, {"error": "exporter restarting"})
        events = await poll(source, 2)
    (said,) = [line for line in log_lines(events) if "/metrics" in line]
    assert said == "controller endpoint /metrics was not served, now fails: GET /metrics: HTTP 503: exporter restarting"
    errors = kinds(events, "source_error")
    assert len(errors) == 2 and all("GET /metrics: HTTP 503" in error["error"] for error in errors)
    assert source.not_served == {"/admin/circuit-breaker/status": 404, "/admin/migration/status": 404}


async def test_an_optional_endpoint_that_answers_500_is_still_an_error() -> None:
    with serve() as (url, state):
        state.overrides["/admin/migration/status"] = (500, {"error": "boom"})
        events = await poll(ControllerSource(url), 2)
    errors = kinds(events, "source_error")
    assert len(errors) == 2 and all("/admin/migration/status: HTTP 500: boom" in e["error"] for e in errors)
    store = Store()
    for event in events:
        store.apply(event)
    assert not store.source("controller").ok()


async def test_an_optional_endpoint_with_bad_json_is_still_an_error() -> None:
    with serve() as (url, state):
        state.overrides["/admin/circuit-breaker/status"] = (200, b"{not json")
        events = await poll(ControllerSource(url), 1)
    (error,) = kinds(events, "source_error")
    assert "/admin/circuit-breaker/status: body is not JSON" in error["error"]


async def test_a_required_endpoint_that_answers_404_is_still_an_error() -> None:
    with serve() as (url, state):
        state.overrides[f"{BASE}/participants"] = (404, {"error": "not found"})
        events = await poll(ControllerSource(url), 2)
    errors = kinds(events, "source_error")
    assert len(errors) == 2 and all(f"GET {BASE}/participants: HTTP 404" in e["error"] for e in errors)
    assert not any("participants" in line for line in log_lines(events))  # never "not served"


async def test_the_orderbook_rollout_profile_requires_its_own_endpoints() -> None:
    with serve(Seed000Controller(extra={"system": "orderbook-rollout"})) as (url, _state):
        events = await poll(ControllerSource(url, profile="orderbook-rollout"), 1)
    (error,) = kinds(events, "source_error")
    assert "/admin/circuit-breaker/status: HTTP 404" in error["error"]
    assert "/admin/migration/status: HTTP 404" in error["error"]


def test_an_old_recording_s_source_ok_means_everything_served() -> None:
    store = Store()
    store.apply(Event(1.0, "controller", "source_ok", {"not_served": ["/metrics"]}))
    assert store.source("controller").not_served == ("/metrics",)
    store.apply(Event(2.0, "controller", "source_ok", {}))  # as every recording before this change has it
    health = store.source("controller")
    assert health.ok() and health.not_served == ()
    assert health.to_dict(2.0) == {"ok": True, "age_s": 0.0, "error": None, "not_served": []}


# --- the declarations ------------------------------------------------------------------


def declared(name: str) -> dict[str, bool]:
    return {endpoint.key: endpoint.optional for endpoint in get_profile(name).endpoints}


def test_each_profile_declares_every_endpoint_it_reads() -> None:
    items = [
        {"id": "a", "pair": "BTCUSDT", "status": "in_progress"},
        {"id": "b", "pair": "ETHUSDT", "status": "in_progress", "system": "orderbook-rollout"},
    ]
    for name, profile in PROFILES.items():
        keys = {key.split(":", 1)[0] for key in profile.paths(items)}
        assert keys <= set(declared(name)), name
        for endpoint in profile.endpoints:
            assert isinstance(endpoint, Endpoint) and endpoint.path.startswith("/") and endpoint.what


def test_which_endpoints_are_optional() -> None:
    assert declared("trading-service") == {
        "participants": False,
        "votes": False,
        "health": False,
        "breakers": True,
        "rollout": True,
        "metrics": True,
    }
    assert declared("orderbook-rollout") == {
        "participants": True,
        "votes": True,
        "health": True,
        "breakers": False,
        "rollout": False,
        "metrics": True,
    }
    assert declared("canary") == {"v2_health": True, "v2_metrics": True, "sync": True}
    assert declared("batch") == {} and declared("dual-write") == {}


def test_not_served_only_for_an_optional_endpoint_and_only_for_404_405_501() -> None:
    profile = get_profile("trading-service")
    assert profile.not_served("breakers", 404) is not None
    assert profile.not_served("rollout", 405) is not None
    assert profile.not_served("metrics", 501) is not None
    assert profile.not_served("metrics", 500) is None
    assert profile.not_served("metrics", None) is None  # no answer at all
    assert profile.not_served("participants:m1", 404) is None  # required
    assert profile.endpoint("health:m1").path == "/api/v1/migrations/{id}/health"


# --- check ------------------------------------------------------------------------------


def run_check(**settings: Any) -> tuple[int, str]:
    out = io.StringIO()
    return check(Settings(timeout_s=2, **settings), out), out.getvalue()


def endpoint_line(output: str, path: str) -> str:
    (line,) = [line for line in output.splitlines() if f"GET {path} " in line]
    return line.split()[0] if not line.split()[0] == "not" else "not served"


def test_check_against_a_seed_000_controller_exits_0_and_names_each_endpoint() -> None:
    with serve() as (url, _state):
        code, output = run_check(controller=url)
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].startswith("controller") and "reachable (HTTP 200)" in lines[0]
    assert "profile trading-service" in lines[1]
    assert endpoint_line(output, "/api/v1/migrations") == "served"
    for path in ("participants", "votes", "health"):
        assert endpoint_line(output, f"/api/v1/migrations/{{id}}/{path}") == "served"
    for path in NOT_SERVED:
        assert endpoint_line(output, path) == "not served"
    assert "not served  GET /admin/migration/status  [optional] (HTTP 404: per-pair rollout status not shown)" in output
    assert "UNREACHABLE" not in output


def test_check_says_failing_and_exits_1_when_a_required_endpoint_answers_404() -> None:
    with serve() as (url, state):
        state.overrides[f"{BASE}/votes"] = (404, {"error": "no votes here"})
        code, output = run_check(controller=url)
    assert code == 1
    assert "failing     GET /api/v1/migrations/{id}/votes  [required] (HTTP 404: no votes here)" in output
    assert "UNREACHABLE" not in output  # it answered


def test_check_says_failing_for_an_optional_endpoint_that_answers_500() -> None:
    with serve() as (url, state):
        state.overrides["/metrics"] = (500, {"error": "exporter down"})
        code, output = run_check(controller=url)
    assert code == 1
    assert "failing     GET /metrics  [optional] (HTTP 500: exporter down)" in output


def test_check_a_404_on_health_is_an_answer_not_unreachable() -> None:
    with serve() as (url, state):
        state.overrides["/health"] = (404, {"error": "no"})
        code, output = run_check(controller=url)
    assert "UNREACHABLE" not in output
    assert "answers (HTTP 404)" in output.splitlines()[0]
    assert endpoint_line(output, "/api/v1/migrations") == "served"  # found by the list endpoint's shape
    assert code == 0, output


def test_check_connection_refused_is_unreachable() -> None:
    code, output = run_check(controller=f"http://127.0.0.1:{free_port()}")
    assert code == 1
    assert "UNREACHABLE" in output and len(output.splitlines()) == 1


def test_cli_check_against_a_seed_000_controller(tmp_path) -> None:
    with serve() as (url, _state):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_TUI_")}
        env["XDG_CONFIG_HOME"] = str(tmp_path)
        done = subprocess.run(
            [sys.executable, "-m", "migration_tui", "check", "--controller", url],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "served      GET /api/v1/migrations " in done.stdout
    assert "not served  GET /admin/circuit-breaker/status " in done.stdout
