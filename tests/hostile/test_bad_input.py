"""Bad input on the command line: one clear line on stderr, a non-zero exit, no traceback, no screen.

Every case runs the real CLI (``python -m migration_tui``) as a subprocess
with stdin, stdout and stderr on pipes: a command that wrongly started its
TUI would either hang (caught by the timeout) or write escape sequences to
stdout (checked). The table in docs/reliability.md ("Bad input") names each
test here.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migration_tui.events import Event
from migration_tui.recording import RecordingWriter
from migration_tui.sim.server import start_in_thread
from tests.hostile.terminal import ROOT, plain, run_in_pty

START = 1_700_000_000.0
#: Refusals happen before any screen or network: far less than this, even on a loaded machine.
PROMPT_S = 30.0


def cli(*args: str, home: Path, timeout: float = PROMPT_S) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_TUI_")}
    env.update({"HOME": str(home), "MIGRATION_TUI_AUDIT_LOG": str(home / "audit.jsonl")})
    env.pop("TEXTUAL", None)
    return subprocess.run(
        [sys.executable, "-m", "migration_tui", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


def refused(done: subprocess.CompletedProcess[str], *words: str, code: int = 2) -> str:
    """The process exited ``code`` with exactly one line on stderr holding ``words``, and drew nothing."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "\x1b" not in done.stdout and "\x1b" not in done.stderr  # no screen was drawn
    return lines[0]


def recording(path: Path, events: int = 300) -> bytes:
    with RecordingWriter(path, started_at=START) as writer:
        for number in range(events):
            migration = {"id": "mig-1", "status": "in_progress", "phase": "copying", "progress": number / 10}
            writer.write(Event(START + number, "controller", "migration", migration))
            writer.write(Event(START + number, "controller", "log", {"message": f"line {number} " + "x" * 60}))
    return path.read_bytes()


# --- recordings ------------------------------------------------------------------------------------


def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, what the one line must say)."""
    whole = recording(tmp_path / "whole.jsonl.gz")
    files = {
        "gzip cut inside its first line": (whole[:12], "truncated gzip file"),
        "random bytes named .gz": (bytes(range(256)) * 4, "not a gzip file"),
        "plain text named .gz": (b"hello, this is text\n", "not a gzip file"),
        "empty .gz": (b"", "empty"),
        "empty gzip stream": (gzip.compress(b""), "empty"),
    }
    out = {}
    for number, (name, (data, words)) in enumerate(files.items()):
        path = tmp_path / f"bad-{number}.jsonl.gz"
        path.write_bytes(data)
        out[name] = (path, words)
    whole_plain = gzip.decompress(whole)
    plain_files = {
        "empty file": (b"", "empty"),
        "not a recording": (b"\x1b[31mhello\x07 world\nsecond line\n", "not a migration-tui recording (first line: "),
        "JSON but not a recording": (b'{"a": 1}\n[1, 2]\n', "not a migration-tui recording"),
        "gzip named .jsonl": (gzip.compress(whole_plain), "gzip data: name it .jsonl.gz"),
    }
    for number, (name, (data, words)) in enumerate(plain_files.items()):
        path = tmp_path / f"bad-{number}.jsonl"
        path.write_bytes(data)
        out[name] = (path, words)
    return out


CASES = [
    "gzip cut inside its first line",
    "random bytes named .gz",
    "plain text named .gz",
    "empty .gz",
    "empty gzip stream",
    "empty file",
    "not a recording",
    "JSON but not a recording",
    "gzip named .jsonl",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mode", ["headless", "screen", "wall"])
def test_a_file_that_is_no_recording_is_refused_in_one_line(tmp_path: Path, case: str, mode: str) -> None:
    path, words = bad_files(tmp_path)[case]
    extra = {"headless": ["--headless", "--json"], "screen": [], "wall": ["--wall"]}[mode]
    done = cli("replay", str(path), *extra, home=tmp_path)
    line = refused(done, f"migration-tui: {path}: ", words)
    assert done.stdout == ""
    # Text from the file reaches stderr made safe: no ESC or BEL, shortened.
    assert "\x07" not in line and len(line) < 300


def test_a_gzip_cut_short_replays_what_it_has_and_counts_the_tail(tmp_path: Path) -> None:
    whole = recording(tmp_path / "whole.jsonl.gz")
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    done = cli("replay", str(cut), "--headless", "--json", home=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    import json

    state = json.loads(done.stdout)
    assert state["header_ok"] is True
    assert state["migrations"][0]["id"] == "mig-1"
    assert state["events_applied"] > 50
    assert state["skipped_lines"] >= 1  # the cut is counted
    assert "truncated gzip file" in done.stderr


def test_a_header_with_no_events_is_valid_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "header-only.jsonl"
    recording(path, events=0)
    done = cli("replay", str(path), "--headless", "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"migration-tui: {path}: no events"
    assert '"events_applied":0' in done.stdout


def test_a_recording_without_a_header_still_replays(tmp_path: Path) -> None:
    """Headerless files with events were always accepted (start = first event): still so."""
    path = tmp_path / "with-header.jsonl"
    data = recording(path)
    headerless = tmp_path / "headerless.jsonl"
    headerless.write_bytes(data.split(b"\n", 1)[1])
    done = cli("replay", str(headerless), "--headless", "--json", home=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert '"id":"mig-1"' in done.stdout


# --- replay options --------------------------------------------------------------------------------


def test_at_far_past_the_end_means_the_end(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    recording(path)
    done = cli("replay", str(path), "--headless", "--at", "1e12", "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"at":299.0' in done.stdout


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "-inf", "soon"])
def test_at_that_is_not_a_finite_offset_is_refused_truthfully(tmp_path: Path, value: str) -> None:
    path = tmp_path / "rec.jsonl"
    recording(path, events=3)
    done = cli("replay", str(path), "--headless", f"--at={value}", "--json", home=tmp_path)
    refused(done, "--at", "must be a finite number of seconds, 0 or more", repr(value))


@pytest.mark.parametrize(
    "flags, words",
    [(["--at", "10"], "--at only works with --headless"), (["--json"], "--json only works with --headless")],
)
def test_headless_options_without_headless_are_refused(tmp_path: Path, flags: list[str], words: str) -> None:
    path = tmp_path / "rec.jsonl"
    recording(path, events=3)
    refused(cli("replay", str(path), *flags, home=tmp_path), words)


# --- ports and URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "-1", "65536", "http"])
def test_simulate_refuses_a_port_out_of_range(tmp_path: Path, port: str) -> None:
    done = cli("simulate", "--scenario", "canary", f"--port={port}", home=tmp_path)
    refused(done, "--port", "must be a port number from 0 to 65535")


@pytest.mark.parametrize("command", ["watch", "wall", "record", "check"])
@pytest.mark.parametrize(
    "url, words",
    [
        ("not-a-url", "controller URL 'not-a-url' is not usable: expected http:// or https://"),
        ("ftp://host/", "is not usable: expected http://"),
        ("http://", "names no host"),
        ("http://host:99999", "Port out of range"),
    ],
)
def test_a_controller_url_that_cannot_work_is_refused_at_start(
    tmp_path: Path, command: str, url: str, words: str
) -> None:
    extra = ["--out", str(tmp_path / "out.jsonl")] if command == "record" else []
    done = cli(command, "--controller", url, *extra, home=tmp_path)
    refused(done, words)
    assert not (tmp_path / "out.jsonl").exists()


def test_a_prometheus_url_without_a_scheme_is_refused(tmp_path: Path) -> None:
    done = cli("check", "--controller", "http://127.0.0.1:9", "--prometheus", "localhost:9090", home=tmp_path)
    refused(done, "prometheus URL 'localhost:9090' is not usable")


@pytest.mark.parametrize("command", ["watch", "wall"])
def test_watch_and_wall_without_a_controller_are_refused(tmp_path: Path, command: str) -> None:
    refused(cli(command, home=tmp_path), f"{command}: no controller URL")


def test_record_exits_non_zero_when_it_never_reached_its_controller(tmp_path: Path, refused_url: str) -> None:
    out = tmp_path / "out.jsonl"
    done = cli("record", "--controller", refused_url, "--out", str(out), "--duration", "1.5", home=tmp_path)
    assert done.returncode == 3, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    assert f"migration-tui record: never reached the controller at {refused_url}" in done.stderr
    assert out.read_bytes().startswith(b'{"format":"migration-tui/recording"')  # it still wrote what it got


def test_record_exits_0_when_it_reached_its_controller(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with start_in_thread("canary") as simulator:
        done = cli("record", "--controller", simulator.url, "--out", str(out), "--duration", "2", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "never reached" not in done.stderr


# --- a controller that does not list --migration ----------------------------------------------------


def test_a_migration_the_controller_does_not_list_is_said_plainly(tmp_path: Path) -> None:
    with start_in_thread("canary") as simulator:
        run = run_in_pty(
            ["watch", "--controller", simulator.url, "--migration", "nosuch", "--read-only"],
            env={"HOME": str(tmp_path)},
            until=lambda out: "it lists:" in plain(out),
            settle_s=0.5,
        )
    text = plain(run.output)
    assert "✖ NO MIGRATION" in text
    assert "migration 'nosuch' is not listed by the controller (it lists: canary-" in text
    assert "waiting for data" not in text.split("it lists:")[-1]
    assert run.exited_on_q, run.notes


# --- help ------------------------------------------------------------------------------------------


COMMANDS = ["demo", "watch", "wall", "replay", "report", "simulate", "record", "check"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_has_help_and_its_default(tmp_path: Path, command: str) -> None:
    from migration_tui.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    for action in sub._actions:
        if action.dest == "help":
            continue
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"
        takes_value = action.nargs != 0 and action.option_strings
        if takes_value and not action.required and action.default not in (None, False):
            assert "default" in action.help, f"{command} {action.option_strings}: default not shown"
    text = cli(command, "--help", home=tmp_path).stdout
    assert "default" in text


@pytest.mark.parametrize("command", ["record", "check"])
def test_commands_that_draw_nothing_take_no_theme(tmp_path: Path, command: str) -> None:
    extra = ["--out", str(tmp_path / "out.jsonl")] if command == "record" else []
    done = cli(command, "--controller", "http://127.0.0.1:9", *extra, "--theme", "dark", home=tmp_path)
    refused(done, "unrecognized arguments: --theme")
