"""Safety rules: pure functions of the store and a clock.

A series rule holds while every sample in its ``for`` window breaks the
threshold, the way Prometheus evaluates ``for:``. It is *pending* from the
first sample of the current unbroken run and *firing* once the run is ``for``
long. A gap (no value) or a sample back within the threshold ends the run.
Nothing is remembered between calls, so the answer after a seek is the
answer a straight read would give. Rules never act; they recommend.

Every rule that applies to a migration is *judged* (``Judgement``): firing,
pending, ok (within its threshold), or not judged with the reason (no data
for its series, data stale, the source feeding it failing or silent, the
migration ended). Nothing that could not be judged is ever reported as
passing. A migration being rolled back or aborted is still judged; its
alerts say that the action is under way instead of recommending it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from migration_tui.freshness import FreshnessState, freshness
from migration_tui.model import CONTROLLER_SOURCE, Alert, Migration, SourceHealth
from migration_tui.store import Store

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: A series whose newest sample is older than this is not judged ("data stale").
STALE_AFTER_S = 120.0
#: The poll interval source freshness is judged against when the caller does not say.
DEFAULT_POLL_S = 2.0
#: The sources a series can come from (the controller's /metrics, Prometheus).
SERIES_SOURCES = (CONTROLLER_SOURCE, "prometheus")
#: The state of a rule that could not be judged; ``Judgement.reason`` says why.
NOT_JUDGED = "not_judged"
MIGRATION_ENDED = "migration ended"
#: Phases in which a recommended action is already being carried out, and its name.
UNDER_WAY = {"rolling_back": "rollback", "aborting": "abort"}
#: Phases after which nothing more happens, whatever the status says.
ENDED_PHASES = frozenset({"aborted", "rolled_back", "rollback_failed", "failed"})
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


class Judgement(NamedTuple):
    """What is known of one rule for one migration now (a NamedTuple: the fleet makes
    thousands a second, and a frozen dataclass costs three times as much to build).

    ``state`` is "firing", "pending", "ok" (judged, within its threshold) or "not_judged"
    (``reason`` says why: no data, stale data, a failing source, the migration ended).
    """

    migration: str
    rule: str
    state: str
    reason: str = ""
    alert: Alert | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"migration": self.migration, "rule": self.rule, "state": self.state, "reason": self.reason}


class Rule(msgspec.Struct, frozen=True):
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


def default_rules() -> tuple[Rule, ...]:
    """Every registered system's own rules, in registry order (a system registered later adds its own)."""
    from migration_tui import systems

    return _registered_rules(systems.generation())


@cache
def _registered_rules(generation: int) -> tuple[Rule, ...]:
    from migration_tui import systems

    return rules_from_toml(systems.default_rules_text(), "built-in rules.toml")


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
    """The series ``name`` of ``migration``: its controller's pair's, its pair's, its own, else the
    store-wide one; None when there is none. (Each key is made only if the one before is missing:
    the fleet asks this for every series rule of every migration on every repaint.)"""
    series = store.series
    pair = migration.pair
    if pair:
        if migration.controller:
            found = series.get(f"{migration.scoped(pair)}/{name}")
            if found is not None:
                return found
        found = series.get(f"{pair}/{name}")
        if found is not None:
            return found
    found = series.get(f"{migration.id}/{name}")
    if found is not None:
        return found
    return series.get(name) if name else None


def _subject(migration: Migration) -> str:
    return f"{migration.id}: " if migration.id else ""


def under_way(migration: Migration) -> str:
    """ "rollback" or "abort" while the migration is being rolled back or aborted, else ""."""
    return UNDER_WAY.get(migration.phase, "") if not migration.is_terminal else ""


def _advice(rule: Rule, migration: Migration) -> str:
    """What a rule that holds says to do: the action it recommends, or that one is under way."""
    doing = under_way(migration)
    if doing:
        return f"{doing} under way"
    return f"{rule.action} recommended" if rule.action else "needs a look"


def _head(rule: Rule, migration: Migration) -> str:
    """How an alert's message starts: the migration, then the advice ("mig-1: rollback recommended")."""
    return f"{_subject(migration)}{_advice(rule, migration)}"


class _Sources:
    """The freshness of the sources rules read, judged once per evaluation."""

    def __init__(self, store: Store, now: float, poll_interval_s: float) -> None:
        self.store = store
        self.now = now
        self.poll_interval_s = poll_interval_s
        self._known = set(store.source_names())
        self._cache: dict[str, tuple[str, SourceHealth] | None] = {}
        self._any: bool | None = None

    @property
    def any_trouble(self) -> bool:
        """True when some known source is failing or stale; when none is, nothing is "not live"
        and a judgement need not ask (the fleet judges thousands of rules a repaint)."""
        if self._any is None:
            self._any = any(self.trouble(name) is not None for name in self._known)
        return self._any

    def trouble(self, name: str) -> tuple[str, SourceHealth] | None:
        """("controller ERROR", health) when ``name`` is failing or stale; None when fresh or unknown."""
        if name not in self._cache:
            result = None
            if name in self._known:
                health = self.store.source(name)
                state = freshness(health, self.poll_interval_s, self.now).state
                if state in (FreshnessState.ERROR, FreshnessState.STALE):
                    result = (f"{name.replace(':', ' ', 1)} {state.value.upper()}", health)
            self._cache[name] = result
        return self._cache[name]


def series_not_live(sources: _Sources, latest_ts: float, controller: str = CONTROLLER_SOURCE) -> str | None:
    """Why a series whose newest sample is at ``latest_ts`` is not live ("controller ERROR"), or None.

    A series belongs to a failing (or silent) source when it has had no sample since that
    source last answered; another source feeding it keeps it newer than that. ``controller``
    is the source of the migration's own controller (``Migration.source_name``).
    """
    for name in (controller, *SERIES_SOURCES[1:]):
        trouble = sources.trouble(name)
        if trouble is not None and (trouble[1].last_success is None or latest_ts <= trouble[1].last_success):
            return trouble[0]
    return None


def source_trouble(store: Store, now: float, poll_interval_s: float = DEFAULT_POLL_S) -> _Sources:
    """The sources' freshness at ``now``, judged once, for ``series_not_live``."""
    return _Sources(store, now, poll_interval_s)


def _not_judged(rule: Rule, migration: Migration, reason: str) -> Judgement:
    return Judgement(migration.id, rule.name, NOT_JUDGED, reason)


def _ok(rule: Rule, migration: Migration) -> Judgement:
    return Judgement(migration.id, rule.name, "ok")


def _holds(rule: Rule, migration: Migration, alert: Alert) -> Judgement:
    return Judgement(migration.id, rule.name, alert.state, alert=alert)


def _judge_series(rule: Rule, store: Store, migration: Migration, now: float, sources: _Sources) -> Judgement:
    series = _series_for(store, migration, rule.series)
    latest_ts = None if series is None else series.latest_ts()
    if series is None or latest_ts is None:
        return _not_judged(rule, migration, f"no data for {rule.series}")
    trouble = series_not_live(sources, latest_ts, migration.source_name) if sources.any_trouble else None
    if trouble is not None:
        return _not_judged(rule, migration, trouble)
    if now - latest_ts > STALE_AFTER_S:
        return _not_judged(rule, migration, f"data stale ({format_duration(now - latest_ts)} old)")
    value_now = series.latest()
    if latest_ts <= now and value_now is None:
        # The newest sample is a gap (invalid or missing): nothing can be said of the rule now.
        return _not_judged(rule, migration, f"newest {rule.series} sample invalid or missing")
    if latest_ts <= now and not rule.breaks(value_now):
        return _ok(rule, migration)  # the newest sample is within the limit: nothing holds
    since = None
    value_now = None
    # Newest first, only back to the first sample within the limit (not a copy of the window).
    for ts, value in series.newest_first():
        if ts > now:
            continue
        if value is None or not rule.breaks(value):
            break
        since = ts
        if value_now is None:
            value_now = value
    if since is None or value_now is None:
        return _ok(rule, migration)
    held = now - since
    opposite = "falls below" if rule.op == ">" else "rises above"
    side = "above" if rule.op == ">" else "below"
    limit = f"{_fmt(rule.threshold)}{rule.unit}"
    subject = _subject(migration)
    advice = _advice(rule, migration)
    if held >= rule.for_s:
        message = (
            f"{subject}{advice}: {rule.label} {_fmt(value_now)}{rule.unit} {side} {limit} for {format_duration(held)}"
        )
        state = "firing"
    elif under_way(migration):
        message = f"{subject}{advice}; {rule.label} {side} {limit}, fires in {format_duration(rule.for_s - held)}"
        state = "pending"
    else:
        message = f"{subject}{advice} in {format_duration(rule.for_s - held)} unless {rule.label} {opposite} {limit}"
        state = "pending"
    alert = Alert(rule.name, rule.severity, since, message, state, since + rule.for_s, rule.action, migration.id)
    return _holds(rule, migration, alert)


def _judge_other(rule: Rule, store: Store, migration: Migration, now: float, sources: _Sources) -> Judgement:
    # Breakers, participants and the health score come from the controller.
    trouble = sources.trouble(migration.source_name) if sources.any_trouble else None
    if trouble is not None:
        return _not_judged(rule, migration, trouble[0])
    if rule.kind == "breaker_opens":
        # Only the migration's own breakers: another pair's flapping breaker says nothing about this one.
        candidates = (migration.scoped(migration.pair) if migration.pair else None, migration.pair, migration.id)
        names = [n for n in dict.fromkeys(candidates) if n and (n in store.breaker_opens or n in store.breakers)]
        if not names:
            return _not_judged(rule, migration, "no data for its circuit breaker")
        window_start = now - rule.window_s
        for name in names:
            opens = [t for t in store.breaker_opens.get(name, ()) if window_start <= t <= now]
            if len(opens) > rule.threshold:
                message = (
                    f"{_head(rule, migration)}: breaker opened {len(opens)} times in {format_duration(rule.window_s)}"
                )
                alert = Alert(
                    rule.name, rule.severity, opens[0], message, "firing", opens[-1], rule.action, migration.id
                )
                return _holds(rule, migration, alert)
        return _ok(rule, migration)
    if rule.kind == "participant_unhealthy":
        reported, sick = store.participant_health(migration.id)
        if not reported:
            return _not_judged(rule, migration, "no participant health reported")
        if not sick:
            return _ok(rule, migration)
        message = f"{_head(rule, migration)}: participant unhealthy: {', '.join(sick[:5])}"
        alert = Alert(rule.name, rule.severity, now, message, "firing", now, rule.action, migration.id)
        return _holds(rule, migration, alert)
    if rule.kind == "health_score":
        score = migration.health_score
        if score is None:
            return _not_judged(rule, migration, "no health score reported")
        if not rule.breaks(score):
            return _ok(rule, migration)
        side = "below" if rule.op == "<" else "above"
        message = f"{_head(rule, migration)}: health score {_fmt(score)} {side} {_fmt(rule.threshold)}"
        alert = Alert(rule.name, rule.severity, now, message, "firing", now, rule.action, migration.id)
        return _holds(rule, migration, alert)
    return _not_judged(rule, migration, f"unknown kind {rule.kind}")  # pragma: no cover - rules_from_toml refuses it


def applies(rule: Rule, migration: Migration) -> bool:
    return not rule.systems or migration.system in rule.systems


def ended(migration: Migration) -> bool:
    """Nothing more happens to it: a terminal status, or a phase that ends the failure branch."""
    return migration.is_terminal or migration.phase in ENDED_PHASES


def judge_one(
    store: Store,
    migration: Migration,
    now: float,
    rules: Iterable[Rule] | None = None,
    poll_interval_s: float = DEFAULT_POLL_S,
    _sources: _Sources | None = None,
    _by_system: dict[str, list[Rule]] | None = None,
    _rules: tuple[Rule, ...] = (),
) -> list[Judgement]:
    """Every rule that applies to ``migration``, each firing, pending, ok or not judged (with why)."""
    if _by_system is not None:
        applicable = _by_system.get(migration.system)
        if applicable is None:
            applicable = _by_system[migration.system] = [rule for rule in _rules if applies(rule, migration)]
    else:
        rules = default_rules() if rules is None else rules
        applicable = [rule for rule in rules if applies(rule, migration)]
    if ended(migration):
        return [_not_judged(rule, migration, MIGRATION_ENDED) for rule in applicable]
    sources = _sources or _Sources(store, now, poll_interval_s)
    return [
        (_judge_series if rule.kind == "series" else _judge_other)(rule, store, migration, now, sources)
        for rule in applicable
    ]


def judge(
    store: Store, now: float, rules: Iterable[Rule] | None = None, poll_interval_s: float = DEFAULT_POLL_S
) -> dict[str, list[Judgement]]:
    """Every migration's judgements, by migration id (in the store's order)."""
    rules = default_rules() if rules is None else tuple(rules)
    sources = _Sources(store, now, poll_interval_s)
    by_system: dict[str, list[Rule]] = {}  # the rules that apply to each system, found once per judge
    return {
        migration.id: judge_one(store, migration, now, rules, poll_interval_s, sources, by_system, rules)
        for migration in store.migrations.values()
    }


def alerts_of(judgements: Iterable[Judgement]) -> list[Alert]:
    """The pending and firing rules among ``judgements``, firing and critical first."""
    alerts = [j.alert for j in judgements if j.alert is not None]
    alerts.sort(key=_worst_first)
    return alerts


def evaluate(
    store: Store, now: float, rules: Iterable[Rule] | None = None, poll_interval_s: float = DEFAULT_POLL_S
) -> list[Alert]:
    """Every pending or firing rule for every migration in the store, firing first."""
    return alerts_of(j for items in judge(store, now, rules, poll_interval_s).values() for j in items)


def evaluate_one(
    store: Store,
    migration: Migration,
    now: float,
    rules: Iterable[Rule] | None = None,
    poll_interval_s: float = DEFAULT_POLL_S,
) -> list[Alert]:
    """The pending or firing rules of one migration, firing first (the wall's and fleet's worst alert)."""
    return alerts_of(judge_one(store, migration, now, rules, poll_interval_s))


def not_judged_summary(judgements: Iterable[Judgement]) -> list[tuple[str, int]]:
    """(reason, how many rules) for the rules not judged, most first."""
    counts: dict[str, int] = {}
    for item in judgements:
        if item.state == NOT_JUDGED:
            counts[item.reason] = counts.get(item.reason, 0) + 1
    return sorted(counts.items(), key=lambda pair: -pair[1])


def _worst_first(alert: Alert) -> tuple[bool, bool, float]:
    return (alert.state != "firing", alert.severity != "critical", alert.since)
