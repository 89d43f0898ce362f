"""Serve a simulated controller over real HTTP (``migration-tui simulate``), or start one in a thread.

For tests (yours too) — a real socket on a free loopback port, stopped after::

    from migration_tui.sim.clock import VirtualClock
    from migration_tui.sim.server import start_in_thread

    clock = VirtualClock()
    running = start_in_thread("2pc-commit", clock=clock)     # port 0: the OS picks
    try:
        httpx.get(f"{running.url}/api/v1/migrations")        # the controller API
        clock.advance(60)                                    # one simulated minute, instantly
        httpx.get(f"{running.url}/metrics")                  # Prometheus can scrape this
        running.controller.received_actions                  # what the actions dialog sent
        running.controller.sim.migrations[0].phase           # the simulator's own truth
    finally:
        running.stop()

Or as a pytest fixture: ``with start_in_thread(...) as running: ...``. With
``clock=None`` the simulator runs in real time times ``speed``. With
``token=...`` action POSTs need ``Authorization: Bearer <token>``; with
``redis_url=...`` heartbeats and events also go to Redis
(``redis_publisher.py``). Timestamps are on the clock you pass.

The server is the standard library's ThreadingHTTPServer around the pure
``SimulatedController.handle``; it is for loopback demos and tests, not for
exposure to a network.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from migration_tui.sim.clock import Clock
from migration_tui.sim.controller import MAX_BODY_BYTES, SimulatedController
from migration_tui.sim.redis_publisher import RedisPublisher

log = logging.getLogger("migration_tui.sim.server")

#: Environment variable holding the token action POSTs must present (never a flag).
TOKEN_ENV = "MIGRATION_TUI_SIM_TOKEN"


class _Handler(BaseHTTPRequestHandler):
    server: _SimServer
    protocol_version = "HTTP/1.1"
    server_version = "migration-tui-sim"
    sys_version = ""

    def _answer(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.send_error(413 if length > 0 else 400)
            return
        body = self.rfile.read(length) if length else b""
        try:
            status, headers, payload = self.server.controller.handle(self.command, self.path, dict(self.headers), body)
        except Exception:  # a simulator bug must not look like a dropped connection
            log.exception("simulator failed to answer %s %s", self.command, self.path.split("?", 1)[0])
            status, headers, payload = 500, {"Content-Type": "application/json"}, b'{"error":"simulator error"}'
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: one line per poll would drown the console; the simulator's events say what matters."""


class _SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], controller: SimulatedController) -> None:
        self.controller = controller
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up (reset, broken pipe) is normal for pollers; anything else is logged."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        log.exception("simulator HTTP server error")


@dataclass
class RunningSimulator:
    """A simulator serving HTTP on a background thread; ``stop()`` closes the socket."""

    url: str
    controller: SimulatedController
    server: _SimServer
    thread: threading.Thread
    publisher: RedisPublisher | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5.0)
        if self.publisher is not None:
            self.publisher.stop()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(
    scenario: str,
    *,
    speed: float = 1.0,
    clock: Clock | None = None,
    seed: int | None = None,
    redis_url: str | None = None,
    token: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> RunningSimulator:
    """Start serving ``scenario`` on ``host:port`` (0 = a free port) in a daemon thread."""
    controller = SimulatedController(scenario, token=token, seed=seed, clock=clock, speed=speed)
    server = _SimServer((host, port), controller)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sim-http-{scenario}", daemon=True
    )
    thread.start()
    publisher = RedisPublisher(controller.sim, redis_url).start() if redis_url else None
    bound_host, bound_port = server.server_address[:2]
    url_host = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    return RunningSimulator(f"http://{url_host}:{bound_port}", controller, server, thread, publisher)


def serve(
    scenario: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    redis_url: str | None = None,
    speed: float = 1.0,
    token: str | None = None,
) -> int:
    """Serve until Ctrl-C or SIGTERM (exit 0). The token comes from MIGRATION_TUI_SIM_TOKEN unless given."""
    token = _prepare(token)
    try:
        running = start_in_thread(scenario, speed=speed, redis_url=redis_url, token=token, host=host, port=port)
    except (OSError, OverflowError) as exc:  # OverflowError: a port outside 0-65535 (the CLI refuses it first)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"migration-tui simulate: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return 1
    extras = [f"speed {speed:g}x"]
    extras.append("redis publishing on" if redis_url else "no redis")
    extras.append("actions need a bearer token" if token else "no token")
    _wait(
        [running],
        f"migration-tui simulate: {scenario} ({running.controller.profile} profile) on {running.url} "
        f"({', '.join(extras)}); Ctrl-C stops",
    )
    return 0


def _prepare(token: str | None) -> str | None:
    """Signals, logging and the token (MIGRATION_TUI_SIM_TOKEN unless given), before serving."""
    if threading.current_thread() is threading.main_thread():
        # Started in the background by a shell script (`simulate ... &`), a process inherits
        # SIGINT ignored, and Python then never raises KeyboardInterrupt: take both signals back.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    return token or os.environ.get(TOKEN_ENV) or None


def _wait(running: list[RunningSimulator], ready: str) -> None:
    """Say ``ready`` (the line scripts wait for), then serve until Ctrl-C or SIGTERM (or every server
    thread ended); then stop them all. The line is said inside the ``try``: a script that sends Ctrl-C
    as soon as it reads it got exit 130 from a KeyboardInterrupt between the line and the wait."""
    try:
        print(ready, flush=True)
        while any(one.thread.is_alive() for one in running):
            for one in running:
                one.thread.join(timeout=0.5 / len(running))
    except KeyboardInterrupt:
        pass
    finally:
        for one in running:
            one.stop()


def controller_names(scenarios: list[str]) -> list[str]:
    """A controller name per scenario: the scenario's, ``-2``, ``-3`` ... when one is served twice."""
    names: list[str] = []
    for scenario in scenarios:
        name, number = scenario, 1
        while name in names:
            number += 1
            name = f"{scenario}-{number}"
        names.append(name)
    return names


def serve_many(
    scenarios: list[str],
    host: str = "127.0.0.1",
    port: int = 8080,
    redis_url: str | None = None,
    speed: float = 1.0,
    token: str | None = None,
) -> int:
    """Serve each scenario as its own controller, on consecutive ports from ``port`` (0: free ones).

    Prints ``NAME URL`` per controller, then the ``watch`` command that watches them all;
    exit 0 on Ctrl-C or SIGTERM, 1 (nothing left serving) if any port cannot be had."""
    token = _prepare(token)
    names = controller_names(scenarios)
    running: list[RunningSimulator] = []
    for number, scenario in enumerate(scenarios):
        at = port + number if port else 0
        try:
            running.append(start_in_thread(scenario, speed=speed, redis_url=redis_url, token=token, host=host, port=at))
        except (OSError, OverflowError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"migration-tui simulate: cannot listen on {host}:{at} for {scenario}: {reason}", file=sys.stderr)
            for one in running:
                one.stop()
            return 1
    for name, one in zip(names, running, strict=True):
        print(f"{name} {one.url}", flush=True)
    extras = [f"speed {speed:g}x", "redis publishing on" if redis_url else "no redis"]
    extras.append("actions need a bearer token" if token else "no token")
    flags = " ".join(f"--controller {name}={one.url}" for name, one in zip(names, running, strict=True))
    _wait(
        running,
        f"migration-tui simulate: {len(running)} controllers ({', '.join(extras)}); Ctrl-C stops. "
        f"Watch them: migration-tui watch {flags}",
    )
    return 0
