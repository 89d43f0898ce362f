"""The optional conditional GET of the controller API (issue 20): a controller that tags its
answers with ``ETag`` is asked with ``If-None-Match`` next time, and ``304 Not Modified``
stands for the body it tagged. Against the simulator (which serves it) and against servers
written here that do not, or that do it wrong; all over real sockets."""

from __future__ import annotations

import hashlib
import json
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from migration_tui.events import Event
from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.server import start_in_thread
from migration_tui.sources.controller import ControllerSource
from migration_tui.sources.http import Validators
from tests.sources.conftest import LocalServer, send_bytes
from tests.sources.test_controller_source import errors_of, of_kind, two_pc

PARTICIPANTS = "/api/v1/migrations/m1/participants"


def tagged(
    server: LocalServer, path: str, body: Any, etag: str | None = None, answers: list[int] | None = None
) -> None:
    """Serve ``body`` at ``path`` with an ETag (its digest, or ``etag``), honouring If-None-Match."""
    payload = json.dumps(body).encode()
    tag = etag if etag is not None else '"' + hashlib.sha256(payload).hexdigest()[:16] + '"'

    def handler(request: BaseHTTPRequestHandler) -> None:
        if request.headers.get("If-None-Match") == tag:
            request.send_response(304)
            request.send_header("ETag", tag)
            request.end_headers()
            status = 304
        else:
            send_bytes(request, 200, payload, "application/json", {"ETag": tag})
            status = 200
        if answers is not None:
            answers.append(status)

    server.routes[path] = handler


def sent_if_none_match(server: LocalServer, path: str) -> list[str | None]:
    return [headers.get("if-none-match") for p, headers in server.requests if p == path]


async def polls(source: ControllerSource, times: int, between: Any = None) -> list[list[Event]]:
    out: list[list[Event]] = []
    async with source.make_client() as client:
        for n in range(times):
            if between is not None:
                between(n)
            events: list[Event] = []
            await source.poll_once(client, events.append)
            out.append(events)
    return out


async def test_a_tagged_answer_is_asked_for_conditionally_and_a_304_is_the_same_body(local_server: LocalServer):
    two_pc(local_server)
    people = [{"id": "a", "vote": "yes", "is_healthy": True, "last_heartbeat": 1000.0}]
    answers: list[int] = []
    tagged(local_server, PARTICIPANTS, people, answers=answers)
    source = ControllerSource(local_server.url, profile="trading-service", clock=lambda: 1010.0)

    def change(n: int) -> None:
        if n == 2:
            tagged(local_server, PARTICIPANTS, [{**people[0], "last_heartbeat": 1005.0}], answers=answers)

    first, second, third = await polls(source, 3, change)
    assert answers == [200, 304, 200]
    sent = sent_if_none_match(local_server, PARTICIPANTS)
    assert sent[0] is None and sent[1] is not None and sent[1] == sent[2]
    assert [p["id"] for p in of_kind(first, "participants")[0]["participants"]] == ["a"]
    assert of_kind(second, "participants") == of_kind(second, "participants_delta") == []  # nothing changed
    assert of_kind(third, "participants_delta")[0]["changed"][0]["last_heartbeat"] == 1005.0
    assert errors_of(first + second + third) == ""
    assert sent_if_none_match(local_server, "/api/v1/migrations/m1/votes") == [None] * 3  # untagged: as before


async def test_connections_are_kept_alive_across_304s(local_server: LocalServer):
    """A 304 leaves its connection usable: six polls of the same tagged answers (304s from the
    second on) go over the connections of the first, ``MAX_CONNECTIONS`` at most."""
    from migration_tui.sources.http import MAX_CONNECTIONS

    answers: list[int] = []
    for path, body in {
        "/api/v1/migrations": [{"id": "m1", "pair": "BTCUSDT", "status": "in_progress", "phase": "committing"}],
        PARTICIPANTS: [{"id": "a", "vote": "yes", "is_healthy": True, "last_heartbeat": 1000.0}],
        "/api/v1/migrations/m1/votes": {"yes": 1},
        "/api/v1/migrations/m1/health": {"is_healthy": True},
        "/admin/circuit-breaker/status": [],
        "/admin/migration/status": [],
        "/metrics": [],  # not Prometheus text: an error each poll, served all the same
    }.items():
        tagged(local_server, path, body, answers=answers)
    source = ControllerSource(local_server.url, profile="trading-service", clock=lambda: 1010.0)
    await polls(source, 6)
    assert len(answers) == 6 * 7 and answers.count(304) >= 5 * 7
    assert len(set(local_server.ports)) <= MAX_CONNECTIONS


async def test_a_304_to_a_request_that_was_not_conditional_is_still_an_error(local_server: LocalServer):
    two_pc(local_server)

    def not_modified(request: BaseHTTPRequestHandler) -> None:
        request.send_response(304)
        request.end_headers()

    local_server.routes[PARTICIPANTS] = not_modified
    source = ControllerSource(local_server.url, profile="trading-service", clock=lambda: 1010.0)
    (events,) = await polls(source, 1)
    assert "304" in errors_of(events)


async def test_an_unusable_etag_is_not_sent_back(local_server: LocalServer):
    two_pc(local_server)
    tagged(local_server, PARTICIPANTS, [], etag="no-quotes\x7f")
    source = ControllerSource(local_server.url, profile="trading-service", clock=lambda: 1010.0)
    await polls(source, 2)
    assert sent_if_none_match(local_server, PARTICIPANTS) == [None, None]
    tagged(local_server, PARTICIPANTS, [], etag='W/"' + "x" * 300 + '"')
    await polls(source, 2)
    assert sent_if_none_match(local_server, PARTICIPANTS) == [None] * 4


async def test_against_the_simulator_unchanged_answers_come_back_304():
    """The simulator tags every 200 GET; with its clock held still, the second poll's answers are all 304."""
    clock = VirtualClock()
    with start_in_thread("2pc-commit", clock=clock) as running:
        clock.advance(30)
        with httpx.Client(base_url=running.url, timeout=5) as http:
            first = http.get("/api/v1/migrations/2pc-btcusdt/participants")
            etag = first.headers["etag"]
            again = http.get("/api/v1/migrations/2pc-btcusdt/participants", headers={"If-None-Match": etag})
            assert (first.status_code, again.status_code, again.content) == (200, 304, b"")
            assert again.headers["etag"] == etag
            weak = http.get("/api/v1/migrations/2pc-btcusdt/participants", headers={"If-None-Match": f'"x", W/{etag}'})
            assert weak.status_code == 304
            assert http.get(
                "/metrics", headers={"If-None-Match": http.get("/metrics").headers["etag"]}
            ).status_code in (
                200,  # its counters may have moved
                304,
            )
        source = ControllerSource(running.url, clock=clock.now)
        first_poll, second_poll = await polls(source, 2)
        clock.advance(5)
        (third_poll,) = await polls(source, 1)
    assert errors_of(first_poll + second_poll + third_poll) == ""
    assert of_kind(first_poll, "participants") and not of_kind(second_poll, "participants")
    assert of_kind(second_poll, "migration") == of_kind(first_poll, "migration")


def test_validators_forget_the_oldest_past_their_bounds():
    validators = Validators(max_paths=2, max_bytes=10)
    validators.remember("/a", '"1"', b"aaaa")
    validators.remember("/b", '"2"', b"bbbb")
    validators.remember("/c", '"3"', b"cc")
    assert (validators.get("/a"), validators.get("/b"), validators.get("/c")) == (
        None,
        ('"2"', b"bbbb"),
        ('"3"', b"cc"),
    )
    validators.remember("/d", '"4"', b"dddddd")  # 4 + 2 + 6 bytes > 10: /b goes
    assert validators.get("/b") is None and validators.get("/d") == ('"4"', b"dddddd")
    validators.remember("/d", None, b"dddddd")  # answered again without a tag: forgotten
    assert validators.get("/d") is None
    validators.remember("/e", '"5"', b"x" * 11)  # larger than all it may keep
    assert validators.get("/e") is None
