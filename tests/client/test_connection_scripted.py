"""The client against small scripted gateways on real sockets: what the embedded gateway never does
on purpose (goes silent, speaks protocol 3 with bare error messages, answers `agent` twice)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from molt_desktop.client.connection import (
    ClientOptions,
    GatewayAuthError,
    GatewayConnection,
    GatewayProtocolMismatch,
    GatewayUnreachable,
)
from molt_desktop.client.identity import DeviceTokenStore
from molt_desktop.protocol.device import DeviceIdentity
from tests.schema import validate

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "captures"
Script = Callable[[web.WebSocketResponse, dict[str, Any]], Awaitable[None]]


def hello(protocol: int = 4, tick_ms: int = 30000, **extra: Any) -> dict[str, Any]:
    return {"type": "hello-ok", "protocol": protocol, "server": {"version": "test", "connId": "c1"},
            "features": {"methods": ["health", "agent"], "events": ["tick"]},
            "snapshot": {}, "policy": {"maxPayload": 1 << 20, "maxBufferedBytes": 1 << 21, "tickIntervalMs": tick_ms},
            **extra}


class ScriptedGateway:
    """A WebSocket server that sends a challenge, records the `connect` request, then runs a script."""

    def __init__(self, script: Script, *, capabilities: bool = True) -> None:
        self.script = script
        self.capabilities = capabilities
        self.connects: list[dict[str, Any]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> ScriptedGateway:
        app = web.Application()
        app.router.add_get("/", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"ws://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        challenge: dict[str, Any] = {"nonce": "n-1", "ts": 1795268323936}
        if self.capabilities:
            challenge["capabilities"] = []
        await ws.send_json({"type": "event", "event": "connect.challenge", "payload": challenge})
        connect = json.loads((await ws.receive()).data)
        self.connects.append(connect)
        await self.script(ws, connect)
        if not ws.closed:
            await ws.close()
        return ws


async def ok_then(ws: web.WebSocketResponse, connect: dict[str, Any], after: Script, **hello_fields: Any) -> None:
    await ws.send_json({"type": "res", "id": connect["id"], "ok": True, "payload": hello(**hello_fields)})
    await after(ws, connect)


async def silent(ws: web.WebSocketResponse, _connect: dict[str, Any]) -> None:
    # Read (and ignore) requests until the client goes away: a hung gateway with its socket open.
    async for _msg in ws:
        pass


def captured_error(name: str) -> dict[str, Any]:
    for line in (CAPTURES / name).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        frame = record["frame"]
        if record["dir"] == "<-" and frame.get("type") == "res" and not frame.get("ok"):
            return dict(frame["error"])
    raise AssertionError(f"no error frame in {name}")


async def test_silence_after_hello_is_a_dead_link() -> None:
    async def script(ws: web.WebSocketResponse, connect: dict[str, Any]) -> None:
        await ok_then(ws, connect, silent, tick_ms=200)

    async with ScriptedGateway(script) as gw:
        conn = GatewayConnection(ClientOptions(url=gw.url, token="t"))
        await conn.connect()
        assert conn.tick_interval == 0.2
        stream = conn.events()
        pending = asyncio.ensure_future(conn.call("health", timeout=60))
        with pytest.raises(GatewayUnreachable, match="no frame for") as caught:
            await pending
        assert conn.closed.is_set()
        assert [item async for item in stream] == []
        with pytest.raises(GatewayUnreachable, match="no frame for"):
            await conn.call("health")
        await conn.close()
    assert "dead" in str(caught.value)


async def test_ticks_keep_the_link_alive() -> None:
    async def ticking(ws: web.WebSocketResponse, connect: dict[str, Any]) -> None:
        for n in range(15):  # 15 x 100 ms: more than the 1 s a silent link would get
            await ws.send_json({"type": "event", "event": "tick", "payload": {"ts": n}, "seq": n + 1})
            await asyncio.sleep(0.1)
        request = json.loads((await ws.receive()).data)
        await ws.send_json({"type": "res", "id": request["id"], "ok": True, "payload": {"ok": True}})
        await silent(ws, connect)

    async def script(ws: web.WebSocketResponse, connect: dict[str, Any]) -> None:
        await ok_then(ws, connect, ticking, tick_ms=500)

    async with ScriptedGateway(script) as gw:
        async with GatewayConnection(ClientOptions(url=gw.url, token="t")) as conn:
            ticks = 0
            async for event, _payload in conn.events():
                ticks += event == "tick"
                if ticks == 15:
                    break
            assert (await conn.call("health"))["ok"] is True


async def test_agent_answers_twice_and_events_arrive_in_between() -> None:
    async def agent(ws: web.WebSocketResponse, connect: dict[str, Any]) -> None:
        request = json.loads((await ws.receive()).data)
        rid = request["id"]
        await ws.send_json({"type": "res", "id": rid, "ok": True, "payload": {"runId": "r1", "status": "accepted"}})
        await ws.send_json({"type": "event", "event": "agent", "payload": {"runId": "r1", "stream": "assistant",
                                                                          "data": {"text": "hi"}}, "seq": 1})
        await ws.send_json({"type": "res", "id": rid, "ok": True, "payload": {"runId": "r1", "status": "ok",
                                                                             "summary": "completed"}})
        await silent(ws, connect)

    async def script(ws: web.WebSocketResponse, connect: dict[str, Any]) -> None:
        await ok_then(ws, connect, agent)

    async with ScriptedGateway(script) as gw:
        seen: list[str] = []
        async with GatewayConnection(ClientOptions(url=gw.url, token="t"), lambda e, p: seen.append(e)) as conn:
            stream = conn.events()
            final = await conn.call("agent", {"message": "x", "idempotencyKey": "k"}, expect_final=True)
            assert final["status"] == "ok"
            assert await anext(stream) == ("agent", {"runId": "r1", "stream": "assistant", "data": {"text": "hi"}})
        assert seen == ["agent"]


async def test_close_while_a_call_waits_fails_the_call() -> None:
    async def closing(ws: web.WebSocketResponse, _connect: dict[str, Any]) -> None:
        await ws.receive()
        await ws.close(code=1012, message=b"service restart")

    async def script(ws: web.WebSocketResponse, connect: dict[str, Any]) -> None:
        await ok_then(ws, connect, closing)

    async with ScriptedGateway(script) as gw:
        conn = GatewayConnection(ClientOptions(url=gw.url, token="t"))
        await conn.connect()
        with pytest.raises(GatewayUnreachable, match="connection closed"):
            await conn.call("agent", {}, expect_final=True)
        assert conn.close_code == 1012
        await conn.close()


@pytest.mark.parametrize(("capture", "expected"), [
    ("frames-v129-badtoken.jsonl", GatewayAuthError), ("frames-v129-badproto.jsonl", GatewayProtocolMismatch),
    ("frames-badtoken.jsonl", GatewayAuthError), ("frames-badproto.jsonl", GatewayProtocolMismatch),
])
async def test_real_error_frames_of_both_protocols(capture: str, expected: type[Exception]) -> None:
    error = captured_error(capture)

    async def script(ws: web.WebSocketResponse, connect: dict[str, Any]) -> None:
        await ws.send_json({"type": "res", "id": connect["id"], "ok": False, "error": error})
        await ws.close(code=1008)

    async with ScriptedGateway(script, capabilities="v129" not in capture) as gw:
        conn = GatewayConnection(ClientOptions(url=gw.url, token="wrong-token"))
        with pytest.raises(expected) as caught:
            await conn.connect()
    assert caught.value.code == "INVALID_REQUEST"  # type: ignore[attr-defined]
    assert caught.value.message == error["message"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("capabilities", [True, False])
async def test_device_token_is_sent_the_way_each_protocol_takes_it(capabilities: bool, state_home: Path) -> None:
    device = DeviceIdentity.generate()
    store = DeviceTokenStore(state_home)

    async def script(ws: web.WebSocketResponse, connect: dict[str, Any]) -> None:
        await ok_then(ws, connect, silent, auth={"deviceToken": "issued-device-token-1", "role": "operator",
                                                 "scopes": [], "issuedAtMs": 1})

    async with ScriptedGateway(script, capabilities=capabilities) as gw:
        for token in (None, "shared-token", None):
            async with GatewayConnection(ClientOptions(url=gw.url, token=token, device=device,
                                                       device_tokens=store)):
                pass
        first, with_shared, without_shared = (c["params"].get("auth") for c in gw.connects)
    for connect in gw.connects:
        validate("RequestFrame", connect)
        validate("ConnectParams", connect["params"])
    assert first is None  # nothing kept yet and no shared secret
    assert store.get(gw.url, device.device_id, "operator") == "issued-device-token-1"
    if capabilities:  # protocol 4: auth.deviceToken, next to the shared token when there is one
        assert with_shared == {"token": "shared-token", "deviceToken": "issued-device-token-1"}
        assert without_shared == {"deviceToken": "issued-device-token-1"}
    else:  # protocol 3 knows no auth.deviceToken: the device token goes as the token, and only alone
        assert with_shared == {"token": "shared-token"}
        assert without_shared == {"token": "issued-device-token-1"}


async def test_no_challenge_is_unreachable() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("not json at all")
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        conn = GatewayConnection(ClientOptions(url=f"ws://127.0.0.1:{runner.addresses[0][1]}", token="t"))
        with pytest.raises(GatewayUnreachable, match="did not complete the handshake"):
            await conn.connect()
    finally:
        await runner.cleanup()



@pytest.mark.parametrize("capture", ["frames-device.jsonl", "frames-v129-device.jsonl"])
async def test_real_handshakes_of_both_protocols(capture: str, state_home: Path) -> None:
    """The challenge and hello-ok a real OpenClaw gateway sent (2026.9.6 and 2026.1.29), replayed."""
    frames = [json.loads(line) for line in (CAPTURES / capture).read_text(encoding="utf-8").splitlines()]
    challenge = next(r["frame"] for r in frames if r["frame"].get("event") == "connect.challenge")
    hello_ok = next(r["frame"] for r in frames if r["frame"].get("type") == "res"
                    and (r["frame"].get("payload") or {}).get("type") == "hello-ok")
    sent: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(challenge)
        connect = json.loads((await ws.receive()).data)
        sent.append(connect)
        await ws.send_json({**hello_ok, "id": connect["id"]})
        await silent(ws, connect)
        return ws

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"ws://127.0.0.1:{runner.addresses[0][1]}"
    store = DeviceTokenStore(state_home)
    device = DeviceIdentity.generate()
    try:
        async with GatewayConnection(ClientOptions(url=url, token="t", device=device, device_tokens=store,
                                                   client_id="gateway-client", mode="ui")) as conn:
            assert conn.protocol == hello_ok["payload"]["protocol"]
            assert conn.tick_interval == 30.0
    finally:
        await runner.cleanup()
    params = sent[0]["params"]
    validate("ConnectParams", params)
    assert params["device"]["nonce"] == challenge["payload"]["nonce"]
    assert params["device"]["signedAt"] == challenge["payload"]["ts"]
    assert store.get(url, device.device_id, "operator") == hello_ok["payload"]["auth"]["deviceToken"]
