"""Where a controller does not serve an optional endpoint, the pane that would show it says so.

A controller with a partial API (seed 000's endpoints and none of seed 001's) is
fresh all the same; the parts it does not serve are simply absent. An empty
table or a dash would read as "nothing there"; this line says why instead.
The paths are the controller profiles' (``docs/controller-profiles.md``).
"""

from __future__ import annotations

from rich.text import Text

from migration_tui.model import CONTROLLER_SOURCE
from migration_tui.safe_text import clean
from migration_tui.ui.view import View
from migration_tui.ui.widgets.text_pane import TextPane

BREAKERS_PATH = "/admin/circuit-breaker/status"
METRICS_PATH = "/metrics"


def not_served_lines(view: View, *paths: str) -> list[Text]:
    """One muted line per path of ``paths`` the shown migration's controller said it does not serve."""
    absent = view.store.source(CONTROLLER_SOURCE if view.migration is None else view.migration.source_name).not_served
    style = view.style("state-muted")
    return [
        Text(f"— not served by this controller ({clean(path, 80)})", style=style, no_wrap=True, end="")
        for path in paths
        if path in absent
    ]


class NotServedNote(TextPane):
    """A line above a table whose data the controller does not serve; no lines (no height) otherwise."""

    SECTIONS = ("sources",)
    SELECTION = False

    DEFAULT_CSS = """
    NotServedNote {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *paths: str, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.paths = paths

    def build(self, view: View, width: int) -> list[Text]:
        return not_served_lines(view, *self.paths)
