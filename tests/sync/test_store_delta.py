"""sessions.json shipped as a base plus changes lines (sync/store_delta.py), over LocalFolderBackend.

Real sessions written by SessionStore: bytes of one chat turn with 1,000 sessions, the other
device's rebuilt copy, a restore from the server folder alone, compaction, an unparsable file, a
crash between the changes append and the commit, a deleted session."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.sessions.jsjson import js_dumps, js_utf8
from molt_desktop.sessions.store import SessionStore
from molt_desktop.sync import store_delta
from molt_desktop.sync.backend import SyncBackendError
from molt_desktop.sync.engine import SyncEngine
from molt_desktop.sync.index import load_index
from molt_desktop.sync.local import LocalFolderBackend
from tests.sync.helpers import A_DIR, A_ID, B_ID, C_ID, SESS, engines, make_dirs

STORE = f"{SESS}/sessions.json"
CHANGES = f"{STORE}.changes.jsonl"


def _chat(store: SessionStore, key: str, text: str) -> None:
    store.ensure(key, provider="fake", model="m1", model_api="openai-completions", context_tokens=8000)
    store.append_message(key, {"role": "user", "content": text, "timestamp": 1})


def _turn(store: SessionStore, key: str, n: int) -> None:
    """A chat turn as the recorder leaves it: the reply appended, then the entry's usage updated."""
    store.append_message(key, {"role": "assistant", "content": [{"type": "text", "text": f"reply {n} " * 8}],
                               "timestamp": 2})
    store.update(key, {"inputTokens": 100 + n, "outputTokens": 20 + n, "totalTokens": 120 + 2 * n})


@pytest.fixture(scope="module")
def thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state dir with 1,000 sessions made by SessionStore (fsync off while building it only)."""
    state = tmp_path_factory.mktemp("thousand")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "fsync", lambda fd: None)
        store = SessionStore(state)
        for i in range(1000):
            _chat(store, f"agent:main:s{i:04d}", f"question {i} " + "words " * 30)
        store.close()
    return state


def _synced_store(state: Path) -> bytes:
    return (state / "synced" / A_DIR / STORE).read_bytes()


def _restore(server_folder: Path) -> bytes:
    """What a reader of the server folder alone rebuilds, following the store_delta.py docstring."""
    base = (server_folder / STORE).read_bytes()
    changes = server_folder / CHANGES
    if not changes.exists():
        return base
    entries: dict[str, Any] = json.loads(base)
    for line in changes.read_bytes().splitlines():
        rec = json.loads(line)
        for key in rec["del"]:
            entries.pop(key, None)
        entries.update(rec["set"])
    return js_utf8(js_dumps(entries, 2))


async def _committed(share: Path) -> dict[str, Any]:
    return (await load_index(LocalFolderBackend(share), A_DIR, None, {})).files


async def test_a_chat_turn_with_1000_sessions_costs_a_few_kb(thousand: Path, tmp_path: Path) -> None:
    share, b = make_dirs(tmp_path, "share", "b")
    a = tmp_path / "a"
    shutil.copytree(thousand, a)
    backend = LocalFolderBackend(share)
    ea, eb = engines(a, b, backend)
    first = await ea.push()
    assert first.files_sent == 1001 and not first.errors
    assert (await eb.pull()).files_received == 1001
    store = SessionStore(a)
    size = (a / STORE).stat().st_size
    assert size > 400_000
    for n in range(3):
        _turn(store, "agent:main:s0500", n)
        push = await ea.push()
        print(f"chat turn {n}, 1000 sessions ({size} B sessions.json): push sent {push.bytes_sent} B, "
              f"received {push.bytes_received} B")
        assert push.files_sent == 2 and not push.errors
        assert push.bytes_sent + push.bytes_received < 8_000, push
        pull = await eb.pull()
        print(f"the other device's pull: received {pull.bytes_received} B")
        assert pull.files_received == 2 and pull.bytes_received < 8_000 and not pull.errors, pull
        # The rebuilt copy is the source file byte for byte, and so is a restore from the server.
        assert _synced_store(b) == (a / STORE).read_bytes()
        assert _restore(share / A_DIR) == (a / STORE).read_bytes()
    entry = json.loads(_synced_store(b))["agent:main:s0500"]
    assert entry["totalTokens"] == 124
    transcript = Path(store.transcript_path(store.get("agent:main:s0500") or {})).name
    assert (b / "synced" / A_DIR / SESS / transcript).read_bytes() == (a / SESS / transcript).read_bytes()
    # The changes file never shows in the synced folder; the base stays as first pushed.
    assert not (b / "synced" / A_DIR / CHANGES).exists()
    assert (share / A_DIR / STORE).stat().st_size == size
    assert len((share / A_DIR / CHANGES).read_bytes().splitlines()) == 3
    idle = await ea.push()
    assert idle.bytes_sent == 0 and idle.files_sent == 0
    assert (await eb.pull()).files_received == 0
    store.close()


async def test_many_changes_compact_into_a_new_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    share, a, b = make_dirs(tmp_path, "share", "a", "b")
    monkeypatch.setattr(store_delta, "CHANGES_MIN", 3_000)
    backend = LocalFolderBackend(share)
    ea, eb = engines(a, b, backend)
    store = SessionStore(a)
    for i in range(3):
        _chat(store, f"agent:main:k{i}", f"hello {i}")
    await ea.push()
    bases, sizes = set(), []
    for n in range(12):
        _turn(store, f"agent:main:k{n % 3}", n)
        if n == 5:
            _chat(store, "agent:main:new", "a new session between turns")
        assert not (await ea.push()).errors
        files = await _committed(share)
        bases.add(files[STORE].sha256)
        sizes.append(files[CHANGES].size if CHANGES in files else 0)
        # An unlisted changes file is removed with the compaction that drops it.
        assert (CHANGES in files) == (share / A_DIR / CHANGES).exists()
        assert not (await eb.pull()).errors
        assert _synced_store(b) == (a / STORE).read_bytes()
        assert _restore(share / A_DIR) == (a / STORE).read_bytes()
    assert len(bases) > 1 and 0 in sizes[1:]
    limit = store_delta.changes_limit(max(f.stat().st_size for f in [share / A_DIR / STORE]))
    assert max(sizes) <= limit
    store.close()


async def test_an_unparsable_sessions_json_still_ships(tmp_path: Path) -> None:
    share, a, b = make_dirs(tmp_path, "share", "a", "b")
    backend = LocalFolderBackend(share)
    ea, eb = engines(a, b, backend)
    store = SessionStore(a)
    _chat(store, "agent:main:x", "hi")
    await ea.push()
    _turn(store, "agent:main:x", 1)
    await ea.push()
    assert (share / A_DIR / CHANGES).exists()
    broken = b'{"agent:main:x": {"sessionId": "half a write'
    (a / STORE).write_bytes(broken)
    report = await ea.push()
    assert report.files_sent == 1 and not report.errors
    files = await _committed(share)
    assert CHANGES not in files and (share / A_DIR / STORE).read_bytes() == broken
    assert not (await eb.pull()).errors
    assert _synced_store(b) == broken
    # Repaired: the next push ships it whole again, then changes lines go on from it.
    store2 = SessionStore(a)
    _chat(store2, "agent:main:y", "after the repair")
    for _ in range(2):
        assert not (await ea.push()).errors
        assert not (await eb.pull()).errors
        assert _synced_store(b) == (a / STORE).read_bytes()
        _turn(store2, "agent:main:y", 2)
    store.close()
    store2.close()


class HeadFails(LocalFolderBackend):
    """Fails the write of the index head once: a push that stops right before its commit."""

    armed = False

    async def write_new(self, path: str, data: bytes) -> None:
        if self.armed and path.endswith(".manifest.json.tmp"):
            self.armed = False
            raise SyncBackendError("connection lost")
        await super().write_new(path, data)


async def test_a_crash_between_the_changes_append_and_the_commit(tmp_path: Path) -> None:
    share, a, b, c = make_dirs(tmp_path, "share", "a", "b", "c")
    backend = HeadFails(share)
    ea, eb = engines(a, b, backend)
    store = SessionStore(a)
    for i in range(3):
        _chat(store, f"agent:main:k{i}", f"hello {i}")
    await ea.push()
    _turn(store, "agent:main:k0", 1)
    await ea.push()
    await eb.pull()
    before = (a / STORE).read_bytes()
    committed = (share / A_DIR / CHANGES).stat().st_size
    _turn(store, "agent:main:k1", 2)
    backend.armed = True
    with pytest.raises(SyncBackendError):
        await ea.push()
    assert (share / A_DIR / CHANGES).stat().st_size > committed  # the line was appended, not committed
    # Readers see the previous state: the one that had it keeps it, a new one rebuilds it.
    assert not (await eb.pull()).errors
    assert _synced_store(b) == before
    assert not (await SyncEngine(c, backend, "gamma", C_ID).pull()).errors
    assert _synced_store(c) == before
    # The next run completes (the stopped run's lock is stale by then) and overwrites the stray line.
    _turn(store, "agent:main:k2", 3)
    assert not (await SyncEngine(a, backend, "alpha", A_ID, lock_stale_seconds=0).push()).errors
    for state, name, dev in ((b, "beta", B_ID), (c, "gamma", C_ID)):
        assert not (await SyncEngine(state, backend, name, dev).pull()).errors
        assert _synced_store(state) == (a / STORE).read_bytes()
    assert _restore(share / A_DIR) == (a / STORE).read_bytes()
    lines = (share / A_DIR / CHANGES).read_bytes().splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)
    store.close()


async def test_a_deleted_session_leaves_the_other_devices_synced_list(tmp_path: Path) -> None:
    share, a, b = make_dirs(tmp_path, "share", "a", "b")
    backend = LocalFolderBackend(share)
    ea, eb = engines(a, b, backend)
    store = SessionStore(a)
    for i in range(3):
        _chat(store, f"agent:main:k{i}", f"hello {i}")
    await ea.push()
    await eb.pull()
    gone = store.get("agent:main:k1") or {}
    transcript = Path(store.transcript_path(gone)).name
    assert "agent:main:k1" in json.loads(_synced_store(b))
    store.delete("agent:main:k1")
    report = await ea.push()
    assert not report.errors
    assert CHANGES in await _committed(share)  # the removal went as a changes line
    assert not (await eb.pull()).errors
    entries = json.loads(_synced_store(b))
    assert "agent:main:k1" not in entries and set(entries) == set(store.entries())
    assert _synced_store(b) == (a / STORE).read_bytes()
    synced_dir = b / "synced" / A_DIR / SESS
    assert not (synced_dir / transcript).exists()
    archived = [p.name for p in synced_dir.iterdir() if p.name.startswith(f"{transcript}.deleted.")]
    assert len(archived) == 1 and (share / A_DIR / SESS / archived[0]).exists()
    store.close()
