"""SessionStore against real files: the OpenClaw 2026.1.29 state folder opens unchanged, and what
we write is what 2026.1.29 writes."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from molt_desktop import fileio
from molt_desktop.sessions import transcript as tx
from molt_desktop.sessions.store import SessionStore, SessionStoreError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REAL = FIXTURES / "state-2026.1.29"
AGENTPROBE_ID = "5529e951-aeb9-4604-9ac6-f72c2a5ae541"
OLD_DESKTOP_ID = "1a6474cd-bd4b-4b40-b4ad-e2807c24a8be"
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
HEX8 = re.compile(r"^[0-9a-f]{8}$")


@pytest.fixture
def real_state(tmp_path: Path) -> Path:
    """The real 2026.1.29 state folder laid out as OpenClaw keeps it."""
    state = tmp_path / "openclaw-state"
    sessions = state / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    shutil.copyfile(REAL / "openclaw.json", state / "openclaw.json")
    for name in ("sessions.json", f"{AGENTPROBE_ID}.jsonl", f"{OLD_DESKTOP_ID}.jsonl"):
        shutil.copyfile(REAL / name, sessions / name)
    return state


@pytest.fixture
def store(real_state: Path) -> Iterator[SessionStore]:
    opened = SessionStore(real_state)
    yield opened
    opened.close()


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[SessionStore]:
    opened = SessionStore(tmp_path / "state")
    yield opened
    opened.close()


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def _captured(method_payload_has: str) -> dict[str, Any]:
    frames = (FIXTURES / "captures" / "frames-v129-chat.jsonl").read_text().splitlines()
    for line in frames:
        payload = json.loads(line)["frame"].get("payload")
        if isinstance(payload, dict) and method_payload_has in payload:
            return payload
    raise AssertionError(method_payload_has)


def test_real_state_opens_unchanged(store: SessionStore, real_state: Path) -> None:
    before = _snapshot(real_state)
    assert list(store.entries()) == ["agent:main:desktop-probe", "agent:main:agentprobe"]
    assert store.get("agent:main:agentprobe")["sessionId"] == AGENTPROBE_ID  # type: ignore[index]
    store.history("agent:main:agentprobe")
    store.history("agent:main:desktop-probe")
    store.preview("agent:main:agentprobe")
    assert _snapshot(real_state) == before


def test_real_agentprobe_history_is_what_the_gateway_returns(store: SessionStore) -> None:
    lines = (REAL / f"{AGENTPROBE_ID}.jsonl").read_text().splitlines()
    history = store.history("agent:main:agentprobe")
    assert history.session_id == AGENTPROBE_ID
    assert history.messages == [json.loads(lines[4])["message"], json.loads(lines[5])["message"]]
    assert history.messages[0]["content"] == [{"type": "text", "text": "Say hi"}]
    assert history.thinking_level is None  # the gateway falls back to "off" for this model
    assert store.history("agent:main:agentprobe", limit=1).messages == history.messages[1:]


def test_real_desktop_probe_history_is_empty_after_its_reset(store: SessionStore) -> None:
    # Its current sessionId has no transcript; 1a6474cd... is left over from before the reset.
    history = store.history("agent:main:desktop-probe")
    assert history.session_id == "50ed39ff-a605-4609-9e6b-c24211125dfe"
    assert history.messages == []


def test_history_has_the_captured_shape_before_the_reset(store: SessionStore) -> None:
    captured = _captured("messages")
    store.update("agent:main:desktop-probe", {"sessionId": OLD_DESKTOP_ID})
    history = store.history("agent:main:desktop-probe", limit=20)
    assert history.session_id == captured["sessionId"]
    assert history.messages == captured["messages"]  # "[message_id: ...]" stripped


def test_unknown_session_history_is_empty(store: SessionStore) -> None:
    assert store.history("agent:main:nope").messages == []
    assert store.get("agent:main:nope") is None
    with pytest.raises(ValueError):
        store.get("agent:main")


def test_update_rewrites_only_the_changed_entry(store: SessionStore, real_state: Path) -> None:
    path = store.sessions_file()
    original = path.read_bytes()
    entry = store.update("agent:main:agentprobe", {"label": "Renamed", "modelProvider": None})
    assert entry["label"] == "Renamed" and "modelProvider" not in entry
    assert entry["skillsSnapshot"]["version"] == 0  # unknown fields survive
    expected = json.loads(original)
    expected["agent:main:agentprobe"].pop("modelProvider")
    expected["agent:main:agentprobe"]["label"] = "Renamed"
    expected["agent:main:agentprobe"]["updatedAt"] = entry["updatedAt"]
    written = path.read_bytes()
    assert written == json.dumps(expected, indent=2, ensure_ascii=False).encode()
    assert written.split(b'"agent:main:agentprobe"')[0] == original.split(b'"agent:main:agentprobe"')[0]
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600


def test_update_creates_a_missing_entry(empty_store: SessionStore) -> None:
    entry = empty_store.update("agent:main:new", {"label": "x"})
    assert list(entry) == ["sessionId", "updatedAt", "label"]
    with pytest.raises(ValueError):
        empty_store.update("agent:main:new", {"sessionId": None})
    with pytest.raises(ValueError):
        empty_store.update("agent:main:new", {"bad": {1, 2}})
    assert empty_store.get("agent:main:new") == entry


def test_ensure_writes_the_2026_1_29_header(empty_store: SessionStore) -> None:
    entry = empty_store.ensure("agent:main:desktop-probe", provider="fake", model="fake-1",
                               model_api="openai-completions", context_tokens=32000)
    assert list(entry) == [
        "sessionId", "updatedAt", "systemSent", "abortedLastRun", "chatType", "sessionFile",
        "inputTokens", "outputTokens", "totalTokens", "modelProvider", "model", "contextTokens",
    ]
    path = empty_store.transcript_path(entry)
    assert entry["sessionFile"] == str(path) and path.name == f"{entry['sessionId']}.jsonl"
    lines = path.read_bytes().splitlines()
    header, change, thinking, snapshot = (json.loads(line) for line in lines)
    real = [json.loads(line) for line in (REAL / f"{AGENTPROBE_ID}.jsonl").read_bytes().splitlines()]
    assert [list(e) for e in (header, change, thinking, snapshot)] == [list(e) for e in real[:4]]
    assert list(snapshot["data"]) == list(real[3]["data"])
    assert header == {"type": "session", "version": 3, "id": entry["sessionId"],
                      "timestamp": header["timestamp"], "cwd": str(empty_store.workspace)}
    assert (change["parentId"], thinking["parentId"], snapshot["parentId"]) == (
        None, change["id"], thinking["id"])
    assert all(HEX8.match(e["id"]) for e in (change, thinking, snapshot))
    assert all(ISO_MS.match(e["timestamp"]) for e in (header, change, thinking, snapshot))
    assert (change["provider"], change["modelId"], thinking["thinkingLevel"]) == ("fake", "fake-1", "off")
    assert snapshot["data"]["modelApi"] == "openai-completions"
    assert lines[0].startswith(b'{"type":"session","version":3,"id":')
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700


def test_ensure_repairs_an_entry_without_session_id(empty_store: SessionStore) -> None:
    path = empty_store.sessions_file()
    path.parent.mkdir(parents=True)
    path.write_text('{"agent:main:x": {"label": "kept", "sessionId": "../../evil"}}')
    entry = empty_store.ensure("agent:main:x", provider="p", model="m", model_api="a",
                               context_tokens=1)
    assert entry["label"] == "kept" and re.match(r"^[0-9a-f-]{36}$", entry["sessionId"])
    assert empty_store.transcript_path(entry).parent == path.parent


def test_ensure_again_appends_model_lines_only_for_changes(empty_store: SessionStore) -> None:
    args: dict[str, Any] = dict(provider="fake", model="fake-1", model_api="openai-completions",
                                context_tokens=32000)
    entry = empty_store.ensure("agent:main:x", **args)
    path = empty_store.transcript_path(entry)
    size = path.stat().st_size
    assert empty_store.ensure("agent:main:x", **args)["sessionId"] == entry["sessionId"]
    assert path.stat().st_size == size
    empty_store.ensure("agent:main:x", **{**args, "provider": "anthropic", "model": "claude",
                                          "model_api": "anthropic-messages"})
    added = [json.loads(line) for line in path.read_bytes()[size:].splitlines()]
    assert [e["type"] for e in added] == ["model_change", "custom"]
    assert added[1]["parentId"] == added[0]["id"]


def test_append_chains_entries_and_history_strips_message_ids(empty_store: SessionStore) -> None:
    empty_store.ensure("agent:main:x", provider="fake", model="fake-1",
                       model_api="openai-completions", context_tokens=32000)
    user = {"role": "user", "content": [{"type": "text", "text": "Say hello\n[message_id: 392a]"}],
            "timestamp": 1795268643598}
    reply = {"role": "assistant", "content": [{"type": "text", "text": "Hello"}],
             "api": "openai-completions", "provider": "fake", "model": "fake-1",
             "usage": {"input": 10, "output": 11, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 21,
                       "cost": {"input": 0.00003, "output": 0.0, "cacheRead": 0, "cacheWrite": 0,
                                "total": 0.00003}},
             "stopReason": "stop", "timestamp": 1795268643603}
    first = empty_store.append_message("agent:main:x", user)
    second = empty_store.append_message("agent:main:x", reply)
    path = empty_store.transcript_path(empty_store.get("agent:main:x"))  # type: ignore[arg-type]
    lines = path.read_bytes().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["id"] for e in entries[-2:]] == [first, second]
    assert entries[-2]["parentId"] == entries[-3]["id"] and entries[-1]["parentId"] == first
    assert list(entries[-1]) == ["type", "id", "parentId", "timestamp", "message"]
    assert b'"cost":{"input":0.00003,"output":0,"cacheRead":0,"cacheWrite":0,"total":0.00003}' in lines[-1]
    assert b"[message_id: 392a]" in lines[-2]  # stored as the runtime wrote it
    history = empty_store.history("agent:main:x")
    assert history.messages[0]["content"][0]["text"] == "Say hello"
    assert history.messages[1] == json.loads(json.dumps(reply))


def test_append_needs_a_session_and_an_object(empty_store: SessionStore) -> None:
    with pytest.raises(KeyError):
        empty_store.append_message("agent:main:none", {"role": "user", "content": "x"})
    empty_store.update("agent:main:x", {})
    with pytest.raises(ValueError):
        empty_store.append_message("agent:main:x", "text")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        empty_store.append_message("agent:main:x", {"role": "user", "content": {1}})
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError):
        empty_store.append_message("agent:main:x", {"role": "user", "content": deep})


def test_append_after_reset_starts_a_new_transcript(store: SessionStore) -> None:
    entry = store.get("agent:main:desktop-probe")
    assert entry is not None
    path = store.transcript_path(entry)
    assert not path.exists()
    message_id = store.append_message("agent:main:desktop-probe", {"role": "user", "content": "hi"})
    header, message = (json.loads(line) for line in path.read_bytes().splitlines())
    assert header["type"] == "session" and header["id"] == entry["sessionId"]
    assert message["id"] == message_id and message["parentId"] is None


def test_reset_keeps_what_openclaw_keeps(store: SessionStore, real_state: Path) -> None:
    # The desktop-probe entry as the 2026.1.29 gateway returned it just before its reset ...
    before = _captured("entry")["entry"]
    store.update("agent:main:desktop-probe", before)
    entry = store.reset("agent:main:desktop-probe")
    # ... and as that gateway wrote it after the reset (the fixture's sessions.json).
    real_after = json.loads((REAL / "sessions.json").read_text())["agent:main:desktop-probe"]
    assert list(entry) == list(real_after)
    for name in real_after:
        if name not in ("sessionId", "updatedAt"):
            assert entry[name] == real_after[name], name
    assert entry["sessionId"] != before["sessionId"]
    assert (real_state / "agents/main/sessions" / f"{OLD_DESKTOP_ID}.jsonl").exists()


def test_delete_archives_the_transcript(store: SessionStore, real_state: Path) -> None:
    with pytest.raises(ValueError, match="main session"):
        store.delete("agent:main:main")
    archived = store.delete("agent:main:agentprobe")
    assert len(archived) == 1
    name = Path(archived[0]).name
    assert re.match(rf"^{AGENTPROBE_ID}\.jsonl\.deleted\.\d{{4}}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{{3}}Z$", name)
    assert Path(archived[0]).read_bytes() == (REAL / f"{AGENTPROBE_ID}.jsonl").read_bytes()
    assert list(store.entries()) == ["agent:main:desktop-probe"]
    assert store.delete("agent:main:agentprobe") == []


def test_delete_can_keep_the_transcript(empty_store: SessionStore) -> None:
    entry = empty_store.ensure("agent:main:x", provider="p", model="m", model_api="a",
                               context_tokens=1)
    assert empty_store.delete("agent:main:x", delete_transcript=False) == []
    assert empty_store.transcript_path(entry).exists()


def test_preview(store: SessionStore) -> None:
    assert store.preview("agent:main:agentprobe") == [
        {"role": "user", "text": "Say hi"},
        {"role": "assistant", "text": "Hello from the fake model. This is a streamed reply."},
    ]
    assert store.preview("agent:main:agentprobe", limit=1, max_chars=10) == [
        {"role": "assistant", "text": "Hello f..."}
    ]


def test_external_edits_are_seen_and_listing_is_cached(store: SessionStore) -> None:
    first = store.entries()
    assert store.entries() is first  # nothing re-read while the file is unchanged
    path = store.sessions_file()
    data = json.loads(path.read_text())
    data["agent:main:added"] = {"sessionId": "abc", "updatedAt": 1}
    path.write_text(json.dumps(data, indent=2))
    assert "agent:main:added" in store.entries()
    assert "agent:main:added" not in first  # earlier snapshots stay as they were


def test_listing_reads_no_transcript(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = tmp_path / "s" / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    data = {f"agent:main:s{i}": {"sessionId": f"id-{i}", "updatedAt": i} for i in range(10_000)}
    (sessions / "sessions.json").write_text(json.dumps(data, indent=2))

    def no_transcripts(path: Path) -> list[dict[str, Any]]:
        raise AssertionError(f"listing read {path}")

    monkeypatch.setattr(tx, "read_transcript", no_transcripts)
    opened = SessionStore(tmp_path / "s")
    entries = opened.entries()
    assert len(entries) == 10_000
    newest = sorted(entries, key=lambda k: entries[k]["updatedAt"], reverse=True)[:200]
    assert newest[0] == "agent:main:s9999"


def test_damaged_sessions_json_is_kept_aside(store: SessionStore) -> None:
    path = store.sessions_file()
    path.write_bytes(b'{"agent:main:x": {"sessionId": ')
    assert store.entries() == {}
    store.update("agent:main:y", {"label": "new"})
    assert list(store.entries()) == ["agent:main:y"]
    backups = list(path.parent.glob("sessions.json.corrupt.*"))
    assert [b.read_bytes() for b in backups] == [b'{"agent:main:x": {"sessionId": ']


def test_disk_full_leaves_sessions_json_intact(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = store.sessions_file()
    original = path.read_bytes()

    def enospc(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "write", enospc)
    with pytest.raises(SessionStoreError, match="No space left on device.*was not changed"):
        store.update("agent:main:agentprobe", {"label": "lost"})
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert "label" not in store.entries()["agent:main:agentprobe"]
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert store.update("agent:main:agentprobe", {"label": "kept"})["label"] == "kept"


def test_unwritable_directory_leaves_sessions_json_intact(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = store.sessions_file()
    original = path.read_bytes()

    def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(fileio.tempfile, "mkstemp", denied)
    with pytest.raises(SessionStoreError, match="Permission denied.*fix the permissions"):
        store.update("agent:main:agentprobe", {"label": "lost"})
    assert path.read_bytes() == original


def test_concurrent_appends_and_updates(empty_store: SessionStore) -> None:
    empty_store.ensure("agent:main:shared", provider="p", model="m", model_api="a",
                       context_tokens=1)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            empty_store.ensure(f"agent:main:own-{n}", provider="p", model="m", model_api="a",
                               context_tokens=1)
            for i in range(25):
                empty_store.append_message("agent:main:shared",
                                           {"role": "user", "content": f"{n}-{i}"})
                empty_store.append_message(f"agent:main:own-{n}",
                                           {"role": "user", "content": f"{i}"})
                empty_store.update(f"agent:main:own-{n}", {"inputTokens": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entries = empty_store.entries()
    assert all(entries[f"agent:main:own-{n}"]["inputTokens"] == 24 for n in range(8))
    shared = empty_store.transcript_path(entries["agent:main:shared"])
    lines = [json.loads(line) for line in shared.read_bytes().splitlines()]
    assert len(lines) == 4 + 200
    assert len({line["id"] for line in lines}) == len(lines)
    for previous, line in zip(lines[1:], lines[2:]):
        assert line["parentId"] == previous["id"]
    assert sorted(m["content"] for m in empty_store.history("agent:main:shared", None).messages) == \
        sorted(f"{n}-{i}" for n in range(8) for i in range(25))


def test_session_file_name_is_used_only_inside_the_sessions_dir(empty_store: SessionStore) -> None:
    sessions = empty_store.sessions_file().parent
    sessions.mkdir(parents=True)
    (sessions / "abc-topic-7.jsonl").write_text("")
    assert empty_store.transcript_path(
        {"sessionId": "abc", "sessionFile": "/elsewhere/abc-topic-7.jsonl"}) == sessions / "abc-topic-7.jsonl"
    assert empty_store.transcript_path(
        {"sessionId": "abc", "sessionFile": "/etc/passwd"}) == sessions / "abc.jsonl"
    for bad in ("../x", "", None, "a/b"):
        with pytest.raises(ValueError):
            empty_store.transcript_path({"sessionId": bad})
