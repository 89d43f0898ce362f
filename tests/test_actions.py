"""The action client against a real local HTTP server that records what it receives.

The simulator's own action tests (tests/sim) cover state changes; these cover
delivery: headers, exactly-once under concurrency, timeouts, 4xx/5xx, redirects,
and what reaches the audit log.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from migration_tui.actions import ActionClient, AuditLog, Decision

TOKEN = "tok-9f8e7d-secret"


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict] = []
        self.answers_by_key: dict[str, tuple[int, bytes]] = {}
        self.mode = "ok"
        self.delay_s = 0.0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        server: Recorder = self.server
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        key = self.headers.get("idempotency-key")
        server.requests.append(
            {"path": self.path, "key": key, "auth": self.headers.get("authorization"), "body": json.loads(body)}
        )
        if server.delay_s:
            time.sleep(server.delay_s)
        if key in server.answers_by_key:
            status, payload = server.answers_by_key[key]
        elif server.mode == "409":
            status, payload = 409, b'{"error": "migration is already completed"}'
        elif server.mode == "500":
            status, payload = 500, b"<html>upstream [bold]exploded[/bold]</html>"
        elif server.mode == "redirect":
            self.send_response(307)
            self.send_header("Location", "http://evil.example.net/steal")
            self.end_headers()
            return
        else:
            status, payload = 200, b'{"status": "pausing"}'
        server.answers_by_key.setdefault(key, (status, payload))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def server():
    srv = Recorder()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def audit_path(tmp_path):
    return tmp_path / "state" / "audit.jsonl"


def client_for(server, audit_path, events, timeout_s=2.0, profile="trading-service"):
    return ActionClient(
        server.url, profile, AuditLog(audit_path, secrets=(TOKEN,)), events.append, token=TOKEN, timeout_s=timeout_s
    )


async def test_pause_carries_token_key_requester_and_reason(server, audit_path):
    events = []
    client = client_for(server, audit_path, events)
    decision = Decision("pause", "mig/1 x", "error rate rising", requested_by="ops@host")
    outcome = await client.send(decision)
    assert outcome.state == "ok" and outcome.status == 200
    assert outcome.message == "accepted: now pausing"
    (request,) = server.requests
    assert request["path"] == "/api/v1/migrations/mig%2F1%20x/pause"
    assert request["auth"] == f"Bearer {TOKEN}" and request["key"] == decision.key
    assert request["body"] == {"reason": "error rate rising", "requested_by": "ops@host"}
    assert [e.data["stage"] for e in events] == ["sent", "answered"]


async def test_enter_pressed_five_times_sends_once(server, audit_path):
    server.delay_s = 0.2
    client = client_for(server, audit_path, [])
    decision = Decision("rollback", "m1", "p95 over 50 ms")
    outcomes = await asyncio.gather(*(client.send(decision) for _ in range(5)))
    assert len(server.requests) == 1 and client.requests_sent == 1
    assert {o.state for o in outcomes} == {"ok"}


async def test_a_caller_cancelled_mid_flight_does_not_cancel_the_request(server, audit_path):
    """The dialog closed (its task cancelled) while a request is out: the request still completes,
    once, and asking again for the same decision while it is out joins it instead of resending."""
    server.delay_s = 0.3
    client = client_for(server, audit_path, [])
    decision = Decision("pause", "m1", "closing the dialog")
    first = asyncio.ensure_future(client.send(decision))
    await asyncio.sleep(0.1)
    assert client.in_flight(decision)
    first.cancel()
    outcome = await client.send(decision)
    assert outcome.state == "ok"
    assert len(server.requests) == 1 and client.requests_sent == 1
    assert first.cancelled() and not client.in_flight(decision)


async def test_timeout_is_unknown_and_retry_reuses_the_key(server, audit_path):
    server.delay_s = 1.0
    client = client_for(server, audit_path, [], timeout_s=0.3)
    decision = Decision("abort", "m1", "stuck in prepare", force=True)
    first = await client.send(decision)
    assert first.state == "unknown" and "unknown" in first.message
    server.delay_s = 0.0
    second = await client.send(decision)
    assert second.state == "ok"
    keys = [r["key"] for r in server.requests]
    assert len(keys) == 2 and len(set(keys)) == 1
    assert server.requests[0]["body"]["force"] is True


async def test_409_shows_the_servers_reason(server, audit_path):
    server.mode = "409"
    outcome = await client_for(server, audit_path, []).send(Decision("resume", "m1", "go"))
    assert outcome.state == "rejected" and outcome.message == "HTTP 409: migration is already completed"
    assert not outcome.retryable


async def test_500_is_failed_with_a_flattened_message(server, audit_path):
    server.mode = "500"
    outcome = await client_for(server, audit_path, []).send(Decision("pause", "m1", "go"))
    assert outcome.state == "failed" and outcome.status == 500 and outcome.retryable
    assert "exploded" in outcome.message and "\n" not in outcome.message


async def test_redirects_are_never_followed(server, audit_path):
    server.mode = "redirect"
    outcome = await client_for(server, audit_path, []).send(Decision("pause", "m1", "go"))
    assert outcome.state == "failed" and "evil.example.net" in outcome.message
    assert len(server.requests) == 1


async def test_refused_connection_says_nothing_was_delivered(audit_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ActionClient(f"http://127.0.0.1:{port}", "batch", AuditLog(audit_path), lambda e: None)
    outcome = await client.send(Decision("pause", "batch-1", "go"))
    assert outcome.state == "failed" and "nothing was delivered" in outcome.message


async def test_audit_log_has_every_stage_fsynced_and_no_token(server, audit_path):
    client = client_for(server, audit_path, [])
    decision = Decision("rollback", "m1", f"reason mentioning {TOKEN} by mistake")
    client.record("opened", decision)
    client.record("confirmed", decision)
    await client.send(decision)
    lines = [json.loads(line) for line in audit_path.read_text().splitlines()]
    assert [line["stage"] for line in lines] == ["opened", "confirmed", "sent", "answered"]
    assert {line["idempotency_key"] for line in lines} == {decision.key}
    assert TOKEN not in audit_path.read_text()
    assert audit_path.stat().st_mode & 0o777 == 0o600


def test_profiles_have_their_own_paths():
    d = Decision("pause", "c1", "x")
    urls = {
        p: ActionClient("http://h", p, AuditLog.__new__(AuditLog), lambda e: None).url_for(d)
        for p in ("trading-service", "canary", "batch", "dual-write")
    }
    assert urls == {
        "trading-service": "http://h/api/v1/migrations/c1/pause",
        "canary": "http://h/api/canary/pause",
        "batch": "http://h/api/migration/pause",
        "dual-write": "http://h/api/v1/migration/pause",
    }
    with pytest.raises(ValueError):
        Decision("detonate", "c1", "x")


def test_an_action_event_does_not_make_the_controller_look_fresh():
    """The operator's decision is not an answer from the controller: a failing source stays failing."""
    from migration_tui.events import Event
    from migration_tui.store import Store

    store = Store()
    store.apply(Event(1.0, "controller", "source_ok", {}))
    store.apply(Event(2.0, "controller", "source_error", {"error": "connection refused"}))
    store.apply(Event(3.0, "controller", "action", {"action": "abort", "migration_id": "m1", "stage": "opened"}))
    health = store.source("controller")
    assert not health.ok() and health.last_success == 1.0
    assert "action abort on m1: opened" in store.log[-1].message


async def test_action_events_say_who_and_why_without_the_token(server, audit_path):
    """The migration's header shows "paused by ops@host 3m ago: reason" from these events."""
    events = []
    client = client_for(server, audit_path, events)
    decision = Decision("pause", "m1", f"error rate rising, {TOKEN} pasted by mistake", requested_by="ops@host")
    await client.send(decision)
    for event in events:
        assert event.data["requested_by"] == "ops@host"
        assert event.data["reason"] == "error rate rising, [redacted] pasted by mistake"
        assert TOKEN not in json.dumps(event.data)
