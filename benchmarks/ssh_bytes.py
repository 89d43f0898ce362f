"""Bytes per second of the dashboard at 80x24 through ``ssh -t``, beside the same dashboard in a pty.

    .venv/bin/python benchmarks/ssh_bytes.py [--seconds 30] [--warmup 5] [--reps 3]

Both runs are ``migration-tui watch --controller URL`` against a fresh simulator of
``2pc-commit`` (``start_in_thread``, a real loopback socket, real time), started with the
dashboard so that each run sees the same stretch of the scenario:

* ``direct``: ``.venv/bin/migration-tui watch ...`` in an 80x24 pty, with the environment
  the far side of ssh gets (TERM, LANG, an empty config file, an audit log in a temporary
  directory; PATH and HOME);
* ``ssh``: the same command on the far side of ``ssh -t`` to a real sshd on a free loopback
  port with throwaway keys (``tests/e2e/sshd.py``, as the end-to-end test runs it), the
  near side an 80x24 pty.

After the dashboard shows the controller fresh and ``--warmup`` seconds more, the bytes
read from the near pty over ``--seconds`` give ``terminal_bytes_per_s`` (what the
operator's terminal receives). For the ssh run, ``channel_bytes_per_s`` is what the ssh
client read in that window (``rchar`` of ``/proc/PID/io``: the encrypted stream from the
socket, packet headers, padding and MACs included; the keyboard is idle). Runs alternate,
``--reps`` times each; figures are medians. One JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import byte_compile, ratio, stamp  # noqa: E402
from migration_tui.sim.server import start_in_thread  # noqa: E402
from tests.e2e.pty_screen import PtyScreen  # noqa: E402
from tests.e2e.sshd import SshServer, remote_command  # noqa: E402

COLUMNS, ROWS = 80, 24


def rchar(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def one_run(kind: str, sshd: SshServer, workdir: Path, seconds: float, warmup: float) -> dict:
    sim = start_in_thread("2pc-commit")
    config = workdir / "config.toml"
    config.write_text("")
    # The far side of ssh gets only sshd's environment and these; the direct run gets the same
    # (plus PATH and HOME), so both dashboards draw with the same settings.
    env = {
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "MIGRATION_TUI_CONFIG": str(config),
        "MIGRATION_TUI_AUDIT_LOG": str(workdir / "audit.jsonl"),
    }
    program = str(Path(sys.executable).parent / "migration-tui")
    args = [program, "watch", "--controller", sim.url]
    if kind == "ssh":
        local = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_TUI_")}
        local["TERM"] = "xterm-256color"
        argv = sshd.command(remote_command(args, env, ROOT))
    else:
        local = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **env}
        argv = args
    terminal = PtyScreen(argv, COLUMNS, ROWS, env=local)
    try:
        started = time.monotonic()
        terminal.wait_for(lambda s: "controller ✔ fresh" in s and "2pc-btcusdt" in s, what="the dashboard")
        ready_s = time.monotonic() - started
        terminal.read_for(warmup)
        before = rchar(terminal.process.pid)
        measured = terminal.read_for(seconds)
        after = rchar(terminal.process.pid)
        result = {
            "kind": kind,
            "ready_s": round(ready_s, 2),
            "terminal_bytes_per_s": round(measured / seconds, 1),
        }
        if kind == "ssh" and before is not None and after is not None:
            result["channel_bytes_per_s"] = round((after - before) / seconds, 1)
        terminal.press(b"q")
        result["exit"] = terminal.wait_exit()
        return result
    finally:
        terminal.close()
        sim.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    byte_compile()
    runs: dict[str, list[dict]] = {"direct": [], "ssh": []}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sshd = SshServer(workdir).start()
        try:
            for rep in range(args.reps):
                for kind in runs:
                    runs[kind].append(one_run(kind, sshd, workdir, args.seconds, args.warmup))
                    print(f"  {kind} #{rep + 1}: {json.dumps(runs[kind][-1])}", file=sys.stderr, flush=True)
        finally:
            sshd.stop()

    def median(kind: str, key: str) -> float | None:
        values = [run[key] for run in runs[kind] if run.get(key) is not None]
        return round(statistics.median(values), 1) if values else None

    direct = median("direct", "terminal_bytes_per_s")
    over_ssh = median("ssh", "terminal_bytes_per_s")
    channel = median("ssh", "channel_bytes_per_s")
    print(
        json.dumps(
            {
                **stamp(),
                "size": f"{COLUMNS}x{ROWS}",
                "seconds": args.seconds,
                "warmup": args.warmup,
                "reps": args.reps,
                "direct_terminal_bytes_per_s": direct,
                "ssh_terminal_bytes_per_s": over_ssh,
                "ssh_channel_bytes_per_s": channel,
                "ssh_terminal_vs_direct": ratio(over_ssh, direct),
                "ssh_channel_vs_direct": ratio(channel, direct),
                "runs": runs,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
