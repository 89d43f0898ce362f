"""What a migration system is made of: the contract each module of ``systems/`` fills in.

A system is plain data here; its heavy parts (the profile that reads its
controller API, its simulator scenarios and simulated API, its dashboard
panel and wall figures) are named by ``"module:attribute"`` and imported only
when asked for, so that the core can ask the registry about a system without
importing the simulator or Textual (``SystemUI`` lives in a ``ui`` submodule).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import msgspec


@cache
def load(target: str) -> Any:
    """The attribute named by ``"package.module:attribute"``, imported on first use."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@cache
def _package_text(package: str, name: str) -> str:
    resource = resources.files(package).joinpath(name)
    return resource.read_text(encoding="utf-8") if resource.is_file() else ""


class ProfileEntry(msgspec.Struct, frozen=True):
    """A controller API (``--profile NAME``) and how to reach and serve it."""

    name: str
    #: ``"module:attribute"`` of the ``sources.profiles.base.Profile`` instance that reads the API.
    profile: str
    #: The path of an operator action, with ``{id}`` and ``{action}``.
    action_path: str
    #: ``"module:attribute"`` of the simulator's route table (``sim.api.Route`` tuple); "" if not simulated.
    routes: str = ""
    #: ``"module:function"``: ``sim -> prometheus_client metric families`` the simulated ``/metrics`` adds.
    metrics: str = ""
    #: Whether detection (no ``--profile``) tries this profile's list endpoint.
    detect: bool = True


class Scenario(msgspec.Struct, frozen=True):
    """One simulator scenario (``demo``/``simulate --scenario NAME``)."""

    name: str
    #: The profile whose API serves it.
    profile: str
    #: The seed system (../shared/seeds/NNN_*.txt) it acts out; also the default random seed.
    seed: int
    #: ``"module:function"`` returning the scenario's ``sim.engine.SimMigration`` list.
    build: str
    summary: str


class MetricSpec(NamedTuple):
    """One sparkline of the Metrics pane: the series, its label, unit and decimals."""

    series: str
    label: str
    unit: str
    digits: int = 1


class Figure(msgspec.Struct, frozen=True):
    """One large figure on the wall: the series it shows, its title, unit and decimals."""

    series: str
    title: str
    unit: str
    digits: int = 1


class SystemUI(msgspec.Struct, frozen=True):
    """The dashboard and wall pieces of a system (defined in its ``ui`` submodule, which may import Textual).

    ``panel`` draws the system's own lines (``view -> migration -> [rich.text.Text]``);
    ``ages``, when given, draws a column beside them that changes every second.
    """

    panel: Callable[[Any, Any], list[Any]] | None = None
    #: Endpoints the panel reads; each the controller does not serve gets a line saying so.
    panel_endpoints: tuple[str, ...] = ()
    ages: Callable[[Any, Any], list[Any]] | None = None
    metrics: tuple[MetricSpec, ...] = ()
    #: The two figures beside progress on the wall: its error measure and its latency.
    figures: tuple[Figure, Figure] | None = None


class SourceKind(msgspec.Struct, frozen=True):
    """A source of a system's own, read from its servers rather than a controller's HTTP API.

    A ``[[controllers]]`` block with ``kind = KIND`` (and the ``flags`` on watch, wall, record and
    check) configures one; the keys besides ``name`` and ``kind`` are ``keys``. Values of
    ``secret_keys`` may hold passwords: they are shown only through ``shown`` and every password
    ``secrets`` finds in them is scrubbed from what is emitted, logged, audited and recorded.
    The functions are ``"module:attribute"`` strings, imported when first used.
    """

    kind: str
    keys: tuple[str, ...]
    required: tuple[str, ...]
    #: (flag, key, help) of the command-line flags that make an unnamed block of this kind.
    flags: tuple[tuple[str, str, str], ...] = ()
    #: ``(spec, settings) -> Source``
    build: str = ""
    #: ``options -> tuple of secrets`` (the passwords the options carry)
    secrets: str = ""
    #: ``options -> str``: the options fit to show (passwords masked)
    shown: str = ""
    #: ``(spec, settings) -> (ok, [lines])``: what ``check`` prints for one block
    check: str = ""
    #: ``(source, spec, audit, emit, settings) -> action client`` (record/send/in_flight); "" = read-only.
    #: ``source`` is None for a relay viewer, which polls nothing and acts from the spec alone.
    actions: str = ""


class System(msgspec.Struct, frozen=True):
    """One migration system: the name in events and recordings, its words, phases and parts."""

    name: str
    description: str
    #: The happy path, in order; the timeline draws these.
    phases: tuple[str, ...]
    profiles: tuple[ProfileEntry, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    #: The package holding ``rules.toml`` / ``promql.toml`` (``""``: none).
    data_package: str = ""
    #: ``"module:attribute"`` of its ``SystemUI``; ``""``: no panel of its own.
    ui: str = ""
    #: Whether the migration picker names a migration of this system by its pair.
    shown_by_pair: bool = False
    #: Default rules and PromQL when given inline instead of in ``data_package``.
    rules_toml: str = ""
    promql_toml: str = ""
    #: What ``migration-tui report`` charts and judges (its success criteria), inline instead of
    #: ``report.toml`` in ``data_package`` (format: ``migration_tui/criteria.py``).
    report_toml: str = ""
    #: ``"module:attribute"`` of its ``SourceKind``, when it is read by a source of its own; "" = none.
    source: str = ""

    def data(self, name: str) -> str:
        """The text of one of its data files (``rules.toml``, ``promql.toml``, ``report.toml``), "" if it has none."""
        inline = {"rules.toml": self.rules_toml, "promql.toml": self.promql_toml, "report.toml": self.report_toml}.get(
            name, ""
        )
        if inline or not self.data_package:
            return inline
        return _package_text(self.data_package, name)

    def ui_pieces(self) -> SystemUI:
        return load(self.ui) if self.ui else SystemUI()

    def source_kind(self) -> SourceKind | None:
        return load(self.source) if self.source else None
