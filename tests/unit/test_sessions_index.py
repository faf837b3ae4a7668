"""The session search index: derived, rebuilt when missing/damaged, re-indexes stale transcripts,
finds Chinese text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from molt_desktop import paths
from molt_desktop.sessions import transcript as tx
from molt_desktop.sessions.index import SearchIndex
from molt_desktop.sessions.store import SessionStore


def _say(store: SessionStore, key: str, text: str, label: str | None = None) -> None:
    store.ensure(key, provider="fake", model="fake-1", model_api="openai-completions",
                 context_tokens=32000)
    store.append_message(key, {"role": "user", "content": [{"type": "text", "text": text}],
                               "timestamp": 1})
    if label:
        store.update(key, {"label": label})


@pytest.fixture
def state(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    store = SessionStore(state)
    _say(store, "agent:main:deploy", "我们明天部署新版本到服务器\n[message_id: m1]")
    _say(store, "agent:main:cooking", "How long should pasta boil?", label="Dinner plans")
    _say(store, "agent:main:mixed", "部署 checklist for the cluster")
    store.close()
    return state


@pytest.fixture
def store(state: Path) -> Iterator[SessionStore]:
    opened = SessionStore(state)
    yield opened
    opened.close()


def _db(state: Path) -> Path:
    return paths.cache_dir(state) / "sessions-main.sqlite"


def test_chinese_and_other_queries(store: SessionStore, state: Path) -> None:
    assert set(store.search("部署")) == {"agent:main:deploy", "agent:main:mixed"}
    assert store.search("明天部署") == ["agent:main:deploy"]  # 4 characters: trigram index
    assert store.search("部署 cluster") == ["agent:main:mixed"]  # every word must occur
    assert store.search("PASTA") == ["agent:main:cooking"]
    assert store.search("dinner") == ["agent:main:cooking"]  # label
    assert store.search("cooking") == ["agent:main:cooking"]  # key
    assert store.search("message_id") == []  # the hint the runtime adds is not content
    assert store.search("nothing like this") == []
    assert store.search("   ") == []
    if os.name == "posix":
        assert _db(state).stat().st_mode & 0o777 == 0o600


def test_results_are_most_recently_updated_first(store: SessionStore) -> None:
    store.update("agent:main:deploy", {"updatedAt": 10})
    store.update("agent:main:mixed", {"updatedAt": 20})
    assert store.search("部署") == ["agent:main:mixed", "agent:main:deploy"]
    assert store.search("部署", limit=1) == ["agent:main:mixed"]


def test_rebuilt_when_missing(store: SessionStore, state: Path) -> None:
    assert store.search("pasta") == ["agent:main:cooking"]
    store.close()
    db = _db(state)
    assert db.exists()
    db.unlink()
    reopened = SessionStore(state)
    try:
        assert reopened.search("pasta") == ["agent:main:cooking"]
    finally:
        reopened.close()
    assert db.exists()


def test_rebuilt_when_damaged(state: Path) -> None:
    db = _db(state)
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    store = SessionStore(state)
    try:
        assert store.search("pasta") == ["agent:main:cooking"]
    finally:
        store.close()


def test_damaged_while_open_is_rebuilt(store: SessionStore, state: Path) -> None:
    assert store.search("pasta") == ["agent:main:cooking"]
    index = store._search.for_agent("main")
    index.close()
    _db(state).write_bytes(b"garbage" * 1000)
    assert store.search("pasta") == ["agent:main:cooking"]


def test_stale_transcripts_are_reindexed(store: SessionStore, state: Path) -> None:
    index = SearchIndex(_db(state))
    try:
        assert index.refresh(store) == 3  # new database: everything
        assert index.refresh(store) == 0  # nothing changed
        entry = store.get("agent:main:cooking")
        assert entry is not None
        # Another program (OpenClaw, the sync) appends to the transcript behind our back.
        with tx.TranscriptWriter(store.transcript_path(entry)) as writer:
            writer.append(tx.message_entry({"role": "assistant", "content": "About 9 minutes"},
                                           parent_id=None))
        assert index.search("minutes") == []
        assert index.refresh(store) == 1
        assert index.search("minutes") == ["agent:main:cooking"]
        store.update("agent:main:deploy", {"label": "Release night"})
        assert index.refresh(store) == 1
        assert index.search("release") == ["agent:main:deploy"]
        store.delete("agent:main:mixed")
        assert index.refresh(store) == 0
        assert index.search("cluster") == []
    finally:
        index.close()


def test_appends_through_the_store_keep_the_index_current(store: SessionStore,
                                                          state: Path) -> None:
    assert store.search("pasta") == ["agent:main:cooking"]
    store.append_message("agent:main:cooking", {"role": "assistant", "content": "Salt the water"})
    index = store._search.for_agent("main")
    assert index.refresh(store) == 0  # the append was indexed without re-reading the file
    assert store.search("salt") == ["agent:main:cooking"]


def test_deleted_sessions_leave_the_results(store: SessionStore) -> None:
    assert "agent:main:mixed" in store.search("部署")
    store.delete("agent:main:mixed")
    assert store.search("部署") == ["agent:main:deploy"]
