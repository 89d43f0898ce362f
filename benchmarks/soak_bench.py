"""Soak: replay a long recording at 60x for an hour in a pseudo-terminal and watch RSS.

    .venv/bin/python benchmarks/soak_bench.py [--duration 3600] [--speed 60] [--interval 10]

Target (issue 7): RSS stays within 10 % of its value after the first minute.

The recording is synthetic (migration_tui/synthetic.py, 10 events per recorded
second: metrics, heartbeats, host samples, a migration and participants poll each
second, breaker flips, a source error every 97 s), generated once into
benchmarks/out/ and long enough that the replay never reaches its end: an hour
at 60x needs 60 recorded hours, 2.16 million events, about 600 events/s into the
app. No looping: every event the app sees is new. Its one migration completes
after a recorded hour (the first wall-clock minute); metrics, heartbeats, host
samples, breakers and errors keep coming for the rest of the run.

By default it runs the wall (``replay FILE --speed 60 --wall``: the wall's screen,
panes and rotation on a replay source, read-only); ``--screen dashboard`` runs the
dashboard instead.

The app runs in a pty (so Textual draws as it would in a terminal, and its output
is drained); the RSS of the app's process tree is sampled every ``--interval``
seconds and appended to a CSV as it goes, so a long run can be read before it
ends. The JSON summary (stdout, and ``--out``) has the baseline (the sample at
``--baseline-after`` seconds), the largest and last sample, the largest
deviation from the baseline in percent, and CPU over the run.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import pty
import select
import signal
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import MEASURE, OUT, ROOT, ours, stamp  # noqa: E402

EVENTS_PER_S = 10
TARGET_PCT = 10.0


def _measure_tools():
    """measure_tui.py's /proc readers (process tree, CPU seconds and RSS), not copied here."""
    spec = importlib.util.spec_from_file_location("measure_tui", MEASURE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recording_for(seconds: float, speed: float) -> Path:
    """A synthetic recording covering ``seconds`` of wall time at ``speed``, made once."""
    from migration_tui.synthetic import write_synthetic

    recorded_s = int(seconds * speed * 1.05) + 600
    path = OUT / f"soak-{recorded_s}s.jsonl.gz"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        print(f"  writing {path.name}: {recorded_s * EVENTS_PER_S:,} events", file=sys.stderr, flush=True)
        tmp = path.with_suffix(".tmp.gz")
        write_synthetic(tmp, recorded_s * EVENTS_PER_S, events_per_second=EVENTS_PER_S)
        tmp.rename(path)
    return path


def soak(cmd: list[str], args: argparse.Namespace, csv_path: Path) -> dict:
    tools = _measure_tools()
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.execvpe(cmd[0], cmd, {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(args.cols)})
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", args.rows, args.cols, 0, 0))
    started = time.monotonic()
    next_sample = started + args.interval
    samples: list[dict] = []
    written = 0
    exited = False
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["elapsed_s", "rss_mb", "cpu_s", "bytes_written"])
        while time.monotonic() - started < args.duration:
            ready, _, _ = select.select([fd], [], [], max(0.0, next_sample - time.monotonic()))
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    exited = True
                    break
                written += len(chunk)
            if time.monotonic() >= next_sample:
                cpu_s, rss_mb = tools.cpu_and_rss(tools.tree(pid))
                elapsed = round(time.monotonic() - started, 1)
                samples.append({"elapsed_s": elapsed, "rss_mb": round(rss_mb, 2), "cpu_s": round(cpu_s, 2)})
                out.writerow([elapsed, round(rss_mb, 2), round(cpu_s, 2), written])
                f.flush()
                next_sample += args.interval
    try:
        os.write(fd, b"q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.waitpid(pid, os.WNOHANG) == (0, 0):
            time.sleep(0.2)
        else:
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    except (OSError, ChildProcessError):
        pass
    return summarize(samples, args, exited)


def summarize(samples: list[dict], args: argparse.Namespace, exited: bool) -> dict:
    after = [s for s in samples if s["elapsed_s"] >= args.baseline_after]
    result: dict = {"samples": len(samples), "exited_early": exited, "target_pct": TARGET_PCT}
    if not after:
        return result
    base = after[0]["rss_mb"]
    worst = max(after, key=lambda s: abs(s["rss_mb"] - base))
    span = samples[-1]["elapsed_s"] - samples[0]["elapsed_s"]
    result.update(
        baseline_rss_mb=base,
        baseline_at_s=after[0]["elapsed_s"],
        max_rss_mb=max(s["rss_mb"] for s in after),
        min_rss_mb=min(s["rss_mb"] for s in after),
        last_rss_mb=samples[-1]["rss_mb"],
        max_deviation_pct=round(100 * (worst["rss_mb"] - base) / base, 2),
        max_deviation_at_s=worst["elapsed_s"],
        cpu_percent=round(100 * (samples[-1]["cpu_s"] - samples[0]["cpu_s"]) / span, 1) if span else None,
    )
    result["within_target"] = abs(result["max_deviation_pct"]) <= TARGET_PCT and not exited
    # Still growing, or level? The RSS slope over the second half of the run, in MB per hour.
    half = [s for s in samples if s["elapsed_s"] >= samples[-1]["elapsed_s"] / 2]
    if len(half) > 1 and half[-1]["elapsed_s"] > half[0]["elapsed_s"]:
        rise = half[-1]["rss_mb"] - half[0]["rss_mb"]
        result["slope_second_half_mb_per_h"] = round(3600 * rise / (half[-1]["elapsed_s"] - half[0]["elapsed_s"]), 1)
    return result


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return [{key: float(row[key]) for key in ("elapsed_s", "rss_mb", "cpu_s")} for row in csv.DictReader(f)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3600.0, help="seconds to run (default 3600)")
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between RSS samples")
    parser.add_argument("--baseline-after", type=float, default=60.0, help="the baseline sample's time")
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--recording", help="recording to replay (default: a synthetic one, made once)")
    parser.add_argument(
        "--screen", choices=("wall", "dashboard"), default="wall", help="replay --wall (default) or the dashboard"
    )
    parser.add_argument("--csv", help="RSS samples, written as they come (default benchmarks/out/soak.csv)")
    parser.add_argument("--from-csv", metavar="CSV", help="only summarize these samples (a run under way, too)")
    args = parser.parse_args()
    if args.from_csv:
        print(json.dumps({**summarize(read_csv(Path(args.from_csv)), args, False), "csv": args.from_csv}, indent=2))
        return 0
    recording = Path(args.recording) if args.recording else recording_for(args.duration, args.speed)
    cmd = ours("replay", str(recording), "--speed", str(args.speed), *(["--wall"] if args.screen == "wall" else []))
    csv_path = Path(args.csv) if args.csv else OUT / "soak.csv"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"  soak: {' '.join(cmd[2:])} for {args.duration:.0f} s -> {csv_path}", file=sys.stderr, flush=True)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    result = soak(cmd, args, csv_path)
    result.update(
        command=" ".join(cmd[2:]),
        duration_s=args.duration,
        speed=args.speed,
        screen=args.screen,
        size=f"{args.cols}x{args.rows}",
        csv=str(csv_path),
        load_avg_at_start=load_at_start,
        **stamp(),
    )
    print(json.dumps(result, indent=2))
    return 0 if result.get("within_target") else 1


if __name__ == "__main__":
    sys.exit(main())
