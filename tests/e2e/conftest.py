"""Fixtures for the end-to-end tests: a real sshd on a free loopback port with throwaway keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.sshd import SshServer


@pytest.fixture()
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    workdir = tmp_path / "sshd"
    workdir.mkdir()
    server = SshServer(workdir).start()
    try:
        yield server
    finally:
        server.stop()
