"""The events log: the store's log lines, appended as they arrive.

Only new lines are added. When the store was replaced (a replay seek
backwards) or the lines drawn so far are gone from it, the log is redrawn
from the store, which holds the last ``store.LOG_LINES`` lines.

A ScrollView of Rich ``Text`` lines, each drawn at the pane's width when it
is on screen. Textual's RichLog did the job, but it defers every write until
its first Resize (so the log came a frame after the rest of the first
screen), renders each line once at the width of that moment (a line written
narrow stayed cut after the pane widened), and its import brings in
rich.pretty, about a tenth of what the dashboard imports.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from migration_tui.model import controller_of_source
from migration_tui.safe_text import clean
from migration_tui.store import LOG_LINES, LogLine
from migration_tui.ui.view import StoreView, View

LEVELS = {"info": ("info", "·"), "warning": ("warn", "▲"), "error": ("bad", "✖")}


def log_text(view: View, line: LogLine) -> Text:
    level, symbol = LEVELS.get(line.level, ("muted", "·"))
    text = Text(no_wrap=True, end="")
    text.append(time.strftime("%H:%M:%S", time.gmtime(line.ts)), style=view.style("state-muted"))
    text.append(f" {symbol} ", style=view.style(f"state-{level}"))
    # A named controller's lines by its name (``controller:east`` -> ``east``).
    source = controller_of_source(line.source) or line.source
    text.append(clean(source, 12).ljust(10), style=view.style("state-muted"))
    text.append(" ")
    text.append(clean(line.message, 300))
    return text


class LogPane(StoreView, ScrollView, can_focus=True):
    """Events log, newest at the bottom; times are UTC on the feed's clock.

    It follows the newest line while scrolled to the bottom, and stays put while scrolled up.
    """

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
        super().__init__(id=id, classes=classes)
        self._texts: list[Text] = []
        self._strips: dict[tuple[int, int, int], Strip] = {}  # (line, scroll x, width): lines drawn
        self._first = 0  # number of the first line kept (lines are numbered from the first ever drawn)
        self._last: LogLine | None = None
        self._store_id: int | None = None
        self._generation: int | None = None
        self._follow = True  # keep the newest line in view
        self._widest = 0

    @property
    def lines(self) -> list[Text]:
        """The lines held, oldest first (tests read these)."""
        return self._texts

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
        if self.size.height:
            # Follow the newest line only while at the bottom: reading back is not interrupted.
            self._follow = self.is_vertical_scroll_end
        if not same_store:
            self._texts.clear()
            self._strips.clear()
            self._first = 0
            self._widest = 0
            start = 0
            self._follow = True
        self._store_id = id(view.store)
        self._generation = view.theme_generation
        added = [log_text(view, line) for line in list(lines)[start:]]
        self._texts.extend(added)
        # As wide as the widest line: a long message scrolls sideways rather than being lost.
        self._widest = max([self._widest, *(text.cell_len for text in added)])
        self._last = lines[-1] if lines else None
        if len(self._texts) > LOG_LINES:
            dropped = len(self._texts) - LOG_LINES
            del self._texts[:dropped]
            self._first += dropped
            self._strips = {key: strip for key, strip in self._strips.items() if key[0] >= self._first}
        self.virtual_size = Size(self._widest, len(self._texts))
        if self._follow:
            self.scroll_end(animate=False, immediate=False, x_axis=False)  # once laid out at this size
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # drawn in the old style (focus, theme)

    def on_resize(self) -> None:
        if self._follow:
            self.scroll_end(animate=False, immediate=False, x_axis=False)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if not 0 <= index < len(self._texts):
            return Strip.blank(width, style)
        key = (self._first + index, scroll_x, width)
        strip = self._strips.get(key)
        if strip is None:
            text = self._texts[index]
            console = self.app.console
            options = console.options.update(width=max(1, text.cell_len), no_wrap=True, overflow="ignore")
            strip = Strip(console.render(text, options)).crop_extend(scroll_x, scroll_x + width, style)
            if len(self._strips) > 4 * LOG_LINES:
                self._strips.clear()  # widths and scroll positions seen come and go
            strip = self._strips[key] = strip.apply_style(style)
        return strip
