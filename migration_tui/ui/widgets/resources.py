"""Resource usage of this host and, when Prometheus reports it, the fleet."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from migration_tui.model import HostResources
from migration_tui.safe_text import number
from migration_tui.ui.view import StoreView, View

BAR_W = 12
#: Percent at which a gauge turns to warning, then to critical (seed 000: memory > 90 %).
WARN_PCT = 75.0
CRIT_PCT = 90.0


def _rate(bps: float | None, invalid: bool) -> str:
    if bps is None:
        return number(None, invalid=invalid)
    for unit, size in (("GB/s", 1e9), ("MB/s", 1e6), ("kB/s", 1e3)):
        if bps >= size:
            return f"{bps / size:.1f} {unit}"
    return f"{bps:.0f} B/s"


def gauge(view: View, label: str, value: float | None, invalid: bool) -> Text:
    line = Text(no_wrap=True, end="")
    line.append(f"{label:<7}", style=view.style("state-muted"))
    if value is None:
        line.append("░" * BAR_W, style=view.style("progress-todo"))
        line.append(f" {number(None, invalid=invalid)}", style=view.style("state-warn" if invalid else "state-muted"))
        return line
    level = "bad" if value >= CRIT_PCT else "warn" if value >= WARN_PCT else "ok"
    filled = int(round(BAR_W * min(value, 100.0) / 100))
    line.append("█" * filled, style=view.style(f"state-{level}"))
    line.append("░" * (BAR_W - filled), style=view.style("progress-todo"))
    mark = {"bad": " ✖", "warn": " ▲"}.get(level, "")
    line.append(f" {value:5.1f}%{mark}", style=view.style(f"state-{level}"))
    return line


def block(view: View, title: str, host: HostResources | None) -> list[Text]:
    lines = [Text(title, style=view.style("state-info", bold=True), end="")]
    if host is None:
        lines.append(Text("not reported", style=view.style("state-muted"), end=""))
        return lines
    bad = set(host.invalid)
    lines.append(gauge(view, "cpu", host.cpu_percent, "cpu_percent" in bad))
    lines.append(gauge(view, "memory", host.memory_percent, "memory_percent" in bad))
    lines.append(gauge(view, "disk", host.disk_percent, "disk_percent" in bad))
    net = Text(no_wrap=True, end="")
    net.append(f"{'net':<7}", style=view.style("state-muted"))
    net.append(
        f"↑ {_rate(host.net_sent_bps, 'net_sent_bps' in bad)}  ↓ {_rate(host.net_recv_bps, 'net_recv_bps' in bad)}"
    )
    lines.append(net)
    load = Text(no_wrap=True, end="")
    load.append(f"{'load':<7}", style=view.style("state-muted"))
    load.append(number(host.load1, digits=2, invalid="load1" in bad))
    lines.append(load)
    return lines


class ResourcesPane(StoreView, Widget):
    """This host and the fleet side by side when wide enough, else one above the other."""

    SECTIONS = ("host",)
    SELECTION = False

    DEFAULT_CSS = """
    ResourcesPane {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._view: View | None = None

    def draw(self, view: View) -> None:
        had_fleet = self._view is not None and "fleet" in self._view.store.host
        first = self._view is None
        self._view = view
        self.refresh(layout=first or had_fleet != ("fleet" in view.store.host))

    def _columns(self) -> list[list[Text]]:
        view = self._view
        if view is None:
            return []
        host = block(view, "this host", view.store.host.get("host"))
        fleet = view.store.host.get("fleet")
        return [host, block(view, "fleet", fleet)] if fleet is not None else [host]

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[override]
        columns = self._columns()
        if not columns:
            return 1
        side_by_side = width >= 2 * 36
        return max(len(c) for c in columns) if side_by_side else sum(len(c) for c in columns)

    def render(self) -> Text:
        columns = self._columns()
        if not columns:
            return Text("", end="")
        if len(columns) == 1 or self.size.width < 2 * 36:
            return Text("\n", end="").join(line for column in columns for line in column)
        left, right = columns
        rows = []
        for index in range(max(len(left), len(right))):
            row = Text(no_wrap=True, end="")
            if index < len(left):
                row.append_text(left[index])
            row.pad_right(36 - len(row.plain))
            if index < len(right):
                row.append_text(right[index])
            rows.append(row)
        return Text("\n", end="").join(rows)
