"""The demo mode: the in-process simulator polled by the real controller source, shown by the dashboard."""

from __future__ import annotations

from migration_tui.config import Settings
from migration_tui.feeds import LiveFeed
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.widgets import MigrationPane, StatusBar


def test_demo_builds_one_controller_source_per_scenario_and_a_host_source():
    from migration_tui.ui.demo import demo_sources

    settings = Settings(poll_interval_s=0.2)
    assert [s.name for s in demo_sources(settings, "canary")] == ["controller", "host"]
    # The whole demo is an estate: each scenario a controller of its own, named after it.
    names = [s.name for s in demo_sources(settings, None)]
    assert names == [
        "controller:2pc-commit",
        "controller:2pc-abort",
        "controller:orderbook-rollout",
        "controller:canary",
        "controller:batch",
        "controller:dual-write",
        "host",
    ]


async def test_demo_shows_a_live_migration():
    from migration_tui.ui.demo import demo_sources

    feed = LiveFeed(demo_sources(Settings(poll_interval_s=0.2), "batch", speed=10.0), mode="DEMO")
    app = MigrationApp(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            if feed.store.migrations:
                break
            await pilot.pause(0.05)
        app.dashboard.refresh_view()
        await pilot.pause()
        migration = app.dashboard.selected_migration
        assert migration is not None and migration.system == "batch"
        assert migration.id in app.dashboard.query_one(MigrationPane).render().plain
        status = app.dashboard.query_one(StatusBar).render().plain
        assert "DEMO" in status and "controller" in status


async def test_each_demo_system_keeps_its_own_series():
    """Six controllers feed one store: the dual-write p95 must be dual-write's, not 2pc's."""
    from migration_tui.store import Store
    from migration_tui.ui.demo import demo_sources
    from migration_tui.ui.lookup import latest

    store = Store()
    sources = [s for s in demo_sources(Settings(poll_interval_s=0.1), None) if s.name.startswith("controller:")]
    controllers = {s.base_url.split(".")[1]: s for s in sources}
    events: list = []
    for name in ("2pc-commit", "dual-write"):
        async with controllers[name].make_client() as client:
            assert await controllers[name].poll_once(client, events.append)
    for event in events:
        store.apply(event)
    by_system = {m.system: m for m in store.migrations.values()}
    twopc, dual = by_system["2pc"], by_system["dual-write"]
    dual_p95 = latest(store, dual, "latency_p95_ms")
    twopc_p95 = latest(store, twopc, "latency_p95_ms")
    assert dual_p95 is not None and twopc_p95 is not None
    # The dual-write controller reports its event latency in its status; the panel shows the same figure.
    assert dual_p95 == dual.details["latency_p95_ms"]
    assert "latency_p95_ms" not in store.series  # nothing controller-wide left to collide on


async def test_demo_actions_reach_the_simulator_that_runs_the_migration(tmp_path):
    """p then Enter in the demo pauses the selected migration in its own simulator, once, audited."""
    import json

    from migration_tui.ui.demo import demo_actions, demo_setup
    from migration_tui.ui.screens.actions import ActionDashboard

    settings = Settings(poll_interval_s=0.2, audit_log=str(tmp_path / "audit.jsonl"))
    sources, controllers = demo_setup(settings, None)
    feed = LiveFeed(sources, mode="DEMO")
    app = MigrationApp(feed, dashboard=ActionDashboard.with_client(demo_actions(settings, controllers, feed.emit)))
    by_scenario = {c.sim.spec.name: c for c in controllers}
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            if "dual-write:dual-write-events" in feed.store.migrations:
                break
            await pilot.pause(0.05)
        app.dashboard.selected_id = "dual-write:dual-write-events"
        app.dashboard.refresh_view()
        await pilot.press("p")
        await pilot.press("enter", "enter")
        for _ in range(100):
            if by_scenario["dual-write"].applied_actions:
                break
            await pilot.pause(0.05)
    applied = by_scenario["dual-write"].applied_actions
    assert [(a.method, a.path) for a in applied] == [("POST", "/api/v1/migration/pause")]
    others = [a for name, c in by_scenario.items() if name != "dual-write" for a in c.received_actions]
    assert others == []
    stages = [json.loads(line)["stage"] for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert stages == ["opened", "confirmed", "sent", "answered"]
