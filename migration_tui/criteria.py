"""Success criteria and report charts of a system: its ``report.toml``, read through the registry.

Each system says, in ``migration_tui/systems/<system>/report.toml`` (or
``System.report_toml``), which series ``migration-tui report`` charts and
which of its seed's success criteria a recording can decide::

    [charts]                      # the series drawn as latency, error and throughput
    latency = "latency_p95_ms"
    error = "error_rate_pct"
    throughput = "throughput_ops"

    [[criterion]]
    text = "Latency P95 < 15 ms"  # as the seed words it
    kind = "series"               # see KINDS
    series = "latency_p95_ms"
    op = "<"                      # <, <=, > or >=: what every sample must satisfy
    threshold = 15.0
    unit = " ms"
    phases = ["canary_10"]        # optional: only samples taken while the migration was in these phases
    for = "30m"                   # optional: the condition must be seen for this long

Kinds: ``status`` (the final status ``equals``), ``votes`` (every participant's
last vote ``equals``), ``series`` (every sample of the series), ``health_score``
(every health score the controller reported), ``breaker_opens`` (the
migration's breakers opened at most ``threshold`` times), ``no_actions`` (no
operator action reached the controller) and ``not_recorded`` (a criterion no
recording can decide; ``why`` says so, and it is reported as "cannot tell").

No IO beyond the registry's data files; nothing here names a system.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache

from migration_tui import systems
from migration_tui.rules import RulesError, parse_duration

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

KINDS = ("status", "votes", "series", "health_score", "breaker_opens", "no_actions", "not_recorded")
OPS = ("<", "<=", ">", ">=")
#: The charts of a report, in order, and the series drawn when a system does not say.
CHARTS = ("latency", "error", "throughput")
DEFAULT_CHARTS = {"latency": "latency_p95_ms", "error": "error_rate_pct", "throughput": "throughput_ops"}


class CriteriaError(ValueError):
    """A report.toml that cannot be used; the message says which system and which entry."""


@dataclass(frozen=True)
class Criterion:
    text: str
    kind: str
    series: str = ""
    op: str = "<"
    threshold: float = 0.0
    unit: str = ""
    equals: str = ""
    phases: tuple[str, ...] = ()
    for_s: float = 0.0
    why: str = ""

    def holds(self, value: float) -> bool:
        op = self.op
        if op == "<":
            return value < self.threshold
        if op == "<=":
            return value <= self.threshold
        if op == ">":
            return value > self.threshold
        return value >= self.threshold

    def worse(self, a: float, b: float) -> bool:
        """Whether ``a`` is further from satisfying the criterion than ``b``."""
        return a > b if self.op in ("<", "<=") else a < b


@dataclass(frozen=True)
class ReportSpec:
    """A system's charts (chart name -> series) and success criteria."""

    charts: dict[str, str]
    criteria: tuple[Criterion, ...]


def parse(text: str, origin: str) -> ReportSpec:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CriteriaError(f"{origin}: {exc}") from None
    charts = dict(DEFAULT_CHARTS)
    given = doc.get("charts", {})
    if not isinstance(given, dict) or not all(k in CHARTS and isinstance(v, str) for k, v in given.items()):
        raise CriteriaError(f"{origin}: [charts] maps {', '.join(CHARTS)} to series names")
    charts.update(given)
    items = doc.get("criterion", [])
    if not isinstance(items, list):
        raise CriteriaError(f"{origin}: [[criterion]] tables expected")
    criteria = []
    for number, item in enumerate(items, 1):
        where = f"{origin}: criterion {number}"
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise CriteriaError(f"{where}: needs a text")
        kind = item.get("kind")
        if kind not in KINDS:
            raise CriteriaError(f"{where}: kind must be one of {', '.join(KINDS)}")
        op = item.get("op", "<=" if kind == "breaker_opens" else "<")
        if op not in OPS:
            raise CriteriaError(f"{where}: op must be one of {' '.join(OPS)}")
        threshold = item.get("threshold", 0)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise CriteriaError(f"{where}: threshold must be a number")
        if kind == "series" and not isinstance(item.get("series"), str):
            raise CriteriaError(f"{where}: a series criterion needs a series")
        phases = item.get("phases", [])
        if not isinstance(phases, list) or not all(isinstance(p, str) for p in phases):
            raise CriteriaError(f"{where}: phases must be a list of phase names")
        try:
            for_s = parse_duration(item.get("for", 0))
        except RulesError as exc:
            raise CriteriaError(f"{where}: {exc}") from None
        criteria.append(
            Criterion(
                text=item["text"],
                kind=kind,
                series=str(item.get("series", "")),
                op=op,
                threshold=float(threshold),
                unit=str(item.get("unit", "")),
                equals=str(item.get("equals", "")),
                phases=tuple(phases),
                for_s=for_s,
                why=str(item.get("why", "")),
            )
        )
    return ReportSpec(charts, tuple(criteria))


def spec_for(system: str) -> ReportSpec:
    """The charts and criteria of ``system`` (the defaults and none for a system without a report.toml)."""
    return _spec(system, systems.generation())


@cache
def _spec(system: str, generation: int) -> ReportSpec:
    found = systems.get(system)
    text = found.data("report.toml") if found is not None else ""
    return parse(text, f"report.toml of system {system}")
