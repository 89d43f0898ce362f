"""What every controller profile provides, and the list handling they share.

A profile knows one system's endpoints and how to read them; it does no IO.
The source asks it which paths to GET (``list_path``, then ``paths``), GETs
them, and hands the bodies back to ``normalise``, a pure function, so a
profile can be tested with any JSON-ish value and no server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import is_not
from typing import Any

from migration_tui.model import TERMINAL_STATUSES, text
from migration_tui.sources.profiles._common import (
    MAX_EPOCH,
    MAX_ITEMS,
    MAX_PARTICIPANT_ITEMS,
    Reading,
    boolean,
    epoch_field,
    label,
)

#: Answers that mean "this server has no such endpoint" (not "it failed"), for an optional endpoint.
NOT_SERVED_STATUSES = frozenset({404, 405, 501})


@dataclass(frozen=True)
class Endpoint:
    """One endpoint a profile reads: required (the source is failing without it) or optional.

    ``key`` is the key ``paths`` files its answer under; per-migration keys are
    ``<key>:<migration id>`` and their ``path`` holds ``{id}``. An optional endpoint
    that answers 404, 405 or 501 is *not served*: that part of the screen says so and
    the source stays fresh. ``what`` names what the screen lacks without it.
    """

    key: str
    path: str
    optional: bool = False
    what: str = ""


class Profile:
    """Base for one system's controller API. Subclasses set the names and override the three steps."""

    #: The profile name (``--profile``, ``/health`` ``service``).
    name: str = ""
    #: The system a migration belongs to when the server does not say.
    default_system: str = ""
    #: The endpoint that lists this system's migrations; also used to detect the profile.
    list_path: str = ""
    #: Whether ``list_path`` answers one migration (an object) rather than a list.
    single: bool = False
    #: Every endpoint besides ``list_path`` that ``paths`` may ask for, required or optional.
    endpoints: tuple[Endpoint, ...] = ()

    def action_route(self, action: str) -> tuple[str, str] | None:
        """How this controller takes ``action``: (method, path with ``{id}``); None when it is not offered.

        A built-in profile takes every action at its system's ``action_path`` (``ProfileEntry``).
        """
        from migration_tui import systems

        entry = systems.profile_entries().get(self.name)
        if entry is None:
            return None
        return "POST", entry.action_path.replace("{action}", action)

    def action_unavailable(self, action: str) -> str:
        """Why ``action`` cannot be sent through this profile ("" when it can)."""
        return "" if self.action_route(action) is not None else f"not offered by profile {self.name}"

    def endpoint(self, key: str) -> Endpoint:
        """The declaration behind a ``paths`` key (``health:m1`` -> the ``health`` endpoint)."""
        kind = key.split(":", 1)[0]
        for endpoint in self.endpoints:
            if endpoint.key == kind:
                return endpoint
        return Endpoint(kind, key)  # undeclared: required, the safe default

    def not_served(self, key: str, status: int | None) -> Endpoint | None:
        """The optional endpoint behind ``key`` if ``status`` says the server does not serve it."""
        endpoint = self.endpoint(key)
        return endpoint if endpoint.optional and status in NOT_SERVED_STATUSES else None

    def discover(self, body: Any) -> tuple[list[Mapping[str, Any]], list[str]]:
        """The migrations ``list_path`` answered (each a mapping with a string ``id``), and any errors."""
        if self.single:
            if not isinstance(body, Mapping):
                return [], [f"{self.list_path}: expected an object, got {kind_of(body)}"]
            item = dict(body)
            item["id"] = text(body.get("id"), self.default_system) or self.default_system
            return [item], []
        return unique_items(body, self.list_path)

    def wants_detail(self, item: Mapping[str, Any]) -> bool:
        """Whether the per-migration endpoints are worth a request this poll (not once it has ended)."""
        return item.get("status") not in TERMINAL_STATUSES

    def paths(self, detail_items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """Every other endpoint to GET this poll (``detail_items``: the migrations worth a closer look), by key."""
        return {}

    def normalise(
        self, items: Sequence[Mapping[str, Any]], bodies: Mapping[str, Any], now: float
    ) -> Reading:  # pragma: no cover - abstract
        raise NotImplementedError


class SingleMigrationProfile(Profile):
    """A controller that watches one migration: its status document, and details that are series."""

    single = True
    #: Series fed from a detail of the migration (detail key -> series name); an invalid detail is a gap.
    series_of_detail: Mapping[str, str] = {}

    def migration(
        self, item: Mapping[str, Any], bodies: Mapping[str, Any], now: float, errors: list[str]
    ) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def also(self, reading: Reading, migration: Mapping[str, Any]) -> None:
        """Anything more this system's reading carries (a counter, a series of its own)."""

    def normalise(self, items: Sequence[Mapping[str, Any]], bodies: Mapping[str, Any], now: float) -> Reading:
        reading = Reading()
        for item in items[:1]:
            migration = self.migration(item, bodies, now, reading.errors)
            reading.migrations.append(migration)
            for key, series in self.series_of_detail.items():
                reading.series_from_detail(series, migration, key)
            self.also(reading, migration)
        return reading


def kind_of(value: Any) -> str:
    """A JSON type name for an error message (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def unique_items(
    body: Any, where: str, key: str = "id", limit: int = MAX_ITEMS
) -> tuple[list[Mapping[str, Any]], list[str]]:
    """Objects of a JSON list (the first ``limit``), keyed by a string ``key``; a duplicate key is
    reported and the last one wins."""
    if not isinstance(body, list):
        return [], [f"{where}: expected a list, got {kind_of(body)}"]
    errors: list[str] = []
    by_key: dict[str, Mapping[str, Any]] = {}
    dropped = 0
    duplicates: list[str] = []
    for item in body[:limit]:
        if not isinstance(item, Mapping):
            dropped += 1
            continue
        item_key = text(item.get(key))
        if not item_key:
            dropped += 1
            continue
        if item_key in by_key:
            duplicates.append(item_key)
            del by_key[item_key]  # the last one wins, in the place it was last listed
        by_key[item_key] = {**item, key: item_key}
    errors += list_errors(where, key, dropped, duplicates, len(body), limit)
    return list(by_key.values()), errors


def list_errors(where: str, key: str, dropped: int, duplicates: list[str], total: int, limit: int) -> list[str]:
    """What a list answer got wrong, one line each: items without a usable ``key``, duplicate keys
    (the last one is used), more items than ``limit``."""
    errors: list[str] = []
    if dropped:
        errors.append(f"{where}: {dropped} item(s) without a usable {key} ignored")
    if duplicates:
        shown = ", ".join(repr(d[:40]) for d in duplicates[:3])
        errors.append(f"{where}: duplicate {key} {shown} (the last one is used)")
    if total > limit:
        errors.append(f"{where}: {total} items, only the first {limit} read")
    return errors


def participant_dicts(body: Any, where: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Participants as event dicts ``{id, type, vote, healthy, last_heartbeat, invalid}``, their
    ``invalid`` a tuple: holding only strings, numbers, booleans, None and that tuple, the dicts
    are not tracked by the garbage collector (10,000 participants would double its work).

    A controller lists every participant on every poll and few change in between, so the
    dict made for an item is remembered (per ``where``, for the ids of the last list) with
    the item; an item that reads the same (``_again``) gets the same dict again (one object:
    treat it as read-only), and one whose heartbeat alone moved a copy with the new heartbeat,
    not a second judging. The list as a whole (not a list, items that are not objects or have
    no usable id, duplicates, more than ``MAX_PARTICIPANT_ITEMS``) is judged as
    ``unique_items`` judges it.

    When the last list of ``where`` had no such fault and this one is as long, the items that
    are the very objects of the last list (``sources/lists.py`` hands unchanged items back so)
    are passed over in C and only the others are looked at; one whose id is not the id at the
    same place in the last list sends the whole list the long way.
    """
    if not isinstance(body, list):
        return [], unique_items(body, where, limit=MAX_PARTICIPANT_ITEMS)[1]
    memo = _PARTICIPANT_MEMO.pop(where, None)
    if memo is not None and memo.items is not None and len(memo.items) == len(body):
        result = _same_ids(memo, body)
        if result is not None:
            _PARTICIPANT_MEMO[where] = memo
            return result[:], []
    seen: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    known = memo.seen if memo is not None else {}
    by_key: dict[str, dict[str, Any]] = {}
    dropped = 0
    duplicates: list[str] = []
    for item in body[:MAX_PARTICIPANT_ITEMS]:
        raw_id = item.get("id") if type(item) is dict else None
        hit = known.get(raw_id) if type(raw_id) is str else None  # type: ignore[arg-type]
        again = None if hit is None else hit[1] if hit[0] is item else _again(item, *hit)
        if again is not None:
            participant = again
            seen[raw_id] = (item, again)  # type: ignore[index]
        else:
            if not isinstance(item, Mapping):
                dropped += 1
                continue
            key = text(item.get("id"))
            if not key:
                dropped += 1
                continue
            participant = _participant_dict({**item, "id": key})
            if type(raw_id) is str and _flat(item):
                seen[raw_id] = (item, participant)  # type: ignore[index]
        key = participant["id"]
        if key in by_key:
            duplicates.append(key)
            del by_key[key]  # the last one wins, in the place it was last listed
        by_key[key] = participant
    participants = list(by_key.values())
    errors = list_errors(where, "id", dropped, duplicates, len(body), MAX_PARTICIPANT_ITEMS)
    # Without a fault, the participants are the items, one for one, in order: next time, by identity.
    _PARTICIPANT_MEMO[where] = _Memo(seen, None if errors else body[:], None if errors else participants[:])
    while len(_PARTICIPANT_MEMO) > _PARTICIPANT_MEMO_KEPT:
        del _PARTICIPANT_MEMO[next(iter(_PARTICIPANT_MEMO))]
    return participants, errors


def _same_ids(memo: _Memo, body: list[Any]) -> list[dict[str, Any]] | None:
    """The participants of ``body`` from the last list's (same length, no fault), judging only the
    items that are not the last list's objects; None when one of them has another id than the
    item at its place had (then the long way), or when most of them are new."""
    items, result = memo.items, memo.participants
    assert items is not None and result is not None
    moved = list(compress(range(len(body)), map(is_not, items, body)))
    if len(moved) > len(body) // 2:
        return None
    known = memo.seen
    result = result[:]
    for index in moved:
        item, raw_id = body[index], items[index].get("id")
        if type(item) is not dict or item.get("id") != raw_id or type(item.get("id")) is not str:
            return None
    for index in moved:
        item = body[index]
        raw_id = item["id"]
        hit = known.get(raw_id)
        participant = None if hit is None else _again(item, *hit)
        if participant is None:
            participant = _participant_dict({**item, "id": text(raw_id)})
            if not _flat(item):
                known.pop(raw_id, None)
                result[index] = participant
                continue
        known[raw_id] = (item, participant)
        result[index] = participant
    memo.items, memo.participants = body[:], result
    return result


def _participant_dict(item: Mapping[str, Any]) -> dict[str, Any]:
    invalid: list[str] = []
    healthy_key = "is_healthy" if "is_healthy" in item else "healthy"
    return {
        "id": item["id"],
        "type": label(item.get("type")),
        "vote": label(item.get("vote"), "pending") or "pending",
        "healthy": boolean(item, healthy_key, invalid, "healthy"),
        "last_heartbeat": epoch_field(item, "last_heartbeat", invalid),
        "invalid": tuple(invalid),
    }


@dataclass
class _Memo:
    """``participant_dicts``' memory of one ``where``."""

    #: raw id -> (the item, its dict), for the ids of the last list whose items are ``_flat``.
    seen: dict[str, tuple[dict[str, Any], dict[str, Any]]]
    #: The last list's items and their participants, one for one (None when it had a fault).
    items: list[Any] | None
    participants: list[dict[str, Any]] | None


#: ``participant_dicts``' memory, per ``where``; newest last.
_PARTICIPANT_MEMO: dict[str, _Memo] = {}
_PARTICIPANT_MEMO_KEPT = 64
#: What ``_participant_dict`` reads but the heartbeat.
_JUDGED = ("id", "type", "vote", "is_healthy", "healthy")
_FLAT = frozenset((str, bool, type(None)))


def _flat(item: dict[str, Any]) -> bool:
    """Whether every field ``_participant_dict`` reads but the heartbeat is a string, a boolean
    or missing (null): values that are equal only when they are the same JSON (``1 == 1.0 ==
    True`` and ``-0.0 == 0.0`` in Python, but ``_participant_dict`` tells them apart)."""
    return _FLAT.issuperset(map(type, map(item.get, _JUDGED)))  # in C, no generator


def _again(item: dict[str, Any], seen: dict[str, Any], participant: dict[str, Any]) -> dict[str, Any] | None:
    """``_participant_dict(item)`` without judging it, from ``participant``, made for the ``_flat``
    item ``seen``: when ``item`` reads the same but for a heartbeat that is a valid number (the usual
    poll), or for fields it does not read; None when it must be judged.

    The same heartbeat gives ``participant`` itself, so later steps find it unchanged by identity."""
    judged = tuple(map(item.get, _JUDGED))
    if (
        judged != tuple(map(seen.get, _JUDGED))
        or not _FLAT.issuperset(map(type, judged))  # as ``seen``'s (only such are remembered): the same JSON
        or ("is_healthy" in item) != ("is_healthy" in seen)
        or "last_heartbeat" in participant["invalid"]
    ):
        return None
    heartbeat = item.get("last_heartbeat")
    kind = type(heartbeat)
    if (kind is not float and kind is not int) or not 0.0 <= heartbeat <= MAX_EPOCH:  # NaN too
        return None  # missing, null, a string, out of range: judged
    heartbeat = float(heartbeat)  # as ``epoch`` gives it
    held = participant["last_heartbeat"]
    if heartbeat == held and heartbeat != 0.0:  # (0.0 == -0.0)
        return participant
    return {**participant, "last_heartbeat": heartbeat}
