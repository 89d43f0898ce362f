"""``migration-tui simulate`` as a real process: one line saying where it listens, Ctrl-C exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.sim.conftest import free_port

DEADLINE_S = 20.0


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("inherited", ["default", "ignored"])
def test_simulate_serves_until_ctrl_c_and_takes_the_token_from_the_environment(inherited) -> None:
    """``ignored``: started as ``simulate ... &`` from a script, SIGINT arrives ignored; Ctrl-C must still stop it."""
    port = free_port()
    token = "env-only-token-123"
    env = {**os.environ, "MIGRATION_TUI_SIM_TOKEN": token}
    process = subprocess.Popen(
        [sys.executable, "-m", "migration_tui", "simulate", "--scenario", "canary", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_ignore_sigint if inherited == "ignored" else None,
    )
    try:
        first_line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first_line and "canary" in first_line
        assert token not in first_line
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + DEADLINE_S
        while True:
            try:
                health = httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "simulate never answered"
                time.sleep(0.05)  # polling for readiness with a deadline
        assert health.json()["service"] == "canary"
        headers = {"Idempotency-Key": "k1"}
        assert httpx.post(f"{url}/api/canary/pause", json={}, headers=headers, timeout=5).status_code == 401
        headers["Authorization"] = f"Bearer {token}"
        assert httpx.post(f"{url}/api/canary/pause", json={}, headers=headers, timeout=5).status_code == 200
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=DEADLINE_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert token not in stdout + stderr


def test_simulate_reports_a_port_in_use() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "migration_tui", "simulate", "--scenario", "batch", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=DEADLINE_S,
        )
    assert result.returncode == 1
    assert "cannot listen" in result.stderr
