"""The migration's header and progress line claim only what the data supports.

Issue 14, items 4 and 5 and the last action: against the sample recordings and
small recordings written here (a controller that starts failing, a rollback,
a held step), driven through the real app with the pilot.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from migration_tui.feeds import ReplayFeed
from migration_tui.model import Migration
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.widgets import MigrationPane, ProgressLine
from tests.ui.conftest import settle

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
T0 = 1_700_000_000.0


def write_recording(path: Path, events: list[tuple[float, str, str, dict]]) -> Path:
    lines = [json.dumps({"format": "migration-tui/recording", "version": 2, "started_at": T0})]
    lines += [
        json.dumps({"ts": T0 + t, "source": source, "kind": kind, "data": data}) for t, source, kind, data in events
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def migration(t: float, progress: float, status: str = "in_progress", phase: str = "committing") -> tuple:
    data = {
        "id": "m1",
        "system": "2pc",
        "pair": "BTCUSDT",
        "status": status,
        "phase": phase,
        "progress": progress,
        "started_at": T0,
        "health": "HEALTHY",
    }
    return (t, "controller", "migration", data)


def has_eta(progress: str) -> bool:
    return re.search(r"ETA \d", progress) is not None


def shown(app: MigrationApp, widget) -> str:
    return app.dashboard.query_one(widget).render().plain


async def screen_text(path: Path, at: float, select: str | None = None, size=(100, 30)) -> tuple[str, str]:
    app = MigrationApp(ReplayFeed(path, playing=False))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot, at=at)
        if select is not None:
            app.dashboard.selected_id = select
            app.dashboard.refresh_view()
            await pilot.pause()
        return shown(app, MigrationPane), shown(app, ProgressLine)


# --- item 4: a failing controller -----------------------------------------------


@pytest.fixture()
def failing_controller(tmp_path: Path) -> Path:
    events = [migration(t, t / 3) for t in range(0, 61, 2)]
    events += [(float(t), "controller", "source_error", {"error": "connection refused"}) for t in range(62, 91, 2)]
    return write_recording(tmp_path / "failing.jsonl", events)


async def test_header_marks_last_known_values_while_the_controller_fails(failing_controller):
    header, progress = await screen_text(failing_controller, at=40)
    assert "✔ HEALTHY" in header and "last known" not in header  # fresh: shown as it is
    assert has_eta(progress) and "%/min" in progress

    header, progress = await screen_text(failing_controller, at=80)
    assert "✔ HEALTHY" not in header and "✔" not in header.splitlines()[0]
    assert "✖ ERROR 20s, last known: in_progress  HEALTHY" in header  # ERROR is critical, as the help says
    assert not has_eta(progress) and "%/min" not in progress
    assert "rate unknown, no ETA" in progress


# --- item 5: rate and ETA ---------------------------------------------------------


async def test_paused_shows_paused_and_no_eta():
    header, progress = await screen_text(SAMPLES / "2pc-commit.jsonl.gz", at=160)
    assert "paused, no ETA" in progress
    assert "%/min" not in progress and not has_eta(progress)


async def test_running_again_has_a_rate_and_an_eta():
    _header, progress = await screen_text(SAMPLES / "2pc-commit.jsonl.gz", at=200)
    assert "%/min  ETA " in progress


async def test_rollback_shows_falling_progress_and_no_eta():
    _header, progress = await screen_text(SAMPLES / "orderbook-rollout.jsonl.gz", at=290, select="rollout-solusdt")
    assert "↓" in progress and "rolling back" in progress
    assert not has_eta(progress)


async def test_a_step_held_is_held_not_an_eta():
    _header, progress = await screen_text(SAMPLES / "orderbook-rollout.jsonl.gz", at=150, select="rollout-xrpusdt")
    assert "held at 25 % for 1m05s, no ETA" in progress


def test_pace_rules_one_by_one():
    from migration_tui.ui.widgets.migration import pace, recent_rate

    def m(status="in_progress", phase="committing", progress=50.0, **details):
        return Migration("m", status=status, phase=phase, progress=progress, details=details)

    moving = [(0.0, 0.0), (30.0, 25.0), (60.0, 50.0)]
    assert recent_rate(moving, 60.0) == pytest.approx(50.0)
    assert pace(m(), moving, 60.0).kind == "forward"
    assert pace(m(), moving, 60.0).eta_s == pytest.approx(60.0)
    assert pace(m(eta_s=90.0), moving, 60.0).eta_s == 90.0  # the controller's own estimate
    assert pace(m(status="paused"), moving, 60.0).eta_s is None
    assert pace(m(), moving, 60.0, controller="bad").kind == "not_live"
    assert pace(m(), moving, 60.0, controller="warn").eta_s is None
    falling = [(0.0, 60.0), (30.0, 55.0), (60.0, 50.0)]
    assert pace(m(), falling, 60.0).kind == "falling"
    assert pace(m(phase="rolling_back"), falling, 60.0).text.startswith("↓ 10.00 %/min rolling back")
    assert pace(m(), [(0.0, 50.0)], 5.0).kind == "measuring"
    assert pace(m(), [(0.0, 50.0)], 90.0).kind == "held"
    assert pace(m(status="completed", progress=100.0), moving, 60.0).text == "finished"
    assert pace(m(status="aborted"), moving, 60.0).text == "ended: aborted"


# --- who did the last action ---------------------------------------------------------


async def test_header_says_who_paused_when_and_why(tmp_path: Path):
    events = [migration(t, min(t / 3, 40)) for t in range(0, 31, 2)]
    action = {"action": "pause", "migration_id": "m1", "requested_by": "ops@bastion", "reason": "p95 [b]rising[/b]"}
    events += [
        (30.0, "controller", "action", {**action, "stage": "confirmed"}),
        (30.0, "controller", "action", {**action, "stage": "sent"}),
        (30.5, "controller", "action", {**action, "stage": "answered", "result": "ok: accepted"}),
    ]
    events += [migration(t, 10.0, status="paused") for t in range(32, 240, 2)]
    path = write_recording(tmp_path / "paused.jsonl", events)
    header, _ = await screen_text(path, at=210.5)
    assert "paused by ops@bastion 3m ago: “p95 [b]rising[/b]”" in header


async def test_the_sample_pause_shows_without_a_requester():
    header, _ = await screen_text(SAMPLES / "2pc-commit.jsonl.gz", at=160)
    assert re.search(r"paused \(by whom not recorded\) \d+s ago", header)


async def test_help_explains_the_new_marks(make_app):
    from migration_tui.ui.screens.help import help_text

    app = make_app("2pc")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        text = help_text(app.dashboard).plain
    for mark in ("↓", "last known", "READ-ONLY"):
        assert f"  {mark}" in text


async def test_the_wall_marks_last_known_values_while_the_controller_fails(failing_controller):
    from migration_tui.ui.screens.wall import BigFigure, WallHeadline, WallScreen

    app = MigrationApp(ReplayFeed(failing_controller, playing=False), dashboard=WallScreen.rotating(15))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=80)
        headline = app.dashboard.query_one(WallHeadline).render().plain
        progress = app.dashboard.query_one("#figure-progress", BigFigure)
        note = str(progress.query_one(".figure-note").render())
        assert "✖ ERROR 20s, last known: in_progress" in headline and "● in_progress" not in headline
        assert "last known (controller ERROR 20s)" in note and progress.has_class("-warn")


async def test_batch_panel_drops_the_controllers_eta_when_it_is_not_live(tmp_path: Path):
    from migration_tui.ui.widgets import SystemPanel

    def batch(t: float) -> tuple:
        details = {"documents_migrated": t * 100, "documents_total": 120_000, "docs_per_s": 100, "eta_s": 1200 - t}
        data = {"id": "b1", "system": "batch", "status": "in_progress", "phase": "migrating"}
        return (t, "controller", "migration", {**data, "progress": t / 12, "started_at": T0, "details": details})

    events = [batch(float(t)) for t in range(0, 61, 2)]
    events += [(float(t), "controller", "source_error", {"error": "HTTP 503"}) for t in range(62, 91, 2)]
    path = write_recording(tmp_path / "batch.jsonl", events)
    app = MigrationApp(ReplayFeed(path, playing=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot, at=40)
        assert "ETA 19m20s" in shown(app, SystemPanel)  # the controller's own, while moving and live
        app.feed.seek_to(80)
        app.dashboard.refresh_view()
        await pilot.pause()
        assert "ETA —" in shown(app, SystemPanel)


async def test_the_panels_last_known_line_is_whole_at_80_columns(failing_controller: Path):
    """Found in tmux at 80x24: "✖ last known (controller ERROR 12s): the figures below are no…"."""
    from migration_tui.ui.widgets.system import SystemLines

    app = MigrationApp(ReplayFeed(failing_controller, playing=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, at=80)
        panel = app.dashboard.query_one(SystemLines)
        first = panel.render().plain.splitlines()[0]
        assert first.startswith("✖ last known (controller ERROR") and first.endswith("not live")
        assert len(first) <= panel.content_region.width, (first, panel.content_region.width)


async def test_the_panel_and_the_metrics_mark_last_known_values_while_their_source_fails(tmp_path: Path):
    """Issue 14 item 4: every pane whose data comes from a failing source says so, not the header alone."""
    from migration_tui.ui.widgets.metrics import MetricsValues
    from migration_tui.ui.widgets.system import SystemLines

    events = []
    for t in range(0, 61, 2):
        events.append(migration(t, t / 3))
        events.append((t + 0.5, "controller", "metrics", {"values": {"latency_p95_ms": 20.0, "error_rate_pct": 0.1}}))
    events += [(float(t), "controller", "source_error", {"error": "connection refused"}) for t in range(62, 91, 2)]
    path = write_recording(tmp_path / "failing-metrics.jsonl", events)

    def metrics_on_screen() -> str:  # the Overview's values (the Metrics tab holds another, not shown)
        return next(text for w in app.dashboard.query(MetricsValues) if (text := w.render().plain))

    app = MigrationApp(ReplayFeed(path, playing=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot, at=40)
        assert "last known" not in shown(app, SystemLines)
        values = metrics_on_screen()
        assert "latest" in values.splitlines()[0] and "last known" not in values
        await settle(app, pilot, at=80)
        assert shown(app, SystemLines).startswith("✖ last known (controller ERROR")
        values = metrics_on_screen()
        assert "last known" in values.splitlines()[0] and "20.0 ms" in values  # the value stays, said to be old
