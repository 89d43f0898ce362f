"""Safety rules: pure functions of the store and a clock.

A series rule holds while every sample in its ``for`` window breaks the
threshold, the way Prometheus evaluates ``for:``. It is *pending* from the
first sample of the current unbroken run and *firing* once the run is ``for``
long. A gap (no value) or a sample back within the threshold ends the run.
Nothing is remembered between calls, so the answer after a seek is the
answer a straight read would give. Rules never act; they recommend.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from migration_tui.model import FAILURE_PHASES, Alert, Migration
from migration_tui.store import Store

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: A series whose newest sample is older than this is not evaluated.
STALE_AFTER_S = 120.0
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


class RulesError(ValueError):
    """A rules file that cannot be used; the message says where and why."""


def parse_duration(value: Any) -> float:
    """ "5m" -> 300.0; plain numbers are seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str) and value[-1:] in _UNITS:
        try:
            number = float(value[:-1])
        except ValueError:
            pass
        else:
            if number >= 0:
                return number * _UNITS[value[-1]]
    raise RulesError(f"not a duration: {value!r} (use 30s, 5m or 1h)")


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    systems: tuple[str, ...]
    kind: str = "series"
    series: str = ""
    label: str = ""
    unit: str = ""
    op: str = ">"
    threshold: float = 0.0
    for_s: float = 0.0
    window_s: float = 600.0
    severity: str = "warning"
    action: str = ""

    def breaks(self, value: float) -> bool:
        return value > self.threshold if self.op == ">" else value < self.threshold


def rules_from_toml(text: str, origin: str = "rules") -> tuple[Rule, ...]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{origin}: {exc}") from None
    items = doc.get("rule", [])
    if not isinstance(items, list):
        raise RulesError(f"{origin}: [[rule]] tables expected")
    rules = []
    for number, item in enumerate(items, 1):
        where = f"{origin}: rule {number}"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise RulesError(f"{where}: needs a name")
        kind = item.get("kind", "series")
        if kind not in ("series", "breaker_opens", "participant_unhealthy", "health_score"):
            raise RulesError(f"{where} ({item['name']}): unknown kind {kind!r}")
        if kind == "series" and not isinstance(item.get("series"), str):
            raise RulesError(f"{where} ({item['name']}): needs a series")
        op = item.get("op", ">")
        if op not in (">", "<"):
            raise RulesError(f"{where} ({item['name']}): op must be > or <")
        threshold = item.get("threshold", 0)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise RulesError(f"{where} ({item['name']}): threshold must be a number")
        systems = item.get("systems", [])
        if not isinstance(systems, list) or not all(isinstance(s, str) for s in systems):
            raise RulesError(f"{where} ({item['name']}): systems must be a list of names")
        rules.append(
            Rule(
                name=item["name"],
                systems=tuple(systems),
                kind=kind,
                series=item.get("series", ""),
                label=str(item.get("label", item.get("series", item["name"]))),
                unit=str(item.get("unit", "")),
                op=op,
                threshold=float(threshold),
                for_s=parse_duration(item.get("for", "0s")),
                window_s=parse_duration(item.get("window", "10m")),
                severity=str(item.get("severity", "warning")),
                action=str(item.get("action", "")),
            )
        )
    return tuple(rules)


@cache
def default_rules() -> tuple[Rule, ...]:
    text = resources.files("migration_tui.data").joinpath("rules.toml").read_text(encoding="utf-8")
    return rules_from_toml(text, "built-in rules.toml")


def load_rules(path: str | Path | None) -> tuple[Rule, ...]:
    if path is None:
        return default_rules()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{path}: {exc.strerror}") from None
    return rules_from_toml(text, str(path))


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:.0f}"


def _series_for(store: Store, migration: Migration, name: str):
    for key in (f"{migration.pair}/{name}" if migration.pair else None, f"{migration.id}/{name}", name):
        if key and key in store.series:
            return store.series[key]
    return None


def _series_alert(rule: Rule, store: Store, migration: Migration, now: float) -> Alert | None:
    series = _series_for(store, migration, rule.series)
    if series is None:
        return None
    latest_ts = series.latest_ts()
    if latest_ts is None or now - latest_ts > STALE_AFTER_S:
        return None
    since = None
    value_now = series.latest()
    # Newest first, only back to the first sample within the limit (not a copy of the window).
    for ts, value in series.newest_first():
        if ts > now:
            continue
        if value is None or not rule.breaks(value):
            break
        since = ts
    if since is None or value_now is None:
        return None
    held = now - since
    opposite = "falls below" if rule.op == ">" else "rises above"
    side = "above" if rule.op == ">" else "below"
    limit = f"{_fmt(rule.threshold)}{rule.unit}"
    subject = f"{migration.pair or migration.id}: " if migration.pair or migration.id else ""
    if held >= rule.for_s:
        return Alert(
            rule=rule.name,
            severity=rule.severity,
            since=since,
            message=f"{subject}{rule.action} recommended: {rule.label} {_fmt(value_now)}{rule.unit} "
            f"{side} {limit} for {format_duration(held)}",
            state="firing",
            fires_at=since + rule.for_s,
            action=rule.action,
        )
    return Alert(
        rule=rule.name,
        severity=rule.severity,
        since=since,
        message=f"{subject}{rule.action} recommended in {format_duration(rule.for_s - held)} "
        f"unless {rule.label} {opposite} {limit}",
        state="pending",
        fires_at=since + rule.for_s,
        action=rule.action,
    )


def _other_alert(rule: Rule, store: Store, migration: Migration, now: float) -> Alert | None:
    subject = migration.pair or migration.id
    if rule.kind == "breaker_opens":
        # Only the migration's own breakers: another pair's flapping breaker says nothing about this one.
        names = [n for n in (migration.pair, migration.id) if n and n in store.breaker_opens]
        window_start = now - rule.window_s
        for name in names:
            opens = [t for t in store.breaker_opens[name] if window_start <= t <= now]
            if len(opens) > rule.threshold:
                return Alert(
                    rule.name,
                    rule.severity,
                    opens[0],
                    f"{name}: {rule.action} recommended: breaker opened {len(opens)} times "
                    f"in {format_duration(rule.window_s)}",
                    "firing",
                    opens[-1],
                    rule.action,
                )
        return None
    if rule.kind == "participant_unhealthy":
        if migration.is_terminal:
            return None
        sick = [p.id for p in store.participants_of(migration.id) if p.healthy is False]
        if sick:
            return Alert(
                rule.name,
                rule.severity,
                now,
                f"{subject}: {rule.action} recommended: participant unhealthy: {', '.join(sick[:5])}",
                "firing",
                now,
                rule.action,
            )
        return None
    if rule.kind == "health_score":
        score = migration.health_score
        if score is not None and rule.breaks(score) and not migration.is_terminal:
            return Alert(
                rule.name,
                rule.severity,
                now,
                f"{subject}: {rule.action} recommended: health score {_fmt(score)} "
                f"{'below' if rule.op == '<' else 'above'} {_fmt(rule.threshold)}",
                "firing",
                now,
                rule.action,
            )
    return None


def evaluate(store: Store, now: float, rules: Iterable[Rule] | None = None) -> list[Alert]:
    """Every pending or firing rule for every migration in the store, firing first."""
    rules = default_rules() if rules is None else tuple(rules)
    alerts = [alert for migration in store.migrations.values() for alert in evaluate_one(store, migration, now, rules)]
    alerts.sort(key=_worst_first)
    return alerts


def evaluate_one(store: Store, migration: Migration, now: float, rules: Iterable[Rule] | None = None) -> list[Alert]:
    """The pending or firing rules of one migration, firing first (the wall's and fleet's worst alert)."""
    if migration.is_terminal or migration.phase in FAILURE_PHASES:
        return []  # ended, or already aborting / rolling back: nothing left to recommend
    alerts: list[Alert] = []
    for rule in default_rules() if rules is None else rules:
        if rule.systems and migration.system not in rule.systems:
            continue
        alert = (_series_alert if rule.kind == "series" else _other_alert)(rule, store, migration, now)
        if alert is not None:
            alerts.append(alert)
    alerts.sort(key=_worst_first)
    return alerts


def _worst_first(alert: Alert) -> tuple[bool, bool, float]:
    return (alert.state != "firing", alert.severity != "critical", alert.since)
