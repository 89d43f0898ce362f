"""Textual's private parts: used only in ``migration_tui/ui/textual_compat.py``, and still there.

Two kinds of test. The first greps the package: outside the adapter no code
reads, writes or overrides an underscore attribute that Textual defines. The
others check, on real Textual objects, that each private part the adapter
touches still exists with the shape it expects and that each adapter function
still does its job. A Textual upgrade that changes one of them fails here,
with a message naming what to look at (see the adapter's docstring).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import textual
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap
from textual.filter import LineFilter, Monochrome, NoColor
from textual.screen import Screen
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from migration_tui.ui import textual_compat
from migration_tui.ui.textual_compat import DATATABLE_RENDER_CACHES, write_cell_keeping_layout

PACKAGE = Path(__file__).resolve().parents[2] / "migration_tui"
ADAPTER = PACKAGE / "ui" / "textual_compat.py"
TEXTUAL = Path(textual.__file__).resolve().parent


# --- the grep ----------------------------------------------------------------------


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _textual_private_names() -> set[str]:
    """Every underscore name Textual's source defines: attributes, methods, class attributes."""
    names: set[str] = set()
    for path in TEXTUAL.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"self\.(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=", source))
        names |= set(re.findall(r"def (_[A-Za-z]\w*)", source))
        names |= set(re.findall(r"^\s+(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=", source, re.M))
    return {name for name in names if _private(name)}


def _textual_names_of(cls: type) -> set[str]:
    """The underscore names the Textual classes in ``cls``'s MRO define (class or instance)."""
    names: set[str] = set()
    for base in cls.__mro__:
        if (getattr(base, "__module__", "") or "").startswith("textual"):
            names |= _names_defined_by(base)
    return names


@functools.cache
def _names_defined_by(base: type) -> frozenset[str]:
    """The underscore names one Textual class defines (its source read once: ``Widget``'s is long,
    and every widget of ours has it in its MRO)."""
    names = {name for name in vars(base) if _private(name)}
    try:
        names |= set(re.findall(r"self\.(_[A-Za-z]\w*)", inspect.getsource(base)))
    except (OSError, TypeError):
        pass
    return frozenset(name for name in names if _private(name))


def _with_subclasses(cls: type) -> Iterator[type]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _with_subclasses(sub)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def private_textual_uses(path: Path, anywhere: set[str]) -> list[str]:
    """``file:line  expression`` for each touch of a Textual underscore attribute in ``path``.

    On ``self``/``cls`` in a class (or a mixin of a class) that is a Textual widget, screen
    or app: a name one of its Textual bases defines, read, written or overridden. On any
    other object: a name Textual defines anywhere (the object's type is not known here).
    """
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    where = path.relative_to(PACKAGE.parent)
    found: list[str] = []
    module = None
    if "textual" in source or "migration_tui.ui" in source:
        module = importlib.import_module(_module_name(path))
    own_accesses: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef) or module is None:
            continue
        cls = getattr(module, node.name, None)
        if not isinstance(cls, type):
            continue
        textual_names: set[str] = set()
        for sub in _with_subclasses(cls):
            textual_names |= _textual_names_of(sub)
        for item in node.body:
            defined: list[str] = []
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defined = [item.name]
            elif isinstance(item, ast.Assign):
                defined = [target.id for target in item.targets if isinstance(target, ast.Name)]
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                defined = [item.target.id]
            found += [
                f"{where}:{item.lineno}  {node.name}.{name} (overrides)" for name in defined if name in textual_names
            ]
        for sub_node in ast.walk(node):
            if (
                isinstance(sub_node, ast.Attribute)
                and isinstance(sub_node.value, ast.Name)
                and sub_node.value.id in ("self", "cls")
                and _private(sub_node.attr)
            ):
                own_accesses.add(id(sub_node))
                if sub_node.attr in textual_names:
                    found.append(f"{where}:{sub_node.lineno}  {ast.unparse(sub_node)} (in {node.name})")
    for sub_node in ast.walk(tree):
        if isinstance(sub_node, ast.Attribute) and _private(sub_node.attr) and id(sub_node) not in own_accesses:
            if isinstance(sub_node.value, ast.Name) and sub_node.value.id in ("self", "cls"):
                continue  # self outside a class body we could resolve: a function of ours
            if sub_node.attr in anywhere:
                found.append(f"{where}:{sub_node.lineno}  {ast.unparse(sub_node)}")
    return sorted(set(found))


def test_no_code_outside_the_adapter_touches_textual_private_attributes():
    anywhere = _textual_private_names()
    found = [
        use
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != ADAPTER and path.name != "__main__.py"
        for use in private_textual_uses(path, anywhere)
    ]
    assert not found, (
        "Textual's private attributes used outside migration_tui/ui/textual_compat.py "
        "(use public API, or add a function with a docstring to the adapter):\n  " + "\n  ".join(found)
    )


def test_the_grep_finds_what_the_adapter_touches():
    """The scan above is not blind: run on the adapter, it sees each private part it uses."""
    found = "\n".join(private_textual_uses(ADAPTER, _textual_private_names()))
    for name in ("app._filters", "node._bindings", "table._data"):
        assert name in found, name


# --- DataTable: write_cell_keeping_layout --------------------------------------------


def test_datatable_internals_have_the_shape_the_adapter_writes():
    table: DataTable[object] = DataTable()
    assert isinstance(table._data, dict), "DataTable._data is no longer a dict of rows"
    assert isinstance(table._update_count, int), "DataTable._update_count is gone: the layout caches changed"
    for name in DATATABLE_RENDER_CACHES:
        cache = getattr(table, name, None)
        assert cache is not None, f"DataTable.{name} is gone: write_cell_keeping_layout must clear what replaced it"
        assert callable(cache.clear) and len(cache) == 0, f"DataTable.{name} is not a cache with clear() and len()"
    # Where the public update_cell keeps a value, and what it does beside (write_cell_keeping_layout copies the first).
    update_cell = inspect.getsource(DataTable.update_cell)
    assert "self._data[row_key][column_key] = value" in update_cell, "DataTable.update_cell stores cells elsewhere now"
    assert "self._update_count += 1" in update_cell, "DataTable.update_cell invalidates differently now"
    # The caches a style change throws away: every rendered-cell cache there is, besides the styles ones.
    cleared = set(re.findall(r"self\.(_\w+)\.clear\(\)", inspect.getsource(DataTable.notify_style_update)))
    assert cleared - {"_styles_cache"} == set(DATATABLE_RENDER_CACHES), (
        f"DataTable.notify_style_update now clears {sorted(cleared)}: "
        "check which of them write_cell_keeping_layout (DATATABLE_RENDER_CACHES) must clear"
    )


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()


async def test_write_cell_keeping_layout_shows_the_new_value_without_a_relayout():
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(DataTable)
        table.add_column("id", key="id", width=10)
        table.add_column("vote", key="vote", width=10)
        for index in range(500):
            table.add_row(f"p-{index:03}", Text("yes"), key=f"p-{index:03}")
        await pilot.pause()

        def drawn(key: str) -> str:
            return table.render_line(table.get_row_index(key) + table.header_height).text

        assert "yes" in drawn("p-003")  # drawn once: now in the table's caches
        update_count, order = table._update_count, [row.key for row in table.ordered_rows]
        write_cell_keeping_layout(table, RowKey("p-003"), ColumnKey("vote"), Text("NO"))
        assert table.get_cell("p-003", "vote").plain == "NO"
        assert "NO" in drawn("p-003") and "yes" in drawn("p-004"), "a stale rendered cell: a cache was not cleared"
        table.refresh()
        await pilot.pause()
        assert "NO" in drawn("p-003")
        assert table._update_count == update_count, "the row order and line offsets were thrown away"
        assert [row.key for row in table.ordered_rows] == order


# --- App: use_no_color_filter -------------------------------------------------------


def test_textual_still_keeps_its_line_filters_in_a_list(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app: App[None] = App()
    assert isinstance(app._filters, list), "App._filters is no longer a list: see use_no_color_filter"
    assert all(isinstance(f, LineFilter) for f in app._filters)
    # Under NO_COLOR Textual itself picks Monochrome (greys) when the theme is not ANSI: what we replace.
    assert any(isinstance(f, (Monochrome, NoColor)) for f in app._filters), "NO_COLOR no longer adds a filter"


def test_use_no_color_filter_takes_effect(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app: App[None] = App()
    textual_compat.use_no_color_filter(app)
    filters = app.get_line_filters()  # what every widget's lines go through
    assert any(isinstance(f, NoColor) for f in filters)
    assert not any(isinstance(f, Monochrome) for f in filters)


# --- DOMNode: declared_bindings -----------------------------------------------------


class BaseScreen(Screen[None]):
    BINDINGS = [Binding("a", "one", "One", id="one"), Binding("plus,equals_sign", "two", "Two", id="two")]


class OwnScreen(BaseScreen, inherit_bindings=False):
    BINDINGS = [Binding("z", "three", "Three", id="three")]


class KeysApp(App[None]):
    BINDINGS = [Binding("q", "quit", "Quit", id="quit")]


def test_declared_bindings_are_what_the_node_declares():
    app = KeysApp()
    assert isinstance(app._bindings, BindingsMap), "DOMNode._bindings is no longer a BindingsMap"
    assert isinstance(app._bindings.key_to_bindings, dict), "BindingsMap.key_to_bindings is no longer a dict"
    assert textual_compat.declared_keys(app) == list(dict.fromkeys(key for key, _ in app._bindings))
    actions = [binding.action for _key, binding in textual_compat.declared_bindings(app)]
    assert "quit" in actions and "command_palette" in actions  # BINDINGS and what App.__init__ adds
    # The whole merge of the class and its bases, in declared order: Screen's own first.
    base = BaseScreen()
    keys = textual_compat.declared_keys(base)
    assert keys[-3:] == ["a", "plus", "equals_sign"]
    assert [
        binding.id for key, binding in textual_compat.declared_bindings(base) if key in ("plus", "equals_sign")
    ] == [
        "two",
        "two",
    ]
    # inherit_bindings=False: the class's own only.
    assert textual_compat.declared_keys(OwnScreen()) == ["z"]


# --- Screen breakpoints: the rule DashboardScreen.apply_breakpoints copies -------------


@pytest.mark.parametrize("size", [(80, 24), (119, 35), (120, 36), (159, 40), (160, 40), (200, 60)])
async def test_dashboard_breakpoints_agree_with_textual(size):
    """apply_breakpoints sets before the first layout the classes Textual sets on the first Resize."""
    from migration_tui.feeds import LiveFeed
    from migration_tui.ui.app import MigrationApp

    app = MigrationApp(LiveFeed([]))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.dashboard
        names = {name for _, name in (screen.HORIZONTAL_BREAKPOINTS or []) + (screen.VERTICAL_BREAKPOINTS or [])}
        by_textual = names & set(screen.classes)
        screen.apply_breakpoints()
        assert names & set(screen.classes) == by_textual
        assert len(by_textual) == 2  # one width class, one height class


# --- the tab underline, placed before the first frame ---------------------------------


@pytest.mark.parametrize("key", ["1", "3", "6"])
async def test_place_tab_underline_puts_it_where_textual_does(key):
    """Textual moves the underline after a refresh; where it puts it is where ours already was."""
    from textual.widgets import Tabs
    from textual.widgets._tabs import Underline

    from migration_tui.feeds import LiveFeed
    from migration_tui.ui.app import MigrationApp

    app = MigrationApp(LiveFeed([]))
    async with app.run_test(size=(120, 40)) as pilot:
        tabs = app.dashboard.query_one(Tabs)
        underline = tabs.query_one(Underline)
        first = (underline.highlight_start, underline.highlight_end)
        await pilot.pause()
        if key == "1":
            assert first == (1, 11)  # set at mount, before the first frame: under "1 Overview"
        await pilot.press(key)
        await pilot.pause(0.5)  # Textual's move, animated for a later tab, has ended
        by_textual = (underline.highlight_start, underline.highlight_end)
        assert by_textual[1] > by_textual[0]
        textual_compat.place_tab_underline(tabs)
        assert (underline.highlight_start, underline.highlight_end) == by_textual


# --- render_dirty_widgets_only ---------------------------------------------------------


async def test_partial_updates_write_what_textuals_own_compositor_writes(recordings):
    """Every partial update of a dashboard, over a played replay of each seed system with tab
    switches, at 120x40 and 80x24, of the wall and of the fleet view: the bytes of the narrowed compositor's update equal those of
    Textual's own ``render_partial_update`` over the same dirty regions, and it rendered fewer
    widgets (else it would be no use)."""
    from textual._compositor import Compositor

    from migration_tui.config import Settings
    from migration_tui.feeds import ReplayFeed
    from migration_tui.ui.app import MigrationApp
    from migration_tui.ui.run import _wall
    from migration_tui.ui.screens.base import TABS
    from tests.ui.conftest import settle

    compared = fewer = 0
    from collections import Counter

    ours_rendered: Counter[str] = Counter()  # the kinds of widget each compositor rendered, in how many updates
    theirs_rendered: Counter[str] = Counter()
    real_get_renders = Compositor._get_renders
    import re

    def writes(update: str) -> str:
        """The update without cursor moves that write nothing: Textual's ``ChopsUpdate`` writes a
        move alone for a chop that starts just past a dirty span (cropped to nothing), and the
        narrowed compositor leaves out a container whose chop that is."""
        return re.sub(r"\x1b\[\d+;\d+H(?=\x1b\[\d+;\d+H|\n|$)", "", update)

    def both(compositor, console):
        """Ours, then Textual's over the same dirty regions; ours is what the screen writes."""
        nonlocal compared, fewer
        dirty = set(compositor._dirty_regions)
        counted: list[int] = []

        def counting(self, crop=None):
            renders = list(real_get_renders(self, crop))
            counted.append(len(renders))
            kinds = [
                type(widget).__name__
                for widget in self._visible_widgets
                if not crop or crop.overlaps(self._visible_widgets[widget][1])
            ]
            (ours_rendered if len(counted) == 1 else theirs_rendered).update(kinds)
            return renders

        Compositor._get_renders = counting
        try:
            ours = textual_compat._DirtyOnlyCompositor.render_partial_update(compositor)
            compositor._dirty_regions.update(dirty)
            theirs = Compositor.render_partial_update(compositor)  # _dirty_now is empty: all widgets
        finally:
            Compositor._get_renders = real_get_renders
        if ours is None or theirs is None:
            assert ours is None and theirs is None
            return ours
        assert writes(ours.render_segments(console)) == writes(theirs.render_segments(console))
        compared += 1
        fewer += counted[0] < counted[-1]
        return ours

    async def play(app, pilot, tabs, keys=()) -> None:
        await settle(app, pilot, at=100)
        for key in keys:
            await pilot.press(key)
        compositor = app.screen._compositor
        assert isinstance(compositor, textual_compat._DirtyOnlyCompositor)
        compositor.render_partial_update = lambda c=compositor, console=app.console: both(c, console)
        for tab_id in tabs:
            if tab_id is not None:
                app.dashboard.action_show_tab(tab_id)
            for _second in range(6):
                app.feed.replay.playing = True
                app.feed.replay.tick(1.0)
                app.feed._repaint()
                await pilot.pause()

    for scenario in ("2pc", "orderbook-rollout", "canary", "batch", "dual-write"):
        for size in ((120, 40), (80, 24)):
            app = MigrationApp(ReplayFeed(recordings[scenario], playing=False))
            async with app.run_test(size=size) as pilot:
                await play(app, pilot, [tab_id for tab_id, _title in TABS[:4]])
    settings, wall = _wall(Settings(), 3.0)  # the wall, rotating between migrations
    for scenario in ("2pc", "orderbook-rollout"):
        app = MigrationApp(ReplayFeed(recordings[scenario], playing=False), theme=settings.theme, dashboard=wall)
        async with app.run_test(size=(120, 40)) as pilot:
            await play(app, pilot, [None, None])
    for scenario in ("orderbook-rollout", "canary"):  # the fleet view, over the dashboard
        app = MigrationApp(ReplayFeed(recordings[scenario], playing=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await play(app, pilot, [None, None], keys=["f"])
            assert type(app.screen).__name__ == "FleetScreen"
    assert compared > 100 and fewer > 50, (compared, fewer)
    # Containers under the panes are never rendered for a partial update: their dirty cells are
    # always a child's (Textual's own compositor renders them every time).
    # The containers under the panes are rendered only where no child covers a dirty cell (a
    # pane grown or shrunk): about 2 % of Textual's renders of them here, against about 74 %
    # before they were left out where one child covers every dirty cell.
    containers = ("DashboardScreen", "TabbedContent", "ContentSwitcher", "TabPane", "ContentTabs", "Container")
    ours, theirs = (
        sum(counts[kind] for kind in (*containers, "Vertical", "Horizontal"))
        for counts in (ours_rendered, theirs_rendered)
    )
    assert ours * 10 < theirs, (ours, theirs)
    assert ours_rendered["MetricsValues"] and ours_rendered["StatusBar"]  # what changes still is
    assert "MetricsValues" in ours_rendered


# --- the quiet input thread ----------------------------------------------------------


#: sha256 (first 16 hex digits) of Textual 8.2's ``LinuxDriver.run_input_thread`` source, which
#: ``QuietLinuxDriver.run_input_thread`` copies with its wait changed.
TEXTUAL_RUN_INPUT_THREAD = "d796af6d69db337d"


def test_textuals_input_thread_is_still_the_one_the_quiet_driver_copies() -> None:
    from textual.drivers.linux_driver import LinuxDriver

    source = inspect.getsource(LinuxDriver.run_input_thread)
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert digest == TEXTUAL_RUN_INPUT_THREAD, (
        "Textual's LinuxDriver.run_input_thread changed: compare it with "
        "textual_compat.QuietLinuxDriver.run_input_thread, carry the change over, and record the new digest"
    )
    assert "selector.select(0.1)" in source  # the poll the quiet driver replaces is still there


def test_the_key_parser_keeps_a_lone_escapes_deadline_where_the_quiet_driver_reads_it() -> None:
    from textual import events
    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    assert parser._timeout_time is None  # idle: the quiet driver waits with no timeout
    assert list(parser.feed("\x1b")) == []  # a lone Esc: maybe the start of a sequence
    due = parser._timeout_time
    assert due is not None
    time.sleep(max(0.0, due - textual_compat.get_time()) + 0.01)
    keys = [event for event in parser.tick() if isinstance(event, events.Key)]
    assert [key.key for key in keys] == ["escape"]
    assert parser._timeout_time is None


def test_the_quiet_driver_is_used_only_where_textual_would_use_its_linux_driver() -> None:
    from textual.drivers.headless_driver import HeadlessDriver
    from textual.drivers.linux_driver import LinuxDriver

    from migration_tui.ui.textual_compat import QuietLinuxDriver, quiet_driver_class

    assert quiet_driver_class(LinuxDriver) is QuietLinuxDriver
    assert quiet_driver_class(HeadlessDriver) is HeadlessDriver
    assert issubclass(QuietLinuxDriver, LinuxDriver)
    assert "self.exit_event.set()" in inspect.getsource(LinuxDriver.disable_input)  # what wakes the thread
