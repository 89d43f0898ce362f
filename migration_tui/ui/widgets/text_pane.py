"""TextPane: a widget drawn as lines of Rich ``Text`` that repaints only the lines that changed.

On a slow SSH link every byte counts. ``draw`` builds the new lines, compares
them with the lines on screen and marks only the changed ones dirty, so an
age ticking from 4s to 5s rewrites one line, not the pane. Adjacent runs of
one style are merged into one span, so a sparkline costs one colour escape
per run instead of one per column.
"""

from __future__ import annotations

from rich.text import Span, Text
from textual import events
from textual.geometry import Region
from textual.widget import Widget

from migration_tui.ui.view import StoreView, View


def merged(text: Text) -> Text:
    """``text`` with touching spans of the same style merged (fewer escapes on the wire)."""
    spans = text.spans
    if len(spans) < 2:
        return text
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        last = out[-1] if out else None
        if last is not None and last.end == span.start and last.style == span.style:
            out[-1] = Span(last.start, span.end, span.style)
        else:
            out.append(span)
    text.spans[:] = out
    return text


class TextPane(StoreView, Widget):
    """Subclasses implement ``build(view, width) -> list[Text]``, one Text per line."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._view: View | None = None
        self._lines: list[Text] = []

    def build(self, view: View, width: int) -> list[Text]:  # pragma: no cover - every pane overrides it
        raise NotImplementedError

    @property
    def lines(self) -> list[Text]:
        """The lines on screen now (tests read these)."""
        return self._lines

    def draw(self, view: View) -> None:
        self._view = view
        new = [merged(line) for line in self.build(view, self.size.width)]
        old = self._lines
        self._lines = new
        if len(new) != len(old):
            self.refresh(layout=True)
            return
        width = self.outer_size.width
        dirty = [
            Region(0, y, width, 1) for y, (before, after) in enumerate(zip(old, new, strict=True)) if before != after
        ]
        if dirty:
            self.refresh(*dirty)

    def on_resize(self, event: events.Resize) -> None:
        if self._view is not None:
            self._lines = [merged(line) for line in self.build(self._view, self.size.width)]
            self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[override]
        return len(self._lines)

    def render(self) -> Text:
        return Text("\n", end="", no_wrap=True).join(self._lines)
