"""Pause and resume of a real subscription through the real dashboard: ALTER SUBSCRIPTION … DISABLE/ENABLE,
audited, each sent exactly once; abort and rollback not offered, with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migration_tui.actions import AuditLog, Decision
from migration_tui.config import build_settings
from migration_tui.systems.pg_logical.actions import PgActionClient
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.run import build_watch
from migration_tui.ui.screens.confirm import ConfirmScreen
from tests.servers import PG_PASSWORD, Replication

pytestmark = pytest.mark.postgres

#: Every ALTER SUBSCRIPTION the subscriber runs is counted by an event trigger, on the server itself.
COUNT_ALTERS = """
create table alters (at timestamptz default now(), tag text);
create function count_alter() returns event_trigger language plpgsql as $$
begin insert into alters (tag) values (tg_tag); end $$;
create event trigger count_alters on ddl_command_end when tag in ('ALTER SUBSCRIPTION') execute function count_alter();
"""


def _setup(replication: Replication) -> None:
    replication.create(["alpha", "beta"], rows=10)
    replication.subscribe()
    for statement in COUNT_ALTERS.strip().split(";\n"):
        replication.sub_sql(statement)


def _enabled(replication: Replication) -> bool:
    return replication.sub_sql("select subenabled from pg_subscription where subname = 'mig_sub'")[0][0]


def _alters(replication: Replication) -> int:
    return replication.sub_sql("select count(*) from alters")[0][0]


async def until(pilot, condition, what: str, tries: int = 400) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_pause_and_resume_change_subenabled_exactly_once_each(
    pg_replication: Replication, tmp_path: Path
) -> None:
    _setup(pg_replication)
    audit = tmp_path / "audit.jsonl"
    settings = build_settings(
        {
            "kind_pg_publisher": pg_replication.publisher_dsn(),
            "kind_pg_subscriber": pg_replication.subscriber_dsn(),
            "audit_log": str(audit),
            "poll_interval_s": 0.2,
        },
        env={},
        config_path=tmp_path / "none.toml",
    )
    feed, dashboard = build_watch(settings)
    assert dashboard is not None
    app = MigrationApp(feed, dashboard=dashboard)
    async with app.run_test(size=(100, 30)) as pilot:
        store = app.feed.store
        await until(pilot, lambda: "mig_sub" in store.migrations, "the first poll")
        await until(pilot, lambda: store.source("controller").ok(), "fresh data")
        for key, enabled_after, status in (("p", False, "paused"), ("u", True, "in_progress")):
            before = _alters(pg_replication)
            await pilot.press(key)
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the dialog")
            screen = app.screen
            assert "ALTER SUBSCRIPTION mig_sub" in str(screen.query_one("#summary").render())
            await pilot.press("enter")
            await until(pilot, lambda: screen.outcome is not None, "the answer")  # noqa: B023
            assert screen.outcome.state == "ok", screen.outcome
            await pilot.press("enter")  # a second Enter closes the dialog and sends nothing
            await pilot.press("enter")
            await until(pilot, lambda: store.migrations["mig_sub"].status == status, status)  # noqa: B023
            assert _enabled(pg_replication) is enabled_after
            assert _alters(pg_replication) == before + 1
        await pilot.press("a")  # abort: not offered, with the reason; no dialog
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
    assert _alters(pg_replication) == 2
    stages = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [s["stage"] for s in stages if s["stage"] == "sent"] == ["sent", "sent"]
    assert [s["action"] for s in stages if s["stage"] == "answered"] == ["pause", "resume"]
    assert PG_PASSWORD not in audit.read_text()


async def test_five_concurrent_sends_of_one_decision_run_one_statement(
    pg_replication: Replication, tmp_path: Path
) -> None:
    """Enter pressed five times, as for the HTTP client (``actions.SingleFlight``, shared by both):
    the server's own trigger counts one ALTER SUBSCRIPTION."""
    import asyncio

    _setup(pg_replication)
    events = []
    client = PgActionClient(
        pg_replication.subscriber_dsn(),
        AuditLog(tmp_path / "audit.jsonl", secrets=(PG_PASSWORD,)),
        events.append,
        secrets=(PG_PASSWORD,),
    )
    decision = Decision("pause", "mig_sub", "five Enters")
    outcomes = await asyncio.gather(*(client.send(decision) for _ in range(5)))
    assert {outcome.state for outcome in outcomes} == {"ok"}
    assert _alters(pg_replication) == 1 and client.requests_sent == 1
    assert _enabled(pg_replication) is False
    assert not client.in_flight(decision)
    assert [e.data["stage"] for e in events] == ["sent", "answered"]


async def test_a_failed_statement_shows_the_servers_message(pg_replication: Replication, tmp_path: Path) -> None:
    pg_replication.create(["alpha"], rows=1)
    pg_replication.sub_sql(f"create role weak login password '{PG_PASSWORD}'")
    events = []
    client = PgActionClient(
        pg_replication.subscriber_dsn(user="weak"),
        AuditLog(tmp_path / "audit.jsonl", secrets=(PG_PASSWORD,)),
        events.append,
        secrets=(PG_PASSWORD,),
    )
    pg_replication.subscribe()
    outcome = await client.send(Decision("pause", "mig_sub", "test"))
    assert outcome.state == "rejected" and "must be owner of subscription mig_sub" in outcome.message
    assert _enabled(pg_replication) is True
    refused = await client.send(Decision("abort", "mig_sub", "test"))
    assert refused.state == "failed" and "DROP SUBSCRIPTION" in refused.message and client.requests_sent == 1
    assert [e.data["stage"] for e in events] == ["sent", "answered", "answered"]
    pg_replication.sub_sql("drop owned by weak")
    pg_replication.subscriber.sql("drop role weak")


async def test_a_relay_viewer_given_the_blocks_pauses_the_subscription_itself_and_sees_it_through_the_relay(
    pg_replication: Replication, redis_url: str, tmp_path: Path
) -> None:
    """The relay polls the clusters; the viewer reads only the relay's stream, and its pause goes
    straight to the subscriber (never through Redis), once; the paused state reaches it as it
    reaches every viewer, through the relay."""
    import asyncio

    from migration_tui.relay import Relay
    from migration_tui.sources.runner import build_live_sources

    _setup(pg_replication)
    flags = {
        "kind_pg_publisher": pg_replication.publisher_dsn(),
        "kind_pg_subscriber": pg_replication.subscriber_dsn(),
        "poll_interval_s": 0.2,
    }
    polled = build_settings(flags, env={}, config_path=tmp_path / "none.toml")
    pg_source = next(s for s in build_live_sources(polled) if s.name != "host")
    stream = "t:pg-act"
    relay = Relay(redis_url, [pg_source], stream)
    task = asyncio.ensure_future(relay.run())
    audit = tmp_path / "audit.jsonl"
    viewer = build_settings(
        {**flags, "relay": redis_url, "relay_stream": stream, "audit_log": str(audit)},
        env={},
        config_path=tmp_path / "none.toml",
    )
    try:
        feed, dashboard = build_watch(viewer)
        assert dashboard is not None and [s.name for s in feed.sources] == ["relay"]
        app = MigrationApp(feed, dashboard=dashboard)
        async with app.run_test(size=(100, 30)) as pilot:
            store = app.feed.store
            await until(pilot, lambda: "mig_sub" in store.migrations, "the subscription, through the relay")
            await pilot.press("p")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the dialog")
            screen = app.screen
            assert "ALTER SUBSCRIPTION mig_sub DISABLE" in str(screen.query_one("#summary").render())
            await pilot.press("enter")
            await until(pilot, lambda: screen.outcome is not None, "the answer")
            assert screen.outcome.state == "ok", screen.outcome
            await pilot.press("enter")  # closes the dialog: nothing more is sent
            await until(pilot, lambda: store.migrations["mig_sub"].status == "paused", "paused, through the relay")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert _enabled(pg_replication) is False
    assert _alters(pg_replication) == 1
    assert relay.store.migrations["mig_sub"].status == "paused"
    assert [s.name for s in feed.sources] == ["relay"]  # the clusters were never polled by the viewer
    stages = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [s["stage"] for s in stages if s["stage"] in ("sent", "answered")] == ["sent", "answered"]
    assert PG_PASSWORD not in audit.read_text()
