"""The dashboard's widgets, one module each; each renders part of the view state and never fetches."""

from migration_tui.ui.widgets.alerts import AlertsPane
from migration_tui.ui.widgets.breakers import BreakersTable
from migration_tui.ui.widgets.log import LogPane
from migration_tui.ui.widgets.metrics import MetricsPane
from migration_tui.ui.widgets.migration import MigrationPane, ProgressLine
from migration_tui.ui.widgets.participants import ParticipantsNote, ParticipantsTable
from migration_tui.ui.widgets.picker import MigrationPicker
from migration_tui.ui.widgets.resources import ResourcesPane
from migration_tui.ui.widgets.statusbar import StatusBar
from migration_tui.ui.widgets.system import SystemPanel

__all__ = [
    "AlertsPane",
    "BreakersTable",
    "LogPane",
    "MetricsPane",
    "MigrationPane",
    "MigrationPicker",
    "ParticipantsNote",
    "ParticipantsTable",
    "ProgressLine",
    "ResourcesPane",
    "StatusBar",
    "SystemPanel",
]
