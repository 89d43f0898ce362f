"""Controller profiles, one per seed system, and how the source picks one.

``PROFILES`` maps each ``--profile`` name to its profile. ``orderbook-rollout``
is the ``trading-service`` API with ``orderbook-rollout`` as the default
system (seed 001 serves the same endpoints as seed 000).

Each profile declares its endpoints required or optional (``Profile.endpoints``;
an optional one answering 404/405/501 is "not served", see ``controller.py``).

Detection (docs/controller-profiles.md): ``GET /health`` carries
``"service": "<profile name>"``; failing that, each profile's list endpoint
is tried in ``DETECTION_ORDER`` and the first that answers with the right
JSON shape wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from migration_tui.sources.profiles._common import Reading
from migration_tui.sources.profiles.base import NOT_SERVED_STATUSES, Endpoint, Profile
from migration_tui.sources.profiles.batch import Batch
from migration_tui.sources.profiles.canary import Canary
from migration_tui.sources.profiles.dual_write import DualWrite
from migration_tui.sources.profiles.trading_service import ORDERBOOK_ROLLOUT_ENDPOINTS, TradingService

PROFILES: dict[str, Profile] = {
    "trading-service": TradingService(),
    "orderbook-rollout": TradingService(
        default_system="orderbook-rollout", name="orderbook-rollout", endpoints=ORDERBOOK_ROLLOUT_ENDPOINTS
    ),
    "canary": Canary(),
    "batch": Batch(),
    "dual-write": DualWrite(),
}

DETECTION_ORDER: tuple[str, ...] = ("trading-service", "canary", "batch", "dual-write")


class UnknownProfile(ValueError):
    """A profile name that is not one of ``PROFILES``."""


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProfile(f"unknown controller profile {name!r} (known: {', '.join(PROFILES)})") from None


def profile_from_health(body: Any) -> Profile | None:
    """The profile a ``/health`` answer names in ``service``, if it names a known one."""
    if isinstance(body, Mapping):
        service = body.get("service")
        if isinstance(service, str) and service in PROFILES:
            return PROFILES[service]
    return None


def answers_like(profile: Profile, body: Any) -> bool:
    """Whether a list endpoint's answer has the shape this profile expects (a list, or one object)."""
    return isinstance(body, Mapping) if profile.single else isinstance(body, list)


__all__ = [
    "DETECTION_ORDER",
    "NOT_SERVED_STATUSES",
    "Endpoint",
    "PROFILES",
    "Profile",
    "Reading",
    "UnknownProfile",
    "answers_like",
    "get_profile",
    "profile_from_health",
]
