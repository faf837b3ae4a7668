"""SyncEngine: push this device's sessions to its own folder on a backend, pull the other devices'.

Layout on the backend: `<deviceName>-<deviceId8>/agents/<agentId>/sessions/...` (the state dir's
layout), `<device>/manifest.json` (the commit point, written last by temp + rename) and
`<device>/.lock` while a push runs. Pulled copies land in `<state>/synced/<device>/...`, each
written atomically, with the manifest they match beside them. The engine neither connects nor
closes the backend, and knows nothing of triggers (watcher, timer, "Sync now") or retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from molt_desktop.clock import now_iso
from molt_desktop.fileio import atomic_write
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger
from molt_desktop.sync.backend import Backend, RemoteFile, SyncBackendError
from molt_desktop.sync.manifest import (
    CHUNK,
    MANIFEST_NAME,
    Action,
    FileEntry,
    Manifest,
    ManifestError,
    append_candidates,
    device_folder,
    plan_push,
    scan_local,
)

log = get_logger("sync")

LOCK_NAME = ".lock"
LOCK_STALE_SECONDS = 600.0
SYNCED_DIR = "synced"
READ_ONLY = 0o400


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


def _tmp_name(path: str) -> str:
    return f"{path}.tmp-{secrets.token_hex(4)}"


def _read_chunk(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(length)


class SyncEngine:
    def __init__(
        self,
        state_dir: Path,
        backend: Backend,
        device_name: str,
        device_id: str,
        lock_stale_seconds: float = LOCK_STALE_SECONDS,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.backend = backend
        self.device_name = device_name
        self.device_id = device_id
        self.folder = device_folder(device_name, device_id)
        self.lock_stale_seconds = lock_stale_seconds

    # ---- push ---------------------------------------------------------------------------------

    async def push(self, confirm_mass_delete: bool = False) -> SyncReport:
        """Ship local changes; raises SyncLocked, SyncNeedsConfirmation or SyncBackendError."""
        report = SyncReport()
        b = _Counting(self.backend, report)
        await b.makedirs(self.folder)
        token = await self._acquire(b)
        try:
            await self._push_locked(b, report, confirm_mass_delete)
        finally:
            await self._release(b, token)
        log.info(
            "push: %d files, %d bytes sent, %d errors", report.files_sent, report.bytes_sent, len(report.errors)
        )
        return report

    async def _push_locked(self, b: _Counting, report: SyncReport, confirm: bool) -> None:
        scan = await asyncio.to_thread(scan_local, self.state_dir)
        manifest = await self._own_manifest(b)
        remote_sizes: dict[str, int | None] = {}
        for rel in append_candidates(scan.files, manifest):
            st = await b.stat(self._remote(rel))
            remote_sizes[rel] = st.size if st is not None else None
        stamp = now_iso().replace(":", "-")
        plan = await asyncio.to_thread(plan_push, self.state_dir, scan.files, manifest, remote_sizes, stamp)
        archives = plan.of("archive")
        if archives and len(archives) * 2 > plan.live_remote and not confirm:
            raise SyncNeedsConfirmation(len(archives), plan.live_remote)
        files = dict(manifest.files)  # a file that fails keeps what the remote really holds
        made: set[str] = set()
        for action in plan.actions:
            if action.kind == "skip":
                continue
            if action.kind == "archive":
                await b.rename(self._remote(action.rel), self._remote(action.dest))
                assert action.entry is not None
                files.pop(action.rel, None)
                files[action.dest] = action.entry
                continue
            parent = self._remote(action.rel).rsplit("/", 1)[0]
            if parent not in made:
                await b.makedirs(parent)
                made.add(parent)
            try:
                if action.kind == "append":
                    files[action.rel] = await self._append(b, action)
                else:
                    files[action.rel] = await self._replace(b, action)
                report.files_sent += 1
            except OSError as exc:  # the local file changed under us; the next run picks it up
                report.errors.append(_("{path}: could not be read: {error}").format(path=action.rel, error=exc))
        await self._write_manifest(b, Manifest({"name": self.device_name, "id": self.device_id}, files))

    async def _own_manifest(self, b: _Counting) -> Manifest:
        path = f"{self.folder}/{MANIFEST_NAME}"
        empty = Manifest({"name": self.device_name, "id": self.device_id})
        if await b.stat(path) is None:
            return empty
        try:
            return Manifest.loads(await b.read(path))
        except ManifestError as exc:
            # Everything is uploaded again by replace; nothing on the server is lost.
            log.warning("own manifest on the server is unreadable, uploading everything again: %s", exc)
            return empty

    async def _append(self, b: _Counting, action: Action) -> FileEntry:
        """Write the local bytes past `offset` in place; the hash goes on from the verified prefix."""
        assert action.entry is not None and action.prefix is not None
        local = self.state_dir / action.rel
        h = action.prefix.copy()
        pos = action.offset
        while pos < action.entry.size:
            chunk = await asyncio.to_thread(_read_chunk, local, pos, min(CHUNK, action.entry.size - pos))
            if not chunk:
                break
            await b.write_at(self._remote(action.rel), pos, chunk)
            h.update(chunk)
            pos += len(chunk)
        return FileEntry(pos, h.hexdigest(), action.entry.mtime)

    async def _replace(self, b: _Counting, action: Action) -> FileEntry:
        """Upload to a temporary name, then rename over the old file: readers never see half of it."""
        assert action.entry is not None
        local = self.state_dir / action.rel
        remote = self._remote(action.rel)
        tmp = _tmp_name(remote)
        h = hashlib.sha256()
        pos = 0
        try:
            while True:
                want = min(CHUNK, action.entry.size - pos)
                chunk = await asyncio.to_thread(_read_chunk, local, pos, want) if want > 0 else b""
                if pos == 0:
                    await b.write_new(tmp, chunk)
                elif chunk:
                    await b.write_at(tmp, pos, chunk)
                h.update(chunk)
                pos += len(chunk)
                if not chunk or pos >= action.entry.size:
                    break
        except OSError:  # a local read failed (SyncBackendError is not an OSError)
            await self._quiet_remove(b, tmp)
            raise
        await b.rename(tmp, remote)
        return FileEntry(pos, h.hexdigest(), action.entry.mtime)

    async def _write_manifest(self, b: _Counting, manifest: Manifest) -> None:
        path = f"{self.folder}/{MANIFEST_NAME}"
        tmp = _tmp_name(path)
        try:
            await b.write_new(tmp, manifest.dumps())
            await b.rename(tmp, path)
        except SyncBackendError:
            await self._quiet_remove(b, tmp)
            raise

    # ---- lock ---------------------------------------------------------------------------------

    async def _acquire(self, b: _Counting) -> str:
        path = f"{self.folder}/{LOCK_NAME}"
        token = secrets.token_hex(8)
        body = {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time(), "token": token}
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        if await b.create_exclusive(path, data):
            return token
        holder = await self._read_lock(b, path)
        since = holder.get("time")
        if not isinstance(since, (int, float)):
            st = await b.stat(path)
            since = st.mtime if st is not None else 0.0
        if time.time() - float(since) < self.lock_stale_seconds:
            raise SyncLocked(holder)
        log.warning("taking over a stale sync lock of %s (pid %s)", holder.get("host"), holder.get("pid"))
        await b.remove(path)
        if await b.create_exclusive(path, data):
            return token
        raise SyncLocked(await self._read_lock(b, path))

    async def _read_lock(self, b: _Counting, path: str) -> dict[str, Any]:
        try:
            raw = json.loads((await b.read(path)).decode("utf-8"))
        except (SyncBackendError, ValueError):
            return {}
        return raw if isinstance(raw, dict) else {}

    async def _release(self, b: _Counting, token: str) -> None:
        path = f"{self.folder}/{LOCK_NAME}"
        try:
            if (await self._read_lock(b, path)).get("token") == token:
                await b.remove(path)
        except SyncBackendError as exc:  # it goes stale and is taken over later
            log.warning("could not release the sync lock: %s", exc)

    async def _quiet_remove(self, b: _Counting, path: str) -> None:
        try:
            await b.remove(path)
        except SyncBackendError:
            pass

    def _remote(self, rel: str) -> str:
        return f"{self.folder}/{rel}"

    # ---- pull ---------------------------------------------------------------------------------

    async def pull(self) -> SyncReport:
        """Bring every other device's files, as its manifest lists them, into `<state>/synced/`."""
        report = SyncReport()
        b = _Counting(self.backend, report)
        for entry in await b.listdir(""):
            if not entry.is_dir or entry.name == self.folder or entry.name.startswith(".") or "/" in entry.name:
                continue
            try:
                await self._pull_device(b, entry.name, report)
            except ManifestError as exc:
                report.errors.append(_("{device}: unreadable manifest: {error}").format(device=entry.name, error=exc))
        log.info(
            "pull: %d files, %d bytes received, %d errors",
            report.files_received,
            report.bytes_received,
            len(report.errors),
        )
        return report

    async def _pull_device(self, b: _Counting, folder: str, report: SyncReport) -> None:
        path = f"{folder}/{MANIFEST_NAME}"
        if await b.stat(path) is None:
            return
        manifest = Manifest.loads(await b.read(path))
        root = self.state_dir / SYNCED_DIR / folder
        record_path = root / MANIFEST_NAME
        try:
            old = await asyncio.to_thread(Manifest.load, record_path)
        except (OSError, ManifestError):
            old = Manifest(manifest.device)
        have: dict[str, FileEntry] = {}
        by_sha = {e.sha256: rel for rel, e in old.files.items()}
        for rel, entry in sorted(manifest.files.items()):
            target = root / rel
            try:
                state = await asyncio.to_thread(_local_state, target, entry, old.files.get(rel))
                if state == "same":
                    have[rel] = entry
                    continue
                twin = by_sha.get(entry.sha256)
                if twin is not None and await asyncio.to_thread(_copy_local, root / twin, target, entry):
                    have[rel] = entry
                    report.files_received += 1
                    continue
                if isinstance(state, int):  # the copy holds a prefix: fetch only the rest
                    tail = await b.read(f"{folder}/{rel}", state, entry.size - state)
                    if await asyncio.to_thread(_extend_local, target, state, tail, entry):
                        have[rel] = entry
                        report.files_received += 1
                        continue
                data = await self._download(b, f"{folder}/{rel}", entry.size)
                if len(data) != entry.size or _sha(data) != entry.sha256:
                    raise _Changed()
                await asyncio.to_thread(atomic_write, target, data, READ_ONLY)
                have[rel] = entry
                report.files_received += 1
            except _Changed:
                # Replaced after its manifest was written; the next manifest describes it.
                report.errors.append(_("{path}: changed on the server during the pull").format(path=f"{folder}/{rel}"))
            except OSError as exc:  # local disk; backend errors (SyncBackendError) end the pull
                report.errors.append(_("{path}: could not be written: {error}").format(path=str(target), error=exc))
            if rel not in have and rel in old.files:
                have[rel] = old.files[rel]
        for rel in old.files.keys() - manifest.files.keys():
            # Archived on the server under a new name (pulled above); this copy is a stale duplicate.
            await asyncio.to_thread(_unlink, root / rel)
        await asyncio.to_thread(Manifest(manifest.device, have).save, record_path)

    async def _download(self, b: _Counting, path: str, size: int) -> bytes:
        parts = []
        pos = 0
        while pos < size:
            chunk = await b.read(path, pos, min(4 * CHUNK, size - pos))
            if not chunk:
                break
            parts.append(chunk)
            pos += len(chunk)
        return b"".join(parts)

    async def sync_now(self, confirm_mass_delete: bool = False) -> SyncReport:
        """One push, then one pull."""
        pushed = await self.push(confirm_mass_delete)
        return pushed.merge(await self.pull())


class _Changed(Exception):
    pass


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _local_state(target: Path, entry: FileEntry, recorded: FileEntry | None) -> str | int:
    """"same" when the copy already matches, the copy's size when it is shorter, else "full"."""
    try:
        size = target.stat().st_size
    except FileNotFoundError:
        return "full"
    if size == entry.size:
        if recorded is not None and recorded.sha256 == entry.sha256:
            return "same"
        return "same" if _sha(target.read_bytes()) == entry.sha256 else "full"
    return size if 0 < size < entry.size else "full"


def _extend_local(target: Path, size: int, tail: bytes, entry: FileEntry) -> bool:
    data = _read_chunk(target, 0, size) + tail
    if len(data) != entry.size or _sha(data) != entry.sha256:
        return False
    atomic_write(target, data, READ_ONLY)
    return True


def _copy_local(source: Path, target: Path, entry: FileEntry) -> bool:
    try:
        data = source.read_bytes()
    except OSError:
        return False
    if len(data) != entry.size or _sha(data) != entry.sha256:
        return False
    atomic_write(target, data, READ_ONLY)
    return True


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
