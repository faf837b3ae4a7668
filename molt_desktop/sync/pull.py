"""Bringing one other device's committed files into `<state>/synced/<folder>/` (read-only copies).

What lives here: the per-file decisions of a pull (already here, copy of a twin, fetch only the
tail of a grown file, full download verified against the index) and the record of what is held,
`<state>/synced/<folder>/manifest.json` (the device and the files this copy matches, the Manifest
JSON of manifest.py; sync/synced.py reads the device name from it). A `sessions.json` arrives as
its base and changes file, held under `<state>/sync/pulled/<folder>/`, and is rebuilt into the
synced folder as one plain file (store_delta.py). Reading the remote index lives in index.py; the
loop over devices and the public API in engine.py.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Callable

from molt_desktop.fileio import atomic_write
from molt_desktop.i18n import _
from molt_desktop.sync.backend import Backend, SyncBackendError
from molt_desktop.sync.index import Index
from molt_desktop.sync.manifest import (
    CHUNK,
    MANIFEST_NAME,
    FileEntry,
    Manifest,
    ManifestError,
    changes_rel,
    is_changes,
    is_store,
)
from molt_desktop.sync.store_delta import StoreError, forget, rebuild

READ_ONLY = 0o400


class _Changed(Exception):
    pass


class PullResult:
    def __init__(self) -> None:
        self.files = 0
        self.errors: list[str] = []


async def pull_device(
    b: Backend, root: Path, folder: str, index: Index, step: Callable[[], None] | None = None,
    mirror: Path | None = None,
) -> PullResult:
    """Make `root` hold what `index` lists; a file that fails keeps the copy held before.

    The base and changes of a sessions.json go to `mirror` (default: `root`), and the file rebuilt
    from them to `root`.
    """
    result = PullResult()
    held_in = mirror if mirror is not None else root

    def where(rel: str) -> Path:
        return (held_in if is_store(rel) or is_changes(rel) else root) / rel

    manifest = index.manifest()
    record_path = root / MANIFEST_NAME
    fresh = False
    try:
        old = await asyncio.to_thread(Manifest.load, record_path)
    except (OSError, ManifestError):
        old, fresh = Manifest(manifest.device), True
    same = await asyncio.to_thread(_already_held, where, manifest.files, old.files)
    have: dict[str, FileEntry] = {rel: manifest.files[rel] for rel in same}
    by_sha = {e.sha256: rel for rel, e in old.files.items()}
    for rel, entry in sorted(manifest.files.items()):
        if step is not None:
            step()
        if rel in have:
            continue
        target = where(rel)
        try:
            state = await asyncio.to_thread(_local_state, target, entry)
            if state == "same":
                have[rel] = entry
                continue
            twin = by_sha.get(entry.sha256)
            if twin is not None and await asyncio.to_thread(_copy_local, where(twin), target, entry):
                have[rel] = entry
                result.files += 1
                continue
            if isinstance(state, int):  # the copy holds a prefix: fetch only the rest
                tail = await b.read(f"{folder}/{rel}", state, entry.size - state)
                if await asyncio.to_thread(_extend_local, target, state, tail, entry):
                    have[rel] = entry
                    result.files += 1
                    continue
            data = await _download(b, f"{folder}/{rel}", entry.size)
            if len(data) != entry.size or _sha(data) != entry.sha256:
                raise _Changed()
            await asyncio.to_thread(atomic_write, target, data, READ_ONLY)
            have[rel] = entry
            result.files += 1
        except SyncBackendError:
            # Gone since its index was committed (archived or replaced by a push running now, or one
            # that stopped before its commit): the next commit names it. Any other failure ends the pull.
            if await b.stat(f"{folder}/{rel}") is not None:
                raise
            result.errors.append(_("{path}: changed on the server during the pull").format(path=f"{folder}/{rel}"))
        except _Changed:
            # Replaced after its index was committed; the next commit describes it.
            result.errors.append(_("{path}: changed on the server during the pull").format(path=f"{folder}/{rel}"))
        except OSError as exc:  # local disk; backend errors (SyncBackendError) end the pull
            result.errors.append(_("{path}: could not be written: {error}").format(path=str(target), error=exc))
        if rel not in have and rel in old.files:
            have[rel] = old.files[rel]
    gone = old.files.keys() - manifest.files.keys()
    if fresh or gone or have != old.files or old.device != manifest.device:
        for rel in gone:
            # Archived on the server under a new name (pulled above); this copy is a stale duplicate.
            await asyncio.to_thread(_unlink, where(rel))
            if is_store(rel):
                await asyncio.to_thread(forget, held_in, root, rel)
        await asyncio.to_thread(Manifest(manifest.device, have).save, record_path)
    for rel, entry in sorted(manifest.files.items()):
        crel = changes_rel(rel)
        if not is_store(rel) or have.get(rel) != entry or have.get(crel) != manifest.files.get(crel):
            continue  # not all of it arrived: the copy rebuilt before stays (the error is reported)
        try:
            await asyncio.to_thread(rebuild, held_in, root, rel, entry, manifest.files.get(crel))
        except (StoreError, OSError) as exc:
            result.errors.append(_("{path}: could not be rebuilt: {error}").format(path=f"{folder}/{rel}", error=exc))
    return result


def _already_held(
    where: Callable[[str], Path], files: dict[str, FileEntry], recorded: dict[str, FileEntry]
) -> list[str]:
    """Files whose copy the record says matches and whose size agrees (one thread hop for all)."""
    out = []
    for rel, entry in files.items():
        old = recorded.get(rel)
        if old is None or old.sha256 != entry.sha256 or old.size != entry.size:
            continue
        try:
            if where(rel).stat().st_size == entry.size:
                out.append(rel)
        except OSError:
            continue
    return out


async def _download(b: Backend, path: str, size: int) -> bytes:
    parts = []
    pos = 0
    while pos < size:
        chunk = await b.read(path, pos, min(4 * CHUNK, size - pos))
        if not chunk:
            break
        parts.append(chunk)
        pos += len(chunk)
    return b"".join(parts)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_chunk(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(length)


def _local_state(target: Path, entry: FileEntry) -> str | int:
    """"same" when the copy already matches, the copy's size when it is shorter, else "full"."""
    try:
        size = target.stat().st_size
    except FileNotFoundError:
        return "full"
    if size == entry.size:
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
