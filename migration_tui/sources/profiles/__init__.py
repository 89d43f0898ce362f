"""Controller profiles, and how the source picks one.

``PROFILES`` maps each ``--profile`` name to its profile; each system of the
registry (``migration_tui/systems/``) brings its own. This package holds what
they share: the ``Profile`` base class and the ``_common`` readers.

Each profile declares its endpoints required or optional (``Profile.endpoints``;
an optional one answering 404/405/501 is "not served", see ``controller.py``).

Detection (docs/controller-profiles.md): ``GET /health`` carries
``"service": "<profile name>"``; failing that, each profile's list endpoint
is tried in ``detection_order()`` and the first that answers with the right
JSON shape wins.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from migration_tui import systems
from migration_tui.config import ConfigError
from migration_tui.sources.profiles._common import Reading
from migration_tui.sources.profiles.base import NOT_SERVED_STATUSES, Endpoint, Profile


class _Profiles(Mapping[str, Profile]):
    """Every registered system's profiles, looked up in the registry each time (it may grow)."""

    def __getitem__(self, name: str) -> Profile:
        return systems.load(systems.profile_entries()[name].profile)

    def __iter__(self) -> Iterator[str]:
        return iter(systems.profile_entries())

    def __len__(self) -> int:
        return len(systems.profile_entries())


PROFILES: Mapping[str, Profile] = _Profiles()


def detection_order() -> tuple[str, ...]:
    """The profiles whose list endpoint detection tries, in registry order."""
    return tuple(name for name, entry in systems.profile_entries().items() if entry.detect)


class UnknownProfile(ConfigError):
    """A profile name that is not one of ``PROFILES``, or a profile file that cannot be used (one line)."""


def get_profile(name: str) -> Profile:
    """A built-in profile by name, or a profile file by path (``load_profile``)."""
    return load_profile(name)


def is_profile_file(spec: str) -> bool:
    """Whether ``--profile`` names a file rather than a built-in profile."""
    return spec not in PROFILES and (spec.endswith(".toml") or "/" in spec or os.sep in spec)


def load_profile(spec: str) -> Profile:
    """The profile ``spec`` names: a built-in name (``trading-service``) or a profile file's path.

    Raises ``UnknownProfile`` (a ``ConfigError``) with one line: the unknown name and the known
    ones, or, for a file, which file, which key and what is wrong (``profiles/file.py``).
    """
    try:
        return PROFILES[spec]
    except KeyError:
        pass
    if is_profile_file(spec):
        from migration_tui.sources.profiles.file import read_profile_file

        return read_profile_file(spec)
    from migration_tui.safe_text import clean

    raise UnknownProfile(
        f"unknown controller profile {clean(spec, 80)!r} (known: {', '.join(PROFILES)}; or a profile file PATH.toml)"
    )


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
    "NOT_SERVED_STATUSES",
    "Endpoint",
    "PROFILES",
    "Profile",
    "Reading",
    "UnknownProfile",
    "answers_like",
    "detection_order",
    "get_profile",
    "is_profile_file",
    "load_profile",
    "profile_from_health",
]
