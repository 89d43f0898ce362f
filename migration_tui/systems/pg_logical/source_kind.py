"""How pg-logical is configured: ``[[controllers]] kind = "pg-logical"`` blocks and the ``--pg-*`` flags.

A block's keys: ``publisher`` and ``subscriber`` (libpq DSNs: ``key=value`` or
``postgresql://``; a password in them is masked wherever shown, or better left
to ``PGPASSWORD``/``~/.pgpass``) and ``subscription`` (one subscription's name;
without it, every subscription of the subscriber's database); ``actions``
(optional: the DSN pause and resume connect with, a role allowed to ALTER the
subscription; default: the subscriber DSN, on a connection of its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from migration_tui.systems.base import SourceKind
from migration_tui.systems.pg_logical import NAME as KIND

SOURCE = SourceKind(
    kind=KIND,
    keys=("publisher", "subscriber", "subscription", "actions"),
    required=("publisher", "subscriber"),
    flags=(
        ("--pg-publisher", "publisher", "PostgreSQL publisher DSN of a logical-replication migration"),
        ("--pg-subscriber", "subscriber", "PostgreSQL subscriber DSN (with --pg-publisher)"),
        ("--subscription", "subscription", "with --pg-subscriber: this subscription only (default: every one)"),
    ),
    build="migration_tui.systems.pg_logical.source_kind:build",
    secrets="migration_tui.systems.pg_logical.source_kind:secrets",
    shown="migration_tui.systems.pg_logical.source_kind:shown",
    check="migration_tui.systems.pg_logical.source_kind:check",
    actions="migration_tui.systems.pg_logical.actions:build",
)


def secrets(options: Mapping[str, str]) -> tuple[str, ...]:
    from migration_tui.systems.pg_logical.source import password_of

    found = (password_of(options.get(key, "")) for key in ("publisher", "subscriber", "actions"))
    return tuple(p for p in found if p)


def shown(options: Mapping[str, str]) -> str:
    from migration_tui.safe_text import clean
    from migration_tui.systems.pg_logical.source import masked

    words = [f"publisher {masked(options.get('publisher', ''))}", f"subscriber {masked(options.get('subscriber', ''))}"]
    if options.get("actions"):
        words.append(f"actions {masked(options['actions'])}")
    if options.get("subscription"):
        words.append(f"subscription {options['subscription']}")
    return clean(", ".join(words), 300)


def build(spec: Any, settings: Any) -> Any:
    from migration_tui.systems.pg_logical.source import PgLogicalSource

    options = dict(spec.options)
    return PgLogicalSource(
        options["publisher"],
        options["subscriber"],
        options.get("subscription") or spec.migration,
        controller_name=spec.name,
        poll_interval_s=settings.poll_interval_s,
        timeout_s=settings.timeout_s,
    )


def check(spec: Any, settings: Any) -> tuple[bool, list[str]]:
    """One poll of both servers: a line each, and one per subscription found."""
    source = build(spec, settings)

    async def probe() -> tuple[bool, list[str]]:
        events: list[Any] = []
        try:
            await source.poll_once(events.append)
        finally:
            await source.close()
        errors = [e.data["error"] for e in events if e.kind == "source_error"]
        subs = [e.data for e in events if e.kind == "migration"]
        lines = [f"subscriber {source.subscriber}", f"publisher  {source.publisher}"]
        lines += [f"subscription {m['id']}: {m['phase']}" for m in subs]
        if errors:
            lines.append(f"failing ({errors[-1]})")
        elif not subs:
            lines.append("no subscription found")
        return not errors and bool(subs), lines

    return asyncio.run(probe())
