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
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_PREFIX = "MIGRATION_TUI_"


class ConfigError(ValueError):
    """A config file or value that cannot be used; the message says which."""


#: The keys of a ``[[controllers]]`` block (contract "Controller blocks", version 1); ``kind``
#: (default ``http``) names another kind of source, whose own keys a system declares
#: (``systems.source_kinds()``).
CONTROLLER_KEYS = ("name", "url", "profile", "token_env", "migration")
HTTP_KIND = "http"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
MAX_CONTROLLERS = 64


@dataclass(frozen=True)
class ControllerSpec:
    """One controller to poll: a ``[[controllers]]`` block, a ``--controller NAME=URL``, or the one
    unnamed ``--controller URL`` (``name`` None: its migrations keep their plain ids)."""

    name: str | None
    url: str
    profile: str | None = None
    """A built-in profile name or a profile file's path; None: the settings' profile, else detected."""
    token_env: str | None = None
    """The environment variable that holds this controller's bearer token."""
    migration: str | None = None
    token: str | None = field(default=None, repr=False, compare=False)
    """The token itself, resolved from ``token_env`` (or the one global token); never shown."""
    where: str = ""
    """Where it was set, for error messages (``--controller``, ``config.toml [[controllers]] #2``)."""
    kind: str = HTTP_KIND
    """``http``: a controller's HTTP API at ``url``; else a system's own source (``systems.source_kinds()``)."""
    options: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)
    """That source's keys and values (DSNs that may hold passwords: never shown; see ``shown``)."""
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)
    """Every secret in ``token`` and ``options``: scrubbed from what is shown, logged, audited or recorded."""
    shown_as: str = ""
    """The options fit to show (passwords masked); empty for an HTTP controller."""

    @property
    def shown(self) -> str:
        """What to call where it is, on screen or in a message: its URL, or its options masked."""
        return self.shown_as or self.url


def check_controller_name(name: Any, where: str) -> str:
    """A controller name fit for the screen and for ids ``NAME:ID``; else one line naming the problem."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: a controller needs a name (letters, digits, . _ -)")
    if len(name) > 32 or not set(name) <= _NAME_CHARS:
        from migration_tui.safe_text import clean

        raise ConfigError(
            f"{where}: controller name {clean(name, 40)!r} is not usable: use up to 32 letters, digits, . _ or -"
        )
    return name


def token_env_for(name: str) -> str:
    """The environment variable a named controller's token is read from when its block names none."""
    return ENV_PREFIX + "TOKEN_" + "".join(c if c.isalnum() else "_" for c in name.upper())


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
    screenshot_dir: str | None = None
    """Where the screenshot key saves SVGs; default ``screenshots/`` under the user data directory."""
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
    relay: str | None = None
    """redis:// URL of a relay's Redis (``migration-tui relay``): read every source from its stream
    instead of polling them; with ``relay`` itself, where to write the stream."""
    relay_stream: str = "migration-tui:relay"
    """The relay's stream name (``--stream``)."""
    controllers: tuple[ControllerSpec, ...] = ()
    """Named controllers (``[[controllers]]`` blocks, or ``--controller`` given more than once or as
    ``NAME=URL``); empty when there is at most the one unnamed ``controller``."""

    def controller_specs(self) -> tuple[ControllerSpec, ...]:
        """Every controller to poll: the named ones, else the one unnamed ``controller`` (if set)."""
        if self.controllers:
            return self.controllers
        if self.controller:
            return (
                ControllerSpec(
                    None,
                    self.controller,
                    self.profile,
                    migration=self.migration,
                    token=self.token,
                    where="controller",
                    secrets=(self.token,) if self.token else (),
                ),
            )
        return ()

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict fit to print: the token is only said to be set."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["token"] = "(set)" if self.token else None
        out["prometheus_queries"] = dict(self.prometheus_queries)
        out["controllers"] = [
            {"name": c.name, "url": c.url, "profile": c.profile, "token_env": c.token_env, "migration": c.migration}
            if c.kind == HTTP_KIND
            else {"name": c.name, "kind": c.kind, "source": c.shown}
            for c in self.controllers
        ]
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
    "screenshot_dir": "SCREENSHOT_DIR",
    "environment": "ENV",
    "relay": "RELAY",
    "relay_stream": "RELAY_STREAM",
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
    blocks = values.pop("controllers", None)
    flagged = _blocks_from_kind_flags(cli)
    if flagged:
        # ``--pg-publisher ...`` as typed: they replace the config file's controllers, like ``--controller``.
        if isinstance(cli.get("controller"), (list, tuple)):
            raise ConfigError(
                "--controller and a source's own flags together: name each in [[controllers]] blocks instead"
            )
        blocks = flagged
        values.pop("controller", None)
    given = cli.get("controller")
    if isinstance(given, (list, tuple)):
        # ``--controller`` as typed (it may be repeated): they replace the config file's controllers.
        blocks = None
        values.pop("controller", None)
        if len(given) == 1 and "=" not in given[0]:
            values["controller"] = given[0]
        else:
            blocks = _controllers_from_flags(given)
        cli = {k: v for k, v in cli.items() if k != "controller"}
    for f in fields(Settings):
        if f.name in ("token", "controllers"):
            continue  # the token never from a flag; controllers above
        value = cli.get(f.name)
        if value is not None:
            values[f.name] = value
    try:
        settings = Settings(**values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None
    if blocks is not None:
        where = (
            "the command line"
            if flagged
            else "--controller"
            if isinstance(given, (list, tuple))
            else f"{path} [[controllers]]"
        )
        if settings.controller:
            raise ConfigError(f"{where}: set either controller = URL or [[controllers]] blocks, not both")
        settings = replace(settings, controllers=_controller_specs(blocks, settings, env, where))
    for name in ("poll_interval_s", "timeout_s"):
        number = getattr(settings, name)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0.05 <= number <= 3600:
            raise ConfigError(f"{name} must be a number of seconds between 0.05 and 3600")
    if not isinstance(settings.bell, bool):
        raise ConfigError("bell must be true or false")
    if not isinstance(settings.prometheus_queries, Mapping):
        raise ConfigError("prometheus_queries must be a table of series name = PromQL")
    return settings


def flag_dest(flag: str) -> str:
    """The argparse ``dest`` of a source kind's flag (``--pg-publisher`` -> ``kind_pg_publisher``)."""
    return "kind_" + flag.lstrip("-").replace("-", "_")


def _blocks_from_kind_flags(cli: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One unnamed block per source kind whose flags were typed (``systems.source_kinds()``)."""
    from migration_tui import systems

    blocks: list[dict[str, Any]] = []
    for kind in systems.source_kinds().values():
        given = {key: cli[flag_dest(flag)] for flag, key, _ in kind.flags if cli.get(flag_dest(flag)) is not None}
        if given:
            blocks.append({"kind": kind.kind, **given})
    return blocks


def _controllers_from_flags(given: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """``--controller`` values as controller blocks: ``NAME=URL``, or a URL named after its host."""
    from urllib.parse import urlsplit

    blocks: list[dict[str, Any]] = []
    for value in given:
        name, sep, url = value.partition("=")
        if sep and "://" not in name:
            blocks.append({"name": name, "url": url})
            continue
        try:
            parts = urlsplit(value)
            host = parts.hostname or ""
            port = parts.port
        except ValueError:
            host, port = "", None
        blocks.append({"name": host or "controller", "url": value, "_port": port})
    hosts = [block["name"] for block in blocks if "_port" in block]
    for block in blocks:
        port = block.pop("_port", "named")
        if port != "named" and hosts.count(block["name"]) > 1:
            block["name"] = f"{block['name']}-{port}" if port else block["name"]
    return blocks


def _controller_specs(
    blocks: Any, settings: Settings, env: Mapping[str, str], where: str
) -> tuple[ControllerSpec, ...]:
    """Checked controller specs, each with its token resolved (see README, "Many controllers")."""
    if not isinstance(blocks, list) or not all(isinstance(b, Mapping) for b in blocks):
        raise ConfigError(f"{where}: controllers must be [[controllers]] tables")
    if not blocks:
        return ()
    if len(blocks) > MAX_CONTROLLERS:
        raise ConfigError(f"{where}: {len(blocks)} controllers; at most {MAX_CONTROLLERS}")
    specs: list[ControllerSpec] = []
    seen: set[str] = set()
    for number, block in enumerate(blocks, 1):
        at = f"{where} #{number}"
        kind = block.get("kind", HTTP_KIND)
        if kind != HTTP_KIND:
            specs.append(_source_kind_spec(block, kind, settings, at, unnamed=where == "the command line"))
            if specs[-1].name in seen:
                raise ConfigError(f"{at}: the name {specs[-1].name!r} is used twice; each controller needs its own")
            seen.add(specs[-1].name or "")
            continue
        unknown = sorted(set(block) - {*CONTROLLER_KEYS, "kind"})
        if unknown:
            raise ConfigError(f"{at}: unknown key(s): {', '.join(map(str, unknown))}")
        name = check_controller_name(block.get("name"), at)
        at = f"{where} {name!r}"
        if name in seen:
            raise ConfigError(f"{at}: the name is used twice; each controller needs its own")
        seen.add(name)
        for key in ("url", "profile", "token_env", "migration"):
            if key in block and not isinstance(block[key], str):
                raise ConfigError(f"{at}: {key} must be a string")
        url = block.get("url")
        if not url:
            raise ConfigError(f"{at}: no url")
        token_env = block.get("token_env") or None
        token = env.get(token_env or token_env_for(name)) or None
        if token is None and token_env is None and len(blocks) == 1:
            token = settings.token  # one controller: MIGRATION_TUI_TOKEN is its token
        specs.append(
            ControllerSpec(
                name,
                url,
                block.get("profile") or settings.profile,
                token_env,
                block.get("migration") or settings.migration,
                token=token,
                where=at,
                secrets=(token,) if token else (),
            )
        )
    return tuple(specs)


def _source_kind_spec(
    block: Mapping[str, Any], kind: Any, settings: Settings, at: str, unnamed: bool
) -> ControllerSpec:
    """A block of a system's own kind of source, its keys checked and its secrets found."""
    from migration_tui import systems
    from migration_tui.systems.base import load

    known = systems.source_kinds()
    if not isinstance(kind, str) or kind not in known:
        from migration_tui.safe_text import clean

        kinds = ", ".join([HTTP_KIND, *known])
        raise ConfigError(f"{at}: unknown kind {clean(kind, 40)!r} (known: {kinds})")
    source_kind = known[kind]
    unknown = sorted(set(block) - {"name", "kind", *source_kind.keys})
    if unknown:
        raise ConfigError(f"{at}: unknown key(s) for kind {kind}: {', '.join(map(str, unknown))}")
    name = None if unnamed else check_controller_name(block.get("name"), at)
    if name is not None:
        at = f"{at.rsplit(' #', 1)[0]} {name!r}"
    for key in source_kind.keys:
        if key in block and not isinstance(block[key], str):
            raise ConfigError(f"{at}: {key} must be a string")
    missing = [key for key in source_kind.required if not block.get(key)]
    if missing:
        flags = {key: flag for flag, key, _ in source_kind.flags}
        said = [flags.get(key, key) if unnamed else key for key in missing]
        raise ConfigError(f"{at}: kind {kind} needs {' and '.join(said)}")
    options = tuple((key, block[key]) for key in source_kind.keys if block.get(key))
    secrets = tuple(load(source_kind.secrets)(dict(options))) if source_kind.secrets else ()
    shown = load(source_kind.shown)(dict(options)) if source_kind.shown else kind
    return ControllerSpec(
        name,
        "",
        migration=settings.migration,
        where=at,
        kind=kind,
        options=options,
        secrets=secrets,
        shown_as=shown,
    )


_URL_SCHEMES = {
    "controller": ("http", "https"),
    "prometheus": ("http", "https"),
    "redis": ("redis", "rediss", "unix"),
    "relay": ("redis", "rediss", "unix"),
}
_URL_FLAGS = {"controller": "--controller", "prometheus": "--prometheus", "redis": "--redis", "relay": "--relay"}


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
    for spec in settings.controllers:
        if spec.kind != HTTP_KIND:
            continue  # a system's own source checks its options itself
        _check_url(spec.url, _URL_SCHEMES["controller"], f"controller {spec.name} URL", f"({spec.where})")


def _check_url(value: str, schemes: tuple[str, ...], what: str, where: str) -> None:
    from urllib.parse import urlsplit

    from migration_tui.safe_text import clean

    shown = clean(value, 80)
    expected = " or ".join(f"{scheme}://" for scheme in schemes) + "HOST[:PORT]"
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError as exc:
        raise ConfigError(f"{what} {shown!r} is not usable: {exc} {where}") from None
    if parts.scheme.lower() not in schemes:
        raise ConfigError(f"{what} {shown!r} is not usable: expected {expected} {where}")
    if not parts.hostname:
        raise ConfigError(f"{what} {shown!r} names no host: expected {expected} {where}")
