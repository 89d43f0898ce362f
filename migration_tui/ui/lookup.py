"""Finding a migration's figures in the store: its series, its details, its thresholds.

Series are looked up the way the rules look them up (``<NAME:pair>/<name>``
for a named controller's migration, ``<pair>/<name>``, then ``<id>/<name>``, then ``<name>``) so a sparkline and the alert about it
always read the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from migration_tui import systems
from migration_tui.model import CircuitBreaker, Migration, finite
from migration_tui.rules import Rule, default_rules
from migration_tui.series import Series
from migration_tui.store import Store


def series_for(store: Store, migration: Migration | None, name: str) -> Series | None:
    key = series_key(store, migration, name)
    return None if key is None else store.series[key]


def series_key(store: Store, migration: Migration | None, name: str) -> str | None:
    """The key under which the store holds this migration's series ``name`` (None: it holds none)."""
    if migration is not None:
        for key in (
            # A named controller files its pair series as ``NAME:PAIR/name``; Prometheus' are not scoped.
            f"{migration.scoped(migration.pair)}/{name}" if migration.pair and migration.controller else None,
            f"{migration.pair}/{name}" if migration.pair else None,
            f"{migration.id}/{name}",
        ):
            if key and key in store.series:
                return key
    return name if name in store.series else None


def breaker_for(store: Store, migration: Migration, pair: str | None = None) -> CircuitBreaker | None:
    """The breaker of ``pair`` (the migration's own by default) as its controller files it
    (``NAME:PAIR`` for a named controller), else by the plain pair."""
    pair = migration.pair if pair is None else pair
    if not pair:
        return None
    if migration.controller:
        scoped = store.breakers.get(migration.scoped(pair))
        if scoped is not None:
            return scoped
    return store.breakers.get(pair)


def latest(store: Store, migration: Migration | None, name: str) -> float | None:
    series = series_for(store, migration, name)
    return None if series is None else series.latest()


def detail_number(details: Mapping[str, Any], *keys: str) -> tuple[float | None, bool]:
    """(value, is_invalid) of the first key present; the model already set bad numbers to None."""
    for key in keys:
        if key in details:
            value = details[key]
            number = finite(value)
            return number, number is None and value is None
    return None, False


def detail_text(details: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = details.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def detail_bool(details: Mapping[str, Any], *keys: str) -> bool | None:
    for key in keys:
        value = details.get(key)
        if isinstance(value, bool):
            return value
    return None


def is_invalid(migration: Migration, *keys: str) -> bool:
    return any(k in migration.invalid or f"details.{k}" in migration.invalid for k in keys)


@cache
def _threshold_index(rules: tuple[Rule, ...]) -> dict[tuple[str, str], Rule]:
    index: dict[tuple[str, str], Rule] = {}
    for rule in rules:
        if rule.kind != "series":
            continue
        for system in rule.systems or ("*",):
            index.setdefault((system, rule.series), rule)
    return index


@cache
def _builtin_index(generation: int) -> dict[tuple[str, str], Rule]:
    """The built-in rules' index, for one state of the systems registry (a system registered later brings its own)."""
    return _threshold_index(default_rules())


def threshold_rule(system: str, series_name: str, rules: tuple[Rule, ...] | None = None) -> Rule | None:
    """The rule in force on this series for this system, if there is one: the first of ``rules``
    (the rules file's, as ``View.rules`` holds them), or of the built-in ones when None."""
    index = _threshold_index(rules) if rules is not None else _builtin_index(systems.generation())
    return index.get((system, series_name)) or index.get(("*", series_name))
