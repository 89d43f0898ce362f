"""Five simulators on five ports and one `watch` with five ``--controller NAME=URL`` (issue 16).

Every simulator is a real ``migration-tui simulate`` process on its own loopback port; the
dashboard polls each over HTTP. The test checks what an operator relies on when one screen
watches an estate: each migration is shown under its own controller, an action reaches that
controller and no other, and a controller that dies is marked failing on its own migrations
only, then recovers when it comes back.
"""

from __future__ import annotations

import httpx
import pytest

from migration_tui.config import build_settings
from migration_tui.frame import Frame
from migration_tui.freshness import FreshnessState, freshness
from migration_tui.sim.scenarios import SCENARIOS
from migration_tui.sources.profiles import get_profile
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.run import build_watch
from migration_tui.ui.screens.actions import ActionDashboard
from tests.simulate import SimulateProcess

ESTATE = {
    "trading": "2pc-commit",
    "orderbook": "orderbook-rollout",
    "canary": "canary",
    "batch": "batch",
    "events": "dual-write",
}


@pytest.fixture
def estate():
    processes = {name: SimulateProcess(scenario) for name, scenario in ESTATE.items()}
    try:
        for process in processes.values():
            process.start()
        yield processes
    finally:
        for process in processes.values():
            process.stop()


def _remote_status(controller: str, url: str, remote_id: str) -> str:
    """What the controller itself says of a migration now, from its own list (or status) endpoint."""
    path = get_profile(SCENARIOS[ESTATE[controller]].profile).list_path
    body = httpx.get(url + path, timeout=2).json()
    for item in body if isinstance(body, list) else [body]:
        if isinstance(item, dict) and item.get("id") == remote_id:
            return str(item.get("status"))
    return "?"


async def _until(pilot, condition, what: str, tries: int = 200) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never: {what}")


async def test_one_watch_over_five_controllers(estate, tmp_path):
    cli = {
        "controller": [f"{name}={process.url}" for name, process in estate.items()],
        "poll_interval_s": 0.25,
        "timeout_s": 1.0,
        "audit_log": str(tmp_path / "audit.jsonl"),
    }
    settings = build_settings(cli, env={}, config_path=tmp_path / "absent.toml")
    assert [spec.name for spec in settings.controller_specs()] == list(ESTATE)
    feed, dashboard = build_watch(settings)
    app = MigrationApp(feed, dashboard=dashboard)
    store = feed.store
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.dashboard, ActionDashboard)

        def controllers_seen() -> set[str | None]:
            return {m.controller for m in store.migrations.values()}

        await _until(pilot, lambda: controllers_seen() == set(ESTATE), "a migration from every controller")
        # Every migration belongs to its controller: id NAME:ID, its controller named, its source its own.
        for migration in store.migrations.values():
            assert migration.id == f"{migration.controller}:{migration.remote_id}"
            assert migration.source_name == f"controller:{migration.controller}"
            assert migration.to_dict()["controller"] == migration.controller
        assert {m.system for m in store.migrations.values()} >= {"2pc", "orderbook-rollout", "canary", "batch"}

        # An action goes to the migration's own controller, and to no other.
        canary = next(m for m in store.migrations.values() if m.controller == "canary")
        before = {
            m.id: _remote_status(m.controller, estate[m.controller].url, m.remote_id)
            for m in store.migrations.values()
            if m.controller != "canary"
        }
        app.dashboard.selected_id = canary.id
        app.dashboard.refresh_view()
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("enter")
        await _until(
            pilot,
            lambda: _remote_status("canary", estate["canary"].url, canary.remote_id) == "paused",
            "the canary controller says its migration is paused",
        )
        await _until(pilot, lambda: store.migrations[canary.id].status == "paused", "the screen shows it paused")
        for migration_id, status in before.items():
            migration = store.migrations[migration_id]
            assert _remote_status(
                migration.controller, estate[migration.controller].url, migration.remote_id
            ) != "paused" or (status == "paused"), f"{migration_id} was paused too"
        audit = (tmp_path / "audit.jsonl").read_text()
        assert '"controller":"canary"' in audit and canary.remote_id in audit

        # One controller dies: its migrations are marked failing, and only its.
        estate["batch"].stop()

        def state_of(name: str) -> FreshnessState:
            return freshness(store.source(f"controller:{name}"), feed.poll_interval_s, feed.now()).state

        await _until(pilot, lambda: state_of("batch") is FreshnessState.ERROR, "batch marked failing")
        assert not any(state_of(name) is FreshnessState.ERROR for name in ESTATE if name != "batch")
        # Fresh again once their next polls land (stopping the batch process blocked this loop a moment).
        await _until(
            pilot,
            lambda: all(state_of(name) is FreshnessState.FRESH for name in ESTATE if name != "batch"),
            "the other controllers fresh",
        )
        frame = Frame(store, feed.now(), poll_interval_s=feed.poll_interval_s)
        for migration in store.migrations.values():
            reasons = {j.reason for j in frame.judgements.get(migration.id, ())}
            if migration.controller == "batch":
                assert any("controller batch ERROR" in r for r in reasons if r), reasons
            else:
                assert not any("ERROR" in r for r in reasons if r), (migration.id, reasons)

        # It comes back on the same port: the same source recovers on its own.
        estate["batch"].start()
        await _until(pilot, lambda: state_of("batch") is FreshnessState.FRESH, "batch fresh again", tries=400)
