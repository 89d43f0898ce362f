"""``migration-tui check``: can every configured source be reached, right now?

Run before a migration window (or from a cron/CI smoke test) to find a wrong
URL, a firewall or a dead Redis before the dashboard is needed. One line per
source; for the controller, then one line per endpoint the dashboard polls,
each ``served``, ``not served`` (an optional endpoint that answered 404, 405 or
501: that part of the screen is absent, nothing is wrong) or ``failing (why)``.
``UNREACHABLE`` means no answer at all; any HTTP answer is an answer.

Exit status 0 if every configured source answered and, for the controller,
every required endpoint is served and none is failing; 1 otherwise; 2 if no
source is configured. The token is never sent to a health endpoint and never
printed (the API endpoints get it, as the dashboard's polls do); passwords in
URLs are masked.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

from migration_tui.sources.http import FetchError

DETAIL_CHARS = 120
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]+")

Probe = Callable[[str, Any], tuple[bool, str]]


def _clean(text: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    flat = _UNPRINTABLE.sub(" ", text).strip()
    return flat if len(flat) <= DETAIL_CHARS else flat[: DETAIL_CHARS - 1] + "…"


def masked_url(url: str) -> str:
    """The URL fit to print: user and password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _clean(url)
    if parts.username is None and parts.password is None:
        return _clean(url)
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return _clean(urlunsplit(parts._replace(netloc=netloc)))


def _secrets(url: str, settings: Any) -> tuple[str, ...]:
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return tuple(s for s in (settings.token, password) if s)


def _http_probe(url: str, settings: Any) -> tuple[bool, str]:
    ok, detail, _body = _http_get(url, settings)
    return ok, detail


def _http_get(url: str, settings: Any) -> tuple[bool, str, Any]:
    """GET ``url`` without the token: (2xx, what to print, the JSON body or None)."""
    import httpx

    try:
        answer = httpx.get(url, timeout=settings.timeout_s, follow_redirects=False, verify=not settings.insecure)
    except httpx.TimeoutException:
        return False, f"timed out after {settings.timeout_s:g} s", None
    except httpx.HTTPError as exc:
        return False, _clean(str(exc) or type(exc).__name__, _secrets(url, settings)), None
    if answer.is_redirect:
        target = urlsplit(answer.headers.get("location", "")).hostname or "another path"
        return False, f"HTTP {answer.status_code}: redirects to {_clean(target)}; not followed", None
    if not answer.is_success:
        return False, f"HTTP {answer.status_code}", None
    detail = f"HTTP {answer.status_code}"
    try:
        body = answer.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("service"), str):
        detail += f", service {_clean(body['service'])[:40]}"
    return True, detail, body


def probe_controller(base: str, settings: Any) -> tuple[bool, str]:
    """``GET /health`` without the token: whether anything answers (any HTTP answer is one)."""
    return _http_probe(base.rstrip("/") + "/health", settings)


@dataclass(frozen=True)
class EndpointCheck:
    """One controller endpoint as ``check`` found it."""

    path: str
    required: bool
    state: str  # "served" | "not served" | "failing"
    detail: str = ""
    #: For a profile file: field by field, what the first item held and what it maps to.
    fields: tuple[Any, ...] = ()

    @property
    def fit(self) -> bool:
        """Whether the dashboard can use this endpoint as its profile describes it."""
        if self.state == "not served":
            return not self.required
        return self.state == "served" and not any(report.problem for report in self.fields)


def _reason(error: FetchError, path: str) -> str:
    """A FetchError's message without its ``GET <path>: `` prefix."""
    prefix = f"GET {path}: "
    return error.message[len(prefix) :] if error.message.startswith(prefix) else error.message


async def survey_controller(settings: Any, health: Any = None) -> tuple[str | None, list[EndpointCheck]]:
    """GET each endpoint the dashboard polls once, with the source's own client; the profile and each result.

    ``health``: the ``/health`` answer already read (without the token). The per-migration
    endpoints are asked for one listed migration (a running one if any).
    """
    from migration_tui.sources.controller import ControllerSource

    source = ControllerSource.from_settings(settings, poll_interval_s=1.0)
    async with source.make_client() as client:
        profile = await source.detect_profile(client, health)
        if profile is None:
            why = "cannot tell which controller profile this is; set --profile"
            return None, [EndpointCheck("/health", True, "failing", why)]
        try:
            body = await source.get(client, profile.list_path)
        except FetchError as exc:
            return profile.name, [EndpointCheck(profile.list_path, True, "failing", _reason(exc, profile.list_path))]
        explain = getattr(profile, "explain", None)  # a profile file says field by field what it found
        items, errors = profile.discover(body)
        if settings.migration:
            items = [item for item in items if item["id"] == settings.migration]
        listed = f"{len(items)} migration{'' if len(items) == 1 else 's'}"
        if explain is not None:
            errors = []  # the field lines below say it, one by one
        fields = tuple(explain("migrations", body)) if explain is not None else ()
        checks = [EndpointCheck(profile.list_path, True, "served", "; ".join([listed, *errors]), fields)]
        running = [item for item in items if profile.wants_detail(item)] or items
        paths = profile.paths(running[:1])
        first_id = running[0]["id"] if running else None
        answers = await asyncio.gather(
            *(source.get(client, path, as_text=key == "metrics") for key, path in paths.items()),
            return_exceptions=True,
        )
        for (key, path), answer in zip(paths.items(), answers, strict=True):
            endpoint = profile.endpoint(key)
            required = not endpoint.optional
            if not isinstance(answer, BaseException):
                fields = tuple(explain(key, answer, first_id)) if explain is not None else ()
                checks.append(EndpointCheck(endpoint.path, required, "served", "", fields))
            elif isinstance(answer, FetchError) and profile.not_served(key, answer.status) is not None:
                lacking = f": {endpoint.what} not shown" if endpoint.what else ""
                checks.append(EndpointCheck(endpoint.path, required, "not served", f"HTTP {answer.status}{lacking}"))
            elif isinstance(answer, FetchError):
                checks.append(EndpointCheck(endpoint.path, required, "failing", _reason(answer, path)))
            else:
                checks.append(EndpointCheck(endpoint.path, required, "failing", type(answer).__name__))
        return profile.name, checks


def _health_path(settings: Any) -> str:
    """``/health``, or the ``health`` path a profile file names (a profile that cannot be read: ``/health``)."""
    from migration_tui.sources.profiles import load_profile

    if not settings.profile:
        return "/health"
    try:
        return getattr(load_profile(settings.profile), "health_path", None) or "/health"
    except ValueError:
        return "/health"  # survey_controller says why, below


def _field_line(report: Any, secrets: tuple[str, ...]) -> str:
    """One field of a profile file: its key, JMESPath, what the first item held and what it maps to."""
    expression = _clean(repr(report.expression), secrets)[:40]
    found = _clean(report.found, secrets)
    if report.maps_to:
        found += f" -> {_clean(report.maps_to, secrets)}"
    if report.problem:
        found += "  MISSING (required)" if report.found in ("not found", "no list") else "  NOT USABLE"
    return f"{'':<11} {'':<10}  {_clean(report.key):<28} {expression:<22} {found}"


def _controller_lines(url: str, settings: Any, out: TextIO, name: str | None = None) -> bool:
    """The controller's line and one per endpoint; True if it is fit to watch (see the module docstring)."""
    ok, detail, health = _http_get(url.rstrip("/") + _health_path(settings), settings)
    label = f"controller {_clean(name)}" if name else "controller"
    if not ok and not detail.startswith("HTTP "):  # any HTTP status is an answer
        print(f"{label:<11} {masked_url(url)}  UNREACHABLE ({detail})", file=out)
        return False
    print(f"{label:<11} {masked_url(url)}  {'reachable' if ok else 'answers'} ({detail})", file=out)
    from migration_tui.config import ConfigError

    try:
        profile, checks = asyncio.run(survey_controller(settings, health))
    except ConfigError as exc:
        print(f"{'':<11} {_clean(str(exc), _secrets(url, settings))}", file=out)
        return False
    if profile is not None:
        print(f"{'':<11} profile {_clean(profile)}", file=out)
    secrets = _secrets(url, settings)
    for item in checks:
        kind = "required" if item.required else "optional"
        why = f" ({_clean(item.detail, secrets)})" if item.detail else ""
        print(f"{'':<11} {item.state:<10}  GET {_clean(item.path)}  [{kind}]{why}", file=out)
        for report in item.fields:
            print(_field_line(report, secrets), file=out)
    return all(item.fit for item in checks)


def probe_prometheus(base: str, settings: Any) -> tuple[bool, str]:
    return _http_probe(base.rstrip("/") + "/-/healthy", settings)


def probe_redis(url: str, settings: Any) -> tuple[bool, str]:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=settings.timeout_s, socket_timeout=settings.timeout_s)
    except ValueError as exc:
        return False, f"bad URL: {_clean(str(exc), _secrets(url, settings))}"
    try:
        started = time.perf_counter()
        client.ping()
        return True, f"PING {(time.perf_counter() - started) * 1000:.1f} ms"
    except (redis.RedisError, OSError) as exc:
        return False, _clean(str(exc) or type(exc).__name__, _secrets(url, settings))
    finally:
        client.close()


def _own_source_lines(spec: Any, settings: Any, out: TextIO) -> bool:
    """A system's own source (``[[controllers]] kind = ...``): its check's lines, passwords masked."""
    from migration_tui import systems
    from migration_tui.systems.base import load

    ok, lines = load(systems.source_kinds()[spec.kind].check)(spec, settings)
    named = f" {spec.name}" if spec.name else ""
    print(f"{spec.kind}{named}  {'reachable' if ok else 'UNREACHABLE'}", file=out)
    for line in lines:
        print(f"  {_clean(line, spec.secrets)}", file=out)
    return ok


def check(settings: Any, out: TextIO | None = None) -> int:
    """Probe every configured source; print one line each (the controller's endpoints below it); exit status."""
    out = out or sys.stdout
    from dataclasses import replace

    probes: list[tuple[str, str, Probe]] = [
        (name, url, probe)
        for name, url, probe in (
            ("prometheus", settings.prometheus, probe_prometheus),
            ("redis", settings.redis, probe_redis),
        )
        if url
    ]
    specs = settings.controller_specs()
    if not probes and not specs:
        print(
            "no source configured: give --controller, --prometheus or --redis "
            "(or MIGRATION_TUI_CONTROLLER, MIGRATION_TUI_PROMETHEUS, MIGRATION_TUI_REDIS)",
            file=out,
        )
        return 2
    reachable = 0
    for spec in specs:
        if spec.kind != "http":
            reachable += _own_source_lines(spec, settings, out)
            continue
        # Each controller as if it were the only one: its own profile, token and migration.
        own = replace(
            settings,
            controller=spec.url,
            profile=spec.profile,
            token=spec.token,
            migration=spec.migration,
            controllers=(),
        )
        reachable += _controller_lines(spec.url, own, out, spec.name)
    for name, url, probe in probes:
        ok, detail = probe(url, settings)
        reachable += ok
        print(f"{name:<11} {masked_url(url)}  {'reachable' if ok else 'UNREACHABLE'} ({detail})", file=out)
    return 0 if reachable == len(probes) + len(specs) else 1
