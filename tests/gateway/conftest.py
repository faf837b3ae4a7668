"""Fixtures for gateway tests: a fake model, the gateway services on a real port, and clients.

The gateway runs in the test's event loop exactly as `molt-desktop gateway` builds it
(app.Services), with its state dir in a temp folder and a fake OpenAI-compatible model.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from molt_desktop.app import GatewayOptions, Services
from molt_desktop.client.connection import ClientOptions, GatewayConnection
from tests.fakes.common import FakeModelServer

TOKEN = "test-gateway-token-0123456789abcdef0123"


def write_config(state: Path, fake: FakeModelServer | None, **gateway: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"gateway": {"auth": {"mode": "token", "token": TOKEN}, **gateway}}
    if fake is not None:
        config["agents"] = {"defaults": {"model": {"primary": "fake/fake-1"}, "maxConcurrent": 4}}
        config["models"] = {"providers": {"fake": {
            "baseUrl": fake.base_url, "apiKey": "fake-key",
            "api": "openai-completions" if fake.kind == "openai" else "anthropic-messages",
            "models": [{"id": "fake-1", "name": "Fake", "contextWindow": 32000, "maxTokens": 2048,
                        "input": ["text", "image"],
                        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0}}]}}}
    (state / "moltbot.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return config


@dataclass
class RunningGateway:
    services: Services
    state: Path
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.services.port

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
async def fake_model() -> AsyncIterator[FakeModelServer]:
    async with FakeModelServer("openai") as server:
        yield server


@pytest.fixture
async def gateway(state_home: Path, fake_model: FakeModelServer) -> AsyncIterator[RunningGateway]:
    write_config(state_home, fake_model)
    services = Services(state_home, GatewayOptions(port=0))
    await services.start()
    try:
        yield RunningGateway(services, state_home)
    finally:
        await services.stop()


Events = list[tuple[str, dict[str, Any]]]
Connect = Callable[..., Awaitable[tuple[GatewayConnection, Events]]]


@pytest.fixture
async def connect(gateway: RunningGateway) -> AsyncIterator[Connect]:
    """`await connect(**ClientOptions fields)` -> (connection, list of received events)."""
    opened: list[GatewayConnection] = []

    async def _connect(**options: Any) -> tuple[GatewayConnection, Events]:
        events: Events = []
        opts = {"url": gateway.url, "token": TOKEN, **options}
        conn = GatewayConnection(ClientOptions(**opts), lambda e, p: events.append((e, p)))
        await conn.connect()
        opened.append(conn)
        return conn, events

    yield _connect
    for conn in opened:
        await conn.close()


class RawSocket:
    """A bare WebSocket for handshake and bad-frame tests: frames exactly as given."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws
        self.received: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        if isinstance(frame, dict):
            await self.ws.send_str(json.dumps(frame))
        elif isinstance(frame, bytes):
            await self.ws.send_bytes(frame)
        else:
            await self.ws.send_str(frame)

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=timeout)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"expected a text frame, got {msg.type!r} ({self.ws.close_code})")
        frame = json.loads(msg.data)
        self.received.append(frame)
        return dict(frame)

    async def recv_reply(self, timeout: float = 10) -> dict[str, Any]:
        """The next `res` frame, skipping events (presence, tick) in between."""
        while True:
            frame = await self.recv(timeout)
            if frame.get("type") == "res":
                return frame

    async def recv_res(self, req_id: str, timeout: float = 10) -> dict[str, Any]:
        while True:
            frame = await self.recv(timeout)
            if frame.get("type") == "res" and frame.get("id") == req_id:
                return frame

    async def closed(self, timeout: float = 10) -> int | None:
        """Wait for the server's close; returns the close code."""
        while True:
            msg = await self.ws.receive(timeout=timeout)
            if msg.type == aiohttp.WSMsgType.CLOSE:
                return int(msg.data)  # the code the server sent, even if it tore down the socket first
            if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                return self.ws.close_code
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.received.append(json.loads(msg.data))

    async def close(self) -> None:
        await self.ws.close()
        await self.session.close()


RawConnect = Callable[[], Awaitable[RawSocket]]


@pytest.fixture
async def raw(gateway: RunningGateway) -> AsyncIterator[RawConnect]:
    sockets: list[RawSocket] = []

    async def _open() -> RawSocket:
        session = aiohttp.ClientSession()
        ws = await session.ws_connect(gateway.url, max_msg_size=0)
        sock = RawSocket(session, ws)
        sockets.append(sock)
        return sock

    yield _open
    for sock in sockets:
        await sock.close()


def connect_frame(req_id: str = "c1", *, token: str | None = TOKEN, min_protocol: int = 3, max_protocol: int = 4,
                  client_id: str = "cli", mode: str = "cli", scopes: list[str] | None = None,
                  **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "minProtocol": min_protocol, "maxProtocol": max_protocol,
        "client": {"id": client_id, "version": "1.0.0", "platform": "linux", "mode": mode},
        "role": "operator",
        "scopes": scopes if scopes is not None else ["operator.read", "operator.write", "operator.admin",
                                                      "operator.approvals", "operator.pairing"],
    }
    if token is not None:
        params["auth"] = {"token": token}
    params.update(extra)
    return {"type": "req", "id": req_id, "method": "connect", "params": params}
