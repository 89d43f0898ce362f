"""pg-logical in the config file and on the command line; a DSN's password shown nowhere."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from migration_tui.cli import build_parser, main
from migration_tui.config import ConfigError, build_settings
from migration_tui.systems.pg_logical.source import PgLogicalSource, masked
from tests.servers import PG_PASSWORD, Replication

DSN = "host=db.example port=5432 dbname=app user=ops password=hunter2-pw"


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_pg_logical_block_is_a_source_of_its_own(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        f'[[controllers]]\nname = "orders-db"\nkind = "pg-logical"\npublisher = "{DSN}"\n'
        f'subscriber = "{DSN.replace("db.example", "new.example")}"\nsubscription = "orders_sub"\n\n'
        '[[controllers]]\nname = "api"\nurl = "http://127.0.0.1:9"\n',
    )
    settings = build_settings({"config": str(path)}, env={})
    pg, http = settings.controller_specs()
    assert (pg.name, pg.kind, dict(pg.options)["subscription"]) == ("orders-db", "pg-logical", "orders_sub")
    assert http.kind == "http" and http.url == "http://127.0.0.1:9"
    assert "hunter2-pw" in pg.secrets
    for shown in (repr(pg), repr(settings), str(settings.redacted()), pg.shown):
        assert "hunter2-pw" not in shown
    assert "password=****" in pg.shown

    from migration_tui.sources.runner import build_live_sources

    source = build_live_sources(settings)[0]
    assert isinstance(source, PgLogicalSource) and source.name == "controller:orders-db"
    assert "hunter2-pw" not in repr(source)


@pytest.mark.parametrize(
    "block, words",
    [
        ('name = "x"\nkind = "pg-logical"\npublisher = "host=a"\n', "needs subscriber"),
        ('name = "x"\nkind = "pg-logical"\npublisher = "a"\nsubscriber = "b"\nurl = "http://x"\n', "unknown key(s)"),
        ('name = "x"\nkind = "mysql"\n', "unknown kind 'mysql'"),
        ('kind = "pg-logical"\npublisher = "a"\nsubscriber = "b"\n', "needs a name"),
    ],
)
def test_a_bad_block_is_one_line_naming_the_problem(tmp_path: Path, block: str, words: str) -> None:
    path = _config(tmp_path, "[[controllers]]\n" + block)
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        build_settings({"config": str(path)}, env={})


def test_the_flags_make_one_unnamed_source() -> None:
    args = build_parser().parse_args(["watch", "--pg-publisher", DSN, "--pg-subscriber", DSN, "--subscription", "s1"])
    from migration_tui.cli import settings_from

    settings = settings_from(args)
    (spec,) = settings.controller_specs()
    assert spec.name is None and spec.kind == "pg-logical" and dict(spec.options)["subscription"] == "s1"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["watch", "--pg-publisher", DSN, "--controller", "http://x", "--bogus"])
    assert main(["check", "--pg-publisher", DSN]) == 2  # the subscriber is missing: one line, exit 2


def test_masked_hides_the_password_of_both_dsn_forms() -> None:
    assert "hunter2" not in masked(DSN) and "****" in masked(DSN)
    uri = "postgresql://ops:hunter2@db.example:5432/app?sslmode=require"
    assert "hunter2" not in masked(uri) and "db.example" in masked(uri)
    assert masked("host='unterminated password=hunter2") == "(a DSN libpq cannot read)"


@pytest.mark.postgres
def test_check_reaches_both_servers_and_never_prints_the_password(
    pg_replication: Replication, capsys: pytest.CaptureFixture[str]
) -> None:
    pg_replication.create(["alpha"], rows=10)
    pg_replication.subscribe()
    argv = [
        "check",
        "--pg-publisher",
        pg_replication.publisher_dsn(),
        "--pg-subscriber",
        pg_replication.subscriber_dsn(),
    ]
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.out
    assert "reachable" in out.out and "subscription mig_sub" in out.out
    assert PG_PASSWORD not in out.out + out.err and "password=****" in out.out
    pg_replication.publisher.stop()
    assert main(argv) == 1
    out = capsys.readouterr()
    assert "UNREACHABLE" in out.out and "publisher:" in out.out and PG_PASSWORD not in out.out + out.err


@pytest.mark.postgres
def test_record_a_named_pg_controller_ids_scoped_and_no_password(pg_replication: Replication, tmp_path: Path) -> None:
    pg_replication.create(["alpha", "beta"], rows=10)
    pg_replication.subscribe()
    config = _config(
        tmp_path,
        f'poll_interval_s = 0.3\n[[controllers]]\nname = "orders"\nkind = "pg-logical"\n'
        f'publisher = "{pg_replication.publisher_dsn()}"\nsubscriber = "{pg_replication.subscriber_dsn()}"\n',
    )
    out = tmp_path / "pg.jsonl.gz"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "migration_tui",
            "record",
            "--config",
            str(config),
            "--out",
            str(out),
            "--duration",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    text = gzip.decompress(out.read_bytes()).decode()
    assert '"id":"orders:mig_sub"' in text and '"source":"controller:orders"' in text
    assert '"system":"pg-logical"' in text
    assert PG_PASSWORD not in text + done.stdout + done.stderr
