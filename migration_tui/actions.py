"""Actions: the only code that writes to a controller.

One operator decision (pause, resume, abort or rollback of one migration) is
a ``Decision`` with its own ``Idempotency-Key``, made once when the operator
confirms and reused on every retry, so the controller acts at most once.
``ActionClient.send`` is single-flight per decision: a second press or Enter
while the first request is in flight waits for the same answer and sends
nothing. A timeout means the outcome is unknown; the screen says so and the
caller may retry with the same decision (and so the same key).

Every stage is appended to the audit log (fsynced) and emitted as an
``action`` event, so recordings carry it and replays show it. Neither ever
contains the token. Built only in live mode: wall and replay never import it.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from migration_tui.events import Event
from migration_tui.model import controller_source

if TYPE_CHECKING:
    from migration_tui.sources.profiles import Profile

ACTIONS = ("pause", "resume", "abort", "rollback")
#: Actions that need the migration id typed before they can be confirmed.
DESTRUCTIVE = frozenset({"abort", "rollback"})


def action_path(profile: str | None) -> str | None:
    """Where a built-in profile takes an action (``{id}`` the migration id), from its system; None for none."""
    from migration_tui import systems

    entry = systems.profile_entries().get(profile) if profile else None
    return entry.action_path if entry is not None else None


def _resolve(profile: Any) -> Any:
    """A ``Profile`` from a profile object, a built-in name or a profile file's path (None stays None)."""
    if profile is None or not isinstance(profile, str):
        return profile
    from migration_tui.sources.profiles import load_profile

    return load_profile(profile)


#: What each action will do, for the confirmation dialog.
CONSEQUENCES: dict[str, str] = {
    "pause": "The controller freezes the migration where it is. Nothing is undone; resume continues it.",
    "resume": "The controller continues a paused migration from where it stopped.",
    "abort": "The controller aborts the migration (aborting -> aborted). Work in flight is abandoned.",
    "rollback": "The controller rolls the migration back to the old system (rolling_back -> rolled_back).",
}

MAX_MESSAGE = 300


def requested_by() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (containers): say so
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class Decision:
    """One operator decision. Its key is made once and reused on every retry."""

    action: str
    migration_id: str
    reason: str
    requested_by: str = field(default_factory=requested_by)
    force: bool = False
    key: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"reason": self.reason, "requested_by": self.requested_by}
        if self.action == "abort":
            body["force"] = self.force
        return body


@dataclass(frozen=True)
class Outcome:
    """What became of a decision: ``ok``, ``rejected`` (4xx), ``failed`` (5xx, redirect) or ``unknown``."""

    state: str
    status: int | None
    message: str

    @property
    def retryable(self) -> bool:
        return self.state in ("unknown", "failed")


def default_audit_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir("migration-tui")) / "audit.jsonl"


class AuditLog:
    """Append-only JSON Lines, fsynced after every line. Never given the token."""

    def __init__(self, path: str | os.PathLike[str] | None = None, secrets: tuple[str, ...] = ()) -> None:
        self.path = Path(path) if path else default_audit_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._secrets = tuple(s for s in secrets if s)

    def write(self, stage: str, decision: Decision, **extra: Any) -> None:
        record = {
            "ts": time.time(),
            "stage": stage,
            "action": decision.action,
            "migration_id": decision.migration_id,
            "idempotency_key": decision.key,
            "requested_by": decision.requested_by,
            "reason": decision.reason,
            **extra,
        }
        line = orjson.dumps(record, default=str)
        for secret in self._secrets:
            line = line.replace(secret.encode(), b"[redacted]")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)


def _server_message(body: bytes) -> str:
    """The controller's own words, short and single-line; never parsed as markup here or later."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict):
        for key in ("error", "message", "detail", "reason"):
            if isinstance(doc.get(key), str):
                return doc[key][:MAX_MESSAGE]
    text = body[:MAX_MESSAGE].decode("utf-8", "replace")
    return " ".join(text.split())


class SingleFlight:
    """One request per decision: concurrent ``send`` calls for the same decision (its
    Idempotency-Key) share the one request in flight, and a cancelled caller does not cancel it.
    The base of every action client; a client gives ``_send``, which sends once."""

    def __init__(self) -> None:
        self._in_flight: dict[str, asyncio.Task[Outcome]] = {}

    async def send(self, decision: Decision) -> Outcome:
        """Send once; concurrent calls for the same decision share the one request."""
        task = self._in_flight.get(decision.key)
        if task is None:
            task = asyncio.ensure_future(self._send(decision))
            self._in_flight[decision.key] = task
            task.add_done_callback(lambda _t: self._in_flight.pop(decision.key, None))
        return await asyncio.shield(task)

    def in_flight(self, decision: Decision) -> bool:
        return decision.key in self._in_flight

    async def _send(self, decision: Decision) -> Outcome:
        raise NotImplementedError


class ActionClient(SingleFlight):
    """Sends decisions to one controller. ``emit`` receives an ``action`` event per stage."""

    def __init__(
        self,
        base_url: str,
        profile: str | Profile | Callable[[], str | Profile | None],
        audit: AuditLog,
        emit: Callable[[Event], None],
        token: str | None = None,
        timeout_s: float = 5.0,
        verify_tls: bool = True,
        transport: Any = None,
        clock: Callable[[], float] = time.time,
        controller: str | None = None,
    ) -> None:
        if isinstance(profile, str):
            profile = _resolve(profile)  # a built-in name or a profile file's path
            if profile is None or not any(profile.action_route(action) for action in ACTIONS):
                raise ValueError(f"no actions for profile {getattr(profile, 'name', profile)!r}")
        self.base_url = base_url.rstrip("/")
        #: The named controller this client acts on (None: the one unnamed controller). Its
        #: decisions carry store ids ``NAME:ID``; the URL carries the controller's own ``ID``.
        self.controller = controller
        self._prefix = f"{controller}:" if controller else ""
        #: The profile, or a function giving the one the controller source detected (None until then).
        self._profile: Any = profile
        self.audit = audit
        self._emit = emit
        self._token = token
        self._timeout_s = timeout_s
        self._verify = verify_tls
        self._transport = transport
        self._clock = clock
        super().__init__()
        self.requests_sent = 0

    def record(self, stage: str, decision: Decision, result: str = "") -> None:
        """Audit and emit one stage of a decision (opened, cancelled, confirmed, sent, answered)."""
        extra: dict[str, Any] = {"result": result} if result else {}
        if self.controller:
            extra["controller"] = self.controller  # its name only: a URL may hold credentials
        self.audit.write(stage, decision, **extra)
        data = {"action": decision.action, "migration_id": decision.migration_id, "stage": stage}
        # Who and why, so the migration's header can say "paused by ops@host 3m ago: reason".
        data["requested_by"] = decision.requested_by
        data["reason"] = decision.reason.replace(self._token, "[redacted]") if self._token else decision.reason
        if result:
            data["result"] = result
        self._emit(Event(self._clock(), controller_source(self.controller), "action", data))

    @property
    def profile_object(self) -> Profile | None:
        """The controller's profile (None while the controller source has not detected it)."""
        return _resolve(self._profile() if callable(self._profile) else self._profile)

    @property
    def profile(self) -> str | None:
        """The controller's profile name (None while not known)."""
        profile = self.profile_object
        return profile.name if profile is not None else None

    def unavailable(self, action: str) -> str:
        """Why ``action`` is not offered ("" when it is, or while the profile is not known yet)."""
        profile = self.profile_object
        return profile.action_unavailable(action) if profile is not None else ""

    def route_for(self, decision: Decision) -> tuple[str, str] | None:
        """(method, URL) the decision goes to; None while the profile is not known or it does not offer it."""
        from urllib.parse import quote

        profile = self.profile_object
        route = profile.action_route(decision.action) if profile is not None else None
        if route is None:
            return None
        method, template = route
        remote_id = self.remote_id(decision.migration_id)
        path = template.replace("{id}", quote(remote_id, safe="")).replace("{action}", decision.action)
        return method, self.base_url + path

    def remote_id(self, migration_id: str) -> str:
        """The id as this client's controller knows it (a store id ``NAME:ID`` without ``NAME:``)."""
        prefix = self._prefix
        return migration_id[len(prefix) :] if prefix and migration_id.startswith(prefix) else migration_id

    def serves(self, migration_id: str) -> bool:
        """Whether a migration of this store id is this client's controller's."""
        return migration_id.startswith(self._prefix) if self._prefix else True

    def url_for(self, decision: Decision) -> str | None:
        """Where the decision goes; None while the controller's profile is not known (nothing can be sent)."""
        route = self.route_for(decision)
        return route[1] if route is not None else None

    async def _send(self, decision: Decision) -> Outcome:
        import httpx

        route = self.route_for(decision)
        if route is None:
            why = self.unavailable(decision.action)
            message = (
                f"{decision.action} is {why}: nothing was sent"
                if why
                else "the controller's profile is not known yet: nothing was sent"
            )
            outcome = Outcome("failed", None, message)
            self.record("answered", decision, f"{outcome.state}: {outcome.message}")
            return outcome
        method, url = route
        headers = {"Idempotency-Key": decision.key, "Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self.record("sent", decision)
        self.requests_sent += 1
        try:
            async with httpx.AsyncClient(
                follow_redirects=False, verify=self._verify, transport=self._transport, timeout=self._timeout_s
            ) as client:
                response = await asyncio.wait_for(
                    client.request(method, url, content=orjson.dumps(decision.body()), headers=headers),
                    timeout=self._timeout_s,
                )
        except (asyncio.TimeoutError, httpx.TimeoutException):
            outcome = Outcome(
                "unknown", None, f"no answer within {self._timeout_s:g}s: the outcome is unknown; re-reading status"
            )
        except httpx.ConnectError:
            outcome = Outcome("failed", None, "could not connect to the controller: nothing was delivered")
        except httpx.HTTPError as exc:
            outcome = Outcome("unknown", None, f"request failed ({type(exc).__name__}): the outcome is unknown")
        else:
            outcome = self._judge(response)
        if self._token and self._token in outcome.message:
            # A controller may echo the Authorization header back; its words reach the screen and the log.
            outcome = Outcome(outcome.state, outcome.status, outcome.message.replace(self._token, "[redacted]"))
        self.record("answered", decision, f"{outcome.state}: {outcome.message}")
        return outcome

    @staticmethod
    def _judge(response: Any) -> Outcome:
        status = response.status_code
        if 200 <= status < 300:
            try:
                doc = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                doc = None
            state = doc.get("status") if isinstance(doc, dict) else None
            return Outcome("ok", status, f"accepted: now {state[:60]}" if isinstance(state, str) else "accepted")
        if 300 <= status < 400:
            from urllib.parse import urlsplit

            target = urlsplit(response.headers.get("location", "")).hostname or "elsewhere"
            return Outcome("failed", status, f"redirected to {target[:100]}; not followed")
        message = _server_message(response.content) or response.reason_phrase
        return Outcome("rejected" if status < 500 else "failed", status, f"HTTP {status}: {message}")


class ActionRouter:
    """Several controllers' action clients behind the one interface the confirmation dialog uses.

    A decision goes to the client of its migration's own controller (the ``NAME:`` of its store
    id), with that controller's token; none other ever sees it. A migration of no known
    controller gets an answer saying so, and nothing is sent.
    """

    def __init__(self, clients: list[ActionClient]) -> None:
        self.clients = clients

    def client_for(self, migration_id: str) -> ActionClient | None:
        named = [client for client in self.clients if client.controller and client.serves(migration_id)]
        if named:
            return max(named, key=lambda client: len(client.controller or ""))
        return next((client for client in self.clients if not client.controller), None)

    @property
    def requests_sent(self) -> int:
        return sum(client.requests_sent for client in self.clients)

    def consequence(self, action: str, migration_id: str) -> str:
        """The migration's own client's words for what ``action`` does ("" = the usual ``CONSEQUENCES``)."""
        client = self.client_for(migration_id)
        said = getattr(client, "consequence", None)
        return said(action, migration_id) if callable(said) else ""

    def record(self, stage: str, decision: Decision, result: str = "") -> None:
        client = self.client_for(decision.migration_id)
        if client is not None:
            client.record(stage, decision, result)

    async def send(self, decision: Decision) -> Outcome:
        client = self.client_for(decision.migration_id)
        if client is None:
            return Outcome("failed", None, "no controller of this dashboard runs that migration: nothing was sent")
        return await client.send(decision)

    def in_flight(self, decision: Decision) -> bool:
        client = self.client_for(decision.migration_id)
        return client is not None and client.in_flight(decision)
