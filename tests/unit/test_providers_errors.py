"""Every failure a provider can meet becomes a ProviderError with a kind and a message a person
can act on; checked against the fakes' real error responses over real sockets."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from molt_desktop.agent.providers.base import ChatRequest, ProviderError, TextDelta
from molt_desktop.agent.providers.registry import ProviderRegistry
from tests.fakes.agent_support import provider_entry
from tests.fakes.common import FakeModelServer

HELLO = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


async def call(server: FakeModelServer, *, api_key: str | None = "test-key", timeout_s: float = 30,
               base_url: str | None = None) -> tuple[ProviderError, list[str]]:
    """Stream one request; return the ProviderError raised and the text received before it."""
    entry = provider_entry(server, api_key=api_key)
    if base_url:
        entry["baseUrl"] = base_url
    registry = ProviderRegistry.from_config_dict({"models": {"providers": {"acme": entry}}})
    text: list[str] = []
    try:
        adapter, model = registry.resolve("acme/fake-1")
        with pytest.raises(ProviderError) as caught:
            async for event in adapter.stream(ChatRequest(model=model, messages=HELLO, timeout_s=timeout_s)):
                if isinstance(event, TextDelta):
                    text.append(event.text)
    finally:
        await registry.aclose()
    return caught.value, text


@pytest.fixture(params=["anthropic", "openai"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[FakeModelServer]:
    async with FakeModelServer(request.param) as fake:
        yield fake


async def test_bad_key(server: FakeModelServer) -> None:
    server.behavior.api_key = "the-right-key"
    error, _ = await call(server, api_key="a-wrong-key")
    assert error.kind == "auth" and error.status == 401 and not error.fallback_ok
    assert error.message == "The API key was rejected by acme (401). Check models.providers.acme.apiKey."
    assert error.provider == "acme" and error.model == "fake-1"


async def test_missing_key_says_so(server: FakeModelServer) -> None:
    server.behavior.api_key = "the-right-key"
    error, _ = await call(server, api_key=None)
    assert error.kind == "auth"
    assert "No API key is configured for acme" in error.message
    assert "models.providers.acme.apiKey" in error.message


async def test_forbidden(server: FakeModelServer) -> None:
    server.fail_next(403)
    error, _ = await call(server)
    assert error.kind == "auth" and error.status == 403
    assert "rejected by acme (403)" in error.message


async def test_payment_required(server: FakeModelServer) -> None:
    server.fail_next(402)
    error, _ = await call(server)
    assert error.kind == "auth" and "payment required" in error.message and "balance" in error.message


async def test_rate_limited(server: FakeModelServer) -> None:
    server.fail_next(429)
    server.behavior.retry_after = 7
    error, _ = await call(server)
    assert error.kind == "rate_limit" and error.fallback_ok and error.retry_after_s == 7
    assert error.chat_error_kind == "rate_limit"
    assert error.message.startswith("acme is rate limiting requests (429). Wait a moment and try again (retry after 7 s)")


@pytest.mark.parametrize("status", [529, 503])
async def test_overloaded(server: FakeModelServer, status: int) -> None:
    server.fail_next(status)
    error, _ = await call(server)
    assert error.kind == "overloaded" and error.fallback_ok and error.status == status
    assert f"acme is overloaded right now ({status})" in error.message
    assert "agents.defaults.model.fallbacks" in error.message


async def test_server_error(server: FakeModelServer) -> None:
    server.fail_next(500)
    error, _ = await call(server)
    assert error.kind == "server" and error.fallback_ok
    assert error.message.startswith("acme had an internal error (500")
    assert error.message.endswith("Try again later.")


async def test_context_too_long(server: FakeModelServer) -> None:
    server.fail_next(400)  # both fakes answer 400 with their provider's context-length wording
    error, _ = await call(server)
    assert error.kind == "context_length" and not error.fallback_ok
    assert error.chat_error_kind == "context_length"
    assert error.message.startswith("The conversation is too long for fake-1 (400:")
    assert "Start a new session" in error.message


async def test_other_bad_request(server: FakeModelServer) -> None:
    server.fail_next(400, message="temperature: must be between 0 and 1")
    error, _ = await call(server)
    assert error.kind == "bad_request"
    assert error.message == "acme rejected the request (400): temperature: must be between 0 and 1"


async def test_unknown_model(server: FakeModelServer) -> None:
    server.fail_next(404)
    error, _ = await call(server)
    assert error.kind == "bad_request" and error.status == 404
    assert "404 Not Found for model 'fake-1'" in error.message and "models.providers.acme.baseUrl" in error.message


async def test_timeout(server: FakeModelServer) -> None:
    server.behavior.first_byte_delay = 2.0
    error, _ = await call(server, timeout_s=0.3)
    assert error.kind == "timeout" and error.fallback_ok and error.chat_error_kind == "timeout"
    assert error.message.startswith("acme did not answer within 0.3 s (timeout).")


async def test_connection_refused(server: FakeModelServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}" + ("/v1" if server.kind == "openai" else "")
    error, _ = await call(server, base_url=base)
    assert error.kind == "network" and error.fallback_ok
    assert error.message == (
        f"Could not connect to acme at {base} (connection refused). "
        f"Check the network connection and models.providers.acme.baseUrl."
    )


async def test_error_in_the_middle_of_the_stream(server: FakeModelServer) -> None:
    status = 529 if server.kind == "anthropic" else 500
    server.behavior.update({"failAfterChunks": 3, "fail": status, "times": 0})
    error, text = await call(server)
    assert text == ["Hello", " from", " the"]
    if server.kind == "anthropic":
        assert error.kind == "overloaded" and "overloaded_error" in error.message
    else:
        assert error.kind == "server" and "server_error" in error.message


async def test_secrets_never_in_messages(server: FakeModelServer) -> None:
    from molt_desktop.logs import register_secret

    register_secret("sk-secret-123456")
    server.fail_next(400, message="bad key sk-secret-123456 in header")
    error, _ = await call(server)
    assert "sk-secret-123456" not in error.message and "***" in error.message
