"""Immutable domain objects for the migrations the dashboard watches.

No IO and no Textual here. Values that come from outside are validated by
the ``*_from_dict`` constructors: a number that is NaN, infinite or out of
range becomes ``None`` and its field name is listed in ``invalid``, so a
widget can say "invalid" instead of showing a plausible wrong number.
An unknown phase or status is kept as the string the server sent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import msgspec
import orjson

# --- the systems and their stages ------------------------------------------
# Each system's words and happy path are its own (``migration_tui/systems/``);
# ``SYSTEMS`` and ``STAGES`` read them from the registry.


class _FromRegistry(Mapping[str, Any]):
    """A read-only view of one attribute of every registered system, by system name."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __getitem__(self, name: str) -> Any:
        from migration_tui import systems

        system = systems.get(name)
        if system is None:
            raise KeyError(name)
        return getattr(system, self.attribute)

    def __iter__(self) -> Iterator[str]:
        from migration_tui import systems

        return iter([system.name for system in systems.all_systems()])

    def __len__(self) -> int:
        from migration_tui import systems

        return len(systems.all_systems())


#: The systems by the name used in events and the CLI, and what each is.
SYSTEMS: Mapping[str, str] = _FromRegistry("description")

#: The happy path of each system, in order; the timeline widget draws these.
STAGES: Mapping[str, tuple[str, ...]] = _FromRegistry("phases")


def default_system() -> str:
    """The system of a migration whose data does not say (the first registered one)."""
    from migration_tui import systems

    return systems.default().name


#: Phases off the happy path (seed 000's abort and rollback branch).
FAILURE_PHASES: tuple[str, ...] = (
    "aborting",
    "aborted",
    "rolling_back",
    "rolled_back",
    "rollback_failed",
    "failed",
)

#: Statuses after which nothing more happens.
#: Heartbeat ages (seconds) past which a participant is late, then lost (the screens and the report).
HEARTBEAT_LATE_S = 5.0
HEARTBEAT_LOST_S = 15.0

TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "aborted", "rolled_back", "rollback_failed"})

VOTES: frozenset[str] = frozenset({"pending", "yes", "no", "timeout"})

HEALTH_STATES: tuple[str, ...] = ("HEALTHY", "DEGRADED", "UNHEALTHY", "CRITICAL", "MAINTENANCE")

BREAKER_STATES: frozenset[str] = frozenset({"open", "closed", "half_open"})


# --- number validation -------------------------------------------------------

#: Largest magnitude accepted for any number from outside; past it is invalid.
MAX_ABS = 1e15


def finite(value: Any, lo: float = -MAX_ABS, hi: float = MAX_ABS) -> float | None:
    """The value as a float if it is a real, finite number within [lo, hi], else None.

    Booleans are not numbers here, and neither are numeric strings: a server
    that sends ``"42"`` for a progress has sent something we cannot trust.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number) or number < lo or number > hi:
        return None
    return number


def same_json(a: Any, b: Any) -> bool:
    """``a == b`` as JSON tells them apart: in Python 1 == 1.0 == True and -0.0 == 0.0, but a
    field of ``true`` and one of ``1`` are not the same answer (``Participant.from_dict`` marks
    ``"healthy": 1`` invalid; a ``type`` of 1 reads "1", of 1.0 "1.0"). A value orjson cannot
    write is never the same."""
    if a != b:
        return False
    try:
        return orjson.dumps(a) == orjson.dumps(b)
    except TypeError:  # orjson.JSONEncodeError too: a big integer, a deep value
        return False


def text(value: Any, default: str = "", limit: int = 256) -> str:
    """A string field from outside, or the default if it is not a string.

    Length is capped so that one field cannot fill memory or the screen;
    what the string contains is left alone (see ``safe_text`` for display).
    """
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)[:limit]
    return default


def _num(data: Mapping[str, Any], key: str, invalid: list[str], lo: float, hi: float) -> float | None:
    """Read a number field; note it as invalid if present but unusable."""
    if key not in data or data[key] is None:
        return None
    number = finite(data[key], lo, hi)
    if number is None:
        invalid.append(key)
    return number


def _system(value: Any) -> str:
    """A migration's system from its data (``text``, the first registered system when it does not say)."""
    fallback = default_system()
    return text(value, fallback) or fallback


def _declared_invalid(data: Mapping[str, Any], invalid: list[str]) -> None:
    """Add the field names a source already judged invalid (its ``invalid`` list)."""
    declared = data.get("invalid")
    if isinstance(declared, (list, tuple)):
        for name in declared[:64]:
            if isinstance(name, str) and name not in invalid:
                invalid.append(name[:64])


# --- domain objects ----------------------------------------------------------


class Participant(msgspec.Struct, frozen=True, gc=False):
    """One participant of a two-phase commit (or a worker of another system).

    A frozen msgspec Struct (not a dataclass): made in C, compared in C. The replay engine makes
    one for every heartbeat and every listed item that changed (docs/performance.md)."""

    id: str
    type: str = ""
    vote: str = "pending"
    healthy: bool | None = None
    last_heartbeat: float | None = None
    invalid: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Participant:
        # A controller lists every participant on every poll: the usual types are checked inline
        # (the same results as text(), finite() and _num() give them), the rest go through them.
        invalid: list[str] = []
        healthy = data.get("healthy", data.get("is_healthy"))
        if healthy is not None and healthy is not True and healthy is not False:
            invalid.append("healthy")
            healthy = None
        heartbeat = data.get("last_heartbeat")
        if heartbeat is not None and (type(heartbeat) is not float or not 0.0 <= heartbeat <= 1e11):
            heartbeat = _num(data, "last_heartbeat", invalid, 0.0, 1e11)
        if "invalid" in data:
            _declared_invalid(data, invalid)
        key, kind, vote = data.get("id"), data.get("type"), data.get("vote")
        return cls(
            key[:256] if type(key) is str else text(key, "?"),
            kind[:256] if type(kind) is str else text(kind),
            (vote[:256] or "pending") if type(vote) is str else text(vote, "pending") or "pending",
            healthy,
            heartbeat,
            tuple(invalid),
        )

    def heartbeat_age_s(self, now: float) -> float | None:
        if self.last_heartbeat is None:
            return None
        return max(0.0, now - self.last_heartbeat)

    def to_dict(self, now: float) -> dict[str, Any]:
        age = self.heartbeat_age_s(now)
        return {
            "id": self.id,
            "type": self.type,
            "vote": self.vote,
            "healthy": self.healthy,
            "heartbeat_age_s": None if age is None else round(age, 3),
        }


class CircuitBreaker(msgspec.Struct, frozen=True):
    """A circuit breaker, usually one per trading pair."""

    name: str
    state: str = "closed"
    reason: str = ""
    opens_10m: int | None = None

    @property
    def open(self) -> bool:
        return self.state == "open"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CircuitBreaker:
        state = data.get("state")
        if not isinstance(state, str):
            is_open = data.get("open")
            state = "open" if is_open is True else "closed" if is_open is False else "unknown"
        opens = finite(data.get("opens_10m"), 0, 1e9)
        return cls(
            name=text(data.get("name", data.get("pair")), "?"),
            state=text(state, "unknown"),
            reason=text(data.get("reason"), "", 512),
            opens_10m=None if opens is None else int(opens),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "open": self.open,
            "state": self.state,
            "reason": self.reason,
            "opens_10m": self.opens_10m,
        }


class Migration(msgspec.Struct, frozen=True):
    """The latest known state of one migration, as reported by its controller.

    A frozen msgspec Struct, as ``Participant``: a controller reports every migration on every
    poll, and a new progress is a copy made in C (``msgspec.structs.replace``)."""

    id: str
    system: str = msgspec.field(default_factory=default_system)
    pair: str = ""
    status: str = "unknown"
    phase: str = "unknown"
    progress: float | None = None
    started_at: float | None = None
    health: str = ""
    health_score: float | None = None
    #: Per-system figures (traffic split, documents done, write mode, ...), numbers validated.
    details: Mapping[str, Any] = msgspec.field(default_factory=dict)
    config: Mapping[str, Any] = msgspec.field(default_factory=dict)
    invalid: tuple[str, ...] = ()
    #: The named controller that runs it (``[[controllers]]``, ``--controller NAME=URL``); None
    #: for the one unnamed controller of a plain ``--controller URL`` (and every recording before).
    #: A named controller's migrations have ids ``NAME:ID`` (``scoped_id``) so the same id on
    #: two controllers is two migrations.
    controller: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Migration:
        invalid: list[str] = []
        progress = _num(data, "progress", invalid, 0.0, 100.0)
        started = _num(data, "started_at", invalid, 0.0, 1e11)
        score = _num(data, "health_score", invalid, 0.0, 100.0)
        details_in = data.get("details")
        details: dict[str, Any] = {}
        if isinstance(details_in, Mapping):
            for key, value in list(details_in.items())[:64]:
                if not isinstance(key, str):
                    continue
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    number = finite(value)
                    if number is None:
                        invalid.append(f"details.{key}")
                    details[key] = number
                elif isinstance(value, (str, bool)) or value is None:
                    details[key] = text(value, "", 512) if isinstance(value, str) else value
        config = data.get("config")
        _declared_invalid(data, invalid)
        return cls(
            id=text(data.get("id"), "?"),
            system=system[:256] if type(system := data.get("system")) is str and system else _system(system),
            pair=text(data.get("pair", data.get("scope"))),
            status=text(data.get("status"), "unknown") or "unknown",
            phase=text(data.get("phase"), "unknown") or "unknown",
            progress=progress,
            started_at=started,
            health=text(data.get("health")),
            health_score=score,
            details=details,
            config=config if isinstance(config, Mapping) else {},
            invalid=tuple(invalid),
            controller=text(data.get("controller"), "", 64) or None,
        )

    @property
    def remote_id(self) -> str:
        """The id as its controller knows it (what goes in an action's URL, what an operator types)."""
        prefix = f"{self.controller}:" if self.controller else ""
        return self.id[len(prefix) :] if prefix and self.id.startswith(prefix) else self.id

    @property
    def source_name(self) -> str:
        """The name of the source that reports this migration (its freshness is this migration's)."""
        return controller_source(self.controller)

    def scoped(self, name: str) -> str:
        """A pair's breaker or series scope as this migration's controller files it (``NAME:BTCUSDT``)."""
        return scoped_id(self.controller, name)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def stages(self) -> tuple[str, ...]:
        return STAGES.get(self.system, ())

    @property
    def phase_is_known(self) -> bool:
        return self.phase in self.stages or self.phase in FAILURE_PHASES

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "system": self.system,
            "pair": self.pair,
            "status": self.status,
            "phase": self.phase,
            "progress": self.progress,
            "started_at": self.started_at,
            "health": self.health,
            "health_score": self.health_score,
            "details": dict(self.details),
            "invalid": list(self.invalid),
            "controller": self.controller,
        }


#: The source name of the one unnamed controller; a named one is ``controller:NAME``.
CONTROLLER_SOURCE = "controller"


def controller_source(controller: str | None) -> str:
    """The source name of a controller: ``controller`` unnamed, ``controller:NAME`` named."""
    return f"{CONTROLLER_SOURCE}:{controller}" if controller else CONTROLLER_SOURCE


def is_controller_source(source: str) -> bool:
    return source == CONTROLLER_SOURCE or source.startswith(CONTROLLER_SOURCE + ":")


def controller_of_source(source: str) -> str | None:
    """The controller's name from its source name (None for the unnamed one or another source)."""
    return source[len(CONTROLLER_SOURCE) + 1 :] or None if source.startswith(CONTROLLER_SOURCE + ":") else None


def scoped_id(controller: str | None, name: str) -> str:
    """``NAME:name`` for a named controller's migration id, pair or breaker; ``name`` unnamed."""
    return f"{controller}:{name}" if controller else name


class HostResources(msgspec.Struct, frozen=True, gc=False):
    """Resource usage of one machine (this host, or the fleet from Prometheus). A frozen
    msgspec Struct, as ``Participant``."""

    cpu_percent: float | None = None
    memory_percent: float | None = None
    disk_percent: float | None = None
    net_sent_bps: float | None = None
    net_recv_bps: float | None = None
    load1: float | None = None
    invalid: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HostResources:
        invalid: list[str] = []
        return cls(
            cpu_percent=_num(data, "cpu_percent", invalid, 0.0, 100.0 * 4096),
            memory_percent=_num(data, "memory_percent", invalid, 0.0, 100.0),
            disk_percent=_num(data, "disk_percent", invalid, 0.0, 100.0),
            net_sent_bps=_num(data, "net_sent_bps", invalid, 0.0, 1e13),
            net_recv_bps=_num(data, "net_recv_bps", invalid, 0.0, 1e13),
            load1=_num(data, "load1", invalid, 0.0, 1e6),
            invalid=tuple(invalid),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpu_percent": self.cpu_percent,
            "memory_percent": self.memory_percent,
            "disk_percent": self.disk_percent,
            "net_sent_bps": self.net_sent_bps,
            "net_recv_bps": self.net_recv_bps,
            "load1": self.load1,
            "invalid": list(self.invalid),
        }


class Alert(msgspec.Struct, frozen=True):
    """A rule that is pending or firing, or a message a source raised."""

    rule: str
    severity: str
    since: float
    message: str
    state: str = "firing"  # "pending" or "firing"
    fires_at: float | None = None
    action: str = ""  # the action it recommends: "pause", "rollback", ...
    migration: str = ""  # the id of the migration it concerns ("" for a source's own message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "migration": self.migration,
            "rule": self.rule,
            "severity": self.severity,
            "since": self.since,
            "message": self.message,
            "state": self.state,
            "fires_at": self.fires_at,
            "action": self.action,
        }


class SourceHealth(msgspec.Struct, frozen=True):
    """How fresh one source's data is."""

    name: str
    last_success: float | None = None
    last_error_at: float | None = None
    error: str | None = None
    #: Optional endpoints the source's server does not serve (a controller's partial API):
    #: those parts are absent, and the source is fresh all the same.
    not_served: tuple[str, ...] = ()

    def ok(self) -> bool:
        if self.last_success is None:
            return False
        return self.last_error_at is None or self.last_success >= self.last_error_at

    def age_s(self, now: float) -> float | None:
        return None if self.last_success is None else max(0.0, now - self.last_success)

    def to_dict(self, now: float) -> dict[str, Any]:
        age = self.age_s(now)
        return {
            "ok": self.ok(),
            "age_s": None if age is None else round(age, 3),
            "error": None if self.ok() else self.error,
            "not_served": list(self.not_served),
        }


def participants_from(items: Iterable[Any]) -> tuple[Participant, ...]:
    """Participants from a list of dicts; non-dicts are dropped, duplicate ids keep the last."""
    by_id: dict[str, Participant] = {}
    for item in items:
        if isinstance(item, Mapping):
            participant = Participant.from_dict(item)
            by_id[participant.id] = participant
    return tuple(by_id.values())
