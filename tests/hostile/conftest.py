"""Fixtures of the hostile suite: a hostile recording, and a misbehaving controller over a real socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.payloads import hostile_controller_bodies, write_hostile_recording
from tests.sources.conftest import LocalServer, local_server, other_server, refused_url  # noqa: F401 - fixtures


@pytest.fixture(scope="session")
def hostile_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recording whose every string field (ids, pairs, phases, names, reasons, messages, series) is hostile."""
    return write_hostile_recording(tmp_path_factory.mktemp("hostile") / "hostile.jsonl")


@pytest.fixture()
def hostile_controller() -> Iterator[LocalServer]:
    """A real HTTP server on loopback that answers as a ``trading-service`` controller with hostile strings."""
    server = LocalServer()
    for path, body in hostile_controller_bodies().items():
        server.json(path, body)
    server.raw(
        "/metrics",
        b"# HELP migration_latency_p95_seconds x\x1b]52;c;SGVsbG8=\x07\n# TYPE migration_latency_p95_seconds gauge\n"
        b'migration_latency_p95_seconds{pair="\\u202e[@click=app.quit]q[/]"} 0.02\n',
        content_type="text/plain",
    )
    try:
        yield server
    finally:
        server.stop()
