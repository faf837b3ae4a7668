"""A real Samba server for the sync tests: `smbd --foreground` with a private smb.conf on a free 127.0.0.1 port.

Set up as TESTING.md describes: every state, lock, cache, private and pid dir under a temp dir,
a tdbsam passdb there with one user (the current user, password `SmbServer.password`) added by
`smbpasswd`, and one writable share `SmbServer.share_name` on `SmbServer.share_dir`. smbd runs in
its own session (`start_new_session=True`): stopping it must never signal pytest's process group.
`kill()` ends it with SIGKILL, including the per-connection and helper processes it forked;
`start()` brings it back on the same port with the same users and files. `stop_connections()`
freezes the per-connection processes (a transfer in flight stays where it is). `smb_backend()` is an
SmbBackend on the share, logged on as the server's user.
Not here: the tests themselves (tests/sync/test_smb.py), the process and port utilities (servers.py).
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from molt_desktop.sync.smb import SmbBackend
from tests.sync.servers import free_port, freeze, kill_tree, launch, process_tree, wait_listening

# Debian puts them in /usr/sbin and /usr/bin; a PATH without sbin should not hide them.
SMBD = shutil.which("smbd") or "/usr/sbin/smbd"
SMBPASSWD = shutil.which("smbpasswd") or "/usr/bin/smbpasswd"
START_DEADLINE = 30.0


class SmbServer:
    """One smbd in `workdir`, serving `share_dir` as `share_name` to `user` with `password`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.host = "127.0.0.1"
        self.port = free_port()
        self.user = getpass.getuser()
        self.password = "smb-test-Pa55word"
        self.share_name = "molt"
        self.share_dir = workdir / "share"
        self.config = workdir / "smb.conf"
        self.log = workdir / "smbd.log"
        self.process: subprocess.Popen[bytes] | None = None
        dirs = {name: workdir / name for name in ("run", "lock", "state", "cache", "private", "ncalrpc", "logs")}
        for folder in [*dirs.values(), self.share_dir]:
            folder.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            "[global]\n"
            "server role = standalone server\n"
            f"smb ports = {self.port}\n"
            "interfaces = 127.0.0.1\n"
            "bind interfaces only = yes\n"
            "disable netbios = yes\n"
            f"pid directory = {dirs['run']}\n"
            f"lock directory = {dirs['lock']}\n"
            f"state directory = {dirs['state']}\n"
            f"cache directory = {dirs['cache']}\n"
            f"private dir = {dirs['private']}\n"
            f"ncalrpc dir = {dirs['ncalrpc']}\n"
            f"passdb backend = tdbsam:{dirs['private'] / 'passdb.tdb'}\n"
            f"log file = {dirs['logs'] / 'log.%m'}\n"
            "log level = 1\n"
            "usershare path =\n"
            "map to guest = never\n"
            "server min protocol = SMB2_10\n"
            "load printers = no\n"
            "printing = bsd\n"
            "printcap name = /dev/null\n"
            "disable spoolss = yes\n"
            "\n"
            f"[{self.share_name}]\n"
            f"path = {self.share_dir}\n"
            "read only = no\n"
            f"valid users = {self.user}\n"
        )
        # The user needs a Unix account (the current user has one) and a Samba password.
        result = subprocess.run([SMBPASSWD, "-c", str(self.config), "-s", "-a", self.user],
                                input=f"{self.password}\n{self.password}\n".encode(),
                                capture_output=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"smbpasswd failed: {(result.stdout + result.stderr).decode(errors='replace')}")

    def start(self) -> None:
        """Start smbd (on the same port as before) and return once the port accepts connections."""
        assert self.process is None, "smbd is already running"
        self.process = launch([SMBD, "--foreground", "--debug-stdout", "--no-process-group", "-s", str(self.config)],
                              self.log)
        try:
            wait_listening(self.process, self.host, self.port, START_DEADLINE, self.log, "smbd")
        except RuntimeError:
            self.kill()
            raise

    def _processes(self) -> list[psutil.Process]:
        assert self.process is not None
        return process_tree(self.process.pid)

    def kill(self) -> None:
        """SIGKILL smbd and every process it forked (open connections die with it)."""
        process, self.process = self.process, None
        if process is not None:
            kill_tree(process)

    def connection_processes(self) -> list[psutil.Process]:
        """The smbd children serving a client connection (those with an established TCP socket)."""
        serving = []
        for child in self._processes()[1:]:
            try:
                if any(c.status == psutil.CONN_ESTABLISHED for c in child.net_connections(kind="tcp")):
                    serving.append(child)
            except psutil.NoSuchProcess:
                pass
        return serving

    def stop_connections(self) -> None:
        """SIGSTOP the processes serving connections: a transfer in flight freezes where it is."""
        freeze(self.connection_processes())


def check_installed() -> None:
    if not os.access(SMBD, os.X_OK) or not os.access(SMBPASSWD, os.X_OK):
        raise RuntimeError("samba is not installed: run scripts/system-deps.sh (as root)")


def smb_backend(server: SmbServer, root: str = "sync", **kwargs: object) -> SmbBackend:
    """An SmbBackend on `server`'s share, logged on as its user; `kwargs` override the options."""
    options: dict[str, object] = {"username": server.user, "password": server.password, "port": server.port} | kwargs
    return SmbBackend(server.host, server.share_name, root, **options)  # type: ignore[arg-type]


@contextmanager
def smbd_server(workdir: Path) -> Iterator[SmbServer]:
    check_installed()
    server = SmbServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.kill()
