"""Pilot tests of the dashboard: panes, keys, replay controls, filter, help and palette."""

from __future__ import annotations

import pytest
from textual.widgets import Static, TabbedContent

from migration_tui.feeds import LiveFeed
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.screens.help import HelpScreen
from migration_tui.ui.widgets import (
    AlertsPane,
    BreakersTable,
    MigrationPane,
    ParticipantsTable,
    ProgressLine,
    StatusBar,
    SystemPanel,
)
from tests.ui.conftest import settle


def rendered_lines(pane) -> list[str]:
    """Each line of a metrics pane as shown: the label and sparkline, then the value and limit."""
    from migration_tui.ui.widgets.metrics import MetricsChart, MetricsValues

    chart = pane.query_one(MetricsChart).lines
    values = pane.query_one(MetricsValues).lines
    return [a.plain + b.plain for a, b in zip(chart, values, strict=False)][1:]


def rendered(widget) -> str:
    """The plain text a render()-based widget shows now."""
    return widget.render().plain


async def test_overview_shows_phase_progress_and_participants(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=150)
        pane = rendered(app.dashboard.query_one(MigrationPane))
        assert "mig-2pc-1" in pane and "BTCUSDT" in pane
        assert "▶ COMMITTING" in pane and "✔ prepared" in pane
        progress = rendered(app.dashboard.query_one(ProgressLine))
        assert "51.7%" in progress  # progress = t / 2.9 at t=150
        assert "ETA 2m" in progress
        system = rendered(app.dashboard.query_one(SystemPanel))
        for name in ("orderbook-1", "persistence-1", "marketdata-1", "engine-1"):
            assert name in system


async def test_heartbeat_age_turns_late_then_lost(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=210)  # marketdata's last heartbeat was at 198 s
        await pilot.press("2")
        await pilot.pause()
        table = app.dashboard.query_one(ParticipantsTable)
        assert "late" in table._rows.cells["marketdata-1"][4][0]
        assert table._rows.cells["marketdata-1"][4][1] == "warn"
        app.feed.seek_to(230)
        app.dashboard.refresh_view()
        await pilot.pause()
        assert table._rows.cells["marketdata-1"][4][1] == "bad"
        assert "LOST" in table._rows.cells["marketdata-1"][4][0]
        assert table._rows.cells["engine-1"][4][1] == "ok"


async def test_pending_alert_shows_its_countdown(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=150)
        text = rendered(app.dashboard.query_one(AlertsPane))
        assert "pending" in text and "rollback recommended in 2m" in text
        # Replay has no action path: no key is offered.
        assert "[r]" not in text


async def test_number_keys_switch_tabs(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tabs = app.dashboard.query_one(TabbedContent)
        for key, tab in (("2", "participants"), ("3", "breakers"), ("6", "log"), ("1", "overview")):
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == tab


async def test_replay_controls(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=100)
        replay = app.feed.replay
        status = app.dashboard.query_one(StatusBar)
        assert not replay.playing
        assert "PAUSED" in status.render().plain
        await pilot.press("right")
        assert replay.position == pytest.approx(110)
        await pilot.press("shift+right")
        assert replay.position == pytest.approx(170)
        await pilot.press("left", "shift+left")
        assert replay.position == pytest.approx(100)
        await pilot.press("plus")
        assert replay.speed == 2.0
        await pilot.press("plus", "minus", "minus")
        assert replay.speed == 1.0
        await pilot.press("minus")
        await pilot.pause()
        assert replay.speed == 0.5
        app.dashboard.refresh_view()
        assert "×0.5" in status.render().plain
        await pilot.press("space")
        assert replay.playing
        await pilot.pause()
        assert "PAUSED" not in status.render().plain
        await pilot.press("space")
        assert not replay.playing


async def test_seek_backwards_shows_the_earlier_state(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=280)
        assert "▶ COMMITTED" in rendered(app.dashboard.query_one(MigrationPane))
        for _ in range(20):
            await pilot.press("shift+left")
        await pilot.pause()
        assert app.feed.replay.position == 0
        assert "▶ PREPARING" in rendered(app.dashboard.query_one(MigrationPane))


async def test_brackets_switch_between_migrations(make_app):
    app = make_app("orderbook-rollout")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=150)
        dashboard = app.dashboard
        assert dashboard.selected_migration.pair == "BTCUSDT"
        await pilot.press("right_square_bracket")
        assert dashboard.selected_migration.pair == "ETHUSDT"
        assert "▶ ETHUSDT" in rendered(app.dashboard.query_one("#picker"))
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert dashboard.selected_migration.pair == "SOLUSDT"


async def test_orderbook_pairs_table_and_breakers(make_app):
    app = make_app("orderbook-rollout")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=242)
        system = rendered(app.dashboard.query_one(SystemPanel))
        assert "SOLUSDT" in system and "✖ OPEN" in system and "▲ DEGRADED" in system
        await pilot.press("3")
        await pilot.pause()
        breakers = app.dashboard.query_one(BreakersTable)
        assert breakers._rows.cells["SOLUSDT"][1] == ("✖ OPEN", "bad")
        assert breakers._rows.cells["BTCUSDT"][1] == ("✔ closed", "ok")
        assert breakers._rows.cells["SOLUSDT"][2][0] == "3"  # opened at 122, 182, 242 s


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("canary", ["traffic", "legacy", "new", "50% / 50%"]),
        ("batch", ["documents", "docs/s", "ETA", "health score", "95"]),
        ("dual-write", ["object write success", "98.20%", "outbox", "DUAL_WRITE on"]),
    ],
)
async def test_each_system_gets_its_own_view(make_app, scenario, expected):
    app = make_app(scenario)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot, at=200)
        system = rendered(app.dashboard.query_one(SystemPanel))
        for piece in expected:
            assert piece in system


async def test_filter_narrows_the_participants(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=100)
        await pilot.press("slash")
        await pilot.pause()
        assert app.dashboard.query_one(TabbedContent).active == "participants"
        await pilot.press(*"engine")
        await pilot.pause()
        table = app.dashboard.query_one(ParticipantsTable)
        assert table.shown_ids == ["engine-1"]
        # While typing, replay keys are text, not controls.
        await pilot.press("space")
        assert not app.feed.replay.playing
        await pilot.press("enter")
        await pilot.pause()
        assert table.has_focus
        await pilot.press("slash", *["backspace"] * len("engine"))
        await pilot.pause()
        assert len(table.shown_ids) == 4


async def test_help_screen_lists_the_keys_of_the_mode(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text", Static).content)
        for piece in ("Seek 10 s back", "Play or pause", "Filter", "Quit", "invalid", "—"):
            assert piece in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_live_mode_hides_replay_keys():
    app = MigrationApp(LiveFeed([], mode="LIVE"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.dashboard.check_action("toggle_play", ()) is False
        assert app.dashboard.check_action("help", ()) is True
        shown = {active.binding.action for active in app.dashboard.active_bindings.values()}
        assert "toggle_play" not in shown and "help" in shown


async def test_replay_mode_shows_replay_keys(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        shown = {active.binding.action for active in app.dashboard.active_bindings.values()}
        assert {"toggle_play", "faster", "slower", "seek(10.0)", "seek(-10.0)"} <= shown


async def test_palette_lists_every_allowed_action(make_app):
    from migration_tui.ui.commands import DashboardCommands

    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        provider = DashboardCommands(app.dashboard)
        titles = [hit.display async for hit in provider.discover()]
        text = " ".join(str(t) for t in titles)
        for piece in (
            "Every key",
            "Filter the participants",
            "Play or pause",
            "Seek 10 s back",
            "Replay faster",
            "Leave migration-tui",
            "Participants tab",
        ):
            assert piece in text
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CommandPalette"


async def test_q_quits(make_app):
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_rules_from_settings_replace_the_built_in_ones(recordings):
    from migration_tui.feeds import ReplayFeed
    from migration_tui.rules import rules_from_toml

    rules = rules_from_toml(
        '[[rule]]\nname = "busy"\nsystems = ["2pc"]\nseries = "throughput_ops"\nlabel = "throughput"\n'
        'threshold = 1000\nfor = "0s"\nseverity = "critical"\naction = "pause"\n'
    )
    app = MigrationApp(ReplayFeed(recordings["2pc"], playing=False), rules=rules)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=150)
        text = app.dashboard.query_one(AlertsPane).render().plain
        assert "FIRING" in text and "throughput 1500" in text
        assert "p95" not in text  # the built-in latency rule is not in force
        # The metric lines judge by the same rules: throughput has the file's limit, p95 none.
        values = {line.split()[0]: line for line in rendered_lines(app.dashboard.query_one("#overview-metrics"))}
        assert "1,000" in values["throughput"] and "✖" in values["throughput"]
        assert "50.0 ms" not in values["p95"]


def test_run_replay_refuses_a_bad_theme_or_rules_file(recordings, tmp_path, capsys):
    from migration_tui.config import Settings
    from migration_tui.ui.run import run_replay

    assert run_replay(str(recordings["2pc"]), Settings(theme="no-such-theme")) == 2
    assert "no theme named 'no-such-theme'" in capsys.readouterr().err
    bad_rules = tmp_path / "rules.toml"
    bad_rules.write_text('[[rule]]\nname = "x"\nkind = "nonsense"\n')
    assert run_replay(str(recordings["2pc"]), Settings(rules_file=str(bad_rules))) == 2
    assert "unknown kind" in capsys.readouterr().err


async def test_after_the_migration_ended_old_heartbeats_are_history_not_alarms():
    """2pc-commit replayed to its end: participants stopped reporting; nothing says late or LOST."""
    from pathlib import Path

    from migration_tui.feeds import ReplayFeed
    from migration_tui.systems.twopc.ui import two_pc_ages
    from migration_tui.ui.widgets import ParticipantsTable

    sample = Path(__file__).resolve().parents[2] / "sample_data" / "2pc-commit.jsonl.gz"
    app = MigrationApp(ReplayFeed(sample, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=10_000)
        migration = app.dashboard.selected_migration
        assert migration.status == "completed"
        members = app.feed.store.participants_of(migration.id)
        assert members and all(p.heartbeat_age_s(app.feed.now()) > 15 for p in members)  # old enough to be lost
        ages = "".join(line.plain for line in two_pc_ages(app.dashboard.build_view(), migration))
        assert "✖" not in ages and "▲" not in ages, ages
        await pilot.press("2")
        await settle(app, pilot)
        table = app.dashboard.query_one(ParticipantsTable)
        cells = [str(table.get_cell(p.id, "heartbeat")) for p in members]
        assert not any("LOST" in cell or "late" in cell for cell in cells), cells


def footer_line(app: MigrationApp) -> str:
    """The key bar's line as drawn."""
    from migration_tui.ui.widgets.footer import KeyBar

    bar = app.dashboard.query_one(KeyBar)
    return "".join(segment.text for segment in bar.render_line(0))


@pytest.mark.parametrize("mode", ["replay", "live with actions"])
async def test_every_footer_key_fits_at_80_columns(make_app, mode):
    from migration_tui.ui.screens.actions import ActionDashboard

    app = (
        make_app("2pc")
        if mode == "replay"
        else MigrationApp(LiveFeed([], mode="LIVE"), dashboard=ActionDashboard.with_client(None))
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        line = footer_line(app)
        wanted = {"Quit", "Help"} | ({"Speed", "Play/Pause"} if mode == "replay" else {"Rollback", "Abort", "Pause"})
        assert len(line.rstrip()) <= 80 and "…" not in line, line
        assert all(word in line.split() for word in wanted), line
        assert "palette" not in line
        # Wide, the palette's key is back on the right.
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        await pilot.pause()
        assert footer_line(app).rstrip().endswith("▏^p palette")


async def test_start_waits_for_the_index_then_seeks_and_plays(recordings):
    """``--start`` on a recording not yet indexed: no seek on the UI thread before the keyframes
    exist (it would read every event up to the offset while the terminal stays blank)."""
    from migration_tui.feeds import ReplayFeed

    feed = ReplayFeed(recordings["2pc"], start=150.0)
    seeks: list[tuple[float, bool]] = []
    real_seek = feed.replay.seek
    feed.replay.seek = lambda position: (seeks.append((position, feed.replay.indexed)), real_seek(position))[1]
    app = MigrationApp(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        for _ in range(50):
            if seeks:
                break
            await pilot.pause(0.05)
        assert seeks == [(150.0, True)]  # once, and only with the index built
        assert feed.replay.playing is True and feed.clock().seeking_to_s is None
        assert feed.replay.position >= 150.0
        app.dashboard.refresh_view()
        await pilot.pause()
        assert "▶ 0:02:3" in rendered(app.dashboard.query_one(StatusBar))


async def test_pressing_space_before_the_start_seek_keeps_it_paused_there(recordings):
    from migration_tui.feeds import ReplayFeed

    feed = ReplayFeed(recordings["2pc"], start=150.0, inline_index_bytes=0)  # indexed by the worker
    feed._index = lambda: None  # the index never finishes here, so the seek still waits
    app = MigrationApp(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await pilot.pause()
        assert "⏩ to 0:02:30 once indexed" in rendered(app.dashboard.query_one(StatusBar))
        feed._index_error = "gave up"  # then the index fails: seek anyway, and stay paused
        await pilot.pause(0.6)
        assert feed.replay.position == 150.0 and feed.replay.playing is False


async def test_the_key_bar_redraws_only_when_its_keys_change(make_app, monkeypatch):
    from migration_tui.ui.widgets.footer import KeyBar

    app = make_app("2pc")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        bar = app.dashboard.query_one(KeyBar)
        renders: list[str] = []
        real_render = bar.render
        monkeypatch.setattr(bar, "render", lambda: (renders.append("drawn"), real_render())[1])
        app.dashboard.refresh_bindings()  # a signal that changes nothing shown
        app.dashboard.query_one("#participants-table").focus()  # nor does focus: the keys keep their order
        await pilot.pause()
        await pilot.pause()
        assert renders == []
        assert footer_line(app).startswith(" ? Help  / Filter  [ ] Migration  space Play/Pause  ← → Seek 10s")
        await pilot.press("slash")  # typing a filter: the replay keys are text now, so they leave
        await pilot.pause()
        await pilot.pause()
        assert renders
        assert "Play/Pause" not in footer_line(app)


async def test_a_click_on_a_key_presses_it_and_hovering_shows_its_tooltip(make_app):
    from migration_tui.ui.widgets.footer import KeyBar

    app = make_app("2pc")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=100)
        bar = app.dashboard.query_one(KeyBar)
        help_key = next(hit for hit in bar.hits if hit.key == "question_mark")
        await pilot.hover(KeyBar, offset=(help_key.start, 0))
        assert bar.tooltip == "Every key, and what the symbols mean"
        seek = next(hit for hit in bar.hits if hit.key == "right")
        await pilot.click(KeyBar, offset=(seek.start, 0))
        await pilot.pause()
        assert app.feed.replay.position == pytest.approx(110)
        await pilot.click(KeyBar, offset=(help_key.start + 1, 0))
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"


async def test_wide_panes_are_built_once_at_their_final_width(make_app, monkeypatch):
    """The first layout already knows the terminal is wide: no pane is built stacked, then again
    side by side (a wasted layout, and a frame more to write before the screen is complete)."""
    from migration_tui.ui.widgets.metrics import MetricsChart

    widths: list[int] = []
    build = MetricsChart.build

    def recording_build(self, view, width):
        if self.parent is not None and self.parent.id == "overview-metrics":
            widths.append(width)
        return build(self, view, width)

    monkeypatch.setattr(MetricsChart, "build", recording_build)
    app = make_app("2pc")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        final = app.dashboard.query_one("#overview-metrics").query_one(MetricsChart).size.width
        assert final and {width for width in widths if width} == {final}


async def test_panes_of_fixed_height_are_built_once_and_never_at_width_zero(make_app, monkeypatch):
    """Layout never asks a fixed-height pane for its content height: it used to build its lines
    at width 0 before layout and again on its Resize, a frame after the first."""
    from migration_tui.ui.widgets import MigrationPane, StatusBar
    from migration_tui.ui.widgets.picker import MigrationPicker
    from migration_tui.ui.widgets.system import SystemAges

    builds: dict[str, list[int]] = {}
    for pane in (StatusBar, MigrationPane, MigrationPicker, SystemAges):
        real = pane.build

        def recording_build(self, view, width, real=real, name=pane.__name__):
            builds.setdefault(name, []).append(width)
            return real(self, view, width)

        monkeypatch.setattr(pane, "build", recording_build)
    app = make_app("2pc")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert set(builds) == {"StatusBar", "MigrationPane", "MigrationPicker", "SystemAges"}, builds
        for name, widths in builds.items():
            assert 0 not in widths, (name, widths)
            assert widths[0] == widths[-1] > 0, (name, widths)  # built at its final width from the start


async def test_the_dashboard_is_the_only_screen_beneath_the_dialogs(make_app):
    """No empty screen under the dashboard: one beneath passed its first paint up as a second
    full-screen frame."""
    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen_stack == [app.dashboard]
        await pilot.press("question_mark")
        await pilot.pause()
        assert len(app.screen_stack) == 2 and app.screen_stack[0] is app.dashboard
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard and app.is_running


async def test_the_log_follows_the_newest_line_unless_scrolled_back(make_app):
    """At the bottom the log keeps the newest line in view; scrolled back to read, it stays put
    when lines arrive (RichLog jumped to the end on every line)."""
    from migration_tui.ui.widgets import LogPane

    app = make_app("orderbook-rollout")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=60)
        await pilot.press("6")
        await settle(app, pilot, at=app.feed.replay.duration)
        log = app.dashboard.query_one("#log-pane", LogPane)
        newest = app.feed.store.log[-1].message
        assert log.is_vertical_scroll_end and log.max_scroll_y > 0
        shown = [strip.text for strip in (log.render_line(y) for y in range(log.size.height))]
        assert any(newest[:40] in line for line in shown), shown
        total = len(log.lines)
        app.feed.seek_to(0)  # the store is replaced: the log starts again, following
        await settle(app, pilot)
        middle = app.feed.replay.duration * 0.8
        app.feed.seek_to(middle)
        await settle(app, pilot)
        assert log.is_vertical_scroll_end and log.max_scroll_y > 0
        log.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        store, lines = app.feed.store, len(log.lines)
        app.feed.seek_to(app.feed.replay.duration)  # more lines while scrolled back: the view stays
        await settle(app, pilot)
        assert app.feed.store is store, "read on, not a keyframe: the same log, grown"
        assert len(log.lines) == total > lines and log.scroll_y == 0
        log.scroll_end(animate=False, immediate=True)  # back at the bottom: following again
        await pilot.pause()
        app.feed.seek_to(middle)
        await settle(app, pilot)
        app.feed.seek_to(app.feed.replay.duration)
        await settle(app, pilot)
        assert log.is_vertical_scroll_end


async def test_the_other_tabs_arrive_after_the_first_frame_and_show_at_once(make_app, monkeypatch):
    """Tabs 2-6 are filled just after the first frame (the first paint is the Overview's alone);
    a tab chosen before they are in still fills once they are, with no further key or event."""
    from migration_tui.ui.screens.base import TABS, MigrationScreen

    app = make_app("2pc")
    first: list[bool] = []  # at each time the screen re-read its views: were tabs still waiting?
    views_changed = MigrationScreen.views_changed

    def spy(screen: MigrationScreen) -> None:
        first.append(bool(screen.query(ParticipantsTable)))
        views_changed(screen)

    monkeypatch.setattr(MigrationScreen, "views_changed", spy)
    frames: list[bool] = []  # at each frame written: was the table in yet?
    display = app._display

    def spy_display(screen, renderable) -> None:
        if renderable is not None:
            frames.append(bool(screen.query(ParticipantsTable)))
        display(screen, renderable)

    app._display = spy_display
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")  # at once, before anything settles
        await app.workers.wait_for_complete()
        for _ in range(5):
            await pilot.pause()
        assert frames[0] is False and frames[-1] is True  # the first frame without the table; it came later
        assert first == [True]  # the screen re-read its views once, when every tab was in
        for pane_id, _name in TABS[1:]:
            assert app.dashboard.query_one(f"#{pane_id}").children, pane_id
        table = app.dashboard.query_one(ParticipantsTable)
        assert table.row_count == 4  # the 2pc recording's participants, drawn with no repaint asked for
        await pilot.press("4")
        await pilot.pause()
        assert app.dashboard.query_one("#metrics-tab").display


async def test_sparkline_columns_over_the_limit_are_drawn_in_the_over_colour(monkeypatch):
    """Each column of the throughput line whose value is over the rule's limit, and no other,
    is drawn in ``spark-over`` (the line appends runs of columns in one style at once)."""
    from pathlib import Path

    from migration_tui.feeds import ReplayFeed
    from migration_tui.rules import rules_from_toml
    from migration_tui.ui.widgets import metrics

    drawn: list[list[float | None]] = []  # the column values of each sparkline drawn, in order
    real_blocks = metrics.blocks

    def recording_blocks(values, **kwargs):
        drawn.append(list(values))
        return real_blocks(values, **kwargs)

    monkeypatch.setattr(metrics, "blocks", recording_blocks)
    rules = rules_from_toml(
        '[[rule]]\nname = "busy"\nsystems = ["2pc"]\nseries = "throughput_ops"\nlabel = "throughput"\n'
        'unit = " op/s"\nop = ">"\nthreshold = 1000\nfor = "0s"\nseverity = "warning"\naction = "pause"\n',
        "test rules",
    )
    sample = Path(__file__).resolve().parents[2] / "sample_data" / "2pc-commit.jsonl.gz"
    app = MigrationApp(ReplayFeed(sample, playing=False), rules=rules)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=150)
        chart = next(chart for chart in app.dashboard.query(metrics.MetricsChart) if chart.size.width)
        drawn.clear()
        chart.forget()
        chart.draw(app.dashboard.last_view)
        view = app.dashboard.last_view
        over, normal = view.style("spark-over"), view.style("spark-line")
        row = next(y for y, line in enumerate(chart.lines) if line.plain.startswith("throughput"))
        line, values = chart.lines[row], drawn[row - 1]  # line 0 is the axis
        styles = [None] * len(line.plain)
        for span in line.spans:
            for column in range(span.start, span.end):
                styles[column] = span.style
        shown = styles[metrics.LABEL_W + 1 :]
        assert len(shown) == len(values)
        expected = [over if value is not None and value > 1000 else normal for value in values]
        assert shown == expected
        assert over in shown and normal in shown
