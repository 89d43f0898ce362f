"""``migration-tui report``: every sample recording in both formats, its verdicts checked against what
each scenario did (read straight from the recording by the test, not from the report), the Markdown
rendered by a CommonMark parser, and the HTML opened in a real headless Chromium."""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import json
import math
import re
from html import unescape
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from PIL import Image

from migration_tui import report as reporting
from migration_tui.cli import main
from migration_tui.events import Event
from migration_tui.recording import RecordingWriter
from tests.servers import require_binary

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_data").glob("*.jsonl.gz"))
VERDICT_WORDS = ("✔ met", "✖ not met", "? cannot tell from this recording")


def raw_events(path: Path) -> tuple[float, list[dict]]:
    """The recording as plain JSON, read by the test itself."""
    lines = gzip.decompress(path.read_bytes()).splitlines()
    header = json.loads(lines[0])
    return header["started_at"], [json.loads(line) for line in lines[1:] if line.strip()]


def offset(seconds: float) -> str:
    """The report's way of writing an offset (+2m35s), computed here from the raw seconds."""
    whole = int(round(seconds))
    return f"+{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"+{whole}s"


def run_report(capsys, *args: str) -> str:
    code = main(["report", *map(str, args)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def tables(markdown_text: str) -> list[list[list[str]]]:
    """Every table a CommonMark (GFM tables) renderer makes of the text: rows of cell texts."""
    html = MarkdownIt("commonmark").enable("table").render(markdown_text)
    found = []
    for table in re.findall(r"<table>(.*?)</table>", html, re.S):
        rows = []
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
            cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            rows.append([unescape(re.sub(r"<[^>]+>", "", cell)) for cell in cells])
        found.append(rows)
    return found


def verdict_rows(markdown_text: str) -> dict[str, tuple[str, str]]:
    """criterion -> (verdict, detail), from the rendered verdict tables."""
    out = {}
    for table in tables(markdown_text):
        if table and table[0] == ["criterion", "verdict", "detail"]:
            for criterion, verdict, detail in table[1:]:
                out[criterion] = (verdict, detail)
    return out


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_sample_reports_to_markdown_that_renders_as_tables(sample, capsys):
    out = run_report(capsys, sample)
    rendered = tables(out)
    assert len(rendered) >= 4  # summary, timeline, time per phase, verdicts (at least)
    verdicts = verdict_rows(out)
    assert verdicts, "no verdict table"
    assert all(verdict in VERDICT_WORDS for verdict, _ in verdicts.values())
    # The summary names each migration the recording holds, with its system.
    _start, events = raw_events(sample)
    ids = {e["data"]["id"] for e in events if e["kind"] == "migration"}
    systems = {e["data"]["system"] for e in events if e["kind"] == "migration"}
    for migration in ids:
        assert f"Migration post-mortem: {reporting.md(migration)}" in out
    summary_values = {row[1] for table in rendered for row in table if row and row[0] == "System"}
    assert summary_values == systems
    assert "0 line(s) skipped" in out


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_sample_reports_to_md_with_charts_beside_it(sample, tmp_path, capsys):
    out = tmp_path / "write-up.md"
    run_report(capsys, sample, "--out", out)
    text = out.read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    _start, events = raw_events(sample)
    assert len(images) == len({e["data"]["id"] for e in events if e["kind"] == "migration"})
    for name in images:
        chart = tmp_path / name
        assert chart.is_file() and chart.read_text().lstrip().startswith("<?xml")
        assert "<svg" in chart.read_text()


def test_the_abort_report_says_aborted_when_by_whom_and_what_is_not_met(capsys):
    sample = ROOT / "sample_data" / "2pc-abort.jsonl.gz"
    start, events = raw_events(sample)
    migrations = [e for e in events if e["kind"] == "migration"]
    aborted_at = next(e["ts"] for e in migrations if e["data"]["status"] == "aborted")
    aborting_at = next(e["ts"] for e in migrations if e["data"]["phase"] == "aborting")
    assert not [e for e in events if e["kind"] == "action"]  # nobody pressed a key: the controller aborted
    out = run_report(capsys, sample)
    summary = {row[0]: row[1] for table in tables(out) for row in table if len(row) == 2}
    assert summary["Outcome"].startswith(f"aborted / aborted at {offset(aborted_at - start)}")
    assert "no operator abort in the recording" in summary["Ended by"]
    assert f"aborting from {offset(aborting_at - start)}" in summary["Ended by"]
    verdicts = verdict_rows(out)
    assert verdicts['Migration completed successfully (status = "completed")'][0] == "✖ not met"
    # The participant whose vote was not yes, from the recording's last participant list.
    last = [e for e in events if e["kind"] == "participants"][-1]["data"]["participants"]
    not_yes = [p for p in last if p["vote"] != "yes"]
    votes = verdicts['All participants voted "yes"']
    assert votes[0] == "✖ not met"
    for participant in not_yes:
        assert f"{participant['id']}: {participant['vote']}" in votes[1]
    # The worst p95 and when, against the raw samples.
    samples = [(e["ts"], e["data"]["values"]["latency_p95_ms"]) for e in events if e["kind"] == "metrics"]
    until = aborted_at
    worst_ts, worst = max(((t, v) for t, v in samples if t <= until), key=lambda p: p[1])
    p95 = verdicts["Latency P95 < 15 ms"]
    assert p95[0] == "✖ not met"
    assert f"worst {worst:.2f}".rstrip("0").rstrip(".") in p95[1] and offset(worst_ts - start) in p95[1]
    # What the recording cannot say is said so, never judged.
    assert verdicts["Zero data loss (verified through integrity checks)"][0] == VERDICT_WORDS[2]
    # The heartbeat that stopped is marked: 15 s after its last heartbeat.
    beats = [
        p["last_heartbeat"]
        for e in events
        if e["kind"] == "participants"
        for p in e["data"]["participants"]
        if p["id"] == "marketdata"
    ]
    lost_at = max(beats) + 15
    assert f"{offset(lost_at - start)}" in out and "heartbeat of marketdata lost" in out


def test_the_commit_report_names_the_pause_and_who_sent_it_as_not_recorded(capsys):
    sample = ROOT / "sample_data" / "2pc-commit.jsonl.gz"
    start, events = raw_events(sample)
    actions = [e for e in events if e["kind"] == "action"]
    assert actions and all("requested_by" not in e["data"] for e in actions)  # format v1: who is not recorded
    # The pause as the controller reported it: from the first poll that said paused to the first that did not.
    statuses = [(e["ts"], e["data"]["status"]) for e in events if e["kind"] == "migration"]
    paused = next(ts for ts, status in statuses if status == "paused")
    resumed = next(ts for ts, status in statuses if ts > paused and status != "paused")
    out = run_report(capsys, sample)
    assert f"Pauses: {offset(paused - start)}" in out
    assert f"for {offset(resumed - paused)[1:]}." in out
    summary = {row[0]: row[1] for table in tables(out) for row in table if len(row) == 2}
    assert "pause at" in summary["Who did what"] and "by whom not recorded" in summary["Who did what"]
    action_rows = [t for t in tables(out) if t and t[0][:3] == ["when", "action", "stage"]][0][1:]
    assert len(action_rows) == len(actions)
    assert {row[3] for row in action_rows} == {"not recorded"}
    verdicts = verdict_rows(out)
    assert verdicts['Migration completed successfully (status = "completed")'][0] == "✔ met"
    assert verdicts["No manual intervention required during migration"][0] == "✖ not met"


def test_the_rollout_report_counts_each_breaker_opening(capsys):
    sample = ROOT / "sample_data" / "orderbook-rollout.jsonl.gz"
    start, events = raw_events(sample)
    opens: list[float] = []
    state = "closed"
    for e in events:
        if e["kind"] == "breakers":
            for b in e["data"]["breakers"]:
                if b["name"] == "SOLUSDT":
                    if b["state"] == "open" and state != "open":
                        opens.append(e["ts"])
                    state = b["state"]
    out = run_report(capsys, sample, "--migration", "rollout-solusdt")
    assert out.count("Migration post-mortem") == 1
    verdicts = verdict_rows(out)
    closed = verdicts["All circuit breakers stayed closed"]
    assert closed[0] == "✖ not met"
    assert f"opened {len(opens)} time(s): first at {offset(opens[0] - start)}" in closed[1]
    assert out.count("breaker SOLUSDT opened") == len(opens)


def test_dual_write_success_below_100_is_not_met_with_its_worst_value(capsys):
    sample = ROOT / "sample_data" / "dual-write.jsonl.gz"
    start, events = raw_events(sample)
    ended = next(e["ts"] for e in events if e["kind"] == "migration" and e["data"]["status"] == "completed")
    samples = [(e["ts"], e["data"]["values"]["write_success_pct"]) for e in events if e["kind"] == "metrics"]
    worst_ts, worst = min(((t, v) for t, v in samples if t <= ended), key=lambda p: p[1])
    out = run_report(capsys, sample)
    verdict = verdict_rows(out)["All events written to object storage (100 % write success)"]
    assert verdict[0] == "✖ not met"
    assert f"worst {round(worst, 2):g}" in verdict[1] and offset(worst_ts - start) in verdict[1]


def test_an_unknown_migration_is_refused_with_the_ids_there_are(capsys):
    code = main(["report", str(ROOT / "sample_data" / "canary.jsonl.gz"), "--migration", "nope"])
    err = capsys.readouterr().err
    assert code == 2 and "no migration nope" in err and "canary-heartbeat" in err


def test_an_out_name_that_is_neither_html_nor_md_is_refused(tmp_path, capsys):
    code = main(["report", str(SAMPLES[0]), "--out", str(tmp_path / "x.pdf")])
    assert code == 2 and ".html or .md" in capsys.readouterr().err


# --- hostile and damaged recordings -------------------------------------------------------------


HOSTILE_ID = "mig-<script>alert(1)</script>|*x*[a](http://evil)\x1b[31m$x$"


def hostile_recording(path: Path) -> None:
    """40 s of a migration whose id, the operator's name and reason and an error carry markup, HTML and
    control characters; a NaN sample; the controller failing from 31 s to 45 s; two lines of junk."""
    start = 1_700_000_000.0
    with RecordingWriter(path, started_at=start) as writer:
        for i in range(50):
            ts = start + i
            if i == 30:
                action = {
                    "action": "pause",
                    "migration_id": HOSTILE_ID,
                    "stage": "answered",
                    "result": "ok",
                    "requested_by": "ops\x07@host<b>",
                    "reason": "<img src=x onerror=alert(1)>",
                }
                writer.write(Event(ts, "controller", "action", action))
            if i == 31:
                writer.write(Event(ts, "controller", "source_error", {"error": "refused \x1b]0;pwned\x07"}))
            if 31 <= i < 45:
                continue
            phase = "preparing" if i < 20 else "committing"
            migration = {
                "id": HOSTILE_ID,
                "system": "2pc",
                "status": "in_progress",
                "phase": phase,
                "progress": i * 2.0,
            }
            writer.write(Event(ts, "controller", "migration", migration))
            value = float("nan") if i == 10 else 12.0
            values = {"latency_p95_ms": value, "error_rate_pct": 0.001}
            writer.write(Event(ts, "controller", "metrics", {"values": values}))
    with open(path, "ab") as fp:
        fp.write(b'this is not json\n{"ts": "x"}\n')


def test_hostile_text_is_escaped_and_damaged_lines_counted(tmp_path, capsys):
    path = tmp_path / "hostile.jsonl"
    hostile_recording(path)
    out = run_report(capsys, path)
    assert "\x1b" not in out and "\x07" not in out
    assert "2 line(s) skipped" in out
    html = MarkdownIt("commonmark").enable("table").render(out)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert 'href="http://evil"' not in html
    # The NaN sample is invalid: the p95 criterion cannot be met on a guess.
    verdicts = verdict_rows(out)
    assert verdicts["Latency P95 < 15 ms"][0] == VERDICT_WORDS[2]
    assert "1 sample(s) invalid or missing" in verdicts["Latency P95 < 15 ms"][1]
    # The outage: 14 s failing.
    outage = [t for t in tables(out) if t and t[0] == ["source", "what", "from", "to", "length"]][0][1:]
    assert len(outage) == 1 and outage[0][4] == "14s" and "\x1b" not in outage[0][1]
    page = tmp_path / "hostile.html"
    run_report(capsys, path, "--out", page)
    text = page.read_text()
    assert "<script" not in text and "<img src=x" not in text and "\x1b" not in text
    assert "&lt;script&gt;" in text


# --- the page in a real browser -------------------------------------------------------------------


async def _chart_shots(binary: str, page: Path, width: int) -> list[tuple[dict, bytes]]:
    from tests.ui.test_web import chromium

    async with chromium(binary) as tools:
        await tools.call("Page.enable")
        await tools.call(
            "Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False
        )
        await tools.call("Page.navigate", url=page.as_uri())
        for _ in range(100):
            state = await tools.call(
                "Runtime.evaluate",
                expression="document.readyState === 'complete' && [...document.images].every(i => i.complete)",
                returnByValue=True,
            )
            if state["result"].get("value"):
                break
            await asyncio.sleep(0.1)
        found = await tools.call(
            "Runtime.evaluate",
            expression="JSON.stringify([...document.querySelectorAll('img.chart')].map(i => {"
            "const r = i.getBoundingClientRect(); return {natural: i.naturalWidth, x: r.x + scrollX, y: r.y + scrollY,"
            " width: Math.round(r.width), height: Math.round(r.height)}}))",
            returnByValue=True,
        )
        shots = []
        for rect in json.loads(found["result"]["value"]):
            clip = {"x": rect["x"], "y": rect["y"], "width": rect["width"], "height": rect["height"], "scale": 1}
            data = await tools.call("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)
            shots.append((rect, base64.b64decode(data["data"])))
        scripts = await tools.call("Runtime.evaluate", expression="document.scripts.length", returnByValue=True)
        assert scripts["result"]["value"] == 0
        return shots


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_the_html_page_shows_its_charts_in_a_headless_chromium(sample, tmp_path, capsys):
    binary = require_binary("chromium")
    page = tmp_path / "report.html"
    run_report(capsys, sample, "--out", page)
    text = page.read_text()
    assert "http://" not in text.split("<body>", 1)[1].split("data:image", 1)[0]  # nothing fetched from a network
    _start, events = raw_events(sample)
    count = len({e["data"]["id"] for e in events if e["kind"] == "migration"})
    shots = asyncio.run(_chart_shots(binary, page, 1000))
    assert len(shots) == count
    for rect, png in shots:
        assert rect["natural"] > 0, "the chart image did not load"
        image = Image.open(io.BytesIO(png)).convert("RGB")
        assert image.size == (rect["width"], rect["height"])
        assert rect["width"] > 500 and rect["height"] > 400
        colours = image.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 20, "the chart is blank"
        dark = sum(n for n, (r, g, b) in colours if r + g + b < 200)
        assert dark > 2000, "no lines drawn"


# --- recordings of named controllers, one read through a profile file ------------------------------


async def test_a_recording_of_named_controllers_one_through_a_profile_file_is_reported(tmp_path):
    """Real simulators on real sockets, recorded by the real controller source: ``trading`` read
    through examples/profiles/trading-service.toml (a profile file), ``blue`` through the built-in
    canary profile. The report has each migration under its controller's name."""
    from migration_tui.sim.server import start_in_thread
    from migration_tui.sources.controller import ControllerSource
    from migration_tui.sources.profiles import load_profile
    from migration_tui.sources.record import record_async

    profile_file = ROOT / "examples" / "profiles" / "trading-service.toml"
    with start_in_thread("2pc-commit", speed=20.0) as trading, start_in_thread("canary", speed=20.0) as canary:
        sources = [
            ControllerSource(
                trading.url, profile=load_profile(str(profile_file)), controller_name="trading", poll_interval_s=0.1
            ),
            ControllerSource(canary.url, controller_name="blue", poll_interval_s=0.1),
        ]
        out = tmp_path / "estate.jsonl"
        summary = await record_async(sources, str(out), duration_s=1.5)
    assert summary.reached == {"controller:trading", "controller:blue"}
    recorded = [json.loads(line) for line in out.read_text().splitlines()[1:]]
    owners = {e["data"]["id"]: e["data"].get("controller") for e in recorded if e["kind"] == "migration"}
    assert set(owners.values()) == {"trading", "blue"}

    result = reporting.collect(str(out))
    assert {m.id: m.controller for m in result.migrations} == owners
    text = reporting.markdown(result)
    summary_rows = [row for table in tables(text) for row in table if row and row[0] == "Controller"]
    assert sorted(row[1] for row in summary_rows) == sorted(owners.values())
    for migration in result.migrations:
        assert migration.verdicts, f"{migration.id}: no criteria judged"
        # The recording is 1.5 s long: nothing ended, and the report says so instead of judging completion.
        status = next(
            v for v in migration.verdicts if v.criterion.startswith(("Migration completed", "Canary completed"))
        )
        assert status.state == reporting.CANNOT_TELL and "when the recording ended" in status.detail


def test_the_readme_report_is_what_its_command_makes_today(tmp_path):
    """docs/report/ holds the README's picture and its Markdown, made by the command the README shows."""
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text()
    command = "migration-tui report sample_data/2pc-abort.jsonl.gz --out docs/report/2pc-abort.md"
    assert command in readme and "docs/report/2pc-abort-1-2pc-ethusdt.svg" in readme
    out = tmp_path / "docs" / "report" / "2pc-abort.md"
    out.parent.mkdir(parents=True)
    args = command.split()[1:-1] + [str(out)]
    done = subprocess.run([sys.executable, "-m", "migration_tui", *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == (ROOT / "docs" / "report" / "2pc-abort.md").read_text()
    assert (out.parent / "2pc-abort-1-2pc-ethusdt.svg").is_file()
    assert (ROOT / "docs" / "report" / "2pc-abort-1-2pc-ethusdt.svg").is_file()


def test_a_gzip_cut_short_is_reported_as_far_as_it_goes(tmp_path, capsys):
    sample = ROOT / "sample_data" / "orderbook-rollout.jsonl.gz"
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(sample.read_bytes()[: sample.stat().st_size // 2])
    code = main(["report", str(cut)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    skipped = int(re.search(r"(\d+) line\(s\) skipped", captured.out).group(1))
    assert skipped >= 1 and "stream ended early" in captured.out
    full = run_report(capsys, sample)
    assert len(verdict_rows(captured.out)) == len(verdict_rows(full))  # the same migrations, judged on less


def test_a_rules_file_is_what_is_drawn_and_judged(tmp_path, capsys):
    sample = ROOT / "sample_data" / "2pc-commit.jsonl.gz"
    assert "latency_p95_high fired" not in run_report(capsys, sample)  # the built-in 50 ms is never crossed
    rules = tmp_path / "strict.toml"
    rules.write_text(
        '[[rule]]\nname = "p95_strict"\nsystems = ["2pc"]\nseries = "latency_p95_ms"\nlabel = "p95"\nunit = " ms"\n'
        'op = ">"\nthreshold = 25.0\nfor = "30s"\nseverity = "critical"\naction = "pause"\n'
    )
    start, events = raw_events(sample)
    samples = [(e["ts"], e["data"]["values"]["latency_p95_ms"]) for e in events if e["kind"] == "metrics"]
    first_over = next(ts for ts, value in samples if value > 25.0)
    out = run_report(capsys, sample, "--rules", rules)
    marks = [t for t in tables(out) if t and t[0] == ["when", "what"]][0][1:]
    pending = [when for when, what in marks if what == "p95_strict pending"]
    assert pending and pending[0].startswith(offset(first_over - start))
    assert any(what == "p95_strict fired" for _when, what in marks)
    assert not any("latency_p95_high" in what for _when, what in marks)


def test_a_system_registered_at_run_time_brings_its_own_criteria(tmp_path, capsys):
    """The report reads criteria through the registry: a toy system defined here, with its report.toml inline."""
    from migration_tui import systems
    from migration_tui.systems.base import System

    toy = System(
        name="toy-report",
        description="a toy",
        phases=("copying", "done"),
        report_toml='[charts]\nerror = "toy_errors"\n\n[[criterion]]\ntext = "Toy errors stay below 2"\n'
        'kind = "series"\nseries = "toy_errors"\nop = "<"\nthreshold = 2.0\n',
    )
    systems.register(toy)
    try:
        path = tmp_path / "toy.jsonl"
        start = 1_700_000_000.0
        with RecordingWriter(path, started_at=start) as writer:
            for i in range(10):
                migration = {"id": "t1", "system": "toy-report", "status": "in_progress", "phase": "copying"}
                writer.write(Event(start + i, "controller", "migration", migration))
                writer.write(Event(start + i, "controller", "metrics", {"values": {"toy_errors": float(i)}}))
        out = run_report(capsys, path)
    finally:
        systems.unregister("toy-report")
    verdict = verdict_rows(out)["Toy errors stay below 2"]
    assert verdict[0] == "✖ not met" and "worst 9 at +9s" in verdict[1] and "8 of 10 samples" in verdict[1]  # 2 to 9


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name.removesuffix(".jsonl.gz"))
def test_a_chart_holds_every_sample_of_its_series_the_first_included(path):
    """The report reads the typed stream the headless reduction folds; a series' first sample,
    filed by the fold only when its one-second bucket closes, was once left out of the chart."""
    report = reporting.collect(str(path))
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        events = [json.loads(line) for line in lines][1:]  # after the header
    checked = 0
    for migration in report.migrations:
        for chart in migration.charts:
            if not chart.name:
                continue
            stamps = [
                event["ts"] for event in events if event["kind"] == "metrics" and chart.name in event["data"]["values"]
            ]
            if not stamps:
                continue
            assert len(chart.ts) == len(stamps), (migration.id, chart.name)
            assert chart.ts[0] == pytest.approx(stamps[0], abs=1e-6)
            checked += 1
    if path.name.startswith(("2pc", "canary", "orderbook")):
        assert checked  # these recordings chart series of the metrics events


# --- read a chunk at a time, as one event at a time would ------------------------------------------


def uneven_recording(path: Path, poll: float, seed: int) -> list[dict]:
    """About 20,000 events (some 50 of the reader's chunks) from four sources that each fall
    silent now and then, for a few seconds or a few polls, inside a chunk and across chunks; a
    source that errors and recovers; operator actions (no answer from anyone); events stamped
    before the one ahead of them; lines of junk (a chunk read line by line). The migration is
    first seen 30 s in. Returns the events that are valid, in file order."""
    import random

    rng = random.Random(seed)
    start = 1_700_000_000.0
    lines = [
        json.dumps({"format": "migration-tui/recording", "version": 2, "started_at": start, "poll_interval_s": poll})
    ]
    events: list[dict] = []
    every = {"controller": 1.0, "prometheus": 0.1, "redis": 0.25, "host": 0.5}
    due = dict.fromkeys(every, 0.0)
    quiet_until = dict.fromkeys(every, 0.0)
    t = 0.0
    while len(events) < 20_000:
        source = min(due, key=due.__getitem__)
        t = due[source]
        due[source] += every[source]
        if t < quiet_until[source]:
            continue
        if rng.random() < 0.004:  # silent for less, or more, than three polls
            quiet_until[source] = t + rng.choice((0.5, 2.0, 3.1, 5.0, 7.5, 12.0)) * poll
        ts = start + t - (0.05 if rng.random() < 0.01 else 0.0)  # now and then, a step back
        if source == "controller":
            if t >= 30:
                data = {"id": "m1", "system": "2pc", "status": "in_progress", "phase": "preparing", "progress": t / 10}
                events.append({"ts": ts, "source": source, "kind": "migration", "data": data})
            if rng.random() < 0.02:
                action = {"action": "pause", "migration_id": "m1", "stage": "sent", "requested_by": "ops"}
                events.append({"ts": ts, "source": source, "kind": "action", "data": action})
        elif source == "prometheus":
            if rng.random() < 0.01:
                events.append({"ts": ts, "source": source, "kind": "source_error", "data": {"error": "timeout"}})
            else:
                # Now and then a null (a gap) or the largest number a sample may be.
                sample = rng.choice((None, 1e15)) if rng.random() < 0.01 else rng.uniform(1, 30)
                values = {"latency_p95_ms": sample, "other/latency_p95_ms": 1.0}
                events.append({"ts": ts, "source": source, "kind": "metrics", "data": {"values": values}})
        elif source == "redis":
            beat = {"migration_id": "m1", "participant_id": "p1", "at": ts}
            events.append({"ts": ts, "source": source, "kind": "heartbeat", "data": beat})
        else:
            events.append({"ts": ts, "source": source, "kind": "host", "data": {"cpu_percent": 5.0}})
    for event in events:
        lines.append(json.dumps(event))
        if rng.random() < 0.0005:
            lines.append("this line is junk")
    path.write_text("\n".join(lines) + "\n")
    return events


def outages_one_by_one(events: list[dict], poll: float) -> list[tuple]:
    """Each source's outages, read from the events one at a time by the test itself."""
    silent_after = reporting.SILENT_AFTER_POLLS * poll
    clock = -float("inf")
    last_ok: dict[str, float] = {}
    failing: dict[str, list] = {}
    found: list[list] = []
    for event in events:
        clock = ts = max(clock, event["ts"])
        source = event["source"]
        if event["kind"] == "action":
            continue
        if event["kind"] == "source_error":
            if source not in failing:
                failing[source] = [source, "failing", ts, None]
                found.append(failing[source])
            continue
        last = last_ok.get(source)
        last_ok[source] = ts
        if source in failing:
            failing.pop(source)[3] = ts
        elif last is not None and ts - last > silent_after:
            found.append([source, "silent", last, ts])
    for source, ts in last_ok.items():
        if source not in failing and clock - ts > silent_after:
            found.append([source, "silent", ts, None])
    return sorted(tuple(outage) for outage in found)


@pytest.mark.parametrize("poll", [0.5, 2.0])
def test_outages_and_samples_are_those_an_event_by_event_reading_finds(tmp_path, poll):
    """The report reads a chunk of events at once; what it finds is checked against the test's own
    reading of the same events one at a time: every silence longer than three polls and every
    error spell, and every sample of the charted series from the moment the migration is seen."""
    path = tmp_path / "uneven.jsonl"
    events = uneven_recording(path, poll, seed=int(poll * 10))
    report = reporting.collect(str(path))
    assert report.skipped_lines > 0  # the junk: some chunks were read line by line
    got = sorted((o.source, o.kind, o.start, o.end) for o in report.outages)
    expected = outages_one_by_one(events, poll)
    assert {kind for _, kind, _, _ in expected} == {"silent", "failing"}
    assert len([o for o in expected if o[1] == "silent"]) > 20
    assert got == expected

    (migration,) = report.migrations
    (chart,) = [c for c in migration.charts if c.name == "latency_p95_ms"]
    clock = -float("inf")
    seen = False
    stamps, values = [], []
    for event in events:
        clock = max(clock, event["ts"])
        seen = seen or event["kind"] == "migration"
        if seen and event["kind"] == "metrics":
            stamps.append(clock)
            values.append(event["data"]["values"]["latency_p95_ms"])
    assert list(chart.ts) == stamps
    assert [None if math.isnan(value) else value for value in chart.values] == values
    assert None in values and 1e15 in values


def test_a_moment_reads_the_same_second_as_an_offset_and_as_a_wall_clock():
    """Found reading the 2pc-abort report: "+55s (2023-11-14 22:14:14 UTC)" for a moment 54.6 s
    after 22:13:20: the offset was rounded, the wall clock cut."""
    start = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
    assert reporting._at(start + 54.6, start) == "+55s (2023-11-14 22:14:15 UTC)"
    assert reporting._at(start + 54.4, start) == "+54s (2023-11-14 22:14:14 UTC)"
    assert reporting._at(start + 59.5, start) == "+1m00s (2023-11-14 22:14:20 UTC)"
    # A start within a second: the header's clock is the base of every other ("+0s" is the header's second).
    odd = start + 0.3
    assert reporting._wall(odd) == "2023-11-14 22:13:20 UTC"
    assert reporting._at(odd + 0.4, odd) == "+0s (2023-11-14 22:13:20 UTC)"  # not 22:13:21, a second after +0s
    assert reporting._at(odd + 130.4, odd) == "+2m10s (2023-11-14 22:15:30 UTC)"
    assert reporting._at(odd + 155.6, odd) == "+2m36s (2023-11-14 22:15:56 UTC)"
    assert reporting._span(odd + 130.4, odd + 155.6, odd) == "26s"  # what the two offsets say, not round(25.2)


def test_the_time_in_each_phase_is_the_sum_of_its_timeline_rows(tmp_path, capsys):
    """Phases changing at fractional offsets (preparing 0.4-2.6 s, committing 2.6-4.4 s, preparing
    again to 6.6 s, done): the "time spent" table adds up the lengths its timeline rows show."""
    path = tmp_path / "phases.jsonl"
    start = 1_700_000_000.0
    changes = [(0.4, "preparing"), (2.6, "committing"), (4.4, "preparing"), (6.6, "committed")]
    with RecordingWriter(path, started_at=start) as writer:
        for at in [x / 10 for x in range(4, 90, 2)]:
            phase = [name for since, name in changes if since <= at][-1]
            status = "completed" if phase == "committed" else "in_progress"
            data = {"id": "m1", "system": "2pc", "status": status, "phase": phase, "started_at": start + 0.4}
            writer.write(Event(start + at, "controller", "migration", data))
    out = run_report(capsys, path)
    timeline = next(t for t in tables(out) if t[0] == ["from", "to", "phase", "status", "time"])
    spent = next(t for t in tables(out) if t[0] == ["phase", "time spent"])
    seconds = {}
    for _from, _to, phase, _status, length in timeline[1:]:
        seconds[phase] = seconds.get(phase, 0) + int(length.removesuffix("s"))
    assert {phase: f"{total}s" for phase, total in seconds.items()} == dict(spent[1:])
    assert seconds["preparing"] == 6  # +0s to +3s, then +4s to +7s; the times alone, 2.2 + 2.2 s, round to 4
