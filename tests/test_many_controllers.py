"""Many controllers (issue 16): config blocks and flags, ids scoped by controller, tokens per controller."""

from __future__ import annotations

import json

import pytest

from migration_tui.actions import ActionClient, ActionRouter, AuditLog, Decision
from migration_tui.cli import main
from migration_tui.config import ConfigError, build_settings, check_source_urls
from migration_tui.events import Event
from migration_tui.frame import Frame
from migration_tui.model import scoped_id
from migration_tui.sim.clock import VirtualClock
from migration_tui.sim.server import start_in_thread
from migration_tui.sources.controller import ControllerSource
from migration_tui.store import Store


def _settings(tmp_path, text: str = "", cli=None, env=None):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return build_settings(cli or {}, env=env or {}, config_path=path)


BLOCKS = """
[[controllers]]
name = "trading"
url = "http://127.0.0.1:8080"
profile = "trading-service"
token_env = "TRADING_TOKEN"

[[controllers]]
name = "batch-eu"
url = "http://127.0.0.1:8081"
migration = "mig-42"
"""


def test_config_blocks_become_named_controllers_each_with_its_own_token(tmp_path):
    env = {"TRADING_TOKEN": "t-secret", "MIGRATION_TUI_TOKEN_BATCH_EU": "b-secret", "MIGRATION_TUI_TOKEN": "global"}
    settings = _settings(tmp_path, BLOCKS, env=env)
    specs = settings.controller_specs()
    assert [(s.name, s.url, s.profile, s.migration) for s in specs] == [
        ("trading", "http://127.0.0.1:8080", "trading-service", None),
        ("batch-eu", "http://127.0.0.1:8081", None, "mig-42"),
    ]
    # token_env names the variable; without one, MIGRATION_TUI_TOKEN_<NAME>. The global token
    # is never sent to one of several controllers.
    assert [s.token for s in specs] == ["t-secret", "b-secret"]
    assert "secret" not in repr(settings) and "secret" not in json.dumps(settings.redacted())


def test_the_global_token_serves_a_single_controller_only(tmp_path):
    one = _settings(
        tmp_path, BLOCKS.split("[[controllers]]", 2)[0] + "[[controllers]]" + BLOCKS.split("[[controllers]]")[1]
    )
    assert len(one.controllers) == 1
    alone = _settings(
        tmp_path, "[[controllers]]" + BLOCKS.split("[[controllers]]")[2], env={"MIGRATION_TUI_TOKEN": "g"}
    )
    assert alone.controller_specs()[0].token == "g"
    two = _settings(tmp_path, BLOCKS, env={"MIGRATION_TUI_TOKEN": "g"})
    assert [s.token for s in two.controller_specs()] == [None, None]


def test_repeated_controller_flags_name_each_controller(tmp_path):
    settings = _settings(tmp_path, cli={"controller": ["east=http://10.0.0.1:80", "west=https://w.example"]})
    assert [(s.name, s.url) for s in settings.controller_specs()] == [
        ("east", "http://10.0.0.1:80"),
        ("west", "https://w.example"),
    ]
    # Bare URLs are named after their host, with the port when two share it.
    bare = _settings(tmp_path, cli={"controller": ["http://127.0.0.1:8080", "http://127.0.0.1:8081"]})
    assert [s.name for s in bare.controller_specs()] == ["127.0.0.1-8080", "127.0.0.1-8081"]
    # One bare URL is today's one unnamed controller: plain ids, MIGRATION_TUI_TOKEN.
    single = _settings(tmp_path, cli={"controller": ["http://127.0.0.1:8080"]}, env={"MIGRATION_TUI_TOKEN": "g"})
    assert single.controllers == () and single.controller == "http://127.0.0.1:8080"
    assert [(s.name, s.token) for s in single.controller_specs()] == [(None, "g")]
    # Flags replace the file's controllers.
    flagged = _settings(tmp_path, BLOCKS, cli={"controller": ["solo=http://127.0.0.1:9"]})
    assert [s.name for s in flagged.controller_specs()] == ["solo"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[controllers]]\nname = "a"\nurl = "http://x"\n[[controllers]]\nname = "a"\nurl = "http://y"\n',
            "used twice",
        ),
        ('[[controllers]]\nname = "a b"\nurl = "http://x"\n', "is not usable"),
        ('[[controllers]]\nname = "a:b"\nurl = "http://x"\n', "is not usable"),
        ('[[controllers]]\nurl = "http://x"\n', "needs a name"),
        ('[[controllers]]\nname = "a"\n', "no url"),
        ('[[controllers]]\nname = "a"\nurl = "http://x"\ntoken = "t"\n', "unknown key(s): token"),
        ('controller = "http://z"\n[[controllers]]\nname = "a"\nurl = "http://x"\n', "not both"),
        ('controllers = "http://x"\n', "must be [[controllers]] tables"),
        ('[[controllers]]\nname = "a"\nurl = 5\n', "url must be a string"),
    ],
)
def test_a_bad_controller_block_is_one_line_naming_it(tmp_path, text, expected):
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, text)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_bad_controller_url_is_refused_naming_the_controller(tmp_path, capsys):
    settings = _settings(tmp_path, '[[controllers]]\nname = "east"\nurl = "ftp://x"\n')
    with pytest.raises(ConfigError, match="controller east URL 'ftp://x' is not usable"):
        check_source_urls(settings)
    assert main(["watch", "--controller", "east=ftp://x"]) == 2
    assert "controller east URL" in capsys.readouterr().err


def test_a_named_controller_scopes_every_id_it_reports():
    clock = VirtualClock()
    clock.advance(40)
    with start_in_thread("orderbook-rollout", clock=clock) as sim:
        source = ControllerSource(sim.url, controller_name="east", clock=clock.now)
        events: list[Event] = []

        async def poll() -> None:
            async with source.make_client() as client:
                assert await source.poll_once(client, events.append)

        import asyncio

        asyncio.run(poll())
    assert {e.source for e in events} == {"controller:east"}
    migrations = [e.data for e in events if e.kind == "migration"]
    assert migrations and all(m["id"].startswith("east:") and m["controller"] == "east" for m in migrations)
    breakers = next(e.data["breakers"] for e in events if e.kind == "breakers")
    assert breakers and all(b["name"].startswith("east:") for b in breakers)
    series = next(e.data["values"] for e in events if e.kind == "metrics")
    assert series and all(name.startswith("east:") for name in series), sorted(series)[:5]
    store = Store()
    for event in events:
        store.apply(event)
    # The rules find a named controller's pair series and breakers through the scoped names.
    migration = next(iter(store.migrations.values()))
    assert migration.scoped(migration.pair) in store.breakers
    frame = Frame(store, clock.now())
    reasons = {j.reason for j in frame.judgements[migration.id]}
    assert not any(r.startswith("no data for") for r in reasons), reasons


async def test_the_same_id_on_two_controllers_is_two_migrations_and_actions_go_to_their_own(tmp_path):
    clock = VirtualClock()
    clock.advance(20)
    with (
        start_in_thread("2pc-commit", clock=clock, token="a-token") as sim_a,
        start_in_thread("2pc-commit", clock=clock, token="b-token") as sim_b,
    ):
        store = Store()
        events: list[Event] = []
        for name, sim in (("a", sim_a), ("b", sim_b)):
            token = f"{name}-token"
            source = ControllerSource(sim.url, controller_name=name, token=token, clock=clock.now)
            async with source.make_client() as client:
                assert await source.poll_once(client, events.append)
        for event in events:
            store.apply(event)
        remote = sim_a.controller.sim.migrations[0].id
        assert remote == sim_b.controller.sim.migrations[0].id  # the same id on both
        assert {scoped_id("a", remote), scoped_id("b", remote)} <= set(store.migrations)
        assert store.participants_of(scoped_id("a", remote)) and store.participants_of(scoped_id("b", remote))

        audit = AuditLog(tmp_path / "audit.jsonl", secrets=("a-token", "b-token"))
        emitted: list[Event] = []
        clients = [
            ActionClient(sim.url, "trading-service", audit, emitted.append, token=f"{name}-token", controller=name)
            for name, sim in (("a", sim_a), ("b", sim_b))
        ]
        router = ActionRouter(clients)
        decision = Decision("pause", scoped_id("b", remote), "test")
        router.record("confirmed", decision)
        outcome = await router.send(decision)
        assert outcome.state == "ok", outcome
        # b received it once, with b's token (a 401 otherwise), at its own id; a received nothing.
        assert [(a.path, a.status) for a in sim_b.controller.received_actions] == [
            (f"/api/v1/migrations/{remote}/pause", 200)
        ]
        assert sim_a.controller.received_actions == []
        assert {e.source for e in emitted} == {"controller:b"}
        assert {e.data["migration_id"] for e in emitted} == {scoped_id("b", remote)}
        lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        assert {line["controller"] for line in lines} == {"b"}
        assert "token" not in (tmp_path / "audit.jsonl").read_text()
        # A migration of no controller of this dashboard: nothing is sent.
        stray = await ActionRouter(clients[:1]).send(Decision("pause", scoped_id("b", remote), "test"))
        assert stray.state == "failed" and len(sim_b.controller.received_actions) == 1


async def test_a_recording_of_two_controllers_replays_each_migration_under_its_own(tmp_path):
    from migration_tui.headless import reduce_recording
    from migration_tui.sources.record import record_async

    with start_in_thread("canary", speed=20.0) as canary, start_in_thread("batch", speed=20.0) as batch:
        sources = [
            ControllerSource(canary.url, controller_name="blue", poll_interval_s=0.1),
            ControllerSource(batch.url, controller_name="green", poll_interval_s=0.1),
        ]
        out = tmp_path / "estate.jsonl"
        summary = await record_async(sources, str(out), duration_s=1.0)
    assert summary.reached == {"controller:blue", "controller:green"}
    state = reduce_recording(str(out), float("inf"))
    owners = {m["id"]: m["controller"] for m in state["migrations"]}
    assert set(owners.values()) == {"blue", "green"}
    assert all(migration_id.startswith(f"{owner}:") for migration_id, owner in owners.items())
    assert {"controller:blue", "controller:green"} <= set(state["sources"])


def test_check_probes_each_controller_under_its_name(tmp_path, capsys):
    from tests.servers import free_port

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with start_in_thread("canary") as canary:
        assert main(["check", "--controller", f"blue={canary.url}"]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"controller blue {canary.url}  reachable")
        assert "profile canary" in out
        assert main(["check", "--controller", f"blue={canary.url}", "--controller", f"red={dead}"]) == 1
    out = capsys.readouterr().out
    assert "controller blue" in out and f"controller red {dead}  UNREACHABLE" in out


def test_a_bad_profile_file_in_a_controller_block_is_refused_naming_the_block(tmp_path, capsys):
    profile = tmp_path / "acme.toml"
    profile.write_text('format = "migration-tui/profile"\nversion = 1\nname = "acme"\nsystem = "nope"\n')
    config = tmp_path / "config.toml"
    config.write_text(f'[[controllers]]\nname = "acme"\nurl = "http://127.0.0.1:9"\nprofile = "{profile}"\n')
    assert main(["watch", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "[[controllers]] 'acme'" in err and "acme.toml" in err and "system" in err
