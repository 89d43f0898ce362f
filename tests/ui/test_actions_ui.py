"""The action keys and the confirmation dialog against the simulator on a real socket.

The app is built the way ``watch`` builds it (``run.action_dashboard``): a real
controller source polls the simulator over HTTP and the action client POSTs to
it. What reached the server is counted on the server side. Faults the
simulator cannot produce on demand (a slow answer, a 500, a stalled GET) come
from ``Scripted``, which sits in front of the simulator inside the same real
HTTP server; it is the only stand-in here.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from migration_tui.config import Settings
from migration_tui.feeds import LiveFeed, ReplayFeed
from migration_tui.recording import RecordingReader
from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.server import start_in_thread
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.run import action_dashboard, build_watch
from migration_tui.ui.screens.confirm import ConfirmScreen
from migration_tui.ui.widgets import AlertsPane, LogPane
from tests.ui.conftest import settle

TOKEN = "ui-action-token-" + uuid.uuid4().hex
MID = "2pc-btcusdt"


class Scripted:
    """The simulator's handle() with scripted faults; records every POST it is given (server side)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.posts: list[dict] = []
        self.post_delay_s = 0.0
        self.post_answer: tuple[int, bytes] | None = None
        self.get_delay_s = 0.0
        self.lock = threading.Lock()

    def handle(self, method, path, headers, body):
        if method == "POST":
            lower = {k.lower(): v for k, v in headers.items()}
            with self.lock:
                self.posts.append({"path": path, "key": lower.get("idempotency-key"), "body": json.loads(body)})
            time.sleep(self.post_delay_s)
            if self.post_answer is not None:
                status, payload = self.post_answer
                return status, {"Content-Type": "application/json"}, payload
        elif self.get_delay_s:
            time.sleep(self.get_delay_s)
        return self.inner.handle(method, path, headers, body)


@pytest.fixture
def sim():
    clock = VirtualClock()
    clock.advance(10)  # 2pc-commit is preparing: every action but resume fits
    with start_in_thread("2pc-commit", clock=clock, token=TOKEN) as running:
        running.scripted = Scripted(running.controller)
        running.server.controller = running.scripted
        yield running


def build_app(sim, tmp_path, timeout_s: float = 2.0, **extra) -> MigrationApp:
    settings = Settings(
        controller=sim.url,
        token=TOKEN,
        audit_log=str(tmp_path / "audit.jsonl"),
        poll_interval_s=0.2,
        timeout_s=timeout_s,
        **extra,
    )
    feed, dashboard = build_watch(settings)  # as `watch` builds it
    assert dashboard is not None
    return MigrationApp(feed, dashboard=dashboard)


async def until(pilot, condition, what: str, tries: int = 300) -> None:
    """Let the app run until ``condition()`` holds (bounded; not a timing assertion)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


async def ready(app, pilot) -> None:
    await until(pilot, lambda: MID in app.feed.store.migrations, "the controller's first poll")
    await until(pilot, lambda: app.feed.store.source("controller").ok(), "a fresh controller")
    await pilot.pause()


def dialog(app) -> ConfirmScreen:
    assert isinstance(app.screen, ConfirmScreen), f"no dialog open (screen is {app.screen!r})"
    return app.screen


def result_text(app) -> str:
    return str(dialog(app).query_one("#result").render())


def audit_stages(tmp_path) -> list[str]:
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    return [json.loads(line)["stage"] for line in lines]


def applied(sim) -> list[str]:
    return [a.path.rsplit("/", 1)[1] for a in sim.controller.applied_actions]


async def test_pause_then_resume_confirmed_with_enter_and_y(sim, tmp_path):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("p")
        screen = dialog(app)
        summary = str(screen.query_one("#summary").render())
        assert MID in summary and "PAUSE" in summary and "freezes the migration" in summary
        assert "controller fresh" in summary
        await pilot.press("enter")
        await until(pilot, lambda: screen.outcome is not None, "the answer")
        assert "Controller answered: accepted: now paused" in result_text(app)
        await pilot.press("enter")  # closes after a final answer; sends nothing more
        await until(pilot, lambda: app.feed.store.migrations[MID].status == "paused", "the paused status")
        await pilot.press("u")
        await pilot.press("y")
        await until(pilot, lambda: dialog(app).outcome is not None, "the answer")
        await pilot.press("escape")
    assert applied(sim) == ["pause", "resume"]
    assert len(sim.scripted.posts) == 2
    first, second = sim.controller.received_actions
    assert first.idempotency_key != second.idempotency_key  # one key per decision
    assert first.reason == "pause from the migration-tui dashboard" and "@" in first.requested_by
    assert audit_stages(tmp_path) == ["opened", "confirmed", "sent", "answered"] * 2
    assert TOKEN not in (tmp_path / "audit.jsonl").read_text()
    logged = [line.message for line in app.feed.store.log]
    assert any(f"action pause on {MID}: answered" in message for message in logged)


async def test_resume_of_a_running_migration_says_it_is_not_paused(sim, tmp_path):
    """Found in tmux: u on a running migration opened a dialog whose only words were "continues a
    paused migration", and the controller's 409 came after Enter. The dialog says so first (and
    still sends if confirmed: the controller may know better)."""
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("p")
        assert "Note" not in str(dialog(app).query_one("#summary").render())  # a pause of a running one fits
        await pilot.press("escape")
        await pilot.press("u")
        summary = " ".join(str(dialog(app).query_one("#summary").render()).split())  # as read, unwrapped
        assert "Note it is in_progress, not paused: the controller will likely refuse" in summary
        await pilot.press("escape")
    assert applied(sim) == []


async def test_pause_says_how_to_give_a_reason_and_sends_it(sim, tmp_path):
    """Found in tmux: the pause dialog's reason is an empty compact Input (nothing drawn) under a
    bare "Reason:", and its hint named only Enter, y, Esc and n: typed text went nowhere."""
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("p")
        screen = dialog(app)
        assert "Tab reason" in str(screen.query_one("#hint").render())
        assert "Reason (Tab):" in str(screen.query_one("#reason-row Label").render())
        await pilot.press("tab", *"disk alarm", "enter")
        await until(pilot, lambda: screen.outcome is not None, "the answer")
        await pilot.press("escape")
    assert applied(sim) == ["pause"]
    assert sim.controller.received_actions[0].reason == "disk alarm"


async def test_abort_needs_the_id_typed_and_takes_the_reason_after_tab(sim, tmp_path):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("a")
        screen = dialog(app)
        assert screen.focused is screen.query_one("#typed-id")  # the cursor starts in the id field
        await pilot.press(*"2pc-btc", "enter")  # wrong (incomplete) id: nothing happens
        assert "nothing sent: the id typed does not match" in result_text(app)
        assert sim.scripted.posts == [] and screen.decision is not None and not screen.confirmed
        await pilot.press(*"usdt", "tab")
        assert screen.focused is screen.query_one("#reason")
        await pilot.press(*"lag on persistence", "enter")  # the default is selected: typing replaces it
        await until(pilot, lambda: screen.outcome is not None, "the answer")
        assert "accepted" in result_text(app)
    (post,) = sim.scripted.posts
    assert post["path"] == f"/api/v1/migrations/{MID}/abort"
    assert post["body"]["reason"] == "lag on persistence" and post["body"]["force"] is False
    assert applied(sim) == ["abort"]


async def test_rollback_with_the_id_typed(sim, tmp_path):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("r")
        await pilot.press(*MID, "enter")
        await until(pilot, lambda: dialog(app).outcome is not None, "the answer")
        assert "Controller answered: accepted" in result_text(app)
        summary = lambda: str(dialog(app).query_one("#summary").render())  # noqa: E731
        await until(pilot, lambda: "Now       in_progress / rolling_back" in summary(), "the new phase in the dialog")
    assert applied(sim) == ["rollback"]
    assert sim.controller.sim.migrations[0].phase == "rolling_back"


@pytest.mark.parametrize("key", ["escape", "n"])
async def test_cancel_sends_nothing(sim, tmp_path, key):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("p")
        dialog(app)
        await pilot.press(key)
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("a", "escape")  # Escape leaves the id field and the dialog at once
        assert not isinstance(app.screen, ConfirmScreen)
    assert sim.scripted.posts == [] and sim.controller.received_actions == []
    assert audit_stages(tmp_path) == ["opened", "cancelled", "opened", "cancelled"]


async def test_n_and_y_are_text_in_the_id_field(sim, tmp_path):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("a", "n", "y")
        screen = dialog(app)
        assert screen.query_one("#typed-id").value == "ny"
    assert sim.scripted.posts == []


async def test_double_press_and_enter_five_times_send_one_post(sim, tmp_path):
    sim.scripted.post_delay_s = 0.3  # the answer is still on its way while Enter is pressed again
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("p", "p")  # a second p lands on the dialog: no second dialog, nothing sent
        assert sim.scripted.posts == []
        screen = dialog(app)
        await pilot.press("enter", "enter", "enter", "enter", "enter")
        await until(pilot, lambda: screen.outcome is not None, "the answer")
    assert len(sim.scripted.posts) == 1
    assert applied(sim) == ["pause"]
    assert audit_stages(tmp_path).count("sent") == 1


async def test_timeout_says_unknown_rereads_and_retries_with_the_same_key(sim, tmp_path):
    sim.scripted.post_delay_s = 1.5  # the controller answers after the client has given up
    app = build_app(sim, tmp_path, timeout_s=0.5)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("p", "enter")
        screen = dialog(app)
        await until(pilot, lambda: screen.outcome is not None, "the timeout")
        assert "OUTCOME UNKNOWN" in result_text(app) and "R retry" in str(screen.query_one("#hint").render())
        await until(pilot, lambda: app.feed.store.migrations[MID].status == "paused", "the re-read status")
        sim.scripted.post_delay_s = 0.0
        await pilot.press("R")
        await until(pilot, lambda: screen.outcome is not None and screen.outcome.state == "ok", "the retry")
    first, second = sim.scripted.posts
    assert first["key"] == second["key"] == screen.decision.key
    assert applied(sim) == ["pause"]  # the retry was a replay: the controller acted once
    assert [a.replayed for a in sim.controller.received_actions] == [False, True]


async def test_409_shows_the_controllers_reason(sim, tmp_path):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("u", "enter")  # resume while not paused
        await until(pilot, lambda: dialog(app).outcome is not None, "the answer")
        text = result_text(app)
        assert "Refused by the controller: HTTP 409: migration is not paused" in text
        assert "R retry" not in str(dialog(app).query_one("#hint").render())
    assert applied(sim) == []


async def test_500_shows_the_servers_message_as_text(sim, tmp_path):
    sim.scripted.post_answer = (500, b'{"error": "[bold red]database exploded[/] \\u001b[2J"}')
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("p", "enter")
        await until(pilot, lambda: dialog(app).outcome is not None, "the answer")
        text = result_text(app)
        assert "Failed: HTTP 500: [bold red]database exploded[/]" in text  # literal, not markup
        assert "\x1b" not in text
    assert len(sim.scripted.posts) == 1


async def hang_the_controller(app, pilot, sim) -> None:
    """Make every GET hang, and wait until the controller's data is no longer fresh for good.

    A poll already past its list request when the delay starts still delivers data when its
    other requests time out (timeout_s = 2 s), so wait that out before judging freshness."""
    sim.scripted.get_delay_s = 30.0  # polls hang: the controller's data goes STALE, then ERROR
    await pilot.pause(2.5)
    await until(
        pilot,
        lambda: any(word in app.dashboard.query_one("#status").render().plain for word in ("STALE", "ERROR")),
        "STALE or ERROR",
    )


async def test_stale_data_disables_abort_until_overridden(sim, tmp_path):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await hang_the_controller(app, pilot, sim)
        await pilot.press("a")
        screen = dialog(app)
        # Opening the dialog is not an answer from the controller: the data is still not fresh.
        assert screen.stale and screen.has_class("-stale")
        assert "controller fresh" not in str(screen.query_one("#summary").render())
        assert "NOT FRESH" in str(screen.query_one("#stale").render())
        await pilot.press(*MID, "enter")
        assert "nothing sent: controller data is not fresh" in result_text(app)
        assert sim.scripted.posts == []
        assert screen.query_one("#override").display
        await pilot.press("ctrl+o", "enter")
        await until(pilot, lambda: screen.outcome is not None, "the answer")
    assert applied(sim) == ["abort"]
    assert audit_stages(tmp_path) == ["opened", "confirmed", "sent", "answered"]


async def test_fresh_data_enables_rollback_without_override(sim, tmp_path):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await hang_the_controller(app, pilot, sim)
        await pilot.press("r", *MID, "enter")
        screen = dialog(app)
        assert "not fresh" in result_text(app) and sim.scripted.posts == []
        sim.scripted.get_delay_s = 0.0  # the controller answers again
        await until(pilot, lambda: not screen.stale, "fresh data")
        await pilot.press("enter")
        await until(pilot, lambda: screen.outcome is not None, "the answer")
    assert applied(sim) == ["rollback"]


async def test_the_dialog_acts_on_the_migration_it_was_opened_for(sim, tmp_path):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("p")
        app.dashboard.selected_id = "something-else"  # the table moves underneath the dialog
        await pilot.press("enter")
        await until(pilot, lambda: dialog(app).outcome is not None, "the answer")
    assert [p["path"] for p in sim.scripted.posts] == [f"/api/v1/migrations/{MID}/pause"]


async def test_firing_rules_name_the_key_in_live_mode(sim, tmp_path):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        assert all(pane.show_keys for pane in app.dashboard.query(AlertsPane))


def test_no_action_dashboard_without_a_controller(tmp_path):
    settings = Settings(audit_log=str(tmp_path / "a.jsonl"))
    assert action_dashboard(settings, LiveFeed([])) is None


async def test_actions_are_recorded_and_shown_when_replayed(sim, tmp_path):
    recording = tmp_path / "with-actions.jsonl"
    app = build_app(sim, tmp_path, record=str(recording))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("p", "enter")
        await until(pilot, lambda: dialog(app).outcome is not None, "the answer")
        await pilot.press("enter")
    stages = [e.data["stage"] for e in RecordingReader(recording).events() if e.kind == "action"]
    assert stages == ["opened", "confirmed", "sent", "answered"]
    assert TOKEN not in recording.read_text()

    replay = MigrationApp(ReplayFeed(recording, playing=False))
    async with replay.run_test(size=(120, 40)) as pilot:
        await settle(replay, pilot, at=replay.feed.replay.duration)
        await pilot.press("6")
        await pilot.pause()
        log = replay.dashboard.query_one("#log-pane", LogPane)
        shown = "\n".join(line.plain for line in log.lines)
        assert f"action pause on {MID}: answered (ok: accepted: now paused" in shown


async def test_help_explains_the_dialog_and_the_stale_override(sim, tmp_path):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("question_mark")
        text = app.screen.query_one("#help-text").render()
        plain = text.plain if hasattr(text, "plain") else str(text)
        assert "ctrl+o (override stale data)" in plain and "type the id, then Enter" in plain
        for key, name in (("p", "Pause"), ("u", "Resume"), ("a", "Abort"), ("r", "Rollback")):
            assert f"  {key:<12}{name}" in plain


def test_alert_line_names_the_key_only_where_it_exists():
    from migration_tui.model import Alert
    from migration_tui.store import Store
    from migration_tui.ui.view import View
    from migration_tui.ui.widgets.alerts import alert_line

    view = View(store=Store(), now=0.0, mode="LIVE")
    firing = Alert("p95", "critical", 0.0, "m1: rollback recommended: p95 60 ms", "firing", 0.0, "rollback")
    pending = Alert("p95", "critical", 0.0, "m1: rollback recommended in 2m10s", "pending", 180.0, "rollback")
    assert alert_line(view, firing, show_keys=True).plain == "✖ FIRING press r: m1: rollback recommended: p95 60 ms"
    assert "press" not in alert_line(view, firing).plain  # read-only: no key that does not exist
    assert "press" not in alert_line(view, pending, show_keys=True).plain


async def test_y_does_not_confirm_abort_even_outside_the_id_field(sim, tmp_path):
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("a", *MID)
        screen = dialog(app)
        screen.set_focus(None)  # y is no longer text in the id field
        await pilot.press("y")
        assert not screen.confirmed
    assert sim.scripted.posts == []


def test_an_unusable_audit_log_path_is_a_clear_error(tmp_path):
    from migration_tui.config import ConfigError

    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = Settings(controller="http://127.0.0.1:9", audit_log=str(blocker / "audit.jsonl"))
    with pytest.raises(ConfigError, match="audit log"):
        build_watch(settings)


async def test_override_box_ticked_and_unticked_differ_in_text(sim, tmp_path, monkeypatch):
    """Issue 14 item 6: the state is in the characters, not only the colour (NO_COLOR)."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("a")
        box = dialog(app).query_one("#override")
        unticked = box.render().plain
        await pilot.press("ctrl+o")
        ticked = box.render().plain
        assert unticked.startswith("[ ]") and ticked.startswith("[x]")
        assert unticked != ticked
    assert sim.scripted.posts == []


async def test_fields_start_empty_and_say_what_to_type_and_the_default(sim, tmp_path):
    """No grey placeholder that looks typed: the id to type and the default reason are words beside empty fields."""
    app = build_app(sim, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("a")
        screen = dialog(app)
        for field in ("#typed-id", "#reason"):
            assert screen.query_one(field).value == "" and screen.query_one(field).placeholder == ""
        notes = " ".join(str(note.render()) for note in screen.query(".field-note"))
        assert f"type the id: {MID}" in notes
        assert "empty = default: “abort from the migration-tui dashboard”" in notes
        await pilot.press(*MID, "enter")  # the reason left empty: the default is sent
        await until(pilot, lambda: screen.outcome is not None, "the answer")
    (post,) = sim.scripted.posts
    assert post["body"]["reason"] == "abort from the migration-tui dashboard"


async def test_after_a_timeout_the_dialog_shows_what_the_reread_found(sim, tmp_path):
    sim.scripted.post_delay_s = 1.5  # the controller acts, but answers after the client gave up
    app = build_app(sim, tmp_path, timeout_s=0.5)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("p", "enter")
        screen = dialog(app)
        await until(pilot, lambda: screen.outcome is not None, "the timeout")
        assert "OUTCOME UNKNOWN" in result_text(app)
        await until(pilot, lambda: "status re-read: paused" in result_text(app), "the re-read shown in the dialog")
        assert "the pause took effect" in result_text(app)
    assert applied(sim) == ["pause"]
