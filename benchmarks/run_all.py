"""Run every benchmark in turn (``make bench``), each in its own process, save what it prints, judge its targets.

    .venv/bin/python benchmarks/run_all.py [--quick] [--soak] [NAME ...]

NAME is a script's name without ``.py`` (default: all, in the order below;
the hour-long soak only with ``--soak`` or by name). Each script's JSON goes
to benchmarks/out/<name>.json and its progress to stderr; the figures and
their commands are in docs/performance.md.

Every target is judged from the JSON (``CHECKS`` below: a ratio to a floor
measured in the same run wherever the target is one) and printed as a line;
the exit status is 1 when a target is missed or a script fails.

``--quick`` (``.ci/run``, under two minutes on the project's 2-core machine)
runs only the benchmarks whose figures are ratios to a floor measured in the
same run or counts (``QUICK``), smaller and best-of-N, and fails only on a
gross regression: a figure more than twice its target's allowance (a ratio
target of >= 0.5 fails below 0.25; <= 20 ms fails above 40 ms). Its numbers
are not fit to quote; a noisy machine does not make it fail.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

#: name -> (full arguments, quick arguments)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "replay_bench": ([], ["--events", "300000", "--seeks", "60", "--reps", "3"]),
    "report_bench": ([], ["--events", "300000", "--reps", "3"]),
    "dashboard_bench": ([], ["--seconds", "12", "--warmup", "4", "--reps", "1"]),
    "scale_bench": ([], ["--seconds", "25", "--warmup", "10", "--reps", "1", "--duration", "45"]),
    "heartbeat_latency": ([], ["--samples", "20", "--reps", "1"]),
    "prometheus_budget": ([], ["--intervals", "5"]),
    "fleet_bench": ([], ["--seconds", "12", "--warmup", "6", "--reps", "1", "--duration", "45"]),
    "ssh_bytes": ([], ["--seconds", "5", "--warmup", "2", "--reps", "1"]),
    "live_bench": ([], ["--seconds", "12", "--warmup", "6", "--reps", "1"]),
}
#: Too long for the default run (an hour): only with --soak or by name.
LONG: dict[str, tuple[list[str], list[str]]] = {
    "soak_bench": ([], ["--duration", "120", "--interval", "5"]),
}
#: What ``--quick`` runs when no NAME is given: ratios to a floor of the same run, and counts.
QUICK = ("replay_bench", "report_bench", "prometheus_budget")
#: A quick run fails only past this many times a target's allowance.
GROSS = 2.0

#: Where a target is not met yet, ``--quick`` guards what is, not twice the target: it fails past
#: this figure (half the throughput measured when the guard was set), so a gross regression still
#: fails and the miss itself stays visible in ``make bench``. Remove a line once its target holds.
QUICK_LIMITS: dict[str, float] = {
    # Issue 19 (<= 1.5x, which the Markdown holds): the charts' fixed cost (~0.6 s since b2c372a:
    # matplotlib's import, then one figure per migration) is most of a headless replay of the quick
    # run's 300,000 events (2.04-2.05x in the CI run at a6eae0b): a gross regression is past 4x here.
    "report --out report.md / replay --headless (best of the three ratios)": 4.0,
    "report --out report.html / replay --headless (best of the three ratios)": 4.0,
}

#: One target: (what, figure, operator, target).
Check = tuple[str, float | None, str, float]


def _replay(result: dict[str, Any]) -> list[Check]:
    return [(c["name"], c["value"], c["op"], c["target"]) for c in result["checks"]]


def _report(result: dict[str, Any]) -> list[Check]:
    # The documented figure is the ratio of medians; the fixed cost of charts makes a short recording's higher.
    return [
        (f"{name} / replay --headless (ratio of medians)", figures["ratio_of_medians"], "<=", 1.5)
        for name, figures in result["figures"].items()
        if name.startswith("report")
    ]


def _report_quick(result: dict[str, Any]) -> list[Check]:
    # Best-of-N for the quick run: the smallest of the three ratios (medians, minima, per rep).
    return [
        (
            f"{name} / replay --headless (best of the three ratios)",
            min(figures["ratio_of_medians"], figures["ratio_of_minima"], figures["ratio_per_rep_median"]),
            "<=",
            1.5,
        )
        for name, figures in result["figures"].items()
        if name.startswith("report")
    ]


def _dashboard(result: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    for size in ("120x40", "80x24"):
        sized = result[size]
        checks += [
            (f"{size} CPU / bare app", sized["cpu_ratio"], "<=", 1.0),
            (f"{size} bytes / bare app", sized["bytes_ratio"], "<=", 0.5),
            (f"{size} first paint s", sized["replay"]["first_paint_s"], "<=", 0.6),
        ]
    # Issue 20, target 2 (at 120x40, the 2pc sample at 1x): about htop's bytes, a quarter of the bare app's CPU.
    sized = result.get("120x40")
    if sized is not None:
        checks += [
            ("120x40 bytes/s (issue 20)", sized["replay"]["bytes_per_s"], "<=", 600.0),
            ("120x40 CPU / bare app (issue 20)", sized["cpu_ratio"], "<=", 0.25),
            ("120x40 first paint / bare app (issue 20)", sized.get("first_paint_ratio"), "<=", 1.1),
        ]
    return checks


def _live(result: dict[str, Any]) -> list[Check]:
    names = {
        "participants": "live watch: 10,000 participants / 50, CPU",
        "controllers": "live watch: 5 controllers / 1, CPU",
    }
    return [(what, result[key]["cpu_ratio"], "<=", 2.0) for key, what in names.items() if key in result]


def _scale(result: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    for tab in ("overview", "participants"):
        checks += [
            (f"{tab}: 10,000 participants / 50, CPU", result[tab]["cpu_ratio"], "<=", 2.0),
            (f"{tab}: 10,000 participants / 50, bytes", result[tab]["bytes_ratio"], "<=", 2.0),
        ]
    return checks


def _heartbeat(result: dict[str, Any]) -> list[Check]:
    return [("heartbeat to frame p95 ms", result["shipped"]["frame"]["p95_ms"], "<=", 100.0)]


def _prometheus(result: dict[str, Any]) -> list[Check]:
    budget = result["budget_series_x_polls"]
    return [("instant queries / (series x polls)", result["instant_queries"] / budget if budget else None, "<=", 1.0)]


def _fleet(result: dict[str, Any]) -> list[Check]:
    return [("fleet CPU / single dashboard", result["cpu_ratio"], "<=", 2.0)]


def _soak(result: dict[str, Any]) -> list[Check]:
    return [("RSS deviation after the first minute, %", abs(result["max_deviation_pct"]), "<=", 10.0)]


CHECKS: dict[str, Callable[[dict[str, Any]], list[Check]]] = {
    "replay_bench": _replay,
    "report_bench": _report,
    "dashboard_bench": _dashboard,
    "scale_bench": _scale,
    "heartbeat_latency": _heartbeat,
    "prometheus_budget": _prometheus,
    "fleet_bench": _fleet,
    "soak_bench": _soak,
    "live_bench": _live,
    # ssh_bytes: a figure to know, no target.
}


def allowance(op: str, target: float, slack: float) -> float:
    """The figure a check may reach: the target itself, or ``slack`` times as far from ideal."""
    return target * slack if op == "<=" else target / slack


def judge(name: str, result: dict[str, Any], slack: float) -> list[str]:
    """One line per target of a benchmark's result; the missed ones start with ``MISSED``."""
    lines = []
    checks = _report_quick if name == "report_bench" and slack != 1.0 else CHECKS[name]
    for what, value, op, target in checks(result):
        limit = allowance(op, target, slack)
        if slack != 1.0 and what in QUICK_LIMITS:
            limit = QUICK_LIMITS[what]
        ok = value is not None and (value <= limit if op == "<=" else value >= limit)
        shown = "none" if value is None else f"{value:g}"
        bound = f"{op} {target:g}" + (f" (fails past {limit:g})" if slack != 1.0 else "")
        lines.append(f"{'ok    ' if ok else 'MISSED'} {name}: {what} = {shown}, target {bound}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help=f"the short run: {', '.join(QUICK)}, gross regressions")
    parser.add_argument("--soak", action="store_true", help="also run the soak (an hour; 2 minutes with --quick)")
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join([*BENCHMARKS, *LONG]))
    args = parser.parse_args()
    known = {**BENCHMARKS, **LONG}
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (one of {', '.join(known)})")
    OUT.mkdir(exist_ok=True)
    default = list(QUICK) if args.quick else list(BENCHMARKS)
    names = args.names or [*default, *(LONG if args.soak else ())]
    slack = GROSS if args.quick else 1.0
    failed: list[str] = []
    verdicts: list[str] = []
    began = time.monotonic()
    for name in names:
        full, quick = known[name]
        command = [sys.executable, str(HERE / f"{name}.py"), *(quick if args.quick else full)]
        print(f"== {name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
        started = time.monotonic()
        with open(OUT / f"{name}.json", "w", encoding="utf-8") as out:
            code = subprocess.run(command, stdout=out, cwd=HERE.parent).returncode
        print(f"== {name}: exit {code} after {time.monotonic() - started:.0f} s -> {OUT / name}.json", file=sys.stderr)
        if name in CHECKS and not code:
            try:
                lines = judge(name, json.loads((OUT / f"{name}.json").read_text(encoding="utf-8")), slack)
            except (ValueError, KeyError, TypeError) as exc:
                lines = [f"MISSED {name}: its JSON could not be judged ({type(exc).__name__}: {exc})"]
            for line in lines:
                print(line, file=sys.stderr, flush=True)
            verdicts += lines
            if any(line.startswith("MISSED") for line in lines):
                failed.append(name)
        elif code:
            failed.append(name)
    missed = [line for line in verdicts if line.startswith("MISSED")]
    print(
        f"== {len(verdicts) - len(missed)} of {len(verdicts)} targets met"
        f"{' (quick: only a gross regression, past ' + format(GROSS, 'g') + 'x, fails)' if args.quick else ''}"
        f" in {time.monotonic() - began:.0f} s",
        file=sys.stderr,
    )
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
