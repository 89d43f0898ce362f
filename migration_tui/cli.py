"""Command line: argument parsing only. Each command builds Settings and starts one mode.

Imports of the heavy parts (Textual, httpx, redis, prometheus-api-client)
happen inside the command that needs them, so ``--help`` and the headless
replay stay fast.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from migration_tui import __version__


def scenario_names() -> tuple[str, ...]:
    """The simulator's scenarios, from the systems registry."""
    from migration_tui import systems

    return tuple(systems.scenarios())


def profile_names() -> tuple[str, ...]:
    """The controller profiles (``--profile``), from the systems registry."""
    from migration_tui import systems

    return tuple(systems.profile_entries())


EPILOG = """\
settings: command line > environment (MIGRATION_TUI_CONTROLLER, MIGRATION_TUI_PROMETHEUS,
MIGRATION_TUI_REDIS, MIGRATION_TUI_TOKEN, MIGRATION_TUI_PROFILE, MIGRATION_TUI_MIGRATION,
MIGRATION_TUI_THEME, MIGRATION_TUI_RULES, MIGRATION_TUI_AUDIT_LOG, MIGRATION_TUI_SCREENSHOT_DIR) > config file
(MIGRATION_TUI_CONFIG or --config, default ~/.config/migration-tui/config.toml).
The API token is read from MIGRATION_TUI_TOKEN or the config file only, never from a flag.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (what is wrong, and where the help is), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _speed(value: str) -> float:
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.1 <= speed <= 1000:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"speed must be a number from 0.1 to 1000, not {value!r}")
    return speed


def _seconds(value: str) -> float:
    """A finite number of seconds, 0 or more; any size (an offset past a recording's end means its end)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds, 0 or more, not {value!r}")
    return seconds


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 1_000_000:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 1000000, not {value!r}")
    return number


def _port(lowest: int) -> Callable[[str], int]:
    def port(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = -1
        if not lowest <= number <= 65535:
            raise argparse.ArgumentTypeError(f"must be a port number from {lowest} to 65535, not {value!r}")
        return number

    return port


def _add_sources(p: argparse.ArgumentParser, theme: str | None = "dark", controller_required: bool = True) -> None:
    needed = "required; or MIGRATION_TUI_CONTROLLER or the config file" if controller_required else "default: none"
    p.add_argument(
        "--controller",
        metavar="[NAME=]URL",
        action="append",
        help=f"migration controller base URL, http:// or https://; repeat it (NAME=URL) to watch several, each "
        f"migration under its controller's NAME ({needed}; [[controllers]] blocks in the config file)",
    )
    p.add_argument("--migration", metavar="ID", help="watch this migration only (default: every one listed)")
    p.add_argument(
        "--profile",
        metavar="NAME|PATH.toml",
        help=f"controller API profile: {', '.join(profile_names())}, or a profile file PATH.toml "
        "(docs/profiles.md) (default: detected from /health)",
    )
    _add_source_kinds(p)
    p.add_argument("--prometheus", metavar="URL", help="Prometheus base URL (default: none)")
    p.add_argument("--redis", metavar="URL", help="Redis URL for heartbeats and events (default: none)")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML config file (default: MIGRATION_TUI_CONFIG, else ~/.config/migration-tui/config.toml)",
    )
    p.add_argument("--insecure", action="store_true", default=None, help="skip TLS verification (shown on screen)")
    if theme:
        _add_theme(p, theme)


def _add_relay(p: argparse.ArgumentParser, writer: bool = False) -> None:
    """``--relay URL [--stream NAME]``: a relay viewer reads its sources from the relay's stream."""
    if writer:
        p.add_argument("--relay", metavar="URL", help="redis:// URL of the Redis to write the stream to (required)")
    else:
        p.add_argument(
            "--relay",
            metavar="URL",
            help="read every source from a relay's stream at this redis:// URL instead of polling them "
            "(default: none; read-only unless --controller is given too, for actions only)",
        )
    p.add_argument(
        "--stream", dest="relay_stream", metavar="NAME", help="the relay's stream (default: migration-tui:relay)"
    )


def _add_source_kinds(p: argparse.ArgumentParser) -> None:
    """The flags of the systems read by sources of their own (``systems.source_kinds()``)."""
    from migration_tui import systems
    from migration_tui.config import flag_dest

    for kind in systems.source_kinds().values():
        for flag, key, words in kind.flags:
            p.add_argument(flag, dest=flag_dest(flag), metavar=key.upper(), help=words)


def _add_bell(p: argparse.ArgumentParser) -> None:
    """``--no-bell``, for the commands that draw a screen (a rule starting to fire rings once)."""
    p.add_argument(
        "--no-bell", dest="bell", action="store_false", default=None, help="no bell when a rule starts firing"
    )


def _add_screenshot_dir(p: argparse.ArgumentParser) -> None:
    """``--screenshot-dir``, for the commands that draw a screen (the ``s`` key saves it there)."""
    p.add_argument(
        "--screenshot-dir",
        metavar="DIR",
        help="where the s key saves the screen as SVG (default: MIGRATION_TUI_SCREENSHOT_DIR, the config file's "
        "screenshot_dir, else screenshots/ under the user data directory)",
    )


def _add_theme(p: argparse.ArgumentParser, default: str = "dark") -> None:
    p.add_argument(
        "--theme", metavar="NAME", help=f"dark, light, high-contrast or colorblind (see themes/; default: {default})"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="migration-tui",
        description="Terminal dashboard for live, zero-downtime migrations.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"migration-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "demo",
        help="the built-in simulator in-process: no servers, no network",
        description="The dashboard on the built-in simulator of every seed system, in-process: no servers, no "
        "network. The action keys work, against the simulator.",
    )
    p.add_argument("--scenario", choices=scenario_names(), default=None, help="one scenario (default: all six)")
    p.add_argument("--speed", type=_speed, default=1.0, metavar="X", help="simulation speed, 0.1 to 1000 (default: 1)")
    _add_theme(p)
    _add_bell(p)
    _add_screenshot_dir(p)

    p = sub.add_parser(
        "watch",
        help="watch live migrations (actions after confirmation)",
        description="The dashboard on a live controller (and Prometheus and Redis if given). p, u, a and r "
        "pause, resume, abort and roll back after a confirmation, unless --read-only.",
    )
    _add_sources(p)
    _add_relay(p)
    p.add_argument("--read-only", action="store_true", default=None, help="no action client at all")
    p.add_argument("--record", metavar="FILE", help="also record every event to FILE (.jsonl or .jsonl.gz)")
    _add_bell(p)
    _add_screenshot_dir(p)

    p = sub.add_parser(
        "wall",
        help="read-only wall display",
        description="The wall: large figures for one migration at a time, rotating between the running ones; "
        "read-only, nothing can be sent.",
    )
    _add_sources(p, theme="high-contrast")
    _add_relay(p)
    p.add_argument(
        "--rotate",
        type=_seconds,
        default=15.0,
        metavar="SECONDS",
        help="seconds each migration stays on screen (default: 15)",
    )
    p.add_argument("--web", action="store_true", help="serve the wall to a browser (textual-serve)")
    p.add_argument("--host", default="127.0.0.1", help="with --web: address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=_port(1), default=8000, help="with --web: port to listen on (default: 8000)")
    _add_bell(p)
    _add_screenshot_dir(p)

    p = sub.add_parser(
        "replay",
        help="replay a recording",
        description="Play a recording on the dashboard (space, left/right, +/-), on the wall with --wall, or "
        "print the state at an offset with --headless. A file that holds no recording is refused.",
    )
    p.add_argument("file", metavar="FILE", help="a recording: .jsonl, or .jsonl.gz (gzip)")
    p.add_argument("--speed", type=_speed, default=1.0, metavar="X", help="playback speed, 0.1 to 1000 (default: 1)")
    p.add_argument(
        "--start",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="start this many seconds in, once the file is indexed (default: 0)",
    )
    p.add_argument("--headless", action="store_true", help="print the reduced state instead of a screen")
    p.add_argument(
        "--at",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="with --headless: offset from the start; past the end means the end (default: the end)",
    )
    p.add_argument("--json", action="store_true", help="with --headless: one JSON object on stdout")
    p.add_argument(
        "--screenshot",
        metavar="OUT.svg",
        help="with --headless: also draw the dashboard at --at (120x40, no terminal) and save it as SVG",
    )
    _add_theme(p, default="dark; high-contrast with --wall")
    p.add_argument("--wall", action="store_true", help="show it on the wall screen (as `wall` does, read-only)")
    _add_bell(p)
    _add_screenshot_dir(p)
    p.add_argument(
        "--rotate",
        type=_seconds,
        default=15.0,
        metavar="SECONDS",
        help="with --wall: seconds per migration (default: 15)",
    )

    p = sub.add_parser(
        "report",
        help="write up a recording: summary, timeline, charts, actions, outages, success criteria",
        description="The first draft of a migration's write-up from its recording: for each migration a summary, "
        "the phase timeline, charts of progress, latency, error rate and throughput with thresholds and marked "
        "moments, the operator actions, the sources' outages and a verdict per success criterion of its system "
        "(met, not met, or cannot tell from this recording). A damaged recording is read as far as it can be.",
    )
    p.add_argument("file", metavar="FILE", help="a recording: .jsonl, or .jsonl.gz (gzip)")
    p.add_argument(
        "--out",
        metavar="PATH",
        help="PATH.html: one self-contained page; PATH.md: Markdown with the charts as SVG files beside it "
        "(default: the Markdown on stdout, without charts)",
    )
    p.add_argument("--migration", metavar="ID", help="only this migration (default: every one in the recording)")
    p.add_argument(
        "--rules", metavar="FILE", help="rules file whose thresholds are drawn and judged (default: the built-in rules)"
    )

    p = sub.add_parser(
        "simulate",
        help="serve a simulated migration over HTTP",
        description="Serve one scenario's controller API (and /metrics) until Ctrl-C; with --scenario repeated or "
        "--all, one controller per scenario on consecutive ports from --port, each printed as NAME URL for "
        "`watch --controller NAME=URL`. Set MIGRATION_TUI_SIM_TOKEN to require a bearer token on action POSTs.",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--scenario",
        choices=scenario_names(),
        action="append",
        help="the scenario to serve; repeat it for several controllers (this or --all is required)",
    )
    which.add_argument("--all", action="store_true", help="serve every scenario, one controller per port")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument(
        "--port",
        type=_port(0),
        default=8080,
        help="port to listen on (several scenarios: the first of consecutive ports), 0 for free ones (default: 8080)",
    )
    p.add_argument("--redis", metavar="URL", help="publish heartbeats and events to this Redis (default: none)")
    p.add_argument("--speed", type=_speed, default=1.0, metavar="X", help="simulation speed, 0.1 to 1000 (default: 1)")

    p = sub.add_parser(
        "record",
        help="record live sources to a file, headless",
        description="Run the sources the dashboard runs and write every event to FILE. Exit codes: 0 when the "
        "duration ends or on Ctrl-C/SIGTERM, 1 if FILE cannot be written, 2 for bad usage or no controller, "
        "3 if the controller never answered during the run.",
    )
    _add_sources(p, theme=None)
    _add_relay(p)
    p.add_argument("--out", required=True, metavar="FILE", help="where to write: .jsonl, or .jsonl.gz (required)")
    p.add_argument(
        "--duration",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="stop after this long (default: until Ctrl-C or SIGTERM)",
    )

    p = sub.add_parser(
        "relay",
        help="poll the sources once and fan their events out through a Redis stream",
        description="Run the sources watch would run, once, and append every event to a Redis Stream that "
        "watch, wall and record read with --relay: many viewers, one poller. Until Ctrl-C or SIGTERM. Exit "
        "codes: 0 when stopped, 2 for bad usage or when another relay already writes the stream.",
    )
    _add_sources(p, theme=None)
    _add_relay(p, writer=True)
    p.add_argument(
        "--snapshot-every",
        type=_count,
        default=500,
        metavar="N",
        help="write the reduced state for late viewers every N events (default: 500; and every 10 s)",
    )

    p = sub.add_parser(
        "check",
        help="probe every configured source; non-zero if any is unreachable",
        description="Probe every configured source once and print one line each. Exit codes: 0 if all are "
        "reachable, 1 if any is not, 2 if none is configured or a URL is not usable.",
    )
    _add_sources(p, theme=None, controller_required=False)
    return parser


def settings_from(args: argparse.Namespace):
    from migration_tui.config import build_settings

    cli = {k: v for k, v in vars(args).items() if k not in ("command", "file")}
    return build_settings(cli)


def _fail(message: str, code: int = 2) -> int:
    print(f"migration-tui: {message}", file=sys.stderr)
    return code


def cmd_replay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from migration_tui.recording import RecordingError, check_recording
    from migration_tui.safe_text import clean

    shown = clean(args.file, 200)  # a file name may hold control characters too
    if not args.headless:
        given = [
            flag
            for flag, value in (("--at", args.at is not None), ("--json", args.json), ("--screenshot", args.screenshot))
            if value
        ]
        if given:
            verb = "works" if len(given) == 1 else "work"
            return _fail(f"{' and '.join(given)} only {verb} with --headless (a screen has neither)")
    if args.headless and args.wall:
        return _fail("--wall draws a screen; --headless prints the state: choose one")
    path = Path(args.file)
    if not path.is_file():
        return _fail(f"no such recording: {shown}")
    try:
        notes = check_recording(path)
    except RecordingError as exc:
        return _fail(f"{shown}: {exc}")
    except OSError as exc:
        return _fail(f"{shown}: cannot read: {exc.strerror or exc}")
    for note in notes:
        print(f"migration-tui: {shown}: {note}", file=sys.stderr)
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
        at = args.at if args.at is not None else math.inf
        if args.screenshot and not args.screenshot.lower().endswith(".svg"):
            return _fail(f"--screenshot {clean(args.screenshot, 200)}: the name must end in .svg")
        state = reduce_recording(str(path), at, rules)
        if args.screenshot:
            code = _headless_screenshot(args, path, state["at"], rules)
            if code:
                return code
        if args.json:
            sys.stdout.buffer.write(orjson.dumps(state, option=orjson.OPT_NON_STR_KEYS) + b"\n")
        else:
            from migration_tui.headless import summary

            print(summary(state))
        return 0
    from migration_tui.ui.run import run_replay

    wall = args.rotate if args.wall else None
    return run_replay(str(path), settings_from(args), speed=args.speed, start=args.start, wall_rotate_s=wall)


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from migration_tui.recording import RecordingError, check_recording
    from migration_tui.rules import RulesError, load_rules
    from migration_tui.safe_text import clean

    shown = clean(args.file, 200)
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".html", ".md"):
        return _fail(f"--out {clean(args.out, 200)}: the name must end in .html or .md")
    path = Path(args.file)
    if not path.is_file():
        return _fail(f"no such recording: {shown}")
    try:
        notes = check_recording(path)
    except RecordingError as exc:
        return _fail(f"{shown}: {exc}")
    except OSError as exc:
        return _fail(f"{shown}: cannot read: {exc.strerror or exc}")
    for note in notes:
        print(f"migration-tui: {shown}: {note}", file=sys.stderr)
    try:
        rules = load_rules(args.rules)
    except RulesError as exc:
        return _fail(str(exc))
    from migration_tui import report as reporting

    result = reporting.collect(str(path), rules, args.migration)
    if args.migration is not None and not result.migrations:
        every = reporting.collect(str(path), rules)
        ids = ", ".join(clean(m.id, 60) for m in every.migrations) or "none"
        return _fail(f"{shown}: no migration {clean(args.migration, 60)} in this recording (it has: {ids})")
    if out is None:
        sys.stdout.write(reporting.markdown(result) + "\n")
        return 0
    import gc

    gc.freeze()  # what was read lives until exit: the collector need not scan it again while charts are drawn
    from migration_tui import report_charts

    charts = report_charts.svgs(result)
    try:
        if out.suffix.lower() == ".html":
            out.write_text(reporting.html(result, charts), encoding="utf-8")
        else:
            names = reporting.chart_file_names(result, out.stem)
            for name, chart in zip(names, charts, strict=True):
                (out.parent / name).write_text(chart, encoding="utf-8")
            out.write_text(reporting.markdown(result, names), encoding="utf-8")
    except OSError as exc:
        return _fail(f"{clean(args.out, 200)}: cannot write: {exc.strerror or exc}", 1)
    print(f"migration-tui: report written to {clean(str(out), 200)}", file=sys.stderr)
    return 0


def _headless_screenshot(args: argparse.Namespace, path: Any, at: float, rules: Any) -> int:
    """The dashboard at ``at`` seconds into the recording, drawn without a terminal, saved as SVG."""
    import asyncio
    from pathlib import Path

    from migration_tui.feeds import ReplayFeed
    from migration_tui.safe_text import clean
    from migration_tui.ui.app import MigrationApp
    from migration_tui.ui.screenshot import headless
    from migration_tui.ui.themes import ThemeError

    out = Path(args.screenshot)
    settings = settings_from(args)
    feed = ReplayFeed(str(path), playing=False)
    try:
        app = MigrationApp(feed, theme=settings.theme, rules=tuple(rules), bell=False)
    except ThemeError as exc:
        feed.stop()
        return _fail(str(exc))
    try:
        asyncio.run(headless(app, at, out))
    except OSError as exc:
        return _fail(f"{clean(args.screenshot, 200)}: cannot write: {exc.strerror or exc}", 1)
    print(f"migration-tui: screenshot at {at:.1f}s written to {clean(str(out), 200)}", file=sys.stderr)
    return 0


def live_settings(args: argparse.Namespace, needs_controller: bool = True):
    """Settings for a command that polls sources: URLs checked, and a controller unless ``check``."""
    from migration_tui.config import HTTP_KIND, ConfigError, check_source_urls

    settings = settings_from(args)
    check_source_urls(settings)
    relayed = settings.relay and args.command != "relay"
    if relayed and (settings.prometheus or settings.redis):
        raise ConfigError(
            f"{args.command}: --relay reads every source from the relay; --prometheus and --redis belong to the "
            "relay itself"
        )
    if args.command == "relay" and not settings.relay:
        raise ConfigError("relay: no Redis to write to (use --relay redis://HOST:PORT or MIGRATION_TUI_RELAY)")
    if relayed and any(spec.profile is None and spec.kind == HTTP_KIND for spec in settings.controller_specs()):
        raise ConfigError(
            f"{args.command}: with --relay, a --controller is only for actions and is never polled, so its profile "
            "cannot be detected: give --profile (or profile = in its [[controllers]] block)"
        )
    for spec in settings.controller_specs():
        if spec.kind != HTTP_KIND and spec.secrets and spec.where == "the command line":
            # Not refused (psql takes one too), but said: any user of this machine can read it in `ps`.
            print(
                f"migration-tui: warning: a password given on the command line ({spec.kind}) is visible to every "
                "user of this machine in `ps`; prefer PGPASSWORD, ~/.pgpass or the config file",
                file=sys.stderr,
            )
    if needs_controller and not settings.controller_specs() and not relayed:
        raise ConfigError(f"{args.command}: no controller URL (use --controller or MIGRATION_TUI_CONTROLLER)")
    if settings.profile is not None and not isinstance(settings.profile, str):
        raise ConfigError("profile must be a profile name or a profile file's path")
    from migration_tui.sources.profiles import load_profile

    # A bad name or file: one line and exit 2, before any screen (each controller's own too).
    for profile, where in [(settings.profile, None)] + [(s.profile, s.where) for s in settings.controllers]:
        if profile is not None:
            try:
                load_profile(profile)
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}" if where else str(exc)) from None
    return settings


def cmd_demo(args: argparse.Namespace) -> int:
    from migration_tui.ui.run import run_demo

    return run_demo(settings_from(args), scenario=args.scenario, speed=args.speed)


def cmd_watch(args: argparse.Namespace) -> int:
    settings = live_settings(args)
    from migration_tui.ui.run import run_watch

    return run_watch(settings, wall=False)


def cmd_wall(args: argparse.Namespace) -> int:
    settings = live_settings(args)
    from migration_tui.ui.run import run_wall

    return run_wall(settings, rotate_s=args.rotate, web=args.web, host=args.host, port=args.port)


def cmd_simulate(args: argparse.Namespace) -> int:
    from migration_tui.sim.server import serve, serve_many

    scenarios = list(scenario_names()) if args.all else args.scenario
    if len(scenarios) == 1:
        return serve(scenarios[0], host=args.host, port=args.port, redis_url=args.redis, speed=args.speed)
    return serve_many(scenarios, host=args.host, port=args.port, redis_url=args.redis, speed=args.speed)


def cmd_record(args: argparse.Namespace) -> int:
    settings = live_settings(args)
    from migration_tui.sources.record import record

    return record(settings, out=args.out, duration_s=args.duration)


def cmd_relay(args: argparse.Namespace) -> int:
    settings = live_settings(args)
    from migration_tui.relay import run_relay

    return run_relay(settings, snapshot_every=args.snapshot_every)


def cmd_check(args: argparse.Namespace) -> int:
    settings = live_settings(args, needs_controller=False)
    from migration_tui.sources.check import check

    return check(settings)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": cmd_demo,
    "watch": cmd_watch,
    "wall": cmd_wall,
    "replay": cmd_replay,
    "report": cmd_report,
    "simulate": cmd_simulate,
    "record": cmd_record,
    "relay": cmd_relay,
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
