"""HostSource: readings from this machine, in range, through the real psutil."""

from __future__ import annotations

import asyncio

from migration_tui.config import Settings
from migration_tui.events import Event
from migration_tui.model import HostResources
from migration_tui.sources.host import HostSource
from tests.servers import async_wait_for


def test_first_sample_leaves_rates_out_then_fills_them() -> None:
    source = HostSource(poll_interval_s=0.1)
    first = source.sample()
    assert first["scope"] == "host"
    assert first["cpu_percent"] is None and first["net_sent_bps"] is None and first["net_recv_bps"] is None
    assert 0 < first["memory_percent"] <= 100
    assert 0 <= first["disk_percent"] <= 100
    assert first["load1"] >= 0
    second = source.sample()
    assert 0 <= second["cpu_percent"] <= 100
    assert second["net_sent_bps"] >= 0 and second["net_recv_bps"] >= 0


def test_readings_pass_the_model_validation() -> None:
    source = HostSource()
    source.sample()
    resources = HostResources.from_dict(source.sample())
    assert resources.invalid == ()
    assert resources.memory_percent is not None and resources.cpu_percent is not None


def test_missing_disk_path_is_a_gap_not_a_crash(tmp_path) -> None:
    source = HostSource(disk_path=str(tmp_path / "gone"))
    assert source.sample()["disk_percent"] is None


async def test_run_emits_host_events_every_interval() -> None:
    events: list[Event] = []
    source = HostSource.from_settings(Settings(poll_interval_s=0.05))
    task = asyncio.create_task(source.run(events.append))
    try:
        await async_wait_for(lambda: len(events) >= 3, 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert {(e.source, e.kind) for e in events} == {("host", "host")}
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    assert events[-1].data["cpu_percent"] is not None
