"""The PostgreSQL fixture itself: two real clusters replicate a publication's tables, under a write load."""

from __future__ import annotations

import pytest

from tests.servers import Replication, wait_for

pytestmark = pytest.mark.postgres


def test_a_subscription_copies_every_table_and_streams_the_load(pg_replication: Replication) -> None:
    pg_replication.create(["alpha", "beta", "gamma"], rows=500)
    pg_replication.subscribe()

    def all_ready() -> bool:
        states = pg_replication.sub_sql("select srsubstate from pg_subscription_rel")
        return len(states) == 3 and all(state == ("r",) for state in states)

    wait_for(all_ready, timeout=30)
    with pg_replication.load(rows_per_batch=100) as load:
        wait_for(lambda: load.batches >= 3)
    published = pg_replication.pub_sql('select count(*) from "alpha"')[0][0]
    assert published >= 800
    wait_for(lambda: pg_replication.sub_sql('select count(*) from "alpha"')[0][0] == published, timeout=30)
    assert pg_replication.sub_sql("select subenabled from pg_subscription") == [(True,)]
