"""Helpers the profile normalisers share: numbers judged once, the same way.

A ``Reading`` collects what one poll of a controller said, already
normalised: migration dicts, participant lists, breakers, series values,
counters (turned into rates by the source, which remembers the last
sample) and the errors the operator must see. The helpers never raise on
input of the wrong type; they return ``None`` and name the field invalid.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from migration_tui.model import finite, text

#: Most migrations (or rows of any other list) taken from one list; the rest is reported and dropped.
MAX_ITEMS = 1000
#: Most participants taken from one migration's list: as many as the store keeps
#: (``store.MAX_PARTICIPANTS``; a test keeps the two equal). 10,000 participants were cut to
#: 1,000 with an error every poll before, which also made every list go out whole.
MAX_PARTICIPANT_ITEMS = 100_000
#: Largest count accepted (documents, events, retries).
MAX_COUNT = 1e13
#: Largest latency accepted, in milliseconds (one day).
MAX_LATENCY_MS = 86_400_000.0
MAX_EPOCH = 1e11


@dataclass
class Reading:
    """Everything one poll produced, normalised; the source turns it into events."""

    migrations: list[dict[str, Any]] = field(default_factory=list)
    participants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    breakers: list[dict[str, Any]] | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    metrics_invalid: list[str] = field(default_factory=list)
    counters: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def series(self, name: str, value: Any, lo: float = 0.0, hi: float = 1e15, scale: float = 1.0) -> None:
        """Add a series value; an unusable one becomes a gap and is named invalid."""
        if value is None:
            return
        number = finite(value, lo, hi)
        if number is None:
            self.metrics[name] = None
            self.metrics_invalid.append(name)
        else:
            self.metrics[name] = number * scale

    def series_from_detail(self, name: str, migration: Mapping[str, Any], key: str) -> None:
        """A series from a validated detail of ``migration``; an invalid detail is a gap, named invalid."""
        self.validated(name, migration["details"].get(key), f"details.{key}" in migration["invalid"])

    def validated(self, name: str, value: float | None, was_invalid: bool, counter: bool = False) -> None:
        """A value the normaliser already judged: a series value (or a counter), or a gap named invalid."""
        if value is not None:
            (self.counters if counter else self.metrics)[name] = value
        elif was_invalid:
            self.metrics[name] = None
            self.metrics_invalid.append(name)


def migration_record(
    status: Mapping[str, Any],
    system: str,
    *,
    phase: str,
    progress: float | None,
    started_at: float | None,
    health: str,
    details: dict[str, Any],
    invalid: list[str],
    **more: Any,
) -> dict[str, Any]:
    """The migration dict a single-migration controller's status makes (its scope is the pair)."""
    return {
        "id": status["id"],
        "system": system,
        "pair": label(status.get("scope")),
        "status": label(status.get("status"), "unknown") or "unknown",
        "phase": phase,
        "progress": progress,
        "started_at": started_at,
        "health": health,
        **more,
        "details": details,
        "invalid": invalid,
    }


def as_dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def number(
    data: Mapping[str, Any], key: str, invalid: list[str], lo: float, hi: float, name: str | None = None
) -> float | None:
    """A number field within [lo, hi]; present but unusable means invalid (named ``name`` or ``key``)."""
    value = data.get(key)
    if value is None:
        return None
    result = finite(value, lo, hi)
    if result is None:
        invalid.append(name or key)
    return result


def ratio_pct(data: Mapping[str, Any], key: str, invalid: list[str], name: str) -> float | None:
    """A ratio 0..1 as a percentage 0..100."""
    ratio = number(data, key, invalid, 0.0, 1.0, name)
    return None if ratio is None else ratio * 100.0


def boolean(data: Mapping[str, Any], key: str, invalid: list[str], name: str | None = None) -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    invalid.append(name or key)
    return None


def epoch(value: Any) -> float | None:
    """Epoch seconds from a number or an ISO 8601 string; None if it is neither or out of range."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return None  # a time without a zone cannot be placed; better none than a wrong one
        return finite(parsed.timestamp(), 0.0, MAX_EPOCH)
    return finite(value, 0.0, MAX_EPOCH)


def epoch_field(data: Mapping[str, Any], key: str, invalid: list[str], name: str | None = None) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    result = epoch(value)
    if result is None:
        invalid.append(name or key)
    return result


def label(value: Any, default: str = "") -> str:
    return text(value, default, 128)


def path_id(migration_id: str) -> str:
    """A migration id as one safe path segment (ids come from the server and are not trusted)."""
    return quote(migration_id, safe="")


def rate(previous: tuple[float, float] | None, current: tuple[float, float]) -> float | None:
    """Per-second rate between two (time, counter) samples; None when it cannot be known.

    A counter that went down was reset; the rate across a reset is unknown,
    so it is a gap rather than a negative or a guess.
    """
    if previous is None:
        return None
    (t0, v0), (t1, v1) = previous, current
    if t1 <= t0 or v1 < v0:
        return None
    return (v1 - v0) / (t1 - t0)


def upper_health(value: Any) -> str:
    return label(value).upper()


def scalar_table(value: Any) -> dict[str, Any]:
    """An object kept to a few scalar entries (a migration's config: shown, never acted on)."""
    out: dict[str, Any] = {}
    for key, item in list(as_dict(value).items())[:32]:
        if not isinstance(key, str):
            continue
        if isinstance(item, bool) or item is None:
            out[key[:64]] = item
        elif isinstance(item, (int, float)):
            out[key[:64]] = finite(item)
        elif isinstance(item, str):
            out[key[:64]] = item[:128]
    return out


#: Most metric samples read from one Prometheus text answer.
MAX_SAMPLES = 20_000


def prometheus_series(
    metrics_text: str,
    table: Mapping[str, tuple[str, float, float]],
    by: str,
    prefixed: set[str],
    plain: str | None,
    reading: Reading,
    where: str = "/metrics",
) -> None:
    """Series values from Prometheus text into ``reading``; malformed text is one error, not a crash.

    ``table``: metric name -> (series, scale to the series' unit, largest valid raw value). A sample
    labelled ``by`` (a pair) is filed as ``<value>/<series>`` when its value is in ``prefixed`` or is
    not ``plain`` (the one pair whose series go unprefixed).

    The text is read a family at a time (``_families``: the parser starts afresh at each), and
    what a big family says is remembered by its digest: a controller may serve a sample per
    participant (10,000 lines), the same from one poll to the next, which was parsed every
    poll. The result is the whole text's: samples filed in order up to the first malformed
    line, then one error; past ``MAX_SAMPLES`` samples the whole text is read as it always was.
    """
    wanted = (tuple(table), by)
    found: list[tuple[str, str, float]] = []
    samples = 0
    error = None
    for family in _families(metrics_text):
        count, family_error, family_found = _read_family(family, wanted)
        samples += count
        found.extend(family_found)
        if family_error is not None or samples > MAX_SAMPLES:
            error = family_error
            break
    if samples > MAX_SAMPLES:
        _read_whole(metrics_text, table, by, prefixed, plain, reading, where)
        return
    for name, value, raw in found:
        series, scale, largest = table[name]
        if value and (value in prefixed or value != plain):
            series = f"{value}/{series}"
        reading.series(series, raw, 0.0, largest, scale)
    if error is not None:
        reading.errors.append(f"{where}: not Prometheus text format ({error})")


def _read_whole(
    metrics_text: str,
    table: Mapping[str, tuple[str, float, float]],
    by: str,
    prefixed: set[str],
    plain: str | None,
    reading: Reading,
    where: str,
) -> None:
    """``prometheus_series`` in one pass of the parser over the whole text (past the cap)."""
    from prometheus_client.parser import text_string_to_metric_families

    samples = 0
    try:
        for family in text_string_to_metric_families(metrics_text):
            for sample in family.samples:
                samples += 1
                if samples > MAX_SAMPLES:
                    reading.errors.append(f"{where}: more than {MAX_SAMPLES} samples, the rest ignored")
                    return
                known = table.get(sample.name)
                if known is None:
                    continue
                series, scale, largest = known
                value = text(sample.labels.get(by), "", 64) if by else ""
                if value and (value in prefixed or value != plain):
                    series = f"{value}/{series}"
                reading.series(series, sample.value, 0.0, largest, scale)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        reading.errors.append(f"{where}: not Prometheus text format ({type(exc).__name__})")


_Family = tuple[int, "str | None", list[tuple[str, str, float]]]
#: (digest of a big family, the names and label asked for) -> what it said; the newest last.
_FAMILIES: OrderedDict[tuple[bytes, tuple[tuple[str, ...], str]], _Family] = OrderedDict()
_FAMILIES_KEPT = 64
#: A family of at least this many characters is remembered; smaller ones are parsed each time.
_BIG_FAMILY = 4096


def _read_family(family: str, wanted: tuple[tuple[str, ...], str]) -> _Family:
    """(samples, the error's type name or None, (name, ``by`` label, value) of each sample named in
    ``wanted`` before the error) of one family's text; a big one remembered by digest."""
    if len(family) < _BIG_FAMILY:
        return _parse_family(family, wanted)
    key = (hashlib.blake2b(family.encode("utf-8", "surrogatepass"), digest_size=16).digest(), wanted)
    said = _FAMILIES.get(key)
    if said is None:
        said = _FAMILIES[key] = _parse_family(family, wanted)
        while len(_FAMILIES) > _FAMILIES_KEPT:
            _FAMILIES.popitem(last=False)
    else:
        _FAMILIES.move_to_end(key)
    return said


def _parse_family(family: str, wanted: tuple[tuple[str, ...], str]) -> _Family:
    from prometheus_client.parser import text_string_to_metric_families

    names, by = wanted
    samples = 0
    found: list[tuple[str, str, float]] = []
    try:
        for metric in text_string_to_metric_families(family):
            for sample in metric.samples:
                samples += 1
                if samples > MAX_SAMPLES:
                    return samples, None, found
                if sample.name in names:
                    found.append((sample.name, text(sample.labels.get(by), "", 64) if by else "", sample.value))
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        return samples, type(exc).__name__, found
    return samples, None, found


#: A ``# HELP NAME ...`` or ``# TYPE NAME TYPE`` line the parser cannot refuse: plain blanks, a plain name.
_NAME = r"([a-zA-Z_:][a-zA-Z0-9_:]*)"
_FAMILY_START = re.compile(rf"[ \t]*#[ \t]+(?:HELP[ \t]+{_NAME}(?=[ \t]|$)|TYPE[ \t]+{_NAME}[ \t]+[^\s])")


def _families(metrics_text: str) -> list[str]:
    """The text cut before each ``# HELP``/``# TYPE`` line naming another metric than the one
    before: the parser starts a new family there, whatever came before, so each piece parses
    alone as it does in the whole text. Only at lines it cannot refuse (an error there would
    lose the family before, not yet handed out); and not at all when some line might be a
    ``HELP``/``TYPE`` line of another spelling (a quoted name), which could name the same metric."""
    cuts = [0]
    current = None
    at = metrics_text.find("#")
    while at >= 0:  # a line at a time, only those with a "#" (few: a search in C finds them)
        start = metrics_text.rfind("\n", 0, at) + 1
        end = metrics_text.find("\n", at)
        end = len(metrics_text) if end < 0 else end
        line = metrics_text[start:end]
        if "HELP" in line[at - start :] or "TYPE" in line[at - start :]:
            match = _FAMILY_START.match(line)
            if match is None:
                return [metrics_text]
            name = match.group(1) or match.group(2)
            if name != current:
                current = name
                if start > 0:
                    cuts.append(start)
        at = metrics_text.find("#", end)
    cuts.append(len(metrics_text))
    return [metrics_text[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def label_values(metrics_text: str, by: str) -> set[str]:
    """The values of label ``by`` named in Prometheus text, found cheaply (no parse)."""
    values: set[str] = set()
    marker = f'{by}="'
    for line in metrics_text.splitlines()[:MAX_SAMPLES]:
        start = line.find(marker)
        if start >= 0 and not line.startswith("#"):
            end = line.find('"', start + len(marker))
            if end > start:
                values.add(line[start + len(marker) : end][:64])
    return values
