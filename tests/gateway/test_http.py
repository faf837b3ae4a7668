"""HTTP on the gateway port: probes, /metrics, the OpenAI-compatible API, and 404s."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiohttp
import pytest

from molt_desktop.paths import sessions_dir
from tests.fakes.common import FakeModelServer
from tests.gateway.conftest import TOKEN, Connect, RunningGateway
from tests.gateway.test_chat import REPLY, wait_state

AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def get(url: str, **kwargs: Any) -> tuple[int, Any, str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url, **kwargs) as response:
            text = await response.text()
            try:
                body = json.loads(text)
            except ValueError:
                body = None
            return response.status, body, text


async def test_liveness(gateway: RunningGateway) -> None:
    for path in ("/health", "/healthz"):
        status, body, _ = await get(gateway.http + path)
        assert (status, body) == (200, {"ok": True, "status": "live"})


async def test_readyz_ready_with_a_provider(gateway: RunningGateway) -> None:
    status, body, _ = await get(gateway.http + "/readyz")
    assert status == 200
    assert body["ready"] is True and body["failing"] == [] and body["uptimeMs"] >= 0


async def test_readyz_says_why_without_a_provider(state_home: Any) -> None:
    from molt_desktop.app import GatewayOptions, Services
    from tests.gateway.conftest import write_config

    write_config(state_home, None)
    services = Services(state_home, GatewayOptions(port=0))
    await services.start()
    try:
        status, body, _ = await get(f"http://127.0.0.1:{services.port}/readyz")
        assert status == 503
        assert body["ready"] is False
        assert any("provider" in reason for reason in body["failing"])
    finally:
        await services.stop()


async def test_readyz_fails_when_the_store_is_not_writable(gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    import molt_desktop.gateway.http as http

    real_access = http.os.access
    target = str(sessions_dir(gateway.state))

    def access(path: Any, mode: int) -> bool:
        if str(path) == target or str(path) == str(gateway.state):
            return False
        return real_access(path, mode)

    monkeypatch.setattr(http.os, "access", access)
    status, body, _ = await get(gateway.http + "/readyz")
    assert status == 503
    assert any("not writable" in reason for reason in body["failing"])


async def test_unknown_path_is_json_404(gateway: RunningGateway) -> None:
    status, body, _ = await get(gateway.http + "/nope")
    assert status == 404
    assert "error" in body


async def test_metrics_needs_the_bearer_token(gateway: RunningGateway) -> None:
    status, body, _ = await get(gateway.http + "/metrics")
    assert (status, body) == (401, {"error": {"message": "Unauthorized", "type": "unauthorized"}})
    status, _, _ = await get(gateway.http + "/metrics", headers={"Authorization": "Bearer wrong"})
    assert status == 401


async def test_metrics_count_requests_runs_tokens_and_failures(gateway: RunningGateway, connect: Connect) -> None:
    conn, events = await connect()
    await conn.call("health", {})
    run_id = str(uuid.uuid4())
    await conn.call("chat.send", {"sessionKey": "agent:main:metrics", "message": "hi", "idempotencyKey": run_id})
    await wait_state(events, run_id)
    await get(gateway.http + "/metrics", headers={"Authorization": "Bearer wrong"})
    status, _, text = await get(gateway.http + "/metrics", headers=AUTH)
    assert status == 200
    assert 'molt_gateway_rpc_requests_total{method="health",outcome="ok"} 1.0' in text
    assert 'molt_gateway_rpc_requests_total{method="chat.send",outcome="ok"} 1.0' in text
    assert "molt_gateway_run_duration_seconds_count" in text
    assert "molt_gateway_time_to_first_token_seconds_count 1.0" in text
    assert 'molt_gateway_tokens_total{kind="output",model="fake-1"}' in text
    assert "molt_gateway_open_connections 1.0" in text
    assert "molt_gateway_auth_failures_total" in text


async def test_v1_models(gateway: RunningGateway) -> None:
    status, _, _ = await get(gateway.http + "/v1/models")
    assert status == 401
    status, body, _ = await get(gateway.http + "/v1/models", headers=AUTH)
    assert status == 200
    assert {m["id"] for m in body["data"]} >= {"openclaw", "openclaw/default", "openclaw/main"}




async def test_chat_completions_non_stream_stores_the_turn(gateway: RunningGateway, connect: Connect) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.http + "/v1/chat/completions", headers=AUTH, json={
            "model": "openclaw", "user": "alice", "messages": [{"role": "user", "content": "hello there"}],
        }) as response:
            assert response.status == 200
            body = await response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": REPLY}
    assert body["choices"][0]["finish_reason"] == "stop"
    conn, _ = await connect()
    history = await conn.call("chat.history", {"sessionKey": "agent:main:openai-user:alice"})
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]


async def test_chat_completions_stream(gateway: RunningGateway, fake_model: FakeModelServer) -> None:
    fake_model.behavior.update({"chunks": 40})
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.http + "/v1/chat/completions", headers={
            **AUTH, "x-openclaw-session-key": "agent:main:streamed"}, json={
            "model": "openclaw/default", "stream": True, "messages": [{"role": "user", "content": "hi"}],
        }) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            raw = (await response.read()).decode()
    lines = [line[6:] for line in raw.split("\n") if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == REPLY
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert sessions_dir(gateway.state).joinpath("sessions.json").read_text().count("agent:main:streamed") == 1


@pytest.mark.parametrize("body,status", [
    ({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]}, 400),
    ({"model": "openclaw", "messages": []}, 400),
    ("not an object", 400),
])
async def test_chat_completions_rejects_bad_requests(gateway: RunningGateway, body: Any, status: int) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.http + "/v1/chat/completions", headers=AUTH, json=body) as response:
            assert response.status == status
            payload = await response.json()
    assert payload["error"]["type"] == "invalid_request_error"


async def test_chat_completions_bad_json_and_no_auth(gateway: RunningGateway) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.http + "/v1/chat/completions", headers=AUTH, data=b"{nope") as response:
            assert response.status == 400
        async with session.post(gateway.http + "/v1/chat/completions", json={"model": "openclaw"}) as response:
            assert response.status == 401


async def test_chat_completions_can_be_disabled(state_home: Any, fake_model: FakeModelServer) -> None:
    from molt_desktop.app import GatewayOptions, Services
    from tests.gateway.conftest import write_config

    write_config(state_home, fake_model, http={"endpoints": {"chatCompletions": {"enabled": False}}})
    services = Services(state_home, GatewayOptions(port=0))
    await services.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{services.port}/v1/chat/completions", headers=AUTH,
                                    json={"model": "openclaw", "messages": [{"role": "user", "content": "x"}]}) as r:
                assert r.status == 404
    finally:
        await services.stop()


async def test_provider_error_over_http(gateway: RunningGateway, fake_model: FakeModelServer) -> None:
    fake_model.fail_next(429, times=-1)
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.http + "/v1/chat/completions", headers=AUTH,
                                json={"model": "openclaw", "messages": [{"role": "user", "content": "x"}]}) as r:
            assert r.status == 429
            body = await r.json()
    assert "rate" in body["error"]["message"].lower()


