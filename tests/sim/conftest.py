"""A real redis-server for the simulator's publisher tests, on a free loopback port in tmp_path.

Kept local and minimal on purpose (the shared fixtures live in tests/conftest.py).
Missing redis-server: skipped locally, a failure when CI=true.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

START_DEADLINE_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (required on CI)")
        pytest.skip("redis-server is not installed")
    return binary


@pytest.fixture
def launch_redis(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """``launch_redis(port) -> url``: start redis-server on that port, wait until it answers PING."""
    import redis

    binary = _redis_binary()
    processes: list[subprocess.Popen] = []

    def launch(port: int) -> str:
        directory = tmp_path / f"redis-{port}"
        directory.mkdir()
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [*command, "--dir", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        processes.append(process)
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + START_DEADLINE_S
        try:
            while True:
                try:
                    client.ping()
                    return url
                except redis.ConnectionError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"redis-server did not start on port {port}")
                    time.sleep(0.02)  # polling for readiness with a deadline
        finally:
            client.close()

    yield launch
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def sim_redis_url(launch_redis: Callable[[int], str]) -> str:
    return launch_redis(free_port())
