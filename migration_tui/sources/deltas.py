"""Participants as deltas: what a source emits after the first full list.

A controller lists every participant on every poll, but few change between
two polls. ``ParticipantsDiffer`` remembers what was last emitted for each
migration and turns the next list into one event:

- ``participants`` (the whole list) the first time a migration is seen, after
  ``forget`` (the source failed: whoever reads may have missed something),
  every ``full_every``-th list as a resync, and whenever a delta could not say
  exactly what the list says (see ``diff_participants``);
- ``participants_delta`` ``{"migration_id", "changed": [items], "removed": [ids]}``
  otherwise;
- nothing when nothing changed.

The live controller source and the benchmark recordings both emit through
this class, so a recording holds what the source emits. Applying a delta to
the store gives the state the full list would have given (the store's
``_on_participants_delta``), with one difference: a participant only a Redis
heartbeat has named, or whose polled heartbeat was invalid and a heartbeat
later replaced, keeps that until the next full list or a delta naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import compress
from operator import is_not
from typing import Any

from migration_tui.model import same_json

#: Every ``FULL_EVERY``-th list of a migration is emitted whole (a resync).
FULL_EVERY = 30
#: Longest id a delta carries; the store keeps ids to this length (``model.text``).
MAX_ID = 256


def diff_participants(
    previous: Mapping[str, Mapping[str, Any]], items: list[Any], limit: int
) -> tuple[dict[str, Mapping[str, Any]], list[Mapping[str, Any]], list[str]] | None:
    """(items by id, changed items, removed ids) from ``previous`` (items by id) to ``items``,
    or None when only the full list says it exactly: an item that is not an object, an id that
    is not a string of at most ``MAX_ID`` characters, a duplicate id, more than ``limit`` items,
    or an order a delta cannot give (the store keeps the ids it has in place and appends new ones).
    """
    if len(items) > limit:
        return None
    if previous and len(items) == len(previous):
        same = _same_ids(previous, items)
        if same is not None:
            return same
    current: dict[str, Mapping[str, Any]] = {}
    for item in items:
        if type(item) is not dict:
            return None
        key = item.get("id")
        if type(key) is not str or len(key) > MAX_ID or key in current:
            return None
        current[key] = item
    # ``is`` first: an unchanged participant is often the very dict of the last list (``participant_dicts``)
    changed = [
        item for key, item in current.items() if (last := previous.get(key)) is not item and not same_json(last, item)
    ]
    removed = [key for key in previous if key not in current]
    if removed or len(current) != len(previous):
        kept = [key for key in previous if key in current]
        if list(current) != kept + [key for key in current if key not in previous]:
            return None
    elif list(current) != list(previous):  # the same ids, in another order
        return None
    return current, changed, removed


def _same_ids(
    previous: Mapping[str, Mapping[str, Any]], items: list[Any]
) -> tuple[dict[str, Mapping[str, Any]], list[Mapping[str, Any]], list[str]] | None:
    """``diff_participants`` when ``items`` is as long as ``previous``: ``_in_place`` on a copy."""
    return _in_place(dict(previous), list(previous.values()), items)


def _in_place(
    previous: dict[str, Mapping[str, Any]], last: list[Any], items: list[Any]
) -> tuple[dict[str, Mapping[str, Any]], list[Mapping[str, Any]], list[str]] | None:
    """``diff_participants`` when ``items`` is as long as ``last``, the list ``previous`` (items by id)
    was made from, one for one: the items that are the very objects of ``last``
    (``participant_dicts`` hands unchanged ones back so) are passed over in C, and ``previous`` is
    updated in place (the differ owns it: no 10,000-entry copy a poll for the collector to walk).
    None, ``previous`` untouched (the long way), if another item is not an object with the id at
    its place in ``last``, if most items are other objects, or if ``items`` is ``last`` itself."""
    if len(items) != len(last) or items is last:  # the same list again: changed in place, maybe
        return None
    moved = list(compress(range(len(items)), map(is_not, last, items)))
    if len(moved) > len(items) // 2:
        return None
    for index in moved:
        item = items[index]
        if type(item) is not dict or item.get("id") != last[index].get("id") or type(item.get("id")) is not str:
            return None
    changed = []
    for index in moved:
        item = items[index]
        previous[item["id"]] = item
        if not same_json(item, last[index]):  # 1 == True in Python, not in what the store reads
            changed.append(item)
    return previous, changed, []


class ParticipantsDiffer:
    """Turns each migration's participant lists into ``participants`` / ``participants_delta`` data."""

    def __init__(self, limit: int, full_every: int = FULL_EVERY) -> None:
        self.limit = limit
        self.full_every = full_every
        self._last: dict[str, dict[str, Mapping[str, Any]]] = {}
        #: The list ``_last`` was made from, one for one in its order (``_in_place``).
        self._items: dict[str, list[Any]] = {}
        self._since_full: dict[str, int] = {}

    def forget(self, migration_id: str | None = None) -> None:
        """The next list of that migration (of every one, with None) is emitted whole."""
        if migration_id is None:
            self._last.clear()
            self._items.clear()
            self._since_full.clear()
        else:
            self._last.pop(migration_id, None)
            self._items.pop(migration_id, None)
            self._since_full.pop(migration_id, None)

    def event(self, migration_id: str, items: list[Any]) -> tuple[str, dict[str, Any]] | None:
        """(kind, data) to emit for this list, or None when nothing changed since the last one.

        ``items`` is kept (not copied) until the next list: a new list each time, whose unchanged
        items may be the last list's objects (``participant_dicts`` gives them so), never changed."""
        previous = self._last.get(migration_id)
        count = self._since_full.get(migration_id, 0) + 1
        diff = None
        if previous is not None and count < self.full_every:
            diff = _in_place(previous, self._items[migration_id], items)
            if diff is None:
                diff = diff_participants(previous, items, self.limit)
        if diff is None:
            clean = diff_participants({}, items, self.limit)
            if clean is None:  # not expressible as deltas: the next list is emitted whole too
                self.forget(migration_id)
            else:
                self._last[migration_id] = clean[0]
                self._items[migration_id] = items
                self._since_full[migration_id] = 0
            return "participants", {"migration_id": migration_id, "participants": items}
        self._last[migration_id] = diff[0]
        self._items[migration_id] = items
        self._since_full[migration_id] = count
        if not diff[1] and not diff[2]:
            return None
        return "participants_delta", {"migration_id": migration_id, "changed": diff[1], "removed": diff[2]}
