"""The file list of a device folder, the local scan with its hash cache, and the push plan.

`Manifest` is a full file list (relative path -> size, sha256, mtime) in compact JSON: the content
of a base index on the backend and the record of a pulled copy (`<state>/synced/<folder>/
manifest.json`). Readers trust only what the committed index lists, and only `size` bytes. The
remote `manifest.json` head, the journal and the local copies of them live in index.py. Nothing
here talks to a backend; the engine (engine.py, push.py) gathers remote sizes and carries the plan
out.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Literal, Mapping

from molt_desktop.fileio import atomic_write
from molt_desktop.logs import get_logger

log = get_logger("sync")

MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"
# sessions.json travels as a base copy plus an append-only changes file beside it (store_delta.py).
STORE_NAME = "sessions.json"
CHANGES_SUFFIX = ".changes.jsonl"
CHUNK = 1 << 20
# A file modified this close to the moment it was hashed may change again within the same mtime
# tick without its size changing; its cached hash is not trusted until it has been quiet this long.
RACY_NS = 2_000_000_000

_DEVICE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class FileEntry:
    size: int
    sha256: str
    mtime: float

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "sha256": self.sha256, "mtime": round(self.mtime, 3)}


class ManifestError(ValueError):
    """A manifest that is not valid JSON of the expected shape."""


@dataclass
class Manifest:
    device: dict[str, str]
    files: dict[str, FileEntry] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    def dumps(self) -> bytes:
        body = {
            "version": self.version,
            "device": self.device,
            "files": {rel: self.files[rel].to_json() for rel in sorted(self.files)},
        }
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @classmethod
    def loads(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data.decode("utf-8"))
            if not isinstance(raw, dict) or raw.get("version") != MANIFEST_VERSION:
                raise ManifestError("not a version 1 manifest")
            device = raw.get("device") or {}
            files: dict[str, FileEntry] = {}
            for rel, value in (raw.get("files") or {}).items():
                if not safe_relpath(rel):
                    raise ManifestError(f"unsafe path in manifest: {rel!r}")
                files[rel] = FileEntry(int(value["size"]), str(value["sha256"]), float(value.get("mtime", 0)))
            return cls(device={"name": str(device.get("name", "")), "id": str(device.get("id", ""))}, files=files)
        except ManifestError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ManifestError(f"invalid manifest: {exc}") from exc

    @classmethod
    def load(cls, path: Path) -> Manifest:
        return cls.loads(path.read_bytes())

    def save(self, path: Path) -> None:
        atomic_write(path, self.dumps())


def device_folder(name: str, device_id: str) -> str:
    """`<deviceName>-<deviceId8>`: the device's own folder on the backend."""
    clean = _DEVICE_CHARS.sub("-", name).strip("-.") or "device"
    return f"{clean}-{device_id[:8]}"


def safe_relpath(rel: str) -> bool:
    """A manifest path must stay under `agents/<agentId>/sessions/` (a hostile one could escape synced/)."""
    path = PurePosixPath(rel)
    parts = path.parts
    return (
        not path.is_absolute()
        and len(parts) == 4
        and parts[0] == "agents"
        and parts[2] == "sessions"
        and all(p not in ("", ".", "..") and "\\" not in p for p in parts)
        and is_synced_name(parts[3])
    )


def is_synced_name(name: str) -> bool:
    """sessions.json and transcripts, live or archived; not temp files or anything else."""
    if name.startswith("."):
        return False
    base = name.split(".deleted.", 1)[0] if ".deleted." in name else name
    return base == "sessions.json" or (base.endswith(".jsonl") and len(base) > len(".jsonl"))


def is_archived(rel: str) -> bool:
    return ".deleted." in PurePosixPath(rel).name


def is_store(rel: str) -> bool:
    """A live sessions.json (shipped as base + changes, store_delta.py)."""
    return PurePosixPath(rel).name == STORE_NAME


def changes_rel(rel: str) -> str:
    return rel + CHANGES_SUFFIX


def is_changes(rel: str) -> bool:
    """The live changes file of a sessions.json, which exists only on the server."""
    return PurePosixPath(rel).name == STORE_NAME + CHANGES_SUFFIX


# ---- local scan -------------------------------------------------------------------------------


@dataclass
class LocalScan:
    files: dict[str, FileEntry]
    hashed: int  # files whose sha256 had to be computed (the others came from the cache)


def local_index_path(state_dir: Path) -> Path:
    return state_dir / "sync" / "local-index.json"


def _load_index(path: Path) -> dict[str, list[Any]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("local sync index unreadable, rebuilding it: %s", exc)
        return {}
    if not isinstance(raw, dict) or not isinstance(raw.get("files"), dict):
        log.warning("local sync index has an unexpected shape, rebuilding it")
        return {}
    return {k: v for k, v in raw["files"].items() if isinstance(v, list) and len(v) == 4}


def hash_file(path: Path, size: int | None = None) -> tuple[str, int]:
    """sha256 of the first `size` bytes (all when None), and how many bytes were hashed."""
    h = hashlib.sha256()
    done = 0
    with open(path, "rb") as fh:
        while size is None or done < size:
            chunk = fh.read(CHUNK if size is None else min(CHUNK, size - done))
            if not chunk:
                break
            h.update(chunk)
            done += len(chunk)
    return h.hexdigest(), done


def scan_local(state_dir: Path) -> LocalScan:
    """Every synced file under `<state>/agents/*/sessions/`, with sizes and hashes.

    Hashes are cached in `<state>/sync/local-index.json` by (size, mtime): a re-scan of unchanged
    files reads none of them. A torn or missing index is rebuilt. Blocking: run it in a thread.
    """
    index_path = local_index_path(state_dir)
    old = _load_index(index_path)
    new: dict[str, list[Any]] = {}
    files: dict[str, FileEntry] = {}
    hashed = 0
    agents = state_dir / "agents"
    try:
        agent_dirs = sorted(p for p in agents.iterdir() if p.is_dir())
    except FileNotFoundError:
        agent_dirs = []
    for agent in agent_dirs:
        sessions = agent / "sessions"
        try:
            entries = sorted(os.scandir(sessions), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            rel = f"agents/{agent.name}/sessions/{entry.name}"
            if not entry.is_file() or not safe_relpath(rel) or is_changes(rel):
                continue  # a local file named like a server-side changes file would collide with it
            try:
                st = entry.stat()
                cached = old.get(rel)
                if (
                    cached
                    and cached[0] == st.st_size
                    and cached[1] == st.st_mtime_ns
                    and st.st_mtime_ns < int(cached[3]) - RACY_NS
                ):
                    sha = str(cached[2])
                    hashed_at = int(cached[3])
                else:
                    hashed_at = time.time_ns()
                    sha, got = hash_file(Path(entry.path), st.st_size)
                    hashed += 1
                    if got != st.st_size:  # shrank while being read: hash again next scan
                        continue
            except FileNotFoundError:
                continue
            files[rel] = FileEntry(st.st_size, sha, st.st_mtime)
            new[rel] = [st.st_size, st.st_mtime_ns, sha, hashed_at]
    if new != old:
        try:
            atomic_write(index_path, json.dumps({"version": 1, "files": new}, separators=(",", ":")))
        except OSError as exc:  # only a cache: the next scan hashes again
            log.warning("could not save the local sync index: %s", exc)
    return LocalScan(files, hashed)


# ---- push plan -------------------------------------------------------------------------------

Kind = Literal["append", "replace", "archive", "skip"]


@dataclass
class Action:
    kind: Kind
    rel: str
    offset: int = 0  # append: where the new bytes go
    dest: str = ""  # archive: the remote name it is renamed to
    prefix: Any = None  # append: sha256 object over the first `offset` bytes, to finish the new hash
    entry: FileEntry | None = None  # the local entry (append/replace) or the manifest entry (archive)


@dataclass
class Plan:
    actions: list[Action]
    live_remote: int  # files the manifest lists that are not archives

    def of(self, kind: Kind) -> list[Action]:
        return [a for a in self.actions if a.kind == kind]


def append_candidates(local: Mapping[str, FileEntry], manifest: Manifest) -> list[str]:
    """Files that grew since the manifest: the engine stats these remotely before planning."""
    out = []
    for rel, entry in local.items():
        old = manifest.files.get(rel)
        if old is not None and old.sha256 != entry.sha256 and entry.size > old.size:
            out.append(rel)
    return out


def prefix_hasher(path: Path, size: int) -> Any:
    """A sha256 object fed the first `size` bytes of `path`, or None when the file is shorter."""
    h = hashlib.sha256()
    done = 0
    with open(path, "rb") as fh:
        while done < size:
            chunk = fh.read(min(CHUNK, size - done))
            if not chunk:
                return None
            h.update(chunk)
            done += len(chunk)
    return h


def plan_push(
    state_dir: Path,
    local: Mapping[str, FileEntry],
    manifest: Manifest,
    remote_sizes: Mapping[str, int | None],
    stamp: str,
    hasher: Callable[[Path, int], Any] = prefix_hasher,
) -> Plan:
    """Decide per file: append, replace, archive or skip. Blocking (hashes prefixes): use a thread.

    append: the remote holds at least what the manifest says (and no more than the local file) and
    the local file's first `size` bytes still hash to the manifest's sha256, so only the new bytes
    go. replace: anything
    else that changed. archive: listed remotely, gone locally; renamed, never removed (to the name of
    a new local file with the same content when there is one, e.g. a session deleted locally).
    Archives that vanish locally stay listed as they are.
    """
    actions: list[Action] = []
    for rel in sorted(local):
        entry = local[rel]
        old = manifest.files.get(rel)
        if old is not None and old.sha256 == entry.sha256 and old.size == entry.size:
            actions.append(Action("skip", rel, entry=entry))
            continue
        remote_size = remote_sizes.get(rel)
        # A remote longer than the index says holds bytes of an append that stopped before its
        # commit; they are overwritten from the committed length.
        if old is not None and remote_size is not None and old.size <= remote_size <= entry.size > old.size:
            try:
                h = hasher(state_dir / rel, old.size)
            except OSError:
                h = None
            if h is not None and h.hexdigest() == old.sha256:
                actions.append(Action("append", rel, offset=old.size, prefix=h, entry=entry))
                continue
        actions.append(Action("replace", rel, entry=entry))
    # A new local file with the content of a vanished one (a session deleted locally, renamed to
    # `.deleted.<time>`) takes the remote file by rename instead of a second upload.
    new_by_sha = {
        a.entry.sha256: a for a in actions if a.kind == "replace" and a.entry is not None and a.rel not in manifest.files
    }
    live = 0
    for rel, old in sorted(manifest.files.items()):
        if is_archived(rel):
            if rel not in local:
                actions.append(Action("skip", rel, entry=old))
            continue
        live += 1
        if rel in local:
            continue
        twin = new_by_sha.pop(old.sha256, None)
        if twin is not None and twin.entry is not None and twin.entry.size == old.size:
            actions.remove(twin)
            actions.append(Action("archive", rel, dest=twin.rel, entry=twin.entry))
        else:
            actions.append(Action("archive", rel, dest=f"{rel}.deleted.{stamp}", entry=old))
    return Plan(actions, live)
