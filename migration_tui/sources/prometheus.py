"""The Prometheus source: latency, error rate, throughput and the fleet's resources.

Each poll runs one instant query per series name (the PromQL templates of
each system's ``promql.toml`` (``migration_tui/systems/*/``) for the profile, overridden by
``Settings.prometheus_queries``), all evaluated at the same instant, and fans
the results into one ``metrics`` event, so a series costs one query per
interval however many widgets show it. ``fleet/*`` series become a ``host``
event with ``scope: "fleet"``. At start, and after Prometheus was out of
reach, a range query per series backfills the sparklines: one ``metrics``
event per timestamp, in time order, stamped with the samples' own time.

prometheus-api-client blocks (it is built on requests), so each call runs in
a thread, and it is imported lazily because it pulls in requests and more.
Its own retries are switched off: ``sources.base.Backoff`` decides when to
try again, and a Prometheus that is down must show as down within a poll.
"""

from __future__ import annotations

import ast
import asyncio
import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from migration_tui.events import Event
from migration_tui.model import MAX_ABS, finite
from migration_tui.sources.base import INSECURE_WARNING, Backoff, Clock, Emit, wall_clock

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FLEET_PREFIX = "fleet/"
#: How far back the first range query reaches, so sparklines are full at once.
BACKFILL_S = 900.0
#: Most timestamps one backfill asks for; a shorter poll interval gets a coarser backfill.
MAX_BACKFILL_POINTS = 5000
#: Most label values one ``by`` template may fan out to; more are dropped.
MAX_LABELS = 256
MAX_CONCURRENT_QUERIES = 4
ERROR_CHARS = 160

_UNITS = ("seconds", "ms", "ratio", "percent", "bytes", "mb", "count")
_SCALE: dict[tuple[str, str], float] = {
    ("seconds", "ms"): 1000.0,
    ("ms", "ms"): 1.0,
    ("ratio", "percent"): 100.0,
    ("percent", "percent"): 1.0,
    ("bytes", "mb"): 1.0 / (1024 * 1024),
    ("mb", "mb"): 1.0,
}
_LABEL_VALUE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]+")


class TemplateError(ValueError):
    """A PromQL template that cannot be used; the message names the series."""


def series_unit(series: str) -> str | None:
    """The unit a series name promises by its suffix, or None for counts and rates."""
    if series.endswith("_ms"):
        return "ms"
    if series.endswith(("_pct", "_percent")):
        return "percent"
    if series.endswith("_mb"):
        return "mb"
    return None


#: Valid range of a series by the unit its name promises: none of them can be negative.
_UNIT_RANGE: dict[str, tuple[float, float]] = {
    "ms": (0.0, 86_400_000.0),
    "percent": (0.0, 100.0),
    "mb": (0.0, 1e12),
}


def series_range(series: str) -> tuple[float, float]:
    """The values a series can truly take: ``_ms`` and ``_mb`` are never negative, ``_pct`` is 0..100.

    ``_percent`` (CPU of a fleet) may pass 100 on many cores; series without a unit suffix are
    only bounded by the model's limit.
    """
    unit = series_unit(series)
    if unit is None:
        return (-MAX_ABS, MAX_ABS)
    if unit == "percent" and not series.endswith("_pct"):
        return (0.0, 100.0 * 4096)
    return _UNIT_RANGE[unit]


def unit_scale(series: str, unit: str | None) -> float:
    """The factor that turns a query's ``unit`` into the unit of ``series``."""
    target = series_unit(series)
    if unit is None:
        return 1.0
    if unit not in _UNITS:
        raise TemplateError(f"{series}: unknown unit {unit!r} (one of {', '.join(_UNITS)})")
    if target is None:
        if unit != "count":
            raise TemplateError(f"{series}: a query in {unit} cannot fill a series without a unit suffix")
        return 1.0
    scale = _SCALE.get((unit, target))
    if scale is None:
        raise TemplateError(f"{series}: a query in {unit} cannot fill a series in {target}")
    return scale


@dataclass(frozen=True, slots=True)
class QueryTemplate:
    """One series and the PromQL that fills it."""

    series: str
    query: str
    unit: str | None = None
    by: str | None = None

    @property
    def scale(self) -> float:
        return unit_scale(self.series, self.unit)

    @property
    def is_fleet(self) -> bool:
        return self.series.startswith(FLEET_PREFIX)


def _template(series: str, spec: Any, base: QueryTemplate | None = None) -> QueryTemplate:
    if isinstance(spec, str):
        spec = {"query": spec}
    if not isinstance(spec, Mapping) or not isinstance(spec.get("query"), str) or not spec["query"].strip():
        raise TemplateError(f"{series}: needs a PromQL string or a table with `query`")
    unknown = set(spec) - {"query", "unit", "by"}
    if unknown:
        raise TemplateError(f"{series}: unknown key(s) {', '.join(sorted(unknown))}")
    inherited = base if base is not None and "unit" not in spec and "by" not in spec else None
    template = QueryTemplate(
        series=series,
        query=spec["query"],
        unit=spec.get("unit", inherited.unit if inherited else None),
        by=spec.get("by", inherited.by if inherited else None),
    )
    template.scale  # noqa: B018 - validates the unit now, not at the first poll
    return template


def default_profile() -> str:
    """The profile whose PromQL runs when none is known: the first registered system's first."""
    from migration_tui import systems

    return systems.default().profiles[0].name


def load_templates(profile: str, overrides: Mapping[str, Any] | None = None) -> dict[str, QueryTemplate]:
    """The profile's templates plus the fleet's, with ``overrides`` (series name -> PromQL) applied."""
    from importlib.resources import files

    from migration_tui import systems

    doc = tomllib.loads(files("migration_tui.data").joinpath("promql.toml").read_text(encoding="utf-8"))
    doc.update(tomllib.loads(systems.promql_text()))
    if profile not in doc or profile == "fleet":
        raise TemplateError(f"no PromQL templates for profile {profile!r}")
    templates: dict[str, QueryTemplate] = {}
    for table in (doc.get("fleet", {}), doc[profile]):
        for series, spec in table.items():
            templates[series] = _template(series, spec)
    for series, spec in (overrides or {}).items():
        templates[series] = _template(str(series), spec, templates.get(str(series)))
    return templates


def one_line(message: str, limit: int = ERROR_CHARS) -> str:
    """Outside text fit for one line of a ``source_error``: no control characters, short."""
    flat = _UNPRINTABLE.sub(" ", message).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Unreachable(Exception):
    """Prometheus did not answer at all (refused, timed out): one error for the whole poll."""


def _describe(exc: BaseException) -> tuple[bool, str]:
    """(is the server unreachable, a short message) for an exception from a query."""
    import requests

    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        kind = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "connection refused or lost"
        return True, kind
    text = str(exc)
    status = re.search(r"HTTP Status Code (\d{3}) \((b['\"].*['\"])\)$", text, re.DOTALL)
    if status:
        return False, f"HTTP {status.group(1)}: {_error_body(status.group(2))}"
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return False, "the answer is not a Prometheus query result"
    return False, f"{type(exc).__name__}: {text}"


def _error_body(body_repr: str) -> str:
    """Prometheus's own "error" text from the repr of a response body the client put in its message."""
    try:
        body = json.loads(ast.literal_eval(body_repr))
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return "no reason given"  # not a body we can read, e.g. JSON nested past the parser's depth
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) and error else "no reason given"


def _sample(raw: Any) -> tuple[float, float | None] | None:
    """(timestamp, value or None) from a ``[ts, "value"]`` pair; None if it is not one."""
    if not isinstance(raw, (list, tuple)) or len(raw) != 2:
        return None
    ts = finite(raw[0], 0.0, 1e11)
    if ts is None:
        return None
    try:
        value: float | None = float(raw[1])
    except (TypeError, ValueError):
        value = None
    return ts, value


class PrometheusSource:
    """Polls Prometheus with one instant query per series; backfills with range queries."""

    name = "prometheus"

    @property
    def warnings(self) -> tuple[str, ...]:
        return (INSECURE_WARNING,) if self.insecure and self.url.startswith("https:") else ()

    def __init__(
        self,
        url: str,
        templates: Mapping[str, QueryTemplate],
        poll_interval_s: float = 2.0,
        timeout_s: float = 5.0,
        backfill_s: float = BACKFILL_S,
        insecure: bool = False,
        clock: Clock = wall_clock,
        backoff: Backoff | None = None,
        profile_of: Callable[[], str | None] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        #: Where to learn the profile once the controller source has detected it;
        #: the templates follow it (see ``_follow_profile``).
        self._profile_of = profile_of
        self._overrides = overrides
        self._profile: str | None = None
        parts = urlsplit(self.url)
        #: The URL fit for an error message: any user and password left out.
        self.display_url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        self.templates = dict(templates)
        self.poll_interval_s = poll_interval_s
        self.timeout_s = timeout_s
        self.backfill_s = backfill_s
        self.insecure = insecure
        self.clock = clock
        self.backoff = backoff or Backoff(base_s=poll_interval_s, cap_s=max(30.0, poll_interval_s))
        self.labels_seen: dict[str, set[str]] = {}
        self._client: Any = None
        self._limit = asyncio.Semaphore(MAX_CONCURRENT_QUERIES)

    @classmethod
    def from_settings(cls, settings: Any, profile: str | None = None, **kwargs: Any) -> PrometheusSource:
        """A source for ``settings.prometheus``; ``profile`` (e.g. the one the controller detected) picks the templates."""
        if not settings.prometheus:
            raise ValueError("no Prometheus URL configured")
        from migration_tui import systems

        # A profile file (a path) has no PromQL table of its own: the default templates serve it.
        named = settings.profile if settings.profile in systems.profile_entries() else None
        chosen = profile or named or default_profile()
        kwargs.setdefault("overrides", settings.prometheus_queries)
        return cls(
            settings.prometheus,
            load_templates(chosen, settings.prometheus_queries),
            poll_interval_s=settings.poll_interval_s,
            timeout_s=settings.timeout_s,
            insecure=settings.insecure,
            **kwargs,
        )

    # --- the client, in threads ------------------------------------------------

    def _connect(self) -> Any:
        if self._client is None:
            from prometheus_api_client import PrometheusConnect
            from urllib3.util.retry import Retry

            self._client = PrometheusConnect(
                url=self.url, disable_ssl=self.insecure, retry=Retry(total=0), timeout=self.timeout_s
            )
        return self._client

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        async with self._limit:
            client = self._connect()
            return await asyncio.to_thread(getattr(client, method), *args, **kwargs)

    # --- the loop ----------------------------------------------------------------

    def _follow_profile(self, emit: Emit) -> bool:
        """Switch templates when the controller's detected profile changes; True if they did."""
        if self._profile_of is None:
            return False
        profile = self._profile_of()
        if not profile or profile == self._profile:
            return False
        try:
            templates = load_templates(profile, self._overrides)
        except TemplateError as exc:
            emit(Event(self.clock(), self.name, "source_error", {"error": f"prometheus: {exc}"}))
            self._profile = profile
            return False
        self._profile = profile
        self.templates = templates
        return True

    async def run(self, emit: Emit) -> None:
        """Backfill, then poll every interval until cancelled; never raises for the outside world."""
        backfill_from: float | None = self.clock() - self.backfill_s
        try:
            while True:
                now = self.clock()
                if self._follow_profile(emit):
                    backfill_from = now - self.backfill_s
                try:
                    if backfill_from is not None:
                        await self.backfill(emit, backfill_from, now - self.poll_interval_s / 2)
                        backfill_from = None
                    await self.poll(emit, now)
                except Unreachable as exc:
                    emit(Event(self.clock(), self.name, "source_error", {"error": f"prometheus: {exc}"}))
                    if backfill_from is None:
                        backfill_from = now
                    await asyncio.sleep(self.backoff.next_delay())
                    continue
                self.backoff.reset()
                await asyncio.sleep(max(0.0, self.poll_interval_s - (self.clock() - now)))
        finally:
            if self._client is not None:
                self._client.close()

    async def _query_all(self, method: str, templates: list[QueryTemplate], *args: Any) -> list[Any]:
        """Run one query per template; raise Unreachable if Prometheus did not answer at all."""
        answers = await asyncio.gather(*(self._call(method, t.query, *args) for t in templates), return_exceptions=True)
        for answer in answers:
            if isinstance(answer, BaseException) and not isinstance(answer, Exception):
                raise answer  # cancellation and the like
            if isinstance(answer, Exception):
                unreachable, message = _describe(answer)
                if unreachable:
                    raise Unreachable(f"cannot reach {self.display_url}: {message}")
        return answers

    def _errors(self, emit: Emit, ts: float, templates: list[QueryTemplate], answers: list[Any]) -> None:
        for template, answer in zip(templates, answers, strict=True):
            if isinstance(answer, Exception):
                message = f"prometheus: query for {template.series} failed: {_describe(answer)[1]}"
                emit(Event(ts, self.name, "source_error", {"error": one_line(message)}))

    async def poll(self, emit: Emit, now: float) -> None:
        """One instant query per series at ``now``; one ``metrics`` event and one fleet ``host`` event."""
        templates = list(self.templates.values())
        answers = await self._query_all("custom_query", templates, {"time": f"{now:.3f}"})
        self._errors(emit, now, templates, answers)
        if all(isinstance(answer, Exception) for answer in answers):
            return
        values: dict[str, float | None] = {}
        fleet: dict[str, float | None] = {}
        invalid: list[str] = []
        for template, answer in zip(templates, answers, strict=True):
            if isinstance(answer, Exception):
                if template.is_fleet:
                    fleet[template.series.removeprefix(FLEET_PREFIX)] = None
                elif template.by:
                    values.update(
                        {f"{label}/{template.series}": None for label in self.labels_seen.get(template.series, ())}
                    )
                else:
                    values[template.series] = None
                continue
            found, error = self._instant_values(template, answer, invalid)
            if error:
                emit(Event(now, self.name, "source_error", {"error": one_line(f"prometheus: {error}")}))
            if template.is_fleet:
                fleet[template.series.removeprefix(FLEET_PREFIX)] = found.get(template.series)
            else:
                values.update(found)
        if values:
            data: dict[str, Any] = {"values": values}
            if invalid:
                data["invalid"] = [name for name in invalid if name in values]
            emit(Event(now, self.name, "metrics", data))
        if fleet:
            emit(Event(now, self.name, "host", {"scope": "fleet", **fleet}))

    def _scaled(
        self, template: QueryTemplate, raw: float | None, name: str = "", invalid: list[str] | None = None
    ) -> float | None:
        """The value in the series' unit; None for NaN (no data), and None named in ``invalid`` when it
        cannot be true (infinite, negative where the unit forbids it, a percentage over 100)."""
        if raw is None or math.isnan(raw):
            return None
        lo, hi = series_range(template.series)
        value = finite(raw * template.scale, lo, hi) if math.isfinite(raw) else None
        if value is None and invalid is not None:
            invalid.append(name or template.series)
        return value

    def _label_series(self, template: QueryTemplate, item: Any) -> str | None:
        """The per-label series name for one result, or None if its label is missing or unsafe."""
        metric = item.get("metric") if isinstance(item, Mapping) else None
        label = metric.get(template.by) if isinstance(metric, Mapping) else None
        if not isinstance(label, str) or not _LABEL_VALUE.fullmatch(label):
            return None
        seen = self.labels_seen.setdefault(template.series, set())
        if label not in seen:
            if len(seen) >= MAX_LABELS:
                return None
            seen.add(label)
        return f"{label}/{template.series}"

    def _instant_values(
        self, template: QueryTemplate, result: Any, invalid: list[str] | None = None
    ) -> tuple[dict[str, float | None], str | None]:
        """Series values from one instant query result, and an error to report if its shape is wrong.

        Values that cannot be true become None and their series names are appended to ``invalid``.
        """
        if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], Mapping):
            result = [{"metric": {}, "value": result}]  # a scalar
        if not isinstance(result, list):
            return {template.series: None}, f"query for {template.series} returned no vector"
        if template.by:
            values = {f"{label}/{template.series}": None for label in self.labels_seen.get(template.series, ())}
            for item in result:
                name = self._label_series(template, item)
                sample = _sample(item.get("value")) if name else None
                if name and sample:
                    values[name] = self._scaled(template, sample[1], name, invalid)
            return values, None
        if len(result) > 1:
            return {template.series: None}, (
                f"query for {template.series} returned {len(result)} series; aggregate it (max, sum, avg)"
            )
        sample = _sample(result[0].get("value")) if result and isinstance(result[0], Mapping) else None
        value = self._scaled(template, sample[1], template.series, invalid) if sample else None
        return {template.series: value}, None

    async def backfill(self, emit: Emit, start: float, end: float) -> None:
        """Range queries from ``start`` to ``end``: one ``metrics`` event per timestamp, in time order."""
        templates = [t for t in self.templates.values() if not t.is_fleet]
        if not templates or end <= start:
            return
        # Prometheus refuses a range of more than 11,000 points; stay well under it.
        step = f"{max(self.poll_interval_s, (end - start) / MAX_BACKFILL_POINTS):g}"
        start_dt = datetime.fromtimestamp(start, tz=timezone.utc)
        end_dt = datetime.fromtimestamp(end, tz=timezone.utc)
        answers = await self._query_all("custom_query_range", templates, start_dt, end_dt, step)
        self._errors(emit, self.clock(), templates, answers)
        by_ts: dict[float, dict[str, float | None]] = {}
        names: set[str] = set()
        for template, answer in zip(templates, answers, strict=True):
            if isinstance(answer, Exception) or not isinstance(answer, list):
                continue
            items = answer if template.by else answer[:1]
            if not template.by and len(answer) > 1:
                continue  # ambiguous; the instant poll reports it
            if not template.by:
                names.add(template.series)
            for item in items:
                name = self._label_series(template, item) if template.by else template.series
                if name is None or not isinstance(item, Mapping) or not isinstance(item.get("values"), list):
                    continue
                names.add(name)
                for raw in item["values"]:
                    sample = _sample(raw)
                    if sample is not None:
                        by_ts.setdefault(sample[0], {})[name] = self._scaled(template, sample[1])
        for ts in sorted(by_ts):
            values = dict.fromkeys(names)
            values.update(by_ts[ts])
            emit(Event(ts, self.name, "metrics", {"values": values}))
