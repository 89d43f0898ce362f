"""``migration-tui simulate`` serving several scenarios at once, as a real process on real sockets:
one ``NAME URL`` line per controller (for ``watch --controller NAME=URL``), Ctrl-C stops them all."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx

from migration_tui.cli import scenario_names

DEADLINE_S = 20.0


def consecutive_free_ports(count: int) -> int:
    """The first of ``count`` consecutive loopback ports free right now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count > 65535:
            continue
        sockets = []
        try:
            for port in range(first, first + count):
                held = socket.socket()
                sockets.append(held)
                held.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for held in sockets:
                held.close()
    raise AssertionError("no run of free ports")


def run_simulate(*args: str) -> tuple[list[tuple[str, str]], str, subprocess.Popen]:
    """Start ``simulate ARGS``; return its (name, url) lines, the line after them and the process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "migration_tui", "simulate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    controllers = []
    while True:
        line = process.stdout.readline()
        assert line, f"simulate said nothing more: {process.stderr.read() if process.poll() is not None else ''}"
        if line.startswith("migration-tui simulate:"):
            return controllers, line, process
        name, url = line.split()
        controllers.append((name, url))


def answered(url: str) -> int:
    """The status of ``url``'s /health once it answers."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.05)  # polling for readiness with a deadline


def stop(process: subprocess.Popen) -> int:
    try:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=DEADLINE_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode


def test_two_scenarios_on_consecutive_ports_one_line_each():
    first, second = scenario_names()[:2]
    port = consecutive_free_ports(2)
    controllers, summary, process = run_simulate("--scenario", first, "--scenario", second, "--port", str(port))
    try:
        assert controllers == [(first, f"http://127.0.0.1:{port}"), (second, f"http://127.0.0.1:{port + 1}")]
        for name, url in controllers:
            assert answered(url) == 200
            assert f"--controller {name}={url}" in summary  # the watch command, ready to paste
        assert "2 controllers" in summary
    finally:
        assert stop(process) == 0
    for _name, url in controllers:  # every server went with the process
        try:
            httpx.get(f"{url}/health", timeout=1)
            raise AssertionError(f"{url} still answers")
        except httpx.TransportError:
            pass


def test_all_serves_every_scenario_on_free_ports_and_one_twice_gets_a_second_name():
    controllers, _summary, process = run_simulate("--all", "--port", "0")
    try:
        assert [name for name, _url in controllers] == list(scenario_names())
        assert len({url for _name, url in controllers}) == len(controllers)
        for _name, url in controllers:
            assert answered(url) == 200
    finally:
        assert stop(process) == 0
    one = scenario_names()[0]
    controllers, _summary, process = run_simulate("--scenario", one, "--scenario", one, "--port", "0")
    try:
        assert [name for name, _url in controllers] == [one, f"{one}-2"]
    finally:
        assert stop(process) == 0


def test_scenario_and_all_together_are_refused():
    result = subprocess.run(
        [sys.executable, "-m", "migration_tui", "simulate", "--scenario", "canary", "--all"],
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )
    assert result.returncode == 2 and "not allowed with" in result.stderr  # --scenario or --all, not both


def test_ctrl_c_the_moment_the_ready_line_is_read_stops_cleanly():
    """A script that sends Ctrl-C as soon as it reads the ready line gets exit 0 and every server
    stopped; the line was printed before the wait's try and a KeyboardInterrupt between them
    ended the command with 130 (seen once in CI, under load). Several tries make the narrow window
    likelier; on a quiet machine the old code passed this too, so it guards rather than proves."""
    one = scenario_names()[0]
    for _ in range(8):
        _controllers, summary, process = run_simulate("--scenario", one, "--scenario", one, "--port", "0")
        assert "Ctrl-C stops" in summary
        assert stop(process) == 0, process.stderr.read() if process.stderr else ""
