"""`molt.chat.append` over the wire: turns made on another gateway added to the local transcript.

The real embedded gateway (tests/gateway/conftest.py) with the fake model: appends show up in
chat.history with their origin, a runId is appended once, what chat.send stored for that runId
is not stored again, the model sees appended turns, and bad calls are refused clearly.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from molt_desktop.client.connection import GatewayCallError
from molt_desktop.protocol.device import DeviceIdentity
from molt_desktop.protocol.methods import MAX_APPEND_MESSAGES
from tests.fakes.common import DEFAULT_TEXT, FakeModelServer
from tests.gateway.conftest import Connect, RunningGateway
from tests.gateway.test_chat import wait_state

ORIGIN = {"endpointId": "server", "kind": "remote", "url": "wss://gw.example.net:18789"}
REMOTE_REPLY = "The answer from the server gateway."


def turn(user: str, reply: str = REMOTE_REPLY, at: int = 1_790_000_000_000) -> list[dict[str, Any]]:
    """A user message and its reply as a gateway's chat.history returns them."""
    return [
        {"role": "user", "content": user, "timestamp": at},
        {"role": "assistant", "content": [{"type": "text", "text": reply}], "api": "openai-completions",
         "provider": "remote-provider", "model": "remote-1", "stopReason": "stop", "timestamp": at + 500,
         "usage": {"input": 3, "output": 5, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 8},
         # what a real OpenClaw adds to history messages: accepted, not stored
         "__openclaw": {"id": "x", "seq": 2}, "responseId": "chatcmpl-1"},
    ]


def append_params(key: str, run_id: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"sessionKey": key, "runId": run_id, "origin": ORIGIN, "messages": messages}


def texts(history: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for message in history["messages"]:
        content = message["content"]
        text = content if isinstance(content, str) else "".join(
            b.get("text", "") for b in content if b.get("type") == "text")
        out.append((message["role"], text))
    return out


def transcript_lines(gateway: RunningGateway, key: str) -> list[dict[str, Any]]:
    store = gateway.services.store
    assert store is not None
    entry = store.get(key)
    assert entry is not None
    path = store.transcript_path(entry)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_announced_in_hello(connect: Connect) -> None:
    conn, _ = await connect()
    assert "molt.chat.append" in conn.hello["features"]["methods"]


async def test_append_shows_in_history_with_its_origin(connect: Connect, gateway: RunningGateway) -> None:
    conn, events = await connect()
    key = "agent:main:from-server"
    run_id = str(uuid.uuid4())
    result = await conn.call("molt.chat.append", append_params(key, run_id, turn("What is up?")))
    assert result == {"ok": True, "sessionKey": key, "appended": 2, "skipped": 0}

    history = await conn.call("chat.history", {"sessionKey": key})
    assert texts(history) == [("user", "What is up?"), ("assistant", REMOTE_REPLY)]
    user, reply = history["messages"]
    assert user["origin"] == reply["origin"] == {**ORIGIN, "runId": run_id}
    assert user["timestamp"] == 1_790_000_000_000 and reply["timestamp"] == 1_790_000_000_500
    assert reply["provider"] == "remote-provider" and reply["model"] == "remote-1"
    assert reply["usage"]["totalTokens"] == 8 and reply["stopReason"] == "stop"
    assert "__openclaw" not in reply and "responseId" not in reply
    assert user["content"] == [{"type": "text", "text": "What is up?"}]  # stored as blocks

    changed = [p for e, p in events if e == "sessions.changed" and p["sessionKey"] == key]
    assert changed and changed[-1]["reason"] == "append"
    listed = await conn.call("sessions.list", {})
    assert key in [row["key"] for row in listed["sessions"]]
    # the transcript stays a chain: every message line points at the line before it
    lines = transcript_lines(gateway, key)
    messages = [line for line in lines if line["type"] == "message"]
    assert len(messages) == 2 and messages[1]["parentId"] == messages[0]["id"]


async def test_same_run_twice_appends_once(connect: Connect) -> None:
    conn, events = await connect()
    key = "agent:main:twice"
    run_id = str(uuid.uuid4())

    def appends_announced() -> int:
        return sum(1 for e, p in events if e == "sessions.changed" and p["sessionKey"] == key
                   and p["reason"] == "append")

    first = await conn.call("molt.chat.append", append_params(key, run_id, turn("Once")))
    assert (first["appended"], first["skipped"]) == (2, 0)
    assert appends_announced() == 1
    second = await conn.call("molt.chat.append", append_params(key, run_id, turn("Once")))
    assert (second["appended"], second["skipped"]) == (0, 2)
    assert appends_announced() == 1  # nothing changed, nothing announced
    # a different run is a different turn
    other = await conn.call("molt.chat.append", append_params(key, str(uuid.uuid4()), turn("Again", "Second")))
    assert (other["appended"], other["skipped"]) == (2, 0)
    assert appends_announced() == 2
    history = await conn.call("chat.history", {"sessionKey": key})
    assert texts(history) == [("user", "Once"), ("assistant", REMOTE_REPLY), ("user", "Again"),
                              ("assistant", "Second")]


async def test_concurrent_appends_of_one_run_store_it_once(connect: Connect) -> None:
    conn, _ = await connect()
    key = "agent:main:race"
    run_id = str(uuid.uuid4())
    results = await asyncio.gather(*(conn.call("molt.chat.append", append_params(key, run_id, turn("Race")))
                                     for _ in range(5)))
    assert sorted(r["appended"] for r in results) == [0, 0, 0, 0, 2]
    history = await conn.call("chat.history", {"sessionKey": key})
    assert texts(history) == [("user", "Race"), ("assistant", REMOTE_REPLY)]


async def test_user_message_chat_send_stored_is_skipped(connect: Connect, fake_model: FakeModelServer) -> None:
    """The local gateway stored the user message, then the model failed (as if the link went
    away mid-reply): the remote's copy of the user message is skipped, its reply is added."""
    conn, events = await connect()
    key = "agent:main:half-done"
    run_id = str(uuid.uuid4())
    fake_model.fail_next(400, message="the request was cut off")
    await conn.call("chat.send", {"sessionKey": key, "message": "Half way", "idempotencyKey": run_id})
    assert (await wait_state(events, run_id))["state"] == "error"
    result = await conn.call("molt.chat.append", append_params(key, run_id, turn("Half way")))
    assert (result["appended"], result["skipped"]) == (1, 1)
    history = await conn.call("chat.history", {"sessionKey": key})
    assert texts(history) == [("user", "Half way"), ("assistant", REMOTE_REPLY)]
    assert "origin" not in history["messages"][0]
    assert history["messages"][1]["origin"]["runId"] == run_id
    again = await conn.call("molt.chat.append", append_params(key, run_id, turn("Half way")))
    assert (again["appended"], again["skipped"]) == (0, 2)


async def test_turn_completed_here_is_not_stored_again(connect: Connect) -> None:
    """chat.send answered locally (the client missed the final event and asked the remote too):
    neither the user message nor a second reply is added."""
    conn, events = await connect()
    key = "agent:main:done-here"
    run_id = str(uuid.uuid4())
    await conn.call("chat.send", {"sessionKey": key, "message": "Done here", "idempotencyKey": run_id})
    assert (await wait_state(events, run_id))["state"] == "final"
    result = await conn.call("molt.chat.append", append_params(key, run_id, turn("Done here")))
    assert (result["appended"], result["skipped"]) == (0, 2)
    history = await conn.call("chat.history", {"sessionKey": key})
    assert texts(history) == [("user", "Done here"), ("assistant", DEFAULT_TEXT)]


async def test_append_waits_for_a_turn_running_here(connect: Connect, fake_model: FakeModelServer) -> None:
    """An append never lands between a running turn's user message and its reply."""
    conn, events = await connect()
    key = "agent:main:busy"
    fake_model.behavior.chunks, fake_model.behavior.delay = 20, 0.05
    run_id = str(uuid.uuid4())
    await conn.call("chat.send", {"sessionKey": key, "message": "Local question", "idempotencyKey": run_id})
    await wait_state(events, run_id, ("delta",))
    result = await conn.call("molt.chat.append", append_params(key, str(uuid.uuid4()), turn("Remote question")))
    assert result["appended"] == 2
    # the reply's final event went out before the append's answer (one connection keeps order)
    assert any(e == "chat" and p["runId"] == run_id and p["state"] == "final" for e, p in events)
    history = await conn.call("chat.history", {"sessionKey": key})
    assert texts(history) == [("user", "Local question"), ("assistant", DEFAULT_TEXT),
                              ("user", "Remote question"), ("assistant", REMOTE_REPLY)]


async def test_the_model_sees_appended_turns(connect: Connect, fake_model: FakeModelServer) -> None:
    conn, events = await connect()
    key = "agent:main:continued"
    await conn.call("molt.chat.append", append_params(key, str(uuid.uuid4()), turn("Remember 42", "Noted: 42")))
    run_id = str(uuid.uuid4())
    await conn.call("chat.send", {"sessionKey": key, "message": "Which number?", "idempotencyKey": run_id})
    assert (await wait_state(events, run_id))["state"] == "final"
    sent = fake_model.requests[-1].body["messages"]
    contents = [(m["role"], m["content"] if isinstance(m["content"], str) else
                 "".join(p.get("text", "") for p in m["content"])) for m in sent if m["role"] != "system"]
    assert contents == [("user", "Remember 42"), ("assistant", "Noted: 42"), ("user", "Which number?")]
    assert not any("origin" in m for m in sent)


async def test_context_injected_before_the_first_message_reaches_the_model(
        connect: Connect, fake_model: FakeModelServer) -> None:
    """A session seeded with chat.inject (what the pool does on a remote) gives the model that
    context with the first user message."""
    conn, events = await connect()
    key = "agent:main:seeded"
    await conn.call("chat.inject", {"sessionKey": key, "message": "Earlier: the user's name is Ada.",
                                    "label": "seed"})
    run_id = str(uuid.uuid4())
    await conn.call("chat.send", {"sessionKey": key, "message": "What is my name?", "idempotencyKey": run_id})
    assert (await wait_state(events, run_id))["state"] == "final"
    sent = [m for m in fake_model.requests[-1].body["messages"] if m["role"] != "system"]
    assert [m["role"] for m in sent] == ["user"]
    assert "Earlier: the user's name is Ada." in sent[0]["content"]
    assert sent[0]["content"].endswith("What is my name?")


async def test_admin_scope_is_required(connect: Connect) -> None:
    writer, _ = await connect(client_id="gateway-client", mode="ui", scopes=["operator.read", "operator.write"],
                              device=DeviceIdentity.generate())
    with pytest.raises(GatewayCallError) as info:
        await writer.call("molt.chat.append", append_params("agent:main:x", "r1", turn("no")))
    assert info.value.code == "FORBIDDEN"
    assert info.value.details == {"code": "MISSING_SCOPE", "missingScope": "operator.admin",
                                  "requiredScopes": ["operator.admin"]}
    history = await writer.call("chat.history", {"sessionKey": "agent:main:x"})
    assert history["messages"] == []


def _bad_cases() -> list[tuple[dict[str, Any], str]]:
    good = append_params("agent:main:bad", "run-1", turn("hi"))
    user, reply = turn("hi")
    return [
        ({k: v for k, v in good.items() if k != "runId"}, "must have required property 'runId'"),
        ({**good, "runId": ""}, "at /runId: must NOT have fewer than 1 characters"),
        ({**good, "extra": 1}, "at root: unexpected property 'extra'"),
        ({**good, "origin": {**ORIGIN, "kind": "cloud"}}, "at /origin/kind: must be equal to one of the allowed"),
        ({**good, "origin": {"endpointId": "server", "kind": "remote"}},
         "at /origin: must have required property 'url'"),
        ({**good, "messages": "hi"}, "at /messages: must be array"),
        ({**good, "messages": [{**user, "role": "system"}]}, "at /messages/0/role: must be equal to one of"),
        ({**good, "messages": [user, {**reply, "content": 5}]}, "at /messages/1/content: must match a schema"),
        ({**good, "messages": [{"role": "user", "timestamp": 1}]},
         "at /messages/0: must have required property 'content'"),
        ({**good, "messages": [{**user, "content": [{"type": "text", "text": 7}]}]},
         "at /messages/0/content/0/text: must be string"),
        ({**good, "messages": [{**user, "content": ["hi"]}]}, "at /messages/0/content/0: must be object"),
        ({**good, "messages": [user] * (MAX_APPEND_MESSAGES + 1)},
         f"at /messages: must NOT have more than {MAX_APPEND_MESSAGES} items"),
        ({**good, "sessionKey": "agent::"}, "at /sessionKey: malformed session key"),
    ]


@pytest.mark.parametrize(("params", "message"), _bad_cases(), ids=lambda v: v if isinstance(v, str) else "")
async def test_bad_params_are_refused_clearly(connect: Connect, params: dict[str, Any], message: str) -> None:
    conn, _ = await connect()
    with pytest.raises(GatewayCallError) as info:
        await conn.call("molt.chat.append", params)
    assert info.value.code == "INVALID_REQUEST"
    assert info.value.message.startswith("invalid molt.chat.append params: ")
    assert message in info.value.message
    assert (await conn.call("chat.history", {"sessionKey": "agent:main:bad"}))["messages"] == []


async def test_empty_and_largest_calls(connect: Connect, gateway: RunningGateway) -> None:
    conn, _ = await connect()
    empty = await conn.call("molt.chat.append", append_params("agent:main:empty", "r0", []))
    assert empty == {"ok": True, "sessionKey": "agent:main:empty", "appended": 0, "skipped": 0}
    assert gateway.services.store is not None
    assert gateway.services.store.get("agent:main:empty") is None  # nothing to store, no session
    many = [m for i in range(MAX_APPEND_MESSAGES // 2) for m in turn(f"q{i}", f"a{i}", at=1_000 + i * 10)]
    result = await conn.call("molt.chat.append", append_params("Agent:Main:Many", "r-many", many))
    assert result == {"ok": True, "sessionKey": "agent:main:many", "appended": MAX_APPEND_MESSAGES, "skipped": 0}
    history = await conn.call("chat.history", {"sessionKey": "agent:main:many", "limit": 1000})
    assert len(history["messages"]) == MAX_APPEND_MESSAGES
    assert texts(history)[-1] == ("assistant", f"a{MAX_APPEND_MESSAGES // 2 - 1}")

