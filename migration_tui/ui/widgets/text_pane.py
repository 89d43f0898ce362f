"""TextPane: a widget drawn as lines of Rich ``Text`` that repaints only the lines that changed.

On a slow SSH link every byte counts. ``draw`` builds the new lines, compares
them with the lines on screen and marks only the changed ones dirty, so an
age ticking from 4s to 5s rewrites one line, not the pane, and only up to
its last changed cell (Textual writes a dirty region from the widget's left
edge, so a column that changes every second belongs at a widget's left edge
or in a widget of its own). Adjacent runs of one style are merged into one
span, so a sparkline costs one colour escape per run instead of one per
column.
"""

from __future__ import annotations

import functools
import itertools

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual import events
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import Visual, visualize
from textual.widget import Widget

from migration_tui.ui.textual_compat import forget_dirty_regions
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


def _styled_chars(text: Text) -> list[tuple[str, tuple[object, ...]]]:
    """Each character with the styles on it (the line's, then its spans' in order)."""
    plain = text.plain
    length = len(plain)
    spans = text.spans
    # Built run by run (between span edges), not character by character: the fleet list
    # compares a few hundred changed lines a second.
    edges = sorted(
        {0, length, *(min(span.start, length) for span in spans), *(min(span.end, length) for span in spans)}
    )
    styles: list[tuple[object, ...]] = []
    for start, end in itertools.pairwise(edges):
        if end > start:
            run = (text.style, *(span.style for span in spans if span.start <= start < span.end))
            styles.extend([run] * (end - start))
    return list(zip(plain, styles, strict=True))


def changed_cells(before: Text, after: Text) -> tuple[int, int] | None:
    """The cell columns ``[start, end)`` where two lines differ in text or style; None if they do not."""
    old, new = _styled_chars(before), _styled_chars(after)
    if old == new:
        return None
    start, end_old, end_new = 0, len(old), len(new)
    while start < min(end_old, end_new) and old[start] == new[start]:
        start += 1
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old, end_new = end_old - 1, end_new - 1
    x1 = cell_len(after.plain[:start])
    old_len, new_len = cell_len(before.plain), cell_len(after.plain)
    if old_len != new_len:
        # The common tail moved: every cell from the first change to the longer line's end differs.
        return x1, max(x1 + 1, old_len, new_len)
    return x1, max(x1 + 1, cell_len(before.plain[:end_old]), cell_len(after.plain[:end_new]))


#: How many converted lines a pane remembers by their text and styles (then it starts again).
SEEN_LINES = 256


@functools.lru_cache(maxsize=4096)
def _segment_style(base: VisualStyle, text_style: VisualStyle, x: int) -> Style:
    """The Rich style of a segment at column ``x`` of a pane's line: the pane's style with the
    text's over it, and the offset Textual puts in every segment's meta (for selecting text).
    Remembered: a line redrawn every second has its segments at the same columns in the same
    styles (a value, an age, a clock), and making one costs a colour blend and a Rich style
    whose meta is pickled. Textual styles are immutable and hash by all their attributes."""
    return (base + text_style).rich_style_with_offset(x, 0)


class TextPane(StoreView, Widget):
    """Subclasses implement ``build(view, width) -> list[Text]``, one Text per line."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._view: View | None = None
        self._lines: list[Text] = []
        self._width: int | None = None  # the width ``_lines`` were built for
        # Each line's strip as drawn, by line: only a changed line is converted again (``render_line``).
        self._strips: dict[int, Strip] = {}
        self._strips_for: tuple[object, ...] = ()
        # Strips of lines drawn before, by their text and styles, for the same width and style:
        # a line that comes back (an age going 0s, 1s, 2s again, a value seen before) is not
        # converted again.
        self._seen: dict[tuple[object, ...], Strip] = {}

    def build(self, view: View, width: int) -> list[Text]:  # pragma: no cover - every pane overrides it
        raise NotImplementedError

    @property
    def lines(self) -> list[Text]:
        """The lines on screen now (tests read these)."""
        return self._lines

    def draw(self, view: View) -> None:
        self._view = view
        width = self.size.width
        if not width:
            # Not laid out yet: layout (``get_content_height``) or the first ``render`` builds
            # at the real width, once, instead of lines for width 0 now and again on resize.
            self._width = None
            self.refresh(layout=True)
            return
        new = [merged(line) for line in self.build(view, width)]
        old = self._lines
        self._lines, self._width = new, width
        if len(new) != len(old):
            self._strips.clear()
            self.refresh(layout=True)
            return
        dirty = []
        width = self.size.width
        for y, (before, after) in enumerate(zip(old, new, strict=True)):
            cells = None if before == after else changed_cells(before, after)
            if cells is not None:
                x1, x2 = cells
                if max(before.cell_len, after.cell_len) > width:
                    # Cut at the edge (with "…"), the unchanged tail of the text is not the
                    # tail on screen: everything from the first change to the edge moves.
                    x2 = max(x2, width)
                dirty.append(Region(x1, y, x2 - x1, 1))
                self._strips.pop(y, None)
        if dirty:
            self.refresh(*dirty)

    def _build_for(self, width: int) -> None:
        if self._view is not None and width != self._width:
            self._lines, self._width = [merged(line) for line in self.build(self._view, width)], width
            self._strips.clear()

    def _build_to_size(self) -> None:
        """Lines for the pane's width now, if they were built for another (a new line count lays out again)."""
        width = self.size.width
        if width and width != self._width:
            count = len(self._lines)
            self._build_for(width)
            if len(self._lines) != count:
                self.refresh(layout=True)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` as a strip: converted from its Text only when it changed (Textual's own
        ``render_line`` converts every line of the widget whenever any part of it is refreshed).
        A text selection (which counts lines across the widget) is drawn Textual's way."""
        if self.text_selection is not None or self.styles.content_align != ("left", "top"):
            self._strips.clear()
            return super().render_line(y)
        self._build_to_size()
        width = self.size.width
        style = self.visual_style
        key = (width, style)
        if key != self._strips_for:
            self._strips.clear()
            self._seen.clear()
            self._strips_for = key
        forget_dirty_regions(self)
        strip = self._strips.get(y)
        if strip is None:
            if y < len(self._lines):
                line = self._lines[y]
                seen = (line.plain, tuple(line.spans), line.style)
                strip = self._seen.get(seen)
                if strip is None:
                    strip = self._fitting_strip(line, width, style)
                    if strip is None:
                        strip = self._textual_strip(line, width, style)
                    else:
                        if len(self._seen) >= SEEN_LINES:
                            self._seen.clear()
                        self._seen[seen] = strip
            else:
                strip = Strip.blank(width, style.rich_style)
            self._strips[y] = strip
        return strip

    def _textual_strip(self, line: Text, width: int, style: VisualStyle) -> Strip:
        """A line as Textual's ``to_strips`` draws it (wrapping, cutting at the edge, links)."""
        joined = Text("\n", end="", no_wrap=True).join([line])
        strips = Visual.to_strips(self, visualize(self, joined, markup=False), width, 1, style)
        return strips[0] if strips else Strip.blank(width, style.rich_style)

    def _fitting_strip(self, line: Text, width: int, style: VisualStyle) -> Strip | None:
        """A line that fits the pane as a strip, or None for Textual's way (``to_strips``).

        For a line of one row that fits, left-aligned, without tabs, Textual's wrapping,
        truncating and padding leave it as it is, and it has no links (the panes never make
        any): what remains is its styles laid on the pane's, each segment with its offset
        (for selecting text), which is all this does, at less than half the cost. Tests hold
        it equal to ``to_strips`` segment by segment.
        """
        plain = line.plain
        styles = self.styles
        if (
            "\t" in plain
            or "\n" in plain
            or line.cell_len > width
            or styles.text_align not in ("start", "left")
            or styles.line_pad
        ):
            return None
        if line.style:  # a span, as Textual's way has it (``join`` below), parsed as Rich parses it
            line = Text("\n", end="", no_wrap=True).join([line])
        content = Content.from_rich_text(line, self.app.console)
        segments = []
        x = 0
        # From Rich Text every span's style is a Style already: none is a name to look up.
        for text, text_style in content.render(style, end=""):
            segments.append(Segment(text, _segment_style(style, text_style, x)))
            x += len(text)
        return Strip(segments, content.cell_length)

    def on_resize(self, event: events.Resize) -> None:
        if self._view is not None and self._width != self.size.width:
            self._build_for(self.size.width)
            self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[override]
        # Layout asks at the width the pane will have: build for it now, so the first frame
        # shows the lines at their size (not the lines drawn at width 0 before layout, then
        # a second layout and frame once the resize arrives).
        self._build_for(width)
        return len(self._lines)

    def render(self) -> Text:
        # A pane of fixed height is never asked its content height: it builds for its width
        # here, in the first frame that has one, not a frame later on the Resize event.
        self._build_to_size()
        return Text("\n", end="", no_wrap=True).join(self._lines)


class TextColumns(Widget):
    """TextPanes side by side that read as one pane.

    Textual writes a changed line of a widget from the widget's left edge, so a column
    that changes every second is cheapest as a TextPane of its own. ``lines`` and
    ``render`` give the parts' lines joined, as one pane would show them.
    """

    DEFAULT_CSS = """
    TextColumns {
        layout: horizontal;
        height: auto;
    }
    """

    @property
    def lines(self) -> list[Text]:
        """The lines on screen now, the parts' lines joined (tests read these)."""
        parts = [part.lines for part in self.query_children(TextPane) if part.display]
        height = max((len(lines) for lines in parts), default=0)
        return [Text("", end="").join(lines[y] for lines in parts if y < len(lines)) for y in range(height)]

    def render(self) -> Text:
        return Text("\n", end="", no_wrap=True).join(self.lines)
