"""Shared helpers for the dashboard benchmarks: run measure_tui.py, take medians, print JSON.

measure_tui.py (in ../shared/tools, or $MEASURE_TUI) runs a program in a pseudo-terminal
and prints one JSON line: first_paint_s, bytes_per_s, cpu_percent, peak_rss_mb.
The machine is shared, so every figure is the median of several repetitions,
and ours and the bare Textual app are measured alternately in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
TOOLS = Path(os.environ.get("MIGRATION_TUI_TOOLS", ROOT.parent / "shared" / "tools"))
MEASURE = Path(os.environ.get("MEASURE_TUI", TOOLS / "measure_tui.py"))
BASELINE = Path(os.environ.get("TEXTUAL_BASELINE", TOOLS / "textual_baseline.py"))
PY = sys.executable
FIGURES = ("first_paint_s", "bytes_per_s", "cpu_percent", "peak_rss_mb")


def ours(*args: str) -> list[str]:
    """The dashboard's command line, run with this interpreter."""
    return [PY, "-m", "migration_tui", *args]


def baseline(rows: int = 50, interval_s: float = 1.0) -> list[str]:
    """The bare Textual app with the widgets a dashboard shows, updated every ``interval_s``."""
    return [PY, str(BASELINE), str(rows), str(interval_s)]


def measure(cmd: list[str], cols: int, rows: int, seconds: float, warmup: float, label: str = "") -> dict:
    """One measure_tui.py run of ``cmd``; its JSON line as a dict."""
    args = [PY, str(MEASURE), "--cols", str(cols), "--rows", str(rows), "--seconds", str(seconds)]
    args += ["--warmup", str(warmup), "--label", label, "--", *cmd]
    out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result.get("exited_early"):
        raise RuntimeError(f"{label or cmd}: exited during the measurement: {out.stderr[-500:]}")
    return result


def median_of(runs: list[dict]) -> dict:
    """The median of each figure over the runs, and the runs themselves."""
    summary: dict = {}
    for key in FIGURES:
        values = [run[key] for run in runs if run.get(key) is not None]
        summary[key] = round(statistics.median(values), 3) if values else None
    summary["runs"] = [{key: run.get(key) for key in FIGURES} for run in runs]
    return summary


def side_by_side(
    programs: dict[str, list[str]], cols: int, rows: int, seconds: float, warmup: float, reps: int
) -> dict:
    """Measure each program ``reps`` times, alternating, so both see the same machine; medians."""
    runs: dict[str, list[dict]] = {name: [] for name in programs}
    print(f"  measuring migration_tui at {code_version()}", file=sys.stderr, flush=True)
    byte_compile()
    for rep in range(reps):
        for name, cmd in programs.items():
            runs[name].append(measure(cmd, cols, rows, seconds, warmup, label=f"{name} #{rep + 1}"))
            print(f"  {cols}x{rows} {name} #{rep + 1}: {json.dumps(runs[name][-1])}", file=sys.stderr, flush=True)
    return {name: median_of(values) for name, values in runs.items()}


def byte_compile() -> None:
    """Write migration_tui's .pyc files, as pip does when it installs a package.

    Python writes them itself on a first import, unless PYTHONDONTWRITEBYTECODE is set (as it
    is on this machine): then every start compiled our modules from source, about 28 ms of
    the first paint that no installed copy pays. Textual, from the venv, has its .pyc already.
    """
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "migration_tui")], check=True)


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 3)


def code_version() -> str:
    """The commit measured, with ``+dirty`` if migration_tui/ had uncommitted changes (others work here too)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "migration_tui"], capture_output=True, text=True, cwd=ROOT
        )
    except OSError:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def stamp() -> dict:
    return {
        "commit": code_version(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
    }
