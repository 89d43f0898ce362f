"""Fixtures for the UI tests: fixture recordings and an app factory in virtual time.

The replay clock is virtual and starts paused, so nothing on screen depends on
when the test runs; ``open_app`` waits for the index worker instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from migration_tui.feeds import ReplayFeed
from migration_tui.ui.app import MigrationApp
from tests.ui.fixtures.make_recordings import write_all


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small recording per seed system, plus a hostile one."""
    return write_all(tmp_path_factory.mktemp("ui-recordings"))


@pytest.fixture()
def make_app(recordings: dict[str, Path]) -> Callable[..., MigrationApp]:
    """``make_app("2pc", theme=None)``: the app over a paused replay of a fixture recording."""

    def factory(scenario: str, theme: str | None = None) -> MigrationApp:
        return MigrationApp(ReplayFeed(recordings[scenario], playing=False), theme=theme)

    return factory


async def settle(app: MigrationApp, pilot, at: float | None = None) -> None:
    """Wait for the index worker, seek to ``at`` seconds, and let the screen repaint."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    if at is not None:
        app.feed.seek_to(at)
    app.dashboard.refresh_view()
    await pilot.pause()
    await pilot.pause()
