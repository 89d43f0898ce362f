"""The modes cli.py starts: replay, demo, watch and wall. Each builds a feed and runs the app.

Imports of sources and the simulator are inside the mode that needs them,
so ``replay`` paints its first frame without loading HTTP or Redis clients.
Errors from ``app.run()`` are never swallowed: they reach the terminal.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migration_tui.config import Settings
    from migration_tui.feeds import LiveFeed, ReplayFeed


def _run(feed: ReplayFeed | LiveFeed, settings: Settings, dashboard: Any = None) -> int:
    from migration_tui.rules import RulesError, load_rules
    from migration_tui.ui.app import MigrationApp
    from migration_tui.ui.themes import ThemeError

    try:
        rules = load_rules(settings.rules_file)
        extra = {"dashboard": dashboard} if dashboard is not None else {}
        app = MigrationApp(
            feed,
            theme=settings.theme,
            rules=rules,
            bell=settings.bell,
            screenshot_dir=settings.screenshot_dir,
            **extra,
        )
    except (ThemeError, RulesError) as exc:
        print(f"migration-tui: {exc}", file=sys.stderr)
        feed.stop()
        return 2
    result = app.run()
    if app.return_code not in (None, 0):
        return app.return_code
    return result or 0


def run_replay(
    path: str, settings: Settings, speed: float = 1.0, start: float = 0.0, wall_rotate_s: float | None = None
) -> int:
    """The dashboard on a recording; with ``wall_rotate_s``, the wall screen instead (no keys but view keys)."""
    from migration_tui.feeds import ReplayFeed

    feed = ReplayFeed(path, speed=speed, start=start, keep_index=True)
    if wall_rotate_s is None:
        return _run(feed, settings)
    return _run(feed, *_wall(settings, wall_rotate_s))


def _recorder(settings: Settings):
    if not settings.record:
        return None
    from migration_tui.recording import RecordingWriter

    every = (settings.token, *(secret for spec in settings.controller_specs() for secret in spec.secrets))
    return RecordingWriter(settings.record, secrets=tuple(dict.fromkeys(s for s in every if s)))


def run_demo(settings: Settings, scenario: str | None = None, speed: float = 1.0) -> int:
    from migration_tui.feeds import LiveFeed
    from migration_tui.ui.demo import demo_actions, demo_setup
    from migration_tui.ui.screens.actions import ActionDashboard

    sources, controllers = demo_setup(settings, scenario, speed)
    feed = LiveFeed(sources, mode="DEMO", poll_interval_s=settings.poll_interval_s)
    # The action keys work in the demo too, against the in-process simulators: safe to try.
    client = demo_actions(settings, controllers, feed.emit)
    return _run(feed, settings, ActionDashboard.with_client(client))


def run_watch(settings: Settings, wall: bool = False) -> int:
    feed, dashboard = build_watch(settings, wall)
    return _run(feed, settings, dashboard)


def build_watch(settings: Settings, wall: bool = False) -> tuple[LiveFeed, Any]:
    """The feed and dashboard ``watch`` runs; the action keys only when neither read-only nor wall."""
    from migration_tui.feeds import LiveFeed
    from migration_tui.sources.runner import build_live_sources

    sources = build_live_sources(settings)
    feed = LiveFeed(
        sources,
        mode="WALL" if wall else "LIVE",
        recorder=_recorder(settings),
        poll_interval_s=settings.poll_interval_s,
    )
    from migration_tui.ui.view import place_label

    specs = settings.controller_specs()
    feed.place = place_label(settings.environment, specs[0].url if len(specs) == 1 and specs[0].url else None)
    if not feed.place and len(specs) > 1:
        feed.place = f"{len(specs)} controllers"
    if not settings.environment and settings.relay:
        feed.place = "via relay"
    # A relay viewer without a controller of its own can send nothing: actions never travel through Redis.
    feed.read_only = wall or settings.read_only or bool(settings.relay and not specs)
    return feed, None if wall or settings.read_only else action_dashboard(settings, feed)


def action_dashboard(settings: Settings, feed: LiveFeed) -> Any:
    """The dashboard with the action keys, each migration's decisions sent to its own controller
    with that controller's token (None without a controller).

    The only place an ``ActionClient`` is built; wall, replay and ``--read-only`` never get here,
    so they never import ``migration_tui.actions``. The audit log goes to ``settings.audit_log``
    (MIGRATION_TUI_AUDIT_LOG or the config file), else under the user state directory.
    """
    from migration_tui.config import HTTP_KIND
    from migration_tui.sources.controller import ControllerSource

    specs = {spec.name: spec for spec in settings.controller_specs()}
    polled = {s.controller_name: s for s in feed.sources if isinstance(s, ControllerSource)}
    http = {name: spec for name, spec in specs.items() if spec.kind == HTTP_KIND}
    own = _own_action_builders(feed, specs, relayed=bool(settings.relay))
    if not (http or own):
        return None
    from migration_tui.actions import ActionClient, ActionRouter, AuditLog
    from migration_tui.config import ConfigError
    from migration_tui.ui.screens.actions import ActionDashboard

    secrets = tuple(s for s in (settings.token, *(x for spec in specs.values() for x in spec.secrets)) if s)
    try:
        audit = AuditLog(settings.audit_log, secrets=secrets)
    except OSError as exc:
        raise ConfigError(f"cannot create the audit log's directory ({exc}); set MIGRATION_TUI_AUDIT_LOG") from None
    clients: list[Any] = [
        ActionClient(
            spec.url,
            # The profile the polling source uses (it may detect it); a relay viewer polls nothing,
            # so its controllers name their profile (the command line insists).
            _profile_of(polled[name]) if name in polled else spec.profile,
            audit,
            feed.emit,  # action events reach the store, the log pane and the recording
            token=spec.token,
            timeout_s=settings.timeout_s,
            verify_tls=not settings.insecure,
            controller=name,
        )
        for name, spec in http.items()
    ]
    # A system's own source (``[[controllers]] kind = ...``) acts through its own client, if it has one.
    clients += [build(source, spec, audit, feed.emit, settings) for source, spec, build in own]
    if not clients:
        return None
    return ActionDashboard.with_client(clients[0] if len(clients) == 1 else ActionRouter(clients))


def _own_action_builders(feed: LiveFeed, specs: dict[Any, Any], relayed: bool) -> list[tuple[Any, Any, Any]]:
    """(source, spec, build) for each system's own source whose kind has an action client. A relay
    viewer polls none of them (its one source is the relay): each block it was given acts from its
    spec alone, straight to its servers as in ``watch``, and the source is None."""
    from migration_tui import systems
    from migration_tui.model import controller_source
    from migration_tui.systems.base import load

    kinds = systems.source_kinds()
    polled = {source.name: source for source in feed.sources}
    found = []
    for spec in specs.values():
        kind = kinds.get(spec.kind)
        if kind is None or not kind.actions:
            continue
        source = polled.get(controller_source(spec.name))
        if source is not None or relayed:
            found.append((source, spec, load(kind.actions)))
    return found


def _profile_of(source: Any) -> Any:
    """The Profile the source uses (a built-in or a profile file), once it knows it (it may detect
    it on its first poll); None until then."""
    return lambda: source.profile


def run_wall(
    settings: Settings, rotate_s: float = 15.0, web: bool = False, host: str = "127.0.0.1", port: int = 8000
) -> int:
    """The wall screen (large figures, fleet summary, rotation), read-only, high-contrast by default."""
    if web:
        from migration_tui.ui.web import serve_wall

        return serve_wall(sys.argv[1:], host=host, port=port)
    settings, wall = _wall(settings, rotate_s)
    feed, _none = build_watch(settings, wall=True)
    return _run(feed, settings, wall)


def _wall(settings: Settings, rotate_s: float) -> tuple[Settings, Any]:
    """The wall's settings (the high-contrast theme unless one was chosen) and its screen."""
    from migration_tui.ui.screens.wall import WallScreen

    if settings.theme is None:
        from dataclasses import replace

        settings = replace(settings, theme="high-contrast")
    return settings, WallScreen.rotating(rotate_s)
