"""Events: the one shape in which data travels from sources to the store.

Every source (controller, Prometheus, Redis, host, simulator, replay) emits
``Event(ts, source, kind, data)``. The recorder writes them as they are, and
the replay reader gives them back as they were, so a replay shows exactly
what the operator saw.

Kinds and their ``data`` (all keys optional unless marked *):

``migration``     a Migration as a dict: *id, system, pair, status, phase,
                  progress, started_at, health, health_score, details, config
``migration_gone``  *id: the controller no longer lists it
``participants``  *migration_id, *participants: [{id, type, vote, healthy,
                  last_heartbeat}] (the whole list; replaces the previous one)
``participants_delta``  *migration_id, *changed: [items as in ``participants``],
                  *removed: [ids]: only what changed since the last list
                  (recording format 2; see ``sources/deltas.py``)
``heartbeat``     *migration_id, *participant_id, *at (epoch s): one heartbeat
``breakers``      *breakers: [{name, state|open, reason, opens_10m}], migration_id
``metrics``       *values: {series name: number or null}; null is a gap
``host``          cpu_percent, memory_percent, disk_percent, net_sent_bps,
                  net_recv_bps, load1 (``scope``: "host" or "fleet")
``source_ok``     the source answered; nothing else changed. not_served: [paths]
                  of optional endpoints the controller does not serve (absent:
                  none; every recording before it has none)
``source_error``  *error: a short message for the operator
``log``           *message, level ("info" | "warning" | "error"), migration_id
``action``        an operator decision: *action, *migration_id, *stage
                  (opened | cancelled | confirmed | sent | answered), result,
                  requested_by (user@host), reason (the token redacted)

Series names are plain strings: ``latency_p95_ms``, ``error_rate_pct``,
``throughput_ops``; per pair or per migration they are prefixed with the
scope and a slash: ``BTCUSDT/latency_p95_ms``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

KINDS: frozenset[str] = frozenset(
    {
        "migration",
        "migration_gone",
        "participants",
        "participants_delta",
        "heartbeat",
        "breakers",
        "metrics",
        "host",
        "source_ok",
        "source_error",
        "log",
        "action",
    }
)

SOURCES: tuple[str, ...] = ("controller", "prometheus", "redis", "host", "replay")


class Event(NamedTuple):
    """One thing that happened, stamped with when (epoch seconds) and who said it."""

    ts: float
    source: str
    kind: str
    data: dict[str, Any]

    def to_json_obj(self) -> dict[str, Any]:
        return {"ts": self.ts, "source": self.source, "kind": self.kind, "data": self.data}
