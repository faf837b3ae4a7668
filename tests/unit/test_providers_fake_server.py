"""The fake model server as its own process (`python -m tests.fakes.serve`), as benchmarks and
interop tests run it: startup line, streaming, the control endpoint and the timing stats."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from molt_desktop.agent.providers.base import ChatRequest, ProviderError, TextDelta
from molt_desktop.agent.providers.registry import ProviderRegistry

ROOT = Path(__file__).resolve().parents[2]
HELLO = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


@pytest.fixture(params=["openai", "anthropic"])
async def served(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, int]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.serve", "--kind", request.param, "--port", "0",
        "--text", "one two three four five six", "--chunks", "6", "--delay", "0.01",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
        assert line.startswith("listening "), line
        yield request.param, int(line.split()[1])
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 15)
        assert code == 0, (await process.stderr.read()).decode() if process.stderr else code


async def stream(kind: str, port: int) -> str:
    base = f"http://127.0.0.1:{port}" + ("/v1" if kind == "openai" else "")
    api = "openai-completions" if kind == "openai" else "anthropic-messages"
    registry = ProviderRegistry.from_config_dict({"models": {"providers": {
        "served": {"baseUrl": base, "api": api, "apiKey": "k", "models": [{"id": "fake-1"}]}}}})
    try:
        adapter, model = registry.resolve("served/fake-1")
        return "".join([e.text async for e in adapter.stream(ChatRequest(model=model, messages=HELLO))
                        if isinstance(e, TextDelta)])
    finally:
        await registry.aclose()


async def test_served_fake_streams_and_is_controllable(served: tuple[str, int]) -> None:
    kind, port = served
    assert await stream(kind, port) == "one two three four five six"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{port}/_control", json={"fail": 429, "times": 1}) as response:
            assert (await response.json())["fail_status"] == 429
        with pytest.raises(ProviderError) as caught:
            await stream(kind, port)
        assert caught.value.kind == "rate_limit"
        assert await stream(kind, port) == "one two three four five six"  # only once
        async with http.get(f"http://127.0.0.1:{port}/_stats") as response:
            stats = await response.json()
        assert stats["count"] == 3
        ok = stats["requests"][0]
        assert ok["status"] == 200 and ok["chunks"] == 6 and ok["stream"] is True
        assert ok["receivedAt"] <= ok["firstByteAt"] <= ok["firstTextAt"] <= ok["doneAt"]
        assert stats["requests"][1]["status"] == 429
        async with http.get(f"http://127.0.0.1:{port}/_requests") as response:
            first = (await response.json())["requests"][0]
        assert first["headers"]["Authorization"] == "Bearer k" and first["body"]["model"] == "fake-1"
        async with http.post(f"http://127.0.0.1:{port}/_control", json={"reset": True, "text": "x"}) as response:
            assert (await response.json())["text"] == "x"
        async with http.post(f"http://127.0.0.1:{port}/_reset") as response:
            assert response.status == 200
        async with http.get(f"http://127.0.0.1:{port}/_stats") as response:
            assert (await response.json())["count"] == 0
