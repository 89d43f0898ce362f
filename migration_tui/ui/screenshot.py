"""Screenshots of the screen as SVG: the ``s`` key, and ``replay --headless --at S --screenshot OUT.svg``.

The key saves what is on screen to ``--screenshot-dir`` (or ``screenshot_dir``
in the config file), by default ``screenshots/`` under the user data
directory (``~/.local/share/migration-tui/screenshots`` on Linux), and says
where in a notification. The file is named after the moment it shows: in a
replay the recording's time (``migration-tui-2pc-commit-20231114T221550Z.svg``,
the recording's name and the UTC time at the replay's position), live the
wall-clock time. A name already taken gets ``-2``, ``-3``...

Textual draws the SVG (``App.export_screenshot``): text from servers and
recordings reaches it as it reaches the screen, cleaned (``safe_text``), and
Textual escapes it for SVG.
"""

from __future__ import annotations

import datetime as _dt
import re
import time
from pathlib import Path
from typing import Any

#: The terminal size a headless screenshot is drawn at (the README's pictures are this size).
HEADLESS_SIZE = (120, 40)


def default_dir() -> Path:
    """``MIGRATION_TUI_SCREENSHOT_DIR``, else ``screenshots/`` under the user data directory."""
    import os

    given = os.environ.get("MIGRATION_TUI_SCREENSHOT_DIR")
    if given:
        return Path(given)
    from platformdirs import user_data_path

    return user_data_path("migration-tui") / "screenshots"


def _stamp(ts: float) -> str:
    try:
        return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    except (OverflowError, OSError, ValueError):
        return "unknown-time"


def file_name(feed: Any) -> str:
    """``migration-tui-NAME-TIME.svg`` in a replay (the recording's name and its time at the
    position shown), ``migration-tui-TIME.svg`` live."""
    path = getattr(feed, "path", None)
    if path is not None:
        stem = Path(path).name
        for suffix in (".gz", ".jsonl"):
            stem = stem.removesuffix(suffix)
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:60].strip("._") or "replay"
        return f"migration-tui-{stem}-{_stamp(feed.now())}.svg"
    return f"migration-tui-{_stamp(time.time())}.svg"


def unused(directory: Path, name: str) -> Path:
    """``directory/name``, or with ``-2``, ``-3``... before the suffix if that is taken."""
    target = directory / name
    stem, suffix = target.stem, target.suffix
    number = 2
    while target.exists():
        target = directory / f"{stem}-{number}{suffix}"
        number += 1
    return target


def svg(app: Any) -> str:
    mode = getattr(app.feed, "mode", "")
    return app.export_screenshot(title=f"migration-tui {mode.lower()}".strip())


def save(app: Any, directory: str | Path | None) -> Path:
    """Write the app's screen as SVG in ``directory`` (None: ``default_dir()``); return the path."""
    folder = Path(directory).expanduser() if directory else default_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = unused(folder, file_name(app.feed))
    target.write_text(svg(app), encoding="utf-8")
    return target


async def headless(app: Any, at: float, out: Path, size: tuple[int, int] = HEADLESS_SIZE) -> None:
    """Run ``app`` (over a paused ``ReplayFeed``) without a terminal, at ``at`` seconds into the
    recording, and write its screen to ``out``.

    Textual's headless driver (``App.run_test``: no terminal is read or written) draws the
    screen exactly as a terminal of ``size`` would show it.
    """
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()  # the index: a seek then reads at most one keyframe's events
        app.feed.seek_to(at)
        await pilot.pause(0.3)
        app.dashboard.refresh_view()
        await pilot.pause()
        out.write_text(svg(app), encoding="utf-8")
