"""The two provider adapters against the fake servers, over real sockets: what they send and
what they yield."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from molt_desktop.agent.providers.base import (
    ChatRequest,
    ModelInfo,
    Provider,
    Stop,
    TextDelta,
    Usage,
)
from molt_desktop.agent.providers.registry import ProviderRegistry
from tests.fakes.agent_support import provider_entry
from tests.fakes.common import DEFAULT_TEXT, FakeBehavior, FakeModelServer

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()


@pytest.fixture(params=["anthropic", "openai"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[FakeModelServer]:
    async with FakeModelServer(request.param) as fake:
        yield fake


@pytest.fixture
async def provider(server: FakeModelServer) -> AsyncIterator[tuple[Provider, ModelInfo]]:
    registry = ProviderRegistry.from_config_dict({"models": {"providers": {"fake": provider_entry(server)}}})
    try:
        yield registry.resolve("fake/fake-1")
    finally:
        await registry.aclose()


async def collect(provider: Provider, request: ChatRequest) -> list[Any]:
    return [event async for event in provider.stream(request)]


def user(text: str, *blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}, *blocks], "timestamp": 1}


async def test_streams_text_then_usage_then_stop(server: FakeModelServer, provider: tuple[Provider, ModelInfo]) -> None:
    adapter, model = provider
    server.behavior.usage_input, server.behavior.usage_output = 10, 11
    events = await collect(adapter, ChatRequest(model=model, messages=[user("Say hello")]))
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == DEFAULT_TEXT
    assert deltas[:2] == ["Hello", " from"]  # one event per chunk, nothing buffered
    assert events[-2:] == [Usage(input=10, output=11), Stop("stop")]


async def test_request_on_the_wire(server: FakeModelServer, provider: tuple[Provider, ModelInfo]) -> None:
    adapter, model = provider
    history = [user("first"), {"role": "assistant", "content": [{"type": "text", "text": "reply"}]}, user("second")]
    await collect(adapter, ChatRequest(model=model, messages=history, system="Be brief.", timeout_s=30))
    (recorded,) = server.requests
    body = recorded.body
    assert recorded.headers["Authorization"] == "Bearer test-key"
    assert body["model"] == "fake-1" and body["stream"] is True
    if server.kind == "anthropic":
        assert recorded.path == "/v1/messages"
        assert "anthropic-version" in recorded.headers
        assert body["system"] == "Be brief." and body["max_tokens"] == 2048
        assert body["messages"] == [
            {"role": "user", "content": [{"type": "text", "text": "first"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "reply"}]},
            {"role": "user", "content": [{"type": "text", "text": "second"}]},
        ]
    else:
        assert recorded.path == "/v1/chat/completions"
        assert body["stream_options"] == {"include_usage": True}
        assert body["max_tokens"] == 2048
        assert body["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "reply"},
            {"role": "user", "content": "second"},
        ]


async def test_images_reach_the_provider_in_its_format(server: FakeModelServer,
                                                        provider: tuple[Provider, ModelInfo]) -> None:
    adapter, model = provider
    image = {"type": "image", "data": PNG, "mimeType": "image/png"}
    await collect(adapter, ChatRequest(model=model, messages=[user("what is this?", image)]))
    content = server.requests[0].body["messages"][-1]["content"]
    if server.kind == "anthropic":
        assert content == [
            {"type": "text", "text": "what is this?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        ]
    else:
        assert content == [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        ]


async def test_stop_reasons_are_normalized(server: FakeModelServer, provider: tuple[Provider, ModelInfo]) -> None:
    adapter, model = provider
    server.behavior.stop_reason = "length"
    events = await collect(adapter, ChatRequest(model=model, messages=[user("hi")]))
    assert events[-1] == Stop("length")


async def test_many_chunks_arrive_intact(server: FakeModelServer, provider: tuple[Provider, ModelInfo]) -> None:
    adapter, model = provider
    server.behavior.update({"text": "abcdefghij" * 300, "chunks": 2000})
    events = await collect(adapter, ChatRequest(model=model, messages=[user("long")]))
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == 2000
    assert "".join(deltas) == server.behavior.full_text() == "abcdefghij" * 300


async def test_thinking_is_sent_only_to_reasoning_models(server: FakeModelServer) -> None:
    models: list[dict[str, Any]] = [{"id": "thinker", "reasoning": True, "maxTokens": 4096}, {"id": "plain"}]
    registry = ProviderRegistry.from_config_dict(
        {"models": {"providers": {"fake": provider_entry(server, models=models)}}})
    try:
        for ref in ("fake/thinker", "fake/plain"):
            adapter, model = registry.resolve(ref)
            await collect(adapter, ChatRequest(model=model, messages=[user("think")], thinking="high"))
    finally:
        await registry.aclose()
    thinker, plain = (r.body for r in server.requests)
    if server.kind == "anthropic":
        assert thinker["thinking"] == {"type": "enabled", "budget_tokens": 16384}
        assert thinker["max_tokens"] > 16384
        assert "thinking" not in plain
    else:
        assert thinker["reasoning_effort"] == "high"
        assert "reasoning_effort" not in plain


async def test_anthropic_base_url_with_v1_still_works() -> None:
    async with FakeModelServer("anthropic", FakeBehavior(text="ok")) as fake:
        entry = provider_entry(fake)
        entry["baseUrl"] = fake.base_url + "/v1/"
        registry = ProviderRegistry.from_config_dict({"models": {"providers": {"fake": entry}}})
        try:
            adapter, model = registry.resolve("fake/fake-1")
            events = await collect(adapter, ChatRequest(model=model, messages=[user("hi")]))
        finally:
            await registry.aclose()
        assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("ok")]
        assert fake.requests[0].path == "/v1/messages"
