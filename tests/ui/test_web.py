"""``wall --web``: the child's command line, and the wall served to a real headless Chromium.

The browser test runs the real thing: the simulator on a real socket,
``migration-tui wall --web`` as a process (textual-serve starting the wall as
its child), and Debian's chromium driven over the Chrome DevTools Protocol with
aiohttp's websocket client (installed with textual-serve: no browser driver,
no extra dependency). It passes only when the page's terminal holds what the
wall draws. Without chromium it skips locally and fails on CI (CI=true).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from migration_tui.sim.server import start_in_thread
from migration_tui.ui.web import is_loopback, notices, wall_command
from tests.servers import free_port, require_binary

TOKEN = "s3cret-token-for-web-test"


# --- the child's command line ------------------------------------------------------------------


def test_the_child_runs_wall_with_every_option_but_the_servers(monkeypatch):
    monkeypatch.setenv("MIGRATION_TUI_TOKEN", TOKEN)
    argv = ["wall", "--controller", "http://c:1", "--web", "--rotate", "5", "--host", "0.0.0.0", "--port=9001"]
    argv += ["--theme", "dark", "--config", "/etc/m.toml", "--port", "9002"]
    command = wall_command(argv)
    assert command[:4] == [sys.executable, "-m", "migration_tui", "wall"]
    assert command[4:] == ["--controller", "http://c:1", "--rotate", "5", "--theme", "dark", "--config", "/etc/m.toml"]
    assert TOKEN not in " ".join(command)


def test_what_comes_before_wall_is_not_passed_on():
    assert wall_command(["/usr/bin/migration-tui", "wall", "--web"])[3:] == ["wall"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True), ("[::1]", True)]
    + [("0.0.0.0", False), ("::", False), ("10.1.2.3", False), ("wall.example", False)],
)
def test_only_loopback_is_quiet(host, loopback):
    assert is_loopback(host) is loopback
    served, warning = notices(host, 8000)
    assert served.endswith(":8000") and "read-only" in served
    assert (warning is None) is loopback
    if warning:
        assert host in warning and "not loopback" in warning


# --- a real browser -----------------------------------------------------------------------------

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,720",
    "--remote-debugging-port=0",
)
#: textual-serve's page keeps its xterm.js Terminal in a closure; the test's copy of the page
#: script also keeps it in ``window.__wallTerminal``, to read its buffer with xterm's public API.
TERMINAL = re.compile(rb"this\.terminal=new (\w+)\.Terminal\(")
READ_SCREEN = """(() => {
  const t = window.__wallTerminal;
  if (!t) return null;
  const b = t.buffer.active, rows = [];
  for (let y = 0; y < t.rows; y++) rows.push(b.getLine(b.viewportY + y)?.translateToString(true) ?? '');
  return rows.join('\\n');
})()"""


class DevTools:
    """A minimal Chrome DevTools Protocol client: commands by id, events to their handlers."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future] = {}
        self.handlers: dict[str, Any] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data and (future := self.waiting.pop(data["id"], None)) and not future.done():
                future.set_result(data)
            elif (handler := self.handlers.get(data.get("method"))) is not None:
                asyncio.create_task(handler(data["params"]))

    async def call(self, method: str, **params: Any) -> dict:
        key = next(self.ids)
        self.waiting[key] = future = asyncio.get_running_loop().create_future()
        await self.ws.send_json({"id": key, "method": method, "params": params})
        data = await asyncio.wait_for(future, 15)
        if "error" in data:
            raise RuntimeError(f"{method}: {data['error']}")
        return data["result"]


@asynccontextmanager
async def chromium(binary: str) -> AsyncIterator[DevTools]:
    """A headless Chromium with its own profile; its first page, over CDP."""
    profile = Path(tempfile.mkdtemp(prefix="wall-web-chromium-"))
    process = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            assert process.poll() is None, "chromium exited at start"
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                page = next(t for t in await response.json() if t["type"] == "page")
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                tools = DevTools(ws)
                try:
                    yield tools
                finally:
                    tools.reader.cancel()
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


async def expose_terminal(tools: DevTools) -> None:
    """Serve the page script with its Terminal also kept in ``window.__wallTerminal``."""

    async def paused(params: dict) -> None:
        body = await tools.call("Fetch.getResponseBody", requestId=params["requestId"])
        script = base64.b64decode(body["body"]) if body["base64Encoded"] else body["body"].encode()
        assert TERMINAL.search(script), "textual-serve's textual.js no longer builds its Terminal as expected"
        script = TERMINAL.sub(rb"this.terminal=window.__wallTerminal=new \1.Terminal(", script, count=1)
        headers = [h for h in params.get("responseHeaders", []) if h["name"].lower() != "content-length"]
        await tools.call(
            "Fetch.fulfillRequest",
            requestId=params["requestId"],
            responseCode=200,
            responseHeaders=headers,
            body=base64.b64encode(script).decode(),
        )

    tools.handlers["Fetch.requestPaused"] = paused
    await tools.call("Fetch.enable", patterns=[{"urlPattern": "*/static/js/textual.js", "requestStage": "Response"}])


def descendants(pid: int) -> list[str]:
    """The command lines of ``pid``'s children and their children, from /proc."""
    lines = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                lines.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
                lines += descendants(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass  # gone meanwhile
    return lines


@pytest.fixture()
def wall_web(tmp_path):
    """``migration-tui wall --web`` on a free port, watching the simulator; its URL and process."""
    simulator = start_in_thread("2pc-commit", speed=float(os.environ.get("WALL_WEB_SPEED", "1")))
    port = free_port()
    env = {**os.environ, "MIGRATION_TUI_TOKEN": TOKEN, "MIGRATION_TUI_AUDIT_LOG": str(tmp_path / "audit.log")}
    log = open(tmp_path / "wall-web.log", "wb")  # noqa: SIM115 (closed below)
    command = [sys.executable, "-m", "migration_tui", "wall", "--web", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--controller", simulator.url], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and the wall it started for the page
        process.wait(15)
        log.close()
        simulator.stop()
        print((tmp_path / "wall-web.log").read_text(errors="replace")[-3000:])


async def until(check, seconds: float, what: str):
    for _ in range(int(seconds / 0.25)):
        if value := await check():
            return value
        await asyncio.sleep(0.25)
    pytest.fail(f"{what} within {seconds:.0f} s")


async def test_a_headless_chromium_shows_the_wall(wall_web, tmp_path):
    binary = require_binary("chromium")
    url, server = wall_web
    target = None
    async with aiohttp.ClientSession() as http:

        async def up() -> bool:
            try:
                async with http.get(url) as response:
                    return response.status == 200 and "textual-terminal" in await response.text()
            except aiohttp.ClientError:
                return False

        await until(up, 15, "the server did not answer")
    async with chromium(binary) as tools:
        await tools.call("Page.enable")
        await expose_terminal(tools)
        await tools.call("Page.navigate", url=url)

        async def screen() -> str | None:
            result = await tools.call("Runtime.evaluate", expression=READ_SCREEN, returnByValue=True)
            text = result["result"].get("value")
            return text if text and "WALL" in text and "2pc-btcusdt" in text else None

        text = await until(screen, 20, "the page's terminal did not show the wall")
        assert "phase" in text and "p95 latency" in text  # the large figures, not only the status bar
        if target := os.environ.get("WALL_WEB_SCREENSHOT"):  # docs/screenshots/wall-web.png: let it move first
            await asyncio.sleep(float(os.environ.get("WALL_WEB_SETTLE", "8")))
        shot = base64.b64decode((await tools.call("Page.captureScreenshot", format="png"))["data"])
        # The page's wall is the server's child, started without --web and with no token on its
        # command line. Looked at while the page is open: closing it ends the child.
        walls = [line for line in descendants(server.pid) if "migration_tui wall" in line]
        assert walls and all("--web" not in line and TOKEN not in line for line in walls), walls
    (tmp_path / "wall-web.png").write_bytes(shot)
    if target:
        Path(target).write_bytes(shot)
