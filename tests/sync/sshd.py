"""A real OpenSSH server for the sync tests: `/usr/sbin/sshd -D -e -f <cfg>` on a free 127.0.0.1 port.

Set up as TESTING.md describes (private config, host key and authorized_keys in a temp dir, no
PAM, internal-sftp), key authentication only, for the current user. `SshServer.kill()` ends it
with SIGKILL, including the per-connection processes it forked (they leave its session, so a
process-group kill would miss them); `start(new_host_key=True)` brings it back on the same port
with a freshly generated host key. Use the `sshd_server` context manager or `SshServer` directly;
`sftp_backend()` is an SftpBackend on it with the client key it accepts.
Not here: the tests themselves (tests/sync/test_sftp.py), the process and port utilities (servers.py).
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from molt_desktop.sync.sftp import SftpBackend
from tests.sync.servers import free_port, freeze, kill_tree, launch, process_tree, wait_listening

SSHD = "/usr/sbin/sshd"
START_DEADLINE = 20.0


def _keygen(path: Path) -> None:
    for old in (path, path.with_name(path.name + ".pub")):
        old.unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
                   check=True, capture_output=True, timeout=30)


class SshServer:
    """One sshd in `workdir`; `client_key` is the private key it accepts for `user`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.host = "127.0.0.1"
        self.port = free_port()
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
        self.process = launch([SSHD, "-D", "-e", "-f", str(self.config)], self.log)
        try:
            wait_listening(self.process, self.host, self.port, START_DEADLINE, self.log, "sshd")
        except RuntimeError:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL sshd and every process it forked (open connections die with it)."""
        process, self.process = self.process, None
        if process is not None:
            kill_tree(process)

    def stop_connections(self) -> None:
        """SIGSTOP the per-connection processes: a transfer in flight freezes where it is."""
        assert self.process is not None
        freeze(process_tree(self.process.pid)[1:])


def sftp_backend(server: SshServer, root: Path, known_hosts: Path, **kwargs: object) -> SftpBackend:
    """An SftpBackend on `server` at `root`, with the client key it accepts; `kwargs` override the options."""
    options: dict[str, object] = {"key_file": server.client_key, "known_hosts": known_hosts} | kwargs
    return SftpBackend(server.host, server.port, server.user, str(root), **options)  # type: ignore[arg-type]


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
