"""What the sync tests share: the two test devices (ids, folders on the server), session files of a
known size, folder contents as bytes, waiting for a condition, and the backend scenarios every real
server runs.

- `SESS`: the sessions folder of the main agent, relative to a state dir.
- `A_ID`, `B_ID`, `C_ID`: device ids; `A_DIR`, `B_DIR`: the server folders of devices "alpha" and "beta".
- `line(i, size)`: one transcript line; `session_file(state, name, data)`: a file in `state`'s SESS.
- `files_of(folder)`: every file below `folder` by relative path; `make_dirs(base, *names)`: new folders.
- `engines(a, b, backend)`: SyncEngines for "alpha" on state dir `a` and "beta" on `b`.
- `two_devices(tmp_path, backend_a, backend_b)`: those engines on tmp_path/a and tmp_path/b, with
  the backends closed afterwards (for the real servers' `devices` fixtures).
- `until(predicate, timeout, what)`: wait, polling, until `predicate()` is truthy.
- `check_create_exclusive(backend, root)`, `server_killed_mid_upload(...)`: backend tests every real
  server runs (root is the backend's folder as seen on disk).
Not here: the fixtures that start servers (conftest.py), the servers themselves (smbd.py, sshd.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest

from molt_desktop.sync.backend import Backend, SyncBackendError
from molt_desktop.sync.engine import SyncEngine

SESS = "agents/main/sessions"
A_ID, B_ID, C_ID = "aaaaaaaa11112222", "bbbbbbbb33334444", "cccccccc55556666"
A_DIR, B_DIR = "alpha-aaaaaaaa", "beta-bbbbbbbb"


def line(i: int, size: int = 200) -> bytes:
    """Transcript line `i`: a message with `size` characters of text."""
    return json.dumps({"type": "message", "id": f"{i:08x}", "text": "x" * size}).encode() + b"\n"


def session_file(state: Path, name: str, data: bytes) -> Path:
    """Write `data` as `name` in `state`'s sessions folder (made if missing)."""
    path = state / SESS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file below `folder`: relative POSIX path -> bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make_dirs(base: Path, *names: str) -> list[Path]:
    """New folders `base/name`, one per name, in order."""
    out = [base / n for n in names]
    for p in out:
        p.mkdir()
    return out


def engines(a: Path, b: Path, backend: Backend, backend_b: Backend | None = None) -> tuple[SyncEngine, SyncEngine]:
    """Device "alpha" (A_ID) on state dir `a` and "beta" (B_ID) on `b`, over one backend or one each."""
    return SyncEngine(a, backend, "alpha", A_ID), SyncEngine(b, backend_b or backend, "beta", B_ID)


@asynccontextmanager
async def two_devices(tmp_path: Path, backend_a: Backend, backend_b: Backend
                      ) -> AsyncIterator[tuple[SyncEngine, SyncEngine]]:
    """`engines` on new state dirs tmp_path/a and tmp_path/b, each with its own backend, closed after."""
    a, b = make_dirs(tmp_path, "a", "b")
    try:
        yield engines(a, b, backend_a, backend_b)
    finally:
        await backend_a.close()
        await backend_b.close()


async def until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `predicate` until it returns something truthy, and return that; fail after `timeout` s."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.02)


async def check_create_exclusive(backend: Backend, root: Path) -> None:
    """create_exclusive makes a file only where none is, and fails (not False) where it cannot."""
    await backend.makedirs("dev-1")
    assert await backend.create_exclusive("dev-1/.lock", b"holder A") is True
    assert await backend.create_exclusive("dev-1/.lock", b"holder B") is False
    assert (root / "dev-1/.lock").read_bytes() == b"holder A"
    await backend.remove("dev-1/.lock")
    assert await backend.create_exclusive("dev-1/.lock", b"holder B") is True
    assert (root / "dev-1/.lock").read_bytes() == b"holder B"
    # a failure that is not "exists" is an error, not False
    with pytest.raises(SyncBackendError):
        await backend.create_exclusive("no/such/folder/.lock", b"x")


class Server(Protocol):
    def start(self) -> None: ...
    def kill(self) -> None: ...
    def stop_connections(self) -> None: ...


async def server_killed_mid_upload(server: Server, backend: Backend, remote_root: Path, payload_size: int,
                                   refused: str | None = None) -> None:
    """Kill `server` while `backend` uploads `payload_size` bytes: the upload fails with a connection
    error, the final name keeps the old file, a call while the server is down fails (matching
    `refused` if given), and once the server is back the next upload completes."""
    await backend.makedirs("dev-1")
    await backend.write_new("dev-1/big.jsonl", b"old contents\n")
    payload = b"y" * payload_size
    temp = remote_root / "dev-1/.big.jsonl.tmp"

    upload = asyncio.create_task(backend.write_new("dev-1/.big.jsonl.tmp", payload))
    # Wait until bytes arrive, then freeze the server where it is and kill it: the upload
    # cannot have been acknowledged as complete.
    for _ in range(6000):
        if temp.exists() and temp.stat().st_size > 0 or upload.done():
            break
        await asyncio.sleep(0.005)
    assert not upload.done(), "the upload finished before the server could be stopped"
    server.stop_connections()
    assert temp.stat().st_size < len(payload)
    server.kill()

    with pytest.raises(SyncBackendError) as info:
        await upload
    assert "connection" in str(info.value).lower()
    # the final name still holds the old file, complete
    assert (remote_root / "dev-1/big.jsonl").read_bytes() == b"old contents\n"
    with pytest.raises(SyncBackendError, match=refused):
        await backend.stat("dev-1/big.jsonl")  # server down: an error, not a hang

    # the next run, with the server back, completes (the backend reconnects by itself)
    server.start()
    data = b"new contents\n" * 1000
    await backend.write_new("dev-1/.big.jsonl.tmp", data)
    await backend.rename("dev-1/.big.jsonl.tmp", "dev-1/big.jsonl")
    assert (remote_root / "dev-1/big.jsonl").read_bytes() == data
    assert [f.name for f in await backend.listdir("dev-1")] == ["big.jsonl"]
