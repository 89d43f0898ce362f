"""The way operators really use it: ``migration-tui watch`` at 80x24 through ``ssh -t``.

A real sshd (``tests/e2e/sshd.py``) runs the worktree's own ``migration-tui`` (from the
virtualenv running the tests: ``.venv/bin``) on
the far side of a real SSH channel, inside the pty ``ssh -t`` asks for; the near side is a
pty of 80x24 read into a VT100 emulator (pyte). The controller is the simulator's HTTP
server on a real loopback socket, started in this process (``start_in_thread``, the server
``migration-tui simulate`` runs) so that its record of every action POST it received can be
read afterwards: that record is how the test proves nothing was sent.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from migration_tui.sim.server import start_in_thread
from tests.e2e.pty_screen import PtyScreen
from tests.e2e.sshd import SshServer, remote_command

ROOT = Path(__file__).resolve().parents[2]
ESC = b"\x1b"

pytestmark = pytest.mark.e2e


def watch_over_ssh(sshd: SshServer, controller_url: str, workdir: Path, *args: str) -> PtyScreen:
    """``migration-tui watch --controller URL`` on the far side of ``ssh -t``, in an 80x24 pty here."""
    config = workdir / "config.toml"
    config.write_text("")  # none of the user's own settings on the far side
    remote_env = {
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "MIGRATION_TUI_CONFIG": str(config),
        "MIGRATION_TUI_AUDIT_LOG": str(workdir / "audit.jsonl"),
    }
    # The same installation as the tests' own interpreter (the worktree's .venv under `make test`).
    program = str(Path(sys.executable).parent / "migration-tui")
    assert os.access(program, os.X_OK), f"{program} missing: run `make .venv/.installed-stamp`"
    remote = remote_command([program, "watch", "--controller", controller_url, *args], remote_env, ROOT)
    local_env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_TUI_")}
    local_env["TERM"] = "xterm-256color"
    return PtyScreen(sshd.command(remote), columns=80, rows=24, env=local_env)


def test_watch_over_ssh_pause_escape_tab_quit_sends_nothing(sshd: SshServer, tmp_path: Path) -> None:
    sim = start_in_thread("2pc-commit")
    terminal = watch_over_ssh(sshd, sim.url, tmp_path)
    try:
        # A participant: the controller's data, drawn over the channel. (The log's "migration
        # 2pc-btcusdt seen" can be on screen a frame before the Overview pane draws it.)
        dashboard = terminal.wait_for(
            lambda s: "2pc-btcusdt" in s and "LIVE" in s and "controller ✔ fresh" in s and "orderbook" in s,
            what="the live dashboard",
        )
        assert "1 Overview" in dashboard and "p Pause" in dashboard and "q Quit" in dashboard
        assert "waiting for the first migration" not in dashboard

        terminal.press(b"p")
        dialog = terminal.wait_for(lambda s: "Confirm pause" in s and "Esc/n cancel" in s, what="the pause dialog")
        assert "Migration 2pc-btcusdt" in dialog and "PAUSE" in dialog

        terminal.press(ESC)
        terminal.wait_for(lambda s: "Confirm pause" not in s and "Esc/n cancel" not in s, what="the dialog closed")

        terminal.press(b"2")
        participants = terminal.wait_for(
            lambda s: all(word in s for word in ("vote", "health", "heartbeat", "persistence")) and "Alerts" not in s,
            what="the Participants tab",
        )
        assert "Metrics     -1 min" not in participants  # the Overview is gone: the tab really switched

        terminal.press(b"q")
        assert terminal.wait_exit() == 0, terminal.text()
    finally:
        terminal.close()
        sim.stop()

    # Nothing was sent: the controller received no action request at all ...
    assert sim.controller.received_actions == []
    # ... and the far side's audit log says the dialog opened and was cancelled, nothing more.
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [entry["stage"] for entry in audit] == ["opened", "cancelled"]
    assert {entry["action"] for entry in audit} == {"pause"}
