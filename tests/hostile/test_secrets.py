"""The API token never leaves the Authorization header: not on screen, in a recording, the audit log or a log file.

Everything runs for real: the simulator requires the bearer token on
actions, the dashboard and ``record`` run as commands with the token in
MIGRATION_TUI_TOKEN, and HOME/XDG directories point into a temporary
directory so every file they write can be searched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from migration_tui.actions import ActionClient, AuditLog, Decision
from migration_tui.events import Event
from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.server import RunningSimulator, start_in_thread
from migration_tui.store import Store
from migration_tui.synthetic import START
from tests.hostile.terminal import ROOT, plain, run_in_pty

TOKEN = "tok-HOSTILE-5ecr3t-0123456789abcdef"


def every_file(*roots: Path) -> Iterator[Path]:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                yield path


def token_hits(data: bytes) -> int:
    return data.count(TOKEN.encode()) + data.count(TOKEN[4:20].encode())


@pytest.fixture()
def simulator() -> Iterator[RunningSimulator]:
    sim = start_in_thread("2pc-commit", clock=VirtualClock(START), token=TOKEN)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture()
def home(tmp_path: Path) -> dict[str, str]:
    """An environment whose HOME, config, state and cache directories are all under tmp_path."""
    dirs = {name: tmp_path / name for name in ("home", "config", "state", "cache", "data")}
    for path in dirs.values():
        path.mkdir()
    return {
        "HOME": str(dirs["home"]),
        "XDG_CONFIG_HOME": str(dirs["config"]),
        "XDG_STATE_HOME": str(dirs["state"]),
        "XDG_CACHE_HOME": str(dirs["cache"]),
        "XDG_DATA_HOME": str(dirs["data"]),
        "MIGRATION_TUI_TOKEN": TOKEN,
    }


def test_live_dashboard_and_its_recording_never_show_the_token(
    simulator: RunningSimulator, home: dict[str, str], tmp_path: Path
) -> None:
    recording = tmp_path / "live.jsonl"
    run = run_in_pty(
        ["watch", "--controller", simulator.url, "--record", str(recording)],
        env=home,
        until=lambda out: "2pc-btcusdt" in plain(out) and "fresh" in plain(out),
        keys=(b"2", b"3", b"6", b"1"),
        settle_s=2.0,
        deadline_s=25.0,
    )
    assert not run.notes and run.exited_on_q, (run.notes, plain(run.output)[-1500:])
    assert token_hits(run.output) == 0
    assert recording.stat().st_size > 0 and "2pc-btcusdt" in recording.read_text()
    for path in every_file(tmp_path):
        assert token_hits(path.read_bytes()) == 0, path


def test_the_record_command_never_writes_the_token(
    simulator: RunningSimulator, home: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "recorded.jsonl.gz"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_TUI_")} | home
    done = subprocess.run(
        [sys.executable, "-m", "migration_tui", "record", "--controller", simulator.url, "--out", str(out),
         "--duration", "1.5"],
        env=env, cwd=ROOT, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    import gzip

    body = gzip.decompress(out.read_bytes())
    assert b"2pc-btcusdt" in body
    assert token_hits(body) == 0
    assert token_hits(done.stdout + done.stderr) == 0
    for path in every_file(tmp_path):
        if path != out:
            assert token_hits(path.read_bytes()) == 0, path


class Echo(ThreadingHTTPServer):
    """A controller that echoes the Authorization header back in its error: the worst a server can do."""

    daemon_threads = True

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = json.dumps({"error": f"forbidden for {self.headers.get('Authorization')}"}).encode()
                self.send_response(403)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


async def test_actions_and_their_audit_log_never_carry_the_token(simulator: RunningSimulator, tmp_path: Path) -> None:
    audit_path = tmp_path / "audit.jsonl"
    events: list[Event] = []
    store = Store()

    def emit(event: Event) -> None:
        events.append(event)
        store.apply(event)

    audit = AuditLog(audit_path, secrets=(TOKEN,))
    client = ActionClient(simulator.url, "trading-service", audit, emit, token=TOKEN, timeout_s=5.0)
    migration_id = "2pc-btcusdt"
    outcome = await client.send(Decision("pause", migration_id, reason="hostile suite"))
    assert outcome.state in ("ok", "rejected"), outcome  # delivered and judged, with the token accepted
    assert outcome.status != 401
    assert simulator.controller.applied_actions, "the simulator took the action: the token was sent"

    echo = Echo()
    try:
        echoing = ActionClient(
            f"http://127.0.0.1:{echo.server_address[1]}", "trading-service", audit, emit, token=TOKEN
        )
        echoed = await echoing.send(Decision("abort", "m-1", reason="hostile suite"))
    finally:
        echo.shutdown()
        echo.server_close()
    assert echoed.state == "rejected" and echoed.status == 403
    assert token_hits(echoed.message.encode()) == 0, echoed.message
    assert token_hits(audit_path.read_bytes()) == 0
    assert token_hits(json.dumps([e.to_json_obj() for e in events]).encode()) == 0
    assert all(token_hits(line.message.encode()) == 0 for line in store.log)
