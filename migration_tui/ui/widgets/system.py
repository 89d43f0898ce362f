"""The view that fits the selected migration's system (see ARCHITECTURE.md "The five systems").

2pc: votes and the participants with heartbeat age; orderbook-rollout: one
row per pair; canary: the traffic split and legacy against new; batch:
documents, docs/s, ETA, checkpoint and the health score; dual-write: write
success, outbox and the feature flags. Figures come from ``details`` as
listed in ``sources/profiles/*.py``; a missing one is ``—``, an invalid one
says ``invalid``.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult

from migration_tui.model import Migration
from migration_tui.rules import format_duration
from migration_tui.safe_text import age, clean, number
from migration_tui.ui import states
from migration_tui.ui.lookup import detail_bool, detail_number, is_invalid, latest, threshold_rule
from migration_tui.ui.view import View
from migration_tui.ui.widgets.migration import controller_level, pace
from migration_tui.ui.widgets.not_served import SYSTEM_ENDPOINTS, not_served_lines
from migration_tui.ui.widgets.text_pane import TextColumns, TextPane

MAX_PARTICIPANT_LINES = 6
MAX_PAIR_LINES = 24


def _figure(view: View, migration: Migration, key: str, unit: str = "", digits: int = 1) -> str:
    value, _ = detail_number(migration.details, key)
    return number(value, unit, digits, invalid=is_invalid(migration, key))


def _label(line: Text, view: View, label: str) -> None:
    line.append(label, style=view.style("state-muted"))


def two_pc(view: View, migration: Migration) -> list[Text]:
    line = Text(no_wrap=True, end="")
    _label(line, view, "votes ")
    for key, level, word in (
        ("votes_yes", "ok", "yes"),
        ("votes_pending", "muted", "pending"),
        ("votes_no", "bad", "no"),
        ("votes_timeout", "bad", "timeout"),
    ):
        line.append_text(view.badge(level, f"{word} {_figure(view, migration, key, digits=0)}"))
        line.append("  ")
    healthy = detail_bool(migration.details, "health_ok")
    if healthy is not None:
        line.append_text(view.badge(*states.participant_health(healthy)))
    lines = [line]
    members = view.store.participants_of(migration.id)
    for participant in members[:MAX_PARTICIPANT_LINES]:
        row = Text(no_wrap=True, end="")
        row.append(clean(participant.id, 17).ljust(18))
        row.append(clean(participant.type, 11).ljust(12), style=view.style("state-muted"))
        vote = view.badge(*states.vote(participant.vote))
        vote.truncate(10, overflow="ellipsis", pad=True)  # fixed widths: the ages line up beside
        row.append_text(vote)
        row.append(" ")
        health = view.badge(*states.participant_health(participant.healthy, "healthy" in participant.invalid))
        health.truncate(12, overflow="ellipsis", pad=True)
        row.append_text(health)
        row.append(" heartbeat ", style=view.style("state-muted"))
        lines.append(row)
    if len(members) > MAX_PARTICIPANT_LINES:
        more = len(members) - MAX_PARTICIPANT_LINES
        lines.append(Text(f"… {more} more on the Participants tab (2)", style=view.style("state-muted"), end=""))
    return lines


def two_pc_ages(view: View, migration: Migration) -> list[Text]:
    """The heartbeat ages of ``two_pc``'s participant lines, a column of their own (it changes every second)."""
    lines = [Text(end="")]
    for participant in view.store.participants_of(migration.id)[:MAX_PARTICIPANT_LINES]:
        age_s = participant.heartbeat_age_s(view.now)
        lines.append(view.badge(states.heartbeat(age_s, ended=migration.is_terminal), age(age_s)))
    return lines


def _judged(view: View, migration: Migration, series: str, unit: str, digits: int, width: int) -> Text:
    """A series' latest value against its rule: ``✖`` and the alarm colour past the threshold."""
    value = latest(view.store, migration, series)
    rule = threshold_rule(migration.system, series, view.rules)
    broken = value is not None and rule is not None and rule.breaks(value)
    shown = ("✖ " if broken else "") + number(value, unit, digits)
    level = "muted" if value is None else "bad" if broken else "ok"
    return Text(f" {shown:>{width - 1}}", style=view.style(f"state-{level}"), no_wrap=True, end="")


def orderbook(view: View, migration: Migration) -> list[Text]:
    store = view.store
    by_pair = {m.pair: m for m in store.migrations.values() if m.system == "orderbook-rollout" and m.pair}
    header = Text(no_wrap=True, end="")
    header.append(
        f"  {'pair':<10} {'migrated':>8} {'target':>7}  {'breaker':<12} {'p95':>9} {'errors':>7}  state",
        style=view.style("state-muted"),
    )
    lines = [header]
    for pair, item in sorted(by_pair.items())[:MAX_PAIR_LINES]:
        row = Text(no_wrap=True, end="")
        selected = item.id == migration.id
        row.append("▶ " if selected else "  ", style=view.style("phase-current", bold=True))
        row.append(clean(pair, 10).ljust(10), style=view.style("state-info", bold=selected))
        pct, _ = detail_number(item.details, "migration_percentage")
        pct = pct if pct is not None else latest(store, item, "migration_pct")
        row.append(f" {number(pct, '%', 0, is_invalid(item, 'migration_percentage')):>8}")
        row.append(f" {_figure(view, item, 'target_percentage', '%', 0):>7}  ")
        breaker = store.breakers.get(pair)
        level, word = states.breaker(breaker.state) if breaker else ("muted", "—")
        row.append_text(view.badge(level, word.ljust(10)))
        row.append_text(_judged(view, item, "latency_p95_ms", " ms", 1, 10))
        row.append_text(_judged(view, item, "error_rate_pct", "%", 2, 8))
        row.append("  ")
        row.append_text(view.badge(*states.health(item.health)))
        lines.append(row)
    if len(by_pair) > MAX_PAIR_LINES:
        lines.append(Text(f"… {len(by_pair) - MAX_PAIR_LINES} more pairs ([ and ] to step)", end=""))
    return lines


def canary(view: View, migration: Migration) -> list[Text]:
    details = migration.details
    legacy_pct, _ = detail_number(details, "traffic_legacy_pct")
    new_pct, _ = detail_number(details, "traffic_new_pct")
    split = Text(no_wrap=True, end="")
    _label(split, view, "traffic  legacy ")
    width = 30
    if legacy_pct is not None and new_pct is not None:
        # Two different characters, so the split reads the same without colour.
        old_w = int(round(width * legacy_pct / 100))
        split.append("▒" * old_w, style=view.style("state-muted"))
        split.append("█" * (width - old_w), style=view.style("state-info"))
    else:
        split.append("?" * width, style=view.style("state-warn"))
    split.append(" new  ", style=view.style("state-muted"))
    split.append(
        f"{_figure(view, migration, 'traffic_legacy_pct', '%', 0)} / {_figure(view, migration, 'traffic_new_pct', '%', 0)}"
    )
    lines = [split]
    head = Text(f"{'':8}{'health':<14}{'errors':>9}{'p99':>11}", style=view.style("state-muted"), no_wrap=True, end="")
    lines.append(head)
    for side in ("legacy", "new"):
        row = Text(no_wrap=True, end="")
        row.append(f"{side:<8}")
        healthy = detail_bool(details, f"{side}_healthy")
        row.append_text(view.badge(*states.participant_health(healthy, is_invalid(migration, f"{side}_healthy"))))
        row.append(" " * max(1, 22 - len(row.plain)))
        row.append(f"{_figure(view, migration, f'{side}_error_rate_pct', '%', 2):>9}")
        row.append(f"{_figure(view, migration, f'{side}_p99_ms', ' ms', 0):>11}")
        lines.append(row)
    sync = Text(no_wrap=True, end="")
    _label(sync, view, "sync lag ")
    sync.append(_figure(view, migration, "sync_lag_s", " s"))
    _label(sync, view, "   requests ")
    sync.append(_figure(view, migration, "requests_per_s", "/s", 0))
    lines.append(sync)
    return lines


def batch(view: View, migration: Migration) -> list[Text]:
    details = migration.details
    line = Text(no_wrap=True, end="")
    _label(line, view, "documents ")
    line.append(
        f"{_figure(view, migration, 'documents_migrated', digits=0)} / {_figure(view, migration, 'documents_total', digits=0)}"
    )
    _label(line, view, "   rate ")
    line.append(_figure(view, migration, "docs_per_s", " docs/s", 0))
    _label(line, view, "   ETA ")
    eta, _ = detail_number(details, "eta_s")
    changes = view.store.progress_changes.get(migration.id, ())
    if eta is not None and pace(migration, changes, view.now, controller_level(view)[0]).kind != "forward":
        eta = None  # the progress line says why (paused, not live, ...): no ETA here either
    line.append(
        "invalid" if eta is None and is_invalid(migration, "eta_s") else "—" if eta is None else format_duration(eta)
    )
    second = Text(no_wrap=True, end="")
    _label(second, view, "retries ")
    second.append(_figure(view, migration, "retries", digits=0))
    _label(second, view, "   last checkpoint ")
    second.append(_figure(view, migration, "last_checkpoint_documents", " docs", 0))
    at, _ = detail_number(details, "last_checkpoint_at")
    if at is not None:
        second.append(f", {age(view.now - at)} ago")
    third = Text(no_wrap=True, end="")
    _label(third, view, "health score ")
    score = migration.health_score
    band = "ok" if score is not None and score >= 80 else "warn" if score is not None and score >= 50 else "bad"
    third.append_text(
        view.badge(
            band if score is not None else "muted",
            number(score, digits=0, invalid=is_invalid(migration, "health_score")),
            bold=True,
        )
    )
    _label(third, view, "  = 100 - 5×")
    third.append(_figure(view, migration, "warnings", digits=0))
    _label(third, view, " warnings - 15×")
    third.append(_figure(view, migration, "errors", digits=0))
    _label(third, view, " errors - 30×")
    third.append(_figure(view, migration, "critical", digits=0))
    _label(third, view, " critical")
    return [line, second, third]


def dual_write(view: View, migration: Migration) -> list[Text]:
    details = migration.details
    line = Text(no_wrap=True, end="")
    _label(line, view, "object write success ")
    success, _ = detail_number(details, "write_success_pct")
    level = "muted" if success is None else "ok" if success >= 99 else "bad"
    line.append_text(view.badge(level, _figure(view, migration, "write_success_pct", "%", 2), bold=True))
    _label(line, view, " (≥ 99%)   outbox ")
    line.append(_figure(view, migration, "outbox_pending", digits=0))
    _label(line, view, "   written ")
    line.append(_figure(view, migration, "events_written", digits=0))
    flags = Text(no_wrap=True, end="")
    _label(flags, view, "flags ")
    for key, name in (
        ("flag_enable_s3_event_store", "S3_EVENT_STORE"),
        ("flag_enable_dual_write", "DUAL_WRITE"),
        ("flag_worker_read_from_s3", "READ_FROM_S3"),
    ):
        value = detail_bool(details, key)
        flags.append_text(
            view.badge("info" if value else "muted", f"{name} {'on' if value else 'off' if value is False else '—'}")
        )
        flags.append("  ")
    latency = Text(no_wrap=True, end="")
    _label(latency, view, "event latency ")
    for key in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"):
        latency.append(f"{key.split('_')[1]} {_figure(view, migration, key, ' ms', 0)}  ")
    return [line, latency, flags]


VIEWS: dict[str, Callable[[View, Migration], list[Text]]] = {
    "2pc": two_pc,
    "orderbook-rollout": orderbook,
    "canary": canary,
    "batch": batch,
    "dual-write": dual_write,
}


class SystemPanel(TextColumns):
    """Per-system figures of the selected migration (no lines for a system it does not know).

    For 2pc the participants' heartbeat ages, which change every second, are a pane of
    their own right after the fixed-width lines: Textual writes a changed line from the
    left edge of its widget, so an age costs its own few cells, not the line.
    """

    DEFAULT_CSS = """
    SystemPanel {
        height: auto;
        padding: 0 1;
    }
    SystemPanel > .system-part {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        height: auto;
    }
    SystemPanel > SystemLines {
        width: 1fr;
    }
    SystemPanel > SystemAges {
        display: none;
        width: 1fr;
    }
    SystemPanel.-ages > SystemLines {
        width: 64;  /* a 2pc participant line: id 18, type 12, vote 10, health 1 + 12, label 11 */
    }
    SystemPanel.-ages > SystemAges {
        display: block;
    }
    """

    def compose(self) -> ComposeResult:
        yield SystemLines(classes="system-part")
        yield SystemAges(classes="system-part")


class _SystemPart(TextPane):
    MIN_INTERVAL_S = 1.0  # series change several times a second; the eye needs once
    SECTIONS = ("migrations", "participants", "breakers", "series", "sources")
    CLOCK = True


class SystemLines(_SystemPart):
    """The lines of ``SystemPanel`` (all of them but the 2pc heartbeat ages)."""

    def draw(self, view: View) -> None:
        # The ages pane shows (2pc) or leaves before this one is laid out or built: set during
        # the first layout, it showed a frame later, empty, and was drawn a frame after that.
        migration = view.migration
        if self.parent is not None:
            self.parent.set_class(migration is not None and migration.system == "2pc", "-ages")
        super().draw(view)

    def build(self, view: View, width: int) -> list[Text]:
        migration = view.migration
        builder = VIEWS.get(migration.system) if migration is not None else None
        if builder is None or migration is None:
            return []
        return builder(view, migration) + not_served_lines(view, *SYSTEM_ENDPOINTS.get(migration.system, ()))


class SystemAges(_SystemPart):
    """The 2pc participants' heartbeat ages, beside their lines."""

    def build(self, view: View, width: int) -> list[Text]:
        migration = view.migration
        return two_pc_ages(view, migration) if migration is not None and migration.system == "2pc" else []
