"""Event payloads: every shape validates against the official ChatEvent/AgentEvent schema, and a
run's events look like the real gateways' recorded ones (protocol 3 and 4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.agent.events import RunEvents, for_protocol
from tests.fakes.agent_support import (
    assert_valid,
    config_for,
    make_store,
    provider_entry,
    runtime_for,
)
from tests.fakes.common import DEFAULT_TEXT, FakeModelServer, Kind

CAPTURES = Path(__file__).resolve().parent.parent / "fixtures" / "captures"
USAGE = {"input": 10, "output": 11, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 21,
         "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}}


def recorded_run(name: str) -> list[tuple[str, dict[str, Any]]]:
    """The chat/agent events of the chat.send run in a capture."""
    events = []
    for line in (CAPTURES / name).read_text(encoding="utf-8").splitlines():
        frame = json.loads(line)["frame"]
        if frame.get("type") == "event" and frame.get("event") in ("chat", "agent"):
            events.append((frame["event"], frame["payload"]))
    run_id = events[0][1]["runId"]
    return [(e, p) for e, p in events if p["runId"] == run_id]


def every_shape() -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    events = RunEvents(lambda e, p: out.append((e, p)), "run-1", "agent:main:main", "main")
    events.start(1)
    events.status("preparing_context")
    events.status("starting_model")
    events.fallback("anthropic/claude-sonnet-4-5", "deepseek/deepseek-chat", "rate_limit", "429")
    events.delta("Hel", "Hel")
    events.delta("Hello", "lo")
    events.final("Hello", 1, "stop", "deepseek", "deepseek-chat", USAGE)
    events.error(1, "The API key was rejected", "unknown", {"provider": "x", "httpStatus": 401, "failoverReason": "auth"})
    events.aborted(1, "partial", "rpc")
    events.aborted(None, "", "rpc")
    return out


def test_every_shape_validates_against_the_official_schema() -> None:
    shapes = every_shape()
    assert {p.get("state") or p["stream"] for _, p in shapes} == {
        "lifecycle", "status", "assistant", "delta", "final", "error", "aborted"}
    for event, payload in shapes:
        assert_valid(event, payload)


def test_the_recorded_events_validate_too() -> None:
    """The checker itself: what the real gateways sent passes (p3 deltas lack the p4-required
    deltaText, so only p4 chat events are checked)."""
    for event, payload in recorded_run("frames-chat.jsonl"):
        if event == "agent":
            payload = {k: v for k, v in payload.items() if k not in ("agentId", "sessionId", "lane")}
        assert_valid(event, payload)
    for event, payload in recorded_run("frames-v129-chat.jsonl"):
        if event == "agent":
            assert_valid(event, payload)


def test_protocol_3_view_drops_what_2026_1_29_never_sent() -> None:
    p3 = [(e, for_protocol(e, p, 3)) for e, p in every_shape()]
    kept = [(e, p) for e, p in p3 if p is not None]
    assert not any(p.get("state") == "status" for e, p in kept if e == "chat")
    # Every agent event is one protocol 3 knows: its seq numbers stay gapless.
    assert [p["seq"] for e, p in kept if e == "agent"] == [1, 2, 3, 4, 5, 6]
    for event, payload in kept:
        if event == "chat":
            assert not {"agentId", "deltaText", "errorKind", "errorDetail"} & set(payload)
    assert for_protocol("sessions.changed", {"sessionKey": "k"}, 3) is None
    assert for_protocol("chat", {"state": "status"}, 4) == {"state": "status"}


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_run_matches_the_recorded_sequences(kind: Kind, state_home: Path) -> None:
    async with FakeModelServer(kind) as fake:
        config = config_for({"fake": provider_entry(fake)}, primary="fake/fake-1")
        # No coalescing: one delta per chunk, as the recorded (slow) runs had.
        async with runtime_for(config, make_store(state_home), coalesce_s=0.0) as (runtime, log):
            await runtime.send("agent:main:desktop-probe", "Say hello", "run-x")
            await log.terminal("run-x")
    ours = log.of("run-x")

    # Protocol 3: exactly the shape of openclaw 2026.1.29's sequence.
    def p3_outline(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[Any, ...]]:
        outline = []
        for event, payload in events:
            view = for_protocol(event, payload, 3)
            if view is None:
                continue
            what = view["stream"] if event == "agent" else view["state"]
            data = view.get("data", {})
            outline.append((event, what, data.get("phase"), data.get("text"), _text(view)))
        return outline

    assert p3_outline(ours) == p3_outline(recorded_run("frames-v129-chat.jsonl"))
    for (event, payload), (_, recorded) in zip(  # noqa: B905 (lengths compared above)
            [(e, for_protocol(e, p, 3)) for e, p in ours if for_protocol(e, p, 3) is not None],
            recorded_run("frames-v129-chat.jsonl")):
        assert payload is not None
        assert set(recorded) <= set(payload), (event, set(recorded) - set(payload))
        if event == "agent" and payload["data"].get("phase") in ("start", "end"):
            key = "startedAt" if payload["data"]["phase"] == "start" else "endedAt"
            assert isinstance(payload["data"][key], int)

    # Protocol 4: the recorded run's text-bearing events, in the same order.
    def p4_text(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, str]]:
        return [(e, p.get("state") or p["stream"], _text(p) or p.get("data", {}).get("text", ""))
                for e, p in events if (p.get("state") in ("delta", "final")) or p.get("stream") == "assistant"]

    recorded_p4 = p4_text(recorded_run("frames-chat.jsonl"))
    assert p4_text(ours)[-1] == recorded_p4[-1] == ("chat", "final", DEFAULT_TEXT)
    assert [t for t in p4_text(ours) if t[1] == "assistant"] == [t for t in recorded_p4 if t[1] == "assistant"]
    # Chat events share the seq of the agent event they belong to, as recorded.
    last_agent_seq = 0
    for event, payload in ours:
        if event == "agent":
            last_agent_seq = payload["seq"]
        else:
            assert payload["seq"] == last_agent_seq


def _text(payload: dict[str, Any]) -> str:
    message = payload.get("message") or {}
    content = message.get("content") or []
    return "".join(block.get("text", "") for block in content)
