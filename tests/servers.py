"""Real servers for tests: redis-server, prometheus and a prometheus_client exporter.

Each server runs as a child process on a free loopback port in a temporary
directory and is waited for by condition (PING answers, /-/ready says so),
never by a fixed sleep. ``stop()`` and ``start()`` on the same object keep
the port, so a test can take a server away mid-run and bring it back.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

import httpx
import pytest

DEFAULT_TIMEOUT_S = 15.0


def wait_for(predicate: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT_S, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; return it, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s: {getattr(predicate, '__name__', predicate)}")
        time.sleep(interval)


async def async_wait_for(
    predicate: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT_S, interval: float = 0.02
) -> Any:
    """``wait_for`` for async tests: yields to the event loop between checks, so sources keep running."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s: {getattr(predicate, '__name__', predicate)}")
        await asyncio.sleep(interval)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_binary(name: str) -> str:
    """The path of a server binary; skip locally without it, but fail on CI (CI=true)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian package: {'redis-server' if 'redis' in name else name})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must have every real server", pytrace=False)
        pytest.skip(message)
    return path


class _Process:
    """A child server process bound to one port for its whole life."""

    name = "server"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{self.name}.log"

    def command(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def is_ready(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        if self.running:
            return
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}: {self.log_tail()}")
            return self.is_ready()

        ready.__name__ = f"{self.name} ready on port {self.port}"
        wait_for(ready, timeout)

    def stop(self, kill: bool = False) -> None:
        """Stop the process (SIGKILL with ``kill=True``, as a crash would) and wait until the port is free."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop(kill=True)
        self.start()

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class RedisServer(_Process):
    """``redis-server`` without persistence, on a free loopback port."""

    name = "redis"

    def __init__(self, workdir: Path, binary: str) -> None:
        self.binary = binary
        super().__init__(workdir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--protected-mode",
            "yes",
        ]

    def is_ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def client(self) -> Any:
        """A plain synchronous redis-py client, for tests to XADD and PUBLISH with."""
        import redis

        return redis.Redis.from_url(self.url, decode_responses=True, socket_timeout=5)


class PrometheusServer(_Process):
    """``prometheus`` scraping the given targets every ``scrape_interval``."""

    name = "prometheus"

    def __init__(self, workdir: Path, binary: str, targets: Sequence[str], scrape_interval: str = "1s") -> None:
        self.binary = binary
        self.targets = list(targets)
        self.scrape_interval = scrape_interval
        super().__init__(workdir)
        self.config_path = workdir / "prometheus.yml"
        self.config_path.write_text(self._config(), encoding="utf-8")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _config(self) -> str:
        targets = ", ".join(f"'{target}'" for target in self.targets)
        return (
            "global:\n"
            f"  scrape_interval: {self.scrape_interval}\n"
            f"  evaluation_interval: {self.scrape_interval}\n"
            "scrape_configs:\n"
            "  - job_name: 'under-test'\n"
            f"    scrape_interval: {self.scrape_interval}\n"
            f"    static_configs: [{{targets: [{targets}]}}]\n"
        )

    def command(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]

    def is_ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query straight over HTTP, for tests to wait on what Prometheus holds."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=5).json()
        return answer["data"]["result"] if answer.get("status") == "success" else []

    def wait_for_samples(self, metric: str, count: int, timeout: float = 20.0) -> None:
        """Wait until Prometheus holds at least ``count`` scraped samples of ``metric``."""

        def enough() -> bool:
            result = self.query(f"count_over_time({metric}[5m])")
            return bool(result) and float(result[0]["value"][1]) >= count

        enough.__name__ = f"{count} samples of {metric}"
        wait_for(enough, timeout, interval=0.1)


class Exporter:
    """A prometheus_client registry served over HTTP from a thread, like a service's /metrics."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, start_http_server

        self.registry = CollectorRegistry()
        self.port = free_port()
        started = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)
        self._server: WSGIServer = started[0]
        self._thread: threading.Thread = started[1]

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def gauge(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> Any:
        from prometheus_client import Gauge

        return Gauge(name, documentation, labelnames, registry=self.registry)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_simulate(port: int, scenario: str = "2pc-commit") -> subprocess.Popen[bytes]:
    """The real ``simulate`` command in its own process, so stopping it closes every connection."""
    return subprocess.Popen(
        [sys.executable, "-m", "migration_tui", "simulate", "--scenario", scenario, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[1],
    )
