"""SimulatedController: the simulator's controller API behind one pure entry point.

``handle(method, path, headers, body) -> (status, headers, body)`` does no
IO, so the same code answers the stdlib HTTP server (``server.py``), the
in-process httpx transport (``transport.py``) and direct calls in tests.

Actions follow the contract in docs/controller-profiles.md:

* with a token, a POST without ``Authorization: Bearer <token>`` gets 401
  (the token is never echoed; GETs stay open, as a read-only dashboard needs);
* every POST needs an ``Idempotency-Key``; a repeated key gets the first
  answer byte for byte and changes nothing;
* an action that does not fit the state gets ``409 {"error": reason}``.

Every authenticated action request is appended to ``received_actions``
(replays too, flagged ``replayed``), so a test can prove exactly-once
delivery: ``[a for a in controller.received_actions if not a.replayed]``
is what reached the controller once; ``applied_actions`` is what changed a migration.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migration_tui.sim import api
from migration_tui.sim.clock import Clock
from migration_tui.sim.engine import ActionRefused
from migration_tui.sim.metrics import metrics_registry, render
from migration_tui.sim.simulator import Simulator

Response = tuple[int, dict[str, str], bytes]

JSON_HEADERS = {"Content-Type": "application/json"}
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Idempotency keys remembered; the oldest are forgotten first.
IDEMPOTENCY_LIMIT = 10_000
#: Longest action body read; a real controller would refuse more too.
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class ReceivedAction:
    """One action request as the controller saw it (never the token)."""

    method: str
    path: str
    idempotency_key: str | None
    requested_by: str | None
    reason: str | None
    status: int
    replayed: bool
    at: float


def _json(status: int, obj: Any, extra_headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()
    return status, {**JSON_HEADERS, **(extra_headers or {})}, body


def conditional(answer: Response, if_none_match: str | None) -> Response:
    """A 200 answer to a GET with its ``ETag`` (a digest of the body); ``304 Not Modified``, no
    body, when the request's ``If-None-Match`` names it (or is ``*``). The optional conditional
    GET of the controller API (README, "Contracts and versions")."""
    status, headers, payload = answer
    etag = '"' + hashlib.blake2b(payload, digest_size=12).hexdigest() + '"'
    headers = {**headers, "ETag": etag}
    if if_none_match is not None:
        named = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        if etag in named or "*" in named:
            return 304, {"ETag": etag}, b""
    return status, headers, payload


class SimulatedController:
    """Answers one profile's controller API from a Simulator. Thread-safe (the simulator's lock)."""

    def __init__(
        self,
        scenario: str | Simulator,
        *,
        token: str | None = None,
        seed: int | None = None,
        clock: Clock | None = None,
        speed: float = 1.0,
    ) -> None:
        self.sim = (
            scenario if isinstance(scenario, Simulator) else Simulator(scenario, seed=seed, clock=clock, speed=speed)
        )
        self._token = token or None
        self._registry = metrics_registry(self.sim)
        self._answers: OrderedDict[str, Response] = OrderedDict()
        self.received_actions: list[ReceivedAction] = []

    @property
    def profile(self) -> str:
        return self.sim.profile

    @property
    def applied_actions(self) -> list[ReceivedAction]:
        """Actions that changed the migration: accepted (200) and not a replay of an earlier key."""
        with self.sim.lock:
            return [a for a in self.received_actions if a.status == 200 and not a.replayed]

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Response:
        method = method.upper()
        path = path.split("?", 1)[0].split("#", 1)[0]
        if len(path) > 1:
            path = path.rstrip("/")
        lower_headers = {k.lower(): v for k, v in headers.items()}
        answer = self._answer(method, path, lower_headers, body)
        if method in ("GET", "HEAD") and answer[0] == 200:
            return conditional(answer, lower_headers.get("if-none-match"))
        return answer

    def _answer(self, method: str, path: str, lower_headers: Mapping[str, str], body: bytes) -> Response:
        with self.sim.lock:
            self.sim.advance()
            route, params, path_exists = api.find(self.profile, method, path)
            if route is None:
                if path == "/metrics" and method in ("GET", "HEAD"):
                    return 200, {"Content-Type": METRICS_CONTENT_TYPE}, render(self._registry)
                if path_exists:
                    return _json(405, {"error": f"method {method} not allowed"})
                return _json(404, {"error": "no such endpoint"})
            if route.action is None:
                assert route.view is not None
                status, obj = route.view(self.sim, params)
                return _json(status, obj)
            return self._action(route.action, method, path, params, lower_headers, body)

    # --- actions -------------------------------------------------------------

    def _is_authorized(self, headers: Mapping[str, str]) -> bool:
        if self._token is None:
            return True
        scheme, _, presented = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), self._token.encode())

    def _action(
        self, action: str, method: str, path: str, params: dict[str, str], headers: Mapping[str, str], body: bytes
    ) -> Response:
        if not self._is_authorized(headers):
            return _json(401, {"error": "missing or invalid bearer token"}, {"WWW-Authenticate": "Bearer"})
        key = headers.get("idempotency-key") or None
        fields = self._parse(body)
        requested_by = fields.get("requested_by") if isinstance(fields, dict) else None
        reason = fields.get("reason") if isinstance(fields, dict) else None
        if key is not None and key in self._answers:
            answer = self._answers[key]
            self._record(method, path, key, requested_by, reason, answer[0], replayed=True)
            return answer
        answer = self._apply(action, params, key, fields)
        if key is not None:
            self._answers[key] = answer
            while len(self._answers) > IDEMPOTENCY_LIMIT:
                self._answers.popitem(last=False)
        self._record(method, path, key, requested_by, reason, answer[0], replayed=False)
        return answer

    @staticmethod
    def _parse(body: bytes) -> dict[str, Any] | None:
        """The JSON object in the body ({} when empty), or None if it is not one."""
        if not body.strip():
            return {}
        if len(body) > MAX_BODY_BYTES:
            return None
        try:
            fields = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
        return fields if isinstance(fields, dict) else None

    def _apply(self, action: str, params: dict[str, str], key: str | None, fields: dict[str, Any] | None) -> Response:
        if key is None:
            return _json(400, {"error": "Idempotency-Key header required"})
        if fields is None:
            return _json(400, {"error": "body must be a JSON object"})
        migration = self.sim.migration(params["id"]) if "id" in params else self.sim.migrations[0]
        if migration is None:
            return _json(404, {"error": f"migration {params['id']} not found"})
        reason = fields.get("reason")
        reason_text = reason[:200] if isinstance(reason, str) else ""
        try:
            self.sim.act(migration, action, reason_text)
        except ActionRefused as refused:
            return _json(409, {"error": str(refused)})
        return _json(
            200,
            {
                "id": migration.id,
                "action": action,
                "accepted": True,
                "status": migration.status,
                "phase": migration.phase,
                "at": self.sim.now(),
            },
        )

    def _record(
        self, method: str, path: str, key: str | None, requested_by: Any, reason: Any, status: int, *, replayed: bool
    ) -> None:
        self.received_actions.append(
            ReceivedAction(
                method=method,
                path=path,
                idempotency_key=key,
                requested_by=requested_by if isinstance(requested_by, str) else None,
                reason=reason if isinstance(reason, str) else None,
                status=status,
                replayed=replayed,
                at=self.sim.now(),
            )
        )
