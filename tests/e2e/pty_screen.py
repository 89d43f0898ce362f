"""A process in a pseudo-terminal of a given size, read into a pyte screen (a VT100 emulator),
so a test can wait for what the screen shows, press keys, and count the bytes the process wrote."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Mapping, Sequence

import pyte


class PtyScreen:
    """``argv`` in a pty of ``columns`` x ``rows``; ``pump()`` reads what it wrote into ``screen``."""

    def __init__(
        self, argv: Sequence[str], columns: int = 80, rows: int = 24, env: Mapping[str, str] | None = None
    ) -> None:
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.bytes_read = 0
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.master = master
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.closed = False

    def pump(self, timeout: float = 0.05) -> None:
        """Read whatever the process wrote within ``timeout`` seconds into the screen."""
        if self.closed:
            time.sleep(timeout)
            return
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the far side closed the terminal
            data = b""
        if not data:
            self.closed = True
            return
        self.bytes_read += len(data)
        self.stream.feed(data)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30.0, what: str = "") -> str:
        """Read until ``predicate(screen text)`` holds; return that text, or fail with the screen."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if predicate(text):
                return text
            if time.monotonic() > deadline or (self.closed and self.process.poll() is not None):
                raise AssertionError(f"screen never showed {what or predicate}:\n{text}")
            self.pump()

    def read_for(self, seconds: float) -> int:
        """Read for ``seconds``; the number of bytes read meanwhile."""
        before = self.bytes_read
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump(min(0.05, max(0.0, end - time.monotonic())))
        return self.bytes_read - before

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_exit(self, timeout: float = 15.0) -> int | None:
        """Read until the process exits; its return code, or None if it did not exit in time."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.pump()
        return self.process.poll()

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        os.close(self.master)
