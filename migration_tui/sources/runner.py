"""Runs a set of sources as asyncio tasks that feed one ``emit``, and stops them cleanly.

The dashboard, the wall, the demo (through ``feeds.LiveFeed``) and the
recorder all run their sources here, built by ``build_live_sources`` (the demo
builds its own simulated ones), so a recording holds exactly what the screen
saw and a crashed source is restarted the same way everywhere.
A source is supposed never to raise (see sources/base.py); if one does
anyway, the runner turns that into a ``source_error`` and starts it again
after a backoff, so one broken source cannot take the others down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from migration_tui.events import Event
from migration_tui.sources.base import Backoff, Emit, Source

if TYPE_CHECKING:
    from migration_tui.config import Settings

log = logging.getLogger(__name__)

#: How long ``stop`` keeps cancelling a source that does not stop.
STOP_PATIENCE_S = 5.0


class SourceRunner:
    """Starts each source's ``run(emit)`` as a task; ``stop()`` cancels them all and waits for them."""

    def __init__(self, sources: Iterable[Source], emit: Emit, restart_backoff: Backoff | None = None) -> None:
        self.sources = list(sources)
        self.emit = emit
        self._restart_backoff = restart_backoff
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start every source on the running loop (idempotent)."""
        if self.tasks:
            return
        for source in self.sources:
            self.tasks.append(asyncio.create_task(self._supervise(source), name=f"source:{source.name}"))

    def cancel(self) -> None:
        """Cancel every source without waiting (for a caller that cannot await, like an app's unmount)."""
        for task in self.tasks:
            task.cancel()

    async def stop(self, patience_s: float = STOP_PATIENCE_S) -> None:
        """Cancel every source and wait until each has finished cancelling. A source still running
        half a second after its cancellation is cancelled again (a library's timeout can swallow a
        cancellation that races it, as asyncio's and anyio's do on Python 3.11), for up to
        ``patience_s``; one that outlives that is left to the loop's end, so Ctrl-C never hangs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience_s
        pending = {task for task in self.tasks if not task.done()}
        while pending:
            for task in pending:
                task.cancel()
            _done, pending = await asyncio.wait(pending, timeout=min(0.5, max(0.0, deadline - loop.time())))
            if loop.time() >= deadline:
                break
        for task in self.tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a source that raised on its way out is not an error here
        self.tasks.clear()

    async def __aenter__(self) -> SourceRunner:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _supervise(self, source: Source) -> None:
        backoff = self._restart_backoff or Backoff(base_s=1.0, cap_s=30.0)
        loop = asyncio.get_running_loop()
        crashed = False  # the last run raised, and nothing was logged about it yet on this side
        while True:
            started = loop.time()
            try:
                await source.run(self.emit)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if loop.time() - started >= backoff.cap_s:
                    backoff.reset()  # it ran a good while: a new crash starts from a short delay
                    crashed = False
                if not crashed:  # the traceback once per crash loop, not once per restart
                    log.exception("source %s raised; restarting it with backoff", source.name)
                crashed = True
                # The same words on every restart: the store logs a source's error once (until it
                # answers again or the words change) and shows it on screen as the source's ✖.
                message = f"crashed: {type(exc).__name__}: {exc} (restarting)"
                self.emit(Event(time.time(), source.name, "source_error", {"error": message}))
                await asyncio.sleep(backoff.next_delay())
                continue
            self.emit(Event(time.time(), source.name, "log", {"level": "warning", "message": "source ended"}))
            return


def build_live_sources(settings: Settings, **controller_options: Any) -> list[Source]:
    """The sources the settings ask for: controller (if set), Prometheus and Redis (if set), host (always).

    Prometheus, Redis and host live in their own modules; each is imported
    only when used, so an install without one (or a module not written yet)
    still runs the others.
    """
    from migration_tui.sources.controller import ControllerSource, DetailBudget

    if settings.relay:
        # A relay viewer: every source comes from the relay's stream, including the relay's host.
        from migration_tui.relay import RelaySource

        return [RelaySource(settings.relay, settings.relay_stream, poll_interval_s=settings.poll_interval_s)]
    sources: list[Source] = []
    controller = None
    budget = DetailBudget()  # one for the dashboard: more controllers do not mean more detail requests
    for spec in settings.controller_specs():
        if spec.kind != "http":
            sources.append(_own_source(spec, settings))
            continue
        source = ControllerSource.from_spec(spec, settings, **{"detail_budget": budget, **controller_options})
        controller = controller or source  # the PromQL follows the first controller's profile
        sources.append(source)
    wanted = [
        (bool(settings.prometheus), "migration_tui.sources.prometheus", "PrometheusSource"),
        (bool(settings.redis), "migration_tui.sources.redis", "RedisSource"),
        (True, "migration_tui.sources.host", "HostSource"),
    ]
    for enabled, module_name, class_name in wanted:
        extra: dict[str, Any] = {}
        if class_name == "PrometheusSource" and controller is not None and not settings.profile:
            # The PromQL follows the profile the controller source detects.
            extra["profile_of"] = lambda: controller.profile.name if controller.profile else None
        source = _optional(module_name, class_name, settings, **extra) if enabled else None
        if source is not None:
            sources.append(source)
    return sources


def _own_source(spec: Any, settings: Settings) -> Source:
    """The source of a system that reads its own servers (``[[controllers]] kind = ...``)."""
    from migration_tui import systems
    from migration_tui.systems.base import load

    kind = systems.source_kinds()[spec.kind]
    return load(kind.build)(spec, settings)


def _optional(module_name: str, class_name: str, settings: Settings, **options: Any) -> Source | None:
    """``class_name.from_settings(settings)`` (or ``class_name()``) from a module that may not exist yet."""
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise  # the module exists but one of its own imports is missing: that is a real error
        log.warning("%s is not available; running without it", module_name)
        return None
    cls = getattr(module, class_name)
    from_settings = getattr(cls, "from_settings", None)
    return from_settings(settings, **options) if from_settings is not None else cls(**options)
