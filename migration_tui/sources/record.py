"""``migration-tui record``: the live sources, headless, written to a recording.

It starts exactly the sources the dashboard starts (``build_live_sources``)
and writes every event as it comes, so replaying the file shows what the
dashboard would have shown. The token is handed to the writer as a secret,
so even a server that echoes it back cannot get it into the file.

Exit codes: 0 when the duration ends or on Ctrl-C / SIGTERM, 1 when the
output file cannot be written, 2 when no controller is configured (or a
URL is not usable), 3 when the controller never answered during the whole
run (the file still holds what the other sources gave).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migration_tui.events import Event
from migration_tui.model import is_controller_source
from migration_tui.recording import RecordingWriter
from migration_tui.sources.base import Source
from migration_tui.sources.runner import SourceRunner, build_live_sources

if TYPE_CHECKING:
    from migration_tui.config import Settings


@dataclass
class RecordSummary:
    """What a recording session wrote, for the one-line summary."""

    path: str
    events_by_source: Counter[str] = field(default_factory=Counter)
    errors_by_source: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    write_error: str | None = None
    #: The controller sources that answered at least once (any event of theirs other than ``source_error``).
    reached: set[str] = field(default_factory=set)
    #: Each controller source's last error.
    controller_errors: dict[str, str] = field(default_factory=dict)

    @property
    def controller_reached(self) -> bool:
        return bool(self.reached)

    @property
    def last_controller_error(self) -> str | None:
        return next(reversed(self.controller_errors.values()), None)

    @property
    def events(self) -> int:
        return sum(self.events_by_source.values())

    def line(self) -> str:
        per_source = ", ".join(f"{name} {count}" for name, count in sorted(self.events_by_source.items()))
        errors = sum(self.errors_by_source.values())
        text = f"recorded {self.events} event(s) in {self.seconds:.1f} s to {self.path}"
        if per_source:
            text += f" ({per_source})"
        if errors:
            text += f"; {errors} source error(s)"
        if self.write_error:
            text += f"; stopped: {self.write_error}"
        return text


def record(settings: Settings, out: str, duration_s: float | None = None) -> int:
    """Record until ``duration_s`` passes or the process is told to stop; print a summary line."""
    specs = () if settings.relay else settings.controller_specs()  # a relay viewer polls no controller
    if not specs and not settings.relay:
        print("migration-tui record: no controller URL (use --controller or MIGRATION_TUI_CONTROLLER)", file=sys.stderr)
        return 2
    sources = build_live_sources(settings)
    secrets = tuple(s for s in (settings.token, *(secret for spec in specs for secret in spec.secrets)) if s)
    try:
        summary = asyncio.run(record_async(sources, out, duration_s, secrets=secrets))
    except OSError as exc:
        print(f"migration-tui record: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(summary.line())
    if summary.write_error:
        return 1
    from migration_tui.model import controller_source
    from migration_tui.safe_text import clean

    if settings.relay and "relay" not in summary.reached:
        error = summary.controller_errors.get("relay")
        print(
            f"migration-tui record: never reached the relay{': ' + clean(error, 200) if error else ''}", file=sys.stderr
        )
        return 3
    missed = [spec for spec in specs if controller_source(spec.name) not in summary.reached]
    for spec in missed:
        error = summary.controller_errors.get(controller_source(spec.name))
        why = f": {clean(error, 200)}" if error else ""
        named = f"controller {spec.name}" if spec.name else "the controller"
        print(f"migration-tui record: never reached {named} at {clean(spec.shown, 300)}{why}", file=sys.stderr)
    return 3 if missed else 0


async def record_async(
    sources: list[Source],
    out: str,
    duration_s: float | None = None,
    secrets: tuple[str, ...] = (),
    stop: asyncio.Event | None = None,
) -> RecordSummary:
    """Run ``sources`` into a recording at ``out`` until ``duration_s``, ``stop`` is set, or SIGINT/SIGTERM."""
    stop = stop or asyncio.Event()
    summary = RecordSummary(out)
    started = time.time()
    loop = asyncio.get_running_loop()
    installed = _install_signal_handlers(loop, stop)
    meta = {"recorded_by": "migration-tui record", "sources": [source.name for source in sources]}
    try:
        with RecordingWriter(out, started_at=started, meta=meta, secrets=tuple(s for s in secrets if s)) as writer:

            def emit(event: Event) -> None:
                if summary.write_error:
                    return
                try:
                    writer.write(event)
                except (OSError, ValueError, TypeError) as exc:  # disk full, or an event orjson refuses
                    summary.write_error = f"{type(exc).__name__}: {exc}"
                    stop.set()
                    return
                summary.events_by_source[event.source] += 1
                if event.kind == "source_error":
                    summary.errors_by_source[event.source] += 1
                    if is_controller_source(event.source) or event.source == "relay":
                        summary.controller_errors[event.source] = str(event.data.get("error"))
                elif (is_controller_source(event.source) and event.kind != "action") or (
                    event.source == "relay" and event.kind == "source_ok"
                ):
                    summary.reached.add(event.source)

            async with SourceRunner(sources, emit):
                try:
                    await asyncio.wait_for(stop.wait(), duration_s)
                except asyncio.TimeoutError:
                    pass
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        summary.seconds = time.time() - started
    return summary


def _install_signal_handlers(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> list[int]:
    """Ctrl-C and SIGTERM end the recording cleanly (exit 0); only possible in the main thread."""
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        installed.append(signum)
    return installed
