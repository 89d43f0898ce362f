"""Faults around the dashboard, each against real local processes (no mocks).

Faults already proven elsewhere are listed in docs/reliability.md with their
tests (refused connection, 500s, slow drip, never-answering server, garbage
and oversized bodies, redirects, Prometheus stopped, Redis killed mid-run).
Added here: the simulator stopped mid-run and absent at start, TLS
verification, a deeply nested Redis message and Prometheus error body, and
damaged or huge replay files through the real command.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from migration_tui.events import Event
from migration_tui.recording import RecordingWriter
from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.server import start_in_thread
from migration_tui.sources.base import Backoff
from migration_tui.sources.controller import ControllerSource
from migration_tui.sources.prometheus import PrometheusSource, QueryTemplate
from migration_tui.sources.redis import RedisSource
from migration_tui.store import Store
from migration_tui.synthetic import START, synthetic_events
from tests.servers import RedisServer, async_wait_for, free_port, start_simulate
from tests.sources.conftest import LocalServer

ROOT = Path(__file__).resolve().parents[2]
FAST = {"poll_interval_s": 0.1, "timeout_s": 1.0}


class Collected:
    """Events a source emitted, folded into a real Store as they come."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.store = Store()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self.store.apply(event)

    def kinds(self) -> list[str]:
        return [event.kind for event in self.events]

    def errors(self) -> list[str]:
        return [event.data["error"] for event in self.events if event.kind == "source_error"]


async def running(coro: Any) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(coro)
    await asyncio.sleep(0)
    return task


async def stop(task: asyncio.Task[Any]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled() or task.exception() is None  # the source never died on its own


# --- the controller -----------------------------------------------------------------


async def test_controller_absent_at_start_then_up_then_killed_mid_run() -> None:
    port = free_port()
    seen = Collected()
    source = ControllerSource(
        f"http://127.0.0.1:{port}", backoff=Backoff(base_s=0.1, cap_s=0.3), poll_interval_s=0.1, timeout_s=1.0
    )
    task = await running(source.run(seen))
    simulator = None
    try:
        await async_wait_for(lambda: seen.errors())
        assert "cannot connect" in seen.errors()[0]
        assert not seen.store.source("controller").ok()
        simulator = start_simulate(port)
        await async_wait_for(lambda: seen.store.migrations and seen.store.source("controller").ok(), timeout=30)
        simulator.kill()
        simulator.wait()
        before = len(seen.errors())
        await async_wait_for(lambda: len(seen.errors()) > before)
        health = seen.store.source("controller")
        assert not health.ok() and health.error
        assert seen.store.migrations, "what was known stays, marked by the source's error"
        simulator = start_simulate(port)
        await async_wait_for(lambda: seen.store.source("controller").ok(), timeout=30)
    finally:
        if simulator is not None:
            simulator.kill()
            simulator.wait()
        await stop(task)


# --- TLS --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with ``openssl req`` (cryptography is not installed)."""
    if subprocess.run(["which", "openssl"], capture_output=True).returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is required on CI")
        pytest.skip("openssl is not installed")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture()
def https_controller(self_signed: tuple[Path, Path]) -> Iterator[str]:
    """The simulator's 2pc controller behind a local HTTPS proxy with a self-signed certificate."""
    sim = start_in_thread("2pc-commit", clock=VirtualClock(START))
    import urllib.request

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            with urllib.request.urlopen(sim.url + self.path, timeout=5) as answer:  # noqa: S310 - loopback only
                body = answer.read()
                status = answer.status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, self_signed))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        sim.stop()


async def test_tls_verification_is_on_by_default_and_says_why(https_controller: str) -> None:
    source = ControllerSource(https_controller, **FAST)
    seen = Collected()
    async with source.make_client() as client:
        assert await source.poll_once(client, seen) is False
    (error,) = seen.errors()
    assert "certificate verify failed" in error, error
    assert not seen.store.migrations


async def test_insecure_accepts_the_self_signed_certificate(https_controller: str) -> None:
    source = ControllerSource(https_controller, verify_tls=False, **FAST)
    seen = Collected()
    async with source.make_client() as client:
        assert await source.poll_once(client, seen) is True
    assert seen.store.migrations and seen.store.source("controller").ok()


# --- Redis and Prometheus: payloads that used to end the source ---------------------------


async def test_a_deeply_nested_channel_message_does_not_end_the_redis_feed(
    redis_server: RedisServer, redis_url: str
) -> None:
    """Before the fix, RecursionError escaped RedisSource.run and the Redis feed stopped for good."""
    seen = Collected()
    source = RedisSource(redis_url, poll_interval_s=0.2, timeout_s=2.0, backoff=Backoff(base_s=0.1, cap_s=0.2))
    task = await running(source.run(seen))
    client = redis_server.client()
    try:
        await async_wait_for(lambda: "metrics" in seen.kinds())
        await async_wait_for(lambda: client.pubsub_numsub(source.channel)[0][1] >= 1)
        client.publish(source.channel, "[" * 100_000)
        client.publish(source.channel, json.dumps({"message": "\x1b]52;c;SGVsbG8=\x07 after", "level": "info"}))
        await async_wait_for(lambda: any("after" in line.message for line in seen.store.log))
        assert any("bad event message" in error for error in seen.errors())
        client.xadd(source.stream, {"migration_id": "m", "participant_id": "p", "at": str(START)})
        await async_wait_for(lambda: "heartbeat" in seen.kinds())
        assert not task.done()
    finally:
        client.close()
        await stop(task)


async def test_a_prometheus_answering_500_with_a_nested_body_is_an_error_not_a_crash(
    local_server: LocalServer,
) -> None:
    """A real HTTP server posing as Prometheus; before the fix its error body ended the source."""
    local_server.raw("/api/v1/query", b'{"status":"error","error":' + b"[" * 50_000 + b"}", status=500)
    local_server.raw("/api/v1/query_range", b"\x1b]52;c;SGVsbG8=\x07 not json", status=502, content_type="text/html")
    seen = Collected()
    source = PrometheusSource(
        local_server.url,
        {"latency_p95_ms": QueryTemplate("latency_p95_ms", "max(x)", "seconds")},
        poll_interval_s=0.1,
        timeout_s=1.0,
    )
    task = await running(source.run(seen))
    try:
        await async_wait_for(lambda: len(seen.errors()) >= 3)
        assert not task.done()
        for error in seen.errors():
            assert "HTTP 500" in error or "HTTP 502" in error, error
            assert "\x1b" not in error and "\x07" not in error
    finally:
        await stop(task)


# --- replay files -------------------------------------------------------------------


def headless(path: Path, at: float = 1e8) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "migration_tui", "replay", str(path), "--headless", "--at", str(at), "--json"],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def write_events(path: Path, count: int = 300) -> bytes:
    with RecordingWriter(path, started_at=START) as writer:
        for event in synthetic_events(count):
            writer.write(event)
    return path.read_bytes()


def test_a_truncated_replay_keeps_what_came_before(tmp_path: Path) -> None:
    whole = write_events(tmp_path / "whole.jsonl")
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(whole[: len(whole) // 2 + 17])  # mid-line
    state = headless(cut)
    assert state["migrations"][0]["id"] == "mig-1"
    assert state["skipped_lines"] == 1
    assert state["header_ok"] is True


def test_non_utf8_bytes_in_a_replay_are_skipped_and_counted(tmp_path: Path) -> None:
    lines = write_events(tmp_path / "src.jsonl").splitlines(keepends=True)
    damaged = tmp_path / "damaged.jsonl"
    bad = [
        b"\xff\xfe\x9b31m\n",
        b'{"ts": 1700000001, "source": "controller", "kind": "log", "data": {"message": "\xc3\x28"}}\n',
    ]
    damaged.write_bytes(b"".join(lines[:50] + bad + lines[50:]))
    state = headless(damaged)
    assert state["skipped_lines"] == 2
    assert state["events_applied"] == len(lines) - 1


def test_timestamps_out_of_order_never_move_the_clock_back(tmp_path: Path) -> None:
    path = tmp_path / "order.jsonl"
    with RecordingWriter(path, started_at=START) as writer:
        migration = {"id": "m", "status": "in_progress", "phase": "preparing", "progress": 10.0}
        writer.write(Event(START + 10, "controller", "migration", migration))
        writer.write(Event(START + 2, "controller", "migration", {**migration, "progress": 20.0}))  # late
        writer.write(Event(START + 0.0, "controller", "source_error", {"error": "from the past"}))
        writer.write(Event(START + 11, "controller", "migration", {**migration, "progress": 30.0}))
    at_5 = headless(path, at=5)
    assert at_5["migrations"] == []  # the late events play at t=10, after the one before them
    at_10 = headless(path, at=10)
    assert at_10["migrations"][0]["progress"] == 20.0
    assert headless(path)["migrations"][0]["progress"] == 30.0


def test_a_200_mb_replay_is_streamed_not_loaded(tmp_path: Path) -> None:
    """Peak RSS of ``replay --headless`` on a ~200 MB file stays far below the file's size (a bound, not a timing)."""
    path = tmp_path / "big.jsonl"
    block_events = list(synthetic_events(2_000))
    padding = "x" * 3_000  # long log lines: the file is big, parsing it stays quick
    with RecordingWriter(path, started_at=START) as writer:
        offset = 0.0
        while path.stat().st_size < 200 * 1024 * 1024:
            for event in block_events:
                writer.write(Event(event.ts + offset, event.source, event.kind, event.data))
            writer.write(Event(START + offset + 40, "controller", "log", {"message": padding}))
            for i in range(60):
                writer.write(Event(START + offset + 40 + i, "redis", "log", {"message": padding, "level": "info"}))
            offset += 41
    size_mb = path.stat().st_size / 1024 / 1024
    # The peak is read from /proc/self/status (VmHWM) inside the child at its end: wait4's
    # ru_maxrss would also count the parent's memory the child inherited before exec.
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['migration-tui', 'replay', sys.argv[1], '--headless', '--json']\n"
        "try:\n"
        "    runpy.run_module('migration_tui', run_name='__main__')\n"
        "finally:\n"
        "    sys.stderr.write(open('/proc/self/status').read())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout)
    assert state["migrations"][0]["id"] == "mig-1" and state["skipped_lines"] == 0
    hwm = next(line for line in done.stderr.decode().splitlines() if line.startswith("VmHWM:"))
    peak_mb = int(hwm.split()[1]) / 1024  # kB
    assert size_mb >= 190
    assert peak_mb < 150, f"peak RSS {peak_mb:.0f} MB for a {size_mb:.0f} MB file"


def test_the_screen_says_when_tls_verification_is_off(https_controller: str) -> None:
    from tests.hostile.terminal import plain, run_in_pty

    run = run_in_pty(
        ["watch", "--controller", https_controller, "--insecure", "--read-only", "--profile", "trading-service"],
        until=lambda out: "2pc-btcusdt" in plain(out) or "2pc" in plain(out) and "fresh" in plain(out),
        settle_s=1.0,
        deadline_s=20.0,
    )
    assert run.exited_on_q and not run.notes, run.notes
    assert "TLS NOT VERIFIED (--insecure)" in plain(run.output)
