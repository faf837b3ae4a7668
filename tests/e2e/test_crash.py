"""`kill -9` of the gateway during a streamed reply loses nothing already stored.

A slow fake model streams a long reply; the gateway process is killed (SIGKILL, no shutdown
code runs) at several moments of the turn, then restarted on the same state dir. After each kill:
sessions.json parses and names the session, every complete line of the transcript parses (at
most a torn last line, which reading ignores), the user message is in the history, and the next
turn appends cleanly (the file ends with a newline and each entry's parentId names an earlier
entry).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    Processes,
    async_wait_until,
    chat_payloads,
    chat_text,
    gateway_client,
    message_texts,
    wait_terminal,
    write_config,
)
from tests.fakes.common import DEFAULT_TEXT

SESSION = "agent:main:crash-test"
CHUNKS = 300  # one character each: the reply is 300 characters long
DELAY = 0.01  # seconds between chunks: about 3 s of streaming
MESSAGE_ID = re.compile(r"\n\[message_id: [^\]]+\]$")


def sessions_dir(home: Path) -> Path:
    return home / "agents" / "main" / "sessions"


def read_index(home: Path) -> dict[str, Any]:
    """sessions.json must always be a valid JSON object (it is replaced atomically)."""
    path = sessions_dir(home) / "sessions.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(index, dict)
    return index


def transcript_path(home: Path, key: str) -> Path:
    entry = read_index(home)[key]
    return sessions_dir(home) / f"{entry['sessionId']}.jsonl"


def check_transcript(path: Path, *, allow_torn: bool) -> list[dict[str, Any]]:
    """Every complete line parses; a last line without newline is allowed only if `allow_torn`."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = lines.pop()
    entries = []
    for number, raw in enumerate(lines, 1):
        assert raw.strip(), f"{path.name}: empty line {number}"
        value = json.loads(raw)  # a corrupt line fails here
        assert isinstance(value, dict), f"{path.name}: line {number} is not an object"
        entries.append(value)
    if torn:
        assert allow_torn, f"{path.name} does not end with a newline: {torn[:80]!r}"
    assert entries and entries[0]["type"] == "session", f"{path.name} has no session header"
    return entries


def check_chain(entries: list[dict[str, Any]]) -> None:
    """Each entry after the header points at an entry written before it."""
    seen: set[str] = set()
    for entry in entries[1:]:
        parent = entry.get("parentId")
        assert parent is None or parent in seen, f"entry {entry.get('id')} has unknown parent {parent}"
        seen.add(entry["id"])


def user_texts(entries: list[dict[str, Any]]) -> list[str]:
    """The user messages of a transcript, without the `[message_id: ...]` line OpenClaw appends."""
    texts = []
    for entry in entries:
        message = entry.get("message") or {}
        if entry.get("type") == "message" and message.get("role") == "user":
            content = message.get("content")
            text = "".join(p.get("text", "") for p in content) if isinstance(content, list) else str(content)
            texts.append(MESSAGE_ID.sub("", text))
    return texts


async def start_turn_and_kill(procs: Processes, home: Path, moment: str, marker: str) -> str:
    """Start a slow turn, SIGKILL the gateway at `moment`; returns the run id."""
    gw = procs.gateway(home)
    run_id = str(uuid.uuid4())
    async with gateway_client(gw.url) as (conn, events):
        started = await conn.call("chat.send", {"sessionKey": SESSION, "message": marker, "idempotencyKey": run_id})
        assert started["status"] == "started"

        def streamed(at_least: int) -> bool:
            deltas = chat_payloads(events, run_id, ("delta",))
            return bool(deltas) and len(chat_text(deltas[-1])) >= at_least

        if moment == "first-delta":
            await async_wait_until(lambda: streamed(1), 30, "the first chat delta")
        elif moment in ("mid-stream", "torn-line"):
            await async_wait_until(lambda: streamed(CHUNKS // 2), 30, "half of the reply")
        elif moment == "end-of-stream":
            await async_wait_until(lambda: streamed(CHUNKS - 10), 30, "nearly all of the reply")
        elif moment == "after-final":
            terminal = await wait_terminal(events, run_id)
            assert terminal["state"] == "final"
        else:  # pragma: no cover
            raise AssertionError(moment)
        assert not chat_payloads(events, run_id, ("error", "aborted"))
        gw.kill9()
    assert gw.popen.returncode == -9
    return run_id


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["first-delta", "mid-stream", "end-of-stream", "after-final", "torn-line"])
async def test_kill_during_streamed_reply_keeps_history(procs: Processes, home: Path, moment: str) -> None:
    fake = procs.fake(chunks=CHUNKS, delay=DELAY)
    write_config(home, {"fake": fake.base_url})
    marker = f"crash marker {moment} {uuid.uuid4()}"
    await start_turn_and_kill(procs, home, moment, marker)

    # --- on disk, while the gateway is dead
    index = read_index(home)
    assert SESSION in index
    path = transcript_path(home, SESSION)
    entries = check_transcript(path, allow_torn=True)
    assert entries[0]["id"] == index[SESSION]["sessionId"]
    assert user_texts(entries) == [marker]
    check_chain(entries)
    answered = [e for e in entries if e.get("type") == "message" and e["message"]["role"] == "assistant"]
    if moment in ("first-delta", "mid-stream", "torn-line"):
        assert not answered, "the kill came after the reply was complete"  # seconds of stream were left
    if moment == "after-final":
        assert len(answered) == 1 and answered[0]["message"]["content"][0]["text"] == (DEFAULT_TEXT * 8)[:CHUNKS]
    if moment == "torn-line":
        # What a kill in the middle of writing a line leaves: half a JSON object, no newline.
        with path.open("ab") as handle:
            handle.write(b'{"type":"message","id":"deadbeef","parentId":"')
        with pytest.raises(ValueError):
            json.loads(path.read_bytes().split(b"\n")[-1])

    # --- restart on the same state dir: the history is intact, the next turn appends cleanly
    fake.control(reset=True)
    gw = procs.gateway(home)
    async with gateway_client(gw.url) as (conn, events):
        history = await conn.call("chat.history", {"sessionKey": SESSION})
        texts = message_texts(history)
        assert ("user", marker) in texts
        assert history["sessionId"] == index[SESSION]["sessionId"]

        run_id = str(uuid.uuid4())
        await conn.call("chat.send", {"sessionKey": SESSION, "message": "after the restart", "idempotencyKey": run_id})
        terminal = await wait_terminal(events, run_id)
        assert terminal["state"] == "final", terminal
        assert chat_text(terminal) == DEFAULT_TEXT

        history = await conn.call("chat.history", {"sessionKey": SESSION})
        texts = message_texts(history)
        assert texts[-2:] == [("user", "after the restart"), ("assistant", DEFAULT_TEXT)]
        assert [t for r, t in texts if r == "user"] == [marker, "after the restart"]
    gw.stop()

    entries = check_transcript(path, allow_torn=False)  # repaired: every line parses now
    check_chain(entries)
    assert user_texts(entries) == [marker, "after the restart"]
    assert b"deadbeef" not in path.read_bytes()
    index = read_index(home)
    assert index[SESSION]["sessionId"] == entries[0]["id"]
    assert transcript_path(home, SESSION) == path


@pytest.mark.slow
async def test_repeated_kills_on_one_session(procs: Processes, home: Path) -> None:
    """Three crashes in a row on the same session, each mid-reply: all three questions survive."""
    fake = procs.fake(chunks=CHUNKS, delay=DELAY)
    write_config(home, {"fake": fake.base_url})
    markers = [f"question {n} {uuid.uuid4()}" for n in range(3)]
    for marker, moment in zip(markers, ["first-delta", "mid-stream", "end-of-stream"], strict=True):
        await start_turn_and_kill(procs, home, moment, marker)
        entries = check_transcript(transcript_path(home, SESSION), allow_torn=True)
        check_chain(entries)
        assert user_texts(entries) == markers[: markers.index(marker) + 1]

    fake.control(reset=True)
    gw = procs.gateway(home)
    async with gateway_client(gw.url) as (conn, events):
        run_id = str(uuid.uuid4())
        await conn.call("chat.send", {"sessionKey": SESSION, "message": "still there?", "idempotencyKey": run_id})
        assert (await wait_terminal(events, run_id))["state"] == "final"
        history = await conn.call("chat.history", {"sessionKey": SESSION})
    assert [t for r, t in message_texts(history) if r == "user"] == [*markers, "still there?"]
    gw.stop()
    entries = check_transcript(transcript_path(home, SESSION), allow_torn=False)
    check_chain(entries)
    read_index(home)
