"""httpx transports that answer from a SimulatedController in-process: no socket, no port.

``demo`` gives the real controller source an ``httpx.AsyncClient`` built on
``SimulatorTransport``, so the whole live path (source -> events -> store)
runs against the simulator without a server::

    controller = SimulatedController("2pc-commit", clock=ScaledClock(10))
    client = httpx.AsyncClient(transport=SimulatorTransport(controller), base_url="http://sim")

``handle()`` is pure and quick (microseconds), so it is called inline.
"""

from __future__ import annotations

import httpx

from migration_tui.sim.controller import SimulatedController


def _answer(controller: SimulatedController, request: httpx.Request, body: bytes) -> httpx.Response:
    path = request.url.raw_path.decode("ascii", "replace")
    status, headers, content = controller.handle(request.method, path, dict(request.headers), body)
    return httpx.Response(status, headers=headers, content=content, request=request)


class SimulatorTransport(httpx.AsyncBaseTransport):
    """For ``httpx.AsyncClient(transport=...)``."""

    def __init__(self, controller: SimulatedController) -> None:
        self.controller = controller

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return _answer(self.controller, request, await request.aread())


class SimulatorSyncTransport(httpx.BaseTransport):
    """For ``httpx.Client(transport=...)``."""

    def __init__(self, controller: SimulatedController) -> None:
        self.controller = controller

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return _answer(self.controller, request, request.read())
