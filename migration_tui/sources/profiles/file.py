"""Profile files: a TOML file that says how to read an HTTP JSON API the package has never seen.

``read_profile_file(path)`` parses and validates the whole file at once and
returns a ``FileProfile``; anything wrong is one ``ProfileFileError`` line
naming the file and the key. At poll time a missing required field or a word
we cannot use becomes one error line naming the file, the key, the endpoint
and (shortened, cleaned) what the answer held; the controller source shows it
as its ``source_error``. The format is docs/profiles.md (version 1); every key
is checked here, an unknown one is an error.

Fields are JMESPath expressions (``jmespath``) evaluated inside one item; a
plain dotted name is one. Numbers, times and booleans go through the same
validators as the built-in profiles (``_common``), so NaN, infinities and
out-of-range values are *invalid* exactly as they are there.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from migration_tui.model import finite, text
from migration_tui.safe_text import clean
from migration_tui.sources.profiles import UnknownProfile
from migration_tui.sources.profiles._common import (
    MAX_COUNT,
    MAX_ITEMS,
    Reading,
    epoch,
    label,
    label_values,
    path_id,
    prometheus_series,
    scalar_table,
    upper_health,
)
from migration_tui.sources.profiles.base import Endpoint, Profile, kind_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FORMAT = "migration-tui/profile"
VERSION = 1
#: The statuses a profile may map to (the contract's seven, and the steps in between ours use).
STATUSES = (
    "pending",
    "in_progress",
    "paused",
    "completed",
    "failed",
    "aborted",
    "rolled_back",
    "aborting",
    "rolling_back",
    "rollback_failed",
)
OUR_VOTES = ("yes", "no", "pending", "timeout")
ACTION_NAMES = ("pause", "resume", "abort", "rollback")
#: Field types of ``details`` and the bounds each is checked against.
TYPES = ("auto", "text", "number", "percent", "ratio", "count", "boolean", "epoch")
#: Characters of an answer quoted in an error line.
HELD_CHARS = 70
#: Keys of the sections that name an endpoint of their own.
SECTION_KEYS = ("migrations", "participants", "breakers", "metrics")


class ProfileFileError(UnknownProfile):
    """A profile file that cannot be used; the message is one line naming the file and the key."""


def held(value: Any, limit: int = HELD_CHARS) -> str:
    """What an answer held, as short, safe text for an error line (never markup, no control characters)."""
    try:
        shown = json.dumps(value, ensure_ascii=False, default=str, allow_nan=True)
    except (TypeError, ValueError):
        shown = kind_of(value)
    return clean(shown, limit)


@dataclass(frozen=True)
class FieldSpec:
    """One of our fields: the TOML key that declares it, its JMESPath and how its value is judged."""

    name: str  # ours: "status", "progress", "details.votes_yes", ...
    key: str  # the TOML key: "migrations.status"
    expression: str
    compiled: Any = field(compare=False, repr=False)
    type: str = "auto"
    lo: float = 0.0
    hi: float = 1e15
    scale: float = 1.0

    def search(self, data: Any) -> Any:
        try:
            return self.compiled.search(data)
        except Exception:  # a JMESPath function on the wrong type of data: nothing found
            return None


@dataclass(frozen=True)
class Section:
    """A section of the file that reads one endpoint: its path, where the list is, and its fields."""

    key: str  # "migrations", "participants", "breakers", or "per_migration.<key>"
    path: str
    optional: bool
    what: str
    items: FieldSpec | None  # None: the answer is one object (per-migration details)
    fields: dict[str, FieldSpec]
    word_map: dict[str, str] = field(default_factory=dict)
    phase_map: dict[str, str] = field(default_factory=dict)
    details: dict[str, FieldSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricsSection:
    path: str
    optional: bool
    what: str
    by: str
    table: dict[str, tuple[str, float, float]]


class _Reader:
    """Reads and checks the parsed TOML, raising one line naming the file and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> ProfileFileError:
        where = f"{self.source}: {key}: " if key else f"{self.source}: "
        return ProfileFileError(f"profile file {where}{message}")

    def table(self, doc: Mapping[str, Any], key: str, where: str, required: bool = False) -> dict[str, Any] | None:
        value = doc.get(key)
        if value is None:
            if required:
                raise self.fail(where, "missing (a table is required)")
            return None
        if not isinstance(value, Mapping):
            raise self.fail(where, f"must be a table, not {kind_of(value)}")
        return dict(value)

    def string(self, doc: Mapping[str, Any], key: str, where: str, required: bool = False) -> str | None:
        value = doc.get(key)
        if value is None:
            if required:
                raise self.fail(where, "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"must be a non-empty string, not {held(value, 40)}")
        return value

    def boolean(self, doc: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = doc.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, f"must be true or false, not {held(value, 40)}")
        return value

    def number(self, doc: Mapping[str, Any], key: str, where: str, default: float) -> float:
        value = doc.get(key, default)
        number = finite(value) if not isinstance(value, bool) else None
        if number is None or number <= 0:
            raise self.fail(where, f"must be a positive number, not {held(value, 40)}")
        return number

    def unknown(self, doc: Mapping[str, Any], known: Sequence[str], where: str) -> None:
        extra = [key for key in doc if key not in known]
        if extra:
            prefix = f"{where}." if where else ""
            raise self.fail(
                f"{prefix}{extra[0]}", f"unknown key (known{' in ' + where if where else ''}: {', '.join(known)})"
            )

    def path(self, doc: Mapping[str, Any], key: str, where: str, per_migration: bool = False) -> str:
        value = self.string(doc, key, where, required=True)
        assert value is not None
        if not value.startswith("/"):
            raise self.fail(where, f"must be a path starting with /, not {held(value, 40)}")
        rest = value.replace("{id}", "")
        if "{" in rest or "}" in rest:
            raise self.fail(where, "the only placeholder a path may hold is {id}")
        if ("{id}" in value) != per_migration:
            raise self.fail(
                where,
                "must hold {id} (one GET per migration)" if per_migration else "must not hold {id} (one GET per poll)",
            )
        return value

    def expression(self, value: Any, where: str, name: str, **bounds: Any) -> FieldSpec:
        import jmespath
        from jmespath.exceptions import JMESPathError

        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"must be a JMESPath expression (a string), not {held(value, 40)}")
        try:
            compiled = jmespath.compile(value)
        except JMESPathError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise self.fail(where, f"not a JMESPath expression ({clean(first, 80)}): {held(value, 40)}") from None
        return FieldSpec(name, where, value, compiled, **bounds)

    def typed(self, value: Any, where: str, name: str) -> FieldSpec:
        """A ``details`` field: an expression, or ``{at = EXPR, type = T, min, max, scale}``."""
        if isinstance(value, str):
            return self.expression(value, where, name)
        if not isinstance(value, Mapping):
            raise self.fail(where, f"must be an expression or a table {{at, type}}, not {kind_of(value)}")
        self.unknown(value, ("at", "type", "min", "max", "scale"), where)
        kind = value.get("type", "auto")
        if kind not in TYPES:
            raise self.fail(f"{where}.type", f"must be one of {', '.join(TYPES)}, not {held(kind, 30)}")
        lo, hi = {"percent": (0.0, 100.0), "ratio": (0.0, 1.0), "count": (0.0, MAX_COUNT)}.get(kind, (0.0, 1e15))
        if kind == "number":
            lo, hi = -1e15, 1e15
        for bound in ("min", "max"):
            if bound in value and (isinstance(value[bound], bool) or finite(value[bound]) is None):
                raise self.fail(f"{where}.{bound}", f"must be a number, not {held(value[bound], 30)}")
        lo = float(value.get("min", lo))
        hi = float(value.get("max", hi))
        scale = self.number(value, "scale", f"{where}.scale", 1.0)
        if "at" not in value:
            raise self.fail(f"{where}.at", "missing (the JMESPath of the value)")
        return self.expression(value["at"], f"{where}.at", name, type=kind, lo=lo, hi=hi, scale=scale)

    def word_map(self, doc: Mapping[str, Any], key: str, where: str, ours: Sequence[str] | None) -> dict[str, str]:
        table = self.table(doc, key, where) or {}
        for theirs, mapped in table.items():
            if not isinstance(mapped, str):
                raise self.fail(f"{where}.{theirs}", f"must be a string, not {held(mapped, 40)}")
            if ours is not None and mapped not in ours:
                raise self.fail(f"{where}.{theirs}", f"{held(mapped, 40)} is not one of ours ({', '.join(ours)})")
        return table


MIGRATION_FIELDS = ("id", "status", "phase", "progress", "pair", "started_at", "health", "config")
PARTICIPANT_FIELDS = ("id", "type", "vote", "healthy", "last_heartbeat")
BREAKER_FIELDS = ("name", "open", "state", "reason", "opens_10m")
TOP_KEYS = (
    "format",
    "version",
    "name",
    "system",
    "health",
    "migrations",
    "participants",
    "breakers",
    "per_migration",
    "metrics",
    "actions",
)


def _fields(reader: _Reader, doc: Mapping[str, Any], section: str, names: Sequence[str]) -> dict[str, FieldSpec]:
    out = {}
    for name in names:
        if name in doc:
            out[name] = reader.expression(doc[name], f"{section}.{name}", name)
    return out


def parse_profile(doc: Mapping[str, Any], source: str) -> FileProfile:
    """A ``FileProfile`` from a parsed profile file; ``ProfileFileError`` (one line) for anything wrong."""
    from migration_tui import systems

    reader = _Reader(source)
    reader.unknown(doc, TOP_KEYS, "")
    if doc.get("format") != FORMAT:
        raise reader.fail("format", f'must be "{FORMAT}", not {held(doc.get("format"), 40)}')
    if doc.get("version") != VERSION or isinstance(doc.get("version"), bool):
        raise reader.fail(
            "version", f"must be {VERSION} (this migration-tui reads version 1), not {held(doc.get('version'), 20)}"
        )
    name = reader.string(doc, "name", "name", required=True)
    assert name is not None
    if len(name) > 64 or clean(name, 64) != name:
        raise reader.fail("name", "must be at most 64 printable characters")
    system = reader.string(doc, "system", "system", required=True)
    shown_by = systems.view(system)
    if shown_by is None:
        known = ", ".join(systems.view_names())
        raise reader.fail("system", f"{held(system, 40)} is not a view we have (known: {known})")
    health = reader.string(doc, "health", "health")
    if health is not None and not health.startswith("/"):
        raise reader.fail("health", f"must be a path starting with /, not {held(health, 40)}")

    # [migrations]
    m = reader.table(doc, "migrations", "migrations", required=True)
    assert m is not None
    reader.unknown(
        m, ("path", "items", *MIGRATION_FIELDS, "progress_scale", "status_map", "phase_map", "details"), "migrations"
    )
    for required in ("id", "status"):
        if required not in m:
            raise reader.fail(f"migrations.{required}", "missing (the JMESPath of this field inside one item)")
    fields = _fields(reader, m, "migrations", MIGRATION_FIELDS)
    scale = reader.number(m, "progress_scale", "migrations.progress_scale", 1.0)
    if "progress" in fields:
        spec = fields["progress"]
        fields["progress"] = FieldSpec(
            "progress", spec.key, spec.expression, spec.compiled, "percent", 0.0, 100.0 / scale, scale
        )
    details = {
        key: reader.typed(value, f"migrations.details.{key}", f"details.{key}")
        for key, value in (reader.table(m, "details", "migrations.details") or {}).items()
    }
    migrations = Section(
        "migrations",
        reader.path(m, "path", "migrations.path"),
        False,
        "migrations",
        reader.expression(m.get("items", "@"), "migrations.items", "items"),
        fields,
        reader.word_map(m, "status_map", "migrations.status_map", STATUSES),
        reader.word_map(m, "phase_map", "migrations.phase_map", None),
        details,
    )

    sections: list[Section] = []
    # [participants]
    p = reader.table(doc, "participants", "participants")
    if p is not None:
        reader.unknown(p, ("path", "items", "optional", "what", *PARTICIPANT_FIELDS, "vote_map"), "participants")
        if "id" not in p:
            raise reader.fail("participants.id", "missing (the JMESPath of this field inside one item)")
        sections.append(
            Section(
                "participants",
                reader.path(p, "path", "participants.path", per_migration=True),
                reader.boolean(p, "optional", "participants.optional", True),
                reader.string(p, "what", "participants.what") or "participants",
                reader.expression(p.get("items", "@"), "participants.items", "items"),
                _fields(reader, p, "participants", PARTICIPANT_FIELDS),
                reader.word_map(p, "vote_map", "participants.vote_map", OUR_VOTES),
            )
        )
    # [breakers]
    b = reader.table(doc, "breakers", "breakers")
    if b is not None:
        reader.unknown(b, ("path", "items", "optional", "what", *BREAKER_FIELDS), "breakers")
        if "name" not in b:
            raise reader.fail("breakers.name", "missing (the JMESPath of this field inside one item)")
        sections.append(
            Section(
                "breakers",
                reader.path(b, "path", "breakers.path"),
                reader.boolean(b, "optional", "breakers.optional", True),
                reader.string(b, "what", "breakers.what") or "circuit breakers",
                reader.expression(b.get("items", "@"), "breakers.items", "items"),
                _fields(reader, b, "breakers", BREAKER_FIELDS),
            )
        )
    # [[per_migration]]
    per = doc.get("per_migration", [])
    if not isinstance(per, list):
        raise reader.fail("per_migration", "must be an array of tables ([[per_migration]])")
    for index, entry in enumerate(per):
        where = f"per_migration[{index}]"
        if not isinstance(entry, Mapping):
            raise reader.fail(where, "must be a table")
        reader.unknown(entry, ("key", "path", "optional", "what", "details"), where)
        key = reader.string(entry, "key", f"{where}.key", required=True)
        assert key is not None
        taken = {s.key for s in sections} | {"migrations", "metrics"}
        if key in taken or ":" in key or not key.replace("_", "").replace("-", "").isalnum():
            raise reader.fail(
                f"{where}.key", f"{held(key, 30)} is taken or not a plain word (letters, digits, - and _)"
            )
        table = reader.table(entry, "details", f"{where}.details", required=True) or {}
        sections.append(
            Section(
                key,
                reader.path(entry, "path", f"{where}.path", per_migration=True),
                reader.boolean(entry, "optional", f"{where}.optional", True),
                reader.string(entry, "what", f"{where}.what") or key,
                None,
                {},
                details={k: reader.typed(v, f"{where}.details.{k}", f"details.{k}") for k, v in table.items()},
            )
        )
    # [metrics]
    metrics = None
    t = reader.table(doc, "metrics", "metrics")
    if t is not None:
        reader.unknown(t, ("path", "optional", "what", "by", "series"), "metrics")
        table: dict[str, tuple[str, float, float]] = {}
        for series, spec in (reader.table(t, "series", "metrics.series", required=True) or {}).items():
            where = f"metrics.series.{series}"
            if not isinstance(spec, Mapping):
                raise reader.fail(where, "must be a table {metric, scale, max}")
            reader.unknown(spec, ("metric", "scale", "max"), where)
            metric = reader.string(spec, "metric", f"{where}.metric", required=True)
            assert metric is not None
            table[metric] = (
                series,
                reader.number(spec, "scale", f"{where}.scale", 1.0),
                reader.number(spec, "max", f"{where}.max", 1e15),
            )
        metrics = MetricsSection(
            reader.path(t, "path", "metrics.path"),
            reader.boolean(t, "optional", "metrics.optional", True),
            reader.string(t, "what", "metrics.what") or "series from the controller's metrics",
            reader.string(t, "by", "metrics.by") or "",
            table,
        )
    # [actions]
    routes: dict[str, tuple[str, str]] = {}
    a = reader.table(doc, "actions", "actions") or {}
    reader.unknown(a, ACTION_NAMES, "actions")
    for action, route in a.items():
        where = f"actions.{action}"
        method, _, path = route.partition(" ") if isinstance(route, str) else ("", "", "")
        if method != "POST" or not path.startswith("/"):
            raise reader.fail(where, f'must be "POST /path" (the path may hold {{id}}), not {held(route, 50)}')
        reader.path({"path": path}, "path", where, per_migration="{id}" in path)
        routes[action] = ("POST", path)
    return FileProfile(source, name, shown_by, health, migrations, sections, metrics, routes)


def read_profile_file(path: str) -> FileProfile:
    """Read, parse and check a profile file; ``ProfileFileError`` (one line) if it cannot be used."""
    source = clean(path, 80)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(1_000_001)
    except OSError as exc:
        raise ProfileFileError(f"profile file {source}: cannot read it: {exc.strerror or type(exc).__name__}") from None
    if len(raw) > 1_000_000:
        raise ProfileFileError(f"profile file {source}: larger than 1 MB; not a profile")
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProfileFileError(f"profile file {source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileFileError(f"profile file {source}: not valid TOML: {clean(str(exc), 120)}") from None
    return parse_profile(doc, source)


class _Problems:
    """One error line per key and endpoint a poll, with how many items had the same problem."""

    def __init__(self) -> None:
        self.lines: dict[str, list[Any]] = {}

    def add(self, key: str, line: str) -> None:
        entry = self.lines.setdefault(key, [line, 0])
        entry[1] += 1

    def into(self, errors: list[str]) -> None:
        for line, count in self.lines.values():
            errors.append(line if count == 1 else f"{line} (and {count - 1} more)")


class FileProfile(Profile):
    """A controller API described by a profile file (docs/profiles.md)."""

    def __init__(
        self,
        source: str,
        name: str,
        system: str,
        health: str | None,
        migrations: Section,
        sections: Sequence[Section],
        metrics: MetricsSection | None,
        routes: Mapping[str, tuple[str, str]],
    ) -> None:
        self.source = source
        #: The file as poll-time error lines name it: short enough that the line keeps its end.
        self.short = source if len(source) <= 40 else "…/" + source.replace("\\", "/").rsplit("/", 1)[-1][-38:]
        self.name = name
        self.default_system = system
        self.health_path = health
        self.list_path = migrations.path
        self.migrations = migrations
        self.sections = {section.key: section for section in sections}
        self.metrics = metrics
        self.routes = dict(routes)
        endpoints = [Endpoint(s.key, s.path, s.optional, s.what) for s in sections]
        if metrics is not None:
            endpoints.append(Endpoint("metrics", metrics.path, metrics.optional, metrics.what))
        self.endpoints = tuple(endpoints)

    def __repr__(self) -> str:
        return f"FileProfile({self.source!r}, name={self.name!r})"

    # --- actions -----------------------------------------------------------------

    def action_route(self, action: str) -> tuple[str, str] | None:
        return self.routes.get(action)

    # --- errors ---------------------------------------------------------------------

    def line(self, key: str, path: str, what: str, value: Any = None, show: bool = True) -> str:
        """One error line: file, key, endpoint, what is wrong and what the answer held."""
        tail = f"; it held {held(value)}" if show else ""
        return f"{self.short}: {key} at GET {path}: {what}{tail}"

    # --- lists -------------------------------------------------------------------------

    def _list(self, section: Section, body: Any, path: str, errors: list[str]) -> list[Any]:
        assert section.items is not None
        found = section.items.search(body)
        if isinstance(found, list):
            return found
        if found is None:
            why = f"{section.items.expression!r} finds nothing"
        else:
            why = f"{section.items.expression!r} finds {kind_of(found)}, not a list"
        errors.append(self.line(f"{section.key}.items", path, why, body))
        return []

    def _keyed(
        self, section: Section, body: Any, path: str, key_field: str, errors: list[str]
    ) -> list[tuple[str, Mapping[str, Any]]]:
        """(key, item) of each object of the list, the key found by its field; duplicates: the last wins."""
        listed = self._list(section, body, path, errors)
        spec = section.fields[key_field]
        by_key: dict[str, Mapping[str, Any]] = {}
        problems = _Problems()
        for item in listed[:MAX_ITEMS]:
            if not isinstance(item, Mapping):
                problems.add("object", self.line(f"{section.key}.items", path, "an item is not an object", item))
                continue
            item_key = text(spec.search(item))
            if not item_key:
                problems.add("key", self.line(spec.key, path, f"{spec.expression!r} finds no usable {key_field}", item))
                continue
            by_key.pop(item_key, None)
            by_key[item_key] = item
        problems.into(errors)
        if len(listed) > MAX_ITEMS:
            errors.append(
                self.line(
                    f"{section.key}.items", path, f"{len(listed)} items, only the first {MAX_ITEMS} read", show=False
                )
            )
        return list(by_key.items())

    def _word(
        self, section: Section, spec: FieldSpec, value: Any, ours: Sequence[str], path: str, problems: _Problems
    ) -> str | None:
        """Their word as ours (through the section's map); None, with an error line, when it is not usable."""
        word = label(value)
        if word in section.word_map:
            return section.word_map[word]
        if word in ours:
            return word
        problems.add(
            spec.key,
            self.line(
                spec.key,
                path,
                f"{held(value, 30)} is not in {section.key}.{'status' if section.key == 'migrations' else 'vote'}_map"
                f" and not one of ours ({', '.join(ours)})",
                show=False,
            ),
        )
        return None

    def discover(self, body: Any) -> tuple[list[Mapping[str, Any]], list[str]]:
        errors: list[str] = []
        problems = _Problems()
        section = self.migrations
        items = []
        for migration_id, item in self._keyed(section, body, section.path, "id", errors):
            spec = section.fields["status"]
            raw = spec.search(item)
            if raw is None:
                problems.add(
                    spec.key, self.line(spec.key, section.path, f"{spec.expression!r} finds nothing in the item", item)
                )
                status = "unknown"
            else:
                status = (
                    self._word(section, spec, raw, STATUSES, section.path, problems)
                    or label(raw, "unknown")
                    or "unknown"
                )
            items.append({"id": migration_id, "status": status, "item": item})
        problems.into(errors)
        return items, errors

    def paths(self, detail_items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        wanted: dict[str, str] = {}
        for section in self.sections.values():
            if "{id}" not in section.path:
                wanted[section.key] = section.path
        if self.metrics is not None:
            wanted["metrics"] = self.metrics.path
        for item in detail_items:
            for section in self.sections.values():
                if "{id}" in section.path:
                    wanted[f"{section.key}:{item['id']}"] = section.path.replace("{id}", path_id(item["id"]))
        return wanted

    # --- reading ------------------------------------------------------------------------

    def _details(self, specs: Mapping[str, FieldSpec], data: Any, details: dict[str, Any], invalid: list[str]) -> None:
        for key, spec in specs.items():
            value = spec.search(data)
            if value is None:
                details.setdefault(key, None)  # nothing reported: "—", unless another endpoint said
                continue
            details[key] = judge(spec, value, invalid)

    def normalise(self, items: Sequence[Mapping[str, Any]], bodies: Mapping[str, Any], now: float) -> Reading:
        reading = Reading()
        section = self.migrations
        fields = section.fields
        plain: set[str] = set()
        for entry in items:
            item = entry.get("item", entry)
            migration_id = entry["id"]
            invalid: list[str] = []
            details: dict[str, Any] = {}
            self._details(section.details, item, details, invalid)
            for key, per in self.sections.items():
                if per.items is not None:
                    continue
                body = bodies.get(f"{key}:{migration_id}")
                if body is None:
                    continue
                if isinstance(body, Mapping):
                    self._details(per.details, body, details, invalid)
                else:
                    reading.errors.append(
                        self.line(f"per_migration {key}", per.path, f"expected an object, got {kind_of(body)}", body)
                    )
            progress = (
                judge(fields["progress"], fields["progress"].search(item), invalid) if "progress" in fields else None
            )
            phase = label(fields["phase"].search(item), "unknown") if "phase" in fields else "unknown"
            phase = section.phase_map.get(phase, phase) or "unknown"
            migration = {
                "id": migration_id,
                "system": self.default_system,
                "pair": label(fields["pair"].search(item)) if "pair" in fields else "",
                "status": entry.get("status") or "unknown",
                "phase": phase,
                "progress": progress,
                "started_at": self._epoch(fields.get("started_at"), item, invalid),
                "health": upper_health(fields["health"].search(item)) if "health" in fields else "",
                "details": details,
                "config": scalar_table(fields["config"].search(item)) if "config" in fields else {},
                "invalid": invalid,
            }
            reading.migrations.append(migration)
            if migration["pair"]:
                plain.add(migration["pair"])
            if "participants" in self.sections:
                key = f"participants:{migration_id}"
                if key in bodies:
                    reading.participants[migration_id] = self._participants(bodies[key], migration_id, reading.errors)
        if "breakers" in self.sections and "breakers" in bodies:
            reading.breakers = self._breakers(bodies["breakers"], reading.errors)
        metrics_text = bodies.get("metrics")
        if self.metrics is not None and isinstance(metrics_text, str):
            if not plain and self.metrics.by:
                plain = label_values(metrics_text, self.metrics.by)
            plain_pair = next(iter(plain)) if len(plain) == 1 else None
            prometheus_series(
                metrics_text, self.metrics.table, self.metrics.by, set(), plain_pair, reading, self.metrics.path
            )
        return reading

    @staticmethod
    def _epoch(spec: FieldSpec | None, data: Any, invalid: list[str]) -> float | None:
        if spec is None:
            return None
        value = spec.search(data)
        if value is None:
            return None
        result = epoch(value)
        if result is None:
            invalid.append(spec.name)
        return result

    def _participants(self, body: Any, migration_id: str, errors: list[str]) -> list[dict[str, Any]]:
        section = self.sections["participants"]
        fields = section.fields
        path = section.path.replace("{id}", path_id(migration_id))
        problems = _Problems()
        out = []
        for participant_id, item in self._keyed(section, body, path, "id", errors):
            invalid: list[str] = []
            vote = "pending"
            if "vote" in fields:
                raw = fields["vote"].search(item)
                if raw is not None:
                    vote = self._word(section, fields["vote"], raw, OUR_VOTES, path, problems) or label(raw, "pending")
            healthy = None
            if "healthy" in fields:
                value = fields["healthy"].search(item)
                if isinstance(value, bool):
                    healthy = value
                elif value is not None:
                    invalid.append("healthy")
            out.append(
                {
                    "id": participant_id,
                    "type": label(fields["type"].search(item)) if "type" in fields else "",
                    "vote": vote or "pending",
                    "healthy": healthy,
                    "last_heartbeat": self._epoch(fields.get("last_heartbeat"), item, invalid),
                    "invalid": tuple(invalid),  # as ``participant_dicts`` gives it
                }
            )
        problems.into(errors)
        return out

    def _breakers(self, body: Any, errors: list[str]) -> list[dict[str, Any]]:
        section = self.sections["breakers"]
        fields = section.fields
        out = []
        for name, row in self._keyed(section, body, section.path, "name", errors):
            state = fields["state"].search(row) if "state" in fields else None
            if not isinstance(state, str):
                is_open = fields["open"].search(row) if "open" in fields else None
                state = "open" if is_open is True else "closed" if is_open is False else "unknown"
            raw_opens = fields["opens_10m"].search(row) if "opens_10m" in fields else None
            opens = finite(raw_opens, 0, 1e9)
            if raw_opens is not None and opens is None:
                errors.append(
                    self.line(
                        "breakers.opens_10m", section.path, f"breaker {name[:40]!r}: not a valid count", raw_opens
                    )
                )
            out.append(
                {
                    "name": name,
                    "state": label(state, "unknown"),
                    "open": label(state) == "open",
                    "reason": text(fields["reason"].search(row), "", 512) if "reason" in fields else "",
                    "opens_10m": None if opens is None else int(opens),
                }
            )
        return out

    # --- check ------------------------------------------------------------------------------

    def explain(self, key: str, body: Any, migration_id: str | None = None) -> list[FieldReport]:
        """Field by field, what the first item of an answer holds and what it maps to (``check``)."""
        kind = key.split(":", 1)[0]
        if kind == "metrics" and self.metrics is not None:
            named = {metric for metric in self.metrics.table if isinstance(body, str) and metric in body}
            return [
                FieldReport(
                    f"metrics.series.{series}",
                    metric,
                    "in the text" if metric in named else "not in the text",
                    f"series {series}" if metric in named else "",
                )
                for metric, (series, _scale, _hi) in self.metrics.table.items()
            ]
        section = self.migrations if kind == "migrations" else self.sections.get(kind)
        if section is None:
            return []
        path = section.path.replace("{id}", path_id(migration_id or ""))
        if section.items is None:
            return self._explain_fields(section.details, body, section.key, path, required=())
        errors: list[str] = []
        listed = self._list(section, body, path, errors)
        reports = [
            FieldReport(
                f"{section.key}.items",
                section.items.expression,
                f"a list of {len(listed)}" if not errors else "no list",
                "",
                "",
                bool(errors),
            )
        ]
        first = next((item for item in listed if isinstance(item, Mapping)), None)
        if first is None:
            return reports
        required = {"migrations": ("id", "status"), "participants": ("id",), "breakers": ("name",)}[kind]
        reports += self._explain_fields(section.fields, first, section.key, path, required)
        reports += self._explain_fields(section.details, first, section.key, path, required=())
        return reports

    def _explain_fields(
        self, specs: Mapping[str, FieldSpec], item: Any, section: str, path: str, required: Sequence[str]
    ) -> list[FieldReport]:
        reports = []
        for name, spec in specs.items():
            value = spec.search(item)
            needed = name in required
            if value is None:
                reports.append(FieldReport(spec.key, spec.expression, "not found", "", "", needed))
                continue
            shown = held(value, 40)
            problem = False
            if section == "migrations" and name == "status":
                words = self.migrations.word_map
                mapped = words.get(label(value)) or (label(value) if label(value) in STATUSES else "")
                maps_to = f"status = {mapped}" if mapped else "not in status_map, not one of ours"
                problem = not mapped
            elif section == "participants" and name == "vote":
                words = self.sections["participants"].word_map
                mapped = words.get(label(value)) or (label(value) if label(value) in OUR_VOTES else "")
                maps_to = f"vote = {mapped}" if mapped else "not in vote_map, not one of ours"
                problem = not mapped
            else:
                invalid: list[str] = []
                if name in ("started_at", "last_heartbeat"):
                    result: Any = epoch(value)
                    if result is None:
                        invalid.append(name)
                elif name in ("healthy", "open"):
                    result = value if isinstance(value, bool) else None
                    if result is None:
                        invalid.append(name)
                elif spec.type != "auto" or name == "progress":
                    result = judge(spec, value, invalid)
                else:
                    result = judge(spec, value, invalid) if spec.name.startswith("details.") else label(value)
                target = name if not spec.name.startswith("details.") else spec.name
                maps_to = f"{target} invalid" if invalid else f"{target} = {held(result, 40)}"
            reports.append(FieldReport(spec.key, spec.expression, shown, maps_to, "", problem))
        return reports


@dataclass(frozen=True)
class FieldReport:
    """One line of ``check``'s field-by-field report."""

    key: str
    expression: str
    found: str
    maps_to: str
    series: str = ""
    problem: bool = False


def judge(spec: FieldSpec, value: Any, invalid: list[str]) -> Any:
    """A value by its field's type, through the built-ins' validators; an unusable one is invalid (None)."""
    if value is None:
        return None
    kind = spec.type
    if kind == "auto":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            kind = "number"
        elif isinstance(value, str):
            return label(value)
        else:
            invalid.append(spec.name)
            return None
    if kind == "text":
        return label(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        invalid.append(spec.name)
        return None
    if kind == "epoch":
        result = epoch(value)
        if result is None:
            invalid.append(spec.name)
        return result
    lo, hi = (spec.lo, spec.hi) if spec.type != "auto" else (-1e15, 1e15)
    number = finite(value, lo, hi) if not isinstance(value, bool) else None
    if number is None:
        invalid.append(spec.name)
        return None
    return number * spec.scale if spec.scale != 1.0 else number
