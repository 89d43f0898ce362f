"""The relay (issue 18): one poller writes a Redis Stream, viewers read it. A real redis-server
(tests/conftest.py) and the real controller source against in-process simulators."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from migration_tui.events import Event
from migration_tui.relay import Relay, RelayRefused, RelaySource, keys, state_events
from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.server import start_in_thread
from migration_tui.sources.controller import ControllerSource
from migration_tui.store import Store
from tests.servers import async_wait_for


def _collect() -> tuple[Store, list[Event]]:
    return Store(), []


def _viewer(url: str, stream: str, poll: float = 0.2) -> tuple[RelaySource, Store, list[Event]]:
    store, events = _collect()
    source = RelaySource(url, stream, poll_interval_s=poll)
    return source, store, events


def _emit_into(store: Store, events: list[Event]):
    def emit(event: Event) -> None:
        events.append(event)
        store.apply(event)

    return emit


def _same_state(viewer: Store, relay: Store) -> None:
    assert set(viewer.migrations) == set(relay.migrations)
    for key, migration in relay.migrations.items():
        assert viewer.migrations[key] == migration
        assert viewer.participants_of(key) == relay.participants_of(key)
    assert viewer.breakers == relay.breakers
    for name, series in relay.series.items():
        assert name in viewer.series, name
        assert viewer.series[name].latest() == series.latest()


def test_the_state_of_a_store_survives_its_events():
    """state_events rebuilds migrations, participants, breakers (and when each opened), series and sources."""
    clock = VirtualClock()
    clock.advance(300)  # the rollout's breakers have opened by now
    with start_in_thread("orderbook-rollout", clock=clock) as sim:
        source = ControllerSource(sim.url, clock=clock.now)
        store = Store()

        async def polls() -> None:
            async with source.make_client() as client:
                for _ in range(5):
                    await source.poll_once(client, store.apply)
                    clock.advance(20)

        asyncio.run(polls())
    rebuilt = Store()
    for event in state_events(store):
        rebuilt.apply(event)
    _same_state(rebuilt, store)
    assert rebuilt.breaker_opens.keys() == store.breaker_opens.keys()
    assert {k: list(v) for k, v in rebuilt.breaker_opens.items()} == {
        k: list(v) for k, v in store.breaker_opens.items()
    }
    assert rebuilt.source("controller").last_success == store.source("controller").last_success


async def test_viewers_see_what_the_relay_polled_late_ones_from_its_snapshot(redis_url):
    stream = "t:relay"
    with start_in_thread("2pc-commit", speed=20.0) as sim:
        relay = Relay(
            redis_url,
            [ControllerSource(sim.url, poll_interval_s=0.1)],
            stream,
            snapshot_every=20,
            snapshot_s=0.5,
        )
        # The early viewer is reading before the relay starts: it sees the stream from its first entry.
        early, early_store, early_events = _viewer(redis_url, stream)
        early_task = asyncio.ensure_future(early.run(_emit_into(early_store, early_events)))
        await async_wait_for(lambda: early.last_id == "0-0" and early_events, timeout=10)
        assert "no relay is writing this stream" in (early_store.source("relay").error or "")
        task = asyncio.ensure_future(relay.run())
        try:
            await async_wait_for(lambda: relay.stats.snapshots >= 2 and relay.store.participants, timeout=20)
            late, late_store, late_events = _viewer(redis_url, stream)
            late_task = asyncio.ensure_future(late.run(_emit_into(late_store, late_events)))
            try:
                await async_wait_for(lambda: late_store.migrations, timeout=10)
                # The late viewer started from the snapshot, not from the stream's first entry.
                first_stream_id = await _first_id(redis_url, stream)
                assert late.last_id != "0-0" and late.last_id != first_stream_id
                await asyncio.sleep(0.6)
                relay_state = relay.store.snapshot()
                await async_wait_for(
                    lambda: all(
                        s.migrations.get(k) == m
                        for s in (early_store, late_store)
                        for k, m in relay_state.migrations.items()
                    ),
                    timeout=10,
                )
            finally:
                late_task.cancel()
        finally:
            task.cancel()
            early_task.cancel()
            await asyncio.gather(task, early_task, return_exceptions=True)
    # The early viewer read every entry it saw: the same events, in order, as the relay wrote.
    read = [e for e in early_events if e.source != "relay"]
    written = [e for e in _stream_events(redis_url, stream) if e.source != "relay"]
    assert len(read) >= 20 and read == written[: len(read)]
    assert early_store.source("controller").ok()
    assert early_store.source("relay").ok()


async def _first_id(url: str, stream: str) -> str:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        first = await client.xrange(stream, count=1)
        return first[0][0].decode()
    finally:
        await client.aclose()


def _stream_events(url: str, stream: str) -> list[Event]:
    import orjson
    import redis

    client = redis.Redis.from_url(url)
    try:
        out = []
        for _id, fields in client.xrange(stream):
            obj = orjson.loads(fields[b"e"])
            out.append(Event(obj["ts"], obj["source"], obj["kind"], obj["data"]))
        return out
    finally:
        client.close()


async def test_a_second_relay_on_the_same_stream_is_refused(redis_url):
    stream = "t:lease"
    with start_in_thread("canary") as sim:
        first = Relay(redis_url, [ControllerSource(sim.url, poll_interval_s=0.2)], stream)
        task = asyncio.ensure_future(first.run())
        try:
            await async_wait_for(lambda: first.stats.written > 0, timeout=10)
            second = Relay(redis_url, [ControllerSource(sim.url, poll_interval_s=0.2)], stream)
            with pytest.raises(RelayRefused, match="another relay is writing stream 't:lease' .* its heartbeat moves"):
                await second.run()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    # Stopped cleanly, the first gives the lease back: a relay can start again at once.
    import redis

    client = redis.Redis.from_url(redis_url)
    assert client.get(keys(stream)[2]) is None
    client.close()


async def test_a_viewer_never_writes(redis_url, redis_server):
    """The viewer connects as a Redis user that may only read: any write it tried would fail."""
    import redis

    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser(
        "viewer", enabled=True, passwords=["+viewerpw"], keys=["t:*"], commands=["+@read", "+ping", "+@connection"]
    )
    admin.close()
    stream = "t:ro"
    viewer_url = redis_url.replace("redis://", "redis://viewer:viewerpw@")
    with start_in_thread("batch", speed=20.0) as sim:
        relay = Relay(redis_url, [ControllerSource(sim.url, poll_interval_s=0.1)], stream, snapshot_every=5)
        task = asyncio.ensure_future(relay.run())
        viewer, store, events = _viewer(viewer_url, stream)
        viewer_task = asyncio.ensure_future(viewer.run(_emit_into(store, events)))
        try:
            await async_wait_for(lambda: store.migrations and store.source("relay").ok(), timeout=15)
        finally:
            task.cancel()
            viewer_task.cancel()
            await asyncio.gather(task, viewer_task, return_exceptions=True)
    assert not [e for e in events if e.kind == "source_error"], [e.data for e in events if e.kind == "source_error"]


async def test_redis_restarted_relay_keeps_and_viewer_resumes(redis_url, redis_server):
    """Redis goes away: the viewer shows the relay failing within two poll intervals, the relay keeps
    (and past its buffer, drops and counts) events; Redis back: both carry on on their own."""
    stream = "t:restart"
    said: list[str] = []
    poll = 0.2
    with start_in_thread("2pc-commit", speed=20.0) as sim:
        relay = Relay(redis_url, [ControllerSource(sim.url, poll_interval_s=0.05)], stream, buffer=5, say=said.append)
        task = asyncio.ensure_future(relay.run())
        viewer, store, events = _viewer(redis_url, stream, poll)
        viewer_task = asyncio.ensure_future(viewer.run(_emit_into(store, events)))
        try:
            await async_wait_for(lambda: store.source("relay").ok() and store.migrations, timeout=15)
            redis_server.stop()
            stopped = asyncio.get_running_loop().time()
            await async_wait_for(lambda: not store.source("relay").ok(), timeout=5)
            assert asyncio.get_running_loop().time() - stopped <= 2 * poll + 2.0  # socket timeouts included
            assert "redis" in (store.source("relay").error or "")
            await async_wait_for(lambda: relay.stats.dropped > 0, timeout=10)
            redis_server.start()
            await async_wait_for(lambda: store.source("relay").ok(), timeout=20)
            await async_wait_for(lambda: any("relay dropped" in line.message for line in store.log), timeout=10)
        finally:
            task.cancel()
            viewer_task.cancel()
            await asyncio.gather(task, viewer_task, return_exceptions=True)
    assert any("unreachable" in line for line in said) and any("dropped" in line for line in said)
    # The gap is a gap: every series the relay had seen got a null at the reconnection.
    gaps = [e for e in events if e.kind == "metrics" and e.source == "relay" and e.data["values"]]
    assert gaps and all(value is None for value in gaps[-1].data["values"].values())


def test_relay_command_line(redis_url, tmp_path):
    """`relay` needs --relay; a viewer with --relay takes no --prometheus and needs --profile for actions."""
    python = sys.executable

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, "-m", "migration_tui", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")},
        )

    missing = run("relay", "--controller", "http://127.0.0.1:9")
    assert missing.returncode == 2 and "no Redis to write to" in missing.stderr
    both = run("watch", "--relay", redis_url, "--prometheus", "http://127.0.0.1:9")
    assert both.returncode == 2 and "--relay reads every source from the relay" in both.stderr
    no_profile = run("watch", "--relay", redis_url, "--controller", "http://127.0.0.1:9")
    assert no_profile.returncode == 2 and "give --profile" in no_profile.stderr
    bad = run("watch", "--relay", "http://x")
    assert bad.returncode == 2 and "relay URL" in bad.stderr


def test_a_relay_viewer_is_read_only_unless_given_the_controller(redis_url, tmp_path):
    from migration_tui.config import Settings
    from migration_tui.ui.run import build_watch
    from migration_tui.ui.screens.actions import ActionDashboard

    viewer = Settings(relay=redis_url)
    feed, dashboard = build_watch(viewer)
    assert dashboard is None and feed.read_only
    assert [s.name for s in feed.sources] == ["relay"]
    acting = Settings(
        relay=redis_url, controller="http://127.0.0.1:9", profile="canary", audit_log=str(tmp_path / "a.jsonl")
    )
    feed, dashboard = build_watch(acting)
    assert not feed.read_only and dashboard is not None
    assert [s.name for s in feed.sources] == ["relay"]  # the controller is for actions only: never polled
    screen = dashboard(feed, None)
    assert isinstance(screen, ActionDashboard)


def _relay_process(controller_url: str, redis_url: str, stream: str, home) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "migration_tui",
            "relay",
            "--controller",
            controller_url,
            "--relay",
            redis_url,
            "--stream",
            stream,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")},
    )


async def test_relay_processes_refused_killed_and_restarted(redis_url, tmp_path):
    """`migration-tui relay` as real processes: a second one on the stream is refused (exit 2, one
    line); the first killed outright, a viewer shows the relay failing; a new one waits out the dead
    one's lease and the viewer carries on with its entries; Ctrl-C stops it with a summary."""
    import signal

    stream = "t:proc"
    with start_in_thread("canary", speed=10.0) as sim:
        first = _relay_process(sim.url, redis_url, stream, tmp_path)
        viewer, store, events = _viewer(redis_url, stream, poll=0.25)
        task = asyncio.ensure_future(viewer.run(_emit_into(store, events)))
        try:
            await async_wait_for(lambda: store.migrations and store.source("relay").ok(), timeout=30)
            second = _relay_process(sim.url, redis_url, stream, tmp_path)
            out, err = await asyncio.to_thread(second.communicate, timeout=30)
            assert second.returncode == 2, err
            assert "another relay is writing stream 't:proc'" in err
            first.send_signal(signal.SIGKILL)
            await asyncio.to_thread(first.wait, 10)
            await async_wait_for(lambda: not store.source("relay").ok(), timeout=6)
            assert "relay silent" in (store.source("relay").error or "")
            seen = len(events)
            third = _relay_process(sim.url, redis_url, stream, tmp_path)
            try:
                await async_wait_for(lambda: store.source("relay").ok(), timeout=30)
                await async_wait_for(lambda: any(e.source != "relay" for e in events[seen:]), timeout=10)
            finally:
                third.send_signal(signal.SIGINT)
                _out, err = await asyncio.to_thread(third.communicate, timeout=30)
            assert third.returncode == 0, err
            assert "stopped without letting go" in err and "event(s) written" in err
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            for process in (first,):
                if process.poll() is None:
                    process.kill()


async def test_a_dashboard_a_wall_and_a_recording_behind_one_relay_show_the_same_state(redis_url, tmp_path):
    """Three viewers of one relay (the simulator's clock held still, so there is one true state)."""
    from migration_tui.config import Settings
    from migration_tui.headless import reduce_recording
    from migration_tui.sources.record import record_async
    from migration_tui.ui.app import MigrationApp
    from migration_tui.ui.run import build_watch
    from migration_tui.ui.screens.wall import WallScreen
    from migration_tui.ui.widgets import MigrationPane

    stream = "t:three"
    clock = VirtualClock()
    clock.advance(200)  # the rollout well under way, then held
    with start_in_thread("orderbook-rollout", clock=clock) as sim:
        relay = Relay(redis_url, [ControllerSource(sim.url, poll_interval_s=0.2, clock=clock.now)], stream)
        task = asyncio.ensure_future(relay.run())
        try:
            await async_wait_for(lambda: len(relay.store.migrations) == 4 and relay.stats.written > 20, timeout=20)
            truth = {key: (m.status, m.phase, m.progress) for key, m in relay.store.migrations.items()}
            settings = Settings(relay=redis_url, relay_stream=stream, poll_interval_s=0.2)
            recording = asyncio.ensure_future(
                record_async(build_watch(settings)[0].sources, str(tmp_path / "viewer.jsonl"), duration_s=3.0)
            )

            def state(store: Store) -> dict:
                return {key: (m.status, m.phase, m.progress) for key, m in store.migrations.items()}

            feed, dashboard = build_watch(settings)
            assert dashboard is None and feed.read_only  # no controller given: nothing can be sent
            app = MigrationApp(feed)
            async with app.run_test(size=(120, 40)) as pilot:
                await async_wait_for(lambda: state(feed.store) == truth, timeout=10)
                await pilot.pause(0.3)
                shown = app.dashboard.query_one(MigrationPane).render().plain
                assert app.dashboard.selected_migration.id in shown
            wall_feed, _ = build_watch(settings, wall=True)
            wall = MigrationApp(wall_feed, dashboard=WallScreen.rotating(60))
            async with wall.run_test(size=(120, 40)) as pilot:
                await async_wait_for(lambda: state(wall_feed.store) == truth, timeout=10)
                await pilot.pause(0.3)
                assert wall.dashboard.selected_migration is not None
            summary = await recording
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert "relay" in summary.reached  # and the controller, as the relay saw it
    recorded = reduce_recording(str(tmp_path / "viewer.jsonl"), float("inf"))
    assert {m["id"]: (m["status"], m["phase"], m["progress"]) for m in recorded["migrations"]} == truth


async def test_a_viewer_that_joins_ten_minutes_into_an_hour_starts_from_the_snapshot(redis_url):
    """Ten minutes of a busy session through the relay; a viewer joining then applies one snapshot
    and the entries after it, not the 30,000 entries before, and holds the relay's state."""
    from migration_tui.synthetic import synthetic_events

    stream = "t:late"
    relay = Relay(redis_url, [], stream, snapshot_every=5000)
    task = asyncio.ensure_future(relay.run())
    try:
        for event in synthetic_events(600 * 50, events_per_second=50):  # ten minutes at 50 events/s
            relay.emit(event)
        await async_wait_for(lambda: not relay._pending and relay.stats.snapshots >= 1, timeout=60)
        viewer, store, events = _viewer(redis_url, stream)
        viewer_task = asyncio.ensure_future(viewer.run(_emit_into(store, events)))
        try:
            await async_wait_for(lambda: store.source("relay").ok(), timeout=10)
        finally:
            viewer_task.cancel()
            await asyncio.gather(viewer_task, return_exceptions=True)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len([e for e in events if e.source != "relay"]) < 30_000 // 2
    _same_state(store, relay.store)


async def test_a_relay_viewer_given_the_controller_acts_on_it_directly_and_sees_the_effect_through_the_relay(
    redis_url, tmp_path
):
    from migration_tui.config import Settings
    from migration_tui.ui.app import MigrationApp
    from migration_tui.ui.run import build_watch
    from migration_tui.ui.screens.actions import ActionDashboard

    stream = "t:act"
    with start_in_thread("2pc-commit", speed=5.0) as sim:
        relay = Relay(redis_url, [ControllerSource(sim.url, poll_interval_s=0.2)], stream)
        task = asyncio.ensure_future(relay.run())
        try:
            settings = Settings(
                relay=redis_url,
                relay_stream=stream,
                controller=sim.url,
                profile="trading-service",
                poll_interval_s=0.2,
                audit_log=str(tmp_path / "audit.jsonl"),
            )
            feed, dashboard = build_watch(settings)
            app = MigrationApp(feed, dashboard=dashboard)
            async with app.run_test(size=(100, 30)) as pilot:
                assert isinstance(app.dashboard, ActionDashboard)
                await async_wait_for(lambda: feed.store.migrations, timeout=10)
                migration_id = next(iter(feed.store.migrations))
                await pilot.press("p")
                await pilot.pause()
                await pilot.press("enter")
                await async_wait_for(lambda: sim.controller.applied_actions, timeout=10)
                # The effect reaches this viewer the way every other viewer sees it: through the relay.
                await async_wait_for(lambda: feed.store.migrations[migration_id].status == "paused", timeout=10)
                await pilot.press("enter")  # closes the dialog: nothing more is sent
                await pilot.pause(0.3)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert [(a.method, a.path) for a in sim.controller.applied_actions] == [
        ("POST", f"/api/v1/migrations/{migration_id}/pause")
    ]
    assert relay.store.migrations[migration_id].status == "paused"
    assert [s.name for s in feed.sources] == ["relay"]  # the controller itself was never polled by the viewer
