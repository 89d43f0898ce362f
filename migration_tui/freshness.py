"""How fresh a source's data is, in the words the status bar shows.

An operator must never mistake old numbers for live ones, so every pane says
whether its source is fresh, stale (no answer for ``STALE_AFTER_POLLS`` poll
intervals) or failing (its last attempt failed). This is a pure function of a
``SourceHealth``, the poll interval and *now* (wall time live, virtual time in
a replay), so it is unit-tested without clocks and the UI only styles
``Freshness.state``.
"""

from __future__ import annotations

import enum
import math
import re

import msgspec

from migration_tui.model import SourceHealth

#: A source that has not answered for this many poll intervals is stale.
STALE_AFTER_POLLS = 3
#: Longest error message shown after "ERROR: ".
ERROR_CHARS = 80

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]+")


class FreshnessState(enum.Enum):
    """What the UI styles: one colour (or marker) per state."""

    WAITING = "waiting"  # nothing heard yet
    FRESH = "fresh"
    STALE = "stale"
    ERROR = "error"


class Freshness(msgspec.Struct, frozen=True):
    state: FreshnessState
    label: str
    """What to show: "fresh", "STALE 12s", "ERROR: connection refused", "waiting"."""
    age_s: float | None
    """Seconds since the source last answered, or None if it never has."""

    @property
    def is_stale(self) -> bool:
        return self.state is not FreshnessState.FRESH


def format_age(age_s: float) -> str:
    """A short age: "12s" below two minutes, then "5m", then "3h"."""
    if age_s < 120:
        return f"{int(age_s)}s"
    if age_s < 7200:
        return f"{int(age_s // 60)}m"
    return f"{int(age_s // 3600)}h"


def _one_line(message: str) -> str:
    flat = _UNPRINTABLE.sub(" ", message).strip()
    return flat if len(flat) <= ERROR_CHARS else flat[: ERROR_CHARS - 1] + "…"


def freshness(
    health: SourceHealth | None, poll_interval_s: float, now: float, stale_after_polls: int = STALE_AFTER_POLLS
) -> Freshness:
    """The freshness of one source at ``now``.

    A failed last attempt wins over staleness: "ERROR" says why the data is
    old, which is what the operator needs next. An error message is cut to one
    short line here; it is still untrusted text, and the widget shows it
    through ``safe_text``.
    """
    if health is None or (health.last_success is None and health.last_error_at is None):
        return Freshness(FreshnessState.WAITING, "waiting", None)
    age_s = health.age_s(now)
    if not health.ok():
        message = _one_line(health.error or "") or "unknown error"
        return Freshness(FreshnessState.ERROR, f"ERROR: {message}", age_s)
    interval = poll_interval_s if math.isfinite(poll_interval_s) and poll_interval_s > 0 else 1.0
    if age_s is not None and age_s > stale_after_polls * interval:
        return Freshness(FreshnessState.STALE, f"STALE {format_age(age_s)}", age_s)
    return Freshness(FreshnessState.FRESH, "fresh", age_s)
