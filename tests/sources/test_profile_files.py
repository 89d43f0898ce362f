"""Profile files (docs/profiles.md): an API the package has never seen, read through a TOML file.

``Rollouts`` below is written here, independently of the package: other field
names, nested objects, its own words (RUNNING / HELD / DONE, approve / reject),
ISO 8601 times and a 0..1 progress. It is served by the standard library's
``http.server`` on a real loopback socket; the dashboard's own code (the
controller source, the action client, ``check``, the dashboard with its
confirmation dialog) reads it through a profile file written by each test.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from migration_tui.actions import ActionClient, AuditLog, Decision
from migration_tui.cli import main
from migration_tui.config import ConfigError, Settings
from migration_tui.events import Event
from migration_tui.sources.check import check
from migration_tui.sources.controller import ControllerSource
from migration_tui.sources.profiles import UnknownProfile, load_profile
from migration_tui.sources.profiles.file import FileProfile

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "acme-token-" + "x" * 12

PROFILE = """\
format = "migration-tui/profile"
version = 1
name = "acme-rollouts"
system = "generic"
health = "/healthz"

[migrations]
path = "/v2/rollouts"
items = "data.items"
id = "uid"
status = "state.name"
phase = "state.step"
progress = "completion"
progress_scale = 100
pair = "labels.pair"
started_at = "times.began"
[migrations.status_map]
RUNNING = "in_progress"
HELD = "paused"
DONE = "completed"
CANCELLED = "aborted"

[participants]
path = "/v2/rollouts/{id}/members"
items = "members"
id = "name"
type = "kind"
vote = "ballot"
healthy = "ok"
last_heartbeat = "seen_at"
[participants.vote_map]
approve = "yes"
reject = "no"
waiting = "pending"

[breakers]
path = "/v2/breakers"
items = "@"
name = "pair"
open = "tripped"
reason = "why"

[actions]
pause = "POST /v2/rollouts/{id}/hold"
abort = "POST /v2/rollouts/{id}/cancel"
"""


class Rollouts:
    """Acme's rollout service: one rollout, its members and breakers; every POST is recorded."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rollout: dict[str, Any] = {
            "uid": "r-1",
            "state": {"name": "RUNNING", "step": "copying"},
            "completion": 0.35,
            "labels": {"pair": "BTCUSDT", "team": "core"},
            "times": {"began": "2024-05-01T10:00:00Z"},
        }
        self.members: list[dict[str, Any]] = [
            {
                "name": "writer",
                "kind": "service",
                "ballot": "approve",
                "ok": True,
                "seen_at": "2024-05-01T10:05:00+00:00",
            },
            {"name": "reader", "kind": "service", "ballot": "waiting", "ok": False, "seen_at": 1714557900},
        ]
        self.breakers: Any = [{"pair": "BTCUSDT", "tripped": False, "why": ""}]
        self.posts: list[dict[str, Any]] = []
        self.raw_list: bytes | None = None  # a test's own bytes for the list (NaN is not JSON json.dumps writes)

    def get(self, path: str) -> tuple[int, Any]:
        if path == "/healthz":
            return 200, {"ok": True}
        if path == "/v2/rollouts":
            return 200, self.raw_list if self.raw_list is not None else {"data": {"items": [self.rollout]}}
        if path == "/v2/rollouts/r-1/members":
            return 200, {"members": self.members}
        if path == "/v2/breakers":
            return 200, self.breakers
        return 404, {"error": "no such path"}

    def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        with self.lock:
            self.posts.append({"path": path, "headers": headers, "body": json.loads(body or b"{}")})
        if path == "/v2/rollouts/r-1/hold":
            self.rollout["state"] = {"name": "HELD", "step": "copying"}
        elif path == "/v2/rollouts/r-1/cancel":
            self.rollout["state"] = {"name": "CANCELLED", "step": "copying"}
        else:
            return 404, {"error": "no such path"}
        return 200, {"state": self.rollout["state"]["name"]}


@contextmanager
def serve(api: Rollouts) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            with api.lock:
                answer = api.get(self.path.split("?", 1)[0])
            self._send(*answer)

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._send(*api.post(self.path, headers, body))

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def api() -> Iterator[tuple[str, Rollouts]]:
    state = Rollouts()
    with serve(state) as url:
        yield url, state


def write(tmp_path: Path, text: str = PROFILE, name: str = "acme.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


async def poll(source: ControllerSource, times: int = 1) -> list[Event]:
    events: list[Event] = []
    async with source.make_client() as client:
        for _ in range(times):
            await source.poll_once(client, events.append)
    return events


def last(events: list[Event], kind: str) -> dict[str, Any]:
    return [e.data for e in events if e.kind == kind][-1]


# --- reading an unknown API -------------------------------------------------------------


async def test_an_unknown_api_is_read_through_a_profile_file(api, tmp_path) -> None:
    url, _state = api
    profile = load_profile(write(tmp_path))
    assert isinstance(profile, FileProfile) and profile.name == "acme-rollouts"
    events = await poll(ControllerSource(url, profile=write(tmp_path), token=TOKEN))
    assert [e.kind for e in events][-1] == "source_ok", [e.data for e in events if e.kind == "source_error"]
    migration = last(events, "migration")
    assert migration["id"] == "r-1" and migration["status"] == "in_progress" and migration["phase"] == "copying"
    assert migration["progress"] == pytest.approx(35.0) and migration["pair"] == "BTCUSDT"
    assert migration["started_at"] == 1714557600.0 and migration["invalid"] == []
    assert migration["system"]  # "generic" is shown on a view that exists
    participants = {p["id"]: p for p in last(events, "participants")["participants"]}
    assert participants["writer"]["vote"] == "yes" and participants["writer"]["healthy"] is True
    assert participants["writer"]["last_heartbeat"] == 1714557900.0
    assert participants["reader"]["vote"] == "pending" and participants["reader"]["healthy"] is False
    assert participants["reader"]["last_heartbeat"] == 1714557900.0
    assert last(events, "breakers")["breakers"] == [
        {"name": "BTCUSDT", "state": "closed", "open": False, "reason": "", "opens_10m": None}
    ]


async def test_pause_and_abort_go_to_the_profiles_routes_once_each(api, tmp_path) -> None:
    url, state = api
    profile = load_profile(write(tmp_path))
    events: list[Event] = []
    client = ActionClient(url, profile, AuditLog(tmp_path / "audit.jsonl"), events.append, token=TOKEN)
    assert client.unavailable("pause") == "" and client.unavailable("abort") == ""
    assert client.unavailable("resume") == "not offered by profile acme-rollouts"
    pause = Decision("pause", "r-1", "lag rising", requested_by="ops@host")
    abort = Decision("abort", "r-1", "data loss risk", requested_by="ops@host")
    assert (await client.send(pause)).state == "ok"
    assert (await client.send(abort)).state == "ok"
    resume = await client.send(Decision("resume", "r-1", "go on", requested_by="ops@host"))
    assert resume.state == "failed" and "not offered by profile acme-rollouts" in resume.message
    assert [p["path"] for p in state.posts] == ["/v2/rollouts/r-1/hold", "/v2/rollouts/r-1/cancel"]
    for post, decision in zip(state.posts, (pause, abort), strict=True):
        assert post["headers"]["authorization"] == f"Bearer {TOKEN}"
        assert post["headers"]["idempotency-key"] == decision.key
        assert post["body"]["reason"] == decision.reason and post["body"]["requested_by"] == "ops@host"
    assert state.posts[1]["body"]["force"] is False


async def test_abort_through_the_confirmation_dialog_with_the_typed_id(api, tmp_path) -> None:
    from migration_tui.ui.app import MigrationApp
    from migration_tui.ui.run import build_watch
    from migration_tui.ui.screens.confirm import ConfirmScreen

    url, state = api
    settings = Settings(
        controller=url,
        token=TOKEN,
        profile=write(tmp_path),
        audit_log=str(tmp_path / "audit.jsonl"),
        poll_interval_s=0.2,
        timeout_s=2.0,
    )
    feed, dashboard = build_watch(settings)  # as `watch --profile acme.toml` builds it
    app = MigrationApp(feed, dashboard=dashboard)

    async def until(pilot: Any, condition: Any, what: str) -> None:
        for _ in range(300):
            if condition():
                return
            await pilot.pause(0.05)
        raise AssertionError(f"never happened: {what}")

    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "r-1" in app.feed.store.migrations, "the first poll")
        await until(pilot, lambda: app.feed.store.source("controller").ok(), "a fresh controller")
        assert app.screen.check_action("resume", ()) is False  # not offered: shown disabled
        await pilot.press("u")  # says why, sends nothing
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("a")
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        await pilot.press(*"r-1", "enter")
        await until(pilot, lambda: screen.outcome is not None, "the answer")
        assert screen.outcome is not None and screen.outcome.state == "ok", screen.outcome
        await pilot.press("escape")
    assert [p["path"] for p in state.posts] == ["/v2/rollouts/r-1/cancel"]
    (post,) = state.posts
    assert post["headers"]["authorization"] == f"Bearer {TOKEN}" and post["headers"]["idempotency-key"]
    assert post["body"]["reason"] and "@" in post["body"]["requested_by"]


# --- check --------------------------------------------------------------------------------


def run_check(url: str, profile: str) -> tuple[int, str]:
    out = io.StringIO()
    code = check(Settings(controller=url, profile=profile, token=TOKEN, timeout_s=2.0), out)
    return code, " ".join(out.getvalue().split())  # the columns' widths are not what is tested


def test_check_passes_on_the_api_and_says_field_by_field_what_it_found(api, tmp_path) -> None:
    url, _state = api
    code, out = run_check(url, write(tmp_path))
    assert code == 0, out
    assert "reachable (HTTP 200)" in out and "profile acme-rollouts" in out
    assert "served GET /v2/rollouts [required] (1 migration)" in out
    assert "served GET /v2/rollouts/{id}/members [optional]" in out
    assert """migrations.status 'state.name' "RUNNING" -> status = in_progress""" in out
    assert """migrations.progress 'completion' 0.35 -> progress = 35.0""" in out
    assert """migrations.started_at 'times.began' "2024-05-01T10:00:00Z" -> started_at = 1714557600.0""" in out
    assert """participants.vote 'ballot' "approve" -> vote = yes""" in out
    assert TOKEN not in out


def test_check_fails_with_a_clear_line_on_a_field_the_answer_lacks(api, tmp_path) -> None:
    url, _state = api
    code, out = run_check(url, write(tmp_path, PROFILE.replace('status = "state.name"', 'status = "state.label"')))
    assert code == 1, out
    assert "migrations.status 'state.label' not found MISSING (required)" in out


def test_check_fails_on_a_word_the_status_map_cannot_use(api, tmp_path) -> None:
    url, state = api
    state.rollout["state"]["name"] = "WARMING"  # a word neither mapped nor ours
    code, out = run_check(url, write(tmp_path))
    assert code == 1, out
    assert """migrations.status 'state.name' "WARMING" -> not in status_map, not one of ours NOT USABLE""" in out


def test_check_refuses_a_profile_that_is_not_toml_with_one_line(api, tmp_path, capsys) -> None:
    url, _state = api
    broken = write(tmp_path, PROFILE.replace("[migrations]", "[migrations"), "broken.toml")
    code = main(["check", "--controller", url, "--profile", broken])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "broken.toml: not valid TOML" in err


def test_a_status_map_word_we_cannot_use_is_refused_at_load(tmp_path, capsys) -> None:
    bad = write(tmp_path, PROFILE.replace('HELD = "paused"', 'HELD = "on_hold"'), "bad.toml")
    code = main(["check", "--controller", "http://127.0.0.1:9", "--profile", bad])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert 'bad.toml: migrations.status_map.HELD: "on_hold" is not one of ours' in err


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (('progress = "completion"', 'progress = "completion[?"'), "migrations.progress", "not a JMESPath expression"),
        (('system = "generic"', 'system = "mainframe"'), "system", "is not a view we have"),
        (('pause = "POST /v2/rollouts/{id}/hold"', 'pause = "GET /v2/hold"'), "actions.pause", 'must be "POST /path"'),
        (('pause = "POST', 'pauze = "POST'), "actions.pauze", "unknown key"),
        (('id = "uid"', 'uid = "uid"'), "migrations.uid", "unknown key"),
        (('approve = "yes"', 'approve = "aye"'), "participants.vote_map.approve", "is not one of ours"),
        (("version = 1", "version = 2"), "version", "must be 1"),
        (('path = "/v2/rollouts/{id}/members"', 'path = "/v2/members"'), "participants.path", "must hold {id}"),
    ],
)
def test_a_bad_profile_file_is_one_line_naming_the_file_and_the_key(tmp_path, change, key, words) -> None:
    path = write(tmp_path, PROFILE.replace(*change))
    with pytest.raises(UnknownProfile) as caught:
        load_profile(path)
    message = str(caught.value)
    assert isinstance(caught.value, ConfigError)
    assert "\n" not in message and f"acme.toml: {key}" in message and words in message, message


def test_an_unknown_name_or_missing_file_is_one_line(tmp_path) -> None:
    with pytest.raises(UnknownProfile, match="unknown controller profile 'acme'"):
        load_profile("acme")
    with pytest.raises(UnknownProfile, match="nothing.toml: cannot read it"):
        load_profile(str(tmp_path / "nothing.toml"))


# --- at poll time: one line, and hostile answers ------------------------------------------------


async def test_a_missing_field_at_poll_time_is_one_error_line_naming_file_key_and_endpoint(api, tmp_path) -> None:
    url, state = api
    del state.rollout["state"]
    events = await poll(ControllerSource(url, profile=write(tmp_path)))
    (error,) = [e.data["error"] for e in events if e.kind == "source_error"]
    assert "acme.toml: migrations.status at GET /v2/rollouts: 'state.name' finds nothing in the item" in error
    assert '"uid": "r-1"' in error  # what the item held, shortened


async def test_an_unusable_word_at_poll_time_says_so(api, tmp_path) -> None:
    url, state = api
    state.members[0]["ballot"] = "abstain"
    events = await poll(ControllerSource(url, profile=write(tmp_path)))
    (error,) = [e.data["error"] for e in events if e.kind == "source_error"]
    assert "acme.toml: participants.vote at GET /v2/rollouts/r-1/members:" in error
    assert '"abstain" is not in participants.vote_map and not one of ours (yes, no, pending, timeout)' in error


async def test_hostile_answers_are_invalid_or_plain_text(api, tmp_path) -> None:
    url, state = api
    markup = "[bold red]x[/]\x1b[2J\x07"
    state.raw_list = json.dumps(
        {
            "data": {
                "items": [
                    {
                        "uid": "r-1",
                        "state": {"name": "RUNNING", "step": markup},
                        "completion": math.nan,
                        "labels": {"pair": markup},
                        "times": {"began": 1e300},
                    }
                ]
            }
        }
    ).encode()  # json.dumps writes NaN, as a careless server would
    state.members = [{"name": markup, "kind": "x", "ballot": "approve", "ok": "yes", "seen_at": math.inf}]
    state.breakers = [{"pair": "BTCUSDT", "tripped": True, "why": markup}]
    events = await poll(ControllerSource(url, profile=write(tmp_path)))
    migration = last(events, "migration")
    assert migration["progress"] is None and migration["started_at"] is None
    assert set(migration["invalid"]) == {"progress", "started_at"}
    (member,) = last(events, "participants")["participants"]
    assert member["healthy"] is None and member["last_heartbeat"] is None
    assert set(member["invalid"]) == {"healthy", "last_heartbeat"}
    # Text stays text in the events; the screen shows it literally, controls as a placeholder.
    assert migration["phase"] == markup and migration["pair"] == markup
    from migration_tui.safe_text import PLACEHOLDER, safe

    shown = safe(migration["pair"])
    assert shown.plain == "[bold red]x[/]" + PLACEHOLDER + "[2J" + PLACEHOLDER and not shown.spans
    assert last(events, "breakers")["breakers"][0]["reason"] == markup


async def test_a_hostile_word_in_an_error_line_reaches_it_cleaned(api, tmp_path) -> None:
    url, state = api
    state.rollout["state"]["name"] = "[bold]RUN\x1b[31m" + "x" * 500
    events = await poll(ControllerSource(url, profile=write(tmp_path)))
    (error,) = [e.data["error"] for e in events if e.kind == "source_error"]
    assert "\x1b" not in error and len(error) <= 400 and "[bold]RUN" in error


# --- the built-in trading-service, as a file ---------------------------------------------------------


@pytest.mark.parametrize("scenario", ["2pc-commit", "2pc-abort"])
async def test_the_trading_service_file_reads_the_simulator_as_the_builtin_does(scenario) -> None:
    sim_controller = pytest.importorskip("migration_tui.sim.controller")
    sim_transport = pytest.importorskip("migration_tui.sim.transport")
    sim_clock = pytest.importorskip("migration_tui.sim.clock")

    async def read(profile: str) -> list[Event]:
        clock = sim_clock.VirtualClock()
        controller = sim_controller.SimulatedController(scenario, clock=clock, token=TOKEN)
        transport = sim_transport.SimulatorTransport(controller)
        source = ControllerSource("http://sim", profile=profile, token=TOKEN, transport=transport, clock=clock.now)
        events: list[Event] = []
        async with source.make_client() as client:
            for _ in range(16):  # through the prepare, the vote and the end
                await source.poll_once(client, events.append)
                clock.advance(25.0)
        return events

    builtin, from_file = await asyncio.gather(
        read("trading-service"), read(str(ROOT / "examples" / "profiles" / "trading-service.toml"))
    )
    kinds = {event.kind for event in builtin}
    assert {"migration", "participants", "breakers", "metrics", "source_ok"} <= kinds
    assert [e.kind for e in builtin if e.kind == "source_error"] == []
    assert [(e.ts, e.kind, e.data) for e in from_file] == [(e.ts, e.kind, e.data) for e in builtin]
