"""Run every benchmark in turn (``make bench``), each in its own process, and save what it prints.

    .venv/bin/python benchmarks/run_all.py [--quick] [--soak] [NAME ...]

NAME is a script's name without ``.py`` (default: all, in the order below;
the hour-long soak only with ``--soak`` or by name; ``--quick`` runs it for 2 minutes).
Each script's JSON goes to benchmarks/out/<name>.json and its progress to
stderr; the figures and their commands are in docs/performance.md.
``--quick`` runs each with fewer repetitions and shorter windows, to see that
they work, not to quote.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

#: name -> (full arguments, quick arguments)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "replay_bench": ([], ["--events", "100000", "--seeks", "50"]),
    "report_bench": ([], ["--events", "100000", "--reps", "1"]),
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--soak", action="store_true", help="also run the soak (an hour; 2 minutes with --quick)")
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join([*BENCHMARKS, *LONG]))
    args = parser.parse_args()
    known = {**BENCHMARKS, **LONG}
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (one of {', '.join(known)})")
    OUT.mkdir(exist_ok=True)
    failed = []
    for name in args.names or [*BENCHMARKS, *(LONG if args.soak else ())]:
        full, quick = known[name]
        command = [sys.executable, str(HERE / f"{name}.py"), *(quick if args.quick else full)]
        print(f"== {name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
        started = time.monotonic()
        with open(OUT / f"{name}.json", "w", encoding="utf-8") as out:
            code = subprocess.run(command, stdout=out, cwd=HERE.parent).returncode
        print(f"== {name}: exit {code} after {time.monotonic() - started:.0f} s -> {OUT / name}.json", file=sys.stderr)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
