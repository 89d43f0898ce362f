"""A recording that exercises every event kind, for comparing the reduction before and after a change.

``corpus_lines()`` is deterministic: about 6,000 lines over ten minutes of recording time from
three controllers (one unnamed, ``east`` and ``west``), Prometheus, Redis and the host, with
participants as whole lists and as deltas, heartbeats (late, early, invalid, for strangers),
breakers opening and closing, metrics with true numbers, gaps, ints, booleans, strings and
out-of-range values, host and fleet samples, sources failing and recovering, log lines and
operator actions; hostile text (``tests/hostile/payloads.py``) in every string field; and lines a
reader must skip: garbage, non-UTF-8 bytes, blank lines, JSON that is not an object, wrong field
types, unknown kinds, data of the wrong shape, events stamped before their predecessor, and a
truncated last line.

``tests/data/replay_corpus_golden.json`` holds the headless state at ``INSTANTS`` as the
reduction gave it at 1da15a4 (before the second performance round); ``test_replay_corpus.py``
checks every later reduction against it. Regenerate only for an intended change of results:
``python -m tests.replay_corpus tests/data/replay_corpus_golden.json``.
"""

from __future__ import annotations

import gzip
import itertools
import json
import random
import sys
from pathlib import Path
from typing import Any

import orjson

from tests.hostile.payloads import PAYLOADS

START = 1_700_000_000.0
#: Offsets (s from the start) at which the state is compared; past the end means the end.
INSTANTS = (0.0, 0.05, 1.0, 7.5, 61.25, 150.0, 299.99, 300.0, 451.7, 599.0, 10_000.0)

_HOSTILE = [value[:300] for value in PAYLOADS.values()]
_NUMBERS: list[Any] = [
    1.5,
    0,
    7,
    -3.25,
    None,
    True,
    False,
    "42",
    "NaN",
    1e16,
    -1e16,
    1e15,
    2**63,
    -0.0,
    [1],
    {"v": 1},
    99.999,
    100.0,
    100.5,
]


def _event(ts: float | int, source: str, kind: str, data: Any) -> bytes:
    return orjson.dumps({"ts": ts, "source": source, "kind": kind, "data": data})


def corpus_lines(seed: int = 11) -> list[bytes]:
    rng = random.Random(seed)
    lines = [
        orjson.dumps({"format": "migration-tui/recording", "version": 2, "started_at": START, "scenario": "corpus"})
    ]
    controllers = [None, "east", "west"]
    members: dict[str, dict[str, dict[str, Any]]] = {}
    hostile = itertools.cycle(_HOSTILE)

    def cid(controller: str | None, name: str) -> str:
        return f"{controller}:{name}" if controller else name

    def csource(controller: str | None) -> str:
        return f"controller:{controller}" if controller else "controller"

    for second in range(600):
        ts = START + second
        for n, controller in enumerate(controllers):
            mid = cid(controller, "m1" if n != 2 else "batch-7")
            system = ("2pc", "orderbook-rollout", "batch")[n]
            progress: Any = round(second / 6, 3)
            if second % 53 == 7:
                progress = rng.choice(_NUMBERS)
            status = "in_progress" if second < 500 else rng.choice(["completed", "rolling_back", "failed", "paused"])
            phase = ("preparing", "prepared", "committing", "committed", "aborting", "rolled_back")[second // 100]
            data: dict[str, Any] = {
                "id": mid,
                "system": system,
                "pair": ("BTCUSDT", "ETHUSDT", "")[n],
                "status": status,
                "phase": phase,
                "progress": progress,
                "started_at": START if second % 71 else rng.choice(_NUMBERS),
                "health": rng.choice(["HEALTHY", "DEGRADED", "UNHEALTHY", next(hostile)]),
                "health_score": rng.choice([100, 95.5, 40, -1, 101, None, "x"]),
                "details": {"docs_done": second * 10, "mode": next(hostile), "bad": rng.choice(_NUMBERS)},
                "config": {"max_lag": 30} if second % 2 else "not a mapping",
            }
            if controller:
                data["controller"] = controller
            if second % 97 == 13:
                data["invalid"] = ["progress", 7, "x" * 100]
            lines.append(_event(ts + 0.01 * n, csource(controller), "migration", data))
            # Participants: a whole list every 10 s, deltas between.
            group = members.setdefault(mid, {})
            if second % 10 == 0:
                for i in range(6):
                    key = f"p{i}" if i < 5 else next(hostile)
                    group.setdefault(key, {"id": key, "type": rng.choice(["engine", "marketdata"]), "vote": "pending"})
                for item in group.values():
                    item["vote"] = rng.choice(["yes", "no", "pending", "timeout", next(hostile), 3])
                    item["is_healthy"] = rng.choice([True, False, None, "yes"])
                    item["last_heartbeat"] = rng.choice([ts - 1.5, ts - 30, -5, "x", None, 1e12])
                items: list[Any] = [dict(item) for item in group.values()]
                if second % 30 == 0:
                    items.append("not an object")
                    items.append({"id": 17, "vote": "yes"})
                    items.append(dict(items[0]))  # a duplicate id
                lines.append(
                    _event(ts + 0.1, csource(controller), "participants", {"migration_id": mid, "participants": items})
                )
            elif second % 3 == 0:
                changed = []
                removed: list[Any] = []
                for key in rng.sample(sorted(group), min(2, len(group))):
                    group[key]["vote"] = rng.choice(["yes", "no"])
                    group[key]["last_heartbeat"] = ts - rng.random()
                    changed.append(dict(group[key]))
                if second % 27 == 0 and group:
                    gone = rng.choice(sorted(group))
                    group.pop(gone)
                    removed.append(gone)
                if second % 33 == 0:
                    changed.append({"id": f"new{second}", "type": "engine", "vote": "pending"})
                delta: dict[str, Any] = {"migration_id": mid, "changed": changed, "removed": removed}
                if second % 87 == 0:
                    delta = {"migration_id": mid, "changed": [{"id": 5}], "removed": []}  # refused whole
                elif second % 89 == 0:
                    delta = {"migration_id": mid, "changed": changed, "removed": [None]}
                elif second % 83 == 0:
                    delta = {"migration_id": mid, "changed": "nope", "removed": []}
                lines.append(_event(ts + 0.1, csource(controller), "participants_delta", delta))
            lines.append(_event(ts + 0.2, csource(controller), "source_ok", {}))
        # Heartbeats from Redis between polls.
        for k in range(3):
            mid = cid(rng.choice(controllers), "m1")
            who = rng.choice(["p0", "p1", "p2", "p3", "p4", "stranger", next(hostile)])
            at: Any = ts + 0.3 + 0.1 * k
            roll = rng.random()
            if roll < 0.05:
                at = rng.choice(["x", -1, True, None, 1e12, [1]])
            elif roll < 0.1:
                at = ts - 100  # older than the one held: ignored
            beat: dict[str, Any] = {"migration_id": mid, "participant_id": who, "at": at}
            if roll > 0.98:
                beat = {"migration_id": mid, "at": ts}  # no participant: refused
            lines.append(_event(ts + 0.3 + 0.1 * k, "redis", "heartbeat", beat))
        # Metrics from Prometheus, twice a second.
        for half in (0.25, 0.75):
            values: dict[str, Any] = {}
            for controller in controllers:
                for pair in ("BTCUSDT", "ETHUSDT"):
                    values[cid(controller, f"{pair}/latency_p95_ms")] = round(rng.uniform(5, 80), 3)
                    values[cid(controller, f"{pair}/error_rate_pct")] = round(rng.uniform(0, 2), 4)
            values["throughput_ops"] = rng.randint(800, 1200)
            values["odd"] = rng.choice(_NUMBERS)
            if second % 19 == 0:
                values[next(hostile)] = 1.0
            lines.append(_event(ts + half, "prometheus", "metrics", {"values": values}))
        if second % 41 == 0:
            lines.append(_event(ts + 0.8, "prometheus", "metrics", {"values": [1, 2]}))
        # Breakers every 5 s.
        if second % 5 == 0:
            breakers: list[Any] = []
            for controller in controllers:
                for pair in ("BTCUSDT", "ETHUSDT"):
                    item: dict[str, Any] = {
                        "pair": cid(controller, pair),
                        "reason": rng.choice(["latency", next(hostile)]),
                    }
                    if rng.random() < 0.5:
                        item["open"] = rng.random() < 0.3
                    else:
                        item["state"] = rng.choice(["open", "closed", "half_open", "half-open", "weird", 5])
                    item["opens_10m"] = rng.choice([0, 3, -1, "x", 1e10, None])
                    breakers.append(item)
            if second % 45 == 0:
                breakers.append("not an object")
            lines.append(_event(ts + 0.4, csource(rng.choice(controllers)), "breakers", {"breakers": breakers}))
        # Host and fleet.
        host = {
            "cpu_percent": rng.choice([rng.uniform(0, 100), 150, -1, None, "x"]),
            "memory_percent": rng.uniform(20, 90),
            "disk_percent": 50,
            "net_sent_bps": 1e6,
            "net_recv_bps": rng.choice([2e6, 1e20]),
            "load1": 0.5,
        }
        lines.append(_event(ts + 0.6, "host", "host", host))
        if second % 7 == 0:
            lines.append(_event(ts + 0.61, "prometheus", "host", {**host, "scope": rng.choice(["fleet", "moon", 3])}))
        # Sources failing and recovering.
        if 100 <= second % 150 < 106:
            lines.append(
                _event(ts + 0.65, "prometheus", "source_error", {"error": rng.choice(["timeout", next(hostile)])})
            )
        if second % 60 == 30:
            lines.append(_event(ts + 0.66, "controller:east", "source_error", {}))
        if second % 25 == 0:
            not_served = ["/admin/migration/status", 3, next(hostile)]
            lines.append(_event(ts + 0.2, "controller:west", "source_ok", {"not_served": not_served}))
        # Log lines and operator actions.
        if second % 11 == 0:
            level = rng.choice(["info", "warning", "error", "debug", 4])
            lines.append(_event(ts + 0.7, "redis", "log", {"message": next(hostile), "level": level}))
        if second % 43 == 0:
            lines.append(_event(ts + 0.7, "redis", "log", {"level": "info"}))  # no message: refused
        if second % 29 == 0:
            stage = rng.choice(["opened", "cancelled", "confirmed", "sent", "answered"])
            action = {"action": "pause", "migration_id": cid(rng.choice(controllers), "m1"), "stage": stage}
            if stage == "answered":
                action["result"] = next(hostile)
            lines.append(_event(ts + 0.75, "operator", "action", action))
        if second == 333:
            lines.append(_event(ts + 0.8, "controller:west", "migration_gone", {"id": "west:batch-7"}))
            lines.append(_event(ts + 0.8, "controller:west", "migration_gone", {"id": "never-seen"}))
        # Lines a reader skips, and events out of order.
        if second % 17 == 0:
            lines.append(
                rng.choice(
                    [
                        b"garbage",
                        b"",
                        b"   ",
                        b"\xff\xfe not utf-8",
                        b"[1, 2, 3]",
                        b'"a string"',
                        b"{}",
                        _event("1700000000", "redis", "log", {"message": "ts is a string"}),
                        _event(-1, "redis", "log", {"message": "ts before 1970"}),
                        _event(1e12, "redis", "log", {"message": "ts too far"}),
                        _event(ts, 5, "log", {"message": "source not a string"}),
                        _event(ts, "redis", "log", ["data", "not", "an", "object"]),
                        _event(ts, "redis", "telepathy", {"message": "unknown kind"}),
                        orjson.dumps({"ts": True, "source": "redis", "kind": "log", "data": {"message": "bool ts"}}),
                    ]
                )
            )
        if second % 23 == 0:
            # Stamped before its predecessor: applied at the predecessor's time.
            lines.append(_event(ts - 5, "prometheus", "metrics", {"values": {"throughput_ops": 5.0}}))
            lines.append(_event(int(ts + 0.9), "redis", "log", {"message": "an integer ts", "level": "warning"}))
    lines.append(_event(START + 601, "redis", "log", {"message": "cut short"})[:-7])
    return lines


def write_corpus(path: Path) -> Path:
    body = b"\n".join(corpus_lines())  # the last line has no newline: a truncated tail
    path.write_bytes(gzip.compress(body) if path.name.endswith(".gz") else body)
    return path


def golden(path: Path) -> dict[str, Any]:
    from migration_tui.headless import reduce_recording

    return {repr(at): json.loads(json.dumps(reduce_recording(str(path), at))) for at in INSTANTS}


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        states = golden(write_corpus(Path(tmp) / "corpus.jsonl"))
    Path(sys.argv[1]).write_text(json.dumps(states, indent=1, sort_keys=True, ensure_ascii=True) + "\n")
