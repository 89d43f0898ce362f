"""When a terminal program writes what, in its first seconds: each read of its terminal, timed.

    .venv/bin/python benchmarks/first_bytes.py [--seconds 2] [--size 120x40] -- COMMAND...

measure_tui.py gives one first-paint figure (start until the output has been quiet for
0.3 s); this shows what makes it up: the terminal set-up, each frame and its size, and
whether a program writes one frame or several before it goes quiet. For example, the
replay against the bare Textual app:

    .venv/bin/python benchmarks/first_bytes.py -- .venv/bin/python -m migration_tui replay sample_data/2pc-commit.jsonl.gz
    .venv/bin/python benchmarks/first_bytes.py -- .venv/bin/python ../shared/tools/textual_baseline.py 50 1
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--size", default="120x40")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(args.command[0], args.command)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    reads: list[tuple[float, bytes]] = []
    while time.monotonic() - start < args.seconds:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            reads.append((time.monotonic() - start, data))
    os.write(fd, b"q")
    time.sleep(0.3)
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    for at, data in reads:
        print(f"{at:7.3f} s {len(data):6d} bytes  {data[:60]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
