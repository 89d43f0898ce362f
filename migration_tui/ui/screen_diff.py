"""Only the cells that changed reach the terminal, as htop does.

Textual writes a dirty part of a line from the left edge of the widget that
owns it, so a clock ticking at the end of the status bar rewrites the whole
bar, and a sparkline that moves one column rewrites every column. ``ScreenDiff``
keeps what the terminal shows (one cell = its text and style) and turns each of
Textual's partial updates into the runs of cells that differ from it: a clock
tick costs a cursor move, a colour and one digit.

Full updates (Textual's ``LayoutUpdate``: a new screen, a resize, a layout
change) are written whole, as Textual would, and remembered, unless the
terminal is known to show every cell they cover: then they too cost only the
cells that differ. A cell the terminal may not show as remembered (after a
resize, or back from a suspension) is unknown and always written. Nothing is ever left out: a cell is skipped only when the terminal is
known to show exactly it already.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat

from rich.cells import get_character_cell_size
from rich.console import Console
from rich.control import Control
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from migration_tui.ui.textual_compat import ChopsUpdate, LayoutUpdate

#: A cell: its text ("" for the right half of a wide character) and style.
Cell = tuple[str, Style | None]
#: Unchanged cells between two changed runs that are written anyway rather than moving the
#: cursor again: a move costs about 8 bytes, a plain cell one to three.
JOIN_GAP = 4


def cells_of(strip: Strip | Iterable[Segment]) -> list[Cell]:
    """The cells a strip fills, left to right (a wide character fills two, the second empty)."""
    cells: list[Cell] = []
    append = cells.append
    for text, style, control in strip:
        if control:
            continue
        if text.isascii() and text.isprintable():  # the common case: one cell per character
            cells.extend(zip(text, repeat(style)))
            continue
        for char in text:
            width = get_character_cell_size(char)
            if width == 1:
                append((char, style))
            elif width == 2:
                append((char, style))
                append(("", style))
            elif cells:  # zero width (a combining mark): part of the cell before it
                last_text, last_style = cells[-1]
                cells[-1] = (last_text + char, last_style)
    return cells


class ScreenDiff:
    """What the terminal shows, and the bytes that bring it to the next frame."""

    def __init__(self) -> None:
        self.width = 0
        self.height = 0
        self.rows: list[list[Cell | None]] = []
        #: Cells handed to the terminal and cells left out because it already showed them.
        self.written = 0
        self.skipped = 0

    def reset(self, width: int, height: int) -> None:
        """Forget what the terminal shows (a new size, or the screen cleared): every cell is unknown."""
        self.width, self.height = width, height
        self.rows = [[None] * width for _ in range(height)]

    def render(self, update: object, console: Console, size: tuple[int, int]) -> str | None:
        """The terminal sequence for ``update`` (a Textual compositor update), or None to let
        Textual write it as it would (an update this class does not know)."""
        if size != (self.width, self.height):
            self.reset(*size)
        if isinstance(update, LayoutUpdate):
            region = update.region
            lines = [  # a line: the strips of its chops
                (y, [cell for strip in line for cell in cells_of(strip)])
                for y, line in enumerate(update.strips, region.y)
            ]
            if not self._knows(region.x, [y for y, _cells in lines]):
                for y, cells in lines:
                    self._remember(y, region.x, cells)
                return None  # written whole, as Textual writes it
            # The terminal shows every cell of the region: a new layout that looks the same (the
            # other tabs' widgets mounted, hidden, after the first frame) costs only what differs.
            out: list[str] = []
            for y, cells in lines:
                if 0 <= y < self.height:
                    out.extend(self._changed(console, y, region.x, cells))
            return "".join(out)
        if not isinstance(update, ChopsUpdate):
            return None
        out: list[str] = []
        for y, x1, x2 in update.spans:
            if not 0 <= y < self.height:
                continue
            line = update.chops[y]
            for end, (x, strip) in zip(update.chop_ends[y], line.items(), strict=False):
                if strip is None or x >= x2 or end <= x1:
                    continue
                start = max(x, x1)
                cells = cells_of(strip.crop(start - x, min(end, x2) - x))
                out.extend(self._changed(console, y, start, cells))
        return "".join(out)

    def _knows(self, x: int, ys: list[int]) -> bool:
        """True if the terminal is known to show every cell from column ``x`` on lines ``ys``."""
        return all(0 <= y < self.height and None not in self.rows[y][x:] for y in ys)

    def _remember(self, y: int, x: int, cells: list[Cell]) -> None:
        if 0 <= y < self.height:
            row = self.rows[y]
            for offset, cell in enumerate(cells[: max(0, self.width - x)]):
                row[x + offset] = cell

    def _changed(self, console: Console, y: int, x: int, cells: list[Cell]) -> list[str]:
        """Moves and cells for the runs of ``cells`` (at ``x`` on line ``y``) the terminal does not show."""
        row = self.rows[y]
        count = min(len(cells), self.width - x)
        runs: list[list[int]] = []
        for offset in range(count):
            cell = cells[offset]
            if row[x + offset] == cell:
                continue
            if runs and offset - runs[-1][1] <= JOIN_GAP:
                runs[-1][1] = offset + 1
            else:
                runs.append([offset, offset + 1])
        out: list[str] = []
        for start, stop in runs:
            # Never split a wide character: start on its left half, end after its right half.
            while start > 0 and cells[start][0] == "":
                start -= 1
            while stop < count and cells[stop][0] == "":
                stop += 1
            segments = [Segment(text, style) for text, style in cells[start:stop] if text]
            out.append(Control.move_to(x + start, y).segment.text)
            out.append(Strip(Segment.simplify(segments)).render(console))
            self.written += stop - start
            for offset in range(start, stop):
                row[x + offset] = cells[offset]
        self.skipped += count - sum(stop - start for start, stop in runs)
        return out
