"""A system registered from outside the package (docs/adding-a-system.md) shows everywhere.

The toy system is defined here, in one place, as a new system would be: a profile
that reads a tiny controller API, its phases, a panel, wall figures, one rule. It
is registered for the test and seen on the dashboard, the wall, the fleet view
and in ``replay --headless``; its API is read from a real socket.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text

from migration_tui import systems
from migration_tui.cli import main
from migration_tui.events import Event
from migration_tui.recording import RecordingWriter
from migration_tui.sources.profiles import PROFILES, Reading, detection_order, get_profile, profile_from_health
from migration_tui.sources.profiles.base import SingleMigrationProfile
from migration_tui.systems import Figure, MetricSpec, ProfileEntry, System, SystemUI

T0 = 1_700_000_000.0

# --- the toy system: everything specific to it --------------------------------------------


class ToyProfile(SingleMigrationProfile):
    """``GET /api/toy`` answers ``{"id", "state", "done_pct", "widgets"}``."""

    name = "toy-api"
    default_system = "toy"
    list_path = "/api/toy"

    def migration(self, item: Mapping[str, Any], bodies: Mapping[str, Any], now: float, errors: list[str]) -> dict:
        return {
            "id": item["id"],
            "system": "toy",
            "status": "in_progress",
            "phase": str(item.get("state", "unknown")),
            "progress": item.get("done_pct"),
            "details": {"widgets": item.get("widgets")},
        }


TOY_PROFILE = ToyProfile()


def toy_panel(view: Any, migration: Any) -> list[Text]:
    return [Text(f"toy widgets moved: {migration.details.get('widgets')}", end="")]


TOY_UI = SystemUI(
    panel=toy_panel,
    metrics=(MetricSpec("toy_latency_ms", "toy lat", " ms"),),
    figures=(Figure("toy_errors_pct", "toy errors", "%", 2), Figure("toy_latency_ms", "toy latency", "ms")),
)

TOY = System(
    name="toy",
    description="a toy system for the tests",
    phases=("copying", "verifying", "done"),
    profiles=(ProfileEntry("toy-api", profile=f"{__name__}:TOY_PROFILE", action_path="/api/toy/{action}"),),
    ui=f"{__name__}:TOY_UI",
    rules_toml="""
[[rule]]
name = "toy_errors_high"
systems = ["toy"]
series = "toy_errors_pct"
label = "toy errors"
unit = "%"
op = ">"
threshold = 1.0
for = "0s"
severity = "critical"
action = "stop the toy"
""",
)

# --- the tests -------------------------------------------------------------------------------


@pytest.fixture()
def toy() -> Iterator[System]:
    systems.register(TOY)
    try:
        yield TOY
    finally:
        systems.unregister(TOY.name)


@pytest.fixture()
def toy_recording(tmp_path: Path) -> Path:
    path = tmp_path / "toy.jsonl.gz"
    with RecordingWriter(path, started_at=T0, meta={"scenario": "toy"}) as writer:
        for second in range(30):
            migration = {
                "id": "toy-1",
                "system": "toy",
                "status": "in_progress",
                "phase": "verifying",
                "progress": 60.0,
                "started_at": T0,
                "details": {"widgets": 1234},
            }
            writer.write(Event(T0 + second, "controller", "migration", migration))
            values = {"toy_errors_pct": 3.5, "toy_latency_ms": 42.0}
            writer.write(Event(T0 + second + 0.5, "prometheus", "metrics", {"values": values}))
    return path


def screen_text(app: Any) -> str:
    svg = app.export_screenshot()
    return html.unescape("\n".join(re.findall(r">([^<]*)</text>", svg))).replace("\xa0", " ")


def test_registered_everywhere_the_registry_is_asked(toy: System) -> None:
    assert systems.get("toy") is toy
    assert PROFILES["toy-api"] is TOY_PROFILE and get_profile("toy-api") is TOY_PROFILE
    assert "toy-api" in detection_order()
    assert profile_from_health({"service": "toy-api"}) is TOY_PROFILE
    from migration_tui.model import STAGES, Migration
    from migration_tui.rules import default_rules

    assert STAGES["toy"] == ("copying", "verifying", "done")
    assert Migration(id="x", system="toy").stages == ("copying", "verifying", "done")
    assert "toy_errors_high" in {rule.name for rule in default_rules()}
    systems.unregister("toy")
    assert "toy_errors_high" not in {rule.name for rule in default_rules()}
    systems.register(toy)


def test_the_profile_reads_its_api_from_a_real_socket(toy: System) -> None:
    import httpx

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            bodies = {
                "/health": {"status": "ok", "service": "toy-api"},
                "/api/toy": {"id": "toy-1", "state": "copying", "done_pct": 12.5, "widgets": 7},
            }
            body = json.dumps(bodies.get(self.path, {})).encode()
            self.send_response(200 if self.path in bodies else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        profile = profile_from_health(httpx.get(f"{base}/health").json())
        assert profile is TOY_PROFILE
        items, errors = profile.discover(httpx.get(base + profile.list_path).json())
        reading: Reading = profile.normalise(items, {}, T0)
    finally:
        server.shutdown()
        server.server_close()
    assert errors == []
    (migration,) = reading.migrations
    assert migration["system"] == "toy" and migration["phase"] == "copying" and migration["progress"] == 12.5


async def test_seen_on_the_dashboard_the_fleet_view_and_the_wall(toy: System, toy_recording: Path) -> None:
    from migration_tui.feeds import ReplayFeed
    from migration_tui.ui.app import MigrationApp
    from migration_tui.ui.screens.wall import WallScreen
    from tests.ui.conftest import settle

    app = MigrationApp(ReplayFeed(toy_recording, playing=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, at=20)
        shown = screen_text(app)
        assert "toy widgets moved: 1234" in shown  # its panel
        assert "✔ copying" in shown and "▶ VERIFYING" in shown and "done" in shown  # its phases, on the timeline
        assert "toy errors 3.5% above 1%" in shown  # its rule, firing in the alerts pane
        assert "toy lat" in shown and "42.0 ms" in shown  # its metrics
        await pilot.press("f")
        await pilot.pause()
        await pilot.pause()
        fleet = " ".join(screen_text(app).split())
        assert "toy-1 60.0% ● in_progress verifying — toy ✖ FIRING stop the toy" in fleet  # its row, worst first

    wall = MigrationApp(ReplayFeed(toy_recording, playing=False), dashboard=WallScreen)
    async with wall.run_test(size=(120, 40)) as pilot:
        await settle(wall, pilot, at=20)
        shown = screen_text(wall)
        assert "toy errors" in shown and "toy latency" in shown  # its wall figures
        assert "limit ≤ 1%" in shown  # the figure's limit, from its rule
        assert "of 3: VERIFYING" in shown  # its phases


def test_seen_in_replay_headless(toy: System, toy_recording: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(toy_recording), "--headless", "--at", "20", "--json"]) == 0
    state = json.loads(capsys.readouterr().out)
    (migration,) = state["migrations"]
    assert migration["system"] == "toy" and migration["phase"] == "verifying"
    assert [alert["rule"] for alert in state["alerts"]] == ["toy_errors_high"]
