"""RuleWatch: rules going pending, firing and back, in the event log, and a bell when one fires.

The rules themselves remember nothing (``rules.judge`` is a pure function of
the store and the clock). The screen remembers what it saw last and logs each
transition once, naming the migration and the rule: pending, firing,
resolved, or no longer judged. The terminal bell rings when a rule starts
firing, once per rule per migration for the whole session.

What is already so when the screen first looks, and what a jump of the clock
skipped (a replay seek, the store replaced, time running backwards, or a step
longer than ``max_step_s``), is taken as it is, silently: the alerts pane
shows it, and the log does not fill with a burst of old transitions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import msgspec

from migration_tui.rules import NOT_JUDGED, Judgement
from migration_tui.store import Store

#: The source column of the log lines it writes.
LOG_SOURCE = "rules"
HOLDING = ("pending", "firing")


class Transition(msgspec.Struct, frozen=True):
    migration: str
    rule: str
    before: str | None
    after: str
    level: str
    message: str


def _detail(item: Judgement) -> str:
    alert = item.alert
    if alert is None:
        return item.reason
    subject = f"{item.migration}: "
    return alert.message[len(subject) :] if alert.message.startswith(subject) else alert.message


def transition(before: str | None, item: Judgement) -> Transition | None:
    """The log line for ``before`` -> ``item.state``, or None when there is nothing to log."""
    after = item.state
    if after == before:
        return None
    head = f"{item.migration}: rule {item.rule}"
    if after == "firing":
        level = "error" if item.alert is not None and item.alert.severity == "critical" else "warning"
        return Transition(item.migration, item.rule, before, after, level, f"{head} FIRING: {_detail(item)}")
    if after == "pending":
        return Transition(item.migration, item.rule, before, after, "warning", f"{head} pending: {_detail(item)}")
    if before in HOLDING:
        if after == NOT_JUDGED:
            message = f"{head} no longer judged ({item.reason}), was {before}"
            return Transition(item.migration, item.rule, before, after, "warning", message)
        return Transition(item.migration, item.rule, before, after, "info", f"{head} resolved (was {before})")
    return None  # ok <-> not judged: the source's own log lines say why


class RuleWatch:
    """Call ``observe`` with each new judgement; it logs transitions into the store and rings."""

    def __init__(self, bell: Callable[[], None] | None = None) -> None:
        self.bell = bell
        self._states: dict[tuple[str, str], str] = {}
        self._store_id: int | None = None
        self._now: float | None = None
        #: (migration, rule) that have rung the bell already: once each.
        self.rung: set[tuple[str, str]] = set()

    def rebaseline(self) -> None:
        """The clock is about to jump (a seek): take the next judgement as it is, silently."""
        self._store_id = None

    def due(self, store: Store, now: float) -> bool:
        """True when ``observe`` would learn something: a new second of the clock, or a new store."""
        return self._store_id != id(store) or self._now is None or int(now) != int(self._now)

    def observe(
        self,
        store: Store,
        now: float,
        judgements: Mapping[str, Sequence[Judgement]],
        max_step_s: float = float("inf"),
    ) -> list[Transition]:
        """Log (and return) the transitions since the last call; ring once for a rule newly firing."""
        jumped = self._store_id != id(store) or self._now is None or now < self._now or now - self._now > max_step_s
        current = {(item.migration, item.rule): item for items in judgements.values() for item in items}
        found: list[Transition] = []
        if not jumped:
            for key, item in current.items():
                change = transition(self._states.get(key), item)
                if change is not None:
                    found.append(change)
        self._states = {key: item.state for key, item in current.items()}
        self._store_id = id(store)
        self._now = now
        ring = False
        for change in found:
            store.note(now, change.level, LOG_SOURCE, change.message)
            key = (change.migration, change.rule)
            if change.after == "firing" and key not in self.rung:
                self.rung.add(key)
                ring = True
        if ring and self.bell is not None:
            self.bell()  # one BEL however many rules started firing at once
        return found
