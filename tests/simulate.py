"""``migration-tui simulate`` as a real child process on a loopback port, for tests that need a
controller which really goes away (its connections closed with it) and comes back on the same port."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx

from tests.servers import free_port

DEADLINE_S = 20.0


class SimulateProcess:
    """``start()`` runs ``python -m migration_tui simulate`` and waits for ``/health``; ``stop()`` ends it
    with Ctrl-C (SIGINT) and waits; ``start()`` again serves a fresh simulator on the same port."""

    def __init__(self, scenario: str = "2pc-commit", port: int | None = None, python: str = sys.executable) -> None:
        self.scenario = scenario
        self.port = port or free_port()
        self.python = python
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SimulateProcess:
        command = [
            self.python,
            "-m",
            "migration_tui",
            "simulate",
            "--scenario",
            self.scenario,
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + DEADLINE_S
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise AssertionError(f"simulate exited {self.process.returncode}: {self.process.stderr.read()}")
            assert time.monotonic() < deadline, "simulate never answered /health"
            time.sleep(0.05)  # polling for readiness, with a deadline

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
