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


def _pg_bindir() -> str | None:
    """Where ``initdb`` and ``postgres`` are: on the PATH, else Debian's /usr/lib/postgresql/N/bin (newest)."""
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return str(Path(found).parent)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return str(versions[-1].parent) if versions else None


def require_postgres() -> str:
    """The directory of ``initdb``/``postgres``; skip locally without them, but fail on CI (CI=true)."""
    bindir = _pg_bindir()
    if bindir is None:
        message = "PostgreSQL is not installed (Debian package: postgresql; scripts/install-servers.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must have every real server", pytrace=False)
        pytest.skip(message)
    return bindir


#: initdb and postgres refuse to run as root: as root, the clusters run as this user (created by
#: scripts/install-servers.sh), else as ``nobody``.
PG_USER = "migration-tui-pg"
#: The superuser's password of every test cluster (host connections need it: scram-sha-256).
PG_PASSWORD = "pg-S3cret-never-shown"


def _run_as() -> tuple[list[str], int | None, int | None]:
    """The prefix that drops root for initdb/postgres, and the uid/gid the data directory must belong to."""
    if os.geteuid() != 0:
        return [], None, None
    import pwd

    try:
        user = pwd.getpwnam(PG_USER)
    except KeyError:
        user = pwd.getpwnam("nobody")
    prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--"]
    return prefix, user.pw_uid, user.pw_gid


class PgCluster(_Process):
    """A PostgreSQL cluster (``initdb``, ``wal_level = logical``) on a free loopback port.

    Local (socket) connections are trusted, TCP ones need ``PG_PASSWORD`` (scram-sha-256), so a DSN
    carries a real password that must never show. ``stop()`` is a fast shutdown; ``start()`` again
    keeps the data and the port.
    """

    name = "postgres"

    def __init__(self, workdir: Path, bindir: str, label: str = "pg", settings: dict[str, str] | None = None) -> None:
        self.bindir = bindir
        self.name = label
        #: More ``-c`` settings (a benchmark preloads pg_stat_statements).
        self.extra_settings = dict(settings or {})
        super().__init__(workdir)
        self.prefix, uid, gid = _run_as()
        self.data = workdir / "data"
        self.socket_dir = workdir / "sock"
        self.socket_dir.mkdir()
        pwfile = workdir / "pwfile"
        pwfile.write_text(PG_PASSWORD + "\n", encoding="utf-8")
        if uid is not None:
            for path in (workdir, self.socket_dir, pwfile):
                os.chown(path, uid, gid)
            self.log_path.touch()
            os.chown(self.log_path, uid, gid)
        subprocess.run(
            [
                *self.prefix,
                f"{bindir}/initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            cwd=workdir,
        )
        pwfile.unlink()

    def command(self) -> list[str]:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "wal_level": "logical",
            "max_replication_slots": "20",
            "max_wal_senders": "20",
            "max_logical_replication_workers": "10",
            "wal_sender_timeout": "5s",
            "wal_receiver_timeout": "5s",
            "fsync": "off",
            "shared_buffers": "32MB",
            **self.extra_settings,
        }
        flags = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        return [*self.prefix, f"{self.bindir}/postgres", "-D", str(self.data), *flags]

    def stop(self, kill: bool = False) -> None:
        """Fast shutdown (SIGINT: sessions ended, a clean checkpoint), or SIGKILL with ``kill=True``."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def dsn(self, dbname: str = "postgres", user: str = "postgres", password: str = PG_PASSWORD) -> str:
        """A libpq DSN over TCP, with the password in it (what an operator's config file would hold)."""
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user} password={password} connect_timeout=5"

    def is_ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.dsn(), connect_timeout=1) as conn:
                conn.execute("select 1")
            return True
        except psycopg.Error:
            return False

    def sql(self, statement: str, params: Sequence[Any] | None = None, dbname: str = "postgres") -> list[tuple]:
        """One statement in autocommit, as the superuser; the rows it returns (none: [])."""
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []


class WriteLoad:
    """Writes to the publisher from a thread (inserts and updates over the given tables) until stopped."""

    def __init__(
        self, cluster: PgCluster, tables: Sequence[str], rows_per_batch: int = 2000, dbname: str = "postgres"
    ) -> None:
        self.cluster = cluster
        self.dbname = dbname
        self.tables = list(tables)
        self.rows_per_batch = rows_per_batch
        self.batches = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-write-load", daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.cluster.dsn(self.dbname), autocommit=True) as conn:
            while not self._stop.is_set():
                for table in self.tables:
                    conn.execute(
                        f"insert into {table} (payload) select md5(g::text) from generate_series(1, %s) g",
                        (self.rows_per_batch,),
                    )
                self.batches += 1

    def __enter__(self) -> WriteLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def quote_ident(name: str) -> str:
    """An SQL identifier quoted as PostgreSQL does (any character but NUL)."""
    return '"' + name.replace('"', '""') + '"'


class Replication:
    """A publication over several tables with rows on one cluster, and a subscription on the other.

    Each instance works in a database of its own (same name on both sides) so tests sharing the
    clusters never see each other's subscriptions. ``tables`` are quoted identifiers, ready for SQL.
    """

    def __init__(self, publisher: PgCluster, subscriber: PgCluster, dbname: str) -> None:
        self.publisher = publisher
        self.subscriber = subscriber
        self.dbname = dbname
        self.tables: list[str] = []
        self.subscriptions: list[str] = []

    def publisher_dsn(self, **kw: Any) -> str:
        return self.publisher.dsn(self.dbname, **kw)

    def subscriber_dsn(self, **kw: Any) -> str:
        return self.subscriber.dsn(self.dbname, **kw)

    def create(self, names: Sequence[str], rows: int = 1000, publication: str = "mig_pub") -> None:
        """The database on both sides, each table (``id bigserial``, ``payload text``) with ``rows`` rows on the
        publisher and empty on the subscriber, and a publication of them all."""
        for cluster in (self.publisher, self.subscriber):
            cluster.sql(f"create database {self.dbname}")
        self.tables = [quote_ident(name) for name in names]
        for table in self.tables:
            ddl = f"create table {table} (id bigserial primary key, payload text not null)"
            self.subscriber.sql(ddl, dbname=self.dbname)
            self.publisher.sql(ddl, dbname=self.dbname)
            self.publisher.sql(
                f"insert into {table} (payload) select md5(g::text) from generate_series(1, %s) g",
                (rows,),
                dbname=self.dbname,
            )
        self.publisher.sql(f"create publication {publication} for table {', '.join(self.tables)}", dbname=self.dbname)

    def subscribe(self, name: str = "mig_sub", publication: str = "mig_pub", enabled: bool = True) -> None:
        """``CREATE SUBSCRIPTION`` on the subscriber (it creates its slot on the publisher)."""
        conninfo = self.publisher_dsn().replace("'", "''")
        self.subscriber.sql(
            f"create subscription {name} connection '{conninfo}' publication {publication}"
            f" with (enabled = {'true' if enabled else 'false'})",
            dbname=self.dbname,
        )
        self.subscriptions.append(name)

    def sub_sql(self, statement: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.subscriber.sql(statement, params, dbname=self.dbname)

    def pub_sql(self, statement: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.publisher.sql(statement, params, dbname=self.dbname)

    def load(self, rows_per_batch: int = 2000) -> WriteLoad:
        """A write load on the publisher's tables (``with replication.load(): ...``)."""
        return WriteLoad(self.publisher, self.tables, rows_per_batch, self.dbname)

    def drop(self) -> None:
        """Drop the subscriptions (and so their slots, when the publisher is up) and both databases."""
        for name in self.subscriptions:
            try:
                self.sub_sql(f"alter subscription {name} disable")
                if not self.publisher.running:
                    self.sub_sql(f"alter subscription {name} set (slot_name = none)")
                self.sub_sql(f"drop subscription {name}")
            except Exception:  # noqa: BLE001 - cleanup goes on; the database drop below says if it failed
                pass
        self.subscriptions.clear()
        for cluster in (self.publisher, self.subscriber):
            if cluster.running:
                cluster.sql(f"drop database if exists {self.dbname} with (force)")
