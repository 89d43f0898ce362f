"""Run the real command in a pseudo-terminal and keep every byte it writes to the screen.

This is how the suite proves that nothing from the data reaches the terminal:
no escaping function is trusted, only the bytes the process wrote. The
process gets a real pty of a given size and TERM, runs until a condition on
its output holds (or a deadline passes), is sent ``q`` and must exit.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PtyRun:
    """The outcome of one run: every byte written to the terminal, and how the process ended."""

    output: bytes = b""
    returncode: int | None = None
    max_rss_kb: int | None = None
    exited_on_q: bool = False
    notes: list[str] = field(default_factory=list)
    keys_sent: int = 0  # of ``keys``: they are pressed only once ``until`` has held

    def text(self) -> str:
        return self.output.decode("utf-8", errors="replace")


def _set_size(fd: int, columns: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def run_in_pty(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    size: tuple[int, int] = (120, 40),
    term: str = "xterm-256color",
    until: Callable[[bytes], bool] | None = None,
    deadline_s: float = 20.0,
    settle_s: float = 1.0,
    keys: Sequence[bytes] = (),
    quit_key: bytes = b"q",
    exit_deadline_s: float = 15.0,
) -> PtyRun:
    """Run ``python -m migration_tui *args`` in a pty; wait for ``until(output)`` then press ``quit_key``.

    ``settle_s`` keeps reading for that long after the condition held, so a
    few more frames are captured (this is a bound on the capture, not a timing
    assertion). If the process does not exit after the quit key it is killed
    and ``exited_on_q`` stays False.
    """
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_TUI_")}
    child_env.update({"TERM": term, "COLUMNS": str(size[0]), "LINES": str(size[1]), "PYTHONUNBUFFERED": "1"})
    child_env.pop("NO_COLOR", None)
    child_env.pop("TEXTUAL", None)
    child_env["HOME"] = child_env.get("HOME", "/tmp")
    if env:
        child_env.update(env)
    master, slave = pty.openpty()
    _set_size(slave, *size)
    process = subprocess.Popen(
        [sys.executable, "-m", "migration_tui", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=child_env,
        cwd=ROOT,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    run = PtyRun()
    chunks: list[bytes] = []

    def pump(timeout: float) -> bool:
        """Read what is there; False at end of output."""
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        chunks.append(data)
        return True

    try:
        start = time.monotonic()
        open_ = True
        met_at: float | None = None
        sent: list[bytes] = []
        while open_ and process.poll() is None:
            open_ = pump(0.05)
            now = time.monotonic()
            if met_at is None and (until is None or until(b"".join(chunks))):
                met_at = now
            if met_at is not None and now - met_at >= settle_s:
                break
            if (
                met_at is not None
                and keys
                and len(sent) < len(keys)
                and now - met_at >= settle_s * len(sent) / len(keys)
            ):
                os.write(master, keys[len(sent)])
                sent.append(keys[len(sent)])
                run.keys_sent = len(sent)
            if now - start > deadline_s:
                run.notes.append(f"condition not met within {deadline_s} s")
                break
        if process.poll() is None:
            try:
                os.write(master, quit_key)
            except OSError:
                pass
            end = time.monotonic() + exit_deadline_s
            while time.monotonic() < end and process.poll() is None:
                if not pump(0.05):
                    break
            try:
                run.returncode = process.wait(timeout=max(0.1, end - time.monotonic()))
                run.exited_on_q = True
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                run.returncode = process.wait()
        else:
            run.returncode = process.returncode
        while pump(0.05):  # whatever is left in the pty after exit
            if not select.select([master], [], [], 0)[0]:
                break
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(master)
    run.output = b"".join(chunks)
    return run


_CSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]")


def plain(output: bytes) -> str:
    """The output with Textual's CSI sequences removed: roughly what a person reads on the screen."""
    return _CSI.sub(b"", output).decode("utf-8", errors="replace")


def forbidden_found(output: bytes, forbidden: Mapping[str, bytes]) -> dict[str, int]:
    """Each forbidden sequence that occurs in ``output``, with its byte offset."""
    return {name: output.find(seq) for name, seq in forbidden.items() if seq in output}
