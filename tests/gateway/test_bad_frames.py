"""Bad frames get error frames, never crash the server, and never disturb other connections."""

from __future__ import annotations

import json

from tests.gateway.conftest import Connect, RawConnect, connect_frame
from tests.schema import validate


async def _authed(raw: RawConnect) -> object:
    sock = await raw()
    await sock.recv()
    await sock.send(connect_frame())
    assert (await sock.recv_res("c1"))["ok"]
    return sock


BAD_FRAMES = [
    "not json at all",
    "[1, 2, 3]",
    '"a string"',
    "null",
    json.dumps({"type": "req"}),
    json.dumps({"type": "req", "id": 5, "method": "health", "params": {}}),
    json.dumps({"type": "req", "id": "x", "method": 7, "params": {}}),
    json.dumps({"type": "req", "id": "x", "method": "health", "params": []}),
    json.dumps({"type": "event", "event": "tick", "payload": {}}),
    json.dumps({"type": "res", "id": "x", "ok": True}),
    json.dumps({"type": "req", "id": "x", "method": "health", "params": {}, "extra": 1}),
    json.dumps({"type": "req", "id": "x", "method": "nope.nothing", "params": {}}),
    json.dumps({"type": "req", "id": "x", "method": "chat.history", "params": {"sessionKey": 12}}),
    json.dumps({"type": "req", "id": "x", "method": "chat.history", "params": {"sessionKey": "k", "limit": 5000}}),
    json.dumps({"type": "req", "id": "x", "method": "sessions.list", "params": {"unknownField": True}}),
    json.dumps({"type": "req", "id": "x", "method": "connect", "params": {}}),
    "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
]


async def test_bad_frames_get_errors_and_the_connection_survives(raw: RawConnect, connect: Connect) -> None:
    bystander, events = await connect()
    sock = await _authed(raw)
    for frame in BAD_FRAMES:
        await sock.send(frame)  # type: ignore[attr-defined]
        res = await sock.recv_reply()  # type: ignore[attr-defined]
        assert res["type"] == "res" and res["ok"] is False, frame
        validate("ResponseFrame", res)
    await sock.send({"type": "req", "id": "ok1", "method": "health", "params": {}})  # type: ignore[attr-defined]
    assert (await sock.recv_res("ok1"))["ok"] is True  # type: ignore[attr-defined]
    assert (await bystander.call("health", {}))["ok"] is True


async def test_binary_garbage_and_unknown_method(raw: RawConnect) -> None:
    sock = await _authed(raw)
    await sock.send(b"\x00\xff\xfe garbage")  # type: ignore[attr-defined]
    res = await sock.recv_reply()  # type: ignore[attr-defined]
    assert res["ok"] is False
    await sock.send({"type": "req", "id": "u1", "method": "does.not.exist", "params": {}})  # type: ignore[attr-defined]
    res = await sock.recv_res("u1")  # type: ignore[attr-defined]
    assert res["error"]["code"] == "INVALID_REQUEST"
    assert res["error"]["message"] == "unknown method: does.not.exist"


async def test_frame_over_max_payload_closes_1009(raw: RawConnect, connect: Connect) -> None:
    bystander, _ = await connect()
    sock = await _authed(raw)
    big = json.dumps({"type": "req", "id": "big", "method": "health", "params": {"probe": "x" * 26_300_000}})
    await sock.send(big)  # type: ignore[attr-defined]
    assert await sock.closed(timeout=30) == 1009  # type: ignore[attr-defined]
    assert (await bystander.call("health", {}))["ok"] is True
