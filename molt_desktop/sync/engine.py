"""SyncEngine: push this device's sessions to its own folder on a backend, pull the other devices'.

Layout on the backend: `<deviceName>-<deviceId8>/agents/<agentId>/sessions/...` (the state dir's
layout), the folder's index (`manifest.json`, the commit point written last by temp + rename, with
the `index-*.json` base and `journal-*.jsonl` it names: index.py) and `<device>/.lock` while a push
runs. Each `sessions.json` is kept there as a base plus `sessions.json.changes.jsonl` (store_delta.py
says how to restore it). Pulled copies land in `<state>/synced/<device>/...` (pull.py). What lives here: the public
API (SyncEngine, SyncReport, the errors), the order of a push, the lock and the byte counting. The
engine neither connects nor closes the backend, and knows nothing of triggers (watcher, timer,
"Sync now") or retries.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import psutil

from molt_desktop.clock import now_iso
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger
from molt_desktop.sync.backend import Backend, RemoteFile, SyncBackendError
from molt_desktop.sync.index import Index, IndexCache, empty_index, load_index
from molt_desktop.sync.manifest import (
    MANIFEST_NAME,
    Action,
    FileEntry,
    ManifestError,
    append_candidates,
    device_folder,
    is_archived,
    plan_push,
    scan_local,
)
from molt_desktop.sync.pull import pull_device
from molt_desktop.sync.push import Inflight, Pusher, part_name
from molt_desktop.sync.store_delta import PushedStores, StoreShipped, push_store, store_view

log = get_logger("sync")

LOCK_NAME = ".lock"
LOCK_STALE_SECONDS = 600.0
SYNCED_DIR = "synced"
READ_ONLY = 0o400


# A lock left behind by a run of this machine whose process is gone (a crash, a server that died
# mid-push so the release failed) is taken over at once instead of after LOCK_STALE_SECONDS. The
# process start time tells a live holder from a new process that reuses its pid; the tokens this
# process holds tell its own live runs from its own abandoned ones.
_PROCESS_STARTED = round(psutil.Process().create_time(), 2)
_HELD: set[str] = set()


def _holder_gone(holder: dict[str, Any]) -> bool:
    if holder.get("host") != socket.gethostname():
        return False
    pid, started = holder.get("pid"), holder.get("started")
    if not isinstance(pid, int) or not isinstance(started, (int, float)):
        return False
    if pid == os.getpid() and started == _PROCESS_STARTED:
        return holder.get("token") not in _HELD
    try:
        return round(psutil.Process(pid).create_time(), 2) != started
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # cannot tell (access denied): wait for the stale limit
        return False


class SyncNeedsConfirmation(Exception):
    """A push would archive more than half of the remote files; it did nothing and asks first."""

    def __init__(self, archive_count: int, remote_count: int) -> None:
        self.archive_count = archive_count
        self.remote_count = remote_count
        super().__init__(
            _("This sync would archive {count} of the {total} files on the server. Confirm to go on.").format(
                count=archive_count, total=remote_count
            )
        )


class SyncLocked(Exception):
    """Another sync of this device holds its lock."""

    def __init__(self, holder: dict[str, Any]) -> None:
        self.holder = holder
        super().__init__(
            _("Another sync of this device is running (host {host}, process {pid}).").format(
                host=holder.get("host", "?"), pid=holder.get("pid", "?")
            )
        )


@dataclass
class SyncReport:
    files_sent: int = 0
    bytes_sent: int = 0
    files_received: int = 0
    bytes_received: int = 0
    errors: list[str] = field(default_factory=list)

    def merge(self, other: SyncReport) -> SyncReport:
        return SyncReport(
            self.files_sent + other.files_sent,
            self.bytes_sent + other.bytes_sent,
            self.files_received + other.files_received,
            self.bytes_received + other.bytes_received,
            self.errors + other.errors,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "filesSent": self.files_sent,
            "bytesSent": self.bytes_sent,
            "filesReceived": self.files_received,
            "bytesReceived": self.bytes_received,
            "errors": list(self.errors),
        }


class _Counting:
    """The backend, counting every byte written to it and read from it into a report."""

    def __init__(self, backend: Backend, report: SyncReport) -> None:
        self.b = backend
        self.report = report

    async def connect(self) -> None:
        await self.b.connect()

    async def close(self) -> None:
        await self.b.close()

    async def listdir(self, path: str) -> list[RemoteFile]:
        return await self.b.listdir(path)

    async def stat(self, path: str) -> RemoteFile | None:
        return await self.b.stat(path)

    async def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        data = await self.b.read(path, offset, length)
        self.report.bytes_received += len(data)
        return data

    async def write_at(self, path: str, offset: int, data: bytes) -> None:
        await self.b.write_at(path, offset, data)
        self.report.bytes_sent += len(data)

    async def write_new(self, path: str, data: bytes) -> None:
        await self.b.write_new(path, data)
        self.report.bytes_sent += len(data)

    async def rename(self, src: str, dst: str) -> None:
        await self.b.rename(src, dst)

    async def makedirs(self, path: str) -> None:
        await self.b.makedirs(path)

    async def remove(self, path: str) -> None:
        await self.b.remove(path)

    async def create_exclusive(self, path: str, data: bytes) -> bool:
        made = await self.b.create_exclusive(path, data)
        if made:
            self.report.bytes_sent += len(data)
        return made


class SyncEngine:
    """Push and pull for one device; `on_progress(phase, done, total)` follows the files of a run."""

    def __init__(
        self,
        state_dir: Path,
        backend: Backend,
        device_name: str,
        device_id: str,
        lock_stale_seconds: float = LOCK_STALE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.backend = backend
        self.device_name = device_name
        self.device_id = device_id
        self.folder = device_folder(device_name, device_id)
        self.lock_stale_seconds = lock_stale_seconds
        self.clock = clock
        self.on_progress: Callable[[str, int, int], None] | None = None

    @property
    def device(self) -> dict[str, str]:
        return {"name": self.device_name, "id": self.device_id}

    def _progress(self, phase: str, done: int, total: int) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(phase, done, total)
            except Exception:  # a listener's bug must not fail the sync
                log.exception("sync progress listener failed")

    # ---- push ---------------------------------------------------------------------------------

    async def push(self, confirm_mass_delete: bool = False) -> SyncReport:
        """Ship local changes; raises SyncLocked, SyncNeedsConfirmation or SyncBackendError.

        With no local change since the last commit (and that commit still on the server) it reads
        only the small head and writes nothing, not even the lock.
        """
        report = SyncReport()
        b = _Counting(self.backend, report)
        scan = await asyncio.to_thread(scan_local, self.state_dir)
        cache = IndexCache(self.state_dir, self.folder)
        cached = await asyncio.to_thread(cache.load)
        inflight = await asyncio.to_thread(Inflight.load, self.state_dir, self.folder)
        stores = PushedStores(self.state_dir, self.folder)
        if cached is not None and not inflight.pending and await self._unchanged(scan.files, cached, stores):
            path = f"{self.folder}/{MANIFEST_NAME}"
            st = await b.stat(path)
            if st is not None and st.size == len(cached.head_bytes) and await b.read(path) == cached.head_bytes:
                log.info("push: nothing changed")
                return report
        await b.makedirs(self.folder)
        lock = await self._acquire(b)
        try:
            await self._push_locked(b, report, confirm_mass_delete, scan.files, cache, inflight, lock, stores)
        finally:
            await asyncio.shield(self._release(b, lock))
        log.info(
            "push: %d files, %d bytes sent, %d errors", report.files_sent, report.bytes_sent, len(report.errors)
        )
        return report

    async def _push_locked(
        self,
        b: _Counting,
        report: SyncReport,
        confirm: bool,
        local: dict[str, FileEntry],
        cache: IndexCache,
        inflight: Inflight,
        lock: _Lock,
        stores: PushedStores,
    ) -> None:
        try:
            index = await load_index(b, self.folder, cache, self.device)
        except ManifestError as exc:
            # Everything is uploaded again by replace; nothing on the server is lost.
            log.warning("own index on the server is unreadable, uploading everything again: %s", exc)
            index = empty_index(self.device)
        manifest = index.manifest()
        records = await asyncio.to_thread(stores.records, local)
        # sessions.json files go as changes lines (store_delta.py); the plan sees their committed entries.
        local, stored = store_view(local, index.files, records)
        remote_sizes: dict[str, int | None] = {}
        for rel in append_candidates(local, manifest):
            st = await b.stat(self._remote(rel))
            remote_sizes[rel] = st.size if st is not None else None
        stamp = now_iso().replace(":", "-")
        plan = await asyncio.to_thread(plan_push, self.state_dir, local, manifest, remote_sizes, stamp)
        archives = plan.of("archive")
        if archives and len(archives) * 2 > plan.live_remote and not confirm:
            raise SyncNeedsConfirmation(len(archives), plan.live_remote)
        work = [a for a in plan.actions if a.kind != "skip"]
        pusher = Pusher(self.state_dir, self.folder, b, inflight, lambda: self._refresh(b, lock))
        keep = {part_name(self._remote(a.rel), a.entry.sha256) for a in work if a.kind == "replace" and a.entry}
        await pusher.cleanup(index, keep)
        if not work and not stored:
            if inflight.pending:
                await asyncio.to_thread(inflight.clear)
            if index.head_bytes:  # read from the server: the next push need not read it again
                await asyncio.to_thread(_save_quietly, cache, index)
            return
        await pusher.begin(work + [Action("replace", rel) for rel in stored])
        changes: dict[str, FileEntry | None] = {}
        made: set[str] = set()
        total = len(work) + len(stored)
        self._progress("push", 0, total)
        for n, action in enumerate(work, 1):
            await self._refresh(b, lock)
            if action.kind == "archive":
                await self._archive(b, action)
                changes[action.rel] = None
                changes[action.dest] = action.entry
                self._progress("push", n, total)
                continue
            parent = self._remote(action.rel).rsplit("/", 1)[0]
            if parent not in made:
                await b.makedirs(parent)
                made.add(parent)
            try:
                if action.kind == "append":
                    changes[action.rel] = await pusher.append(action)
                else:
                    changes[action.rel] = await pusher.replace(action)
                report.files_sent += 1
            except OSError as exc:  # the local file changed under us; the next run picks it up
                report.errors.append(_("{path}: could not be read: {error}").format(path=action.rel, error=exc))
            self._progress("push", n, total)
        shipped: list[StoreShipped] = []
        for n, rel in enumerate(stored, len(work) + 1):
            parent = self._remote(rel).rsplit("/", 1)[0]
            if parent not in made:
                await b.makedirs(parent)
                made.add(parent)
            try:
                one = await push_store(
                    b, self.folder, self.state_dir, rel, index.files, stores, records.get(rel), part_name,
                    lambda: self._refresh(b, lock),
                )
            except OSError as exc:  # the local file changed under us; the next run picks it up
                report.errors.append(_("{path}: could not be read: {error}").format(path=rel, error=exc))
                continue
            shipped.append(one)
            changes.update(one.entries)
            report.files_sent += 1 if one.entries else 0
            self._progress("push", n, total)
        if changes:
            await pusher.commit(index, changes, self.device, cache)
        await self._after_stores(b, stores, shipped, pusher)
        if pusher.dirty:
            await asyncio.to_thread(inflight.save)
        else:
            await asyncio.to_thread(inflight.clear)

    async def _unchanged(self, local: dict[str, FileEntry], index: Index, stores: PushedStores) -> bool:
        """True when a plan against this committed index would do nothing (no remote call needed)."""
        records = await asyncio.to_thread(stores.records, local)
        view, stored = store_view(local, index.files, records)
        return not stored and _same_files(view, index)

    async def _after_stores(self, b: _Counting, stores: PushedStores, shipped: list[StoreShipped], pusher: Pusher) -> None:
        """After the commit: keep the local copies of what was pushed, drop changes files now unlisted."""
        for one in shipped:
            try:
                await asyncio.to_thread(stores.save, one)
            except OSError as exc:  # only a copy: the next push of this file uploads it whole
                log.warning("could not keep a local copy of the pushed %s: %s", one.rel, exc)
            if one.drop is not None:
                try:
                    await b.remove(one.drop)
                except SyncBackendError as exc:  # unlisted, so unread; the next run's cleanup removes it
                    log.warning("could not remove %s: %s", one.drop, exc)
                    pusher.dirty = True

    async def _archive(self, b: _Counting, action: Action) -> None:
        try:
            await b.rename(self._remote(action.rel), self._remote(action.dest))
        except SyncBackendError:
            # Renamed by a run that stopped before its commit: the archive is already in place.
            assert action.entry is not None
            src, dst = await b.stat(self._remote(action.rel)), await b.stat(self._remote(action.dest))
            if src is not None or dst is None or dst.size != action.entry.size:
                raise

    # ---- lock ---------------------------------------------------------------------------------

    def _lock_body(self, token: str) -> bytes:
        body = {"pid": os.getpid(), "started": _PROCESS_STARTED, "host": socket.gethostname(),
                "time": self.clock(), "token": token}
        return json.dumps(body, separators=(",", ":")).encode("utf-8")

    async def _acquire(self, b: _Counting) -> _Lock:
        path = f"{self.folder}/{LOCK_NAME}"
        lock = _Lock(secrets.token_hex(8), self.clock())
        data = self._lock_body(lock.token)
        if await b.create_exclusive(path, data):
            _HELD.add(lock.token)
            return lock
        holder = await self._read_lock(b, path)
        since = holder.get("time")
        if not isinstance(since, (int, float)):
            st = await b.stat(path)
            since = st.mtime if st is not None else 0.0
        if self.clock() - float(since) < self.lock_stale_seconds and not _holder_gone(holder):
            raise SyncLocked(holder)
        log.warning("taking over a stale sync lock of %s (pid %s)", holder.get("host"), holder.get("pid"))
        await b.remove(path)
        if await b.create_exclusive(path, data):
            _HELD.add(lock.token)
            return lock
        raise SyncLocked(await self._read_lock(b, path))

    async def _refresh(self, b: _Counting, lock: _Lock) -> None:
        """Renew the lock's time when a third of the stale limit has passed, so a long push keeps it.

        A lock that is no longer ours (taken over as stale) stops this push before its commit.
        """
        now = self.clock()
        if now - lock.renewed < self.lock_stale_seconds / 3:
            return
        path = f"{self.folder}/{LOCK_NAME}"
        holder = await self._read_lock(b, path)
        if holder.get("token") != lock.token:
            lock.lost = True
            raise SyncLocked(holder)
        await b.write_new(path, self._lock_body(lock.token))
        lock.renewed = now

    async def _read_lock(self, b: _Counting, path: str) -> dict[str, Any]:
        try:
            raw = json.loads((await b.read(path)).decode("utf-8"))
        except (SyncBackendError, ValueError):
            return {}
        return raw if isinstance(raw, dict) else {}

    async def _release(self, b: _Counting, lock: _Lock) -> None:
        _HELD.discard(lock.token)
        if lock.lost:
            return
        path = f"{self.folder}/{LOCK_NAME}"
        try:
            if (await self._read_lock(b, path)).get("token") == lock.token:
                await b.remove(path)
        except SyncBackendError as exc:  # it goes stale and is taken over later
            log.warning("could not release the sync lock: %s", exc)

    def _remote(self, rel: str) -> str:
        return f"{self.folder}/{rel}"

    # ---- pull ---------------------------------------------------------------------------------

    async def pull(self) -> SyncReport:
        """Bring every other device's files, as its committed index lists them, into `<state>/synced/`."""
        report = SyncReport()
        b = _Counting(self.backend, report)
        found: list[tuple[str, Index, IndexCache]] = []
        for entry in await b.listdir(""):
            if not entry.is_dir or entry.name == self.folder or entry.name.startswith(".") or "/" in entry.name:
                continue
            cache = IndexCache(self.state_dir, entry.name)
            try:
                index = await load_index(b, entry.name, cache, {})
            except ManifestError as exc:
                report.errors.append(_("{device}: unreadable manifest: {error}").format(device=entry.name, error=exc))
                continue
            if index.head_bytes:
                found.append((entry.name, index, cache))
        total = sum(len(index.files) for _f, index, _c in found)
        done = 0

        def step() -> None:
            nonlocal done
            done += 1
            self._progress("pull", done, total)

        self._progress("pull", 0, total)
        for folder, index, cache in found:
            mirror = self.state_dir / "sync" / "pulled" / folder
            result = await pull_device(b, self.state_dir / SYNCED_DIR / folder, folder, index, step, mirror)
            report.files_received += result.files
            report.errors.extend(result.errors)
            await asyncio.to_thread(_save_quietly, cache, index)
        log.info(
            "pull: %d files, %d bytes received, %d errors",
            report.files_received,
            report.bytes_received,
            len(report.errors),
        )
        return report

    async def sync_now(self, confirm_mass_delete: bool = False) -> SyncReport:
        """One push, then one pull."""
        pushed = await self.push(confirm_mass_delete)
        return pushed.merge(await self.pull())


@dataclass
class _Lock:
    token: str
    renewed: float
    lost: bool = False


def _same_files(local: dict[str, FileEntry], index: Index) -> bool:
    for rel, entry in local.items():
        old = index.files.get(rel)
        if old is None or old.sha256 != entry.sha256 or old.size != entry.size:
            return False
    return all(rel in local or is_archived(rel) for rel in index.files)


def _save_quietly(cache: IndexCache, index: Index) -> None:
    try:
        cache.save(index)
    except OSError as exc:  # only a copy: the next run reads the index from the server again
        log.warning("could not keep a local copy of the sync index in %s: %s", cache.dir, exc)
