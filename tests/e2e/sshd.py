"""A real OpenSSH server for end-to-end tests: ``/usr/sbin/sshd -D -e`` on a free loopback port,
in a temporary directory, with a throwaway host key and a throwaway client key.

It runs as the current user (root on the project's machines, hence ``PermitRootLogin
prohibit-password``: the throwaway key only), reads its keys from the temporary directory
(``AuthorizedKeysFile``, ``StrictModes no``, ``UsePAM no``) and is waited for by condition
(its SSH banner), never by a fixed sleep. Locally a missing sshd skips; on CI (``CI=true``)
it fails, as a missing redis-server does (``tests/servers.py``).
"""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.servers import free_port

SSHD = "/usr/sbin/sshd"
DEADLINE_S = 15.0


def require_ssh() -> tuple[str, str, str]:
    """The paths of sshd, ssh and ssh-keygen; skip locally without them, fail on CI."""
    found = (
        SSHD if os.access(SSHD, os.X_OK) else shutil.which("sshd"),
        shutil.which("ssh"),
        shutil.which("ssh-keygen"),
    )
    if None in found:
        message = (
            "OpenSSH is not installed (Debian packages openssh-server, openssh-client; scripts/install-servers.sh)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must have every real server", pytrace=False)
        pytest.skip(message)
    return found  # type: ignore[return-value]


class SshServer:
    """``start()`` writes the keys and the config into ``workdir`` and runs sshd; ``stop()`` ends it."""

    def __init__(self, workdir: Path) -> None:
        self.sshd, self.ssh, keygen = require_ssh()
        self.workdir = workdir
        self.port = free_port()
        self.user = getpass.getuser()
        self.host_key = workdir / "host_ed25519"
        self.client_key = workdir / "client_ed25519"
        for key, comment in ((self.host_key, "throwaway-host"), (self.client_key, "throwaway-client")):
            subprocess.run(
                [keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)], check=True, timeout=30
            )
        (workdir / "authorized_keys").write_text(self.client_key.with_suffix(".pub").read_text())
        self.config = workdir / "sshd_config"
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {workdir / 'authorized_keys'}",
                    "StrictModes no",
                    "UsePAM no",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PrintMotd no",
                    "PrintLastLog no",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )
        self.log = workdir / "sshd.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> SshServer:
        if os.geteuid() == 0:
            # sshd started as root wants its privilege-separation directory, which Debian's
            # service unit creates at boot; a machine that never started the service lacks it.
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        checked = subprocess.run([self.sshd, "-t", "-f", str(self.config)], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"sshd -t refused the config: {checked.stderr}"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [self.sshd, "-D", "-e", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + DEADLINE_S
        while not self._banner():
            if self.process.poll() is not None:
                raise AssertionError(f"sshd exited {self.process.returncode}: {self.log.read_text()[-2000:]}")
            assert time.monotonic() < deadline, f"sshd never answered: {self.log.read_text()[-2000:]}"
            time.sleep(0.05)  # polling for readiness, with a deadline
        return self

    def _banner(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                return sock.recv(64).startswith(b"SSH-2.0-")
        except OSError:
            return False

    def command(self, remote: str, tty: bool = True) -> list[str]:
        """The ``ssh`` command line that runs ``remote`` (a shell command line) on this server."""
        return [
            self.ssh,
            *(["-t"] if tty else []),
            "-F",
            "/dev/null",  # none of the user's own ssh settings
            "-p",
            str(self.port),
            "-i",
            str(self.client_key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            f"{self.user}@127.0.0.1",
            remote,
        ]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def remote_command(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    """A shell command line for the far side: ``cd CWD && exec env K=V ... ARGV`` (quoted)."""
    assignments = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
    return f"cd {shlex.quote(str(cwd))} && exec env {assignments} {shlex.join(argv)}"
