"""A real OpenSSH server for the sync tests: `/usr/sbin/sshd -D -e -f <cfg>` on a free 127.0.0.1 port.

Set up as TESTING.md describes (private config, host key and authorized_keys in a temp dir, no
PAM, internal-sftp), key authentication only, for the current user. `SshServer.kill()` ends it
with SIGKILL, including the per-connection processes it forked (they leave its session, so a
process-group kill would miss them); `start(new_host_key=True)` brings it back on the same port
with a freshly generated host key. Use the `sshd_server` context manager or `SshServer` directly.
Not here: the tests themselves (tests/sync/test_sftp.py).
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

SSHD = "/usr/sbin/sshd"
START_DEADLINE = 20.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> None:
    for old in (path, path.with_name(path.name + ".pub")):
        old.unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
                   check=True, capture_output=True, timeout=30)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class SshServer:
    """One sshd in `workdir`; `client_key` is the private key it accepts for `user`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.user = getpass.getuser()
        self.host_key = workdir / "host_ed25519"
        self.client_key = workdir / "client_ed25519"
        self.config = workdir / "sshd_config"
        self.log = workdir / "sshd.log"
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        _keygen(self.host_key)
        _keygen(self.client_key)
        shutil.copyfile(self.client_key.with_name(self.client_key.name + ".pub"), workdir / "authorized_keys")
        self.config.write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {self.host_key}\n"
            f"AuthorizedKeysFile {workdir / 'authorized_keys'}\n"
            f"PidFile {workdir / 'sshd.pid'}\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\n"
            "Subsystem sftp internal-sftp\n"
        )

    @property
    def host_key_public(self) -> Path:
        return self.host_key.with_name(self.host_key.name + ".pub")

    def start(self, *, new_host_key: bool = False) -> None:
        """Start sshd (on the same port as before) and return once the port accepts connections."""
        assert self.process is None, "sshd is already running"
        if new_host_key:
            _keygen(self.host_key)
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation dir
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.config)],
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                            start_new_session=True)
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"sshd exited at start:\n{self.log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"sshd did not listen on {self.port}:\n{self.log.read_text()[-2000:]}")
                time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL sshd and every process it forked (open connections die with it)."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            victims = [psutil.Process(process.pid)]
            victims += victims[0].children(recursive=True)
        except psutil.NoSuchProcess:
            victims = []
        for victim in victims:
            try:
                victim.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        process.wait(timeout=10)
        # The forked ones are not ours to reap: gone or a zombie means their sockets are closed.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(v) for v in victims[1:]):
            time.sleep(0.01)

    def stop_connections(self) -> None:
        """SIGSTOP the per-connection processes: a transfer in flight freezes where it is."""
        assert self.process is not None
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                os.kill(child.pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass


@contextmanager
def sshd_server(workdir: Path) -> Iterator[SshServer]:
    if not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None:
        raise RuntimeError("openssh-server is not installed: run scripts/system-deps.sh (as root)")
    server = SshServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.kill()
