"""The handshake over a real socket: challenge, connect (protocol 3 and 4), auth failures, limits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from molt_desktop.client.connection import GatewayCallError
from tests.gateway.conftest import TOKEN, Connect, RawConnect, RunningGateway, connect_frame
from tests.schema import validate


async def test_challenge_then_hello_ok_protocol_4(raw: RawConnect, gateway: RunningGateway) -> None:
    sock = await raw()
    challenge = await sock.recv()
    assert challenge["event"] == "connect.challenge"
    assert set(challenge["payload"]) >= {"nonce", "ts"}
    validate("EventFrame", challenge)
    await sock.send(connect_frame())
    res = await sock.recv_res("c1")
    validate("ResponseFrame", res)
    hello = res["payload"]
    validate("HelloOk", hello)
    assert hello["protocol"] == 4
    assert hello["server"]["version"]
    assert "chat.send" in hello["features"]["methods"] and "sessions.changed" in hello["features"]["events"]
    assert hello["policy"] == {"maxPayload": 26214400, "maxBufferedBytes": 52428800, "tickIntervalMs": 30000}
    assert hello["auth"]["scopes"] == ["operator.read", "operator.write", "operator.admin", "operator.approvals",
                                       "operator.pairing"]
    assert hello["snapshot"]["sessionDefaults"]["mainSessionKey"] == "agent:main:main"
    assert hello["snapshot"]["stateDir"] == str(gateway.state)


async def test_protocol_3_client_gets_protocol_3(raw: RawConnect) -> None:
    sock = await raw()
    await sock.recv()
    await sock.send(connect_frame(min_protocol=3, max_protocol=3))
    hello = (await sock.recv_res("c1"))["payload"]
    assert hello["protocol"] == 3
    assert "capabilities" not in hello["features"]
    assert "auth" not in hello  # protocol 3 sends auth only with a device token
    assert "sessions.changed" not in hello["features"]["events"]


async def test_protocol_mismatch_closes_1002(raw: RawConnect) -> None:
    sock = await raw()
    await sock.recv()
    await sock.send(connect_frame(min_protocol=99, max_protocol=99))
    res = await sock.recv_res("c1")
    assert res["ok"] is False
    assert res["error"]["code"] == "INVALID_REQUEST"
    assert res["error"]["message"] == "protocol mismatch"
    assert res["error"]["details"]["code"] == "PROTOCOL_MISMATCH"
    assert res["error"]["details"]["expectedProtocol"] == 4
    validate("ResponseFrame", res)
    assert await sock.closed() == 1002


async def test_wrong_token_error_then_close_1008(raw: RawConnect) -> None:
    sock = await raw()
    await sock.recv()
    await sock.send(connect_frame(token="wrong-token"))
    res = await sock.recv_res("c1")
    assert res["error"]["code"] == "INVALID_REQUEST"
    assert res["error"]["message"].startswith("unauthorized: gateway token mismatch")
    assert res["error"]["details"]["code"] == "AUTH_TOKEN_MISMATCH"
    assert await sock.closed() == 1008


async def test_first_frame_must_be_connect(raw: RawConnect) -> None:
    sock = await raw()
    await sock.recv()
    await sock.send({"type": "req", "id": "h1", "method": "health", "params": {}})
    res = await sock.recv_res("h1")
    assert res["error"] == {"code": "INVALID_REQUEST", "message": "invalid handshake: first request must be connect"}
    assert await sock.closed() == 1008


async def test_no_credentials_and_no_device_is_not_paired(raw: RawConnect) -> None:
    sock = await raw()
    await sock.recv()
    await sock.send(connect_frame(token=None))
    res = await sock.recv_res("c1")
    assert res["error"]["code"] == "NOT_PAIRED"
    assert res["error"]["details"]["code"] == "DEVICE_IDENTITY_REQUIRED"
    assert await sock.closed() == 1008


async def test_unknown_connect_field_is_rejected(raw: RawConnect) -> None:
    sock = await raw()
    await sock.recv()
    await sock.send(connect_frame(bogus=True))
    res = await sock.recv_res("c1")
    assert res["ok"] is False and res["error"]["code"] == "INVALID_REQUEST"
    assert await sock.closed() == 1008


async def test_oversized_frame_before_connect(raw: RawConnect) -> None:
    sock = await raw()
    await sock.recv()
    await sock.send("x" * (64 * 1024 + 1))
    res = await sock.recv_reply()
    assert res["type"] == "res" and res["ok"] is False
    assert await sock.closed() == 1009


async def test_handshake_timeout(raw: RawConnect, monkeypatch: pytest.MonkeyPatch) -> None:
    import molt_desktop.gateway.server as server

    monkeypatch.setattr(server, "HANDSHAKE_TIMEOUT_S", 0.3)
    sock = await raw()
    await sock.recv()
    assert await sock.closed(timeout=5) == 1008


async def test_ui_client_with_shared_token_gets_no_scopes(connect: Connect) -> None:
    conn, _ = await connect(client_id="gateway-client", mode="ui")
    assert conn.hello["auth"]["scopes"] == []
    with pytest.raises(GatewayCallError) as err:
        await conn.call("sessions.list", {})
    assert err.value.code == "FORBIDDEN"
    assert err.value.message == "missing scope: operator.read"
    assert err.value.details["code"] == "MISSING_SCOPE"


async def test_device_identity_gets_requested_scopes_on_loopback(connect: Connect, gateway: RunningGateway) -> None:
    from molt_desktop.protocol.device import DeviceIdentity

    device = DeviceIdentity.generate()
    conn, _ = await connect(client_id="gateway-client", mode="ui", device=device)
    auth = conn.hello["auth"]
    assert "operator.read" in auth["scopes"]
    assert auth["deviceToken"]
    listing = await conn.call("device.pair.list", {})
    assert any(d["deviceId"] == device.device_id for d in listing["paired"])
    assert auth["deviceToken"] not in str(listing)
    # the issued device token works in place of the shared token
    again, _ = await connect(client_id="gateway-client", mode="ui", device=device, token=auth["deviceToken"])
    assert "operator.read" in again.hello["auth"]["scopes"]


async def test_repeated_failures_are_rate_limited(raw: RawConnect) -> None:
    codes: list[Any] = []
    for attempt in range(12):
        sock = await raw()
        await sock.recv()
        await sock.send(connect_frame(f"c{attempt}", token="wrong"))
        res = await sock.recv_res(f"c{attempt}")
        codes.append(res["error"].get("details", {}).get("code"))
        await sock.close()
    assert codes[0] == "AUTH_TOKEN_MISMATCH"
    assert codes[-1] == "AUTH_RATE_LIMITED"
    limited = next(i for i, c in enumerate(codes) if c == "AUTH_RATE_LIMITED")
    assert limited >= 5


async def test_shutdown_event_then_close_1012(connect: Connect, gateway: RunningGateway) -> None:
    conn, events = await connect()
    await gateway.services.gateway.stop()  # type: ignore[union-attr]
    await asyncio.wait_for(conn.closed.wait(), 5)
    assert ("shutdown", {"reason": "gateway stopping"}) in events
    assert conn.close_code == 1012


async def test_token_is_never_logged(connect: Connect, raw: RawConnect, gateway: RunningGateway) -> None:
    from molt_desktop.logs import log_file, setup_logging
    from molt_desktop.paths import logs_dir

    setup_logging(logs_dir(gateway.state), verbose=True, console=False)
    try:
        conn, _ = await connect()
        await conn.call("health", {})
        sock = await raw()
        await sock.recv()
        await sock.send(connect_frame(token=TOKEN + "-but-wrong"))
        await sock.closed()
    finally:
        setup_logging(None, console=False)
    text = log_file(logs_dir(gateway.state)).read_text(encoding="utf-8")
    assert "client connected" in text
    assert TOKEN not in text
