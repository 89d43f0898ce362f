"""pg-logical beside an HTTP controller in one dashboard, and every subscription of a subscriber."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_tui.actions import ActionRouter, Decision
from migration_tui.config import build_settings
from migration_tui.sim.server import start_in_thread
from migration_tui.ui.run import build_watch
from tests.pg.helpers import watching
from tests.servers import Replication, async_wait_for

pytestmark = pytest.mark.postgres


async def test_without_subscription_every_one_with_it_that_one(pg_replication: Replication) -> None:
    pg_replication.create(["alpha", "beta", "gamma"], rows=10)
    pg_replication.pub_sql('create publication second_pub for table "gamma"')
    pg_replication.pub_sql('alter publication mig_pub drop table "gamma"')
    pg_replication.subscribe("first_sub", "mig_pub")
    pg_replication.subscribe("second_sub", "second_pub")
    async with watching(pg_replication) as every:
        await async_wait_for(lambda: {"first_sub", "second_sub"} <= set(every.store.migrations), timeout=30)
        await async_wait_for(
            lambda: [(every.latest(s) or {}).get("progress") for s in ("first_sub", "second_sub")] == [100.0, 100.0],
            timeout=60,
        )
    assert every.latest("first_sub")["details"]["tables_total"] == 2
    assert every.latest("second_sub")["details"]["tables_total"] == 1
    assert every.latest("second_sub")["details"]["slot"] == "second_sub"
    async with watching(pg_replication, subscription="second_sub") as one:
        await async_wait_for(lambda: one.latest("second_sub") is not None, timeout=30)
    assert set(one.store.migrations) == {"second_sub"}


async def test_a_named_pg_controller_beside_an_http_one_each_gets_its_own_decisions(
    pg_replication: Replication, tmp_path: Path
) -> None:
    pg_replication.create(["alpha"], rows=10)
    pg_replication.subscribe()
    sim = start_in_thread("2pc-commit")
    try:
        config = tmp_path / "config.toml"
        config.write_text(
            f'poll_interval_s = 0.3\naudit_log = "{tmp_path / "audit.jsonl"}"\n'
            f'[[controllers]]\nname = "api"\nurl = "{sim.url}"\n'
            f'[[controllers]]\nname = "orders"\nkind = "pg-logical"\n'
            f'publisher = "{pg_replication.publisher_dsn()}"\nsubscriber = "{pg_replication.subscriber_dsn()}"\n',
            encoding="utf-8",
        )
        settings = build_settings({"config": str(config)}, env={})
        feed, dashboard = build_watch(settings)
        router = dashboard(feed, None).client
        assert isinstance(router, ActionRouter)
        assert [c.controller for c in router.clients] == ["api", "orders"]
        pg_client = router.client_for("orders:mig_sub")
        assert pg_client is not None and type(pg_client).__name__ == "PgActionClient"
        assert router.client_for("api:2pc-btcusdt") is not pg_client
        outcome = await router.send(Decision("pause", "orders:mig_sub", "test"))
        assert outcome.state == "ok", outcome
        assert pg_replication.sub_sql("select subenabled from pg_subscription") == [(False,)]
        assert router.consequence("pause", "orders:mig_sub").startswith("ALTER SUBSCRIPTION mig_sub DISABLE")
        assert router.consequence("pause", "api:2pc-btcusdt") == ""  # the usual words for a controller
    finally:
        sim.stop()
