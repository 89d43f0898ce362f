"""Command line: argument parsing only. Each command builds Settings and starts one mode.

Imports of the heavy parts (Textual, httpx, redis, prometheus-api-client)
happen inside the command that needs them, so ``--help`` and the headless
replay stay fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from migration_tui import __version__

SCENARIOS = ("2pc-commit", "2pc-abort", "orderbook-rollout", "canary", "batch", "dual-write")
PROFILES = ("trading-service", "orderbook-rollout", "canary", "batch", "dual-write")

EPILOG = """\
settings: command line > environment (MIGRATION_TUI_CONTROLLER, MIGRATION_TUI_PROMETHEUS,
MIGRATION_TUI_REDIS, MIGRATION_TUI_TOKEN, MIGRATION_TUI_PROFILE, MIGRATION_TUI_MIGRATION,
MIGRATION_TUI_THEME, MIGRATION_TUI_RULES, MIGRATION_TUI_AUDIT_LOG) > config file
(MIGRATION_TUI_CONFIG or --config, default ~/.config/migration-tui/config.toml).
The API token is read from MIGRATION_TUI_TOKEN or the config file only, never from a flag.
"""


def _speed(value: str) -> float:
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.1 <= speed <= 1000:
        raise argparse.ArgumentTypeError("speed must be between 0.1 and 1000")
    return speed


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not 0 <= seconds < 1e9:
        raise argparse.ArgumentTypeError("seconds must be 0 or more")
    return seconds


def _add_sources(p: argparse.ArgumentParser, controller_required: bool = False) -> None:
    p.add_argument("--controller", metavar="URL", help="migration controller base URL")
    p.add_argument("--migration", metavar="ID", help="watch this migration only (default: discover)")
    p.add_argument("--profile", choices=PROFILES, help="controller API profile (default: detect)")
    p.add_argument("--prometheus", metavar="URL", help="Prometheus base URL")
    p.add_argument("--redis", metavar="URL", help="Redis URL for heartbeats and events")
    p.add_argument("--config", metavar="FILE", help="TOML config file")
    p.add_argument("--insecure", action="store_true", default=None, help="skip TLS verification (shown on screen)")
    p.add_argument("--theme", help="theme name (see themes/)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migration-tui",
        description="Terminal dashboard for live, zero-downtime migrations.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"migration-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("demo", help="the built-in simulator in-process: no servers, no network")
    p.add_argument("--scenario", choices=SCENARIOS, default=None, help="one scenario (default: all six)")
    p.add_argument("--speed", type=_speed, default=1.0, help="simulation speed, 0.1 to 1000 (default 1)")
    p.add_argument("--theme", help="theme name (see themes/)")
    p.add_argument("--no-bell", dest="bell", action="store_false", default=None, help="no bell when a rule fires")

    p = sub.add_parser("watch", help="watch live migrations (actions after confirmation)")
    _add_sources(p)
    p.add_argument("--read-only", action="store_true", default=None, help="no action client at all")
    p.add_argument("--record", metavar="FILE", help="also record every event to FILE")
    p.add_argument("--no-bell", dest="bell", action="store_false", default=None, help="no bell when a rule fires")

    p = sub.add_parser("wall", help="read-only wall display")
    _add_sources(p)
    p.add_argument("--rotate", type=_seconds, default=15.0, metavar="SECONDS", help="seconds per migration")
    p.add_argument("--web", action="store_true", help="serve the wall to a browser (textual-serve)")
    p.add_argument("--host", default="127.0.0.1", help="with --web: address to listen on")
    p.add_argument("--port", type=int, default=8000, help="with --web: port")
    p.add_argument("--no-bell", dest="bell", action="store_false", default=None, help="no bell when a rule fires")

    p = sub.add_parser("replay", help="replay a recording")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--speed", type=_speed, default=1.0)
    p.add_argument("--start", type=_seconds, default=0.0, metavar="SECONDS")
    p.add_argument("--headless", action="store_true", help="print the reduced state instead of a screen")
    p.add_argument("--at", type=_seconds, default=None, metavar="SECONDS", help="with --headless: offset")
    p.add_argument("--json", action="store_true", help="with --headless: JSON on stdout")
    p.add_argument("--theme", help="theme name (see themes/)")
    p.add_argument("--wall", action="store_true", help="show it on the wall screen (as `wall` does, read-only)")
    p.add_argument("--no-bell", dest="bell", action="store_false", default=None, help="no bell when a rule fires")
    p.add_argument(
        "--rotate", type=_seconds, default=15.0, metavar="SECONDS", help="with --wall: seconds per migration"
    )

    p = sub.add_parser("simulate", help="serve a simulated migration over HTTP")
    p.add_argument("--scenario", choices=SCENARIOS, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--redis", metavar="URL", help="publish heartbeats and events to this Redis")
    p.add_argument("--speed", type=_speed, default=1.0)

    p = sub.add_parser("record", help="record live sources to a file, headless")
    _add_sources(p)
    p.add_argument("--out", required=True, metavar="FILE", help=".jsonl or .jsonl.gz")
    p.add_argument("--duration", type=_seconds, default=None, metavar="SECONDS")

    p = sub.add_parser("check", help="probe every configured source; non-zero if any is unreachable")
    _add_sources(p)
    return parser


def settings_from(args: argparse.Namespace):
    from migration_tui.config import build_settings

    cli = {k: v for k, v in vars(args).items() if k not in ("command", "file")}
    return build_settings(cli)


def cmd_replay(args: argparse.Namespace) -> int:
    from pathlib import Path

    path = Path(args.file)
    if not path.is_file():
        print(f"migration-tui: no such recording: {args.file}", file=sys.stderr)
        return 2
    if args.headless and args.wall:
        print("migration-tui: --wall draws a screen; --headless prints the state: choose one", file=sys.stderr)
        return 2
    if args.headless:
        import orjson

        from migration_tui.headless import reduce_recording
        from migration_tui.rules import RulesError, load_rules

        try:
            # The rules in force, as the screen would use them (rules_file / MIGRATION_TUI_RULES).
            rules = load_rules(settings_from(args).rules_file)
        except RulesError as exc:
            print(f"migration-tui: {exc}", file=sys.stderr)
            return 2
        at = args.at if args.at is not None else 1e12
        state = reduce_recording(str(path), at, rules)
        if args.json:
            sys.stdout.buffer.write(orjson.dumps(state, option=orjson.OPT_NON_STR_KEYS) + b"\n")
        else:
            from migration_tui.headless import summary

            print(summary(state))
        return 0
    from migration_tui.ui.run import run_replay

    wall = args.rotate if args.wall else None
    return run_replay(str(path), settings_from(args), speed=args.speed, start=args.start, wall_rotate_s=wall)


def cmd_demo(args: argparse.Namespace) -> int:
    from migration_tui.ui.run import run_demo

    return run_demo(settings_from(args), scenario=args.scenario, speed=args.speed)


def cmd_watch(args: argparse.Namespace) -> int:
    from migration_tui.ui.run import run_watch

    return run_watch(settings_from(args), wall=False)


def cmd_wall(args: argparse.Namespace) -> int:
    from migration_tui.ui.run import run_wall

    return run_wall(settings_from(args), rotate_s=args.rotate, web=args.web, host=args.host, port=args.port)


def cmd_simulate(args: argparse.Namespace) -> int:
    from migration_tui.sim.server import serve

    return serve(args.scenario, host=args.host, port=args.port, redis_url=args.redis, speed=args.speed)


def cmd_record(args: argparse.Namespace) -> int:
    from migration_tui.sources.record import record

    return record(settings_from(args), out=args.out, duration_s=args.duration)


def cmd_check(args: argparse.Namespace) -> int:
    from migration_tui.sources.check import check

    return check(settings_from(args))


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": cmd_demo,
    "watch": cmd_watch,
    "wall": cmd_wall,
    "replay": cmd_replay,
    "simulate": cmd_simulate,
    "record": cmd_record,
    "check": cmd_check,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from migration_tui.config import ConfigError

    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(f"migration-tui: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _entry() -> Any:  # console script
    sys.exit(main())
