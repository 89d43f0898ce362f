"""The simulator's controller API over a real loopback socket, one test per profile."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.server import start_in_thread
from migration_tui.sim.transport import SimulatorSyncTransport, SimulatorTransport


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


def serving(scenario: str, clock: VirtualClock, **kwargs):
    return start_in_thread(scenario, clock=clock, **kwargs)


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_trading_service_endpoints(clock: VirtualClock) -> None:
    with serving("2pc-commit", clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        assert http.get("/health").json() == {"status": "ok", "service": "trading-service"}
        clock.advance(60)
        migrations = http.get("/api/v1/migrations").json()
        assert [m["id"] for m in migrations] == ["2pc-btcusdt"]
        mid = migrations[0]["id"]
        detail = http.get(f"/api/v1/migrations/{mid}").json()
        assert detail["pair"] == "BTCUSDT" and detail["phase"] == "committing" and 0 < detail["progress"] < 100
        assert detail["started_at"] == running.controller.sim.started_at
        participants = http.get(f"/api/v1/migrations/{mid}/participants").json()
        assert {p["id"] for p in participants} == {"orderbook", "persistence", "marketdata", "engine"}
        assert all(p["vote"] == "yes" and p["is_healthy"] for p in participants)
        assert all(clock.now() - 5 <= p["last_heartbeat"] <= clock.now() for p in participants)
        assert http.get(f"/api/v1/migrations/{mid}/votes").json() == {"yes": 4, "no": 0, "pending": 0, "timeout": 0}
        assert http.get(f"/api/v1/migrations/{mid}/health").json()["is_healthy"] is True
        breakers = http.get("/admin/circuit-breaker/status").json()
        assert breakers == [{"pair": "BTCUSDT", "open": False, "state": "closed", "reason": "", "opens_10m": 0}]
        rollout = http.get("/admin/migration/status").json()
        assert rollout[0]["pair"] == "BTCUSDT" and rollout[0]["status"] == "in_progress"
        assert http.get("/api/v1/migrations/nope").status_code == 404
        assert http.get("/no/such/path").status_code == 404
        assert http.delete(f"/api/v1/migrations/{mid}").status_code == 405
        metrics = metric_samples(http.get("/metrics").text)
        p95 = metrics[("migration_latency_p95_seconds", (("pair", "BTCUSDT"),))]
        assert 0.01 < p95 < 0.05
        assert metrics[("migration_progress_percent", (("migration_id", mid),))] == detail["progress"]
        assert metrics[("migration_participant_healthy", (("migration_id", mid), ("participant", "marketdata")))] == 1
        assert metrics[("circuit_breaker_opens_total", (("pair", "BTCUSDT"),))] == 0


def test_orderbook_rollout_endpoints(clock: VirtualClock) -> None:
    with serving("orderbook-rollout", clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        clock.advance(120)
        migrations = http.get("/api/v1/migrations").json()
        assert {m["pair"] for m in migrations} == {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"}
        assert all(
            m["system"] == "orderbook-rollout" and m["phase"] == f"{m['migration_percentage']:g}%" for m in migrations
        )
        breakers = {b["pair"]: b for b in http.get("/admin/circuit-breaker/status").json()}
        assert breakers["SOLUSDT"]["open"] is True and "50 ms" in breakers["SOLUSDT"]["reason"]
        assert breakers["BTCUSDT"]["open"] is False
        status = {row["pair"]: row for row in http.get("/admin/migration/status").json()}
        assert status["SOLUSDT"]["current_percentage"] == 50 and status["SOLUSDT"]["target_percentage"] == 100
        metrics = metric_samples(http.get("/metrics").text)
        assert metrics[("circuit_breaker_open", (("pair", "SOLUSDT"),))] == 1
        assert metrics[("migration_latency_p95_seconds", (("pair", "SOLUSDT"),))] > 0.05


def test_canary_endpoints(clock: VirtualClock) -> None:
    with serving("canary", clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        assert http.get("/health").json() == {"status": "ok", "service": "canary", "system": "legacy"}
        clock.advance(60)
        status = http.get("/api/canary/status").json()
        assert status["phase"] == 2 and status["phase_name"] == "canary_10"
        assert status["traffic_split"] == {"legacy": 90.0, "new": 10.0}
        assert status["new"]["healthy"] is True and 0 < status["new"]["error_rate"] < 0.01
        assert http.get("/api/v2/health").json()["status"] == "healthy"
        v2 = http.get("/api/v2/metrics").json()
        assert set(v2) == {"error_rate", "p99_ms", "requests_per_s", "robots"}
        assert set(http.get("/api/sync/status").json()) == {"synced", "lag_s"}
        metrics = metric_samples(http.get("/metrics").text)
        assert metrics[("canary_traffic_new_percent", ())] == 10
        assert metrics[("canary_phase", ())] == 2


def test_batch_endpoints(clock: VirtualClock) -> None:
    with serving("batch", clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        assert http.get("/health").json()["service"] == "batch"
        health = http.get("/api/migration/health").json()
        assert health["status"] == "operational" and health["compatibilityLayer"] is True
        clock.advance(60)
        status = http.get("/api/migration/status").json()
        assert status["inMigration"] is True and status["phase"] == "migrating"
        assert 0 < status["documentsMigrated"] < status["documentsTotal"]
        assert status["estimatedCompletion"].endswith("Z") and status["etaSeconds"] > 0
        assert status["lastCheckpoint"]["documents"] % 10_000 == 0
        metrics = metric_samples(http.get("/metrics").text)
        assert metrics[("batch_documents_migrated", ())] >= status["documentsMigrated"]
        assert metrics[("batch_documents_total", ())] == status["documentsTotal"]


def test_dual_write_endpoints(clock: VirtualClock) -> None:
    with serving("dual-write", clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        assert http.get("/health").json() == {"status": "ok", "service": "dual-write", "migration_mode": "legacy"}
        clock.advance(45)
        status = http.get("/api/v1/migration/status").json()
        assert status["migration_mode"] == "dual_write"
        assert status["flags"] == {
            "ENABLE_S3_EVENT_STORE": True,
            "ENABLE_DUAL_WRITE": True,
            "WORKER_READ_FROM_S3": False,
        }
        assert set(status["event_latency_ms"]) == {"p50", "p95", "p99"}
        assert 0.99 < status["s3_write_success_rate"] <= 1
        metrics = metric_samples(http.get("/metrics").text)
        assert metrics[("dual_write_mode", (("mode", "dual_write"),))] == 1
        assert metrics[("dual_write_events_written_total", ())] == status["events_written"]


def test_stop_closes_the_socket(clock: VirtualClock) -> None:
    running = serving("batch", clock)
    url = running.url
    assert httpx.get(f"{url}/health", timeout=5).status_code == 200
    running.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=5)


async def test_async_transport_needs_no_socket(clock: VirtualClock) -> None:
    from migration_tui.sim.controller import SimulatedController

    controller = SimulatedController("2pc-abort", clock=clock)
    async with httpx.AsyncClient(transport=SimulatorTransport(controller), base_url="http://sim") as http:
        clock.advance(10)
        migrations = (await http.get("/api/v1/migrations?limit=5")).json()
        assert migrations[0]["pair"] == "ETHUSDT"
        answer = await http.post(
            f"/api/v1/migrations/{migrations[0]['id']}/pause",
            json={"reason": "check", "requested_by": "test"},
            headers={"Idempotency-Key": "t-1"},
        )
        assert answer.status_code == 200 and answer.json()["status"] == "paused"
    assert controller.sim.migrations[0].status == "paused"


def test_sync_transport(clock: VirtualClock) -> None:
    from migration_tui.sim.controller import SimulatedController

    controller = SimulatedController("canary", clock=clock)
    with httpx.Client(transport=SimulatorSyncTransport(controller), base_url="http://sim") as http:
        assert http.get("/api/canary/status").json()["phase_name"] == "parallel_run"


def test_a_simulator_bug_answers_500_and_the_server_keeps_serving(clock: VirtualClock, monkeypatch) -> None:
    """A mock fault: the simulator has no bug to trigger on demand, so handle() is made to raise once."""
    with serving("batch", clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        real_handle = running.controller.handle
        calls = []

        def broken_once(*args):
            calls.append(args)
            if len(calls) == 1:
                raise RuntimeError("boom")
            return real_handle(*args)

        monkeypatch.setattr(running.controller, "handle", broken_once)
        failed = http.get("/api/migration/status")
        assert failed.status_code == 500 and "boom" not in failed.text
        assert http.get("/api/migration/status").status_code == 200
