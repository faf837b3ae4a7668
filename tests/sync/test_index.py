"""The small remote index (head + base + journal) over LocalFolderBackend: bytes per push, crash at
every step, resume of a replaced file, lock refresh and release, compaction, old heads, progress."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.sync import index as index_mod
from molt_desktop.sync.backend import SyncBackendError
from molt_desktop.sync.engine import SyncEngine, SyncLocked
from molt_desktop.sync.index import Head, load_index
from molt_desktop.sync.local import LocalFolderBackend
from molt_desktop.sync.manifest import FileEntry, Manifest, ManifestError
from molt_desktop.sync.push import is_temp_name
from tests.sync.helpers import A_DIR, A_ID, B_ID, C_ID, SESS, engines, line, make_dirs, session_file


def _synced(state: Path, folder: str = A_DIR) -> dict[str, bytes]:
    root = state / "synced" / folder
    if not (root / SESS).is_dir():
        return {}
    return {f"{SESS}/{p.name}": p.read_bytes() for p in (root / SESS).iterdir()}


def _local(state: Path) -> dict[str, bytes]:
    return {f"{SESS}/{p.name}": p.read_bytes() for p in (state / SESS).iterdir()}


def _leftovers(share: Path) -> list[str]:
    """Temp files anywhere, and index files the committed head does not name."""
    out = [str(p) for p in share.rglob("*") if is_temp_name(p.name) or p.name == ".lock"]
    head_path = share / A_DIR / "manifest.json"
    head = Head.loads(head_path.read_bytes())
    named = {r.name for r in (head.base, head.journal) if r is not None}
    out += [p.name for p in (share / A_DIR).iterdir() if index_mod.is_index_file(p.name) and p.name not in named]
    return out


async def test_one_message_with_1000_sessions_costs_a_few_kb(tmp_path: Path) -> None:
    share, a, b = make_dirs(tmp_path, "share", "a", "b")
    backend = LocalFolderBackend(share)
    ea, eb = engines(a, b, backend)
    for i in range(1000):
        session_file(a, f"s{i:04d}.jsonl", line(i, 600))
    session_file(a, "sessions.json", b"{}")
    first = await ea.push()
    assert first.files_sent == 1001 and not first.errors
    assert (await eb.pull()).files_received == 1001

    with open(a / SESS / "s0500.jsonl", "ab") as fh:
        fh.write(line(1, 400))
    push = await ea.push()
    cost = push.bytes_sent + push.bytes_received
    print(f"one message, 1000 sessions: push sent {push.bytes_sent} B, received {push.bytes_received} B")
    assert push.files_sent == 1 and not push.errors
    assert cost < 8_000, push
    pull = await eb.pull()
    print(f"the other device's pull: received {pull.bytes_received} B")
    assert pull.files_received == 1 and pull.bytes_received < 8_000, pull
    assert _synced(b) == _local(a)

    idle = await ea.push()
    print(f"no-change push: sent {idle.bytes_sent} B, received {idle.bytes_received} B")
    assert idle.bytes_sent == 0 and idle.files_sent == 0 and idle.bytes_received < 1_000
    idle_pull = await eb.pull()
    assert idle_pull.files_received == 0 and idle_pull.bytes_received < 1_000
    assert not _leftovers(share)
    # The head stays small however many files the index lists.
    assert (share / A_DIR / "manifest.json").stat().st_size < 600


class Crashing(LocalFolderBackend):
    """Dies at the `crash_at`-th change it is asked for: that one and every call after it fail."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.crash_at: int | None = None
        self.changes = 0
        self.dead = False

    def _step(self) -> None:
        if self.dead:
            raise SyncBackendError("connection lost")
        self.changes += 1
        if self.crash_at is not None and self.changes >= self.crash_at:
            self.dead = True
            raise SyncBackendError("connection lost")

    async def listdir(self, path: str) -> Any:
        if self.dead:
            raise SyncBackendError("connection lost")
        return await super().listdir(path)

    async def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        if self.dead:
            raise SyncBackendError("connection lost")
        return await super().read(path, offset, length)

    async def write_at(self, path: str, offset: int, data: bytes) -> None:
        self._step()
        await super().write_at(path, offset, data)

    async def write_new(self, path: str, data: bytes) -> None:
        self._step()
        await super().write_new(path, data)

    async def rename(self, src: str, dst: str) -> None:
        self._step()
        await super().rename(src, dst)

    async def remove(self, path: str) -> None:
        self._step()
        await super().remove(path)

    async def create_exclusive(self, path: str, data: bytes) -> bool:
        self._step()
        return await super().create_exclusive(path, data)


def _first_state(a: Path) -> None:
    session_file(a, "grow.jsonl", line(1) + line(2))
    session_file(a, "rewrite.jsonl", line(3))
    session_file(a, "gone.jsonl", line(4))
    session_file(a, "sessions.json", b'{"k":1}')


def _second_state(a: Path) -> None:
    with open(a / SESS / "grow.jsonl", "ab") as fh:
        fh.write(line(5))
    (a / SESS / "rewrite.jsonl").write_bytes(line(6) + line(7))
    session_file(a, "new.jsonl", line(8))
    (a / SESS / "gone.jsonl").rename(a / SESS / "gone.jsonl.deleted.2026-01-01T00-00-00.000Z")
    (a / SESS / "sessions.json").write_bytes(b'{"k":2}')


@pytest.mark.parametrize("compact", [False, True], ids=["journal", "compaction"])
async def test_a_crash_at_every_step_keeps_the_last_commit_and_the_next_run_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compact: bool
) -> None:
    if compact:
        monkeypatch.setattr(index_mod, "JOURNAL_MIN", 0)
        monkeypatch.setattr(index_mod, "JOURNAL_SHARE", 0.0)
    step = 1
    while True:
        (tmp_path / f"run{step}").mkdir()
        share, a, b, c = make_dirs(tmp_path / f"run{step}", "share", "a", "b", "c")
        backend = Crashing(share)
        _first_state(a)
        await SyncEngine(a, backend, "alpha", A_ID).push()
        await SyncEngine(b, backend, "beta", B_ID).pull()
        committed = _local(a)
        _second_state(a)
        backend.changes, backend.crash_at = 0, step
        try:
            await SyncEngine(a, backend, "alpha", A_ID).push()
            finished = True
        except SyncBackendError:
            finished = False
        fired = backend.dead  # at the last step the push finished, only its lock's removal failed
        backend.crash_at, backend.dead = None, False
        if not finished:
            # Readers see the last commit, never a torn file: B keeps its copies, C gets what is intact.
            pulled = await SyncEngine(b, backend, "beta", B_ID).pull()
            assert _synced(b) == committed, (step, pulled.errors)
            fresh = await SyncEngine(c, backend, "gamma", C_ID).pull()
            got = _synced(c)
            assert all(committed[rel] == data for rel, data in got.items()), step
            assert len(got) + len(fresh.errors) == len(committed), (step, fresh.errors)
        # The next run (the crashed one's lock is stale by then) completes.
        report = await SyncEngine(a, backend, "alpha", A_ID, lock_stale_seconds=0).push()
        assert not report.errors
        left = _leftovers(share)
        assert not left or (finished and fired and [Path(p).name for p in left] == [".lock"]), (step, left)
        for state, dev, dev_id in ((b, "beta", B_ID), (c, "gamma", C_ID)):
            assert not (await SyncEngine(state, backend, dev, dev_id).pull()).errors
            assert _synced(state) == _local(a), step
        if finished and not fired:
            break
        step += 1
    assert step > 8  # every write of the push was a crash point once


async def test_a_replaced_large_file_resumes_its_upload(tmp_path: Path) -> None:
    share, a = make_dirs(tmp_path, "share", "a")

    class Dropping(LocalFolderBackend):
        drop_at: int | None = None

        async def write_at(self, path: str, offset: int, data: bytes) -> None:
            if self.drop_at is not None and ".part-" in path and offset >= self.drop_at:
                self.drop_at = None
                raise SyncBackendError("connection lost")
            await super().write_at(path, offset, data)

    backend = Dropping(share)
    engine = SyncEngine(a, backend, "alpha", A_ID)
    path = session_file(a, "big.jsonl", b"".join(line(i, 1000) for i in range(5 * 1024)))
    await engine.push()
    path.write_bytes(b"".join(line(i + 7, 1000) for i in range(5 * 1024)))  # rewritten (compaction)
    size = path.stat().st_size
    backend.drop_at = 3 << 20
    with pytest.raises(SyncBackendError):
        await engine.push()
    parts = [p for p in (share / A_DIR / SESS).iterdir() if ".part-" in p.name]
    assert len(parts) == 1 and parts[0].stat().st_size == 3 << 20
    report = await engine.push()
    print(f"resumed: {report.bytes_sent} of {size} bytes sent again")
    assert report.files_sent == 1 and report.bytes_sent < size - (3 << 20) + 8_000, report
    assert (share / A_DIR / SESS / "big.jsonl").read_bytes() == path.read_bytes()
    assert not _leftovers(share)
    # A part whose bytes do not match the local file is not resumed: the upload starts over.
    path.write_bytes(b"".join(line(i + 9, 1000) for i in range(5 * 1024)))
    backend.drop_at = 2 << 20
    with pytest.raises(SyncBackendError):
        await engine.push()
    (part,) = [p for p in (share / A_DIR / SESS).iterdir() if ".part-" in p.name]
    with open(part, "r+b") as fh:
        fh.seek((2 << 20) - 10)
        fh.write(b"#" * 10)
    again = await engine.push()
    assert again.bytes_sent >= path.stat().st_size
    assert (share / A_DIR / SESS / "big.jsonl").read_bytes() == path.read_bytes()
    assert not _leftovers(share)


async def test_a_long_push_refreshes_its_lock_and_a_second_one_stays_out(tmp_path: Path) -> None:
    share, a = make_dirs(tmp_path, "share", "a")
    now = [1_000_000.0]

    class Slow(LocalFolderBackend):
        """Each data chunk written takes a (simulated) 200 s; one pauses on a gate."""

        gate = asyncio.Event()
        paused = asyncio.Event()

        async def write_at(self, path: str, offset: int, data: bytes) -> None:
            now[0] += 200
            if offset >= 3 << 20 and not self.gate.is_set():
                self.paused.set()
                await self.gate.wait()
            await super().write_at(path, offset, data)

    backend = Slow(share)
    clock = lambda: now[0]  # noqa: E731
    session_file(a, "big.jsonl", b"".join(line(i, 1000) for i in range(5 * 1024)))
    first = asyncio.create_task(SyncEngine(a, backend, "alpha", A_ID, clock=clock).push())
    await backend.paused.wait()
    # 600 s of uploads so far, as long as the stale limit: without a refresh it would be taken over.
    assert now[0] - 1_000_000.0 >= 600
    lock = json.loads((share / A_DIR / ".lock").read_text())
    assert lock["time"] > 1_000_000.0
    with pytest.raises(SyncLocked):
        await SyncEngine(a, backend, "alpha", A_ID, clock=clock).push()
    backend.gate.set()
    assert (await first).files_sent == 1
    assert not (share / A_DIR / ".lock").exists()


async def test_the_lock_is_released_when_a_push_is_cancelled(tmp_path: Path) -> None:
    share, a = make_dirs(tmp_path, "share", "a")
    entered, gate = asyncio.Event(), asyncio.Event()

    class Paused(LocalFolderBackend):
        async def write_new(self, path: str, data: bytes) -> None:
            if ".part-" in path:
                entered.set()
                await gate.wait()
            await super().write_new(path, data)

    session_file(a, "s.jsonl", line(1))
    task = asyncio.create_task(SyncEngine(a, Paused(share), "alpha", A_ID).push())
    await entered.wait()
    assert (share / A_DIR / ".lock").exists()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not (share / A_DIR / ".lock").exists()
    gate.set()
    assert (await SyncEngine(a, LocalFolderBackend(share), "alpha", A_ID).push()).files_sent == 1


async def test_compaction_writes_a_new_base_and_removes_the_old_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    share, a, b = make_dirs(tmp_path, "share", "a", "b")
    backend = LocalFolderBackend(share)
    ea, eb = engines(a, b, backend)
    monkeypatch.setattr(index_mod, "JOURNAL_MIN", 600)
    monkeypatch.setattr(index_mod, "JOURNAL_SHARE", 0.0)
    path = session_file(a, "s.jsonl", line(0))
    heads = []
    for i in range(1, 9):
        with open(path, "ab") as fh:
            fh.write(line(i))
        await ea.push()
        head = Head.loads((share / A_DIR / "manifest.json").read_bytes())
        heads.append(head)
        assert not _leftovers(share)
        await eb.pull()
        assert _synced(b) == _local(a)
    bases = {h.base.name for h in heads if h.base}
    assert len(bases) > 1 and any(h.journal is None for h in heads[1:]) and any(h.journal for h in heads)
    # The local copy holds only what the committed head names.
    copy = a / "sync" / "remote" / A_DIR
    named = {r.name for r in (heads[-1].base, heads[-1].journal) if r is not None}
    assert {p.name for p in copy.iterdir()} == {"manifest.json"} | named


async def test_a_version_1_manifest_is_read_and_replaced_by_an_index(tmp_path: Path) -> None:
    share, a, b = make_dirs(tmp_path, "share", "a", "b")
    data = line(1)
    session_file(a, "s.jsonl", data)
    (share / A_DIR / SESS).mkdir(parents=True)
    (share / A_DIR / SESS / "s.jsonl").write_bytes(data)
    old = Manifest({"name": "alpha", "id": A_ID}, {f"{SESS}/s.jsonl": FileEntry(len(data), hashlib.sha256(data).hexdigest(), 1.0)})
    (share / A_DIR / "manifest.json").write_bytes(old.dumps())
    backend = LocalFolderBackend(share)
    assert (await SyncEngine(b, backend, "beta", B_ID).pull()).files_received == 1
    ea = SyncEngine(a, backend, "alpha", A_ID)
    assert (await ea.push()).files_sent == 0  # already there: nothing uploaded again
    with open(a / SESS / "s.jsonl", "ab") as fh:
        fh.write(line(2))
    assert (await ea.push()).files_sent == 1
    assert Head.loads((share / A_DIR / "manifest.json").read_bytes()).base is not None
    await SyncEngine(b, backend, "beta", B_ID).pull()
    assert _synced(b) == _local(a)


async def test_progress_is_reported(tmp_path: Path) -> None:
    share, a, b = make_dirs(tmp_path, "share", "a", "b")
    backend = LocalFolderBackend(share)
    for i in range(3):
        session_file(a, f"s{i}.jsonl", line(i))
    seen: list[tuple[str, int, int]] = []
    ea, eb = engines(a, b, backend)
    ea.on_progress = eb.on_progress = lambda phase, done, total: seen.append((phase, done, total))
    await ea.push()
    await eb.pull()
    assert seen[0] == ("push", 0, 3) and ("push", 3, 3) in seen
    assert ("pull", 0, 3) in seen and seen[-1] == ("pull", 3, 3)


async def test_a_tampered_journal_is_refused_by_readers(tmp_path: Path) -> None:
    share, a, b = make_dirs(tmp_path, "share", "a", "b")
    backend = LocalFolderBackend(share)
    path = session_file(a, "s.jsonl", line(1))
    ea = SyncEngine(a, backend, "alpha", A_ID)
    await ea.push()
    with open(path, "ab") as fh:
        fh.write(line(2))
    await ea.push()
    head = Head.loads((share / A_DIR / "manifest.json").read_bytes())
    assert head.journal is not None
    journal = share / A_DIR / head.journal.name
    journal.write_bytes(journal.read_bytes().replace(b'"s":', b'"s":1'))
    with pytest.raises(ManifestError):
        await load_index(backend, A_DIR, None, {})
    report = await SyncEngine(b, backend, "beta", B_ID).pull()
    assert report.errors and not _synced(b)
