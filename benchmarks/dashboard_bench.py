"""Dashboard cost and first paint against a bare Textual app, in a pseudo-terminal.

    .venv/bin/python benchmarks/dashboard_bench.py [--seconds 30] [--warmup 5] [--reps 3]
        [--tab metrics] [--sizes 120x40]

Replays ``sample_data/2pc-commit.jsonl.gz`` at 1x (``migration-tui replay``) and
runs ../shared/tools/textual_baseline.py (50 rows, updated every second), each
under measure_tui.py at 120x40 and at 80x24, alternately, ``--reps`` times.
Targets (dashboard issue): CPU <= 1.0x the bare app, bytes written to the
terminal <= 0.5x the bare app, first full paint of ``replay`` <= 0.6 s.
Prints medians and ratios as JSON. ``--tab`` opens the replay on another tab
(``benchmarks/_replay_tab.py``: the Metrics tab's charts, issue 21), ``--sizes``
measures only the sizes given.
"""

from __future__ import annotations

import argparse
import json

from _common import HERE, PY, ROOT, baseline, ours, ratio, side_by_side, stamp

RECORDING = ROOT / "sample_data" / "2pc-commit.jsonl.gz"
SIZES = ((120, 40), (80, 24))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--recording", default=str(RECORDING))
    parser.add_argument("--tab", default="", help="open the replay on this tab (overview, metrics, ...)")
    parser.add_argument("--sizes", default="", help="e.g. 120x40,80x24 (default: both)")
    parser.add_argument(
        "--full-repaint",
        action="store_true",
        help="also measure the replay drawn as Textual draws it (MIGRATION_TUI_FULL_REPAINT=1), in the same run",
    )
    args = parser.parse_args()
    replay = ours("replay", args.recording)
    if args.tab:
        replay = [PY, str(HERE / "_replay_tab.py"), args.recording, args.tab]
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")] if args.sizes else SIZES
    programs = {"replay": replay, "baseline": baseline(50, 1.0)}
    if args.full_repaint:
        programs["replay_full_repaint"] = ["env", "MIGRATION_TUI_FULL_REPAINT=1", *replay]
    results: dict = {"recording": args.recording, "seconds": args.seconds, "warmup": args.warmup, "reps": args.reps}
    results["tab"] = args.tab or "overview"
    for cols, rows in sizes:
        medians = side_by_side(programs, cols, rows, args.seconds, args.warmup, args.reps)
        ours_m, base_m = medians["replay"], medians["baseline"]
        results[f"{cols}x{rows}"] = {
            **medians,
            "cpu_ratio": ratio(ours_m["cpu_percent"], base_m["cpu_percent"]),
            "bytes_ratio": ratio(ours_m["bytes_per_s"], base_m["bytes_per_s"]),
            "first_paint_ratio": ratio(ours_m["first_paint_s"], base_m["first_paint_s"]),
            "targets": {"cpu_ratio": "<= 1.0", "bytes_ratio": "<= 0.5", "first_paint_s": "<= 0.6"},
        }
    results.update(stamp())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
