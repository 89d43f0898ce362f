"""``migration-tui check``: can every configured source be reached, right now?

Run before a migration window (or from a cron/CI smoke test) to find a wrong
URL, a firewall or a dead Redis before the dashboard is needed. One line per
source; exit status 0 if every configured source answered, 1 if any did not,
2 if none is configured. The token is never sent to a health endpoint and
never printed; passwords in URLs are masked.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

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
    import httpx

    try:
        answer = httpx.get(url, timeout=settings.timeout_s, follow_redirects=False, verify=not settings.insecure)
    except httpx.TimeoutException:
        return False, f"timed out after {settings.timeout_s:g} s"
    except httpx.HTTPError as exc:
        return False, _clean(str(exc) or type(exc).__name__, _secrets(url, settings))
    if answer.is_redirect:
        target = urlsplit(answer.headers.get("location", "")).hostname or "another path"
        return False, f"HTTP {answer.status_code}: redirects to {_clean(target)}; not followed"
    if not answer.is_success:
        return False, f"HTTP {answer.status_code}"
    detail = f"HTTP {answer.status_code}"
    try:
        body = answer.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("service"), str):
        detail += f", service {_clean(body['service'])[:40]}"
    return True, detail


def probe_controller(base: str, settings: Any) -> tuple[bool, str]:
    return _http_probe(base.rstrip("/") + "/health", settings)


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


def check(settings: Any, out: TextIO | None = None) -> int:
    """Probe every configured source; print one line each; 0 all reachable, 1 any not, 2 none configured."""
    out = out or sys.stdout
    probes: list[tuple[str, str, Probe]] = [
        (name, url, probe)
        for name, url, probe in (
            ("controller", settings.controller, probe_controller),
            ("prometheus", settings.prometheus, probe_prometheus),
            ("redis", settings.redis, probe_redis),
        )
        if url
    ]
    if not probes:
        print(
            "no source configured: give --controller, --prometheus or --redis "
            "(or MIGRATION_TUI_CONTROLLER, MIGRATION_TUI_PROMETHEUS, MIGRATION_TUI_REDIS)",
            file=out,
        )
        return 2
    reachable = 0
    for name, url, probe in probes:
        ok, detail = probe(url, settings)
        reachable += ok
        print(f"{name:<11} {masked_url(url)}  {'reachable' if ok else 'UNREACHABLE'} ({detail})", file=out)
    return 0 if reachable == len(probes) else 1
