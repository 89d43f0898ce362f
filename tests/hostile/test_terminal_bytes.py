"""The bytes the real command writes to a real pseudo-terminal: nothing from the data, ever.

Each test runs ``python -m migration_tui ...`` in a pty (TERM=xterm-256color,
120x40 unless said), reads every byte it writes, presses ``q`` and searches
the bytes for the hostile sequences themselves. Textual's own escape
sequences are expected; only the payloads' are forbidden. No escaping
function is trusted here.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.hostile.payloads import FORBIDDEN, PAYLOADS
from tests.hostile.terminal import forbidden_found, plain, run_in_pty
from tests.sources.conftest import LocalServer

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "2pc-commit.jsonl.gz"
#: Tab keys, replay seek and play/pause: every pane is drawn at least once.
TOUR = (b"2", b"3", b"4", b"5", b"6", b"1", b"\x1b[C", b" ")


def shows(*needles: str):
    def condition(output: bytes) -> bool:
        text = plain(output)
        return all(needle in text for needle in needles)

    condition.__name__ = f"shows {needles!r}"
    return condition


def test_replaying_the_hostile_recording_writes_none_of_its_sequences(hostile_recording: Path) -> None:
    run = run_in_pty(
        ["replay", str(hostile_recording), "--start", "30"],
        until=shows("REPLAY", PAYLOADS["markup_click"]),
        keys=TOUR,
        settle_s=3.0,
    )
    assert not run.notes, run.notes
    assert run.exited_on_q and run.returncode == 0
    assert forbidden_found(run.output, FORBIDDEN) == {}
    text = plain(run.output)
    # Shown literally, not interpreted: the markup is on screen as typed.
    for name in ("markup_bold", "markup_click", "markup_variable", "html", "percent_format"):
        assert PAYLOADS[name] in text, name
    assert "\ufffd" in text  # the placeholder for control, bidi and zero-width characters
    assert "Z" * 200 not in text  # 10,000 characters are capped long before the screen


def test_a_hostile_live_controller_writes_none_of_its_sequences(hostile_controller: LocalServer) -> None:
    run = run_in_pty(
        ["watch", "--controller", hostile_controller.url, "--read-only", "--profile", "trading-service"],
        until=shows("LIVE", PAYLOADS["markup_bold"]),
        keys=TOUR[:6],
        settle_s=3.0,
        deadline_s=30.0,
    )
    assert not run.notes, (run.notes, plain(run.output)[-2000:])
    assert run.exited_on_q and run.returncode == 0
    assert forbidden_found(run.output, FORBIDDEN) == {}
    assert "/api/v1/migrations" in hostile_controller.paths_requested()


_SGR = re.compile(rb"\x1b\[([0-9;:]*)m")
#: SGR parameters that set a colour; 39 and 49 (the terminal's default colours) are not colours.
_COLOUR_CODES = {*range(30, 39), *range(40, 49), *range(90, 98), *range(100, 108)}


def colour_sgr(output: bytes) -> list[bytes]:
    """Every SGR sequence in the output that sets a foreground or background colour."""
    found = []
    for match in _SGR.finditer(output):
        codes = [int(p) for p in re.split(rb"[;:]", match.group(1)) if p.isdigit()]
        if _COLOUR_CODES.intersection(codes):
            found.append(match.group(0))
    return found


def test_no_color_writes_no_colour_sequences_at_all() -> None:
    """NO_COLOR=1 (no-color.org): no foreground or background colour SGR, not even greys."""
    run = run_in_pty(
        ["replay", str(SAMPLE), "--start", "60"], env={"NO_COLOR": "1"}, until=shows("REPLAY"), settle_s=1.5
    )
    assert run.exited_on_q and run.returncode == 0
    assert "controller" in plain(run.output)  # the capture holds the screen
    found = colour_sgr(run.output)
    assert not found, sorted(set(found))[:5]


def test_without_no_color_the_same_capture_has_colour() -> None:
    """The check above can fail: the same run without NO_COLOR writes colour sequences."""
    run = run_in_pty(["replay", str(SAMPLE), "--start", "60"], until=shows("REPLAY"), settle_s=1.0)
    assert run.exited_on_q
    assert colour_sgr(run.output)


def test_term_dumb_still_draws_a_readable_screen_and_quits() -> None:
    run = run_in_pty(["replay", str(SAMPLE), "--start", "60"], term="dumb", until=shows("REPLAY"), settle_s=1.0)
    assert not run.notes, run.notes
    assert run.exited_on_q and run.returncode == 0
    assert "Traceback" not in plain(run.output)


def test_a_tiny_terminal_does_not_crash_and_still_quits(hostile_recording: Path) -> None:
    # (It waited for 2,000 bytes, which a 20x5 screen never writes: it ran to its 20 s deadline
    # and quit without pressing a key of the tour.)
    run = run_in_pty(
        ["replay", str(hostile_recording), "--start", "30"],
        size=(20, 5),
        until=shows("REPLAY", "1 Overview"),
        keys=TOUR,
        settle_s=2.0,
    )
    assert not run.notes, (run.notes, plain(run.output)[-600:])
    assert run.keys_sent == len(TOUR)
    assert run.exited_on_q and run.returncode == 0
    assert "Traceback" not in plain(run.output)
    assert forbidden_found(run.output, FORBIDDEN) == {}
