"""The endpoint pool against the real embedded gateway: calls, events, reconnecting, stopping."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from molt_desktop.app import GatewayOptions, Services
from molt_desktop.client.connection import ClientOptions, GatewayCallError, GatewayUnreachable
from molt_desktop.client.failover import Endpoint, EndpointPool, FailoverSettings, PoolStatus
from tests.gateway.conftest import TOKEN, RunningGateway


def _pool(url: str, token: str = TOKEN) -> EndpointPool:
    return EndpointPool([Endpoint("local", "local", lambda: ClientOptions(url=url, token=token))],
                        settings=FailoverSettings(probe_interval=0.2))


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_calls_and_events_reach_subscribers(gateway: RunningGateway) -> None:
    pool = _pool(gateway.url)
    events: list[tuple[str, dict[str, Any]]] = []
    statuses: list[PoolStatus] = []
    pool.subscribe_events(lambda e, p: events.append((e, p)))
    pool.subscribe_status(statuses.append)
    await pool.start()
    try:
        assert (await pool.call("health"))["ok"] is True  # waits for the first connect
        assert [s.state for s in statuses][:2] == ["connecting", "connected"]
        assert pool.status.kind == "local" and pool.status.url == gateway.url and pool.status.hello
        await pool.call("chat.send", {"sessionKey": "agent:main:pool", "message": "hi",
                                      "idempotencyKey": str(uuid.uuid4())})
        await _until(lambda: any(e == "chat" and p.get("state") == "final" for e, p in events))
        with pytest.raises(GatewayCallError, match="unknown method"):
            await pool.call("no.such.method")
    finally:
        await pool.stop()
    assert pool.status.state == "stopped"


async def test_reconnects_when_the_gateway_comes_back(state_home: Any, gateway: RunningGateway) -> None:
    port = gateway.port
    pool = _pool(gateway.url)
    await pool.start()
    try:
        assert await pool.wait_connected(10)
        await gateway.services.stop()
        await _until(lambda: pool.status.state in ("disconnected", "connecting"))
        with pytest.raises(GatewayUnreachable):
            await pool.call("health", connect_timeout=0.3)
        assert pool.status.error
        again = Services(state_home, GatewayOptions(port=port))
        await again.start()
        try:
            assert (await pool.call("health", connect_timeout=10))["ok"] is True
        finally:
            await again.stop()
    finally:
        await pool.stop()


async def test_a_refused_token_is_reported_not_raised(gateway: RunningGateway) -> None:
    pool = _pool(gateway.url, token="wrong-token")
    await pool.start()
    try:
        await _until(lambda: pool.status.state == "disconnected" and pool.status.error is not None)
        assert "unauthorized" in (pool.status.error or "").lower() or "token" in (pool.status.error or "").lower()
        with pytest.raises(GatewayUnreachable):
            await pool.call("health", connect_timeout=0.2)
    finally:
        await pool.stop()
