"""Prometheus query budget: queries Prometheus received against series x poll intervals.

    .venv/bin/python benchmarks/prometheus_budget.py [--intervals 15] [--poll 2.0]

A real prometheus (tests/servers.py) scraping the simulator's /metrics every
second (``start_in_thread("2pc-commit")`` in real time); the app in-process
under Textual's ``run_test()`` with the sources ``watch`` builds
(``build_live_sources``: controller, Prometheus, host) in a ``LiveFeed``,
for ``--intervals`` poll intervals, switching between the Overview and the
Metrics tab (two sparkline panes and the alerts read the same series) and
back. Prometheus's own counters, read from its /metrics before and after,
say how many instant and range queries it answered
(``prometheus_http_requests_total{handler="/api/v1/query"}`` and
``.../query_range``); the source's polls are counted by wrapping ``poll``.
Target: at most one query per series per interval, however many widgets show it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import ROOT, stamp

sys.path.insert(0, str(ROOT))

HANDLERS = ("/api/v1/query", "/api/v1/query_range")


def counters(prometheus_url: str) -> dict[str, float]:
    """Requests answered per query handler, and engine evaluations, from Prometheus's /metrics."""
    text = httpx.get(f"{prometheus_url}/metrics", timeout=5).text
    out = dict.fromkeys(HANDLERS, 0.0)
    out["engine_inner_eval"] = 0.0
    for line in text.splitlines():
        match = re.match(r"prometheus_http_requests_total\{(.*)\} (\S+)$", line)
        if match:
            handler = re.search(r'handler="([^"]+)"', match.group(1))
            if handler and handler.group(1) in HANDLERS:
                out[handler.group(1)] += float(match.group(2))
        match = re.match(r'prometheus_engine_query_duration_seconds_count\{slice="inner_eval"\} (\S+)$', line)
        if match:
            out["engine_inner_eval"] = float(match.group(1))
    return out


async def watch(settings, intervals: int) -> dict:
    from migration_tui.feeds import LiveFeed
    from migration_tui.sources.runner import build_live_sources
    from migration_tui.ui.app import MigrationApp

    sources = build_live_sources(settings)
    prometheus = next(s for s in sources if s.name == "prometheus")
    polls = {"poll": 0, "backfill": 0}
    real_poll, real_backfill = prometheus.poll, prometheus.backfill

    async def poll(emit, now):
        polls["poll"] += 1
        await real_poll(emit, now)

    async def backfill(emit, start, end):
        polls["backfill"] += 1
        await real_backfill(emit, start, end)

    prometheus.poll, prometheus.backfill = poll, backfill
    app = MigrationApp(LiveFeed(sources, mode="LIVE", poll_interval_s=settings.poll_interval_s))
    started = time.monotonic()
    async with app.run_test(size=(120, 40)) as pilot:
        tabs = ["overview", "metrics"]
        for step in range(intervals):
            app.dashboard.action_show_tab(tabs[step % 2])
            await pilot.pause(settings.poll_interval_s)
        shown = {
            "metrics_panes_mounted": len(app.dashboard.query("MetricsPane")),
            "series_in_store": sorted(app.dashboard.feed.store.series),
        }
    return {
        "elapsed_s": round(time.monotonic() - started, 2),
        "source_calls": polls,
        "templates": sorted(prometheus.templates),
        **shown,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--intervals", type=int, default=15)
    parser.add_argument("--poll", type=float, default=2.0)
    args = parser.parse_args()
    from migration_tui.config import Settings
    from migration_tui.sim.server import start_in_thread
    from tests.servers import PrometheusServer

    binary = shutil.which("prometheus")
    if binary is None:
        raise SystemExit("prometheus is not installed (Debian package prometheus)")
    sim = start_in_thread("2pc-commit")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            target = sim.url.removeprefix("http://")
            server = PrometheusServer(Path(tmp), binary, [target], scrape_interval="1s")
            server.start()
            try:
                server.wait_for_samples("migration_latency_p95_seconds", 3)
                settings = Settings(
                    controller=sim.url, prometheus=server.url, profile="trading-service", poll_interval_s=args.poll
                )
                before = counters(server.url)
                run = asyncio.run(watch(settings, args.intervals))
                time.sleep(0.5)
                after = counters(server.url)
            finally:
                server.stop()
    finally:
        sim.stop()
    series = len(run["templates"])
    instant = after["/api/v1/query"] - before["/api/v1/query"]
    ranged = after["/api/v1/query_range"] - before["/api/v1/query_range"]
    intervals_elapsed = run["elapsed_s"] / args.poll
    # A poll at start and one at the end of each whole interval: the fence posts, not the gaps.
    allowed_polls = int(intervals_elapsed) + 1
    results = {
        "poll_s": args.poll,
        "series": series,
        **run,
        "instant_queries": int(instant),
        "range_queries": int(ranged),
        "engine_evaluations": int(after["engine_inner_eval"] - before["engine_inner_eval"]),
        "intervals_elapsed": round(intervals_elapsed, 2),
        "allowed_polls": allowed_polls,
        "budget_series_x_polls": series * allowed_polls,
        "instant_queries_per_series_per_poll": round(instant / (series * max(1, run["source_calls"]["poll"])), 3),
        "within_budget": instant <= series * allowed_polls,
        "target": "<= 1 query per series per interval (+ one range query per series to backfill at start)",
    }
    results.update(stamp())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
