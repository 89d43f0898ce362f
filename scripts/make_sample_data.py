"""Regenerate sample_data/: one recording per simulator scenario, through the live path.

    .venv/bin/python scripts/make_sample_data.py [--out sample_data] [--poll 1.0]

Each scenario runs on a virtual clock. The real controller source polls the
simulator's real controller API (through the in-process httpx transport, the
same one `demo` uses) once per `--poll` seconds of virtual time, and every
event it emits is written by the real RecordingWriter: the recording is what
`migration-tui record` would have written, only without waiting. The
2pc-commit recording also carries an operator pause and resume sent by the
real action client, so replays show actions. Deterministic: the same script
and code give the same files byte for byte (gzip without a timestamp).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from migration_tui.actions import ActionClient, AuditLog, Decision  # noqa: E402
from migration_tui.recording import RecordingWriter  # noqa: E402
from migration_tui.sim.clock import VirtualClock  # noqa: E402
from migration_tui.sim.controller import SimulatedController  # noqa: E402
from migration_tui.sim.scenarios import SCENARIOS  # noqa: E402
from migration_tui.sim.transport import SimulatorTransport  # noqa: E402
from migration_tui.sources.controller import ControllerSource  # noqa: E402

SEED = 1
#: Virtual seconds to keep recording after every migration has ended.
TAIL_S = 30.0
MAX_S = 20 * 60.0
#: scenario -> [(virtual seconds from start, action, reason)] sent by the real action client
OPERATOR = {
    "2pc-commit": [
        (150.0, "pause", "sample: hold the commit while the DBA checks replication lag"),
        (180.0, "resume", "sample: replication lag is back under 1 s"),
    ],
}


async def record_scenario(scenario: str, out: Path, poll_s: float) -> dict:
    clock = VirtualClock()
    start = clock.now()
    controller = SimulatedController(scenario, seed=SEED, clock=clock)
    transport = SimulatorTransport(controller)
    source = ControllerSource("http://simulator", transport=transport, clock=clock.now, poll_interval_s=poll_s)
    buffer = io.BytesIO()
    plan = list(OPERATOR.get(scenario, []))
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "recording.jsonl"
        writer = RecordingWriter(
            plain,
            started_at=start,
            meta={
                "scenario": scenario,
                "seed": SEED,
                "poll_interval_s": poll_s,
                "generator": "scripts/make_sample_data.py (controller source over the in-process simulator)",
            },
        )
        actions = ActionClient(
            "http://simulator",
            controller.profile,
            AuditLog(Path(tmp) / "audit.jsonl"),
            writer.write,
            transport=transport,
            clock=clock.now,
        )
        ended_at = None
        async with source.make_client() as client:
            while clock.now() - start < MAX_S:
                await source.poll_once(client, writer.write)
                elapsed = clock.now() - start
                while plan and plan[0][0] <= elapsed:
                    _, action, reason = plan.pop(0)
                    target = controller.sim.migrations[0].id
                    decision = Decision(
                        action,
                        target,
                        reason,
                        requested_by="operator@sample",
                        key=f"sample-{scenario}-{action}-{int(elapsed)}",
                    )
                    actions.record("confirmed", decision)
                    outcome = await actions.send(decision)
                    if outcome.state != "ok":
                        raise SystemExit(f"{scenario}: {action} was not accepted: {outcome.message}")
                if all(m.is_terminal for m in controller.sim.migrations):
                    ended_at = ended_at if ended_at is not None else clock.now()
                    if clock.now() - ended_at >= TAIL_S:
                        break
                clock.advance(poll_s)
        writer.close()
        raw = plain.read_bytes()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    out.write_bytes(buffer.getvalue())
    return {
        "scenario": scenario,
        "events": writer.events_written,
        "seconds": clock.now() - start,
        "bytes": out.stat().st_size,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "sample_data"))
    parser.add_argument("--poll", type=float, default=1.0)
    args = parser.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for scenario in SCENARIOS:
        result = asyncio.run(record_scenario(scenario, out_dir / f"{scenario}.jsonl.gz", args.poll))
        print(
            f"{result['scenario']:18} {result['events']:6} events  {result['seconds']:6.0f} s  "
            f"{result['bytes'] / 1024:7.1f} KiB"
        )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
