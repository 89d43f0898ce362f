"""Small, deliberately misbehaving HTTP servers for the controller source tests.

Each is a real ``http.server`` on a free loopback port in a thread: the
source talks to it over a real socket, so timeouts, refused connections,
slow drips and oversized bodies are the real thing, not mocks.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Handler = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    """A loopback HTTP server whose answers a test sets per path; it remembers every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        #: The client port of each request: one per connection the client opened.
        self.ports: list[int] = []
        self.stopping = threading.Event()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                path = self.path.split("?", 1)[0]
                server.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
                server.ports.append(self.client_address[1])
                handler = server.routes.get(path)
                if handler is None:
                    send(self, 404, {"error": f"no route {path}"})
                else:
                    handler(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def json(self, path: str, body: Any, status: int = 200) -> None:
        self.routes[path] = lambda handler: send(handler, status, body)

    def raw(self, path: str, body: bytes, status: int = 200, content_type: str = "application/json") -> None:
        self.routes[path] = lambda handler: send_bytes(handler, status, body, content_type)

    def paths_requested(self) -> list[str]:
        return [path for path, _headers in self.requests]

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    send_bytes(handler, status, json.dumps(body).encode(), "application/json")


def send_bytes(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture()
def local_server() -> Iterator[LocalServer]:
    server = LocalServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def other_server() -> Iterator[LocalServer]:
    """A second server, the target of redirects that must not be followed."""
    server = LocalServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def refused_url() -> str:
    """A loopback URL where nothing listens: the port was bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
