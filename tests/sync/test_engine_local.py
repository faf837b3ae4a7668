"""SyncEngine over LocalFolderBackend: two state dirs as two devices sharing one backend folder."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from molt_desktop.sync.backend import SyncBackendError
from molt_desktop.sync.engine import SyncEngine, SyncLocked, SyncNeedsConfirmation
from molt_desktop.sync.index import load_index
from molt_desktop.sync.local import LocalFolderBackend
from molt_desktop.sync.manifest import Manifest
from molt_desktop.sync.push import is_temp_name
from tests.sync.helpers import A_DIR, A_ID, B_DIR, SESS, engines, line, session_file

MANIFEST = "manifest.json"


class Flaky(LocalFolderBackend):
    """Fails write_new once for a path containing `fail_on`; can pause writes on an event."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.fail_on: str | None = None
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def write_new(self, path: str, data: bytes) -> None:
        if self.fail_on and self.fail_on in path:
            self.fail_on = None
            raise SyncBackendError(f"connection lost writing {path}")
        if self.gate is not None and ".part-" in path:  # a data upload
            self.entered.set()
            await self.gate.wait()
        await super().write_new(path, data)


Env = tuple[Path, Path, Path, Flaky]


@pytest.fixture
def env(tmp_path: Path) -> Env:
    root, a, b = tmp_path / "share", tmp_path / "a", tmp_path / "b"
    for p in (root, a, b):
        p.mkdir()
    return root, a, b, Flaky(root)


def _engines(env: Env) -> tuple[SyncEngine, SyncEngine]:
    _root, a, b, backend = env
    return engines(a, b, backend)


async def _remote_manifest(root: Path, folder: str = A_DIR) -> Manifest:
    """The committed file list, read the way another device reads it (no local copy)."""
    return (await load_index(LocalFolderBackend(root), folder, None, {})).manifest()


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if is_temp_name(p.name)]


async def test_first_push_of_many_sessions_and_pull_by_the_other_device(env: Env) -> None:
    root, a, b, _backend = env
    ea, eb = _engines(env)
    for i in range(60):
        session_file(a, f"s{i:03d}.jsonl", b"".join(line(j) for j in range(i % 7 + 1)))
    session_file(a, "sessions.json", b'{"agent:main:main":{"sessionId":"s000"}}')
    report = await ea.push()
    assert report.files_sent == 61 and not report.errors
    data_bytes = sum(p.stat().st_size for p in (a / SESS).iterdir())
    assert report.bytes_sent > data_bytes
    manifest = await _remote_manifest(root)
    assert len(manifest.files) == 61 and manifest.device == {"name": "alpha", "id": A_ID}
    for rel in manifest.files:
        assert (root / A_DIR / rel).read_bytes() == (a / rel).read_bytes()
    assert not (root / A_DIR / ".lock").exists()
    assert not _temps(root / A_DIR / SESS) and not _temps(root / A_DIR)
    # A second push of nothing new writes nothing, not even the lock.
    again = await ea.push()
    assert again.files_sent == 0 and again.bytes_sent == 0
    pulled = await eb.sync_now()
    assert pulled.files_received == 61 and not pulled.errors
    for rel in manifest.files:
        copy = b / "synced" / A_DIR / rel
        assert copy.read_bytes() == (a / rel).read_bytes()
        if os.name == "posix":
            assert copy.stat().st_mode & 0o222 == 0
    assert (await eb.pull()).files_received == 0
    # Each device writes only its own folder.
    assert sorted(p.name for p in root.iterdir()) == [A_DIR, B_DIR]


async def test_append_is_shipped_as_a_delta(env: Env) -> None:
    root, a, b, _backend = env
    ea, eb = _engines(env)
    body = b"".join(line(i, 1000) for i in range(5 * 1024))
    assert len(body) > 5_000_000
    path = session_file(a, "big.jsonl", body)
    session_file(a, "sessions.json", b"{}")
    await ea.push()
    await eb.pull()
    with open(path, "ab") as fh:
        fh.write(line(99999, 400))
    report = await ea.push()
    assert report.files_sent == 1 and report.bytes_sent < 20_000, report
    assert (root / A_DIR / SESS / "big.jsonl").read_bytes() == path.read_bytes()
    pulled = await eb.pull()
    assert pulled.files_received == 1 and pulled.bytes_received < 20_000, pulled
    assert (b / "synced" / A_DIR / SESS / "big.jsonl").read_bytes() == path.read_bytes()


async def test_rewritten_transcript_is_replaced_by_temp_and_rename(env: Env) -> None:
    root, a, _b, _backend = env
    ea, _eb = _engines(env)
    path = session_file(a, "s.jsonl", line(1) + line(2))
    await ea.push()
    remote = root / A_DIR / SESS / "s.jsonl"
    inode = remote.stat().st_ino
    path.write_bytes(line(3) + line(4) + line(5))  # compaction/reset: not a prefix of the old one
    report = await ea.push()
    assert report.files_sent == 1
    assert remote.read_bytes() == path.read_bytes()
    if os.name == "posix":
        assert remote.stat().st_ino != inode  # a new file renamed over, not written in place
    assert (await _remote_manifest(root)).files[f"{SESS}/s.jsonl"].size == path.stat().st_size
    assert not _temps(remote.parent)


async def test_deleted_session_is_archived_and_still_readable_elsewhere(env: Env) -> None:
    root, a, b, _backend = env
    ea, eb = _engines(env)
    keep = [session_file(a, f"k{i}.jsonl", line(i)) for i in range(3)]
    gone = session_file(a, "gone.jsonl", line(7) + line(8))
    content = gone.read_bytes()
    await ea.push()
    await eb.pull()
    # Deleted the way the session store does it: renamed to `.deleted.<time>`.
    archived_name = "gone.jsonl.deleted.2026-01-01T00-00-00.000Z"
    gone.rename(gone.with_name(archived_name))
    report = await ea.push()
    assert report.bytes_sent < 2_000  # a rename, not a second upload
    assert not (root / A_DIR / SESS / "gone.jsonl").exists()
    assert (root / A_DIR / SESS / archived_name).read_bytes() == content
    # Gone locally for good: the archive stays on the server.
    (a / SESS / archived_name).unlink()
    await ea.push()
    assert (root / A_DIR / SESS / archived_name).read_bytes() == content
    assert f"{SESS}/{archived_name}" in (await _remote_manifest(root)).files
    await eb.pull()
    assert (b / "synced" / A_DIR / SESS / archived_name).read_bytes() == content
    assert not (b / "synced" / A_DIR / SESS / "gone.jsonl").exists()
    assert len(keep) == 3


async def test_crash_before_the_manifest_keeps_the_old_one_and_the_next_run_completes(env: Env) -> None:
    root, a, b, backend = env
    ea, eb = _engines(env)
    path = session_file(a, "s.jsonl", line(1))
    session_file(a, "t.jsonl", line(2))
    await ea.push()
    before = (root / A_DIR / MANIFEST).read_bytes()
    with open(path, "ab") as fh:
        fh.write(line(3))
    session_file(a, "new.jsonl", line(4))
    backend.fail_on = MANIFEST
    with pytest.raises(SyncBackendError):
        await ea.push()
    assert (root / A_DIR / MANIFEST).read_bytes() == before
    assert not (root / A_DIR / ".lock").exists()
    assert not _temps(root / A_DIR)
    # A reader trusts only the old manifest: the appended bytes and the new file are not seen.
    await eb.pull()
    assert (b / "synced" / A_DIR / SESS / "s.jsonl").read_bytes() == line(1)
    assert not (b / "synced" / A_DIR / SESS / "new.jsonl").exists()
    report = await ea.push()
    assert not report.errors
    files = (await _remote_manifest(root)).files
    assert files[f"{SESS}/s.jsonl"].size == path.stat().st_size and f"{SESS}/new.jsonl" in files
    assert (root / A_DIR / SESS / "s.jsonl").read_bytes() == path.read_bytes()
    await eb.pull()
    assert (b / "synced" / A_DIR / SESS / "s.jsonl").read_bytes() == path.read_bytes()


async def test_lock_refuses_a_second_sync_of_the_same_device(env: Env) -> None:
    root, a, _b, backend = env
    ea, _eb = _engines(env)
    other = SyncEngine(a, backend, "alpha", A_ID)
    session_file(a, "s.jsonl", line(1))
    backend.gate = asyncio.Event()
    first = asyncio.create_task(ea.push())
    await backend.entered.wait()  # the first push holds the lock, paused mid-upload
    with pytest.raises(SyncLocked):
        await other.push()
    backend.gate.set()
    assert (await first).files_sent == 1
    backend.gate = None
    assert not (root / A_DIR / ".lock").exists()
    assert (await other.push()).files_sent == 0


async def test_a_stale_lock_is_taken_over(env: Env) -> None:
    root, a, _b, _backend = env
    ea, _eb = _engines(env)
    session_file(a, "s.jsonl", line(1))
    (root / A_DIR).mkdir()
    lock = root / A_DIR / ".lock"
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere", "time": time.time() - 3600, "token": "x"}))
    assert (await ea.push()).files_sent == 1
    assert not lock.exists()


def _lock_of(proc: psutil.Process, token: str = "x") -> str:
    return json.dumps({"pid": proc.pid, "started": round(proc.create_time(), 2), "host": socket.gethostname(),
                       "time": time.time(), "token": token})


async def test_a_fresh_lock_of_a_process_that_is_gone_is_taken_over_at_once(env: Env) -> None:
    # A push whose server died mid-upload could not release its lock; the next run on this
    # machine must not wait for the lock to go stale.
    root, a, _b, _backend = env
    ea, _eb = _engines(env)
    session_file(a, "s.jsonl", line(1))
    (root / A_DIR).mkdir()
    lock = root / A_DIR / ".lock"
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    gone = psutil.Process(child.pid)
    record = _lock_of(gone)
    child.wait()
    lock.write_text(record)
    assert (await ea.push()).files_sent == 1
    assert not lock.exists()
    # This process's own abandoned lock (a token it no longer holds) is taken over too.
    lock.write_text(_lock_of(psutil.Process(), token="abandoned"))
    session_file(a, "t.jsonl", line(2))
    assert (await ea.push()).files_sent == 1
    assert not lock.exists()


async def test_a_fresh_lock_of_a_live_process_on_this_machine_is_respected(env: Env) -> None:
    root, a, _b, _backend = env
    ea, _eb = _engines(env)
    session_file(a, "s.jsonl", line(1))
    (root / A_DIR).mkdir()
    lock = root / A_DIR / ".lock"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(_lock_of(psutil.Process(child.pid)))
        with pytest.raises(SyncLocked):
            await ea.push()
        assert lock.exists()
    finally:
        child.kill()
        child.wait()


async def test_mass_delete_needs_confirmation(env: Env) -> None:
    root, a, _b, _backend = env
    ea, _eb = _engines(env)
    paths = [session_file(a, f"s{i}.jsonl", line(i)) for i in range(6)]
    await ea.push()
    before = (root / A_DIR / MANIFEST).read_bytes()
    for p in paths[:4]:
        p.unlink()
    with pytest.raises(SyncNeedsConfirmation) as info:
        await ea.push()
    assert (info.value.archive_count, info.value.remote_count) == (4, 6)
    assert (root / A_DIR / MANIFEST).read_bytes() == before
    assert all((root / A_DIR / SESS / f"s{i}.jsonl").exists() for i in range(6))
    assert not (root / A_DIR / ".lock").exists()
    await ea.push(confirm_mass_delete=True)
    files = (await _remote_manifest(root)).files
    assert sum(".deleted." in rel for rel in files) == 4
    assert all((root / A_DIR / rel).exists() for rel in files)


async def test_torn_local_index_is_rebuilt_and_push_still_right(env: Env) -> None:
    root, a, _b, _backend = env
    ea, _eb = _engines(env)
    path = session_file(a, "s.jsonl", line(1))
    await ea.push()
    index = a / "sync" / "local-index.json"
    index.write_bytes(index.read_bytes()[:7])
    with open(path, "ab") as fh:
        fh.write(line(2))
    report = await ea.push()
    assert report.files_sent == 1 and not report.errors
    assert json.loads(index.read_text())["files"]
    assert (root / A_DIR / SESS / "s.jsonl").read_bytes() == path.read_bytes()
