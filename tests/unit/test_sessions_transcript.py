"""Transcript lines byte for byte as OpenClaw 2026.1.29 writes them; reading damaged files; the
append path (fsync per entry, torn-line repair), including a writer killed with SIGKILL."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.sessions import display
from molt_desktop.sessions import transcript as tx
from molt_desktop.sessions.jsjson import js_dumps, js_utf8

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REAL = FIXTURES / "state-2026.1.29"
AGENTPROBE = REAL / "5529e951-aeb9-4604-9ac6-f72c2a5ae541.jsonl"
DESKTOP_OLD = REAL / "1a6474cd-bd4b-4b40-b4ad-e2807c24a8be.jsonl"


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


@pytest.mark.parametrize("path", [AGENTPROBE, DESKTOP_OLD], ids=lambda p: p.name[:8])
def test_real_lines_reencode_to_the_same_bytes(path: Path) -> None:
    for line in path.read_bytes().splitlines(keepends=True):
        assert tx.encode_line(json.loads(line)) == line


def test_real_sessions_json_reencodes_to_the_same_bytes() -> None:
    raw = (REAL / "sessions.json").read_bytes()
    assert js_utf8(js_dumps(json.loads(raw), 2)) == raw
    assert not raw.endswith(b"\n")


@pytest.mark.parametrize("path", [AGENTPROBE, DESKTOP_OLD], ids=lambda p: p.name[:8])
def test_builders_write_what_openclaw_wrote(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    real = [json.loads(line) for line in lines]
    header, change, thinking, snapshot, user, assistant = real
    built = [
        tx.session_header(header["id"], header["cwd"], _ms(header["timestamp"])),
        tx.model_change_entry(change["provider"], change["modelId"], parent_id=None,
                              entry_id=change["id"], ts_ms=_ms(change["timestamp"])),
        tx.thinking_level_entry("off", parent_id=change["id"], entry_id=thinking["id"],
                                ts_ms=_ms(thinking["timestamp"])),
        tx.model_snapshot_entry("fake", "openai-completions", "fake-1", parent_id=thinking["id"],
                                entry_id=snapshot["id"], ts_ms=snapshot["data"]["timestamp"]),
        tx.message_entry(user["message"], parent_id=snapshot["id"], entry_id=user["id"],
                         ts_ms=_ms(user["timestamp"])),
        tx.message_entry(assistant["message"], parent_id=user["id"], entry_id=assistant["id"],
                         ts_ms=_ms(assistant["timestamp"])),
    ]
    assert [tx.encode_line(entry) for entry in built] == lines


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.00003, "0.00003"),  # Python would write 3e-05
        (3e-06, "0.000003"),
        (1e-7, "1e-7"),
        (1.0, "1"),
        (0.0, "0"),
        (-0.0, "0"),
        (100.0, "100"),
        (123.456, "123.456"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (-2.5e-8, "-2.5e-8"),
        (5e-324, "5e-324"),
        (float("nan"), "null"),
        (float("inf"), "null"),
        (7, "7"),
        (True, "true"),
        (None, "null"),
    ],
)
def test_numbers_as_javascript_writes_them(value: Any, text: str) -> None:
    assert js_dumps(value) == text


def test_strings_and_keys_as_javascript_writes_them() -> None:
    assert js_dumps({"b": 1, "10": 2, "2": 3, "a": 4, "01": 5}) == '{"2":3,"10":2,"b":1,"a":4,"01":5}'
    assert js_dumps({"t": "部署 é \x01\x1f\n\t\"\\ \u2028"}) == '{"t":"部署 é \\u0001\\u001f\\n\\t\\"\\\\ \u2028"}'
    assert js_utf8(js_dumps("a\ud800b")) == b'"a\\ud800b"'
    assert js_dumps({"a": [], "b": {}, "c": [1, {"d": None}]}, 2) == (
        '{\n  "a": [],\n  "b": {},\n  "c": [\n    1,\n    {\n      "d": null\n    }\n  ]\n}'
    )
    with pytest.raises(TypeError):
        js_dumps({"a": {1, 2}})


def test_new_entry_id_is_8_hex_and_avoids_taken_ids() -> None:
    class FirstTaken:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def __contains__(self, item: object) -> bool:
            self.asked.append(str(item))
            return len(self.asked) < 3

    taken = FirstTaken()
    entry_id = tx.new_entry_id(taken)
    assert len(entry_id) == 8 and int(entry_id, 16) >= 0
    assert taken.asked[-1] == entry_id and len(taken.asked) == 3


def test_read_missing_transcript_is_empty(tmp_path: Path) -> None:
    assert tx.read_transcript(tmp_path / "nope.jsonl") == []


def test_read_ignores_torn_last_line_and_skips_damaged_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        b'{"type":"session","id":"s"}\r\n'
        b'not json\n'
        b'[1,2]\n'
        b'\n'
        b'{"type":"message","id":"a","message":{"role":"user","content":"caf\xe9"}}\n'
        b'{"type":"compaction","id":"c","summary":"kept as is"}\n'
        b'{"type":"message","id":"b","mess'
    )
    with caplog.at_level(logging.INFO, logger="molt_desktop.sessions"):
        entries = tx.read_transcript(path)
    assert [e["id"] for e in entries] == ["s", "a", "c"]
    assert entries[1]["message"]["content"] == "caf\ufffd"
    assert entries[2] == {"type": "compaction", "id": "c", "summary": "kept as is"}
    assert "skipped 2 damaged line(s)" in caplog.text
    assert "unfinished last line" in caplog.text


def test_read_accepts_complete_last_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"id":"a"}\n{"id":"b"}')
    assert [e["id"] for e in tx.read_transcript(path)] == ["a", "b"]


def test_writer_creates_private_file_and_dirs(tmp_path: Path) -> None:
    path = tmp_path / "agents" / "main" / "sessions" / "x.jsonl"
    with tx.TranscriptWriter(path) as writer:
        writer.append({"type": "session", "id": "x"})
    assert path.read_bytes() == b'{"type":"session","id":"x"}\n'
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
        for directory in (path.parent, path.parent.parent, path.parent.parent.parent):
            assert directory.stat().st_mode & 0o777 == 0o700


def test_writer_fsyncs_every_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(tx.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    with tx.TranscriptWriter(tmp_path / "t.jsonl") as writer:
        for i in range(3):
            writer.append({"id": str(i)})
            assert len(synced) == i + 1


def test_writer_cuts_a_torn_line_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"id":"a"}\n{"id":"b","message":{"role":"us')
    with tx.TranscriptWriter(path) as writer:
        writer.append({"id": "c"})
    assert path.read_bytes() == b'{"id":"a"}\n{"id":"c"}\n'


def test_writer_repairs_without_pread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has no os.pread; the repair must work with seek + read."""
    monkeypatch.delattr(tx.os, "pread", raising=False)
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"id":"a"}\n' * 5000 + b'{"id":"b","mess')
    with tx.TranscriptWriter(path) as writer:
        writer.append({"id": "c"})
    assert path.read_bytes() == b'{"id":"a"}\n' * 5000 + b'{"id":"c"}\n'


def test_writer_cuts_a_torn_first_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"type":"sess')
    with tx.TranscriptWriter(path) as writer:
        assert writer.size == 0
        writer.append({"id": "c"})
    assert path.read_bytes() == b'{"id":"c"}\n'


def test_writer_completes_a_line_missing_only_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"id":"a"}\n{"id":"b"}')
    with tx.TranscriptWriter(path) as writer:
        writer.append({"id": "c"})
    assert path.read_bytes() == b'{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n'


def test_failed_append_takes_back_the_partial_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"id":"a"}\n')
    real_write = os.write
    calls = {"n": 0}

    def half_then_enospc(fd: int, data: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data)[:5])
        raise OSError(errno.ENOSPC, "No space left on device")

    with tx.TranscriptWriter(path) as writer:
        monkeypatch.setattr(tx.os, "write", half_then_enospc)
        with pytest.raises(tx.TranscriptError, match="No space left"):
            writer.append({"id": "b", "text": "x" * 100})
        monkeypatch.setattr(tx.os, "write", real_write)
        writer.append({"id": "c"})
    assert path.read_bytes() == b'{"id":"a"}\n{"id":"c"}\n'


def test_history_view_strips_message_id_and_envelopes() -> None:
    entries: list[dict[str, Any]] = [
        {"type": "session", "id": "s"},
        {"type": "message", "id": "1", "message": {
            "role": "user", "content": [{"type": "text", "text": "Say hello\n[message_id: 392a]"},
                                        {"type": "image", "data": "AAAA", "mimeType": "image/png"}],
            "timestamp": 1}},
        {"type": "message", "id": "2", "message": {
            "role": "user", "content": "[WebChat agent:main 2026-01-01 10:00 UTC] hi there"}},
        {"type": "message", "id": "3", "message": {
            "role": "user", "content": "[not an envelope] keep\n[message_id: 7]"}},
        {"type": "message", "id": "4", "message": {
            "role": "assistant", "content": [{"type": "text", "text": "a\n[message_id: x]"}]}},
        {"type": "custom", "customType": "model-snapshot", "data": {}},
        {"type": "compaction", "id": "c1", "parentId": "4", "timestamp": "2026-11-21T13:44:03.579Z",
         "summary": "...", "firstKeptEntryId": "3", "tokensBefore": 1000},
    ]
    original = json.loads(json.dumps(entries))
    messages = display.history_messages(entries)
    assert messages[0]["content"][0] == {"type": "text", "text": "Say hello"}
    assert messages[0]["content"][1] == entries[1]["message"]["content"][1]
    assert messages[1]["content"] == "hi there"
    assert messages[2]["content"] == "[not an envelope] keep"
    assert messages[3] is entries[4]["message"]  # assistants are shown as stored
    assert messages[4] == {"role": "system", "content": [{"type": "text", "text": "Compaction"}],
                           "timestamp": 1795268643579,
                           "__openclaw": {"kind": "compaction", "id": "c1"}}
    assert len(messages) == 5
    assert entries == original  # the transcript entries themselves are untouched


def test_real_desktop_probe_transcript_matches_captured_history() -> None:
    """The pre-reset desktop-probe transcript yields exactly the captured chat.history messages."""
    frames = (FIXTURES / "captures" / "frames-v129-chat.jsonl").read_text().splitlines()
    payloads = [json.loads(line)["frame"].get("payload") or {} for line in frames]
    captured = next(p for p in payloads if p.get("sessionId") == DESKTOP_OLD.stem and "messages" in p)
    assert display.history_messages(tx.read_transcript(DESKTOP_OLD)) == captured["messages"]


# --- a writer killed mid-append ------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from molt_desktop.sessions.store import SessionStore

    kill_at = int(sys.argv[2])  # 0: wait for the parent's SIGKILL
    real_write = os.write
    calls = 0
    def short_write(fd, data):
        # Writes may legitimately be short; small pieces make a kill mid-line likely.
        global calls
        calls += 1
        piece = bytes(data)[:4096]
        if calls == kill_at:
            real_write(fd, piece[: max(1, len(piece) // 2)])
            os.kill(os.getpid(), signal.SIGKILL)
        return real_write(fd, piece)
    os.write = short_write

    store = SessionStore(Path(sys.argv[1]))
    store.ensure("agent:main:crash", provider="fake", model="fake-1",
                 model_api="openai-completions", context_tokens=32000)
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        store.append_message("agent:main:crash", {
            "role": "user", "content": [{"type": "text", "text": f"{i} " + "x" * 50000}],
            "timestamp": i})
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("kill_at", [0, 157], ids=["killed-by-parent", "killed-mid-line"])
def test_writer_killed_mid_append_leaves_a_readable_repairable_transcript(
    tmp_path: Path, kill_at: int
) -> None:
    from molt_desktop.sessions.store import SessionStore

    state = tmp_path / "state"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(state), str(kill_at)], stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        path = next((state / "agents" / "main" / "sessions").glob("*.jsonl"))
        if not kill_at:
            deadline = time.monotonic() + 30
            while path.stat().st_size < 2_000_000 and time.monotonic() < deadline:
                time.sleep(0.01)
            child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    data = path.read_bytes()
    complete = data.count(b"\n")
    torn = 0 if data.endswith(b"\n") else 1
    entries = tx.read_transcript(path)
    assert len(entries) == complete  # every whole line parses; at most the torn one is ignored
    if kill_at:
        assert torn == 1

    store = SessionStore(state)
    try:
        history = store.history("agent:main:crash", limit=None)
        assert len(history.messages) == complete - 4  # header, model, thinking, snapshot lines
        assert [m["timestamp"] for m in history.messages] == list(range(1, complete - 3))
        new_id = store.append_message("agent:main:crash", {"role": "user", "content": "after"})
    finally:
        store.close()
    repaired = path.read_bytes()
    assert repaired.endswith(b"\n")
    lines = [json.loads(line) for line in repaired.splitlines()]
    assert len(lines) == complete + 1
    assert lines[-1]["id"] == new_id and lines[-1]["parentId"] == lines[-2]["id"]
    for previous, line in zip(lines[1:], lines[2:]):
        assert line["parentId"] == previous["id"]


def _message_line(message: dict[str, Any]) -> dict[str, Any]:
    return tx.message_entry(message, parent_id=None)


def test_append_state_knows_which_runs_the_transcript_holds() -> None:
    """What molt.chat.append deduplicates by: chat.send's `[message_id: <key>]` hint (as
    OpenClaw 2026.1.29 writes it), a reply completed right after it, and appended origins."""
    state = tx.TranscriptState()
    for message in [
        {"role": "user", "content": [{"type": "text", "text": "one\n[message_id: run-1]"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "note"}], "stopReason": "injected"},
        {"role": "assistant", "content": [{"type": "text", "text": "answer"}], "stopReason": "stop"},
        {"role": "user", "content": "two\n[message_id: run-2]"},  # protocol-4 string content
        {"role": "assistant", "content": [{"type": "text", "text": "cut"}], "stopReason": "error"},
        {"role": "assistant", "content": [{"type": "text", "text": "late"}], "stopReason": "stop"},
        {"role": "user", "content": [{"type": "text", "text": "three\n[message_id: run-3]"}]},
        {"role": "user", "content": [{"type": "text", "text": "says [message_id: x] inline"}]},
        {"role": "assistant", "content": [], "stopReason": "stop", "origin": {"runId": "run-9"}},
    ]:
        state.apply(_message_line(message))
    assert state.user_keys == {"run-1", "run-2", "run-3"}
    assert state.reply_keys == {"run-1"}  # run-2 failed; run-3's reply never came
    assert state.origin_runs == {"run-9"}


def test_real_transcript_runs() -> None:
    """OpenClaw 2026.1.29's own chat.send turn: its key and its completed reply are known."""
    state = tx.TranscriptState()
    for entry in tx.read_transcript(DESKTOP_OLD):
        state.apply(entry)
    assert state.user_keys == state.reply_keys == {"392aea7e-8b31-48de-a668-2fe13f0e0b2a"}
