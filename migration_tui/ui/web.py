"""``wall --web``: the same wall, served to a browser by textual-serve.

textual-serve starts one ``migration-tui wall ...`` child per browser page and
relays its terminal over a websocket to xterm.js. The child's command line is
the user's own ``wall`` options without ``--web``, ``--host`` and ``--port``;
the token is never put on it (there is no token flag): the child inherits the
environment and reads the same config file, as ``wall`` in a terminal would.
The wall is read-only, so a browser can watch but never act.
"""

from __future__ import annotations

import ipaddress
import shlex
import sys
from collections.abc import Sequence
from typing import Any

#: ``wall`` options that belong to the server, not to the wall it serves: name -> takes a value.
SERVER_OPTIONS = {"--web": False, "--host": True, "--port": True}


def wall_command(argv: Sequence[str]) -> list[str]:
    """The child's ``migration-tui wall ...`` argv: ``argv`` (from ``wall`` on) without the server options."""
    args = list(argv)
    if "wall" in args:
        args = args[args.index("wall") + 1 :]
    kept: list[str] = []
    skip_value = False
    for arg in args:
        if skip_value:
            skip_value = False
            continue
        name, has_value, _ = arg.partition("=")
        if name in SERVER_OPTIONS:
            skip_value = SERVER_OPTIONS[name] and not has_value
            continue
        kept.append(arg)
    return [sys.executable, "-m", "migration_tui", "wall", *kept]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_for(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def notices(host: str, port: int) -> tuple[str, str | None]:
    """What ``serve_wall`` prints: the URL, and a warning when the wall is visible beyond this machine."""
    served = f"migration-tui: serving the wall (read-only) at {url_for(host, port)}"
    if is_loopback(host):
        return served, None
    return served, (
        f"migration-tui: warning: listening on {host}, not loopback: anyone who can reach "
        f"port {port} sees the wall (read-only; it has no action keys)"
    )


def serve_wall(argv: Sequence[str], host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve the wall on ``host:port`` until Ctrl+C; ``argv`` is the command line from ``wall`` on."""
    from textual_serve.server import Server

    class WallServer(Server):
        async def handle_index(self, request: Any) -> Any:
            # The page's websocket URL is built from public_url; take the address the browser
            # used, so a wall bound to 0.0.0.0 works from another machine (no await before use).
            self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

    served, warning = notices(host, port)
    print(served, flush=True)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    WallServer(shlex.join(wall_command(argv)), host=host, port=port, title="migration-tui wall").serve()
    return 0
