"""Seeding and the remote-turn journal, against gateways that answer like the real ones do.

The `call` functions below answer as openclaw 2026.9.6 and 2026.1.29 were recorded answering
(see tests/e2e/interop/test_remote_openclaw.py): `chat.inject` into a session that does not exist
fails with "session not found"; 2026.1.29 also refuses it after `sessions.patch` ("transcript file
not found"). The real gateways are exercised end to end in the interop and e2e tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from molt_desktop.client.pool_continuity import (
    RemoteTurn,
    RemoteTurnJournal,
    recent_turns,
    seed_remote,
    turn_messages,
)

LOCAL = [
    {"role": "user", "content": [{"type": "text", "text": "My cat is Mochi"}]},
    {"role": "assistant", "content": [{"type": "text", "text": "Hello Mochi"}]},
    {"role": "user", "content": [{"type": "text", "text": "And my dog?"}]},
]


class Remote:
    def __init__(self, inject_after_patch: bool) -> None:
        self.inject_after_patch = inject_after_patch
        self.sessions: set[str] = set()
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, method: str, params: dict[str, Any]) -> Any:
        self.calls.append((method, params))
        if method == "chat.history":
            return {"messages": []}
        if method == "sessions.patch":
            self.sessions.add(params["key"])
            return {"ok": True}
        if method == "chat.inject":
            if params["sessionKey"] not in self.sessions:
                raise RuntimeError("INVALID_REQUEST: session not found")
            if not self.inject_after_patch:
                raise RuntimeError("INVALID_REQUEST: transcript file not found")
            return {"ok": True, "messageId": "m1"}
        raise AssertionError(method)


async def test_a_new_remote_session_is_made_then_seeded() -> None:
    remote = Remote(inject_after_patch=True)
    assert await seed_remote(remote, "agent:main:x", LOCAL, 3, "And my dog?") is None
    assert [m for m, _ in remote.calls] == ["chat.history", "chat.inject", "sessions.patch", "chat.inject"]
    note = remote.calls[-1][1]["message"]
    assert "My cat is Mochi" in note and "Hello Mochi" in note and "And my dog?" not in note


async def test_a_remote_that_cannot_inject_gets_the_note_back_for_the_message() -> None:
    remote = Remote(inject_after_patch=False)
    note = await seed_remote(remote, "agent:main:x", LOCAL, 3, "And my dog?")
    assert note is not None and "Hello Mochi" in note


async def test_nothing_to_seed_without_earlier_turns() -> None:
    remote = Remote(inject_after_patch=True)
    assert await seed_remote(remote, "agent:main:x", LOCAL[2:], 3, "And my dog?") is None
    assert remote.calls == []
    assert recent_turns(LOCAL, 1, None) == LOCAL[2:]


def test_a_turn_sent_with_a_note_comes_home_with_the_users_own_words() -> None:
    turn = RemoteTurn("server", "remote", "ws://x", "agent:main:x", "run-1", "And my dog?", 1, None)
    remote = [{"role": "user", "content": "Earlier…\n\n---\n\nAnd my dog?", "idempotencyKey": "run-1:user"},
              {"role": "assistant", "content": [{"type": "text", "text": "Woof"}], "stopReason": "stop"}]
    user, reply = turn_messages(turn, remote)
    assert user["content"] == [{"type": "text", "text": "And my dog?"}] and reply["content"][0]["text"] == "Woof"


def test_the_journal_survives_a_restart_and_a_torn_file(tmp_path: Path) -> None:
    path = tmp_path / "failover" / "remote-turns.json"
    journal = RemoteTurnJournal.load(path)
    journal.add(RemoteTurn("server", "remote", "ws://x", "agent:main:x", "run-1", "hi", 1, {"role": "assistant"}))
    assert [t.run_id for t in RemoteTurnJournal.load(path).turns] == ["run-1"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    path.write_text('{"version": 1, "turns": [{"endpoint_id"', encoding="utf-8")
    assert RemoteTurnJournal.load(path).turns == []
    assert list(path.parent.glob("remote-turns.json.broken.*"))
