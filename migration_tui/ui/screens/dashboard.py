"""The dashboard screen: every pane of the selected migration, without the action keys.

What ``watch --read-only`` and ``replay`` show. Everything it does is the shared
base's (``base.MigrationScreen``); ``ActionDashboard`` (actions.py) is the same
screen with the action keys, and ``WallScreen`` (wall.py) the read-only wall.
"""

from __future__ import annotations

from migration_tui.ui.screens.base import MigrationScreen


class DashboardScreen(MigrationScreen):
    """Every pane of the selected migration, in tabs at 80x24 and side by side when wide."""
