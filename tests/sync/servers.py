"""Process and port utilities shared by the real test servers (tests/sync/smbd.py, tests/sync/sshd.py).

`free_port()` picks a free 127.0.0.1 port; `launch()` starts a server in its own session (stopping it
must never signal pytest's process group) with its output in a log file; `wait_listening()` returns
once the port accepts connections; `process_tree()` is a server with every process it forked;
`kill_tree()` ends all of them with SIGKILL (the forked ones may have left its session, so a
process-group kill would miss them); `freeze()` SIGSTOPs processes where they are.
Not here: each server's own config and users (smbd.py, sshd.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

import psutil

LOG_TAIL = 3000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start `argv` in a session of its own, stdout and stderr appended to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)


def wait_listening(process: subprocess.Popen[bytes], host: str, port: int, timeout: float, log: Path,
                   name: str) -> None:
    """Return once host:port accepts connections; RuntimeError with the log's tail if `process` exits
    first or nothing listens within `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start:\n{log.read_text(errors='replace')[-LOG_TAIL:]}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not listen on {port}:\n"
                                   f"{log.read_text(errors='replace')[-LOG_TAIL:]}") from None
            time.sleep(0.02)


def process_tree(pid: int) -> list[psutil.Process]:
    """The process `pid` first, then every process it forked; empty once it is gone."""
    try:
        main = psutil.Process(pid)
        return [main, *main.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL `process` and every process it forked, reap it, and wait (up to 10 s) until the
    forked ones are gone too (open connections die with them)."""
    victims = process_tree(process.pid)
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


def freeze(processes: Iterable[psutil.Process]) -> None:
    """SIGSTOP each process (one already gone is skipped): whatever it was doing stays where it is."""
    for process in processes:
        try:
            os.kill(process.pid, signal.SIGSTOP)
        except ProcessLookupError:
            pass
