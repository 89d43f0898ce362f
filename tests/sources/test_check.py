"""``migration-tui check`` against real servers: exit codes, one line per source, no secrets."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from migration_tui.config import Settings
from migration_tui.sources.check import check, masked_url
from tests.servers import RedisServer, free_port

pytestmark = pytest.mark.servers

TOKEN = "tok-s3cret-never-shown"


class _Controller(BaseHTTPRequestHandler):
    """A controller's /health and an empty migration list over a real socket; /moved redirects elsewhere."""

    seen_authorization: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        _Controller.seen_authorization.append((self.path, self.headers.get("Authorization")))
        if self.path == "/api/v1/migrations":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"[]")
        elif self.path == "/health":
            body = json.dumps({"status": "ok", "service": "trading-service\x1b[2J"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/moved/health":
            self.send_response(302)
            self.send_header("Location", "http://evil.example/steal")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
        pass


@pytest.fixture(scope="module")
def controller_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Controller)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run_check(settings: Settings) -> tuple[int, str]:
    out = io.StringIO()
    return check(settings, out), out.getvalue()


def test_nothing_configured_exits_2() -> None:
    code, output = run_check(Settings())
    assert code == 2
    assert "no source configured" in output


def test_all_reachable_exits_0(controller_url: str, redis_url: str) -> None:
    code, output = run_check(Settings(controller=controller_url, redis=redis_url, token=TOKEN, timeout_s=2))
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].startswith("controller") and "reachable (HTTP 200, service trading-service" in lines[0]
    assert lines[1].split() == ["profile", "trading-service"]  # found by the list's shape: the name is not one
    assert lines[2].split()[:3] == ["served", "GET", "/api/v1/migrations"]
    assert [line.split()[:2] for line in lines[3:-1]] == [["not", "served"]] * 3  # the optional ones, all 404
    assert lines[-1].startswith("redis") and "reachable (PING" in lines[-1]
    assert "\x1b" not in output
    assert TOKEN not in output
    seen = dict(_Controller.seen_authorization)
    assert seen["/health"] is None  # the token is not sent to a health check
    assert seen["/api/v1/migrations"] == f"Bearer {TOKEN}"  # the API gets it, as the dashboard's polls do


def test_one_unreachable_exits_1_and_names_it(redis_url: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    code, output = run_check(Settings(prometheus=dead, redis=redis_url, timeout_s=2))
    assert code == 1
    prometheus_line, redis_line = output.splitlines()
    assert prometheus_line.startswith("prometheus") and "UNREACHABLE" in prometheus_line and dead in prometheus_line
    assert redis_line.startswith("redis") and " reachable" in redis_line


def test_prometheus_healthy_endpoint(prometheus_server) -> None:
    server = prometheus_server([f"127.0.0.1:{free_port()}"])
    code, output = run_check(Settings(prometheus=server.url, timeout_s=2))
    assert (code, output.split()[0]) == (0, "prometheus")
    assert "reachable (HTTP 200)" in output


def test_redirect_is_not_followed(controller_url: str) -> None:
    code, output = run_check(Settings(controller=controller_url + "/moved", timeout_s=2))
    assert code == 1
    assert "redirects to evil.example; not followed" in output


def test_redis_password_is_masked_everywhere(redis_server: RedisServer) -> None:
    url = f"redis://:pa55word-xyz@127.0.0.1:{free_port()}/0"
    code, output = run_check(Settings(redis=url, timeout_s=1))
    assert code == 1
    assert "pa55word-xyz" not in output
    assert masked_url(url).startswith("redis://***@127.0.0.1:")


def test_cli_check_uses_the_environment(redis_url: str, tmp_path) -> None:
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path),
        "MIGRATION_TUI_REDIS": redis_url,
        "MIGRATION_TUI_PROMETHEUS": f"http://127.0.0.1:{free_port()}",
        "MIGRATION_TUI_TOKEN": TOKEN,
    }
    for key in ("MIGRATION_TUI_CONTROLLER", "MIGRATION_TUI_CONFIG"):
        env.pop(key, None)
    done = subprocess.run(
        [sys.executable, "-m", "migration_tui", "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert "redis" in done.stdout and "UNREACHABLE" in done.stdout
    assert TOKEN not in done.stdout + done.stderr
