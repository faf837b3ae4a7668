"""sessions.json on the server as a base copy plus an append-only changes file, and its rebuild.

Every chat turn rewrites `agents/<agent>/sessions/sessions.json` (timestamps, usage); uploading it
whole would cost the full list (~450 KB with 1,000 sessions) for each message. On the server each
sessions.json is therefore kept as
- `sessions.json`, the base: the full file as it was at some push (same name and place as in the
  state dir), and
- `sessions.json.changes.jsonl` beside it, append-only: one compact JSON line per later push that
  changed entries, `{"set": {key: entry, ...}, "del": [key, ...]}`.
Both are listed in the device's index like any other file (size + sha256, the changes file grown
by appends at its committed length), so the index commit stays the one commit point: readers
trust only the committed length, and a push that stops before its commit leaves the previous
state readable.

Restoring from the server folder (a backup): the full state is the base plus the changes. Parse
the base, apply every line in order (remove the keys of "del", then set each key of "set", so
later lines win) and write the result as JSON.stringify(store, null, 2) does, without a trailing
newline: that gives the device's sessions.json byte for byte, because a push ships a line only
when this rebuild reproduces its local file exactly. Otherwise (first push, a file in another
format, a local copy of the last push missing, the changes file past max(64 KB, half the base))
the push uploads the full file as a new base and drops the changes file in the same commit
(compaction keeps the changes file small). A sessions.json that does not parse as a JSON object
is shipped the same way, as a plain file, and never lost. A base without a changes file is the
file itself.

Local copies: `<state>/sync/pushed/<folder>/<rel>` holds the file as last pushed and the committed
changes bytes, written only after the commit, so a push diffs without reading the server;
`<state>/sync/pulled/<folder>/<rel>` holds another device's base and changes as pulled, so a pull
fetches only the new tail of the changes file and writes the rebuilt file at
`<state>/synced/<folder>/<rel>` (the changes file never appears there).

Not here: the order of a push and its commit (engine.py, push.py), the per-file fetches of a pull
(pull.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping

from molt_desktop.fileio import atomic_write
from molt_desktop.logs import get_logger
from molt_desktop.sessions.jsjson import js_dumps, js_utf8
from molt_desktop.sync.backend import Backend
from molt_desktop.sync.manifest import FileEntry, changes_rel, is_store

log = get_logger("sync")

CHANGES_MIN = 64 * 1024
CHANGES_SHARE = 0.5
READ_ONLY = 0o400
_RECORD = ".record.json"
_REBUILT = ".rebuilt.json"

Pair = tuple[int, str]  # (size, sha256) of a committed file


class StoreError(ValueError):
    """A base or changes file that cannot be applied."""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pair(entry: FileEntry | None) -> Pair | None:
    return None if entry is None else (entry.size, entry.sha256)


def parse(data: bytes) -> dict[str, Any] | None:
    """The entries of a sessions.json, or None when it is not a JSON object."""
    try:
        raw = json.loads(data.decode("utf-8")) if data.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return raw if isinstance(raw, dict) else None


def render(entries: dict[str, Any]) -> bytes:
    """The file as SessionStore (and OpenClaw) write it: JSON.stringify(store, null, 2)."""
    return js_utf8(js_dumps(entries, 2))


def change_line(prev: Mapping[str, Any], cur: Mapping[str, Any]) -> bytes | None:
    """The changes line taking `prev` to `cur` (None when no entry changed)."""
    changed = {k: v for k, v in cur.items() if k not in prev or prev[k] != v}
    gone = [k for k in prev if k not in cur]
    if not changed and not gone:
        return None
    body = {"set": changed, "del": gone}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


def apply_changes(entries: dict[str, Any], data: bytes) -> None:
    """Apply changes lines to `entries` in place, in order; StoreError on a bad line."""
    for n, line in enumerate(data.split(b"\n")):
        if not line.strip():
            continue
        try:
            rec = json.loads(line.decode("utf-8"))
            sets, dels = rec.get("set") or {}, rec.get("del") or []
            if not isinstance(sets, dict) or not isinstance(dels, list):
                raise ValueError("set must be an object and del a list")
        except (ValueError, UnicodeDecodeError, AttributeError, RecursionError) as exc:
            raise StoreError(f"invalid changes line {n + 1}: {exc}") from exc
        for key in dels:
            entries.pop(str(key), None)
        entries.update(sets)


def changes_limit(base_size: int) -> int:
    return max(CHANGES_MIN, int(base_size * CHANGES_SHARE))


# ---- push ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pushed:
    """What the server holds for one sessions.json as of the last commit, and the local sha it rebuilds to."""

    base: Pair
    changes: Pair | None
    pushed: str

    def matches(self, files: Mapping[str, FileEntry], rel: str) -> bool:
        return _pair(files.get(rel)) == self.base and _pair(files.get(changes_rel(rel))) == self.changes


class PushedStores:
    """`<state>/sync/pushed/<folder>/`: per sessions.json the copy last pushed, the committed changes
    and a record of both. Blocking file calls: run them in a thread. Anything missing or torn only
    costs a full upload."""

    def __init__(self, state_dir: Path, folder: str) -> None:
        self.dir = Path(state_dir) / "sync" / "pushed" / folder

    def records(self, local: Mapping[str, FileEntry]) -> dict[str, Pushed]:
        out = {}
        for rel in local:
            if is_store(rel):
                rec = self._record(rel)
                if rec is not None:
                    out[rel] = rec
        return out

    def _record(self, rel: str) -> Pushed | None:
        try:
            raw = json.loads((self.dir / (rel + _RECORD)).read_text("utf-8"))
            changes = raw.get("changes")
            return Pushed(
                (int(raw["base"][0]), str(raw["base"][1])),
                None if changes is None else (int(changes[0]), str(changes[1])),
                str(raw["pushed"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            log.warning("local record of the pushed %s unreadable: %s", rel, exc)
            return None

    def copies(self, rel: str, rec: Pushed) -> tuple[bytes, bytes] | None:
        """(the file as pushed, the committed changes bytes), when both match the record."""
        try:
            pushed = (self.dir / rel).read_bytes()
            changes = (self.dir / changes_rel(rel)).read_bytes() if rec.changes else b""
        except OSError:
            return None
        if sha(pushed) != rec.pushed:
            return None
        if rec.changes is not None and (len(changes), sha(changes)) != rec.changes:
            return None
        return pushed, changes

    def save(self, shipped: StoreShipped) -> None:
        rel = shipped.rel
        atomic_write(self.dir / rel, shipped.pushed)
        crel = self.dir / changes_rel(rel)
        if shipped.record.changes is None:
            crel.unlink(missing_ok=True)
        else:
            atomic_write(crel, shipped.changes_bytes)
        # Last: the record names the shas of both, so a torn save is seen as a mismatch.
        body = {"base": list(shipped.record.base), "pushed": shipped.record.pushed,
                "changes": list(shipped.record.changes) if shipped.record.changes else None}
        atomic_write(self.dir / (rel + _RECORD), json.dumps(body, separators=(",", ":")))


def store_view(
    local: Mapping[str, FileEntry], files: Mapping[str, FileEntry], records: Mapping[str, Pushed]
) -> tuple[dict[str, FileEntry], list[str]]:
    """The local file list as the push plan compares it with the index, and the sessions.json to ship.

    Each local sessions.json stands for its committed base and changes entries, so the plan neither
    replaces nor archives them; the ones that changed since their last push are returned, for
    `push_store`.
    """
    view = dict(local)
    changed = []
    for rel, entry in local.items():
        if not is_store(rel):
            continue
        del view[rel]
        for name in (rel, changes_rel(rel)):
            if name in files:
                view[name] = files[name]
        rec = records.get(rel)
        if rec is None or rec.pushed != entry.sha256 or not rec.matches(files, rel):
            changed.append(rel)
    return view, sorted(changed)


@dataclass
class StoreShipped:
    """One sessions.json shipped by a push: the index entries to commit and the local copy to keep after."""

    rel: str
    record: Pushed
    pushed: bytes
    changes_bytes: bytes = b""
    entries: dict[str, FileEntry | None] = field(default_factory=dict)
    drop: str | None = None  # a changes file the commit no longer lists, removed after it


def _read(path: Path) -> tuple[bytes, float]:
    with open(path, "rb") as fh:
        data = fh.read()
        return data, os.fstat(fh.fileno()).st_mtime


def _delta(
    stores: PushedStores, rel: str, rec: Pushed | None, files: Mapping[str, FileEntry], data: bytes
) -> tuple[bytes, bytes] | None:
    """(the changes line, the committed changes bytes) when a line can carry this push; else None."""
    if rec is None or not rec.matches(files, rel):
        return None
    copies = stores.copies(rel, rec)
    cur = parse(data)
    if copies is None or cur is None:
        return None
    prev = parse(copies[0])
    if prev is None:
        return None
    line = change_line(prev, cur)
    if line is None or len(copies[1]) + len(line) > changes_limit(rec.base[0]):
        return None
    state = dict(prev)
    apply_changes(state, line)
    if render(state) != data:  # another format or key order: a reader's rebuild would differ
        return None
    return line, copies[1]


async def push_store(
    b: Backend,
    folder: str,
    state_dir: Path,
    rel: str,
    files: Mapping[str, FileEntry],
    stores: PushedStores,
    rec: Pushed | None,
    part: Callable[[str, str], str],
    tick: Callable[[], Awaitable[None]],
) -> StoreShipped:
    """Ship one changed sessions.json: a changes line when one can carry it, else a new base.

    Raises OSError when the local file cannot be read. Writes are the uncommitted kind only (an
    append past the committed length, a temp file renamed over the base); the caller commits.
    """
    data, mtime = await asyncio.to_thread(_read, state_dir / rel)
    crel = changes_rel(rel)
    remote_changes = f"{folder}/{crel}"
    found = await asyncio.to_thread(_delta, stores, rel, rec, files, data)
    if found is not None and rec is not None:
        line, committed = found
        st = await b.stat(remote_changes) if committed else None
        if not committed or (st is not None and st.size >= len(committed)):
            await tick()
            if committed:
                # At the committed length: bytes a stopped push left past it are overwritten.
                await b.write_at(remote_changes, len(committed), line)
            else:
                await b.write_new(remote_changes, line)
            new = committed + line
            pair = (len(new), sha(new))
            return StoreShipped(rel, Pushed(rec.base, pair, sha(data)), data, new,
                                {crel: FileEntry(pair[0], pair[1], mtime)})
        log.warning("%s on the server is shorter than its index says; uploading %s whole", crel, rel)
    digest = sha(data)
    shipped = StoreShipped(rel, Pushed((len(data), digest), None, digest), data)
    if crel in files:
        shipped.entries[crel] = None
        shipped.drop = remote_changes
    if _pair(files.get(rel)) != (len(data), digest):
        temp = part(f"{folder}/{rel}", digest)
        await tick()
        await b.write_new(temp, data)
        await b.rename(temp, f"{folder}/{rel}")
        shipped.entries[rel] = FileEntry(len(data), digest, mtime)
    return shipped


# ---- pull ------------------------------------------------------------------------------------


def rebuild(mirror: Path, root: Path, rel: str, base: FileEntry, changes: FileEntry | None) -> bool:
    """Write `root/rel` from the base and changes held under `mirror`; True when it was rewritten.

    Only the changes lines not yet applied are applied when the output still holds the earlier
    rebuild. Raises StoreError (bad data) or OSError. Blocking: run it in a thread.
    """
    out = root / rel
    state_path = mirror / (rel + _REBUILT)
    state = _load_state(state_path)
    try:
        current: bytes | None = out.read_bytes()
    except FileNotFoundError:
        current = None
    want = _pair(changes)
    held = state is not None and current is not None and state.get("out") == sha(current)
    if held and state is not None and state.get("base") == base.sha256 and _as_pair(state.get("changes")) == want:
        return False
    if changes is None or changes.size == 0:
        data = (mirror / rel).read_bytes()[: base.size]
    else:
        with open(mirror / changes_rel(rel), "rb") as fh:
            log_bytes = fh.read(changes.size)
        entries: dict[str, Any] | None = None
        start = 0
        done = _as_pair(state.get("changes")) if state is not None else None
        if held and state is not None and state.get("base") == base.sha256 and done is not None:
            if done[0] <= len(log_bytes) and sha(log_bytes[: done[0]]) == done[1] and current is not None:
                entries, start = parse(current), done[0]
        if entries is None:
            entries, start = parse((mirror / rel).read_bytes()[: base.size]), 0
            if entries is None:
                raise StoreError(f"{rel}: the base is not a JSON object but has changes")
        apply_changes(entries, log_bytes[start:])
        data = render(entries)
    atomic_write(out, data, READ_ONLY)
    body = {"base": base.sha256, "changes": list(want) if want else None, "out": sha(data)}
    atomic_write(state_path, json.dumps(body, separators=(",", ":")))
    return True


def forget(mirror: Path, root: Path, rel: str) -> None:
    """A sessions.json no longer listed: its rebuilt copy and rebuild record go (blocking)."""
    for path in (root / rel, mirror / (rel + _REBUILT)):
        path.unlink(missing_ok=True)


def _load_state(path: Path) -> dict[str, Any] | None:
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def _as_pair(value: Any) -> Pair | None:
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str):
        return (value[0], value[1])
    return None
