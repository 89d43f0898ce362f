"""The replay path must not load the live sources' clients: the first paint of ``replay`` stays fast."""

from __future__ import annotations

import subprocess
import sys


def test_replay_ui_imports_no_source_clients():
    code = (
        "import sys\n"
        "from migration_tui.ui.app import MigrationApp\n"
        "from migration_tui.feeds import ReplayFeed\n"
        "import migration_tui.ui.run\n"
        "heavy = [m for m in ('httpx', 'redis', 'prometheus_api_client', 'psutil', 'migration_tui.sources.controller') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_the_dashboard_and_the_wall_do_not_import_plotext_until_a_chart_is_drawn():
    code = (
        "import sys\n"
        "from migration_tui.ui.app import MigrationApp\n"
        "from migration_tui.ui.screens.wall import WallScreen\n"
        "import migration_tui.ui.run\n"
        "print(','.join(m for m in ('plotext', 'textual_plotext') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
