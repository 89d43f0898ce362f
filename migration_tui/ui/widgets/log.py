"""The events log: the store's log lines, appended as they arrive.

Only new lines are written. When the store was replaced (a replay seek
backwards) or the lines drawn so far are gone from it, the log is redrawn
from the store, which holds the last ``store.LOG_LINES`` lines.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog

from migration_tui.safe_text import clean
from migration_tui.store import LOG_LINES, LogLine
from migration_tui.ui.view import StoreView, View

LEVELS = {"info": ("info", "·"), "warning": ("warn", "▲"), "error": ("bad", "✖")}


def log_text(view: View, line: LogLine) -> Text:
    level, symbol = LEVELS.get(line.level, ("muted", "·"))
    text = Text(no_wrap=True, end="")
    text.append(time.strftime("%H:%M:%S", time.gmtime(line.ts)), style=view.style("state-muted"))
    text.append(f" {symbol} ", style=view.style(f"state-{level}"))
    text.append(clean(line.source, 12).ljust(10), style=view.style("state-muted"))
    text.append(" ")
    text.append(clean(line.message, 300))
    return text


class LogPane(StoreView, RichLog):
    """Events log, newest at the bottom; times are UTC on the feed's clock."""

    SECTIONS = ("log",)
    SELECTION = False

    DEFAULT_CSS = """
    LogPane {
        height: 1fr;
        min-height: 3;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, max_lines=LOG_LINES, wrap=False, markup=False, highlight=False)
        self._last: LogLine | None = None
        self._store_id: int | None = None
        self._generation: int | None = None

    def draw(self, view: View) -> None:
        lines = view.store.log
        start = 0
        same_store = self._store_id == id(view.store) and self._generation == view.theme_generation
        if same_store and self._last is not None:
            # Find the last line drawn; what follows it is new.
            for index in range(len(lines) - 1, -1, -1):
                if lines[index] is self._last:
                    start = index + 1
                    break
            else:
                same_store = False
        if not same_store:
            self.clear()
            start = 0
        self._store_id = id(view.store)
        self._generation = view.theme_generation
        for line in list(lines)[start:]:
            self.write(log_text(view, line))
        self._last = lines[-1] if lines else None
