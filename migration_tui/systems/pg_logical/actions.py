"""Pause and resume of a subscription: ``ALTER SUBSCRIPTION … DISABLE`` / ``ENABLE``.

``PgActionClient`` has the interface the confirmation dialog uses
(``record``/``send``/``in_flight``/``unavailable``, and ``controller``/``serves``
for ``ActionRouter``): every stage is audited and emitted as an ``action``
event exactly as for an HTTP controller. Its connection is its own (not the
source's read-only one): the block's ``actions`` DSN when given (a role allowed
to ALTER the subscription: its owner, or a superuser), else the subscriber DSN.
A failed statement shows the server's message. Abort and rollback are not
offered, with the reason (``NOT_OFFERED``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from migration_tui.actions import AuditLog, Decision, Outcome, SingleFlight
from migration_tui.events import Event
from migration_tui.model import controller_source
from migration_tui.sources.base import scrub
from migration_tui.sources.http import sanitise

STATEMENTS = {"pause": "DISABLE", "resume": "ENABLE"}
NOT_OFFERED = {
    "abort": "not offered for logical replication: stopping for good is DROP SUBSCRIPTION (and its slot on "
    "the publisher), which cannot be undone; do it by hand",
    "rollback": "not offered for logical replication: before cutover the publisher is still the primary "
    "(nothing to roll back); after it, going back takes replication the other way, set up by hand",
}


class PgActionClient(SingleFlight):
    """Sends pause/resume of one subscriber's subscriptions; see the module docstring."""

    def __init__(
        self,
        dsn: str,
        audit: AuditLog,
        emit: Callable[[Event], None],
        controller: str | None = None,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._dsn = dsn
        self.audit = audit
        self._emit = emit
        self.controller = controller
        self._prefix = f"{controller}:" if controller else ""
        self._timeout_s = timeout_s
        self._clock = clock
        self._secrets = tuple(s for s in secrets if s)
        super().__init__()
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"PgActionClient(controller={self.controller!r})"  # the DSN is deliberately absent

    # --- the dialog's interface ---------------------------------------------------

    def unavailable(self, action: str) -> str:
        return NOT_OFFERED.get(action, "")

    def consequence(self, action: str, migration_id: str) -> str:
        """What pause and resume do, for the confirmation dialog."""
        name = self.remote_id(migration_id)
        if action == "pause":
            return (
                f"ALTER SUBSCRIPTION {name} DISABLE: the apply worker stops; changes wait in the slot on the "
                "publisher, whose retained WAL grows. Nothing is undone; resume enables it again."
            )
        if action == "resume":
            return f"ALTER SUBSCRIPTION {name} ENABLE: the apply worker starts again and catches up from the slot."
        return ""

    def remote_id(self, migration_id: str) -> str:
        prefix = self._prefix
        return migration_id[len(prefix) :] if prefix and migration_id.startswith(prefix) else migration_id

    def serves(self, migration_id: str) -> bool:
        return migration_id.startswith(self._prefix) if self._prefix else True

    def record(self, stage: str, decision: Decision, result: str = "") -> None:
        extra: dict[str, Any] = {"result": scrub(result, self._secrets)} if result else {}
        if self.controller:
            extra["controller"] = self.controller
        self.audit.write(stage, decision, **extra)
        data = {
            "action": decision.action,
            "migration_id": decision.migration_id,
            "stage": stage,
            "requested_by": decision.requested_by,
            "reason": scrub(decision.reason, self._secrets),
        }
        if result:
            data["result"] = scrub(result, self._secrets)
        self._emit(Event(self._clock(), controller_source(self.controller), "action", data))

    # --- sending --------------------------------------------------------------------

    async def _send(self, decision: Decision) -> Outcome:
        import psycopg
        from psycopg import sql

        verb = STATEMENTS.get(decision.action)
        if verb is None:
            outcome = Outcome(
                "failed", None, f"{decision.action} is {self.unavailable(decision.action)}: nothing was sent"
            )
            self.record("answered", decision, f"{outcome.state}: {outcome.message}")
            return outcome
        name = self.remote_id(decision.migration_id)
        statement = sql.SQL("ALTER SUBSCRIPTION {} {}").format(sql.Identifier(name), sql.SQL(verb))
        self.record("sent", decision)
        self.requests_sent += 1
        timeout_ms = max(100, int(self._timeout_s * 1000))
        try:
            conn = await asyncio.wait_for(
                psycopg.AsyncConnection.connect(
                    self._dsn,
                    autocommit=True,
                    connect_timeout=max(1, int(self._timeout_s)),
                    application_name="migration-tui actions",
                    options=f"-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms}",
                ),
                self._timeout_s,
            )
        except (psycopg.Error, OSError, asyncio.TimeoutError) as exc:
            outcome = Outcome(
                "failed", None, f"could not connect to the subscriber: {_first_line(exc)}: nothing was sent"
            )
        else:
            try:
                await asyncio.wait_for(conn.execute(statement), self._timeout_s)
            except asyncio.TimeoutError:
                outcome = Outcome("unknown", None, f"no answer within {self._timeout_s:g}s: the outcome is unknown")
            except psycopg.errors.QueryCanceled:
                outcome = Outcome("unknown", None, "statement timed out: the outcome is unknown; re-reading status")
            except psycopg.DatabaseError as exc:
                diag = getattr(exc, "diag", None)
                words = (diag.message_primary if diag is not None else None) or _first_line(exc)
                outcome = Outcome("rejected", None, f"the server said: {words}")
            except (psycopg.Error, OSError) as exc:
                outcome = Outcome("unknown", None, f"connection lost ({_first_line(exc)}): the outcome is unknown")
            else:
                outcome = Outcome("ok", None, f"subscription {name} {'disabled' if verb == 'DISABLE' else 'enabled'}")
            finally:
                try:
                    await conn.close()
                except Exception:  # noqa: BLE001 - closing after a failure
                    pass
        outcome = Outcome(
            outcome.state, outcome.status, sanitise(scrub(outcome.message, self._secrets), self._secrets, 300)
        )
        self.record("answered", decision, f"{outcome.state}: {outcome.message}")
        return outcome


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def build(source: Any, spec: Any, audit: AuditLog, emit: Callable[[Event], None], settings: Any) -> PgActionClient:
    """The action client of one pg-logical block (``SourceKind.actions``)."""
    options = dict(spec.options)
    return PgActionClient(
        options.get("actions") or options["subscriber"],
        audit,
        emit,
        controller=spec.name,
        timeout_s=settings.timeout_s,
        secrets=spec.secrets,
    )
