"""The replay engine's fold alone (``Store.fold_events``), for comparing two versions of the code.

    .venv/bin/python benchmarks/fold_bench.py [--events 300000] [--reps 5]

Reads the first ``--events`` events of the replay benchmark's synthetic recording, decodes them a
chunk at a time as the headless reduction does (``recording._typed_chunk``), then times folding
them into a fresh store, ``--reps`` times; prints the best microseconds an event for the decoding
and for the fold, and a digest of the resulting headless state (two versions of the code must
give the same). In-process and with the garbage collector off, so it is only for A/B: run it
for each version in turn on a pinned core (``taskset -c 1``), the older one from a worktree
(``cd WORKTREE && PYTHONPATH=WORKTREE python /path/to/fold_bench.py``).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import time
from pathlib import Path

import orjson

from migration_tui import recording
from migration_tui.headless import state_dict
from migration_tui.store import Store

RECORDING = Path(__file__).resolve().parent / "out" / "synthetic-1000000.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    if not RECORDING.exists():
        from migration_tui.synthetic import write_synthetic

        RECORDING.parent.mkdir(exist_ok=True)
        write_synthetic(RECORDING, 1_000_000)
    with RECORDING.open("rb") as fp:
        fp.readline()  # the header
        text = b"".join(fp.readline() for _ in range(args.events))
    chunks, pos = [], 0
    while pos < len(text):
        end = text.rfind(b"\n", pos, pos + recording.CHUNK_BYTES) + 1
        chunks.append(text[pos:end])
        pos = end
    gc.disable()
    decode = fold = float("inf")
    for _ in range(args.reps):
        t0 = time.perf_counter()
        decoded = [recording._typed_chunk(chunk) for chunk in chunks]
        decode = min(decode, time.perf_counter() - t0)
        assert all(events is not None for events in decoded)  # every chunk typed
        store = Store()
        t0 = time.perf_counter()
        for events in decoded:
            store.fold_events(events, settle=False)
        store.settle()
        fold = min(fold, time.perf_counter() - t0)
        del decoded
    state = orjson.dumps(state_dict(store, store.now, at=0.0), option=orjson.OPT_SORT_KEYS)
    print(
        f"decode {decode / args.events * 1e6:.3f} us/event, fold {fold / args.events * 1e6:.3f} us/event, "
        f"state {hashlib.sha1(state).hexdigest()[:12]}"
    )


if __name__ == "__main__":
    main()
