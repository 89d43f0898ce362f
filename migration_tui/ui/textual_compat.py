"""Every use of Textual's private parts, in one place (Textual 8.x, pinned ``textual>=8.2,<9``).

The rest of ``migration_tui`` uses Textual's public API only; a test
(``tests/ui/test_textual_compat.py``) greps for underscore attributes of
Textual objects outside this module and fails if it finds one. Each function
here says which private thing it touches and why no public API does the job.
The same test file checks, on real widgets, that those private parts still
exist with the shape used here and that each function still does its job: on
a Textual upgrade that changes them it fails, naming what changed, before the
screen quietly shows stale cells or loses keys.

On a Textual upgrade: run ``tests/ui/test_textual_compat.py`` first. If it
fails, read the new Textual source for the attribute it names, adapt the
function here (or drop it if Textual grew a public API for it), and keep the
docstrings true.
"""

from __future__ import annotations

import contextlib
import os
import selectors
from codecs import getincrementaldecoder
from threading import Event
from typing import Any

from textual._compositor import ChopsUpdate, Compositor, LayoutUpdate
from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.drivers.linux_driver import LinuxDriver
from textual.filter import Monochrome, NoColor
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

#: The DataTable caches of rendered cells, rows and lines (keyed by ``_update_count``
#: among others), cleared by ``write_cell_keeping_layout``: the ones
#: ``DataTable.notify_style_update`` clears, less the styles caches a new value leaves alone.
DATATABLE_RENDER_CACHES = ("_row_render_cache", "_cell_render_cache", "_row_renderable_cache", "_line_cache")


__all__ = ["ChopsUpdate", "LayoutUpdate"]  # for ui.screen_diff, which reads what they hold


def install_screen_diff(app: App[Any], diff: Any) -> None:
    """Write only the cells that changed (``ui/screen_diff.py``) instead of Textual's updates as given.

    Touches ``App._display(screen, renderable)``, the one place Textual turns a
    compositor update (``textual._compositor.LayoutUpdate`` or ``ChopsUpdate``,
    whose ``region``/``strips`` and ``spans``/``chops``/``chop_ends`` ``diff``
    reads) into bytes for the driver. The app's bound method is wrapped on this
    instance: a ``ChopsUpdate`` is replaced by an update whose bytes are
    ``diff.render(...)``, and nothing at all is written when that is empty;
    anything else goes through unchanged (and a ``LayoutUpdate`` is remembered
    as the terminal's content). Headless apps
    (tests) never reach the driver and are not touched.

    Public alternative: none. ``App.refresh`` and the driver's ``write`` see
    either whole widgets or finished bytes; the per-cell picture is only here.
    """
    display = app._display

    def _display(screen: Any, renderable: Any) -> None:
        if (
            isinstance(renderable, ChopsUpdate | LayoutUpdate)
            and app._driver is not None
            and not app._driver.is_inline
            and not app.is_headless
        ):
            text = diff.render(renderable, app.console, (app.size.width, app.size.height))
            if text == "":
                return  # the terminal shows it all already: not even the cursor move Textual adds
            if text is not None:
                renderable = _Rendered(text)
        display(screen, renderable)

    app._display = _display  # type: ignore[method-assign]


class _Rendered(ChopsUpdate):
    """An update whose bytes are already made (``install_screen_diff``)."""

    def __init__(self, text: str) -> None:
        super().__init__([], [(0, 0, 0)], [])
        self.text = text

    def render_segments(self, console: Any) -> str:
        return self.text


def use_no_color_filter(app: App[Any]) -> None:
    """NO_COLOR means no colour codes at all (no-color.org), not Textual's greys.

    Touches ``App._filters``, the list of line filters Textual builds in
    ``App.__init__``: with NO_COLOR set it holds a ``Monochrome`` filter (greys),
    which is replaced here by ``NoColor`` (the terminal's default colours). Every
    state also has a symbol and a word, so nothing is lost.

    Public alternative: overriding ``App.get_line_filters`` would give the
    same frames, but ``tests/ui/test_themes.py`` asserts on ``app._filters``
    itself and this issue keeps every test's assertions; so the filter list is
    changed where Textual keeps it, once, before the first frame.
    """
    filters = app._filters
    filters[:] = [f for f in filters if not isinstance(f, Monochrome)] + [NoColor()]


def declared_bindings(node: DOMNode) -> list[tuple[str, Binding]]:
    """(key, binding) for every binding the node declares, in the order Textual holds them.

    Touches ``DOMNode._bindings``, the node's ``BindingsMap``: the ``BINDINGS``
    of its class and its bases merged as Textual merges them (a class with
    ``inherit_bindings=False`` drops its bases'), plus what Textual adds at run
    time (the app's command palette key). A binding with two keys
    (``"plus,equals_sign"``) comes once per key.

    Public alternative: ``Screen.active_bindings`` lists only what the focused
    widget's chain allows now (a focused Input takes the printable keys away)
    and drops what ``check_action`` hides; the help screen, the command palette
    and the key bar's order need every declared key whatever has focus.
    Rebuilding the merge from ``BINDINGS`` would need the private
    ``_inherit_bindings`` flag and ``_merged_bindings`` instead.
    """
    return [(key, binding) for key, binding in node._bindings]


def declared_keys(node: DOMNode) -> list[str]:
    """The keys the node binds, in the order it declares them (see ``declared_bindings``).

    Touches ``DOMNode._bindings.key_to_bindings``, the key -> bindings dict the map holds."""
    return list(node._bindings.key_to_bindings)


def write_cell_keeping_layout(table: DataTable[Any], row_key: RowKey, column_key: ColumnKey, value: object) -> None:
    """Put a new value in an existing cell without making the table rebuild its row layout.

    ``DataTable.update_cell`` (public) writes ``_data`` and bumps
    ``_update_count``, which keys every cache of the table: the next frame
    rebuilds the row order and line offsets over all rows (about 20 ms for
    10,000 participants) and repaints every visible row. A new cell value moves
    no row, so this writes the value into ``DataTable._data[row][column]`` and
    clears only the rendered-cell, row and line caches
    (``DATATABLE_RENDER_CACHES``, as ``DataTable.notify_style_update`` does),
    leaving ``_update_count``, the row order and the offsets alone. The caller
    checks that the row and column exist (``get_row_index`` /
    ``get_column_index``) and refreshes the region of the row.

    Public alternative: none that keeps the layout (``docs/performance.md``,
    "10,000 participants": the Participants tab writes the visible ages every
    second, and each write would cost a rebuild over all rows).
    """
    table._data[row_key][column_key] = value
    for name in DATATABLE_RENDER_CACHES:
        cache = getattr(table, name)
        if len(cache):
            cache.clear()


class _DirtyOnlyCompositor(Compositor):
    """Textual's compositor, rendering for a partial update only the widgets it changes.

    ``render_partial_update`` renders every widget inside the box around all dirty
    regions (``_get_renders(crop)``), each in full, and then writes only the cells of
    those regions (the ``spans`` of its ``ChopsUpdate``). With the clock on the top line
    and a figure further down changing in the same second, that box is the whole
    screen. Here the widgets are only those whose visible part (region within clip)
    overlaps a dirty region: a cell of a span lies in the dirty regions, so every widget
    that shows in it is rendered, and a chop of a widget left out lies outside every
    span, where neither Textual's ``ChopsUpdate`` nor ``ScreenDiff`` reads it. A widget
    whose every dirty cell is shown by one widget above it (a container, under the pane that
    changed) is left out too: each cell comes from the top-most widget that renders it.
    """

    _dirty_now: tuple[Any, ...] = ()

    def render_partial_update(self) -> ChopsUpdate | None:
        self._dirty_now = tuple(self._dirty_regions)
        try:
            return super().render_partial_update()
        finally:
            self._dirty_now = ()

    def _get_renders(self, crop: Any = None) -> Any:
        dirty = self._dirty_now
        if not dirty:
            return super()._get_renders(crop)
        visible = self.visible_widgets
        touched = {}
        # What the widgets showing a dirty cell show, top-most first (one left out counts: its
        # dirty cells are each inside a widget over it in turn, down to one that is rendered).
        above: list[Any] = []
        for widget, (region, clip) in visible.items():
            shown = region.intersection(clip)
            parts = [shown.intersection(area) for area in dirty if shown.overlaps(area)]
            if not parts:
                continue
            # A container whose every dirty cell lies inside one widget drawn over it (its
            # child, earlier in this top-most-first order) adds nothing: each cell of a frame
            # is taken from the top-most widget that renders it.
            covered = all(any(higher.contains_region(part) for higher in above) for part in parts)
            above.append(shown)
            if not covered:
                touched[widget] = (region, clip)
        self._visible_widgets = touched
        try:
            return list(super()._get_renders(crop))
        finally:
            self._visible_widgets = visible


def render_dirty_widgets_only(screen: Screen[Any]) -> None:
    """Give ``screen`` a compositor that renders, for a partial update, only the widgets it changes.

    Touches ``Screen._compositor`` (set in ``Screen.__init__``, replaced here before the
    screen is laid out), and in ``_DirtyOnlyCompositor`` the compositor's
    ``_dirty_regions``, ``_visible_widgets`` (the cache behind ``visible_widgets``, narrowed
    for the one call) and ``_get_renders``. The frames written are the same: the tests
    compare every partial update's bytes with Textual's own compositor's.

    Public alternative: none; a widget cannot keep the compositor from rendering it.
    """
    screen._compositor = _DirtyOnlyCompositor()


def forget_dirty_regions(widget: Widget) -> None:
    """Clear what a widget that draws line by line (``render_line``) was told to repaint.

    Touches ``Widget._dirty_regions``: ``Widget.refresh(*regions)`` adds each region to it, and
    only the default ``Widget.render_line`` (through ``_render_content``) clears it, by rendering
    the whole widget again. ``TextPane.render_line`` renders only the lines that changed (its own
    cache says which), so it clears the set itself; left alone it would grow with every refresh.

    Public alternative: none; ``refresh()`` with no region would clear it but repaint everything.
    """
    widget._dirty_regions.clear()


def place_tab_underline(tabs: Widget) -> None:
    """Put the underline of a ``Tabs`` under its active tab now, before the first frame.

    Touches ``textual.widgets._tabs.Underline`` (not exported) and its ``highlight_start`` /
    ``highlight_end``: Textual moves the underline only after the first refresh (it needs the
    tab's region), so the first frame had no highlight and a second frame 100-150 ms later drew
    it: the first paint ended a frame late. The tabs are laid out left to right with their
    labels and gutters (``Tab``: ``width: auto; padding: 0 1``), so the active tab's columns
    are known from the styles already applied at mount. Textual moves it again after the
    first refresh, to the same place (a test checks that it agrees).

    Public alternative: none; ``Tabs`` has no way to place the underline without a layout.
    """
    from textual.widgets._tabs import Tab, Underline

    x = 0
    for tab in tabs.query(Tab):
        if not tab.display:
            continue
        gutter = tab.styles.gutter
        width = tab.label.cell_length
        if tab.has_class("-active"):
            underline = tabs.query_one(Underline)
            underline.highlight_start = x + gutter.left
            underline.highlight_end = x + gutter.left + width
            return
        x += width + gutter.width


class _WakingEvent(Event):
    """The input thread's exit flag, which also wakes the thread: a byte on ``wake_fd``."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self._wake_fd = wake_fd

    def set(self) -> None:
        super().set()
        with contextlib.suppress(OSError):  # full (it is woken already) or closed (it has ended)
            os.write(self._wake_fd, b"\0")


class QuietLinuxDriver(LinuxDriver):
    """Textual's Linux driver, whose input thread sleeps until there is something to do.

    Textual's ``LinuxDriver.run_input_thread`` waits for the terminal with a 0.1 s timeout,
    so that it sees ``exit_event`` and gives the key parser its ``tick`` (a lone Esc is a key
    only once no more bytes follow it): ten wake-ups a second however idle the screen, an
    eighth of a replay's CPU at 1x (docs/performance.md, target 2's seventh pass). Here the
    thread waits for the terminal, a wake-up pipe that ``exit_event.set()`` writes to, or the
    parser's own deadline when it holds a pending Esc (``Parser._timeout_time``), whichever
    comes first. Everything else is Textual's method as it stands in Textual 8.2 (the reading,
    decoding, parsing and the final 0.1 s read on exit): a test holds that method's source to
    the copy this was made from, and fails on an upgrade that changes it.

    Public alternative: none; the timeout is a literal inside the method.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self.exit_event = _WakingEvent(self._wake_write)

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):  # BlockingIOError once empty
            while os.read(self._wake_read, 256):
                pass

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual's method; see the class docstring)."""
        self._drain_wake()  # a byte left from the last stop (a suspension), not a new one
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(self._wake_read, selectors.EVENT_READ)

        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ

        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick

        utf8_decoder = getincrementaldecoder("utf-8")().decode
        decode = utf8_decoder
        read = os.read

        def timeout() -> float | None:
            due = parser._timeout_time  # a pending Esc: a key once nothing follows it in time
            return None if due is None else max(0.0, due - get_time())

        def process_selector_events(
            selector_events: list[tuple[selectors.SelectorKey, int]],
            final: bool = False,
        ) -> None:
            terminal = [(key, mask) for key, mask in selector_events if key.fd == fileno]
            if len(terminal) != len(selector_events):
                self._drain_wake()
            for last, (_selector_key, mask) in loop_last(terminal):
                if mask & EVENT_READ:
                    unicode_data = decode(read(fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        # This can occur if the stdin is piped
                        break
                    for event in feed(unicode_data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process_selector_events(selector.select(timeout()))
            selector.unregister(self.fileno)
            selector.unregister(self._wake_read)
            process_selector_events(selector.select(0.1), final=True)

        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass

    def close(self) -> None:
        super().close()
        thread = self._key_thread
        if thread is None or not thread.is_alive():
            for fd in (self._wake_read, self._wake_write):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._wake_read = self._wake_write = -1


def quiet_driver_class(driver_class: type[Any]) -> type[Any]:
    """``QuietLinuxDriver`` where Textual would use its ``LinuxDriver``; any other driver as it is
    (headless, Windows, a web driver named by ``TEXTUAL_DRIVER``)."""
    return QuietLinuxDriver if driver_class is LinuxDriver else driver_class
