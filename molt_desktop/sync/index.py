"""The remote index of a device folder: a small `manifest.json` head, a base index and a journal.

On the backend a device folder holds, beside its `agents/` tree:
- `manifest.json`, the commit point, written last by temp + rename. It is small (a few hundred
  bytes): the device, the name, size and sha256 of the base index, and the name, committed length
  and sha256 of the journal.
- `index-<sha16>.json`, the base: a full file list (the `Manifest` JSON of manifest.py), immutable
  and named by its content.
- `journal-<random>.jsonl`, append-only records of entries changed since the base, one JSON object
  a line (`{"p": path, "s": size, "h": sha256, "m": mtime}`, or `{"p": path, "x": 1}` for a path
  no longer listed). Readers trust only the committed prefix the head names; bytes past it (a push
  that stopped before its commit) are overwritten by the next append.
A push ships one journal line per changed file and the head; compaction writes a new base when the
journal grows past a share of the base. Version 1 heads (the whole file list inline) still read.

`IndexCache` keeps the last committed head, base and journal of a folder under
`<state>/sync/remote/<folder>/`, so a push does not download its own index and a pull of another
device reads only the journal's new tail. The remote reads themselves live in `load_index` (over any
Backend); which files to send and how is the engine's (engine.py, push.py, pull.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from molt_desktop.fileio import atomic_write
from molt_desktop.logs import get_logger
from molt_desktop.sync.backend import Backend, SyncBackendError
from molt_desktop.sync.manifest import MANIFEST_NAME, FileEntry, Manifest, ManifestError, safe_relpath

log = get_logger("sync")

HEAD_VERSION = 2
# Compaction when the journal would pass this share of the base (and this floor): a push then
# costs its own lines, and compaction's full base comes once per many pushes.
JOURNAL_MIN = 32 * 1024
JOURNAL_SHARE = 0.5
_BASE_NAME = re.compile(r"^index-[0-9a-f]{16}\.json$")
_JOURNAL_NAME = re.compile(r"^journal-[0-9a-f]{16}\.jsonl$")
# A reader may race a compaction that removes the files the head it read names; it reads again.
LOAD_ATTEMPTS = 3


@dataclass(frozen=True)
class Ref:
    name: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass
class Head:
    """The parsed `manifest.json`: what the committed index is made of."""

    device: dict[str, str]
    base: Ref | None
    journal: Ref | None
    count: int = 0
    inline: Manifest | None = None  # a version 1 head carries its file list itself

    def dumps(self) -> bytes:
        body = {
            "version": HEAD_VERSION,
            "device": self.device,
            "base": self.base.to_json() if self.base else None,
            "journal": self.journal.to_json() if self.journal else None,
            "count": self.count,
        }
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @classmethod
    def loads(cls, data: bytes) -> Head:
        try:
            raw = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ManifestError(f"invalid manifest: {exc}") from exc
        if isinstance(raw, dict) and raw.get("version") == 1:
            inline = Manifest.loads(data)
            return cls(inline.device, None, None, len(inline.files), inline)
        if not isinstance(raw, dict) or raw.get("version") != HEAD_VERSION:
            raise ManifestError("not a version 2 manifest")
        try:
            device = raw.get("device") or {}
            return cls(
                {"name": str(device.get("name", "")), "id": str(device.get("id", ""))},
                _ref(raw.get("base"), _BASE_NAME),
                _ref(raw.get("journal"), _JOURNAL_NAME),
                int(raw.get("count") or 0),
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ManifestError(f"invalid manifest: {exc}") from exc


def _ref(value: Any, pattern: re.Pattern[str]) -> Ref | None:
    if value is None:
        return None
    name = str(value["name"])
    if not pattern.match(name):  # a hostile name could point outside the folder
        raise ManifestError(f"unexpected index file name: {name!r}")
    return Ref(name, int(value["size"]), str(value["sha256"]))


def base_name(data: bytes) -> str:
    return f"index-{hashlib.sha256(data).hexdigest()[:16]}.json"


def new_journal_name() -> str:
    return f"journal-{secrets.token_hex(8)}.jsonl"


def is_index_file(name: str) -> bool:
    return bool(_BASE_NAME.match(name) or _JOURNAL_NAME.match(name))


def journal_lines(changes: Mapping[str, FileEntry | None]) -> bytes:
    out = []
    for rel in sorted(changes):
        entry = changes[rel]
        rec: dict[str, Any] = {"p": rel, "x": 1} if entry is None else {"p": rel, **_short(entry)}
        out.append(json.dumps(rec, separators=(",", ":"), ensure_ascii=False))
    return ("\n".join(out) + "\n").encode("utf-8") if out else b""


def _short(entry: FileEntry) -> dict[str, Any]:
    return {"s": entry.size, "h": entry.sha256, "m": round(entry.mtime, 3)}


def apply_journal(files: dict[str, FileEntry], data: bytes) -> None:
    """Apply committed journal bytes to `files` in place; raises ManifestError on a bad line."""
    for n, line in enumerate(data.split(b"\n")):
        if not line:
            continue
        try:
            rec = json.loads(line.decode("utf-8"))
            rel = str(rec["p"])
            if not safe_relpath(rel):
                raise ManifestError(f"unsafe path in journal: {rel!r}")
            if rec.get("x"):
                files.pop(rel, None)
            else:
                files[rel] = FileEntry(int(rec["s"]), str(rec["h"]), float(rec.get("m", 0)))
        except ManifestError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError) as exc:
            raise ManifestError(f"invalid journal line {n + 1}: {exc}") from exc


@dataclass
class Index:
    """One committed state of a device folder, with the bytes it was read from."""

    head_bytes: bytes
    head: Head
    base_bytes: bytes
    journal_bytes: bytes
    files: dict[str, FileEntry]

    @classmethod
    def build(cls, head_bytes: bytes, head: Head, base_bytes: bytes, journal_bytes: bytes) -> Index:
        if head.inline is not None:
            files = dict(head.inline.files)
        else:
            files = dict(Manifest.loads(base_bytes).files) if head.base is not None else {}
            apply_journal(files, journal_bytes)
        return cls(head_bytes, head, base_bytes, journal_bytes, files)

    def manifest(self) -> Manifest:
        return Manifest(dict(self.head.device), dict(self.files))

    def needs_compaction(self, extra: int) -> bool:
        if self.head.base is None:
            return True
        used = (self.head.journal.size if self.head.journal else 0) + extra
        return used > max(JOURNAL_MIN, int(self.head.base.size * JOURNAL_SHARE))


def empty_index(device: dict[str, str]) -> Index:
    return Index(b"", Head(dict(device), None, None), b"", b"", {})


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- local copy ------------------------------------------------------------------------------


class IndexCache:
    """The last committed index of one remote folder, under `<state>/sync/remote/<folder>/`.

    Blocking file calls: run them in a thread. A missing or torn copy only costs a download.
    """

    def __init__(self, state_dir: Path, folder: str) -> None:
        self.dir = Path(state_dir) / "sync" / "remote" / folder

    def load(self) -> Index | None:
        try:
            head_bytes = (self.dir / MANIFEST_NAME).read_bytes()
            head = Head.loads(head_bytes)
            base = self._part(head.base)
            journal = self._part(head.journal)
            if base is None or journal is None:
                return None
            return Index.build(head_bytes, head, base, journal)
        except (OSError, ManifestError):
            return None

    def _part(self, ref: Ref | None) -> bytes | None:
        if ref is None:
            return b""
        try:
            with open(self.dir / ref.name, "rb") as fh:
                data = fh.read(ref.size)
        except OSError:
            return None
        return data if len(data) == ref.size and sha(data) == ref.sha256 else None

    def base_bytes(self, ref: Ref) -> bytes | None:
        return self._part(ref)

    def save(self, index: Index) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        keep = {MANIFEST_NAME}
        for ref, data in ((index.head.base, index.base_bytes), (index.head.journal, index.journal_bytes)):
            if ref is None:
                continue
            keep.add(ref.name)
            path = self.dir / ref.name
            if ref is index.head.base and path.is_file() and path.stat().st_size == len(data):
                continue  # immutable and named by content: already here
            atomic_write(path, data)
        atomic_write(self.dir / MANIFEST_NAME, index.head_bytes)
        for path in self.dir.iterdir():
            if path.name not in keep:
                path.unlink(missing_ok=True)


# ---- remote reads ----------------------------------------------------------------------------


class IndexVanished(Exception):
    """The files the head names went away while being read (a compaction ran)."""


async def load_index(b: Backend, folder: str, cache: IndexCache | None, device: dict[str, str]) -> Index:
    """The folder's committed index, reading only what the local copy lacks.

    A missing head gives an empty index for `device`. Raises ManifestError when the head or the
    files it names are invalid, SyncBackendError on a backend failure.
    """
    cached = await asyncio.to_thread(cache.load) if cache is not None else None
    for attempt in range(LOAD_ATTEMPTS):
        path = f"{folder}/{MANIFEST_NAME}"
        if await b.stat(path) is None:
            return empty_index(device)
        head_bytes = await b.read(path)
        if cached is not None and head_bytes == cached.head_bytes:
            return cached
        head = Head.loads(head_bytes)
        try:
            base = await _read_base(b, folder, head.base, cache)
            journal = await _read_journal(b, folder, head.journal, cached)
        except IndexVanished:
            if attempt + 1 == LOAD_ATTEMPTS:
                raise ManifestError("the index kept changing while it was read") from None
            continue
        return Index.build(head_bytes, head, base, journal)
    raise AssertionError("unreachable")


async def _read_base(b: Backend, folder: str, ref: Ref | None, cache: IndexCache | None) -> bytes:
    if ref is None:
        return b""
    if cache is not None:
        data = await asyncio.to_thread(cache.base_bytes, ref)
        if data is not None:
            return data
    return await _read_exact(b, f"{folder}/{ref.name}", 0, ref.size, ref.sha256, b"")


async def _read_journal(b: Backend, folder: str, ref: Ref | None, cached: Index | None) -> bytes:
    if ref is None:
        return b""
    prefix = b""
    old = cached.head.journal if cached is not None else None
    if cached is not None and old is not None and old.name == ref.name and old.size <= ref.size:
        prefix = cached.journal_bytes  # committed bytes never change: fetch only what follows
    return await _read_exact(b, f"{folder}/{ref.name}", len(prefix), ref.size - len(prefix), ref.sha256, prefix)


async def _read_exact(b: Backend, path: str, offset: int, length: int, want: str, prefix: bytes) -> bytes:
    try:
        data = await b.read(path, offset, length) if length > 0 else b""
    except SyncBackendError:
        if await b.stat(path) is None:
            raise IndexVanished() from None
        raise
    whole = prefix + data
    if len(data) != length or sha(whole) != want:
        if await b.stat(path) is None:
            raise IndexVanished()
        raise ManifestError(f"{path} does not match its manifest")
    return whole
