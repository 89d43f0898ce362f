"""Hostile strings, and a generator that puts them in every string field of a recording.

``PAYLOADS`` names each hostile input once; the tests and docs/reliability.md
refer to them by name. ``FORBIDDEN`` holds the byte sequences that must never
reach the terminal from data: the terminal receives Textual's own escape
sequences, never one of these.

Run as a script to write a recording: ``python -m tests.hostile.payloads OUT.jsonl``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from migration_tui.events import Event
from migration_tui.recording import RecordingWriter

START = 1_700_000_000.0

#: name -> hostile string. Every one of them must be shown literally or as a placeholder.
PAYLOADS: dict[str, str] = {
    "markup_bold": "[bold red]x[/]",
    "markup_close": "[/]",
    "markup_close_all": "[/][/][/]closing",
    "markup_variable": "[$accent]v[/]",
    "markup_link": "[link=http://127.0.0.2/]link[/link]",
    "markup_click": "[@click=app.quit]q[/]",
    "markup_click_bell": "[@click=app.bell]b[/]",
    "markup_on_click": "[on_click=app.quit]Q[/]",
    "markup_reverse_blink": "[reverse blink]rb[/]",
    "markup_escaped": "\\[bold]not bold\\[/]",
    "textual_content_var": "$text-error on $error",
    "csi_clear": "\x1b[2J\x1b[H",
    "csi_colour": "\x1b[31mred\x1b[0m",
    "csi_cursor": "\x1b[10;10Hmoved",
    "csi_title_report": "\x1b[21t",
    "osc_title": "\x1b]0;owned\x07",
    "osc_52_clipboard": "\x1b]52;c;SGVsbG8=\x07",
    "osc_8_link": "\x1b]8;;http://127.0.0.2/\x1b\\click\x1b]8;;\x1b\\",
    "dcs": "\x1bP+q544e\x1b\\",
    "bel": "ring\x07ring",
    "backspace": "abc\x08\x08\x08XYZ",
    "carriage_return": "visible\rhidden",
    "newline": "line1\nline2",
    "tab": "a\tb",
    "nul": "a\x00b",
    "del": "a\x7fb",
    "c1_csi": "\x9b31mC1",
    "c1_osc": "\x9d0;c1title\x9c",
    "c1_nel": "x\x85y",
    "bidi_rlo": "\u202egnp.exe",
    "bidi_isolates": "\u2066a\u2067b\u2068c\u2069",
    "bidi_lre_pdf": "\u202aemb\u202c",
    "bidi_marks": "\u200e\u200f\u061c",
    "zero_width": "ab\u200b\u200c\u200dcd\ufeff",
    "line_separator": "a\u2028b\u2029c",
    "cjk": "移行中の注文板データベース",
    "emoji": "🚀🔥💥👩‍👩‍👧‍👦🇯🇵",
    "combining": "Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357",
    "fullwidth": "ＷＩＤＥ　ＴＥＸＴ",
    "surrogate_like": "\ufffd\ufffe\uffff",
    "long_10k": "Z" * 10_000,
    "long_wide_10k": "界" * 10_000,
    "percent_format": "%s%n%x{0}{id}",
    "html": "<script>alert(1)</script>",
}

#: Byte sequences from the payloads that must never reach the terminal (UTF-8 as written to it).
FORBIDDEN: dict[str, bytes] = {
    "OSC 52 clipboard": b"\x1b]52;",
    "OSC 8 link": b"\x1b]8;;http://127.0.0.2",
    "OSC 0 title": b"\x1b]0;owned",
    "DCS": b"\x1bP+q",
    "CSI clear from data": b"\x1b[2J\x1b[H",
    "CSI 21t": b"\x1b[21t",
    "CSI cursor from data": b"\x1b[10;10Hmoved",
    "C1 CSI": "\x9b".encode(),
    "C1 OSC": "\x9d".encode(),
    "C1 ST": "\x9c".encode(),
    "C1 NEL": "\x85".encode(),
    "RLO": "\u202e".encode(),
    "LRI": "\u2066".encode(),
    "RLI": "\u2067".encode(),
    "FSI": "\u2068".encode(),
    "PDI": "\u2069".encode(),
    "LRE": "\u202a".encode(),
    "ZWSP": "\u200b".encode(),
    "ZWNJ": "\u200c".encode(),
    "ZWJ": "\u200d".encode(),
    "BOM": "\ufeff".encode(),
    "LS": "\u2028".encode(),
    "PS": "\u2029".encode(),
    "BEL from data": b"ring\x07",
    "backspace from data": b"abc\x08",
    "NUL": b"\x00",
}

#: Characters that must never appear in a widget's rendered text.
FORBIDDEN_CHARS = (
    "\x00\x07\x08\x0d\x1b\x7f\x85\x9b\x9c\x9d\u061c\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029\ufeff"
)


def _rotating() -> list[str]:
    return list(PAYLOADS.values())


def hostile_events(start: float = START) -> list[Event]:
    """Events that carry a hostile string in every string field the dashboard shows.

    Each migration takes its id, pair, status and phase from the payload list in
    turn, so every payload is an id once, a pair once, a status once and a phase once.
    """
    values = _rotating()
    n = len(values)
    events: list[Event] = [Event(start, "controller", "source_ok", {})]
    ts = start + 0.5
    for i, value in enumerate(values):
        events.append(
            Event(
                ts,
                "controller",
                "migration",
                {
                    "id": value,
                    "system": "2pc",
                    "pair": values[(i + 1) % n],
                    "status": values[(i + 2) % n],
                    "phase": values[(i + 3) % n],
                    "progress": 42.0,
                    "started_at": start - 60,
                    "health": values[(i + 4) % n],
                    "details": {"rollout_status": values[(i + 5) % n]},
                },
            )
        )
        events.append(
            Event(
                ts + 0.01,
                "controller",
                "participants",
                {
                    "migration_id": value,
                    "participants": [
                        {
                            "id": values[(i + k) % n],
                            "type": values[(i + k + 1) % n],
                            "vote": values[(i + k + 2) % n],
                            "is_healthy": k % 2 == 0,
                            "last_heartbeat": start,
                        }
                        for k in range(6)
                    ],
                },
            )
        )
        ts += 0.02
    events.append(
        Event(
            ts,
            "controller",
            "breakers",
            {
                "breakers": [
                    {
                        "name": values[k],
                        "state": "open" if k % 2 else values[(k + 7) % n],
                        "reason": values[(k + 3) % n],
                    }
                    for k in range(n)
                ]
            },
        )
    )
    for k, value in enumerate(values):
        events.append(Event(ts + 0.1 + k * 0.01, "controller", "log", {"message": value, "level": "warning"}))
        events.append(Event(ts + 0.1 + k * 0.01, "controller", "source_error", {"error": values[(k + 1) % n]}))
        events.append(
            Event(
                ts + 0.1 + k * 0.01,
                "controller",
                "action",
                {"action": value, "migration_id": values[(k + 2) % n], "stage": "answered", "result": value},
            )
        )
    # Series named by hostile strings, and hostile source names.
    events.append(
        Event(ts + 2, "prometheus", "metrics", {"values": {f"{value}/latency_p95_ms": 12.0 for value in values}})
    )
    events.append(Event(ts + 2, "prometheus", "metrics", {"values": {value: 1.0 for value in values}}))
    for k, value in enumerate(values[:8]):
        events.append(Event(ts + 3 + k * 0.01, value, "source_error", {"error": values[(k + 9) % n]}))
    # The first migration again, last, so it is the one selected on screen with a fresh state.
    events.append(
        Event(
            ts + 4,
            "controller",
            "migration",
            {
                "id": values[0],
                "system": "2pc",
                "pair": PAYLOADS["markup_click"],
                "status": PAYLOADS["osc_52_clipboard"],
                "phase": PAYLOADS["bidi_rlo"],
                "progress": 150.0,
                "started_at": start - 60,
            },
        )
    )
    events.append(Event(ts + 5, "controller", "source_ok", {}))
    return events


def write_hostile_recording(path: str | Path, start: float = START) -> Path:
    """A recording (format v1) whose every string field is hostile; returns its path."""
    path = Path(path)
    with RecordingWriter(path, started_at=start, meta={"scenario": PAYLOADS["markup_click"]}) as writer:
        for event in hostile_events(start):
            writer.write(event)
    return path


def hostile_controller_bodies() -> dict[str, object]:
    """JSON bodies for a misbehaving ``trading-service`` controller, by path, hostile in every string."""
    values = _rotating()
    n = len(values)
    migrations = [
        {
            "id": values[i],
            "pair": values[(i + 1) % n],
            "status": "in_progress" if i % 3 else values[(i + 2) % n],
            "phase": values[(i + 3) % n],
            "progress": 50.0,
            "started_at": START,
            "system": "2pc",
        }
        for i in range(6)
    ]
    bodies: dict[str, object] = {
        "/health": {"service": "trading-service", "status": PAYLOADS["osc_52_clipboard"]},
        "/api/v1/migrations": migrations,
        "/admin/circuit-breaker/status": [
            {"pair": values[k], "open": bool(k % 2), "reason": values[(k + 5) % n]} for k in range(n)
        ],
        "/admin/migration/status": [],
    }
    from urllib.parse import quote

    for i, migration in enumerate(migrations):
        base = f"/api/v1/migrations/{quote(migration['id'], safe='')}"
        bodies[f"{base}/participants"] = [
            {
                "id": values[(i + k) % n],
                "type": values[(i + k + 1) % n],
                "vote": values[(i + k + 2) % n],
                "is_healthy": True,
                "last_heartbeat": START,
            }
            for k in range(5)
        ]
        bodies[f"{base}/votes"] = {"yes": 1, "no": 0, "pending": 3, "timeout": 0}
        bodies[f"{base}/health"] = {"is_healthy": True, "detail": values[(i + 7) % n]}
    return bodies


if __name__ == "__main__":  # pragma: no cover - a convenience for people
    print(write_hostile_recording(sys.argv[1] if len(sys.argv) > 1 else "hostile.jsonl"))
