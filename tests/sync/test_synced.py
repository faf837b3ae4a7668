"""Synced sessions (sync/synced.py): what a pull leaves under `<state>/synced/`, read and continued here.

Real files: device A's sessions are written by SessionStore, pushed with SyncEngine over a
LocalFolderBackend, pulled by device B; B lists them, reads their history and forks them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from molt_desktop.sessions.store import SessionStore
from molt_desktop.sync.engine import SyncEngine
from molt_desktop.sync.local import LocalFolderBackend
from molt_desktop.sync.synced import (SyncedSession, SyncedSessionMissing, fork_synced, list_synced,
                                      synced_history)
from tests.sync.helpers import A_ID, B_ID


def _user(text: str) -> dict[str, object]:
    return {"role": "user", "content": [{"type": "text", "text": text}], "timestamp": 1}


def _assistant(text: str) -> dict[str, object]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}], "api": "openai-completions",
            "provider": "fake", "model": "m1", "stopReason": "stop", "timestamp": 2}


def _chat(store: SessionStore, key: str, *pairs: tuple[str, str], label: str | None = None) -> None:
    store.ensure(key, provider="fake", model="m1", model_api="openai-completions", context_tokens=8000)
    for question, answer in pairs:
        store.append_messages(key, [_user(question), _assistant(answer)])
    if label:
        store.update(key, {"label": label})


async def _sync(a: Path, b: Path, share: Path) -> None:
    backend = LocalFolderBackend(share)
    await SyncEngine(a, backend, "laptop", A_ID).push()
    await SyncEngine(b, backend, "desk", B_ID).pull()


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    a, b, share = tmp_path / "a", tmp_path / "b", tmp_path / "share"
    for p in (a, b, share):
        p.mkdir()
    return a, b, share


async def test_list_history_and_fork_after_a_real_pull(dirs: tuple[Path, Path, Path]) -> None:
    a, b, share = dirs
    store_a = SessionStore(a)
    _chat(store_a, "agent:main:desktop-11111111", ("How do I bake bread?", "Flour, water, salt, yeast."),
          ("And how long?", "About 40 minutes."))
    _chat(store_a, "agent:main:desktop-22222222", ("你好", "你好！"), label="Greetings")
    store_a.close()
    await _sync(a, b, share)

    found = list_synced(b)
    assert [(s.device_name, s.device_id[:8], s.agent_id) for s in found] == [("laptop", A_ID[:8], "main")] * 2
    by_key = {s.key: s for s in found}
    bread = by_key["agent:main:desktop-11111111"]
    assert bread.title == "How do I bake bread?"  # the first user message
    assert by_key["agent:main:desktop-22222222"].title == "Greetings"  # a label wins
    assert bread.folder == f"laptop-{A_ID[:8]}"
    assert found[0].updated_at >= found[1].updated_at > 0  # newest first

    history = synced_history(b, bread)
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert history[-1]["content"][0]["text"] == "About 40 minutes."
    assert [m["role"] for m in synced_history(b, bread, limit=1)] == ["assistant"]

    store_b = SessionStore(b)
    try:
        key = fork_synced(store_b, b, bread)
        again = fork_synced(store_b, b, bread)
        assert key != again and key.startswith("agent:main:desktop-")  # forking twice gives two sessions
        entry = store_b.get(key)
        assert entry is not None
        assert entry["label"] == "How do I bake bread? (from laptop)"
        assert entry["forkedFrom"] == {"device": "laptop", "deviceId": A_ID, "sessionKey": bread.key,
                                       "sessionId": bread.session_id}
        assert entry["model"] == "m1" and entry["modelProvider"] == "fake"
        local = store_b.history(key).messages
        assert [m["content"][0]["text"] for m in local] == [m["content"][0]["text"] for m in history]
        assert entry["sessionId"] != bread.session_id
        # The synced copy is untouched and read-only; the fork lives in B's own sessions folder.
        assert (b / "agents" / "main" / "sessions" / f"{entry['sessionId']}.jsonl").is_file()
        synced_file = b / "synced" / bread.folder / "agents" / "main" / "sessions" / f"{bread.session_id}.jsonl"
        assert len(synced_file.read_bytes().splitlines()) == len((a / "agents" / "main" / "sessions" /
                                                                  f"{bread.session_id}.jsonl").read_bytes().splitlines())
        # Continuing the fork appends locally only.
        store_b.append_messages(key, [_user("Thanks")])
        assert len(store_b.history(key).messages) == 5
        assert len(synced_history(b, bread)) == 4
    finally:
        store_b.close()
    assert all(s.folder.startswith("laptop-") for s in list_synced(b))  # B's own sessions are not "synced"


async def test_a_vanished_session_gives_a_clear_error(dirs: tuple[Path, Path, Path]) -> None:
    a, b, share = dirs
    store_a = SessionStore(a)
    _chat(store_a, "agent:main:desktop-33333333", ("Plan the trip", "Day 1: Kyoto."))
    _chat(store_a, "agent:main:desktop-44444444", ("Keep me", "Kept."))
    await _sync(a, b, share)
    gone = next(s for s in list_synced(b) if s.key.endswith("33333333"))
    store_a.delete(gone.key)
    store_a.close()
    await _sync(a, b, share)

    assert [s.key for s in list_synced(b)] == ["agent:main:desktop-44444444"]
    store_b = SessionStore(b)
    try:
        with pytest.raises(SyncedSessionMissing, match="no longer in the synced sessions"):
            fork_synced(store_b, b, gone)
        assert store_b.entries() == {}  # nothing half-made
    finally:
        store_b.close()
    with pytest.raises(SyncedSessionMissing):
        synced_history(b, gone)

    # The whole device folder removed: the same error, not a crash.
    kept = list_synced(b)[0]
    shutil.rmtree(b / "synced" / kept.folder, ignore_errors=True)
    assert list_synced(b) == []
    with pytest.raises(SyncedSessionMissing):
        synced_history(b, kept)


def test_device_name_from_the_folder_when_no_manifest_and_bad_files_are_skipped(tmp_path: Path) -> None:
    sessions = tmp_path / "synced" / "old-pc-0123abcd" / "agents" / "work" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "sessions.json").write_text(json.dumps({
        "agent:work:main": {"sessionId": "s-1", "updatedAt": 5, "displayName": "Work chat"},
        "agent:work:bad": {"sessionId": "../escape", "updatedAt": 9},
        "agent:work:nothing": "not an entry",
    }))
    broken = tmp_path / "synced" / "broken-00000000" / "agents" / "main" / "sessions"
    broken.mkdir(parents=True)
    (broken / "sessions.json").write_text("{not json")
    (tmp_path / "synced" / "stray-file").write_text("x")

    found = list_synced(tmp_path)
    assert found == [SyncedSession(folder="old-pc-0123abcd", device_name="old-pc", device_id="0123abcd",
                                   agent_id="work", key="agent:work:main", session_id="s-1", title="Work chat",
                                   updated_at=5, message_count=None)]
    with pytest.raises(SyncedSessionMissing, match="have not been synced yet"):
        synced_history(tmp_path, found[0])  # listed, but its transcript is not there
    assert list_synced(tmp_path / "nowhere") == []
