"""Live ``watch`` at scale (issue 20, target 3): the controller source and the screen against big estates.

    .venv/bin/python benchmarks/live_bench.py [--seconds 30] [--warmup 10] [--reps 3] [--only participants|controllers]

Starts simulated controllers as real processes on free loopback ports
(``_live_sim.py``, built from the simulator's parts; see its docstring), then runs
``migration-tui watch`` against them in a 120x40 pseudo-terminal under
measure_tui.py (the simulators are not children of the measured process, so
their CPU is not counted), the two sides of each comparison alternately,
``--reps`` times; medians.

- participants: ``watch --controller URL`` on one 2pc migration with 10,000
  participants against the same with 50 (each heard about every 30 s at both
  counts; votes arrive over the first minute of the simulator's run).
  Target: 10,000 <= 2x the CPU of 50.
- controllers: the same 500 per-pair rollouts served by five controllers of 100
  each (``watch --controller c1=URL ... --controller c5=URL``) against one
  controller serving all 500 (``watch --controller URL``): what being spread
  over five controllers costs, the estate kept the same.
  Target: five controllers <= 2x the CPU of one.

The simulators run for the whole benchmark; the poll interval is the default 2 s.

``--source-only``: the same comparisons without the screen. Each side's sources
(``build_live_sources``, as ``watch`` builds them, host source left out) feed a
``Store`` in a fresh interpreter (this script, ``--sources URL...``) for
``--seconds`` after ``--warmup``; its CPU is ``time.process_time()`` over the
window, plus the time the cyclic garbage collector took in it (``gc.callbacks``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack

from _common import HERE, PY, ROOT, ours, ratio, side_by_side, stamp

#: The participants' votes arrive over the simulators' first 20 s (``_live_sim.py``).
VOTES_SETTLED_S = 25.0


def start_sim(stack: ExitStack, *args: str) -> str:
    """A ``_live_sim.py`` process (stopped when ``stack`` closes); its URL."""
    proc = subprocess.Popen(
        [PY, str(HERE / "_live_sim.py"), *args], stdout=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True
    )
    stack.callback(proc.wait, timeout=10)
    stack.callback(proc.terminate)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        raise SystemExit(f"_live_sim.py {' '.join(args)} did not start")
    print(f"  simulator {' '.join(args)}: {url} (pid {proc.pid})", file=sys.stderr, flush=True)
    return url


def compare(programs: dict[str, list[str]], small: str, large: str, args: argparse.Namespace) -> dict:
    medians = side_by_side(programs, args.cols, args.rows, args.seconds, args.warmup, args.reps)
    cpu = [
        ratio(a["cpu_percent"], b["cpu_percent"])
        for a, b in zip(medians[large]["runs"], medians[small]["runs"], strict=True)
    ]
    return {
        **medians,
        "cpu_ratio": ratio(medians[large]["cpu_percent"], medians[small]["cpu_percent"]),
        "cpu_ratio_per_rep": cpu,
        "bytes_ratio": ratio(medians[large]["bytes_per_s"], medians[small]["bytes_per_s"]),
        "targets": {"cpu_ratio": "<= 2.0"},
    }


def source_cpu(urls: list[str], seconds: float, warmup: float) -> dict:
    """The controller sources of ``watch --controller URL...`` feeding a Store: CPU % of a core."""
    import asyncio
    import gc

    sys.path.insert(0, str(ROOT))
    from migration_tui.config import ControllerSpec, Settings
    from migration_tui.sources.controller import ControllerSource
    from migration_tui.sources.runner import SourceRunner, build_live_sources
    from migration_tui.store import Store

    if len(urls) == 1:
        settings = Settings(controller=urls[0])
    else:
        specs = tuple(ControllerSpec(f"c{i + 1}", url, where="--controller") for i, url in enumerate(urls))
        settings = Settings(controllers=specs)
    sources = [s for s in build_live_sources(settings) if isinstance(s, ControllerSource)]
    collecting = {"s": 0.0, "started": 0.0}

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            collecting["started"] = time.process_time()
        else:
            collecting["s"] += time.process_time() - collecting["started"]

    async def measure() -> dict:
        store = Store()
        async with SourceRunner(sources, store.apply):
            await asyncio.sleep(warmup)
            gc.callbacks.append(timed)
            cpu, wall = time.process_time(), time.monotonic()
            await asyncio.sleep(seconds)
            cpu, wall = time.process_time() - cpu, time.monotonic() - wall
            gc.callbacks.remove(timed)
        return {"cpu_percent": round(100 * cpu / wall, 3), "gc_percent": round(100 * collecting["s"] / wall, 3)}

    return asyncio.run(measure())


def compare_sources(urls: dict[str, list[str]], small: str, large: str, args: argparse.Namespace) -> dict:
    """``--source-only``: each side in its own interpreter, alternately, ``--reps`` times; medians."""
    import statistics

    runs: dict[str, list[dict]] = {name: [] for name in urls}
    for rep in range(args.reps):
        for name, side in urls.items():
            cmd = [PY, __file__, "--sources", *side, "--seconds", str(args.seconds), "--warmup", str(args.warmup)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  sources {name} #{rep + 1}: {json.dumps(runs[name][-1])}", file=sys.stderr, flush=True)
    medians = {
        name: {key: statistics.median(run[key] for run in values) for key in ("cpu_percent", "gc_percent")}
        | {"runs": values}
        for name, values in runs.items()
    }
    per_rep = [ratio(a["cpu_percent"], b["cpu_percent"]) for a, b in zip(runs[large], runs[small], strict=True)]
    return {
        **medians,
        "cpu_ratio": ratio(medians[large]["cpu_percent"], medians[small]["cpu_percent"]),
        "cpu_ratio_per_rep": per_rep,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--migrations", type=int, default=500)
    parser.add_argument("--controllers", type=int, default=5)
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--only", choices=("participants", "controllers"))
    parser.add_argument("--source-only", action="store_true", help="the controller sources alone, no screen")
    parser.add_argument("--sources", nargs="+", help=argparse.SUPPRESS)  # one side of --source-only
    args = parser.parse_args()
    if args.sources:
        print(json.dumps(source_cpu(args.sources, args.seconds, args.warmup)))
        return
    for name in ("MIGRATION_TUI_CONTROLLER", "MIGRATION_TUI_PROMETHEUS", "MIGRATION_TUI_REDIS"):
        os.environ.pop(name, None)
    results: dict = {
        "seconds": args.seconds,
        "warmup": args.warmup,
        "reps": args.reps,
        "size": f"{args.cols}x{args.rows}",
    }
    with ExitStack() as stack:
        if args.only in (None, "participants"):
            small, large = "50", str(args.participants)
            urls = {n: start_sim(stack, "participants", n) for n in (small, large)}
            time.sleep(VOTES_SETTLED_S)  # measure the steady state: every participant has voted
            if args.source_only:
                results["participants"] = compare_sources({n: [urls[n]] for n in (small, large)}, small, large, args)
            else:
                programs = {n: ours("watch", "--controller", urls[n]) for n in (small, large)}
                results["participants"] = compare(programs, small, large, args)
        if args.only in (None, "controllers"):
            each = args.migrations // args.controllers
            one = start_sim(stack, "migrations", str(args.migrations))
            many = [
                start_sim(stack, "migrations", str(each), "--first", str(i * each)) for i in range(args.controllers)
            ]
            single, spread = f"1 controller x {args.migrations}", f"{args.controllers} controllers x {each}"
            if args.source_only:
                results["controllers"] = compare_sources({single: [one], spread: many}, single, spread, args)
            else:
                flags = [arg for i, url in enumerate(many) for arg in ("--controller", f"c{i + 1}={url}")]
                programs = {single: ours("watch", "--controller", one), spread: ours("watch", *flags)}
                results["controllers"] = compare(programs, single, spread, args)
    results.update(stamp())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
