"""``migration-tui report`` on a long recording, as a ratio to ``replay --headless`` in the same run.

    .venv/bin/python benchmarks/report_bench.py [--events 1000000] [--reps 3]

The floor is ``migration-tui replay FILE --headless --json`` reading the same
recording to its end. Each command runs as a fresh process (start-up
included, output discarded), the floor and the three report forms (Markdown
on stdout, ``--out report.md`` with its chart files, ``--out report.html``)
taking turns, ``--reps`` times each. Figures: wall-clock seconds (median and
minimum) and three ratios to the floor: of the medians, of the minima, and
the median of each rep's ratio to the floor run just before it (the same
load on a shared machine). The recording is the replay benchmark's synthetic one
(``migration_tui/synthetic.py``), written once under ``benchmarks/out/``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from replay_bench import ensure_recording  # noqa: E402

CLI = [sys.executable, "-m", "migration_tui"]
FLOOR = "replay --headless --json (floor)"


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--gzip", action="store_true", help="the .jsonl.gz copy instead of the plain one")
    args = parser.parse_args()
    path = str(ensure_recording(args.events, args.gzip))
    out = Path(tempfile.mkdtemp(prefix="report-bench-"))
    commands = {
        FLOOR: [*CLI, "replay", path, "--headless", "--json"],
        "report (Markdown, stdout)": [*CLI, "report", path],
        "report --out report.md": [*CLI, "report", path, "--out", str(out / "report.md")],
        "report --out report.html": [*CLI, "report", path, "--out", str(out / "report.html")],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.reps):
        for name, command in commands.items():
            times[name].append(timed(command))
    floor = statistics.median(times[FLOOR])
    results = {
        "events": args.events,
        "file": Path(path).name,
        "size_mb": round(os.path.getsize(path) / 1e6, 1),
        "reps": args.reps,
        "cpu_count": os.cpu_count(),
        "load_average_after": os.getloadavg()[0],
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "figures": {
            name: {
                "median_s": round(statistics.median(values), 2),
                "min_s": round(min(values), 2),
                "all_s": [round(v, 2) for v in values],
                "ratio_of_medians": round(statistics.median(values) / floor, 2),
                "ratio_of_minima": round(min(values) / min(times[FLOOR]), 2),
                # Each rep's report against the floor run just before it (same load): their median.
                "ratio_per_rep_median": round(
                    statistics.median(v / f for v, f in zip(values, times[FLOOR], strict=True)), 2
                ),
            }
            for name, values in times.items()
        },
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
