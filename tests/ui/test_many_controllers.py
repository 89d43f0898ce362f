"""Issue 16 item 3, the screen side: many controllers, each migration belonging to its own.

Stores are built directly from events the way a named controller sends them: source
``controller:NAME``, migration ids ``NAME:ID`` and ``"controller": NAME`` in the data.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from migration_tui import systems
from migration_tui.actions import Outcome
from migration_tui.events import Event
from migration_tui.feeds import LiveFeed, ReplayFeed
from migration_tui.recording import RecordingWriter
from migration_tui.store import LogLine, Store
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.lookup import breaker_for, series_for
from migration_tui.ui.screens.confirm import ConfirmScreen
from migration_tui.ui.screens.fleet import FleetScreen
from migration_tui.ui.screens.wall import WallHeadline, WallScreen
from migration_tui.ui.view import View
from migration_tui.ui.widgets import StatusBar
from migration_tui.ui.widgets.fleet_list import FleetList
from migration_tui.ui.widgets.log import log_text
from migration_tui.ui.widgets.migration import controller_level, not_live_words
from migration_tui.ui.widgets.not_served import BREAKERS_PATH, not_served_lines
from migration_tui.ui.widgets.picker import MigrationPicker
from tests.ui.conftest import settle

T0 = 1_700_000_000.0


def named(controller: str, remote_id: str, **data: object) -> dict:
    base = {"system": "2pc", "status": "in_progress", "phase": "preparing", "progress": 40.0, "started_at": T0}
    return {**base, **data, "id": f"{controller}:{remote_id}", "controller": controller}


def two_controllers(now: float, west_fails: bool = True) -> Store:
    """east answers now; west last answered a minute ago and fails since. Both run a migration ``m1``."""
    store = Store()
    store.apply(Event(now - 60, "controller:west", "migration", named("west", "m1")))
    store.apply(Event(now - 60, "controller:west", "source_ok", {}))
    if west_fails:
        store.apply(Event(now - 1, "controller:west", "source_error", {"error": "connection refused"}))
    store.apply(Event(now, "controller:east", "migration", named("east", "m1")))
    store.apply(Event(now, "controller:east", "source_ok", {}))
    return store


# --- 1. freshness is the migration's own controller's ---------------------------------------


def test_a_failing_controller_marks_its_own_migrations_only():
    now = T0 + 100
    store = two_controllers(now)
    east, west = store.migrations["east:m1"], store.migrations["west:m1"]
    assert (east.remote_id, west.remote_id) == ("m1", "m1")  # the same id on two controllers: two migrations
    assert not_live_words(View(store=store, now=now, mode="LIVE", migration=east)) is None
    assert controller_level(View(store=store, now=now, mode="LIVE", migration=east))[0] == "ok"
    words = not_live_words(View(store=store, now=now, mode="LIVE", migration=west))
    assert words is not None and words.startswith("controller west ERROR")


def test_not_served_is_the_migrations_own_controllers():
    now = T0 + 100
    store = two_controllers(now, west_fails=False)
    store.apply(Event(now, "controller:west", "source_ok", {"not_served": [BREAKERS_PATH]}))
    east, west = store.migrations["east:m1"], store.migrations["west:m1"]
    assert not_served_lines(View(store=store, now=now, mode="LIVE", migration=east), BREAKERS_PATH) == []
    assert len(not_served_lines(View(store=store, now=now, mode="LIVE", migration=west), BREAKERS_PATH)) == 1


class FakeClient:
    """What the confirm dialog needs of an ActionClient; it records and never sends here."""

    def __init__(self) -> None:
        self.stages: list[str] = []

    def record(self, stage: str, decision, result: str = "") -> None:
        self.stages.append(stage)

    async def send(self, decision) -> Outcome:  # pragma: no cover - blocked before sending
        raise AssertionError("nothing may be sent")


async def open_confirm(app: MigrationApp, pilot, feed: LiveFeed, migration_id: str, action: str) -> ConfirmScreen:
    screen = ConfirmScreen(FakeClient(), action, feed.store.migrations[migration_id], feed)  # type: ignore[arg-type]
    app.push_screen(screen)
    await pilot.pause()
    return screen


async def test_a_failing_controller_blocks_abort_on_its_own_migration_only():
    feed = LiveFeed([], mode="LIVE")
    feed.store = two_controllers(time.time())
    app = MigrationApp(feed)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_confirm(app, pilot, feed, "west:m1", "abort")
        screen.query_one("#typed-id").value = "m1"  # the id as west knows it
        await pilot.pause()
        assert screen.stale
        assert screen.blocked_reason() == "controller data is not fresh: wait, or override with ctrl+o"
        assert "CONTROLLER DATA IS NOT FRESH (west)" in str(screen.query_one("#stale").render())
        summary = str(screen.query_one("#summary").render())
        assert "Sent to   controller west only" in summary and "controller west ERROR" in summary
        assert "on controller west" in str(screen.query_one("#id-note").render())
        screen.dismiss(None)
        await pilot.pause()

        screen = await open_confirm(app, pilot, feed, "east:m1", "abort")
        assert not screen.stale  # west failing does not block east
        screen.query_one("#typed-id").value = "east:m1"
        await pilot.pause()
        assert screen.blocked_reason() == "the id typed does not match"  # the remote id is what is typed
        screen.query_one("#typed-id").value = "m1"
        await pilot.pause()
        assert screen.blocked_reason() == ""
        assert "controller east fresh" in str(screen.query_one("#summary").render())


async def test_the_unnamed_controller_dialog_is_unchanged():
    feed = LiveFeed([], mode="LIVE")
    now = time.time()
    feed.store.apply(Event(now, "controller", "migration", {"id": "mig-1", "system": "2pc", "status": "in_progress"}))
    app = MigrationApp(feed)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_confirm(app, pilot, feed, "mig-1", "rollback")
        assert "To confirm, type the id: mig-1" == str(screen.query_one("#id-note").render())
        summary = str(screen.query_one("#summary").render())
        assert "Controller" not in summary and "controller fresh" in summary
        screen.query_one("#typed-id").value = "mig-1"
        await pilot.pause()
        assert screen.blocked_reason() == ""


# --- 2. pair-scoped breakers and series -----------------------------------------------------


def test_pair_series_and_breakers_are_the_migrations_own_controllers():
    store = Store()
    for name, p95, state in (("east", 20.0, "closed"), ("west", 90.0, "open")):
        source = f"controller:{name}"
        data = named(name, "r1", system="orderbook-rollout", pair="BTCUSDT", phase="50%")
        store.apply(Event(T0, source, "migration", data))
        store.apply(Event(T0, source, "breakers", {"breakers": [{"name": f"{name}:BTCUSDT", "state": state}]}))
        store.apply(Event(T0, source, "metrics", {"values": {f"{name}:BTCUSDT/latency_p95_ms": p95}}))
    east, west = store.migrations["east:r1"], store.migrations["west:r1"]
    assert series_for(store, east, "latency_p95_ms").latest() == 20.0
    assert series_for(store, west, "latency_p95_ms").latest() == 90.0
    assert breaker_for(store, east).state == "closed" and breaker_for(store, west).state == "open"
    # Prometheus' pair series are not scoped: still found by the plain pair.
    store.apply(Event(T0, "prometheus", "metrics", {"values": {"BTCUSDT/error_rate_pct": 0.5}}))
    assert series_for(store, east, "error_rate_pct").latest() == 0.5
    # The per-pair panel lists the migration's own controller's pairs, with their own breakers.
    panel = systems.ui("orderbook-rollout").panel
    west_rows = [line.plain for line in panel(View(store=store, now=T0, mode="LIVE", migration=west), west)]
    east_rows = [line.plain for line in panel(View(store=store, now=T0, mode="LIVE", migration=east), east)]
    assert len(west_rows) == len(east_rows) == 2  # the header and one pair, not the other controller's
    assert "OPEN" in west_rows[1] and "OPEN" not in east_rows[1]


# --- 3. the status bar: one mark per controller, compacted at 80 columns ------------------------


def many_controllers_feed(error: str = "refused") -> LiveFeed:
    feed = LiveFeed([], mode="LIVE")
    now = time.time()
    names = ["london", "frankfurt", "tokyo", "newyork", "singapore"]
    for name in names:
        feed.store.apply(Event(now - 1, f"controller:{name}", "migration", named(name, "m1")))
    feed.store.apply(Event(now, "controller:tokyo", "source_error", {"error": error}))
    feed.store.apply(Event(now, "prometheus", "source_ok", {}))
    return feed


async def status_of(feed: LiveFeed, size: tuple[int, int]) -> str:
    app = MigrationApp(feed)
    async with app.run_test(size=size) as pilot:
        app.dashboard.refresh_view()
        await pilot.pause()
        return app.dashboard.query_one(StatusBar).render().plain


async def test_status_bar_names_each_controller_at_120_columns():
    line = await status_of(many_controllers_feed(), (120, 40))
    sources = line.split("│", 1)[1]
    # Problems first, each controller by its name.
    assert sources.strip().startswith("ctl tokyo ✖ ERROR: refused  frankfurt ✔  london ✔  newyork ✔  singapore ✔")
    assert "prometheus ✔ fresh" in sources and "controller:" not in sources


async def test_status_bar_compacts_the_controllers_at_80_columns_and_names_the_failing_one():
    line = await status_of(many_controllers_feed("connection refused by peer"), (80, 24))
    sources = line.split("│", 1)[1]
    assert "ctl tokyo ✖ ERROR 4✔" in sources
    assert "london" not in sources and "…" not in sources
    assert "prometheus ✔ fresh" in sources


async def test_status_bar_with_one_unnamed_controller_is_as_before():
    feed = LiveFeed([], mode="LIVE")
    now = time.time()
    feed.store.apply(Event(now, "controller", "migration", {"id": "mig-1", "system": "2pc"}))
    line = await status_of(feed, (80, 24))
    assert line.split("│", 1)[1].strip() == "controller ✔ fresh"


# --- 4. the picker, the fleet, the wall and the log say which controller -----------------------


async def test_the_fleet_shows_the_controller_and_the_same_id_twice():
    for size in ((80, 24), (120, 40)):
        feed = LiveFeed([], mode="LIVE")
        feed.store = two_controllers(time.time(), west_fails=False)
        app = MigrationApp(feed)
        async with app.run_test(size=size) as pilot:
            await pilot.press("f")
            await pilot.pause()
            assert isinstance(app.screen, FleetScreen)
            fleet = app.screen.query_one(FleetList)
            assert sorted(fleet.order) == ["east:m1", "west:m1"]
            lines = [line.plain for line in fleet.lines]
            assert "controller" in lines[0]
            rows = {line.split()[1 if line.startswith("▶") else 0]: line for line in lines[1:]}
            assert set(rows) == {"m1"} or len(lines) == 3  # both rows read "m1", told apart by the column
            assert any(" east " in line for line in lines[1:]) and any(" west " in line for line in lines[1:])
            title = str(app.screen.query_one("#fleet-title").render())
            assert "2 migrations on 2 controllers" in title


async def test_the_picker_groups_ids_under_their_controller():
    feed = LiveFeed([], mode="LIVE")
    feed.store = two_controllers(time.time(), west_fails=False)
    app = MigrationApp(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        app.dashboard.refresh_view()
        await pilot.pause()
        line = app.dashboard.query_one(MigrationPicker).render().plain
    assert "west:" in line and "east:" in line
    assert "west:m1" not in line and "east:m1" not in line  # the name once, then the ids as it knows them


async def test_the_wall_headline_names_the_controller():
    feed = LiveFeed([], mode="WALL")
    feed.store = two_controllers(time.time())
    app = MigrationApp(feed, dashboard=WallScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        app.dashboard.refresh_view()
        await pilot.pause()
        headline = app.dashboard.query_one(WallHeadline).render().plain.splitlines()[0]
        shown = app.dashboard.selected_migration
    assert shown is not None and f"m1 on {shown.controller}" in headline


def test_the_log_names_a_named_controller_by_its_name():
    view = View(store=Store(), now=T0, mode="LIVE")
    text = log_text(view, LogLine(T0, "info", "controller:east", "poll ok")).plain
    assert " east " in text and "controller:" not in text
    assert " controller " in log_text(view, LogLine(T0, "info", "controller", "poll ok")).plain


# --- snapshots: two named controllers, west failing from 150 s --------------------------------

OFFSET_S = 190


def write_two_controllers(path: Path, seconds: int = 200) -> Path:
    with RecordingWriter(path, started_at=T0, meta={"scenario": "two-controllers"}) as writer:
        for second in range(0, seconds, 2):
            ts = T0 + second
            for name in ("east", "west"):
                source = f"controller:{name}"
                if name == "west" and second >= 150:
                    writer.write(Event(ts, source, "source_error", {"error": "connection refused"}))
                    continue
                progress = min(100.0, 10.0 + second * 0.3 + (5 if name == "west" else 0))
                writer.write(Event(ts, source, "migration", named(name, "mig-1", progress=progress)))
                breakers = []
                values = {}
                for pair in ("BTCUSDT", "ETHUSDT"):
                    data = named(
                        name,
                        f"roll-{pair.lower()}",
                        system="orderbook-rollout",
                        pair=pair,
                        phase="50%",
                        progress=50.0,
                        details={"migration_percentage": 50.0, "target_percentage": 100.0},
                    )
                    writer.write(Event(ts, source, "migration", data))
                    breakers.append({"name": f"{name}:{pair}", "state": "closed"})
                    values[f"{name}:{pair}/latency_p95_ms"] = 20.0 if name == "east" else 70.0
                    values[f"{name}:{pair}/error_rate_pct"] = 0.1
                writer.write(Event(ts, source, "breakers", {"breakers": breakers}))
                writer.write(Event(ts, source, "metrics", {"values": values}))
                writer.write(Event(ts, source, "source_ok", {}))
                if second % 40 == 0:
                    writer.write(Event(ts, source, "log", {"message": "polled", "level": "info"}))
    return path


@pytest.fixture(scope="module")
def two_controller_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_two_controllers(tmp_path_factory.mktemp("many") / "two-controllers.jsonl.gz")


class TestManyControllersSnapshots:
    """Two named controllers, the same ids on both, west failing: fleet and dashboard at 80x24 and 120x40."""

    @pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
    def test_fleet(self, snap_compare, two_controller_recording, size):
        app = MigrationApp(ReplayFeed(two_controller_recording, playing=False))

        async def run_before(pilot) -> None:
            await settle(app, pilot, at=OFFSET_S)
            await pilot.press("f")
            await settle(app, pilot)

        assert snap_compare(app, terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
    def test_dashboard(self, snap_compare, two_controller_recording, size):
        app = MigrationApp(ReplayFeed(two_controller_recording, playing=False))

        async def run_before(pilot) -> None:
            await settle(app, pilot, at=OFFSET_S)
            # From east's first migration to west's (the same id), whose controller fails.
            await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
            await settle(app, pilot)

        assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_an_action_one_controller_does_not_offer_is_refused_on_its_migrations_only(tmp_path):
    """east's profile offers every action; west's profile file offers pause only. Abort on west's
    migration says why and opens nothing; abort on east's opens the dialog."""
    from migration_tui.actions import ActionClient, ActionRouter, AuditLog
    from migration_tui.ui.screens.actions import ActionDashboard

    profile = tmp_path / "west.toml"
    profile.write_text(
        'format = "migration-tui/profile"\nversion = 1\nname = "west-api"\nsystem = "2pc"\n'
        '[migrations]\npath = "/m"\nitems = "@"\nid = "id"\nstatus = "status"\n'
        '[actions]\npause = "POST /m/{id}/hold"\n'
    )
    audit = AuditLog(tmp_path / "audit.jsonl")
    router = ActionRouter(
        [
            ActionClient("http://127.0.0.1:9", "trading-service", audit, lambda e: None, controller="east"),
            ActionClient("http://127.0.0.1:9", str(profile), audit, lambda e: None, controller="west"),
        ]
    )
    feed = LiveFeed([], mode="LIVE")
    feed.store = two_controllers(time.time(), west_fails=False)
    app = MigrationApp(feed, dashboard=ActionDashboard.with_client(router))
    async with app.run_test(size=(100, 40)) as pilot:
        app.dashboard.selected_id = "west:m1"
        app.dashboard.refresh_view()
        await pilot.pause()
        assert "abort" in app.dashboard.unoffered() and "pause" not in app.dashboard.unoffered()
        app.dashboard.open_dialog("abort")
        await pilot.pause()
        assert app.dashboard.dialog is None
        app.dashboard.selected_id = "east:m1"
        app.dashboard.refresh_view()
        await pilot.pause()
        assert app.dashboard.unoffered() == {}
        app.dashboard.open_dialog("abort")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)


def test_the_picker_keeps_the_selected_migration_in_view_at_80_columns():
    """Found in tmux at 80x24 on the demo: the window began two ids before the selected one, and two
    long neighbours under their controllers' names pushed the selected one out behind the "…"."""
    store = Store()
    controllers = ("batch", "dual-write", "2pc-commit", "2pc-abort", "canary")
    for name in controllers:
        for second in range(2):
            store.apply(Event(T0, f"controller:{name}", "migration", named(name, f"{name}-migration-{second}")))
    ids = list(store.migrations)
    assert len(ids) == 10
    for width in (78, 118, 40, 240):
        for position, migration_id in enumerate(ids):
            view = View(store=store, now=T0, mode="LIVE", migration=store.migrations[migration_id])
            line = MigrationPicker().build(view, width)[0].plain
            assert line.startswith(f"[{position + 1}/10] "), line
            assert f"▶ {migration_id.split(':', 1)[1]}" in line, (width, line)
            if width == 240 and position >= 2:  # room for what came before it: shown, as before
                assert ids[position - 1].split(":", 1)[1] in line, (width, line)
