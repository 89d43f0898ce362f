"""The recorder: live sources into a recording that replays to the same state, token-free."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from migration_tui.config import Settings
from migration_tui.events import Event
from migration_tui.headless import reduce_recording, state_dict
from migration_tui.recording import RecordingReader
from migration_tui.sources.base import Emit, Source
from migration_tui.sources.controller import ControllerSource
from migration_tui.sources.record import record, record_async
from migration_tui.store import Store
from tests.servers import wait_for
from tests.sources.conftest import LocalServer, send
from tests.sources.test_controller_source import TOKEN, two_pc, wait_until


class Tee:
    """Passes a real source's events to the recorder and keeps a copy: what the dashboard would have applied."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.name = inner.name
        self.seen: list[Event] = []

    async def run(self, emit: Emit) -> None:
        def both(event: Event) -> None:
            self.seen.append(event)
            emit(event)

        await self.inner.run(both)


def serve_echoing_two_pc(server: LocalServer) -> None:
    """A 2pc controller that sends a NaN progress and echoes the bearer token back in a phase and the votes."""
    migrations = [
        {"id": "m1", "pair": "BTCUSDT", "status": "in_progress", "phase": "prepared", "progress": float("nan")},
        {"id": "m2", "pair": "ETHUSDT", "status": "completed", "phase": f"committed {TOKEN}", "progress": 100},
    ]
    two_pc(server, migrations=migrations)

    def echo(handler: BaseHTTPRequestHandler) -> None:
        send(handler, 200, {"yes": 1, "no": 0, "pending": 0, "timeout": 0, "who": handler.headers.get("Authorization")})

    server.routes["/api/v1/migrations/m1/votes"] = echo
    server.json("/api/v1/migrations/m1/health", {"is_healthy": f"token {TOKEN}"})


async def test_record_then_replay_gives_what_the_live_store_held(local_server: LocalServer, tmp_path: Path) -> None:
    serve_echoing_two_pc(local_server)
    out = tmp_path / "live.jsonl.gz"
    tee = Tee(ControllerSource(local_server.url, token=TOKEN, poll_interval_s=0.05))
    stop = asyncio.Event()
    task = asyncio.create_task(record_async([tee], str(out), secrets=(TOKEN,), stop=stop))
    await wait_until(lambda: sum(e.kind == "participants" for e in tee.seen) >= 3)
    stop.set()
    summary = await task
    assert summary.events == len(tee.seen) and summary.write_error is None

    live = Store()
    for event in tee.seen:
        live.apply(event)
    replayed = reduce_recording(str(out), at=1e12)
    expected = state_dict(live, replayed["now"])
    assert replayed["migrations"] == expected["migrations"]
    assert {m["id"] for m in replayed["migrations"]} == {"m1", "m2"}
    m1 = next(m for m in replayed["migrations"] if m["id"] == "m1")
    assert m1["progress"] is None and "progress" in m1["invalid"]  # the invalid mark survives the file
    assert [p["id"] for p in m1["participants"]] == ["orderbook", "engine"]
    assert replayed["skipped_lines"] == 0
    assert all(TOKEN not in repr(event) for event in tee.seen)
    m2 = next(m for m in replayed["migrations"] if m["id"] == "m2")
    assert m2["phase"] == "committed [redacted]"
    assert RecordingReader(out).header is not None

    import gzip

    assert TOKEN.encode() not in gzip.decompress(out.read_bytes())


def test_record_without_a_controller_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert record(Settings(), str(tmp_path / "x.jsonl")) == 2
    assert "no controller" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()


def test_record_for_a_duration_exits_0_with_a_summary(
    local_server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_pc(local_server)
    out = tmp_path / "short.jsonl"
    assert record(Settings(controller=local_server.url, poll_interval_s=0.05), str(out), duration_s=0.5) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("recorded ") and str(out) in line and "controller" in line
    kinds = [event.kind for event in RecordingReader(out).events() if event.source == "controller"]
    assert "migration" in kinds


def test_record_into_a_missing_directory_exits_1(local_server: LocalServer, tmp_path: Path) -> None:
    two_pc(local_server)
    assert record(Settings(controller=local_server.url), str(tmp_path / "nope" / "x.jsonl"), duration_s=1) == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_record_command_stops_cleanly_on_a_signal(local_server: LocalServer, tmp_path: Path, signum: int) -> None:
    serve_echoing_two_pc(local_server)
    out = tmp_path / "cli.jsonl"
    env = {**os.environ, "MIGRATION_TUI_TOKEN": TOKEN, "MIGRATION_TUI_CONFIG": str(tmp_path / "none.toml")}
    (tmp_path / "none.toml").write_text("poll_interval_s = 0.1\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "migration_tui", "record", "--controller", local_server.url, "--out", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: out.exists() and b'"kind":"migration"' in out.read_bytes(), timeout=30)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert stdout.startswith("recorded ")
    assert TOKEN not in out.read_text() and TOKEN not in stdout and TOKEN not in stderr
    assert any(event.kind == "migration" for event in RecordingReader(out).events())


@pytest.mark.parametrize("scenario", ["2pc-abort", "orderbook-rollout", "canary", "batch", "dual-write"])
async def test_recording_the_simulator_replays_to_the_live_state(scenario: str, tmp_path: Path) -> None:
    import migration_tui.sim.server as server_module

    server = server_module.start_in_thread(scenario, speed=60.0, token=TOKEN)
    try:
        tee = Tee(ControllerSource(server.url, token=TOKEN, poll_interval_s=0.05))
        out = tmp_path / "sim.jsonl"
        stop = asyncio.Event()
        task = asyncio.create_task(record_async([tee], str(out), secrets=(TOKEN,), stop=stop))
        await wait_until(lambda: sum(e.kind == "source_ok" for e in tee.seen) >= 3)
        stop.set()
        await task
    finally:
        server.stop()
    live = Store()
    for event in tee.seen:
        live.apply(event)
    replayed = reduce_recording(str(out), at=1e12)
    assert replayed["migrations"] == state_dict(live, replayed["now"])["migrations"]
    assert len(replayed["migrations"]) == len(server.controller.sim.migrations)
    assert replayed["series"] == {name: series.latest() for name, series in live.series.items()}
    assert TOKEN not in out.read_text()
