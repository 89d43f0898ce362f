"""The status bar: mode, the clock, and how fresh each source's data is.

A source is fresh, STALE (no answer for three poll intervals, with its age)
or ERROR (with the message). In replay the clock is the recording's
position and duration, the speed and PAUSED; no wall-clock time is shown,
so a replay looks the same whenever it is played.
"""

from __future__ import annotations

import time

from rich.text import Text

from migration_tui.model import controller_of_source
from migration_tui.safe_text import clean
from migration_tui.ui import states
from migration_tui.ui.colors import level_alias, mark
from migration_tui.ui.view import View
from migration_tui.ui.widgets.text_pane import TextPane


def hms(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def speed_text(speed: float) -> str:
    return f"×{speed:g}"


def clock_text(view: View) -> Text:
    clock = view.clock
    line = Text(no_wrap=True, end="")
    if view.mode != "REPLAY":
        line.append(time.strftime("%H:%M:%SZ", time.gmtime(view.now)), style=view.style("state-muted"))
        return line
    if clock.seeking_to_s is not None:
        line.append(f"⏩ to {hms(clock.seeking_to_s)} once indexed ", style=view.style("state-info", bold=True))
    elif clock.playing:
        line.append("▶ ", style=view.style("state-ok", bold=True))
    else:
        line.append("⏸ PAUSED ", style=view.style("state-warn", bold=True))
    line.append(f"{hms(clock.position_s)} / ")
    if clock.index_error:
        line.append("? (index failed)", style=view.style("state-bad"))
    elif clock.duration_s is None:
        line.append("indexing…", style=view.style("state-muted"))
    else:
        line.append(hms(clock.duration_s))
    line.append(f" {speed_text(clock.speed)}", style=view.style("state-info", bold=True))
    if not clock.header_ok:
        line.append("  ")
        line.append_text(view.badge("warn", "no recording header"))
    if clock.skipped_lines:
        line.append("  ")
        line.append_text(view.badge("warn", f"{clock.skipped_lines} lines skipped"))
    return line


#: Problems first, so a narrow terminal never hides them.
_ORDER = {"bad": 0, "warn": 1, "muted": 2, "ok": 3}


def sources_text(view: View, room: int | None = None) -> Text:
    """Each source's freshness; named controllers (``controller:NAME``) as one ``ctl`` group,
    compacted (``ctl west ✖ ERROR 3✔``) when the full group does not fit in ``room`` cells."""
    names = view.store.source_names()
    controllers = [name for name in names if controller_of_source(name)]
    if not controllers:
        return _plain_sources_text(view, names)
    others = [name for name in names if name not in controllers]
    full = _grouped_sources_text(view, others, controllers, compact=False)
    if room is None or full.cell_len <= room:
        return full
    return _grouped_sources_text(view, others, controllers, compact=True)


def _judge(view: View, name: str) -> tuple[str, str, float | None]:
    return states.source(view.store.source(name), view.now, view.poll_interval_s)


def _grouped_sources_text(view: View, others: list[str], controllers: list[str], compact: bool) -> Text:
    judged = sorted(
        ((controller_of_source(name) or name, _judge(view, name)) for name in controllers),
        key=lambda item: (_ORDER.get(item[1][0], 2), item[0]),
    )
    group = Text(no_wrap=True, end="")
    group.append("ctl", style=view.style("state-muted"))
    counts: dict[str, int] = {}
    gap = " " if compact else "  "
    for index, (name, (level, label, _age_s)) in enumerate(judged):
        space = " " if index == 0 else gap
        if level in ("bad", "warn"):
            # A failing controller is always named; compacted, without its message.
            group.append(f"{space}{clean(name, 10 if compact else 16)} ", style=view.style("state-muted"))
            group.append_text(view.badge(level, label.split(":", 1)[0] if compact else label))
        elif compact:
            counts[level] = counts.get(level, 0) + 1
        else:
            group.append(f"{space}{clean(name, 16)} ", style=view.style("state-muted"))
            group.append(mark(level), style=view.style(level_alias(level)))
    for level in ("ok", "muted"):
        if counts.get(level):
            group.append(f" {counts[level]}{mark(level)}", style=view.style(level_alias(level)))
    worst = min((_ORDER.get(level, 2) for _name, (level, _label, _age) in judged), default=3)
    items = [(_ORDER.get(_judge(view, name)[0], 2), _source_item(view, name)) for name in others]
    items.append((worst, group))
    items.sort(key=lambda item: item[0])
    line = Text(no_wrap=True, end="")
    for index, (_rank, item) in enumerate(items):
        if index:
            line.append("  ")
        line.append_text(item)
    return line


def _source_item(view: View, name: str) -> Text:
    level, label, _age_s = _judge(view, name)
    item = Text(clean(name, 16) + " ", style=view.style("state-muted"), no_wrap=True, end="")
    item.append_text(view.badge(level, label))
    return item


#: The relay's source name on a viewer (``migration_tui/relay.py``).
RELAY_SOURCE = "relay"


def _plain_sources_text(view: View, names: list[str]) -> Text:
    """One mark per source, as before there were named controllers (byte for byte)."""
    line = Text(no_wrap=True, end="")
    if not names:
        line.append("no source has answered yet", style=view.style("state-muted"))
        return line
    judged = [(name, states.source(view.store.source(name), view.now, view.poll_interval_s)) for name in names]
    # Problems first, so a narrow terminal never hides them.
    order = {"bad": 0, "warn": 1, "muted": 2, "ok": 3}
    # A relay viewer's first question is the relay: it leads its equals.
    judged.sort(key=lambda item: (order.get(item[1][0], 2), item[0] != RELAY_SOURCE))
    for index, (name, (level, label, _age_s)) in enumerate(judged):
        if index:
            line.append("  ")
        line.append(clean(name, 16) + " ", style=view.style("state-muted"))
        line.append_text(view.badge(level, label))
    return line


class StatusBar(TextPane):
    """One line: mode, clock, sources."""

    SECTIONS = ("sources",)
    CLOCK = True
    SELECTION = False

    DEFAULT_CSS = """
    StatusBar {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    """

    def view_key(self, view: View) -> tuple[object, ...]:
        clock = view.clock
        # Whole seconds only: the replay clock moves every tick, the display once a second.
        position = None if clock.position_s is None else int(clock.position_s)
        duration = None if clock.duration_s is None else int(clock.duration_s)
        shown = (clock.playing, clock.speed, position, duration, clock.indexing, clock.index_error, clock.skipped_lines)
        return (*super().view_key(view), view.mode, view.warnings, view.place, view.read_only, shown)

    def build(self, view: View, width: int) -> list[Text]:
        line = Text(no_wrap=True, end="", overflow="ellipsis")
        line.append(f" {view.mode} ", style=view.style("state-info", bold=True))
        line.append(" ")
        if view.place:
            line.append(clean(view.place, 40), style=view.style("state-info", bold=True))
            line.append("  ")
        if view.read_only:
            line.append(" READ-ONLY ", style=view.style("state-warn", bold=True))
            line.append("  ")
        for warning in view.warnings:
            line.append_text(view.badge("bad", warning, bold=True))
            line.append("  ")
        line.append_text(clock_text(view))
        line.append("  │  ", style=view.style("state-muted"))
        line.append_text(sources_text(view, room=width - line.cell_len))
        return [line]
