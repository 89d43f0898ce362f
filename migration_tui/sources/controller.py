"""The live controller source: polls one migration controller and emits events.

Each poll GETs the profile's list endpoint, then (concurrently) the other
endpoints the profile asks for, hands the bodies to the profile's pure
``normalise`` and emits what came out: ``migration``, ``participants`` or
``participants_delta``, ``breakers``, ``metrics``, ``migration_gone``, then
``source_ok`` or one ``source_error`` that sums up every problem of that poll. An error is always
stamped after the data of the same poll, so a poll that half failed leaves
the source marked as failing in the store.

Each profile declares its endpoints required or optional (``profiles/base.py``
``Endpoint``). An optional one that answers 404, 405 or 501 is *not served*: not
a problem of the poll, so the poll still ends in ``source_ok``, whose data names
the endpoints not served (``{"not_served": ["/admin/migration/status"]}``, left
out when there are none) for the screen to say so where that part would be. It
is logged once, and again only when it changes (served again, or failing). An
optional endpoint that fails in any other way, and any required one, is a
problem as before.

When the list endpoint cannot be read the source retries with capped,
jittered exponential backoff starting at one poll interval; the error is
emitted at once, so the screen knows within one interval.

Participants: the controller's API returns every participant on every poll,
and the source parses that whole list each time, but it emits only what
changed since the list it last emitted (``sources/deltas.py``): the whole list
the first time, after any poll that ended in a ``source_error``, and every
30th poll; a ``participants_delta`` otherwise, and nothing when nothing
changed. So the store, a recording and its replays handle only the changes.

The token goes into the Authorization header and nowhere else: every
emitted string is scrubbed of it and every error message is sanitised.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from migration_tui.events import Event
from migration_tui.model import controller_source, scoped_id
from migration_tui.sources.base import INSECURE_WARNING, Backoff, Clock, Emit, scrub
from migration_tui.sources.deltas import ParticipantsDiffer
from migration_tui.sources.http import (
    MAX_BODY_BYTES,
    MAX_CONNECTIONS,
    FetchError,
    Validators,
    fetch_bytes,
    fetch_json,
    fetch_text,
    make_client,
    sanitise,
)
from migration_tui.sources.lists import ListReader
from migration_tui.sources.profiles import (
    PROFILES,
    Profile,
    UnknownProfile,
    answers_like,
    detection_order,
    get_profile,
    profile_from_health,
)
from migration_tui.sources.profiles._common import Reading, rate
from migration_tui.store import MAX_PARTICIPANTS

if TYPE_CHECKING:
    from migration_tui.config import ControllerSpec, Settings

log = logging.getLogger(__name__)

#: Most problems spelled out in one source_error; the rest are counted.
MAX_PROBLEMS_SHOWN = 3
#: Most migrations whose detail endpoints are polled each interval: by one dashboard, over all
#: its controllers (``DetailBudget``), so that spreading an estate over more controllers does
#: not multiply its requests.
MAX_DETAILED = 50


class DetailBudget:
    """The ``MAX_DETAILED`` migrations a dashboard details each interval, shared by its controllers.

    Each controller says, each poll, how many of its migrations want details; it may detail
    its fair share of the budget (water-filling over what every controller last wanted: one
    that wants less than an equal share leaves the rest to the others). One controller alone
    gets the whole budget, as before; five with 100 running migrations each get 10 each,
    where they used to get 50 each (five times the requests of the same estate on one
    controller, which details 50 of its 500).
    """

    def __init__(self, total: int = MAX_DETAILED) -> None:
        self.total = total
        self._wanted: dict[str, int] = {}

    def share(self, who: str, wanted: int) -> int:
        """How many of ``who``'s ``wanted`` migrations it may detail this poll."""
        self._wanted[who] = wanted
        left = self.total
        demands = sorted(self._wanted.items(), key=lambda pair: pair[1])
        for index, (name, demand) in enumerate(demands):
            given = min(demand, left // (len(demands) - index))
            if name == who:
                return given
            left -= given
        return 0  # not reached: ``who`` is among the demands


class ControllerSource:
    """Polls a controller's HTTP API every ``poll_interval_s`` seconds (see module docstring)."""

    name = "controller"

    def __init__(
        self,
        base_url: str,
        profile: str | Profile | None = None,
        migration: str | None = None,
        token: str | None = None,
        poll_interval_s: float = 2.0,
        timeout_s: float = 5.0,
        verify_tls: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = time.time,
        backoff: Backoff | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        per_migration_series: bool = False,
        controller_name: str | None = None,
        detail_budget: DetailBudget | None = None,
    ) -> None:
        self.base_url = base_url
        #: A named controller (one of several): its source is ``controller:NAME`` and every migration
        #: id, breaker name and pair series it reports is ``NAME:...`` (``model.scoped_id``), so the
        #: same id on two controllers is two migrations. None: the one controller, ids as served.
        self.controller_name = controller_name
        self.name = controller_source(controller_name)
        per_migration_series = per_migration_series or controller_name is not None
        #: Several controllers feeding one store (the demo): a controller-wide series such as
        #: ``latency_p95_ms`` is filed under each of this controller's migrations
        #: (``<id>/latency_p95_ms``) so one system's latency never shows as another's.
        self.per_migration_series = per_migration_series
        #: A built-in name or a profile file's path (``load_profile``), or a ``Profile``; None: detected.
        self.profile: Profile | None = (
            profile if isinstance(profile, Profile) else get_profile(profile) if profile else None
        )
        self.migration = migration
        self.poll_interval_s = poll_interval_s
        self.timeout_s = timeout_s
        self.verify_tls = verify_tls
        self.clock = clock
        self.backoff = backoff or Backoff(base_s=poll_interval_s, cap_s=max(30.0, poll_interval_s))
        self.max_body_bytes = max_body_bytes
        self._token = token or None
        self._secrets: tuple[str, ...] = (self._token,) if self._token else ()
        self._transport = transport
        #: Requests in flight at once: as many as the client keeps connections (``MAX_CONNECTIONS``);
        #: the rest of a poll's wait here, each one's deadline starting when its turn comes. Queued
        #: in httpcore's pool instead, every request's start and end walked the whole queue.
        #: (the event loop it belongs to, the semaphore): a source may be polled from more than one loop (tests).
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        #: Participants path -> its reader: an answer whose bytes are the same as the last one is
        #: not parsed again, and an item whose bytes are unchanged is the object parsed then
        #: (``sources/lists.py``; values are only read, never changed).
        self._last_lists: dict[str, ListReader] = {}
        #: ETags and bodies of the last answers: a controller that tags them is asked conditionally.
        self._validators = Validators()
        self._seen_ids: set[str] = set()
        self._finished_ids: set[str] = set()  # ended migrations already read in full once
        self._final_details: dict[str, dict[str, Any]] = {}  # what that last full read said (votes, health)
        self._counter_samples: dict[str, tuple[float, float]] = {}
        self._last_ts = 0.0
        self._said_too_many = False
        #: Shared with the dashboard's other controllers (``build_live_sources``); else its own.
        self.detail_budget = detail_budget or DetailBudget()
        self._participants = ParticipantsDiffer(MAX_PARTICIPANTS)
        #: Optional endpoints (path, ``{id}`` for per-migration ones) the controller does not serve -> status.
        self._not_served: dict[str, int] = {}
        #: Standing warnings shown on screen (a token_env that is not set, TLS verification off).
        self.notes: tuple[str, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        insecure = () if self.verify_tls or not self.base_url.startswith("https:") else (INSECURE_WARNING,)
        return insecure + self.notes

    def __repr__(self) -> str:  # the token is deliberately absent
        profile = self.profile.name if self.profile else "detect"
        named = f", name={self.controller_name!r}" if self.controller_name else ""
        return f"ControllerSource({self.base_url!r}, profile={profile!r}, migration={self.migration!r}{named})"

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ControllerSource:
        """The source the settings describe; ``ConfigError`` when the controller is not set or the profile unknown."""
        from migration_tui.config import ConfigError

        if not settings.controller:
            raise ConfigError("no controller URL: use --controller or MIGRATION_TUI_CONTROLLER")
        options: dict[str, Any] = {
            "profile": settings.profile,
            "migration": settings.migration,
            "token": settings.token,
            "poll_interval_s": settings.poll_interval_s,
            "timeout_s": settings.timeout_s,
            "verify_tls": not settings.insecure,
        }
        options.update(overrides)
        try:
            return cls(settings.controller, **options)
        except UnknownProfile as exc:
            raise ConfigError(str(exc)) from None

    @classmethod
    def from_spec(cls, spec: ControllerSpec, settings: Settings, **overrides: Any) -> ControllerSource:
        """The source for one controller of ``settings.controller_specs()``; ``ConfigError`` for an unknown profile."""
        from migration_tui.config import ConfigError

        options: dict[str, Any] = {
            "profile": spec.profile,
            "migration": spec.migration,
            "token": spec.token,
            "poll_interval_s": settings.poll_interval_s,
            "timeout_s": settings.timeout_s,
            "verify_tls": not settings.insecure,
            "controller_name": spec.name,
        }
        options.update(overrides)
        try:
            source = cls(spec.url, **options)
        except UnknownProfile as exc:
            raise ConfigError(f"{spec.where}: {exc}") from None
        if spec.name and spec.token_env and not spec.token:
            source.notes = (f"{spec.name}: {spec.token_env} is not set; requests go without a token",)
        return source

    # --- the loop ------------------------------------------------------------

    async def run(self, emit: Emit) -> None:
        """Poll until cancelled; never raises for anything the controller does."""
        loop = asyncio.get_running_loop()
        async with self.make_client() as client:
            while True:
                started = loop.time()
                try:
                    reachable = await self.poll_once(client, emit)
                except (asyncio.CancelledError, KeyboardInterrupt):
                    raise
                except Exception as exc:  # a bug of ours must not end the dashboard's only controller feed
                    log.exception("controller poll failed")
                    self._emit_error(emit, [f"internal error while polling: {type(exc).__name__}"])
                    reachable = False
                if reachable:
                    self.backoff.reset()
                    # One poll every poll_interval_s, start to start, however long a poll takes
                    # (0.6 s for 50 migrations' details: slept after it, the interval was 2.6 s),
                    # and at least a quarter of it between two polls of a slow controller.
                    # Controllers started together stay in step, so their answers reach the
                    # screen close together.
                    delay = max(self.poll_interval_s - (loop.time() - started), self.poll_interval_s / 4)
                else:
                    delay = self.backoff.next_delay()
                await asyncio.sleep(delay)

    def make_client(self) -> httpx.AsyncClient:
        """The client ``run`` uses: no redirects followed, the token only in its Authorization header."""
        return make_client(self.base_url, self._token, self.timeout_s, self.verify_tls, self._transport)

    async def poll_once(self, client: httpx.AsyncClient, emit: Emit) -> bool:
        """One poll. True when the controller answered its list endpoint (even if other parts failed)."""
        problems: list[str] = []
        profile = self.profile or await self._detect(client, problems, emit)
        if profile is None:
            self._emit_error(emit, problems)
            return False
        try:
            list_body = await self._get(client, profile.list_path)
        except FetchError as exc:
            self._emit_error(emit, [str(exc)])
            return False
        items, errors = profile.discover(list_body)
        problems.extend(errors)
        if self.migration is not None:
            listed = ", ".join(str(item["id"]) for item in items[:10]) + (", …" if len(items) > 10 else "")
            items = [item for item in items if item["id"] == self.migration]
            if not items and scoped_id(self.controller_name, self.migration) not in self._seen_ids:
                problems.append(
                    f"migration {self.migration!r} is not listed by the controller (it lists: {listed or 'none'})"
                )
        detailed = self._detail_items(profile, items)
        bodies = await self._get_all(client, profile, profile.paths(detailed), problems, emit)
        now = self.clock()
        reading = profile.normalise(items, bodies, now)
        problems.extend(reading.errors)
        self._keep_final_details(reading, {item["id"] for item in detailed})
        for name, value in reading.counters.items():
            reading.metrics[name] = rate(self._counter_samples.get(name), (now, value))
            self._counter_samples[name] = (now, value)
        if self.controller_name:
            scope_reading(reading, self.controller_name)

        listed = {scoped_id(self.controller_name, item["id"]) for item in items}
        prefix = len(self.controller_name) + 1 if self.controller_name else 0
        for gone in sorted(self._seen_ids - listed):
            self._emit(emit, "migration_gone", {"id": gone})
            self._finished_ids.discard(gone[prefix:])
            self._final_details.pop(gone[prefix:], None)
            self._participants.forget(gone)
        self._seen_ids = listed
        for migration in reading.migrations:
            self._emit(emit, "migration", migration)
        for migration_id, participants in reading.participants.items():
            change = self._participants.event(migration_id, participants)
            if change is not None:
                self._emit(emit, *change)
        if reading.breakers is not None:
            self._emit(emit, "breakers", {"breakers": reading.breakers})
        if reading.metrics:
            values, invalid = reading.metrics, reading.metrics_invalid
            if self.per_migration_series:
                values, invalid = per_migration(values, invalid, [m["id"] for m in reading.migrations])
            self._emit(emit, "metrics", {"values": values, "invalid": invalid})
        if problems:
            self._emit_error(emit, problems)
        else:
            self._emit(emit, "source_ok", {"not_served": sorted(self._not_served)} if self._not_served else {})
        return True

    @property
    def not_served(self) -> dict[str, int]:
        """The optional endpoints this controller does not serve (path -> the status it answered)."""
        return dict(self._not_served)

    # --- steps ---------------------------------------------------------------

    def _slot(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(MAX_CONNECTIONS))
        return self._slots[1]

    async def _get_list(self, client: httpx.AsyncClient, path: str) -> Any:
        """A participants list: parsed only when its bytes differ from the last answer's, and then
        only the items whose bytes differ (``ListReader``)."""
        async with self._slot():
            body = await fetch_bytes(client, path, self.timeout_s, self.max_body_bytes, self._secrets, self._validators)
        reader = self._last_lists.get(path)
        if reader is None:
            reader = self._last_lists[path] = ListReader()
        return reader.parse(path, body)

    async def _get(self, client: httpx.AsyncClient, path: str, as_text: bool = False) -> Any:
        fetch = fetch_text if as_text else fetch_json
        async with self._slot():
            return await fetch(client, path, self.timeout_s, self.max_body_bytes, self._secrets, self._validators)

    async def _get_all(
        self,
        client: httpx.AsyncClient,
        profile: Profile,
        paths: Mapping[str, str],
        problems: list[str],
        emit: Emit,
    ) -> dict[str, Any]:
        """Every path at once; the ones that failed are left out and named in ``problems``.

        An optional endpoint whose every request this poll answered "no such endpoint"
        is not served: left out, and not a problem (see the module docstring).
        """
        keys = list(paths)
        answers = await asyncio.gather(
            *(
                self._get_list(client, paths[key])
                if key.startswith("participants:")
                else self._get(client, paths[key], as_text=key == "metrics")
                for key in keys
            ),
            return_exceptions=True,
        )
        asked = {paths[key] for key in keys if key.startswith("participants:")}
        for path in [path for path in self._last_lists if path not in asked]:  # a migration no longer detailed
            del self._last_lists[path]
        bodies: dict[str, Any] = {}
        # endpoint path -> the one "not served" status every request to it got this poll, else None
        not_served: dict[str, int | None] = {}
        failures: dict[str, list[str]] = {}
        for key, answer in zip(keys, answers, strict=True):
            if isinstance(answer, asyncio.CancelledError):
                raise answer
            path = profile.endpoint(key).path
            failed = failures.setdefault(path, [])
            absent = isinstance(answer, FetchError) and profile.not_served(key, answer.status) is not None
            status = answer.status if absent and isinstance(answer, FetchError) else None
            not_served[path] = status if not_served.get(path, status) == status else None
            if isinstance(answer, FetchError):
                failed.append(str(answer))
            elif isinstance(answer, BaseException):
                failed.append(f"GET {paths[key]}: {type(answer).__name__}")
            else:
                bodies[key] = answer
        for path, failed in failures.items():
            status = not_served[path]
            if status is not None:
                self._say_not_served(emit, profile, path, status)
                continue
            problems.extend(failed)
            if path in self._not_served:
                del self._not_served[path]
                if failed:
                    message = f"controller endpoint {path} was not served, now fails: {failed[0]}"
                else:
                    message = f"controller serves {path} again"
                self._emit(emit, "log", {"level": "info", "message": message})
        return bodies

    def _say_not_served(self, emit: Emit, profile: Profile, path: str, status: int) -> None:
        """Remember an optional endpoint as not served; log it the first time (or when its answer changes)."""
        if self._not_served.get(path) == status:
            return
        self._not_served[path] = status
        what = next((e.what for e in profile.endpoints if e.path == path and e.what), "that part")
        message = f"controller does not serve {path} ({status}): {what} not shown"
        self._emit(emit, "log", {"level": "info", "message": message})

    def _keep_final_details(self, reading: Reading, detailed: set[str]) -> None:
        """An ended migration is read in full once; later polls carry that read's details forward.

        Without this, the votes and health of an aborted 2pc migration would vanish
        from the screen one poll after it ended.
        """
        for migration in reading.migrations:
            migration_id = migration["id"]
            if migration_id not in self._finished_ids:
                self._final_details.pop(migration_id, None)
            elif migration_id in detailed:
                self._final_details[migration_id] = dict(migration["details"])
            elif migration_id in self._final_details:
                migration["details"] = {**self._final_details[migration_id], **migration["details"]}

    def _detail_items(self, profile: Profile, items: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Migrations worth their detail requests: running ones, and ended ones once more, to read the end."""
        wanted = []
        for item in items:
            if profile.wants_detail(item):
                self._finished_ids.discard(item["id"])
                wanted.append(item)
            elif item["id"] not in self._finished_ids:
                self._finished_ids.add(item["id"])
                wanted.append(item)
        allowed = self.detail_budget.share(self.name, len(wanted))
        if len(wanted) > allowed and not self._said_too_many:
            self._said_too_many = True
            log.warning(
                "%s: %d migrations active; details are polled for the first %d only (%d for the dashboard)",
                self.name,
                len(wanted),
                allowed,
                self.detail_budget.total,
            )
        return wanted[:allowed]

    async def detect_profile(self, client: httpx.AsyncClient, health: Any) -> Profile | None:
        """The profile set, else the one a ``/health`` answer already read names, else by the list's shape.

        For ``check``, which reads ``/health`` itself without the token; emits nothing.
        """
        return self.profile or profile_from_health(health) or await self._profile_by_list(client)

    async def get(self, client: httpx.AsyncClient, path: str, as_text: bool = False) -> Any:
        """One GET as a poll makes it (same limits, same ``FetchError``s)."""
        return await self._get(client, path, as_text)

    async def _detect(self, client: httpx.AsyncClient, problems: list[str], emit: Emit) -> Profile | None:
        """The profile ``/health`` names, else the first whose list endpoint answers in its shape."""
        try:
            profile = profile_from_health(await self._get(client, "/health"))
        except FetchError as exc:
            problems.append(str(exc))
            if exc.status is None:  # nothing answered at all: trying more paths would only wait longer
                return None
            profile = None
        if profile is None:
            profile = await self._profile_by_list(client)
        if profile is None:
            problems.append("cannot tell which controller profile this is; set --profile")
            return None
        self.profile = profile
        problems.clear()
        self._emit(emit, "log", {"level": "info", "message": f"controller profile: {profile.name}"})
        return profile

    async def _profile_by_list(self, client: httpx.AsyncClient) -> Profile | None:
        """The first profile (``detection_order()``) whose list endpoint answers in its shape."""
        for name in detection_order():
            candidate = PROFILES[name]
            try:
                body = await self._get(client, candidate.list_path)
            except FetchError:
                continue
            if answers_like(candidate, body):
                return candidate
        return None

    # --- emitting ------------------------------------------------------------

    def _stamp(self) -> float:
        """Event time, strictly increasing, so an error is never stamped level with the data before it."""
        ts = max(self.clock(), self._last_ts + 1e-6)
        self._last_ts = ts
        return ts

    def _emit(self, emit: Emit, kind: str, data: dict[str, Any]) -> None:
        if self._secrets:
            data = scrub(data, self._secrets)
        emit(Event(self._stamp(), self.name, kind, data))

    def _emit_error(self, emit: Emit, problems: list[str]) -> None:
        self._participants.forget()  # a reader may have missed something: the next lists are whole
        shown = [sanitise(p, self._secrets, limit=200) for p in problems[:MAX_PROBLEMS_SHOWN]]
        message = "; ".join(shown) or "unknown error"
        if len(problems) > MAX_PROBLEMS_SHOWN:
            message += f" (and {len(problems) - MAX_PROBLEMS_SHOWN} more)"
        self._emit(emit, "source_error", {"error": message})


def scope_reading(reading: Reading, controller: str) -> None:
    """A named controller's reading, every id ``NAME:ID``: migrations (with ``controller``), their
    participants, breaker names and pair- or id-scoped series (``NAME:BTCUSDT/latency_p95_ms``)."""
    for migration in reading.migrations:
        migration["id"] = scoped_id(controller, migration["id"])
        migration["controller"] = controller
    reading.participants = {scoped_id(controller, key): value for key, value in reading.participants.items()}
    if reading.breakers is not None:
        reading.breakers = [{**b, "name": scoped_id(controller, str(b.get("name", "?")))} for b in reading.breakers]

    def scoped(name: str) -> str:
        return scoped_id(controller, name) if "/" in name else name

    reading.metrics = {scoped(name): value for name, value in reading.metrics.items()}
    reading.metrics_invalid = [scoped(name) for name in reading.metrics_invalid]


def per_migration(
    values: dict[str, float | None], invalid: list[str], ids: list[str]
) -> tuple[dict[str, float | None], list[str]]:
    """Controller-wide series (no ``/`` in the name) filed under each migration id; others kept."""

    def keys(name: str) -> list[str]:
        return [name] if "/" in name else [f"{mid}/{name}" for mid in ids]

    filed = {key: value for name, value in values.items() for key in keys(name)}
    return filed, [key for name in invalid for key in keys(name)]
