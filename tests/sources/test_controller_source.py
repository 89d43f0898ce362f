"""The controller source against small, misbehaving HTTP servers over real sockets."""

from __future__ import annotations

import asyncio
import json
import math
from http.server import BaseHTTPRequestHandler
from typing import Any

import orjson
import pytest

from migration_tui.events import Event
from migration_tui.sources.base import Backoff
from migration_tui.sources.controller import ControllerSource
from migration_tui.sources.deltas import FULL_EVERY
from migration_tui.store import Store
from tests.sources.conftest import LocalServer, send_bytes

TOKEN = "s3cr3t-token-value-42"

METRICS_TEXT = """\
# TYPE migration_latency_p95_seconds gauge
migration_latency_p95_seconds{pair="BTCUSDT"} 0.042
# TYPE migration_error_rate gauge
migration_error_rate{pair="BTCUSDT"} 0.005
# TYPE migration_memory_ratio gauge
migration_memory_ratio 0.5
"""


def two_pc(server: LocalServer, migrations: list[Any] | None = None, participants: Any = None) -> None:
    """Serve a plausible seed-000 controller with one migration in ``committing``."""
    server.json("/health", {"status": "ok", "service": "trading-service"})
    server.json(
        "/api/v1/migrations",
        migrations
        if migrations is not None
        else [{"id": "m1", "pair": "BTCUSDT", "status": "in_progress", "phase": "committing", "progress": 60.0}],
    )
    server.json(
        "/api/v1/migrations/m1/participants",
        participants
        if participants is not None
        else [
            {"id": "orderbook", "type": "orderbook", "vote": "yes", "is_healthy": True, "last_heartbeat": 1000.0},
            {"id": "engine", "type": "engine", "vote": "pending", "is_healthy": False, "last_heartbeat": 999.0},
        ],
    )
    server.json("/api/v1/migrations/m1/votes", {"yes": 1, "no": 0, "pending": 1, "timeout": 0})
    server.json("/api/v1/migrations/m1/health", {"is_healthy": True, "checks": {}})
    server.json("/admin/circuit-breaker/status", [{"pair": "BTCUSDT", "open": False, "reason": ""}])
    server.json("/admin/migration/status", [])
    server.raw("/metrics", METRICS_TEXT.encode(), content_type="text/plain")


async def poll(source: ControllerSource, times: int = 1) -> tuple[list[Event], bool]:
    events: list[Event] = []
    reachable = False
    async with source.make_client() as client:
        for _ in range(times):
            reachable = await source.poll_once(client, events.append)
    return events, reachable


def of_kind(events: list[Event], kind: str) -> list[dict[str, Any]]:
    return [event.data for event in events if event.kind == kind]


def errors_of(events: list[Event]) -> str:
    return " | ".join(data["error"] for data in of_kind(events, "source_error"))


async def test_reads_a_two_phase_commit_controller(local_server: LocalServer) -> None:
    two_pc(local_server)
    source = ControllerSource(local_server.url, token=TOKEN, clock=lambda: 1010.0)
    events, reachable = await poll(source)
    assert reachable
    assert errors_of(events) == ""
    assert source.profile is not None and source.profile.name == "trading-service"
    (migration,) = of_kind(events, "migration")
    assert (migration["id"], migration["system"], migration["phase"], migration["progress"]) == (
        "m1",
        "2pc",
        "committing",
        60.0,
    )
    assert migration["details"]["votes_pending"] == 1
    (participants,) = of_kind(events, "participants")
    assert [p["id"] for p in participants["participants"]] == ["orderbook", "engine"]
    assert of_kind(events, "breakers")[0]["breakers"][0]["name"] == "BTCUSDT"
    values = of_kind(events, "metrics")[0]["values"]
    assert math.isclose(values["latency_p95_ms"], 42.0)
    assert math.isclose(values["error_rate_pct"], 0.5)
    assert math.isclose(values["memory_pct"], 50.0)
    assert events[-1].kind == "source_ok"
    assert all(headers.get("authorization") == f"Bearer {TOKEN}" for _path, headers in local_server.requests)


async def test_detects_the_profile_from_the_list_endpoint_when_health_says_nothing(local_server: LocalServer) -> None:
    local_server.json("/health", {"status": "ok"})
    local_server.json(
        "/api/migration/status",
        {"id": "b1", "documentsMigrated": 50, "documentsTotal": 200, "warnings": 2, "errors": 1, "critical": 0},
    )
    events, _ = await poll(ControllerSource(local_server.url))
    (migration,) = of_kind(events, "migration")
    assert migration["system"] == "batch"
    assert migration["progress"] == 25.0
    assert migration["health_score"] == 75.0


async def test_refused_connection_is_a_source_error(refused_url: str) -> None:
    events, reachable = await poll(ControllerSource(refused_url, profile="trading-service"))
    assert not reachable
    assert [event.kind for event in events] == ["source_error"]
    assert "cannot connect" in errors_of(events)


async def test_non_2xx_shows_status_and_a_sanitised_piece_of_the_message(local_server: LocalServer) -> None:
    local_server.json("/api/v1/migrations", {"error": "database \x1b[31mdown\x07 " + "x" * 500}, status=503)
    events, reachable = await poll(ControllerSource(local_server.url, profile="trading-service"))
    message = errors_of(events)
    assert not reachable
    assert "HTTP 503" in message and "database" in message
    assert "\x1b" not in message and "\x07" not in message
    assert len(message) < 300


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
async def test_a_body_that_is_not_json_is_a_source_error(local_server: LocalServer, body: bytes, expected: str) -> None:
    local_server.raw("/api/v1/migrations", body)
    events, _ = await poll(ControllerSource(local_server.url, profile="trading-service"))
    assert expected in errors_of(events)
    assert of_kind(events, "migration") == []


async def test_json_of_the_wrong_type_is_a_source_error(local_server: LocalServer) -> None:
    two_pc(local_server, migrations={"id": "m1"})  # an object where a list belongs
    events, _ = await poll(ControllerSource(local_server.url))
    assert "expected a list, got an object" in errors_of(events)
    assert of_kind(events, "migration") == []


async def test_missing_fields_are_unknown_not_invented(local_server: LocalServer) -> None:
    two_pc(local_server, migrations=[{"id": "m1"}], participants=[{"id": "orderbook"}])
    events, _ = await poll(ControllerSource(local_server.url))
    (migration,) = of_kind(events, "migration")
    assert (migration["status"], migration["phase"], migration["progress"]) == ("unknown", "unknown", None)
    participant = of_kind(events, "participants")[0]["participants"][0]
    assert (participant["healthy"], participant["last_heartbeat"]) == (None, None)


async def test_nan_negative_and_huge_numbers_become_invalid(local_server: LocalServer) -> None:
    # Python's json writes NaN and Infinity literals; a careless server sends exactly this.
    migrations = [
        {"id": "m1", "status": "in_progress", "phase": "prepared", "progress": float("nan"), "started_at": -5}
    ]
    participants = [{"id": "engine", "vote": "yes", "last_heartbeat": 1e300, "is_healthy": "yes"}]
    two_pc(local_server, migrations=migrations, participants=participants)
    local_server.raw("/metrics", b'migration_latency_p95_seconds{pair="BTCUSDT"} +Inf\n', content_type="text/plain")
    events, _ = await poll(ControllerSource(local_server.url))
    (migration,) = of_kind(events, "migration")
    assert migration["progress"] is None and migration["started_at"] is None
    assert {"progress", "started_at"} <= set(migration["invalid"])
    participant = of_kind(events, "participants")[0]["participants"][0]
    assert participant["last_heartbeat"] is None and participant["healthy"] is None
    assert {"last_heartbeat", "healthy"} <= set(participant["invalid"])
    metrics = of_kind(events, "metrics")[0]
    assert metrics["values"]["latency_p95_ms"] is None and "latency_p95_ms" in metrics["invalid"]

    store = Store()
    for event in events:
        store.apply(event)
    assert "progress" in store.migrations["m1"].invalid
    # every event survives the trip through a recording (no NaN left to become a silent null;
    # a participant's ``invalid`` is a tuple, written as the same JSON array as a list)
    for event in events:
        written = json.dumps(event.data, allow_nan=False)  # ValueError on NaN and infinities
        assert orjson.dumps(orjson.loads(written)) == orjson.dumps(event.data)


async def test_unknown_phase_is_kept_as_sent(local_server: LocalServer) -> None:
    two_pc(local_server, migrations=[{"id": "m1", "status": "in_progress", "phase": "quantum_entangling"}])
    events, _ = await poll(ControllerSource(local_server.url))
    assert of_kind(events, "migration")[0]["phase"] == "quantum_entangling"


async def test_duplicate_participant_ids_are_named_and_the_last_wins(local_server: LocalServer) -> None:
    participants = [
        {"id": "engine", "vote": "no", "is_healthy": True},
        {"id": "orderbook", "vote": "yes", "is_healthy": True},
        {"id": "engine", "vote": "yes", "is_healthy": False},
    ]
    two_pc(local_server, participants=participants)
    events, _ = await poll(ControllerSource(local_server.url))
    assert "duplicate id 'engine'" in errors_of(events)
    listed = of_kind(events, "participants")[0]["participants"]
    assert [(p["id"], p["vote"]) for p in listed] == [("orderbook", "yes"), ("engine", "yes")]
    assert events[-1].kind == "source_error"  # stamped after the data: the store shows the source failing
    store = Store()
    for event in events:
        store.apply(event)
    assert not store.source("controller").ok()


@pytest.mark.parametrize("declare_length", [True, False])
async def test_oversized_bodies_are_refused(local_server: LocalServer, declare_length: bool) -> None:
    body = b"[" + b'{"id": "m", "pad": "' + b"x" * 200_000 + b'"}]'

    def answer(handler: BaseHTTPRequestHandler) -> None:
        if declare_length:
            send_bytes(handler, 200, body, "application/json")
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        handler.wfile.write(body)

    local_server.routes["/api/v1/migrations"] = answer
    source = ControllerSource(local_server.url, profile="trading-service", max_body_bytes=64 * 1024)
    events, reachable = await poll(source)
    assert not reachable
    assert "65536 byte cap" in errors_of(events)


async def test_a_slow_drip_hits_the_overall_deadline(local_server: LocalServer) -> None:
    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "10000")
        handler.end_headers()
        # one byte at a time, each well inside any read timeout, forever in total
        while not local_server.stopping.wait(0.05):
            try:
                handler.wfile.write(b" ")
                handler.wfile.flush()
            except OSError:
                return

    local_server.routes["/api/v1/migrations"] = drip
    events, reachable = await poll(ControllerSource(local_server.url, profile="trading-service", timeout_s=0.4))
    assert not reachable
    assert "no complete answer within 0.4 s" in errors_of(events)


async def test_a_server_that_never_answers_times_out(local_server: LocalServer) -> None:
    local_server.routes["/api/v1/migrations"] = lambda handler: local_server.stopping.wait(10)
    events, reachable = await poll(ControllerSource(local_server.url, profile="trading-service", timeout_s=0.3))
    assert not reachable
    assert "/api/v1/migrations" in errors_of(events)
    assert "0.3 s" in errors_of(events) or "timed out" in errors_of(events)


async def test_a_redirect_to_another_host_is_not_followed(local_server: LocalServer, other_server: LocalServer) -> None:
    other_port = other_server.httpd.server_address[1]
    other_server.json("/api/v1/migrations", [{"id": "stolen"}])
    target = f"http://localhost:{other_port}/api/v1/migrations"
    local_server.routes["/api/v1/migrations"] = lambda handler: send_bytes(
        handler, 302, b"", "text/plain", {"Location": target}
    )
    events, reachable = await poll(ControllerSource(local_server.url, profile="trading-service", token=TOKEN))
    assert not reachable
    assert "redirect 302 to localhost not followed" in errors_of(events)
    assert other_server.requests == []


async def test_the_token_never_appears_in_events_even_when_echoed(local_server: LocalServer) -> None:
    two_pc(local_server, migrations=[{"id": "m1", "status": "in_progress", "phase": f"echo {TOKEN}"}])

    def echo(handler: BaseHTTPRequestHandler) -> None:
        said = json.dumps({"error": f"bad token {handler.headers.get('Authorization')}"}).encode()
        send_bytes(handler, 401, said, "application/json")

    local_server.routes["/api/v1/migrations/m1/votes"] = echo
    events, _ = await poll(ControllerSource(local_server.url, token=TOKEN))
    dumped = orjson.dumps([event.to_json_obj() for event in events]).decode()
    assert "HTTP 401" in dumped and "[redacted]" in dumped
    assert TOKEN not in dumped
    assert TOKEN not in repr(ControllerSource(local_server.url, token=TOKEN))


async def test_a_migration_that_is_no_longer_listed_is_gone(local_server: LocalServer) -> None:
    two_pc(local_server, migrations=[{"id": "m1"}, {"id": "m2"}])
    source = ControllerSource(local_server.url)
    async with source.make_client() as client:
        first: list[Event] = []
        await source.poll_once(client, first.append)
        local_server.json("/api/v1/migrations", [{"id": "m1"}])
        second: list[Event] = []
        await source.poll_once(client, second.append)
    assert of_kind(first, "migration_gone") == []
    assert of_kind(second, "migration_gone") == [{"id": "m2"}]


async def test_a_migration_id_limits_what_is_watched(local_server: LocalServer) -> None:
    two_pc(local_server, migrations=[{"id": "m1"}, {"id": "m2"}])
    events, _ = await poll(ControllerSource(local_server.url, migration="m2"))
    assert [m["id"] for m in of_kind(events, "migration")] == ["m2"]
    events, _ = await poll(ControllerSource(local_server.url, migration="nope"))
    assert "'nope' is not listed" in errors_of(events)


async def test_event_counters_become_rates_and_a_reset_is_a_gap(local_server: LocalServer) -> None:
    now = [1000.0]
    status = {"id": "d1", "migration_mode": "dual_write", "events_written": 100, "s3_write_success_rate": 0.995}
    local_server.json("/health", {"status": "ok", "service": "dual-write"})
    local_server.json("/api/v1/migration/status", status)
    source = ControllerSource(local_server.url, clock=lambda: now[0])
    rates = []
    async with source.make_client() as client:
        for written, at in ((100, 1000.0), (150, 1010.0), (20, 1020.0)):
            local_server.json("/api/v1/migration/status", {**status, "events_written": written})
            now[0] = at
            events: list[Event] = []
            await source.poll_once(client, events.append)
            rates.append(of_kind(events, "metrics")[0]["values"]["events_per_s"])
    assert rates == [None, 5.0, None]
    assert math.isclose(of_kind(events, "metrics")[0]["values"]["write_success_pct"], 99.5)


async def test_run_reports_failure_at_once_backs_off_and_recovers(refused_url: str, local_server: LocalServer) -> None:
    backoff = Backoff(base_s=0.01, cap_s=0.02)
    source = ControllerSource(refused_url, profile="trading-service", poll_interval_s=0.01, backoff=backoff)
    events: list[Event] = []
    task = asyncio.create_task(source.run(events.append))
    try:
        await wait_until(lambda: backoff.failures >= 3)
        assert {event.kind for event in events} == {"source_error"}
        # the controller comes back: the same source recovers and the backoff starts again
        two_pc(local_server)
        source.base_url = local_server.url
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        task = asyncio.create_task(source.run(events.append))
        await wait_until(lambda: any(event.kind == "source_ok" for event in events))
        assert backoff.failures == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()


def test_backoff_grows_and_is_capped() -> None:
    import random

    backoff = Backoff(base_s=1.0, cap_s=8.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(12)]
    ceilings = [min(8.0, 2.0**n) for n in range(12)]
    assert all(ceiling / 2 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings, strict=True))
    assert max(delays) <= 8.0 and delays[-1] >= 4.0


async def wait_until(predicate: Any, timeout_s: float = 10.0) -> None:
    """Yield to the loop until ``predicate()`` holds; fail after ``timeout_s`` (a deadline, not a sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def test_only_an_unverified_https_source_carries_the_insecure_warning():
    from migration_tui.feeds import LiveFeed
    from migration_tui.sources.base import INSECURE_WARNING
    from migration_tui.sources.prometheus import PrometheusSource

    unverified = ControllerSource("https://ctl.example", verify_tls=False)
    assert unverified.warnings == (INSECURE_WARNING,)
    assert ControllerSource("https://ctl.example").warnings == ()
    assert ControllerSource("http://ctl.example", verify_tls=False).warnings == ()
    prometheus = PrometheusSource("https://prom.example", {}, insecure=True)
    assert prometheus.warnings == (INSECURE_WARNING,)
    # The feed says it once, however many sources skip verification.
    assert LiveFeed([unverified, prometheus]).warnings == (INSECURE_WARNING,)
    assert LiveFeed([ControllerSource("https://ctl.example")]).warnings == ()


def participants_seen(events: list[Event]) -> list[tuple[str, Any]]:
    """(kind, ids) of each participants event: every id listed, or (changed ids, removed ids)."""
    seen: list[tuple[str, Any]] = []
    for event in events:
        if event.kind == "participants":
            seen.append(("participants", [p["id"] for p in event.data["participants"]]))
        elif event.kind == "participants_delta":
            seen.append(("delta", ([p["id"] for p in event.data["changed"]], event.data["removed"])))
    return seen


async def test_participants_are_whole_first_then_only_changes_then_whole_again(local_server: LocalServer) -> None:
    """The controller lists every participant each poll; the source emits the list once, then what
    changed (nothing when nothing did), and every FULL_EVERY-th poll the whole list again."""
    two_pc(local_server)
    source = ControllerSource(local_server.url, clock=lambda: 1010.0)
    engine = {"id": "engine", "type": "engine", "vote": "yes", "is_healthy": True, "last_heartbeat": 1005.0}
    store, events = Store(), []
    async with source.make_client() as client:

        async def poll_seen() -> list[tuple[str, Any]]:
            start = len(events)
            await source.poll_once(client, events.append)
            return participants_seen(events[start:])

        assert await poll_seen() == [("participants", ["orderbook", "engine"])]
        assert await poll_seen() == []
        local_server.json("/api/v1/migrations/m1/participants", [engine])  # orderbook is gone, engine voted
        assert await poll_seen() == [("delta", (["engine"], ["orderbook"]))]
        for event in events:
            store.apply(event)
        assert [(p.id, p.vote, p.last_heartbeat) for p in store.participants_of("m1")] == [("engine", "yes", 1005.0)]
        assert store.rejected_events == 0
        polls = 3
        while polls < FULL_EVERY:
            assert await poll_seen() == []
            polls += 1
        assert await poll_seen() == [("participants", ["engine"])]  # the periodic resync
        assert await poll_seen() == []


async def test_after_a_failed_poll_the_participants_are_whole_again(local_server: LocalServer) -> None:
    two_pc(local_server)
    source = ControllerSource(local_server.url, clock=lambda: 1010.0)
    async with source.make_client() as client:
        events: list[Event] = []
        for _ in range(2):
            await source.poll_once(client, events.append)
        local_server.json("/api/v1/migrations", {"error": "down"}, status=503)
        failed: list[Event] = []
        assert not await source.poll_once(client, failed.append)
        two_pc(local_server)
        recovered: list[Event] = []
        await source.poll_once(client, recovered.append)
    assert participants_seen(events) == [("participants", ["orderbook", "engine"])]
    assert participants_seen(failed) == []
    assert participants_seen(recovered) == [("participants", ["orderbook", "engine"])]
    assert recovered[-1].kind == "source_ok"


async def test_a_participants_answer_with_the_same_bytes_is_not_parsed_again(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20: the list is parsed when its bytes change, not when the same bytes come again;
    a body that is not JSON is still refused every time it comes."""
    from migration_tui.sources import lists

    parsed: list[str] = []
    real = lists.parse_json
    monkeypatch.setattr(lists, "parse_json", lambda path, body: parsed.append(path) or real(path, body))
    two_pc(local_server)
    path = "/api/v1/migrations/m1/participants"
    source = ControllerSource(local_server.url, profile="trading-service", clock=lambda: 1010.0)
    async with source.make_client() as client:
        events: list[Event] = []
        for _ in range(2):
            assert await source.poll_once(client, events.append)
        assert parsed == [path]
        assert errors_of(events) == ""
        changed = [
            {"id": "orderbook", "type": "orderbook", "vote": "yes", "is_healthy": True, "last_heartbeat": 1005.0}
        ]
        local_server.json(path, changed)
        events.clear()
        assert await source.poll_once(client, events.append)
        assert parsed == [path, path]
        assert of_kind(events, "participants_delta")[0]["changed"][0]["last_heartbeat"] == 1005.0
        local_server.raw(path, b"[not json")
        for _ in range(2):
            events.clear()
            assert await source.poll_once(client, events.append)
            assert "not JSON" in errors_of(events)
        assert parsed == [path] * 4
