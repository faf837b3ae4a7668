"""A chat turn over the wire: chat.send, streamed events for protocol 3 and 4, history, abort."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.fakes.common import FakeModelServer
from tests.gateway.conftest import Connect, Events
from tests.schema import validate

REPLY = "Hello from the fake model. This is a streamed reply."


async def wait_state(events: Events, run_id: str, states: tuple[str, ...] = ("final", "error", "aborted"),
                     timeout: float = 15) -> dict[str, Any]:
    async def poll() -> dict[str, Any]:
        while True:
            for event, payload in events:
                if event == "chat" and payload.get("runId") == run_id and payload.get("state") in states:
                    return payload
            await asyncio.sleep(0.01)

    return await asyncio.wait_for(poll(), timeout)


def validate_agent_event(payload: dict[str, Any]) -> None:
    """AgentEvent of the official schema; it has no `sessionKey`, which real gateways send too."""
    validate("AgentEvent", {k: v for k, v in payload.items() if k != "sessionKey"})


async def test_chat_send_streams_and_history_has_the_turn(connect: Connect) -> None:
    conn, events = await connect()
    key = "agent:main:desktop-probe"
    run_id = str(uuid.uuid4())
    started = await conn.call("chat.send", {"sessionKey": key, "message": "Say hello", "idempotencyKey": run_id})
    assert started == {"runId": run_id, "status": "started"}
    final = await wait_state(events, run_id)
    assert final["state"] == "final"
    assert final["message"]["content"][0]["text"] == REPLY
    chat = [p for e, p in events if e == "chat" and p["runId"] == run_id]
    deltas = [p for p in chat if p["state"] == "delta"]
    assert deltas and all("deltaText" in p for p in deltas)
    assert "".join(p["deltaText"] for p in deltas) == REPLY
    for payload in chat:
        validate("ChatEvent", payload)
    agent = [p for e, p in events if e == "agent" and p["runId"] == run_id]
    assert agent[0]["stream"] == "lifecycle" and agent[0]["data"]["phase"] == "start"
    assert any(p["stream"] == "lifecycle" and p["data"]["phase"] == "end" for p in agent)
    for payload in agent:
        validate_agent_event(payload)
    seqs = [p["seq"] for p in chat]
    assert seqs == sorted(seqs)

    history = await conn.call("chat.history", {"sessionKey": key})
    roles = [(m["role"], m["content"][0]["text"]) for m in history["messages"]]
    assert roles == [("user", "Say hello"), ("assistant", REPLY)]
    assistant = history["messages"][1]
    assert assistant["provider"] == "fake" and assistant["model"] == "fake-1"
    assert assistant["usage"]["totalTokens"] > 0
    # duplicate idempotency key after completion: the cached result, no second run
    again = await conn.call("chat.send", {"sessionKey": key, "message": "Say hello", "idempotencyKey": run_id})
    assert again["runId"] == run_id
    history2 = await conn.call("chat.history", {"sessionKey": key})
    assert len(history2["messages"]) == 2


async def test_protocol_3_client_gets_protocol_3_events(connect: Connect) -> None:
    conn, events = await connect(min_protocol=3, max_protocol=3)
    run_id = str(uuid.uuid4())
    await conn.call("chat.send", {"sessionKey": "agent:main:p3", "message": "hi", "idempotencyKey": run_id})
    final = await wait_state(events, run_id)
    assert final["message"]["content"][0]["text"] == REPLY
    chat = [p for e, p in events if e == "chat" and p["runId"] == run_id]
    assert all("deltaText" not in p and p["state"] != "status" for p in chat)
    assert not any(e == "sessions.changed" for e, _ in events)


async def test_events_reach_every_reader_but_not_scopeless_clients(connect: Connect) -> None:
    sender, sender_events = await connect()
    watcher, watcher_events = await connect()
    blind, blind_events = await connect(client_id="gateway-client", mode="ui")
    run_id = str(uuid.uuid4())
    await sender.call("chat.send", {"sessionKey": "agent:main:fanout", "message": "hi", "idempotencyKey": run_id})
    await wait_state(sender_events, run_id)
    await wait_state(watcher_events, run_id)
    await asyncio.sleep(0.1)
    assert not any(e in ("chat", "agent") for e, _ in blind_events)


async def test_abort_stops_a_slow_reply(connect: Connect, fake_model: FakeModelServer) -> None:
    fake_model.behavior.update({"chunks": 200, "delay": 0.05})
    conn, events = await connect()
    key = "agent:main:abort-me"
    run_id = str(uuid.uuid4())
    await conn.call("chat.send", {"sessionKey": key, "message": "long story", "idempotencyKey": run_id})
    await wait_state(events, run_id, ("delta",))
    result = await conn.call("chat.abort", {"sessionKey": key})
    assert result["ok"] is True and result["aborted"] is True and result["runIds"] == [run_id]
    terminal = await wait_state(events, run_id)
    assert terminal["state"] == "aborted"
    validate("ChatEvent", terminal)


async def test_provider_error_becomes_a_chat_error_event(connect: Connect, fake_model: FakeModelServer) -> None:
    fake_model.fail_next(401, times=-1)
    conn, events = await connect()
    run_id = str(uuid.uuid4())
    await conn.call("chat.send", {"sessionKey": "agent:main:bad-key", "message": "hi", "idempotencyKey": run_id})
    terminal = await wait_state(events, run_id)
    assert terminal["state"] == "error"
    assert "key" in terminal["errorMessage"].lower()
    validate("ChatEvent", terminal)


async def test_agent_method_answers_twice(connect: Connect) -> None:
    conn, _ = await connect()
    result = await conn.call("agent", {"message": "hi", "idempotencyKey": "agent-run-1",
                                       "sessionKey": "agent:main:agent-method"}, expect_final=True)
    assert result["runId"] == "agent-run-1"
    assert result["status"] == "ok"
    assert result["result"]["payloads"][0]["text"] == REPLY
    waited = await conn.call("agent.wait", {"runId": "agent-run-1", "timeoutMs": 1000})
    assert waited["status"] == "ok"
