"""A DSN's password never reaches the screen, a log file, a recording or the audit log (all run for real)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.terminal import plain, run_in_pty
from tests.servers import PG_PASSWORD, Replication

pytestmark = pytest.mark.postgres


def _home(tmp_path: Path) -> dict[str, str]:
    dirs = {name: tmp_path / name for name in ("home", "config", "state", "cache", "data")}
    for path in dirs.values():
        path.mkdir()
    return {
        "HOME": str(dirs["home"]),
        "XDG_CONFIG_HOME": str(dirs["config"]),
        "XDG_STATE_HOME": str(dirs["state"]),
        "XDG_CACHE_HOME": str(dirs["cache"]),
        "XDG_DATA_HOME": str(dirs["data"]),
    }


def test_watch_and_its_recording_never_show_the_password(pg_replication: Replication, tmp_path: Path) -> None:
    pg_replication.create(["alpha", "beta"], rows=10)
    pg_replication.subscribe()
    recording = tmp_path / "live.jsonl"
    run = run_in_pty(
        [
            "watch",
            "--pg-publisher",
            pg_replication.publisher_dsn(),
            "--pg-subscriber",
            pg_replication.subscriber_dsn(),
            "--record",
            str(recording),
        ],
        env=_home(tmp_path),
        until=lambda out: "mig_sub" in plain(out) and "cutover" in plain(out),
        keys=(b"2", b"3", b"6", b"1"),
        settle_s=2.0,
        deadline_s=30.0,
    )
    assert not run.notes and run.exited_on_q, (run.notes, plain(run.output)[-1500:])
    assert PG_PASSWORD.encode() not in run.output
    assert "mig_sub" in recording.read_text()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert PG_PASSWORD.encode() not in path.read_bytes(), path
