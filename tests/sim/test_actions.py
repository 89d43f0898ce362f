"""Operator actions against the simulator over a real socket: state changes, 409, idempotency, auth."""

from __future__ import annotations

import uuid

import httpx
import pytest

from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.server import start_in_thread

TOKEN = "sim-test-token-" + uuid.uuid4().hex


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


def post(http: httpx.Client, path: str, key: str | None = None, token: str | None = None, **body) -> httpx.Response:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return http.post(path, json={"requested_by": "tester", "reason": "test", **body}, headers=headers)


def get_migration(http: httpx.Client, mid: str) -> dict:
    return http.get(f"/api/v1/migrations/{mid}").json()


def test_pause_freezes_progress_and_resume_continues(clock: VirtualClock) -> None:
    with start_in_thread("2pc-commit", clock=clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        clock.advance(80)
        before = get_migration(http, "2pc-btcusdt")
        assert before["phase"] == "committing"
        answer = post(http, "/api/v1/migrations/2pc-btcusdt/pause")
        assert answer.status_code == 200 and answer.json()["status"] == "paused"
        clock.advance(60)
        paused = get_migration(http, "2pc-btcusdt")
        assert paused["status"] == "paused" and paused["progress"] == before["progress"]
        assert post(http, "/api/v1/migrations/2pc-btcusdt/pause").status_code == 409
        assert post(http, "/api/v1/migrations/2pc-btcusdt/resume").status_code == 200
        clock.advance(30)
        resumed = get_migration(http, "2pc-btcusdt")
        assert resumed["status"] == "in_progress" and resumed["progress"] > before["progress"]
        assert post(http, "/api/v1/migrations/2pc-btcusdt/resume").status_code == 409


def test_abort_goes_aborting_then_aborted(clock: VirtualClock) -> None:
    with start_in_thread("2pc-commit", clock=clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        clock.advance(10)
        answer = post(http, "/api/v1/migrations/2pc-btcusdt/abort", force=False, reason="operator saw lag")
        assert answer.status_code == 200 and answer.json()["phase"] == "aborting"
        assert get_migration(http, "2pc-btcusdt")["phase"] == "aborting"
        refused = post(http, "/api/v1/migrations/2pc-btcusdt/abort")
        assert refused.status_code == 409 and "aborting" in refused.json()["error"]
        clock.advance(60)
        final = get_migration(http, "2pc-btcusdt")
        assert (final["status"], final["phase"]) == ("aborted", "aborted")
        assert post(http, "/api/v1/migrations/2pc-btcusdt/rollback").status_code == 409
        assert post(http, "/api/v1/migrations/2pc-btcusdt/pause").status_code == 409
        assert any("operator saw lag" in e["message"] for e in running.controller.sim.events)


def test_abort_after_commit_started_is_refused_but_rollback_works(clock: VirtualClock) -> None:
    with start_in_thread("2pc-commit", clock=clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        clock.advance(100)
        refused = post(http, "/api/v1/migrations/2pc-btcusdt/abort")
        assert refused.status_code == 409 and "rollback" in refused.json()["error"]
        progress = get_migration(http, "2pc-btcusdt")["progress"]
        assert post(http, "/api/v1/migrations/2pc-btcusdt/rollback").status_code == 200
        clock.advance(5)
        rolling = get_migration(http, "2pc-btcusdt")
        assert rolling["phase"] == "rolling_back" and rolling["progress"] < progress
        clock.advance(120)
        final = get_migration(http, "2pc-btcusdt")
        assert (final["status"], final["phase"], final["progress"]) == ("rolled_back", "rolled_back", 0)


def test_repeated_idempotency_key_returns_the_first_answer_and_changes_nothing(clock: VirtualClock) -> None:
    with start_in_thread("2pc-commit", clock=clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        clock.advance(80)
        first = post(http, "/api/v1/migrations/2pc-btcusdt/pause", key="decision-1")
        assert post(http, "/api/v1/migrations/2pc-btcusdt/resume", key="decision-2").status_code == 200
        clock.advance(5)
        replay = post(http, "/api/v1/migrations/2pc-btcusdt/pause", key="decision-1")
        assert replay.status_code == first.status_code == 200
        assert replay.content == first.content
        assert get_migration(http, "2pc-btcusdt")["status"] == "in_progress"  # not paused again
        actions = running.controller.received_actions
        assert [(a.idempotency_key, a.replayed) for a in actions] == [
            ("decision-1", False),
            ("decision-2", False),
            ("decision-1", True),
        ]
        assert actions[0].requested_by == "tester" and actions[0].reason == "test"
        assert [a.idempotency_key for a in running.controller.applied_actions] == ["decision-1", "decision-2"]


def test_a_refusal_is_replayed_too(clock: VirtualClock) -> None:
    with start_in_thread("2pc-commit", clock=clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        first = post(http, "/api/v1/migrations/2pc-btcusdt/resume", key="k")
        assert first.status_code == 409
        assert post(http, "/api/v1/migrations/2pc-btcusdt/pause", key="fresh").status_code == 200
        again = post(http, "/api/v1/migrations/2pc-btcusdt/resume", key="k")
        assert (again.status_code, again.content) == (409, first.content)
        assert running.controller.sim.migrations[0].status == "paused"


def test_missing_key_bad_body_and_unknown_migration(clock: VirtualClock) -> None:
    with start_in_thread("2pc-commit", clock=clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        no_key = http.post("/api/v1/migrations/2pc-btcusdt/pause", json={"requested_by": "x"})
        assert no_key.status_code == 400
        bad_body = http.post(
            "/api/v1/migrations/2pc-btcusdt/pause", content=b"[1,", headers={"Idempotency-Key": "bad-body"}
        )
        assert bad_body.status_code == 400
        assert post(http, "/api/v1/migrations/nope/pause").status_code == 404
        assert running.controller.sim.migrations[0].status == "in_progress"
        assert running.controller.applied_actions == []


def test_token_required_for_actions_and_never_echoed(clock: VirtualClock) -> None:
    with (
        start_in_thread("2pc-commit", clock=clock, token=TOKEN) as running,
        httpx.Client(base_url=running.url, timeout=5) as http,
    ):
        for token in (None, "wrong", TOKEN + "x"):
            answer = post(http, "/api/v1/migrations/2pc-btcusdt/pause", token=token)
            assert answer.status_code == 401
            assert TOKEN not in answer.text and TOKEN not in str(answer.headers)
        assert running.controller.received_actions == []
        assert http.get("/api/v1/migrations").status_code == 200  # reads stay open
        ok = post(http, "/api/v1/migrations/2pc-btcusdt/pause", token=TOKEN)
        assert ok.status_code == 200 and TOKEN not in ok.text
        assert TOKEN not in repr(running.controller.received_actions)


@pytest.mark.parametrize(
    ("scenario", "prefix", "status_path", "read_phase"),
    [
        ("canary", "/api/canary", "/api/canary/status", lambda s: s["phase_name"]),
        ("batch", "/api/migration", "/api/migration/status", lambda s: s["phase"]),
        ("dual-write", "/api/v1/migration", "/api/v1/migration/status", lambda s: s["phase"]),
    ],
)
def test_single_migration_profiles_pause_resume_rollback(clock, scenario, prefix, status_path, read_phase) -> None:
    with start_in_thread(scenario, clock=clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        clock.advance(70)
        assert post(http, f"{prefix}/pause").status_code == 200
        assert http.get(status_path).json()["status"] == "paused"
        assert post(http, f"{prefix}/resume").status_code == 200
        assert post(http, f"{prefix}/rollback").status_code == 200
        assert read_phase(http.get(status_path).json()) == "rolling_back"
        clock.advance(120)
        final = http.get(status_path).json()
        assert final["status"] == "rolled_back"
        assert post(http, f"{prefix}/abort").status_code == 409
        if scenario == "canary":
            assert final["traffic_split"] == {"legacy": 100.0, "new": 0.0}
        if scenario == "dual-write":
            assert final["migration_mode"] == "legacy" and not any(final["flags"].values())


def test_batch_pause_reports_maintenance(clock: VirtualClock) -> None:
    with start_in_thread("batch", clock=clock) as running, httpx.Client(base_url=running.url, timeout=5) as http:
        clock.advance(40)
        assert post(http, "/api/migration/pause").status_code == 200
        documents = http.get("/api/migration/status").json()["documentsMigrated"]
        clock.advance(30)
        status = http.get("/api/migration/status").json()
        assert status["healthStatus"] == "maintenance" and status["documentsMigrated"] == documents
