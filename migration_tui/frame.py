"""The frame: every judgement about the state at one instant, made once per repaint.

A repaint (one ``refresh_view`` of a screen, or one ``replay --headless``)
builds one ``Frame`` from the store, the clock, the rules in force and the
selection. The frame judges every migration's rules (``rules.judge``) and
ranks the fleet worst first the first time something asks, and only then:
the alerts pane, the fleet list, the wall and the headless state all read
the same answer, so they can never disagree. Widgets only draw it.

No Textual here, and no IO: the frame is a pure function of its inputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

import msgspec

from migration_tui.model import CONTROLLER_SOURCE, FAILURE_PHASES, Alert, Migration
from migration_tui.rules import DEFAULT_POLL_S, Judgement, Rule, alerts_of, judge, series_not_live, source_trouble
from migration_tui.store import Store

#: Ranks of the fleet, worst first (see ``rank_of``).
RANK_UNDOING = 0
RANK_FIRING = 1
RANK_PENDING = 2
RANK_RUNNING = 3
RANK_ENDED = 4


def rank_of(migration: Migration, judged: Iterable[Judgement]) -> int:
    """How badly a migration needs a look: 0 an abort or rollback under way (or the failure
    branch), 1 a rule firing, 2 pending, 3 running (every rule within its threshold, or some
    not judged), 4 ended."""
    if migration.phase in FAILURE_PHASES:
        return RANK_UNDOING
    if migration.is_terminal:
        return RANK_ENDED
    alerts = alerts_of(judged)
    if alerts:
        return RANK_FIRING if alerts[0].state == "firing" else RANK_PENDING
    return RANK_RUNNING


def urgency(migration: Migration) -> int:
    """The wall's order: 0 for a migration failing or being undone, 1 running, 2 ended."""
    if migration.phase in FAILURE_PHASES:
        return 0
    return 2 if migration.is_terminal else 1


def active(migrations: Iterable[Migration]) -> list[Migration]:
    """The migrations still running, those failing first; all of them when none is running."""
    migrations = list(migrations)
    running = sorted((m for m in migrations if not m.is_terminal), key=urgency)
    return running or migrations


class Frame(msgspec.Struct, frozen=True, eq=False, dict=True):
    """The store judged at ``now`` with ``rules`` (None: the built-in ones)."""

    store: Store
    now: float
    rules: tuple[Rule, ...] | None = None
    poll_interval_s: float = DEFAULT_POLL_S
    #: The migration the screen shows (None in ``--headless``): its alerts come first in ``alerts``.
    selected_id: str | None = None

    @cached_property
    def judgements(self) -> dict[str, list[Judgement]]:
        """Every migration's rules judged at ``now``, by migration id (in the store's order)."""
        return judge(self.store, self.now, self.rules, self.poll_interval_s)

    @cached_property
    def _sources(self):
        return source_trouble(self.store, self.now, self.poll_interval_s)

    def not_live(self, latest_ts: float, migration: Migration | None = None) -> str | None:
        """Why a series of ``migration`` whose newest sample is at ``latest_ts`` is not live
        ("prometheus ERROR", its controller's trouble), or None."""
        controller = migration.source_name if migration is not None else CONTROLLER_SOURCE
        return series_not_live(self._sources, latest_ts, controller)

    @cached_property
    def alerts(self) -> list[Alert]:
        """Every pending or firing rule of every migration, firing and critical first."""
        return alerts_of(j for items in self.judgements.values() for j in items)

    @cached_property
    def ranks(self) -> dict[str, int]:
        """Each migration's rank (``rank_of``), by id."""
        judgements = self.judgements
        return {m.id: rank_of(m, judgements.get(m.id, ())) for m in self.store.migrations.values()}

    def rank(self, migration: Migration) -> int:
        rank = self.ranks.get(migration.id)
        return rank if rank is not None else rank_of(migration, self.judgements.get(migration.id, ()))

    @cached_property
    def ranking(self) -> list[str]:
        """Migration ids worst first (rank, then id): the fleet view's order."""
        return [key for _rank, key in sorted((rank, key) for key, rank in self.ranks.items())]

    @cached_property
    def by_urgency(self) -> list[Migration]:
        """Every migration, failing first and ended last (stable): the wall's summary order."""
        return sorted(self.store.migrations.values(), key=urgency)

    @cached_property
    def rotation(self) -> list[Migration]:
        """What the wall rotates between: the running ones, failing first; all when none runs."""
        return active(self.store.migrations.values())
