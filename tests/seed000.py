"""A controller that serves seed 000's API as its runbook shows it, and nothing of seed 001.

Written from the seed text (``shared/seeds/000_*.txt``), not from the simulator:
``GET /health`` (``curl -f``, so no ``service`` field), ``GET /api/v1/migrations``
and ``/api/v1/migrations/{id}``, per migration ``/participants``, ``/votes`` and
``/health``, and ``POST .../pause``, ``/resume``, ``/abort {reason, force}``,
``/rollback {reason}``. Everything else (``/admin/circuit-breaker/status``,
``/admin/migration/status``, ``/metrics``) answers 404, as a real seed-000
service's router would. It is a real ``http.server`` on a loopback port; it
records every request, and a test may override the answer of any path.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: A migration id as seed 000 makes them (``uuidgen``).
MIGRATION_ID = "0b9f7c2e-5d1a-4c8e-9f3b-2a6d4e8c1f70"
PARTICIPANTS = ("orderbook", "persistence", "marketdata", "engine")


class Seed000Controller:
    """The state behind the server: one migration in the prepare phase, its participants and votes."""

    def __init__(self, migration_id: str = MIGRATION_ID, pair: str = "BTCUSDT", extra: dict | None = None) -> None:
        self.migration: dict[str, Any] = {
            "id": migration_id,
            "pair": pair,
            "status": "in_progress",
            "phase": "preparing",
            "progress": 35.0,
            "requested_by": "ops",
            "config": {
                "target_implementation": "new_orderbook_v2",
                "migration_percentage": 100,
                "prepare_timeout": "5m",
                "enable_rollback": True,
                "participant_ids": list(PARTICIPANTS),
            },
            **(extra or {}),
        }
        self.lock = threading.Lock()
        self.gets: list[str] = []
        self.posts: list[dict[str, Any]] = []
        #: path -> (status, body): a test's answer instead of the normal one.
        self.overrides: dict[str, tuple[int, Any]] = {}

    def answer_get(self, path: str) -> tuple[int, Any]:
        base = f"/api/v1/migrations/{self.migration['id']}"
        now = datetime.now(UTC).isoformat()
        if path == "/health":
            return 200, {"status": "ok"}
        if path == "/api/v1/migrations":
            return 200, [self.migration]
        if path == base:
            return 200, self.migration
        if path == f"{base}/participants":
            return 200, [
                {"id": name, "type": name, "vote": "yes", "is_healthy": True, "last_heartbeat": now}
                for name in PARTICIPANTS
            ]
        if path == f"{base}/votes":
            return 200, {"yes": len(PARTICIPANTS), "no": 0, "pending": 0, "timeout": 0}
        if path == f"{base}/health":
            return 200, {"is_healthy": True}
        return 404, {"error": "not found"}

    def answer_post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        base = f"/api/v1/migrations/{self.migration['id']}/"
        action = path[len(base) :] if path.startswith(base) else ""
        if action not in ("pause", "resume", "abort", "rollback"):
            return 404, {"error": "not found"}
        doc = json.loads(body or b"{}")
        with self.lock:
            self.posts.append({"path": path, "key": headers.get("idempotency-key"), "body": doc})
        if action == "abort":
            self.migration.update(status="aborted", phase="aborting")
        return 200, {"status": self.migration["status"]}


@contextmanager
def serve(controller: Seed000Controller | None = None) -> Iterator[tuple[str, Seed000Controller]]:
    """Serve ``controller`` on a free loopback port; yields its base URL and the controller."""
    state = controller or Seed000Controller()

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
            path = self.path.split("?", 1)[0]
            with state.lock:
                state.gets.append(path)
                override = state.overrides.get(path)
            self._send(*(override or state.answer_get(path)))

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._send(*state.answer_post(self.path, headers, body))

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def wait_for(condition: Any, timeout_s: float = 10.0) -> bool:
    """Poll ``condition()`` until it holds or ``timeout_s`` passes (for threads, not a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
