"""AgentRuntime end to end against the fake providers over real sockets: a turn's events,
transcript and session entry; coalescing, abort, idempotency, queueing, fallbacks, errors."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.agent.runtime import AgentRuntime, AgentSettings, RunRequestError
from tests.fakes.agent_support import (
    EventLog,
    assert_valid,
    config_for,
    make_store,
    provider_entry,
    runtime_for,
    stored_messages,
)
from tests.fakes.common import DEFAULT_TEXT, FakeBehavior, FakeModelServer

KEY = "agent:main:desktop-probe"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()


@pytest.fixture
def store(state_home: Path) -> Any:
    return make_store(state_home)


@pytest.fixture(params=["openai", "anthropic"])
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeModelServer]:
    async with FakeModelServer(request.param, FakeBehavior(usage_input=10, usage_output=11)) as server:
        yield server


@pytest.fixture
async def rt(fake: FakeModelServer, store: Any) -> AsyncIterator[tuple[AgentRuntime, EventLog]]:
    config = config_for({"fake": provider_entry(fake)}, primary="fake/fake-1")
    async with runtime_for(config, store) as pair:
        yield pair


async def test_a_turn(rt: tuple[AgentRuntime, EventLog], fake: FakeModelServer, store: Any) -> None:
    runtime, events = rt
    assert await runtime.send(KEY, "Say hello", "run-1") == {"runId": "run-1", "status": "started"}
    final = await events.terminal("run-1")
    assert final["state"] == "final" and final["stopReason"] == "stop"
    assert final["message"]["content"] == [{"type": "text", "text": DEFAULT_TEXT}]
    assert final["message"]["provider"] == "fake" and final["message"]["model"] == "fake-1"

    # The event sequence of the real gateway: lifecycle start ... assistant/delta ... end, final.
    run = events.of("run-1")
    assert run[0] == ("agent", {**run[0][1], "stream": "lifecycle", "data": {"phase": "start",
                                                                             "startedAt": run[0][1]["data"]["startedAt"]}})
    agent_seqs = [p["seq"] for e, p in run if e == "agent"]
    assert agent_seqs == list(range(1, len(agent_seqs) + 1))
    for event, payload in run:
        assert_valid(event, payload)
        assert payload["sessionKey"] == KEY
    end = events.agent("run-1", "lifecycle")[-1]
    assert end["data"]["phase"] == "end" and end["data"]["startedAt"] <= end["data"]["endedAt"]
    assert final["seq"] == end["seq"]
    deltas = events.chat("run-1", "delta")
    assert deltas[0]["deltaText"] == "Hello"  # the first delta goes out at once
    assert "".join(d["deltaText"] for d in deltas) == DEFAULT_TEXT
    assert deltas[-1]["message"]["content"][0]["text"] == DEFAULT_TEXT
    assistant = events.agent("run-1", "assistant")
    assert [a["data"]["text"] for a in assistant] == [d["message"]["content"][0]["text"] for d in deltas]
    assert [a["seq"] for a in assistant] == [d["seq"] for d in deltas]

    # Transcript: the user message with OpenClaw's message_id suffix, then the assistant message.
    user, reply = stored_messages(store, KEY)
    assert user["role"] == "user"
    assert user["content"] == [{"type": "text", "text": "Say hello\n[message_id: run-1]"}]
    assert list(reply) == ["role", "content", "api", "provider", "model", "usage", "stopReason", "timestamp"]
    assert reply["api"] == ("openai-completions" if fake.kind == "openai" else "anthropic-messages")
    assert (reply["provider"], reply["model"], reply["stopReason"]) == ("fake", "fake-1", "stop")
    # cost: $3 / $15 per million tokens
    assert reply["usage"] == {"input": 10, "output": 11, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 21,
                              "cost": {"input": 0.00003, "output": 0.000165, "cacheRead": 0, "cacheWrite": 0,
                                       "total": 0.000195}}
    assert final["usage"] == reply["usage"]
    entry = store.get(KEY)
    assert {k: entry[k] for k in ("inputTokens", "outputTokens", "totalTokens", "modelProvider", "model",
                                  "contextTokens", "abortedLastRun")} == {
        "inputTokens": 10, "outputTokens": 11, "totalTokens": 10, "modelProvider": "fake", "model": "fake-1",
        "contextTokens": 32000, "abortedLastRun": False}
    changed = [p for e, p in events.events if e == "sessions.changed"]
    assert [c["reason"] for c in changed] == ["user-message", "run-end"]
    assert changed[-1]["session"]["key"] == KEY and changed[-1]["session"]["outputTokens"] == 11

    # The second turn sends the history.
    await runtime.send(KEY, "And again", "run-2")
    await events.terminal("run-2")
    sent = fake.requests[-1].body["messages"]
    texts = [m["content"] if isinstance(m["content"], str) else m["content"][0]["text"] for m in sent]
    assert texts == ["Say hello", DEFAULT_TEXT, "And again"]
    assert await runtime.wait("run-2", 1000) == {"runId": "run-2", "status": "ok",
                                                  "startedAt": events.agent("run-2")[0]["data"]["startedAt"],
                                                  "endedAt": await _ended(events, "run-2")}


async def _ended(events: EventLog, run_id: str) -> int:
    end = [a for a in events.agent(run_id, "lifecycle") if a["data"]["phase"] == "end"][-1]
    return int(end["data"]["endedAt"])


async def test_coalescing_2000_zero_delay_chunks(rt: tuple[AgentRuntime, EventLog], fake: FakeModelServer) -> None:
    runtime, events = rt
    fake.behavior.update({"text": "0123456789" * 500, "chunks": 2000})
    await runtime.send(KEY, "long", "run-long")
    final = await events.terminal("run-long")
    expected = "0123456789" * 500
    assert final["message"]["content"][0]["text"] == expected
    deltas = events.chat("run-long", "delta")
    assert 1 <= len(deltas) <= 20, len(deltas)  # not 2,000
    assert "".join(d["deltaText"] for d in deltas) == expected
    assert deltas[-1]["message"]["content"][0]["text"] == expected
    assert len(deltas[0]["deltaText"]) < 50  # the first one did not wait


async def test_deltas_at_most_one_per_interval(fake: FakeModelServer, store: Any) -> None:
    fake.behavior.update({"text": "x" * 40, "chunks": 40, "delay": 0.01})
    config = config_for({"fake": provider_entry(fake)}, primary="fake/fake-1")
    async with runtime_for(config, store, coalesce_s=0.05) as (runtime, events):
        stamps: list[float] = []
        loop = asyncio.get_running_loop()
        original = events.__call__

        def timed(event: str, payload: dict[str, Any]) -> None:
            if event == "chat" and payload["state"] == "delta":
                stamps.append(loop.time())
            original(event, payload)

        runtime._emit = timed
        runtime._recorder._emit = timed
        await runtime.send(KEY, "slow", "run-slow")
        final = await events.terminal("run-slow")
    assert final["message"]["content"][0]["text"] == "x" * 40
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    # The end of the stream flushes what is pending at once (the final event follows it).
    assert gaps and min(gaps[:-1]) >= 0.045
    assert 4 <= len(stamps) <= (stamps[-1] - stamps[0]) / 0.05 + 2  # one per 50 ms, not one per chunk


async def test_abort_keeps_the_partial_reply(rt: tuple[AgentRuntime, EventLog], fake: FakeModelServer,
                                             store: Any) -> None:
    runtime, events = rt
    fake.behavior.update({"text": "word " * 200, "delay": 0.05})
    await runtime.send(KEY, "talk a lot", "run-a")
    await events.wait_for(lambda e, p: e == "chat" and p["state"] == "delta" and len(p["message"]["content"][0]["text"]) > 10)
    with pytest.raises(RunRequestError, match="runId does not match sessionKey"):
        await runtime.abort("agent:main:other", "run-a")
    assert await runtime.abort(KEY, "run-a") == ["run-a"]
    aborted = events.chat("run-a", "aborted")[0]  # already out when abort() returns
    assert_valid("chat", aborted)
    assert aborted["stopReason"] == "rpc"
    partial = aborted["message"]["content"][0]["text"]
    assert partial.startswith("word word") and len(partial) < 1000
    end = events.agent("run-a", "lifecycle")[-1]["data"]
    assert end["phase"] == "end" and end["aborted"] is True
    reply = stored_messages(store, KEY)[-1]
    assert reply["stopReason"] == "aborted" and reply["content"][0]["text"] == partial
    assert store.get(KEY)["abortedLastRun"] is True
    await asyncio.sleep(0.1)
    assert fake.requests[0].disconnected  # the HTTP stream was closed, not left running
    assert await runtime.abort(KEY) == []
    assert (await runtime.wait("run-a", 100))["status"] == "error"
    assert await runtime.send(KEY, "talk a lot", "run-a") == {"runId": "run-a", "status": "aborted"}


async def test_idempotency(rt: tuple[AgentRuntime, EventLog], fake: FakeModelServer) -> None:
    runtime, events = rt
    fake.behavior.delay = 0.02
    assert (await runtime.send(KEY, "hi", "same"))["status"] == "started"
    assert await runtime.send(KEY, "hi", "same") == {"runId": "same", "status": "in_flight"}
    await events.terminal("same")
    assert await runtime.send(KEY, "hi", "same") == {"runId": "same", "status": "ok"}
    assert len(fake.requests) == 1
    runtime._ttl = 0.0  # the 5 minutes are over: the key starts a new run
    runtime._outcomes["same"] = (0.0, runtime._outcomes["same"][1])
    assert (await runtime.send(KEY, "hi", "same"))["status"] == "started"


async def test_max_concurrent_queues_runs(fake: FakeModelServer, store: Any) -> None:
    fake.behavior.update({"text": "a b c d", "delay": 0.1})
    config = config_for({"fake": provider_entry(fake)}, primary="fake/fake-1", maxConcurrent=2)
    async with runtime_for(config, store) as (runtime, events):
        for index in range(3):
            await runtime.send(f"agent:main:s{index}", "go", f"q{index}")
        while len(fake.requests) < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # a third request would have arrived by now
        states = {r["runId"]: r["state"] for r in runtime.active_runs()}
        assert states == {"q0": "running", "q1": "running", "q2": "queued"}
        assert len(fake.requests) == 2
        for index in range(3):
            assert (await events.terminal(f"q{index}"))["state"] == "final"
    first_done = min(r.done_at or 0 for r in fake.requests[:2])
    assert fake.requests[2].received_at >= first_done


async def test_runs_of_one_session_take_turns(fake: FakeModelServer, store: Any) -> None:
    fake.behavior.update({"text": "a b c", "delay": 0.05})
    config = config_for({"fake": provider_entry(fake)}, primary="fake/fake-1")
    async with runtime_for(config, store) as (runtime, events):
        await runtime.send(KEY, "one", "t1")
        await runtime.send(KEY, "two", "t2")
        await events.terminal("t1")
        await events.terminal("t2")
    roles = [m["role"] for m in stored_messages(store, KEY)]
    assert roles == ["user", "assistant", "user", "assistant"]


async def test_fallback_after_429_names_the_model_that_answered(store: Any) -> None:
    async with FakeModelServer("anthropic") as primary, FakeModelServer("openai", FakeBehavior(text="from backup")) as backup:
        primary.fail_next(429)
        config = config_for({"main": provider_entry(primary), "backup": provider_entry(backup)},
                            primary="main/fake-1", fallbacks=["backup/fake-1"])
        async with runtime_for(config, store) as (runtime, events):
            await runtime.send(KEY, "hello", "fb")
            final = await events.terminal("fb")
    assert final["state"] == "final"
    assert final["message"]["content"] == [{"type": "text", "text": "from backup"}]
    assert (final["message"]["provider"], final["message"]["model"]) == ("backup", "fake-1")
    end = events.agent("fb", "lifecycle")[-1]["data"]
    assert end["phase"] == "end" and (end["provider"], end["model"]) == ("backup", "fake-1")
    (step,) = end["fallbacks"]
    assert (step["from"], step["to"], step["reason"]) == ("main/fake-1", "backup/fake-1", "rate_limit")
    assert step["error"].startswith("main is rate limiting requests (429)")
    reply = stored_messages(store, KEY)[-1]
    assert (reply["provider"], reply["api"]) == ("backup", "openai-completions")
    assert store.get(KEY)["modelProvider"] == "backup"
    assert len(primary.requests) == 1 and len(backup.requests) == 1


@pytest.mark.parametrize(("status", "kind", "words"), [
    (401, "unknown", "API key was rejected"),
    (429, "rate_limit", "rate limiting"),
    (529, "rate_limit", "overloaded"),
    (500, "unknown", "internal error"),
    (400, "context_length", "too long"),
])
async def test_errors_reach_the_chat(store: Any, status: int, kind: str, words: str) -> None:
    async with FakeModelServer("anthropic") as server:
        server.fail_next(status, times=-1)
        config = config_for({"fake": provider_entry(server)}, primary="fake/fake-1")
        async with runtime_for(config, store) as (runtime, events):
            await runtime.send(KEY, "hi", "err")
            error = await events.terminal("err")
            waited = await runtime.wait("err", 100)
    assert_valid("chat", error)
    assert error["state"] == "error" and error["errorKind"] == kind and words in error["errorMessage"]
    assert error["errorDetail"]["httpStatus"] == status and error["errorDetail"]["provider"] == "fake"
    lifecycle = events.agent("err", "lifecycle")[-1]["data"]
    assert lifecycle["phase"] == "error" and lifecycle["error"] == error["errorMessage"]
    assert waited["status"] == "error" and waited["error"] == error["errorMessage"]


async def test_fallbacks_exhausted_reports_the_last_error(store: Any) -> None:
    async with FakeModelServer("openai") as a, FakeModelServer("openai") as b:
        a.fail_next(503, times=-1)
        b.fail_next(429, times=-1)
        config = config_for({"a": provider_entry(a), "b": provider_entry(b)}, primary="a/fake-1", fallbacks=["b/fake-1"])
        async with runtime_for(config, store) as (runtime, events):
            await runtime.send(KEY, "hi", "both")
            error = await events.terminal("both")
    assert error["errorKind"] == "rate_limit" and error["errorMessage"].startswith("b is rate limiting")


async def test_no_provider_configured(store: Any) -> None:
    async with runtime_for({}, store) as (runtime, events):
        assert runtime.readiness_problems() == ["no model provider configured"]
        await runtime.send(KEY, "hi", "none")
        error = await events.terminal("none")
    assert error["state"] == "error" and "No model provider is configured" in error["errorMessage"]
    assert events.agent("none", "lifecycle")[-1]["data"]["phase"] == "error"


async def test_image_attachment_reaches_the_provider(fake: FakeModelServer, store: Any) -> None:
    models = [{"id": "vision", "input": ["text", "image"]}]
    config = config_for({"fake": provider_entry(fake, models=models)}, primary="fake/vision")
    attachment = {"type": "image", "mimeType": "image/png", "fileName": "dot.png", "content": PNG}
    async with runtime_for(config, store) as (runtime, events):
        await runtime.send(KEY, "what is this?", "img", attachments=[attachment])
        assert (await events.terminal("img"))["state"] == "final"
    content = fake.requests[0].body["messages"][-1]["content"]
    if fake.kind == "anthropic":
        assert content[1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    else:
        assert content[1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    user = stored_messages(store, KEY)[0]
    assert user["content"][1] == {"type": "image", "data": PNG, "mimeType": "image/png"}


async def test_image_refused_for_a_text_only_model(rt: tuple[AgentRuntime, EventLog], fake: FakeModelServer) -> None:
    runtime, _ = rt
    attachment = {"type": "image", "mimeType": "image/png", "content": PNG}
    with pytest.raises(RunRequestError, match=r"fake/fake-1 does not accept images"):
        await runtime.send(KEY, "look", "img2", attachments=[attachment])
    with pytest.raises(RunRequestError, match="message or attachment required"):
        await runtime.send(KEY, "  ", "empty")
    with pytest.raises(RunRequestError, match="invalid base64 content"):
        await runtime.send(KEY, "x", "bad", attachments=[{"type": "image", "mimeType": "image/png", "content": "!!"}])
    assert fake.requests == []


async def test_history_is_trimmed_to_the_context_window(fake: FakeModelServer, store: Any) -> None:
    models = [{"id": "tiny", "contextWindow": 400, "maxTokens": 100}]
    config = config_for({"fake": provider_entry(fake, models=models)}, primary="fake/tiny")
    async with runtime_for(config, store) as (runtime, events):
        for index in range(8):
            await runtime.send(KEY, f"question {index} " + "padding " * 20, f"h{index}")
            await events.terminal(f"h{index}")
    sent = fake.requests[-1].body["messages"]
    assert len(sent) < 16
    first = sent[0]["content"] if isinstance(sent[0]["content"], str) else sent[0]["content"][0]["text"]
    assert sent[0]["role"] == "user" and first.startswith("question ")
    last = sent[-1]["content"] if isinstance(sent[-1]["content"], str) else sent[-1]["content"][0]["text"]
    assert last.startswith("question 7")


async def test_run_timeout(fake: FakeModelServer, store: Any) -> None:
    fake.behavior.update({"text": "slow " * 50, "delay": 0.1})
    config = config_for({"fake": provider_entry(fake)}, primary="fake/fake-1")
    async with runtime_for(config, store) as (runtime, events):
        await runtime.send(KEY, "hi", "slowrun", timeout_ms=300)
        error = await events.terminal("slowrun")
    assert error["errorKind"] == "timeout" and "did not finish the reply within 0.3 s" in error["errorMessage"]
    reply = stored_messages(store, KEY)[-1]
    assert reply["stopReason"] == "error" and reply["content"][0]["text"].startswith("slow")


async def test_silent_provider_falls_back(store: Any) -> None:
    async with FakeModelServer("openai", FakeBehavior(first_byte_delay=3)) as mute, \
            FakeModelServer("anthropic", FakeBehavior(text="here")) as backup:
        config = config_for({"mute": provider_entry(mute), "backup": provider_entry(backup)},
                            primary="mute/fake-1", fallbacks=["backup/fake-1"])
        async with runtime_for(config, store, settings=AgentSettings(request_timeout_seconds=0.3)) as (runtime, events):
            await runtime.send(KEY, "hi", "mute")
            final = await events.terminal("mute")
    assert final["state"] == "final" and final["message"]["provider"] == "backup"


async def test_agent_method_and_wait(rt: tuple[AgentRuntime, EventLog]) -> None:
    runtime, _ = rt
    accepted, done = await runtime.run_agent("Say hi", "agent-1", "agent:main:agentprobe")
    assert accepted["runId"] == "agent-1" and accepted["status"] == "accepted" and accepted["acceptedAt"] > 0
    result = await done
    assert result["runId"] == "agent-1" and result["status"] == "ok" and result["summary"] == "completed"
    assert result["result"]["payloads"] == [{"text": DEFAULT_TEXT, "mediaUrl": None}]
    meta = result["result"]["meta"]
    assert meta["durationMs"] >= 0
    assert meta["agentMeta"]["usage"] == {"input": 10, "output": 11, "cacheRead": 0, "cacheWrite": 0, "total": 21}
    assert (meta["agentMeta"]["provider"], meta["agentMeta"]["model"]) == ("fake", "fake-1")
    waited = await runtime.wait("agent-1", 10)
    assert waited["status"] == "ok" and waited["endedAt"] >= waited["startedAt"]
    assert await runtime.wait("never-started", 50) == {"runId": "never-started", "status": "timeout"}
    again, cached = await runtime.run_agent("Say hi", "agent-1", "agent:main:agentprobe")
    assert (await cached)["summary"] == "completed"


async def test_agent_method_message_has_no_message_id(rt: tuple[AgentRuntime, EventLog], store: Any) -> None:
    runtime, _ = rt
    _, done = await runtime.run_agent("Say hi", "agent-2", "agent:main:agentprobe")
    await done
    assert stored_messages(store, "agent:main:agentprobe")[0]["content"] == [{"type": "text", "text": "Say hi"}]


async def test_stop_aborts_running_runs(fake: FakeModelServer, store: Any) -> None:
    fake.behavior.update({"text": "z " * 100, "delay": 0.05})
    config = config_for({"fake": provider_entry(fake)}, primary="fake/fake-1")
    async with runtime_for(config, store) as (runtime, events):
        await runtime.send(KEY, "go", "stopme")
        await events.wait_for(lambda e, p: e == "chat" and p["state"] == "delta")
        await runtime.stop()
        aborted = events.chat("stopme", "aborted")
        assert aborted and aborted[0]["stopReason"] == "shutdown"
        assert runtime.active_runs() == []
        with pytest.raises(Exception, match="shutting down"):
            await runtime.send(KEY, "more", "late")


async def test_emit_failures_do_not_break_a_run(fake: FakeModelServer, store: Any) -> None:
    registry_config = config_for({"fake": provider_entry(fake)}, primary="fake/fake-1")
    from molt_desktop.agent.providers.registry import ProviderRegistry

    registry = ProviderRegistry.from_config_dict(registry_config)

    def broken(event: str, payload: dict[str, Any]) -> None:
        raise RuntimeError("gateway gone")

    runtime = AgentRuntime(store, lambda: registry, AgentSettings, broken)
    try:
        await runtime.send(KEY, "hi", "quiet")
        assert (await runtime.wait("quiet", 10_000))["status"] == "ok"
    finally:
        await runtime.stop()
    assert stored_messages(store, KEY)[-1]["content"][0]["text"] == DEFAULT_TEXT


class LoadedStub:
    def __init__(self, resolved: dict[str, Any], hash_: str) -> None:
        self.resolved = resolved
        self.hash = hash_


class ConfigStub:
    """The two attributes of ConfigManager the runtime reads."""

    def __init__(self, resolved: dict[str, Any]) -> None:
        self.current = LoadedStub(resolved, "h0")


async def test_from_config_follows_config_changes(store: Any) -> None:
    async with FakeModelServer("openai", FakeBehavior(text="first")) as one, \
            FakeModelServer("anthropic", FakeBehavior(text="second")) as two:
        config = ConfigStub({})
        events = EventLog()
        seen: list[str | None] = []

        def resolve(value: str | None) -> str | None:
            seen.append(value)
            return "from-keyring" if value == "keyring:one" else value

        runtime = AgentRuntime.from_config(store, config, events, resolve_secret=resolve)
        try:
            await runtime.start()
            assert runtime.readiness_problems() == ["no model provider configured"]
            config.current = LoadedStub(config_for({"one": provider_entry(one, api_key="keyring:one")},
                                                   primary="one/fake-1", maxConcurrent=1), "h1")
            assert runtime.readiness_problems() == []
            await runtime.send(KEY, "hi", "c1")
            assert (await events.terminal("c1"))["message"]["content"][0]["text"] == "first"
            assert one.requests[0].headers["Authorization"] == "Bearer from-keyring"
            old = runtime.current_registry()
            config.current = LoadedStub(config_for({"two": provider_entry(two)}, primary="two/fake-1"), "h2")
            await runtime.send(KEY, "hi", "c2")
            final = await events.terminal("c2")
            assert final["message"]["provider"] == "two"
            assert runtime.current_registry() is not old
            await asyncio.sleep(0.05)
            assert old._instances == {}  # the replaced registry's clients were closed
        finally:
            await runtime.stop()
    assert "keyring:one" in seen


async def test_transcript_matches_openclaw_2026_1_29_byte_for_byte(state_home: Path) -> None:
    """The same turn as the recorded real session gives the same JSONL, ids and times aside."""
    import json
    import re

    from molt_desktop.sessions.store import SessionStore

    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "state-2026.1.29"
    recorded = (fixture / "1a6474cd-bd4b-4b40-b4ad-e2807c24a8be.jsonl").read_text(encoding="utf-8")
    key = "392aea7e-8b31-48de-a668-2fe13f0e0b2a"
    store = SessionStore(state_home)
    try:
        async with FakeModelServer("openai", FakeBehavior(usage_input=10, usage_output=11)) as server:
            entry = provider_entry(server)
            entry["models"][0]["cost"] = {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0}
            async with runtime_for(config_for({"fake": entry}, primary="fake/fake-1"), store) as (runtime, events):
                await runtime.send(KEY, "Say hello", key)
                await events.terminal(key)
        session = store.get(KEY)
        assert session is not None
        ours = store.transcript_path(session).read_text(encoding="utf-8")
    finally:
        store.close()

    def normalized(text: str) -> list[str]:
        lines = []
        for line in text.splitlines():
            value = json.loads(line)
            value.pop("cwd", None)
            line = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            line = re.sub(r'"(id|parentId)":"[0-9a-f-]+"', r'"\1":"X"', line)
            line = re.sub(r'"timestamp":("[^"]+"|\d+)', '"timestamp":"T"', line)
            lines.append(line)
        return lines

    assert normalized(ours) == normalized(recorded)
