"""The client against the embedded gateway on a real socket: typed errors from real error frames,
pairing, device tokens kept and reused, events as an async iterator, Backoff."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import molt_desktop.gateway.server as gateway_server
from molt_desktop.client.connection import (
    Backoff,
    ClientOptions,
    GatewayAuthError,
    GatewayCallError,
    GatewayConnection,
    GatewayForbidden,
    GatewayPairingRequired,
    GatewayProtocolMismatch,
    GatewayUnreachable,
)
from molt_desktop.client.identity import DeviceTokenStore
from molt_desktop.protocol.device import DeviceIdentity
from tests.conftest import MemoryKeyring
from tests.gateway.conftest import TOKEN, RunningGateway


@pytest.fixture
def remote_peer(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """While `on`, the gateway classifies peers as non-loopback (new devices there need approval):
    the only way to get a non-loopback peer here; the wire is unchanged (as in test_conformance)."""
    local = gateway_server.is_loopback_address
    remote = {"on": False}
    monkeypatch.setattr(gateway_server, "is_loopback_address", lambda host: not remote["on"] and local(host))
    yield remote


def options(gateway: RunningGateway, **extra: Any) -> ClientOptions:
    fields: dict[str, Any] = {"url": gateway.url, "token": TOKEN, "client_id": "gateway-client", "mode": "ui",
                              "connect_timeout": 10.0, **extra}
    return ClientOptions(**fields)


async def connect_error(opts: ClientOptions) -> GatewayCallError:
    conn = GatewayConnection(opts)
    with pytest.raises(GatewayCallError) as caught:
        await conn.connect()
    await conn.close()
    return caught.value


async def test_wrong_token_is_an_auth_error(gateway: RunningGateway) -> None:
    error = await connect_error(options(gateway, token="not-the-token"))
    assert type(error) is GatewayAuthError
    assert error.code == "INVALID_REQUEST" and error.detail_code == "AUTH_TOKEN_MISMATCH"
    assert error.retryable is False and error.retry_after_ms is None
    assert "not-the-token" not in str(error)


async def test_repeated_failures_are_rate_limited_with_retry_after(gateway: RunningGateway) -> None:
    error: GatewayCallError | None = None
    for _attempt in range(30):
        error = await connect_error(options(gateway, token="not-the-token", client_id="cli", mode="cli"))
        if error.detail_code == "AUTH_RATE_LIMITED":
            break
    assert isinstance(error, GatewayAuthError) and error.detail_code == "AUTH_RATE_LIMITED"
    assert error.retryable is True and error.retry_after_ms is not None and error.retry_after_ms > 0


async def test_protocol_mismatch(gateway: RunningGateway) -> None:
    error = await connect_error(options(gateway, min_protocol=99, max_protocol=99))
    assert isinstance(error, GatewayProtocolMismatch)
    assert error.detail_code == "PROTOCOL_MISMATCH" and error.expected_protocol == 4


async def test_missing_scope_is_forbidden(gateway: RunningGateway) -> None:
    # A shared-token UI connection without a device identity gets no scopes (PROTOCOL.md 2.8).
    async with GatewayConnection(options(gateway)) as conn:
        with pytest.raises(GatewayForbidden) as caught:
            await conn.call("sessions.list")
    assert caught.value.code == "FORBIDDEN" and caught.value.missing_scope == "operator.read"
    async with GatewayConnection(options(gateway, client_id="cli", mode="cli")) as conn:
        with pytest.raises(GatewayCallError) as unknown:
            await conn.call("no.such.method")
    assert type(unknown.value) is GatewayCallError and "unknown method" in unknown.value.message


async def test_pairing_required_then_approved_device_token_kept_and_reused(
        gateway: RunningGateway, remote_peer: dict[str, bool], state_home: Path,
        memory_keyring: MemoryKeyring) -> None:
    device = DeviceIdentity.generate()
    store = DeviceTokenStore(state_home)
    remote_peer["on"] = True
    error = await connect_error(options(gateway, device=device, device_tokens=store))
    remote_peer["on"] = False
    assert isinstance(error, GatewayPairingRequired)
    assert error.code == "NOT_PAIRED" and error.detail_code == "PAIRING_REQUIRED"
    assert error.device_id == device.device_id and error.request_id
    assert error.approve_commands == [f"openclaw devices approve {error.request_id}",
                                      f"molt-desktop devices approve {error.request_id}"]
    assert all(command in str(error) for command in error.approve_commands)
    assert store.get(gateway.url, device.device_id, "operator") is None

    async with GatewayConnection(options(gateway, client_id="cli", mode="cli")) as admin:
        await admin.call("device.pair.approve", {"requestId": error.request_id})

    remote_peer["on"] = True
    async with GatewayConnection(options(gateway, device=device, device_tokens=store)) as conn:
        issued = conn.hello["auth"]["deviceToken"]
    assert issued and store.get(gateway.url, device.device_id, "operator") == issued
    assert issued in memory_keyring.items.values()  # kept in the keyring, not in a file
    assert not (state_home / "identity" / "device-tokens.json").exists()

    # The next connect presents the kept device token: it alone gets in, without the shared token
    # (without it the same connect is refused).
    error = await connect_error(options(gateway, token=None, device=device))
    assert isinstance(error, GatewayAuthError) and error.detail_code == "AUTH_TOKEN_MISSING"
    fresh = DeviceTokenStore(state_home)
    async with GatewayConnection(options(gateway, token=None, device=device, device_tokens=fresh)) as conn:
        assert (await conn.call("sessions.list"))["sessions"] is not None
    remote_peer["on"] = False


async def test_refused_device_token_is_forgotten_and_shared_token_retried(
        gateway: RunningGateway, state_home: Path) -> None:
    device = DeviceIdentity.generate()
    store = DeviceTokenStore(state_home)
    store.save(gateway.url, device.device_id, "operator", "a-device-token-the-gateway-never-issued")
    # The shared token is wrong too: the device token is refused (and forgotten), then the retry
    # with the shared token alone is refused for that token.
    error = await connect_error(options(gateway, token="not-the-token", device=device, device_tokens=store))
    assert isinstance(error, GatewayAuthError) and error.detail_code == "AUTH_TOKEN_MISMATCH"
    assert DeviceTokenStore(state_home).get(gateway.url, device.device_id, "operator") is None

    # A stale device token next to a good shared token: the connect works and the gateway's
    # current device token replaces the stale one.
    store.save(gateway.url, device.device_id, "operator", "another-stale-device-token")
    async with GatewayConnection(options(gateway, device=device, device_tokens=store)) as conn:
        issued = conn.hello["auth"]["deviceToken"]
    assert DeviceTokenStore(state_home).get(gateway.url, device.device_id, "operator") == issued


async def test_events_iterator_and_last_frame(gateway: RunningGateway) -> None:
    conn = GatewayConnection(options(gateway, client_id="cli", mode="cli"))
    await conn.connect()
    assert conn.last_frame_at is not None and conn.tls_fingerprint is None
    before = conn.last_frame_at
    stream = conn.events()
    await conn.call("sessions.patch", {"key": "agent:main:iter", "label": "Iterated"})
    async for event, payload in stream:
        if event == "sessions.changed" and payload.get("sessionKey") == "agent:main:iter":
            break
    assert conn.last_frame_at >= before
    ended = conn.events()
    await conn.close()
    assert [item async for item in ended] == []  # ends when the connection closes
    assert [item async for item in conn.events()] == []  # and a closed connection has none
    with pytest.raises(GatewayUnreachable):
        await conn.call("health")


async def test_unreachable_port() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conn = GatewayConnection(ClientOptions(url=f"ws://127.0.0.1:{port}", token=TOKEN, connect_timeout=5))
    with pytest.raises(GatewayUnreachable, match="cannot reach"):
        await conn.connect()


def test_backoff_doubles_to_the_maximum_with_bounded_jitter() -> None:
    backoff = Backoff(rng=random.Random(7))
    delays = [backoff.next() for _ in range(10)]
    bases = [1, 2, 4, 8, 16, 30, 30, 30, 30, 30]
    for delay, base in zip(delays, bases):
        assert base * 0.8 <= delay <= min(base * 1.2, 30)
    assert len(set(delays)) == len(delays)  # jittered, not a fixed schedule
    backoff.reset()
    assert 0.8 <= backoff.next() <= 1.2
    exact = Backoff(initial=0.5, maximum=3, jitter=0)
    assert [exact.next() for _ in range(5)] == [0.5, 1, 2, 3, 3]
    with pytest.raises(ValueError):
        Backoff(initial=0)
    with pytest.raises(ValueError):
        Backoff(jitter=1)

