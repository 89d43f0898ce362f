"""``migration-tui replay FILE`` with the repaint fixes proposed in docs/performance.md, patched in.

    python benchmarks/_replay_proposed.py FILE [TAB]

A what-if for the benchmarks, not product code: it shows what the two
proposed changes to the text widgets (every ``StoreView`` that is a plain
``Widget``: alerts, metrics, migration, progress, picker, resources, status
bar, system panel) would save, before anyone makes them in migration_tui/ui/:

1. one style run per span: adjacent spans with the same style are merged
   (the sparkline appends one span per column, and Textual writes one SGR
   sequence per span, about 24 bytes per column);
2. repaint only what changed: ``draw`` -> ``refresh()`` renders the widget,
   compares each line cell by cell with what was painted last, and marks
   dirty only the changed span of each changed line (``refresh(Region)``);
   an unchanged widget is not repainted at all;
3. participants parsed once: the store builds a ``Participant`` only for a
   ``participants`` item whose raw dict differs from the one it was built
   from last time (a memo by id, replaced on every event) and reuses the
   object otherwise, so 10,000 unchanged participants cost a dict comparison
   each instead of ``Participant.from_dict``.
"""

from __future__ import annotations

import sys

from rich.text import Span, Text
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, RichLog

from migration_tui import store as store_module
from migration_tui.model import Participant
from migration_tui.ui import widgets as _widgets  # noqa: F401 - registers every StoreView subclass
from migration_tui.ui.app import MigrationApp
from migration_tui.ui.feeds import ReplayFeed
from migration_tui.ui.view import StoreView


def merged(text: Text) -> Text:
    """``text`` with adjacent, touching spans of equal style merged into one."""
    out: list[Span] = []
    for span in sorted(text.spans, key=lambda s: (s.start, s.end)):
        if out and out[-1].end == span.start and out[-1].style == span.style:
            out[-1] = Span(out[-1].start, span.end, span.style)
        else:
            out.append(span)
    text.spans[:] = out
    return text


def cells(widget: Widget, text: Text) -> list[list[tuple[str, object]]]:
    console = widget.app.console
    rows = []
    for line in text.split("\n", allow_blank=True):
        row: list[tuple[str, object]] = []
        for segment in line.render(console, end=""):
            row.extend((char, segment.style) for char in segment.text)
        rows.append(row)
    return rows


def changed_span(old: list, new: list) -> tuple[int, int] | None:
    if old == new:
        return None
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return start, max(end_old, end_new)


def patch(cls: type) -> None:
    original_render, original_refresh = cls.render, cls.refresh

    def render(self):
        result = original_render(self)
        return merged(result) if isinstance(result, Text) else result

    def refresh(self, *regions, repaint=True, layout=False, recompose=False):
        if regions or layout or recompose or not repaint or not self.is_mounted or not self.size.width:
            self._painted_cells = None
            return original_refresh(self, *regions, repaint=repaint, layout=layout, recompose=recompose)
        text = render(self)
        if not isinstance(text, Text):
            return original_refresh(self)
        new = cells(self, text)
        old = getattr(self, "_painted_cells", None)
        self._painted_cells = new
        if old is None or len(old) != len(new):
            return original_refresh(self)
        dirty = []
        for y, (before, after) in enumerate(zip(old, new, strict=True)):
            span = changed_span(before, after)
            if span is not None:
                dirty.append(Region(span[0], y, max(1, span[1] - span[0]), 1))
        return original_refresh(self, *dirty) if dirty else self

    cls.render, cls.refresh = render, refresh


_memo: dict[str, tuple[dict, Participant]] = {}


def participants_from_memo(items):
    """``model.participants_from`` reusing the Participant built from an identical raw item last time."""
    global _memo
    memo, by_id = {}, {}
    for item in items:
        if not isinstance(item, dict):
            continue
        key = item.get("id")
        hit = _memo.get(key) if isinstance(key, str) else None
        participant = hit[1] if hit is not None and hit[0] == item else Participant.from_dict(item)
        if isinstance(key, str):
            memo[key] = (item, participant)
        by_id[participant.id] = participant
    _memo = memo
    return tuple(by_id.values())


def subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(subclasses(sub))
    return found


def main() -> int:
    store_module.participants_from = participants_from_memo
    for cls in subclasses(StoreView):
        if issubclass(cls, Widget) and not issubclass(cls, (DataTable, RichLog)) and "render" in cls.__dict__:
            patch(cls)

    class OnTab(MigrationApp):
        def on_mount(self) -> None:
            self.call_after_refresh(self.dashboard.action_show_tab, sys.argv[2] if len(sys.argv) > 2 else "overview")

    OnTab(ReplayFeed(sys.argv[1])).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
