"""The keyboard thread in a real terminal: asleep while nothing happens, awake for every key.

``textual_compat.QuietLinuxDriver`` replaces Textual's 0.1 s poll of the terminal with a
wait for the terminal itself, a wake-up pipe (exit) or the key parser's deadline (a lone
Esc). These run ``migration-tui replay`` in a pty, as an operator does, and read what the
kernel counts: how often each thread went to sleep (``voluntary_ctxt_switches`` in
``/proc``), a figure Textual's own driver puts at about ten a second for its input thread.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.e2e.pty_screen import PtyScreen

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "2pc-commit.jsonl.gz"

pytestmark = pytest.mark.e2e


def _sleeps(pid: int) -> dict[str, int]:
    """Each thread's voluntary context switches so far (each time it waited), by thread id."""
    counts = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as status:
                for line in status:
                    if line.startswith("voluntary_ctxt_switches:"):
                        counts[tid] = int(line.split()[1])
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return counts


@pytest.fixture
def replay() -> PtyScreen:
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("TEXTUAL_DRIVER", None)
    term = PtyScreen([sys.executable, "-m", "migration_tui", "replay", str(SAMPLE), "--no-bell"], 100, 30, env)
    try:
        term.wait_for(lambda text: "Overview" in text and "2pc-btcusdt" in text, what="the dashboard")
        yield term
    finally:
        term.close()


def test_the_input_thread_sleeps_while_no_key_comes(replay: PtyScreen) -> None:
    os.write(replay.master, b" ")  # pause: the screen then has nothing to do but its slow tick
    replay.wait_for(lambda text: "PAUSED" in text, what="the replay paused")
    replay.read_for(1.0)
    pid = replay.process.pid
    before = _sleeps(pid)
    replay.read_for(2.0)
    after = _sleeps(pid)
    main = str(pid)
    others = {tid: after[tid] - before.get(tid, 0) for tid in after if tid != main}
    assert others, "the app runs no thread besides its main one: where is the input thread?"
    # Textual's driver: about 20 in these 2 s (a 0.1 s poll). Here: none, or a stray one.
    assert max(others.values()) <= 3, f"a thread woke this often in 2 idle seconds: {others}"


def test_a_lone_escape_is_a_key_at_once_and_q_quits(replay: PtyScreen) -> None:
    os.write(replay.master, b"?")
    replay.wait_for(lambda text: "Every key, and what the symbols mean" in text, what="the help screen")
    # A lone Esc: the parser waits to see whether a sequence follows; nothing else is typed, so
    # only its deadline can turn it into the key (no 0.1 s poll comes to do it).
    os.write(replay.master, b"\x1b")
    replay.wait_for(lambda text: "Every key, and what the symbols mean" not in text, timeout=3, what="help closed")
    os.write(replay.master, b"q")
    replay.process.wait(timeout=10)  # the wake-up pipe ends the input thread's wait: no hang
    assert replay.process.returncode == 0
