"""How each state is judged: a level (ok / warn / bad / info / muted) and the word shown.

Pure functions, no Textual: the widgets turn (level, word) into a symbol, a
word and a colour, so the judgement is tested once and reads the same in
every theme.
"""

from __future__ import annotations

from migration_tui.freshness import FreshnessState, freshness
from migration_tui.model import HEARTBEAT_LATE_S, HEARTBEAT_LOST_S, SourceHealth

#: Heartbeat ages (seconds) past which a participant is shown as late, then as lost.
HEARTBEAT_WARN_S = HEARTBEAT_LATE_S
HEARTBEAT_CRIT_S = HEARTBEAT_LOST_S

Judged = tuple[str, str]  # (level, word)


def health(value: str) -> Judged:
    word = value.upper() if value else "—"
    level = {
        "HEALTHY": "ok",
        "DEGRADED": "warn",
        "UNHEALTHY": "bad",
        "CRITICAL": "bad",
        "MAINTENANCE": "info",
        "OPERATIONAL": "ok",
    }.get(word, "muted")
    return level, word


def status(value: str) -> Judged:
    level = {
        "completed": "ok",
        "committed": "ok",
        "in_progress": "info",
        "running": "info",
        "pending": "muted",
        "paused": "warn",
        "failed": "bad",
        "aborted": "bad",
        "rolled_back": "bad",
        "rollback_failed": "bad",
    }.get(value, "muted")
    return level, value


def breaker(state: str) -> Judged:
    if state == "open":
        return "bad", "OPEN"
    if state == "half_open":
        return "warn", "half-open"
    if state == "closed":
        return "ok", "closed"
    return "muted", state or "unknown"


def vote(value: str) -> Judged:
    level = {"yes": "ok", "no": "bad", "timeout": "bad", "pending": "muted"}.get(value, "muted")
    return level, value


def participant_health(healthy: bool | None, invalid: bool = False) -> Judged:
    if healthy is True:
        return "ok", "healthy"
    if healthy is False:
        return "bad", "UNHEALTHY"
    return "muted", "invalid" if invalid else "—"


def heartbeat(age_s: float | None, ended: bool = False) -> str:
    """The level of a heartbeat age: ok, then warn past 5 s, bad past 15 s.

    Once the migration has ended its participants stop reporting to it; their
    last heartbeat is history, not an alarm (``ended``: always muted).
    """
    if age_s is None or ended:
        return "muted"
    if age_s > HEARTBEAT_CRIT_S:
        return "bad"
    if age_s > HEARTBEAT_WARN_S:
        return "warn"
    return "ok"


def source(health: SourceHealth, now: float, poll_interval_s: float) -> tuple[str, str, float | None]:
    """(level, label, age) of one source: fresh, STALE 12s after 3 polls, ERROR: message, waiting."""
    judged = freshness(health, poll_interval_s, now)
    return _FRESHNESS_LEVELS[judged.state], judged.label, judged.age_s


_FRESHNESS_LEVELS = {
    FreshnessState.FRESH: "ok",
    FreshnessState.STALE: "warn",
    FreshnessState.ERROR: "bad",
    FreshnessState.WAITING: "muted",
}


def threshold_level(value: float | None, threshold: float | None, op: str) -> str:
    if value is None or threshold is None:
        return "muted"
    broken = value > threshold if op == ">" else value < threshold
    return "bad" if broken else "ok"
