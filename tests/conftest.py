"""Shared fixtures: real redis-server, prometheus and PostgreSQL processes on free loopback ports.

A missing server binary skips the test on a developer's machine but fails it
on CI (``CI=true``), so a broken install can never pass as green. Process
management lives in ``tests/servers.py``; these fixtures only decide scope
and cleanup.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.servers import (
    Exporter,
    PgCluster,
    PrometheusServer,
    RedisServer,
    Replication,
    require_binary,
    require_postgres,
    wait_for,
)

__all__ = ["wait_for"]


@pytest.fixture(autouse=True)
def _nothing_left_frozen() -> Iterator[None]:
    """``report --out`` and ``replay`` freeze what is alive out of the garbage collector's full
    collections (``gc.freeze``: it lives until the command exits). Run in this process by a test,
    that would keep every later test's garbage cycles for good: each test ends with none frozen."""
    import gc

    yield
    if gc.get_freeze_count():
        gc.unfreeze()


@pytest.fixture(autouse=True, scope="session")
def _screenshots_in_a_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The screenshot key (``s``) saves under the user data directory by default: tests that press
    every key save into a temporary one instead."""
    import os

    before = os.environ.get("MIGRATION_TUI_SCREENSHOT_DIR")
    os.environ["MIGRATION_TUI_SCREENSHOT_DIR"] = str(tmp_path_factory.mktemp("screenshots"))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MIGRATION_TUI_SCREENSHOT_DIR", None)
        else:
            os.environ["MIGRATION_TUI_SCREENSHOT_DIR"] = before


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A running redis-server (module scope: tests that kill it must ``start()`` it again)."""
    binary = require_binary("redis-server")
    server = RedisServer(tmp_path_factory.mktemp("redis"), binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def redis_url(redis_server: RedisServer) -> str:
    """The URL of a running, empty Redis; restarts it if an earlier test left it stopped."""
    redis_server.start()
    client = redis_server.client()
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server.url


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., PrometheusServer]]:
    """A factory: ``prometheus_server(["127.0.0.1:PORT"], scrape_interval="1s")`` starts a real prometheus.

    Every server it started is stopped at the end of the session.
    """
    binary = require_binary("prometheus")
    started: list[PrometheusServer] = []

    def start(targets: Sequence[str], scrape_interval: str = "1s") -> PrometheusServer:
        server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), binary, targets, scrape_interval)
        started.append(server)
        server.start()
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="module")
def exporter() -> Iterator[Exporter]:
    """A prometheus_client /metrics endpoint served from a thread, to be scraped by a real prometheus."""
    served = Exporter()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="module")
def pg_clusters() -> Iterator[tuple[PgCluster, PgCluster]]:
    """Two real PostgreSQL clusters (``wal_level = logical``): a publisher and a subscriber.

    Module scope: a test that stops one must ``start()`` it again (``pg_replication`` does).
    Their directories are made with ``mkdtemp`` (pytest's are private to root; the servers may not run as root).
    """
    bindir = require_postgres()
    workdirs = [Path(tempfile.mkdtemp(prefix=f"migration-tui-{side}-")) for side in ("publisher", "subscriber")]
    clusters = [
        PgCluster(workdir, bindir, side) for workdir, side in zip(workdirs, ("publisher", "subscriber"), strict=True)
    ]
    try:
        for cluster in clusters:
            cluster.start(timeout=30)
        yield clusters[0], clusters[1]
    finally:
        for cluster in clusters:
            cluster.stop()
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture()
def pg_replication(pg_clusters: tuple[PgCluster, PgCluster]) -> Iterator[Replication]:
    """A database of its own on both clusters (both running); ``create``/``subscribe`` set it up, and
    its subscriptions and databases are dropped after."""
    publisher, subscriber = pg_clusters
    publisher.start(timeout=30)
    subscriber.start(timeout=30)
    replication = Replication(publisher, subscriber, f"t_{uuid.uuid4().hex[:12]}")
    try:
        yield replication
    finally:
        publisher.start(timeout=30)
        replication.drop()
