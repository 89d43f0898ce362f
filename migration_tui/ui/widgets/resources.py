"""Resource usage of this host and, when Prometheus reports it, the fleet."""

from __future__ import annotations

from rich.text import Text

from migration_tui.model import HostResources
from migration_tui.safe_text import number
from migration_tui.ui.view import View
from migration_tui.ui.widgets.text_pane import TextPane

BAR_W = 12
#: Width of one column (host, fleet) when they stand side by side.
COLUMN_W = 36
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
    figures = (host.cpu_percent, host.memory_percent, host.disk_percent, host.net_sent_bps, host.net_recv_bps)
    if not bad and all(value is None for value in (*figures, host.load1)):
        # Prometheus answered, but with no samples: say where they would come from.
        lines.append(Text("no samples (node_exporter metrics?)", style=view.style("state-muted"), end=""))
        return lines
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


class ResourcesPane(TextPane):
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

    def build(self, view: View, width: int) -> list[Text]:
        host = block(view, "this host", view.store.host.get("host"))
        fleet = view.store.host.get("fleet")
        if fleet is None:
            return host
        other = block(view, "fleet", fleet)
        if width < 2 * COLUMN_W:
            return host + other
        rows = []
        for index in range(max(len(host), len(other))):
            row = Text(no_wrap=True, end="")
            if index < len(host):
                row.append_text(host[index])
            row.pad_right(COLUMN_W - len(row.plain))
            if index < len(other):
                row.append_text(other[index])
            rows.append(row)
        return rows
