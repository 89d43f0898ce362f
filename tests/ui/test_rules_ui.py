"""Issue 14, items 2, 3, 9 and 10 (rules): alerts that are true and name their migration.

Real replays of the sample recordings and of small recordings written here; the
dashboard driven by Textual's pilot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from migration_tui.events import Event
from migration_tui.feeds import ReplayFeed
from migration_tui.recording import RecordingWriter
from migration_tui.rules import load_rules
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.widgets import AlertsPane
from migration_tui.ui.widgets.fleet_list import FleetList
from tests.ui.conftest import settle

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
ROLLOUT = SAMPLES / "orderbook-rollout.jsonl.gz"
T0 = 1_700_000_000.0
TIGHT_P95 = (
    '[[rule]]\nname = "tight_p95"\nsystems = ["orderbook-rollout"]\nseries = "latency_p95_ms"\n'
    'label = "p95"\nunit = " ms"\nop = ">"\nthreshold = 1.0\nfor = "0s"\nseverity = "warning"\naction = "pause"\n'
)


def pane_text(app: MigrationApp) -> list[str]:
    return [line.plain for line in app.dashboard.query_one(AlertsPane).lines]


def redraw(app: MigrationApp) -> None:
    app.dashboard.query_one(AlertsPane).forget()
    app.dashboard.refresh_view()


def rule_lines(app: MigrationApp) -> list[str]:
    return [line.message for line in app.feed.store.log if line.source == "rules"]


async def test_the_rollback_at_270s_shows_the_breaker_rule_firing_and_p95_pending():
    """Item 3: today the pane says all clear while SOLUSDT rolls back with its breaker opened 4 times."""
    app = MigrationApp(ReplayFeed(ROLLOUT, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=270)
        assert app.dashboard.selected_migration.id == "rollout-btcusdt"  # completed: nothing of its own
        text = pane_text(app)
        breaker = [line for line in text if "breaker opened 4 times" in line]
        assert breaker and breaker[0].startswith("✖ FIRING other: rollout-solusdt: rollback under way")
        assert any(line.startswith("▲ pending other: rollout-solusdt: rollback under way; p95") for line in text)
        assert not any("within its threshold" in line for line in text)
        # The completed pair's rules are not judged, and say so (not as a warning, as a fact).
        assert any(line.startswith("? ") and "not judged: migration ended" in line for line in text)


async def test_enter_on_an_alert_opens_its_migration_and_keys_name_only_its_own():
    """Item 2: alerts by id, the selected migration's first, others marked; Enter opens one."""
    app = MigrationApp(ReplayFeed(ROLLOUT, playing=False), rules=load_rules_text(TIGHT_P95))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=150)
        pane = app.dashboard.query_one(AlertsPane)
        pane.show_keys = True  # as on a screen with the action keys (watch, demo)
        await pilot.press("right_square_bracket")
        assert app.dashboard.selected_migration.id == "rollout-ethusdt"
        redraw(app)
        await pilot.pause()
        text = pane_text(app)
        assert text[0].startswith("✖ FIRING press p: rollout-ethusdt: pause recommended: p95")
        others = [line for line in text if "other: " in line]
        assert others and all("press" not in line for line in others)
        assert {line.split("other: ")[1].split(":")[0] for line in others} >= {"rollout-solusdt", "rollout-xrpusdt"}
        assert all(text.index(line) > 0 for line in others)  # the selected one's first
        # Enter on another migration's alert opens that migration, as ] would.
        pane.focus()
        target = next(i for i, (alert, other) in enumerate(pane.alerts) if other)
        wanted = pane.alerts[target][0].migration
        for _ in range(target):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert app.dashboard.selected_migration.id == wanted
        redraw(app)
        await pilot.pause()
        assert pane_text(app)[0].startswith(f"✖ FIRING press p: {wanted}: pause recommended")


async def test_no_key_is_offered_for_a_rollback_already_under_way():
    app = MigrationApp(ReplayFeed(ROLLOUT, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=270)
        app.dashboard.selected_id = "rollout-solusdt"
        app.dashboard.query_one(AlertsPane).show_keys = True
        redraw(app)
        await pilot.pause()
        text = pane_text(app)
        assert text[0].startswith("✖ FIRING rollout-solusdt: rollback under way: breaker opened 4 times")
        assert not any("press" in line for line in text)


def load_rules_text(text: str):
    from migration_tui.rules import rules_from_toml

    return rules_from_toml(text, "test rules")


def write(path: Path, events: list[Event]) -> Path:
    with RecordingWriter(path, started_at=T0) as writer:
        for event in events:
            writer.write(event)
    return path


def healthy_2pc(ts: float) -> list[Event]:
    migration = {"id": "m1", "system": "2pc", "pair": "BTCUSDT", "status": "in_progress", "phase": "committing"}
    participants = {"migration_id": "m1", "participants": [{"id": "engine", "is_healthy": True}]}
    values = {"error_rate_pct": 0.1, "latency_p95_ms": 20.0, "memory_pct": 40.0}
    return [
        Event(ts, "controller", "migration", migration),
        Event(ts, "controller", "participants", participants),
        Event(ts, "controller", "breakers", {"breakers": [{"pair": "BTCUSDT", "open": False}]}),
        Event(ts, "controller", "metrics", {"values": values}),
    ]


async def test_a_failing_controller_is_never_an_all_clear(tmp_path):
    """Item 3: all clear only while every rule was judged; with the controller failing, say so."""
    events = [event for second in range(0, 10, 2) for event in healthy_2pc(T0 + second)]
    events += [Event(T0 + second, "controller", "source_error", {"error": "HTTP 503"}) for second in range(10, 30, 2)]
    app = MigrationApp(ReplayFeed(write(tmp_path / "failing.jsonl", events), playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=8)
        assert pane_text(app) == ["✔ no alerts: every rule is within its threshold"]  # judged, and fine
        await settle(app, pilot, at=20)
        text = pane_text(app)
        assert text == ["? 5 rules not judged: controller ERROR"]


async def test_no_migrations_is_not_an_all_clear(tmp_path):
    path = write(tmp_path / "empty.jsonl", [Event(T0 + 1, "host", "host", {"cpu_percent": 5.0})])
    app = MigrationApp(ReplayFeed(path, playing=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=1)
        assert pane_text(app) == ["— no migrations: nothing to judge"]


async def test_an_aborted_migration_is_not_judged():
    app = MigrationApp(ReplayFeed(SAMPLES / "2pc-abort.jsonl.gz", playing=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=10**6)
        assert app.dashboard.selected_migration.status == "aborted"
        assert pane_text(app) == ["? 5 rules not judged: migration ended"]


async def test_fleet_and_dashboard_use_the_helps_symbols(recordings):
    """Item 10: ✖ FIRING everywhere (a warning-severity rule was ▲ FIRING on the dashboard)."""
    rules = load_rules_text(
        '[[rule]]\nname = "busy"\nsystems = ["2pc"]\nseries = "throughput_ops"\nlabel = "throughput"\n'
        'threshold = 1000\nfor = "0s"\nseverity = "warning"\naction = "pause"\n'
    )
    app = MigrationApp(ReplayFeed(recordings["2pc"], playing=False), rules=rules)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=150)
        assert pane_text(app)[0].startswith("✖ FIRING ")
        await pilot.press("f")
        await pilot.pause()
        from migration_tui.ui.widgets.fleet_list import FleetList

        fleet = app.screen.query_one(FleetList)
        rows = [line.plain for line in fleet.lines[1:]]
        assert rows and "✖ FIRING pause: throughput" in rows[0]


async def play(app: MigrationApp, pilot, seconds: int) -> None:
    """Play the replay one second at a time, repainting after each (as its clock would)."""
    replay = app.feed.replay
    for _ in range(seconds):
        replay.playing = True
        replay.tick(1.0)
        replay.playing = False
        app.dashboard.refresh_view()
    await pilot.pause()


async def test_transitions_are_logged_once_and_the_bell_rings_once_per_rule():
    """Item 10: SOLUSDT's p95 goes pending at 93 s and fires at 273 s, the breaker rule fires at 262 s;
    each transition is logged once, and each rule rings the bell once.

    ``App.bell`` is replaced on the instance to count the rings: a terminal's BEL cannot be observed
    through the pilot."""
    app = MigrationApp(ReplayFeed(ROLLOUT, playing=False))
    rings: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.bell = lambda: rings.append(app.feed.now())  # type: ignore[method-assign]
        await settle(app, pilot, at=85)
        await play(app, pilot, 215)
        lines = rule_lines(app)
        firing = [line for line in lines if " FIRING" in line]
        assert [line.split(" FIRING")[0] for line in firing] == [
            "rollout-solusdt: rule breaker_flapping",
            "rollout-solusdt: rule latency_p95_high",
        ]
        assert any(line.startswith("rollout-solusdt: rule latency_p95_high pending") for line in lines)
        assert len(rings) == 2 and T0 + 262 <= rings[0] < T0 + 264
        assert len(set(lines)) == len(lines)
        # A seek back replays nothing into the log and rings nothing; playing through again logs
        # the transition anew (it happens again on screen) but the bell has rung for it already.
        await pilot.press("6")
        app.dashboard.action_seek(-60)  # as the ← key (shift) does
        app.dashboard.refresh_view()
        await pilot.pause()
        assert rule_lines(app) == [] and len(rings) == 2
        await play(app, pilot, 30)
        assert [line.split(" FIRING")[0] for line in rule_lines(app) if " FIRING" in line] == [
            "rollout-solusdt: rule breaker_flapping"
        ]
        assert len(rings) == 2
        # A jump forward of the clock without the key (a --start seek) is as silent.
        before = len(rule_lines(app))
        app.feed.seek_to(10)
        app.dashboard.refresh_view()
        app.feed.seek_to(290)
        app.dashboard.refresh_view()
        await pilot.pause()
        assert len(rule_lines(app)) <= before and len(rings) == 2


async def test_no_bell_when_turned_off():
    app = MigrationApp(ReplayFeed(ROLLOUT, playing=False), bell=False)
    rings: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.bell = lambda: rings.append(1.0)  # type: ignore[method-assign]  # counted, as above
        await settle(app, pilot, at=255)
        await play(app, pilot, 10)
        assert any(" FIRING" in line for line in rule_lines(app)) and rings == []


def test_no_bell_flag_and_config_key(tmp_path):
    from migration_tui.cli import build_parser, settings_from
    from migration_tui.config import ConfigError, build_settings

    for argv in (["replay", "x", "--no-bell"], ["watch", "--no-bell"], ["wall", "--no-bell"], ["demo", "--no-bell"]):
        assert settings_from(build_parser().parse_args(argv)).bell is False
    assert settings_from(build_parser().parse_args(["replay", "x"])).bell is True
    config = tmp_path / "config.toml"
    config.write_text("bell = false\n")
    assert build_settings({}, env={}, config_path=config).bell is False
    config.write_text('bell = "no"\n')
    try:
        build_settings({}, env={}, config_path=config)
    except ConfigError as exc:
        assert "bell" in str(exc)
    else:
        raise AssertionError("a bell that is not true or false was accepted")


async def test_headless_alerts_equal_the_panes_with_a_custom_rules_file(tmp_path):
    """Item 9: replay --headless honours MIGRATION_TUI_RULES, and says what the screen says."""
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(TIGHT_P95)
    env = {**os.environ, "MIGRATION_TUI_RULES": str(rules_file)}
    out = subprocess.run(
        [sys.executable, "-m", "migration_tui", "replay", str(ROLLOUT), "--headless", "--at", "150", "--json"],
        capture_output=True,
        timeout=60,
        check=True,
        env=env,
    )
    state = json.loads(out.stdout)
    headless = {(a["migration"], a["rule"], a["state"], a["message"]) for a in state["alerts"]}
    app = MigrationApp(ReplayFeed(ROLLOUT, playing=False), rules=load_rules(rules_file))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=150)
        pane = app.dashboard.query_one(AlertsPane)
        shown = {(a.migration, a.rule, a.state, a.message) for a, _other in pane.alerts}
        # Issue 15, item 2: the fleet view ranks the migrations as --headless does (one frame, both).
        await pilot.press("f")
        await pilot.pause()
        fleet_order = app.screen.query_one(FleetList).order
    assert headless and shown == headless
    assert {rule for _m, rule, _s, _t in headless} == {"tight_p95"}
    assert fleet_order == state["ranking"] and len(fleet_order) == len(state["migrations"])


async def test_the_walls_alert_line_tells_the_same_truth(tmp_path):
    """Item 3 on the wall: the rollback with its firing rule, ended pairs as ended, never a false all-clear."""
    from migration_tui.ui.screens.wall import FleetSummary, WallScreen

    app = MigrationApp(ReplayFeed(ROLLOUT, playing=False), dashboard=WallScreen.rotating(15.0))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot, at=270)
        summary = {line.plain[2:].split()[0]: line.plain for line in app.dashboard.query_one(FleetSummary).lines}
        assert "✖ ROLLING_BACK: FIRING breaker opened 4 times" in summary["rollout-solusdt"]
        assert "✔ no alerts" in summary["rollout-ethusdt"]  # every rule judged, within its threshold
        assert "no alerts" not in summary["rollout-btcusdt"]  # completed: not judged
    events = [event for second in range(0, 10, 2) for event in healthy_2pc(T0 + second)]
    events += [Event(T0 + second, "controller", "source_error", {"error": "HTTP 503"}) for second in range(10, 30, 2)]
    path = write(tmp_path / "failing.jsonl", events)
    app = MigrationApp(ReplayFeed(path, playing=False), dashboard=WallScreen.rotating(15.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=20)
        (line,) = [line.plain for line in app.dashboard.query_one(FleetSummary).lines]
        assert "? not judged: controller ERROR" in line and "no alerts" not in line


async def test_help_lists_the_rule_symbols(recordings):
    from textual.widgets import Static

    from migration_tui.ui.screens.help import HelpScreen

    app = MigrationApp(ReplayFeed(recordings["2pc"], playing=False))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text", Static).content)
        assert "pending rule" in text and "FIRING rule" in text
        assert "? " in text and "rule not judged" in text
