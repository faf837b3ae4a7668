"""The steps of a push under the lock: uploads (append, resumable replace), the index commit, cleanup.

What lives here: shipping one planned action to the backend, the record of a push in flight
(`<state>/sync/inflight.json`: the remote folders it writes temp files in and how far each large
replace got, so a crashed run's leftovers, and changes files of sessions.json the index does not
list, are removed and its uploads resumed), and the commit of
the changed entries to the remote index (index.py). Deciding what to send lives in manifest.py
(plan_push); the lock, the order of the steps and the public API live in engine.py.

Temp names are per content, `.<name>.part-<sha8>` beside the file, so a run that stopped mid-upload
is resumed by the next one for the same content (the bytes it recorded as written are checked
against the local file before it goes on).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping

from molt_desktop.fileio import atomic_write
from molt_desktop.logs import get_logger
from molt_desktop.sync.backend import Backend, SyncBackendError
from molt_desktop.sync.index import (
    Head,
    Index,
    IndexCache,
    Ref,
    base_name,
    is_index_file,
    journal_lines,
    new_journal_name,
    sha,
)
from molt_desktop.sync.manifest import (
    CHUNK,
    MANIFEST_NAME,
    Action,
    FileEntry,
    Manifest,
    is_changes,
    prefix_hasher,
)

log = get_logger("sync")

HEAD_TMP = ".manifest.json.tmp"
# Bytes read back from a part file before resuming it: a cheap check that it holds our bytes.
RESUME_CHECK = 4096
_TEMP_NAME = re.compile(r"^\..+\.part-[0-9a-f]{8}$|^.+\.tmp-[0-9a-f]{8}$")


def part_name(remote: str, sha256: str) -> str:
    parent, _, name = remote.rpartition("/")
    return f"{parent}/.{name}.part-{sha256[:8]}"


def is_temp_name(name: str) -> bool:
    return bool(_TEMP_NAME.match(name)) or name == HEAD_TMP


def read_chunk(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(length)


@dataclass
class Inflight:
    """What a push in flight may have left on the backend; gone once a push ends cleanly."""

    path: Path
    folder: str
    dirs: set[str] = field(default_factory=set)
    parts: dict[str, list[Any]] = field(default_factory=dict)  # remote part -> [sha256, bytes written]

    @classmethod
    def load(cls, state_dir: Path, folder: str) -> Inflight:
        path = Path(state_dir) / "sync" / "inflight.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(raw, dict) and raw.get("folder") == folder:
                parts = {str(k): list(v) for k, v in (raw.get("parts") or {}).items() if isinstance(v, list) and len(v) == 2}
                return cls(path, folder, {str(d) for d in raw.get("dirs") or []}, parts)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("sync in-flight record unreadable, ignoring it: %s", exc)
        return cls(path, folder)

    @property
    def pending(self) -> bool:
        return bool(self.dirs)

    def save(self) -> None:
        body = {"folder": self.folder, "dirs": sorted(self.dirs), "parts": self.parts}
        atomic_write(self.path, json.dumps(body, separators=(",", ":")))

    def clear(self) -> None:
        self.dirs.clear()
        self.parts.clear()
        self.path.unlink(missing_ok=True)


Tick = Callable[[], Awaitable[None]]


class Pusher:
    """One push's uploads and commit, over the counting backend the engine hands in."""

    def __init__(self, state_dir: Path, folder: str, b: Backend, inflight: Inflight, tick: Tick) -> None:
        self.state_dir = state_dir
        self.folder = folder
        self.b = b
        self.inflight = inflight
        self.tick = tick  # refreshes the lock when due; called between chunks
        self.dirty = False  # something to clean up is left on the backend for the next run

    def remote(self, rel: str) -> str:
        return f"{self.folder}/{rel}"

    async def cleanup(self, index: Index, keep: set[str]) -> None:
        """Remove what a crashed earlier run left (temp and uncommitted index files), but not `keep`."""
        if not self.inflight.pending:
            return
        live = {ref.name for ref in (index.head.base, index.head.journal) if ref is not None}
        for d in sorted(self.inflight.dirs):
            for entry in await self.b.listdir(d):
                name = entry.name
                path = f"{d}/{name}"
                stray = is_temp_name(name) or (d == self.folder and is_index_file(name) and name not in live)
                # A changes file the index does not list: started by a push that stopped before its
                # commit, or left by a compaction that could not remove it.
                stray = stray or (is_changes(name) and path[len(self.folder) + 1 :] not in index.files)
                if entry.is_dir or not stray or path in keep:
                    continue
                log.info("removing %s left by an interrupted sync", path)
                await self.b.remove(path)
        self.inflight.parts = {p: v for p, v in self.inflight.parts.items() if p in keep}

    async def begin(self, actions: list[Action]) -> None:
        """Record the folders this push may leave temp files in, before it writes any."""
        self.inflight.dirs |= {self.folder} | {self.remote(a.rel).rsplit("/", 1)[0] for a in actions}
        await asyncio.to_thread(self.inflight.save)

    async def append(self, action: Action) -> FileEntry:
        """Write the local bytes past `offset` in place; the hash goes on from the verified prefix."""
        assert action.entry is not None and action.prefix is not None
        local = self.state_dir / action.rel
        h = action.prefix.copy()
        pos = action.offset
        while pos < action.entry.size:
            await self.tick()
            chunk = await asyncio.to_thread(read_chunk, local, pos, min(CHUNK, action.entry.size - pos))
            if not chunk:
                break
            await self.b.write_at(self.remote(action.rel), pos, chunk)
            h.update(chunk)
            pos += len(chunk)
        return FileEntry(pos, h.hexdigest(), action.entry.mtime)

    async def replace(self, action: Action) -> FileEntry:
        """Upload to the part name (resuming a stopped upload of the same content), then rename over."""
        assert action.entry is not None
        entry = action.entry
        local = self.state_dir / action.rel
        remote = self.remote(action.rel)
        part = part_name(remote, entry.sha256)
        pos = await self._resume_at(part, entry, local)
        h: Any = hashlib.sha256()
        if pos:
            h = await asyncio.to_thread(prefix_hasher, local, pos)
            if h is None:
                raise OSError(f"{local} shrank during the upload")
        while True:
            await self.tick()
            want = min(CHUNK, entry.size - pos)
            chunk = await asyncio.to_thread(read_chunk, local, pos, want) if want > 0 else b""
            if pos == 0:
                await self.b.write_new(part, chunk)
            elif chunk:
                await self.b.write_at(part, pos, chunk)
            h.update(chunk)
            pos += len(chunk)
            if entry.size > CHUNK:  # only a large file is worth resuming
                self.inflight.parts[part] = [entry.sha256, pos]
                await asyncio.to_thread(self.inflight.save)
            if not chunk or pos >= entry.size:
                break
        await self.b.rename(part, remote)
        self.inflight.parts.pop(part, None)
        return FileEntry(pos, h.hexdigest(), entry.mtime)

    async def _resume_at(self, part: str, entry: FileEntry, local: Path) -> int:
        """How many bytes of `part` an earlier run wrote for this content and still match; else 0."""
        rec = self.inflight.parts.get(part)
        if not rec or rec[0] != entry.sha256 or not isinstance(rec[1], int) or not 0 < rec[1] < entry.size:
            return 0
        done = int(rec[1])
        st = await self.b.stat(part)
        if st is None or st.size < done:
            return 0
        n = min(RESUME_CHECK, done)
        remote_tail = await self.b.read(part, done - n, n)
        try:
            local_tail = await asyncio.to_thread(read_chunk, local, done - n, n)
        except OSError:
            return 0
        if remote_tail != local_tail:
            return 0
        log.info("resuming the upload of %s at %d of %d bytes", part, done, entry.size)
        return done

    async def commit(
        self, index: Index, changes: Mapping[str, FileEntry | None], device: dict[str, str], cache: IndexCache
    ) -> Index:
        """Write the changed entries (journal line or new base), then the head: the commit point."""
        files = dict(index.files)
        for rel, entry in changes.items():
            if entry is None:
                files.pop(rel, None)
            else:
                files[rel] = entry
        lines = journal_lines(changes)
        stale: list[str] = []
        if index.needs_compaction(len(lines)):
            base = Manifest(dict(device), files).dumps()
            ref = Ref(base_name(base), len(base), sha(base))
            if index.head.base is None or index.head.base.name != ref.name:
                # Under its final name at once: nothing names it until the head below is committed.
                await self.b.write_new(f"{self.folder}/{ref.name}", base)
            head = Head(dict(device), ref, None, len(files))
            journal = b""
            stale = [r.name for r in (index.head.base, index.head.journal) if r is not None and r.name != ref.name]
        else:
            base = index.base_bytes
            old = index.head.journal
            if old is None:
                name = new_journal_name()
                await self.b.write_new(f"{self.folder}/{name}", lines)
                journal = lines
            else:
                # At the committed length: bytes a stopped push left past it are overwritten.
                name = old.name
                await self.b.write_at(f"{self.folder}/{name}", old.size, lines)
                journal = index.journal_bytes + lines
            head = Head(dict(device), index.head.base, Ref(name, len(journal), sha(journal)), len(files))
        head_bytes = head.dumps()
        tmp = f"{self.folder}/{HEAD_TMP}"
        await self.b.write_new(tmp, head_bytes)
        await self.b.rename(tmp, f"{self.folder}/{MANIFEST_NAME}")
        new = Index(head_bytes, head, base, journal, files)
        try:
            await asyncio.to_thread(cache.save, new)
        except OSError as exc:  # only a copy: the next push reads the index from the server
            log.warning("could not keep a local copy of the sync index: %s", exc)
        for name in stale:
            try:
                await self.b.remove(f"{self.folder}/{name}")
            except SyncBackendError as exc:  # the next run's cleanup removes it
                log.warning("could not remove the old index file %s: %s", name, exc)
                self.dirty = True
        return new
