"""`pinned` in sessions.patch (official SessionsPatchParams): stored in the session entry, shown in
sessions.list rows and sessions.changed events, cleared by `false`; like `label`, it needs only write scope."""

from __future__ import annotations

import asyncio
import json

import pytest

from molt_desktop.client.connection import GatewayCallError
from molt_desktop.paths import sessions_dir
from molt_desktop.protocol.device import DeviceIdentity
from tests.gateway.conftest import Connect, RunningGateway


def _stored(gateway: RunningGateway, key: str) -> dict:
    return json.loads((sessions_dir(gateway.state, "main") / "sessions.json").read_text(encoding="utf-8"))[key]


def _row(listing: dict, key: str) -> dict:
    return next(r for r in listing["sessions"] if r["key"] == key)


async def test_pin_is_stored_listed_and_cleared(connect: Connect, gateway: RunningGateway) -> None:
    conn, events = await connect()
    key = "agent:main:pin-me"
    await conn.call("sessions.patch", {"key": key, "label": "Pinned one"})
    patched = await conn.call("sessions.patch", {"key": key, "pinned": True})
    assert patched["entry"]["pinned"] is True
    assert _stored(gateway, key)["pinned"] is True
    assert _row(await conn.call("sessions.list", {}), key)["pinned"] is True
    # the filtered path builds its rows separately
    assert _row(await conn.call("sessions.list", {"search": "Pinned"}), key)["pinned"] is True
    for _ in range(200):
        if any(e == "sessions.changed" and p["session"].get("pinned") for e, p in events):
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("no sessions.changed event with the pin")

    unpinned = await conn.call("sessions.patch", {"key": key, "pinned": False})
    assert "pinned" not in unpinned["entry"]
    assert "pinned" not in _stored(gateway, key)
    row = _row(await conn.call("sessions.list", {}), key)
    assert "pinned" not in row and row["label"] == "Pinned one"


async def test_pin_must_be_a_boolean(connect: Connect, gateway: RunningGateway) -> None:
    conn, _ = await connect()
    with pytest.raises(GatewayCallError) as caught:
        await conn.call("sessions.patch", {"key": "agent:main:x", "pinned": "yes"})
    assert caught.value.code == "INVALID_REQUEST" and "pinned" in caught.value.message


async def test_a_writer_may_pin_but_not_delete(connect: Connect, gateway: RunningGateway) -> None:
    writer, _ = await connect(client_id="gateway-client", mode="ui", scopes=["operator.write"],
                              device=DeviceIdentity.generate())
    assert writer.hello["auth"]["scopes"] == ["operator.write"]
    patched = await writer.call("sessions.patch", {"key": "agent:main:w", "pinned": True})
    assert patched["entry"]["pinned"] is True
    with pytest.raises(GatewayCallError) as caught:
        await writer.call("sessions.patch", {"key": "agent:main:w", "pinned": True, "thinkingLevel": "high"})
    assert caught.value.code == "FORBIDDEN"
