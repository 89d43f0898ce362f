"""Settings: one typed object, built once from CLI > environment > TOML file.

The precedence is written here and nowhere else. A command-line value wins
only if the user typed it (argparse defaults are ``None``). The token comes
from ``MIGRATION_TUI_TOKEN`` or the config file, never from a flag, and is
kept out of ``repr`` so it cannot leak into a log or a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_PREFIX = "MIGRATION_TUI_"


class ConfigError(ValueError):
    """A config file or value that cannot be used; the message says which."""


@dataclass(frozen=True)
class Settings:
    controller: str | None = None
    """Base URL of the migration controller's HTTP API."""
    prometheus: str | None = None
    """Base URL of a Prometheus server to query for latency, errors and the fleet's resources."""
    redis: str | None = None
    """redis:// URL of the Redis that carries heartbeats and migration events."""
    token: str | None = field(default=None, repr=False)
    """Bearer token for the controller; environment or config file only."""
    profile: str | None = None
    """Controller profile (one per seed system); detected when not given."""
    migration: str | None = None
    """Watch this migration id only; otherwise every active one is discovered."""
    read_only: bool = False
    """Build no action client: no key, palette entry or click can send anything."""
    record: str | None = None
    """Also write every event to this recording file."""
    theme: str | None = None
    """Theme name (see themes/)."""
    rules_file: str | None = None
    """A rules TOML file to use instead of the built-in one."""
    audit_log: str | None = None
    """Where operator decisions are appended; default under the user state directory."""
    bell: bool = True
    """Ring the terminal bell when a rule starts firing (once per rule per migration)."""
    poll_interval_s: float = 2.0
    """Seconds between polls of the controller and Prometheus."""
    timeout_s: float = 5.0
    """Seconds before a request to a source counts as failed."""
    insecure: bool = False
    """Skip TLS certificate verification (shown on screen when set)."""
    environment: str | None = None
    """A name for the environment watched (e.g. ``prod``), shown on screen; else the controller's host is."""
    prometheus_queries: Mapping[str, Any] = field(default_factory=dict)
    """Per series name, a PromQL string or a table ``{query, unit, by}`` overriding the profile's template
    (see migration_tui/data/promql.toml)."""

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict fit to print: the token is only said to be set."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["token"] = "(set)" if self.token else None
        out["prometheus_queries"] = dict(self.prometheus_queries)
        return out


_ENV_KEYS = {
    "controller": "CONTROLLER",
    "prometheus": "PROMETHEUS",
    "redis": "REDIS",
    "token": "TOKEN",
    "profile": "PROFILE",
    "migration": "MIGRATION",
    "theme": "THEME",
    "rules_file": "RULES",
    "audit_log": "AUDIT_LOG",
    "environment": "ENV",
}


def default_config_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("migration-tui")) / "config.toml"


def read_config_file(path: Path | None, required: bool = False) -> dict[str, Any]:
    if path is None or not path.exists():
        if required and path is not None:
            raise ConfigError(f"config file not found: {path}")
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s): {', '.join(unknown)}")
    return doc


def build_settings(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Settings:
    """CLI (values not None) over environment over file over defaults."""
    env = os.environ if env is None else env
    cli = cli or {}
    explicit = cli.get("config") or env.get(ENV_PREFIX + "CONFIG")
    path = Path(explicit) if explicit else (config_path or default_config_path())
    values: dict[str, Any] = dict(read_config_file(path, required=bool(explicit)))
    for name, suffix in _ENV_KEYS.items():
        value = env.get(ENV_PREFIX + suffix)
        if value:
            values[name] = value
    for f in fields(Settings):
        if f.name == "token":
            continue  # never from a flag
        value = cli.get(f.name)
        if value is not None:
            values[f.name] = value
    try:
        settings = Settings(**values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None
    for name in ("poll_interval_s", "timeout_s"):
        number = getattr(settings, name)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0.05 <= number <= 3600:
            raise ConfigError(f"{name} must be a number of seconds between 0.05 and 3600")
    if not isinstance(settings.bell, bool):
        raise ConfigError("bell must be true or false")
    if not isinstance(settings.prometheus_queries, Mapping):
        raise ConfigError("prometheus_queries must be a table of series name = PromQL")
    return settings


_URL_SCHEMES = {
    "controller": ("http", "https"),
    "prometheus": ("http", "https"),
    "redis": ("redis", "rediss", "unix"),
}
_URL_FLAGS = {"controller": "--controller", "prometheus": "--prometheus", "redis": "--redis"}


def check_source_urls(settings: Settings) -> None:
    """Refuse a source URL that cannot work (wrong scheme, no host, bad port) with one line naming it.

    Called at startup by the commands that poll sources (watch, wall, record,
    check), so a typo is an error at once rather than a source failing forever.
    The value shown is cleaned and shortened: it may come from a file.
    """
    from urllib.parse import urlsplit

    from migration_tui.safe_text import clean

    for name, schemes in _URL_SCHEMES.items():
        value = getattr(settings, name)
        if value is None:
            continue
        where = f"(from {_URL_FLAGS[name]}, MIGRATION_TUI_{_ENV_KEYS[name]} or the config file)"
        if not isinstance(value, str):
            raise ConfigError(f"{name} URL must be a string {where}")
        shown = clean(value, 80)
        expected = " or ".join(f"{scheme}://" for scheme in schemes if scheme != "unix") + "HOST[:PORT]"
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
        except ValueError as exc:
            raise ConfigError(f"{name} URL {shown!r} is not usable: {exc} {where}") from None
        if parts.scheme.lower() not in schemes:
            raise ConfigError(f"{name} URL {shown!r} is not usable: expected {expected} {where}")
        if parts.scheme.lower() == "unix":
            if not parts.path:
                raise ConfigError(f"{name} URL {shown!r} names no socket path {where}")
        elif not parts.hostname:
            raise ConfigError(f"{name} URL {shown!r} names no host: expected {expected} {where}")
