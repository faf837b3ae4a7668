"""Every method of PROTOCOL.md section 3 over a real socket, every frame checked against the schema.

`Wire` is a bare WebSocket client that validates what it sends (RequestFrame and the method's
official `*Params` definition) and everything it receives (ResponseFrame/EventFrame, hello-ok,
the events and results the official schema defines), and checks that `event.seq` counts 1, 2, 3...
on its connection. Results without a schema definition are checked against the fields PROTOCOL.md
lists for them.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import molt_desktop.gateway.server as gateway_server
from molt_desktop.protocol.device import DeviceIdentity, build_auth_payload
from tests.fakes.common import DEFAULT_TEXT as REPLY
from tests.fakes.common import FakeModelServer
from tests.gateway.conftest import TOKEN, RawConnect, RawSocket, RunningGateway, connect_frame
from tests.schema import validate

REDACTED = "__OPENCLAW_REDACTED__"
ALL_SCOPES = ["operator.read", "operator.write", "operator.admin", "operator.approvals", "operator.pairing"]
PARAMS = {
    "models.list": "ModelsListParams", "sessions.list": "SessionsListParams",
    "sessions.preview": "SessionsPreviewParams", "sessions.patch": "SessionsPatchParams",
    "sessions.reset": "SessionsResetParams", "sessions.delete": "SessionsDeleteParams",
    "chat.history": "ChatHistoryParams", "chat.send": "ChatSendParams", "chat.abort": "ChatAbortParams",
    "chat.inject": "ChatInjectParams", "agent": "AgentParams", "agent.wait": "AgentWaitParams",
    "config.get": "ConfigGetParams", "config.patch": "ConfigPatchParams", "logs.tail": "LogsTailParams",
    "device.pair.list": "DevicePairListParams", "device.pair.approve": "DevicePairApproveParams",
    "device.pair.reject": "DevicePairRejectParams",
}
RESULTS = {"models.list": "ModelsListResult", "sessions.delete": "SessionsDeleteResult",
           "logs.tail": "LogsTailResult"}


class Wire:
    def __init__(self, sock: RawSocket, hello: dict[str, Any]) -> None:
        self.sock = sock
        self.hello = hello
        self._ids = itertools.count(1)

    @classmethod
    async def open(cls, raw: RawConnect, *, device: DeviceIdentity | None = None, **kwargs: Any) -> Wire:
        sock = await raw()
        challenge = await sock.recv()
        validate("EventFrame", challenge)
        frame = connect_frame(**kwargs)
        if device is not None:
            p, nonce, ts = frame["params"], challenge["payload"]["nonce"], challenge["payload"]["ts"]
            signed = build_auth_payload("v2", device.device_id, p["client"]["id"], p["client"]["mode"], p["role"],
                                        p["scopes"], ts, (p.get("auth") or {}).get("token"), nonce)
            p["device"] = {"id": device.device_id, "publicKey": device.public_key_b64url,
                           "signature": device.sign(signed), "signedAt": ts, "nonce": nonce}
        validate("RequestFrame", frame)
        validate("ConnectParams", frame["params"])
        await sock.send(frame)
        res = await sock.recv_res(frame["id"])
        validate("ResponseFrame", res)
        assert res["ok"], res
        if res["payload"]["protocol"] >= 4:  # protocol 3 omits hello-ok.auth, which the schema requires
            validate("HelloOk", res["payload"])
        return cls(sock, res["payload"])

    async def call(self, method: str, params: dict[str, Any] | None = None, *, check_params: bool = True,
                   answers: int = 1) -> list[dict[str, Any]]:
        frame = {"type": "req", "id": f"{method}-{next(self._ids)}", "method": method, "params": params or {}}
        validate("RequestFrame", frame)
        if check_params and method in PARAMS:
            validate(PARAMS[method], frame["params"])
        await self.sock.send(frame)
        replies = [await self.sock.recv_res(frame["id"], timeout=20) for _ in range(answers)]
        for res in replies:
            validate("ResponseFrame", res)
            if res["ok"] and method in RESULTS:
                validate(RESULTS[method], res["payload"])
        return replies

    async def ok(self, method: str, params: dict[str, Any] | None = None) -> Any:
        (res,) = await self.call(method, params)
        assert res["ok"], res
        return res["payload"]

    async def error(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        (res,) = await self.call(method, params, **kw)
        assert res["ok"] is False, res
        return dict(res["error"])

    def events(self, name: str) -> list[dict[str, Any]]:
        return [f["payload"] for f in self.sock.received if f.get("type") == "event" and f["event"] == name]

    async def wait_event(self, name: str, match: Callable[[dict[str, Any]], bool], timeout: float = 20) -> Any:
        async def poll() -> dict[str, Any]:
            while True:
                hit = next((p for p in self.events(name) if match(p)), None)
                if hit is not None:
                    return hit
                await self.sock.recv(timeout)
        try:
            return await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            seen = [f["event"] for f in self.sock.received if f.get("type") == "event"]
            raise AssertionError(f"no matching {name!r} event within {timeout} s; got {seen}") from None

    def check(self) -> None:
        """Every received frame against the schema, and `seq` 1, 2, 3... on this connection."""
        events = [f for f in self.sock.received if f.get("type") == "event" and f["event"] != "connect.challenge"]
        for frame in self.sock.received:
            validate("ResponseFrame" if frame["type"] == "res" else "EventFrame", frame)
        for frame in events:
            payload, name = frame["payload"], frame["event"]
            if name == "chat" and self.hello["protocol"] >= 4:  # p3 deltas lack the required deltaText
                validate("ChatEvent", payload)
            elif name == "agent":
                validate("AgentEvent", {k: v for k, v in payload.items() if k != "sessionKey"})
            elif name == "tick":
                validate("TickEvent", payload)
            elif name == "shutdown":
                validate("ShutdownEvent", payload)
            elif name == "presence":
                for entry in payload["presence"]:
                    validate("PresenceEntry", entry)
        assert [f["seq"] for f in events] == list(range(1, len(events) + 1))


async def wait_turn(wire: Wire, run_id: str) -> dict[str, Any]:
    return dict(await wire.wait_event("chat", lambda p: p["runId"] == run_id and p["state"] in
                                      ("final", "error", "aborted")))


async def chat_turn(wire: Wire, key: str, message: str) -> dict[str, Any]:
    run_id = str(uuid.uuid4())
    started = await wire.ok("chat.send", {"sessionKey": key, "message": message, "idempotencyKey": run_id})
    assert started == {"runId": run_id, "status": "started"}
    final = await wait_turn(wire, run_id)
    assert final["state"] == "final", final
    return final


def assert_forbidden(error: dict[str, Any], scope: str) -> None:
    assert error["code"] == "FORBIDDEN" and error["message"] == f"missing scope: {scope}", error
    assert error["details"]["code"] == "MISSING_SCOPE"


async def test_read_methods(raw: RawConnect, gateway: RunningGateway) -> None:
    from molt_desktop.logs import setup_logging
    from molt_desktop.paths import logs_dir

    setup_logging(logs_dir(gateway.state), verbose=True, console=False)
    try:
        wire = await Wire.open(raw)
        assert wire.hello["protocol"] == 4 and wire.hello["auth"]["scopes"] == ALL_SCOPES
        health = await wire.ok("health")
        assert {"ok", "ts", "durationMs", "heartbeatSeconds", "defaultAgentId", "agents", "sessions", "channels",
                "channelOrder", "channelLabels"} <= set(health)
        assert health["ok"] is True and health["defaultAgentId"] == "main"
        agent = health["agents"][0]
        assert agent["agentId"] == "main" and agent["isDefault"] is True
        assert {"path", "count", "recent"} <= set(agent["sessions"]) and {"path", "count", "recent"} <= set(
            health["sessions"])
        status = await wire.ok("status")
        assert {"version", "pid", "uptimeMs", "sessions", "memory"} <= set(status)
        assert status["pid"] > 0 and ("model" in status or "modelRuntime" in status)
        models = (await wire.ok("models.list"))["models"]
        assert {"id": "fake-1", "name": "Fake", "provider": "fake", "contextWindow": 32000}.items() <= models[0].items()
        presence = await wire.ok("system-presence")
        for entry in presence:
            validate("PresenceEntry", entry)
        assert any(e.get("mode") == "cli" for e in presence)
        tail = await wire.ok("logs.tail", {"limit": 5})
        assert {"file", "cursor", "size", "lines"} <= set(tail) and 0 < len(tail["lines"]) <= 5
        await wire.ok("health")
        more = await wire.ok("logs.tail", {"cursor": tail["cursor"]})
        assert more["cursor"] >= tail["cursor"] and more["size"] >= tail["size"]
        assert not set(more["lines"]) & set(tail["lines"][-1:])  # a cursor pages on, no repeats
        config = await wire.ok("config.get")
        assert {"path", "exists", "raw", "parsed", "valid", "config", "hash", "issues", "warnings"} <= set(config)
        assert config["exists"] is True and config["valid"] is True and config["issues"] == []
        for view in (config["config"], config["parsed"]):
            assert view["gateway"]["auth"]["token"] == REDACTED
            assert view["models"]["providers"]["fake"]["apiKey"] == REDACTED
        assert REDACTED in config["raw"] and TOKEN not in config["raw"] and "fake-key" not in config["raw"]
        unknown = await wire.error("no.such.method")
        assert unknown == {"code": "INVALID_REQUEST", "message": "unknown method: no.such.method"}
        wire.check()
    finally:
        setup_logging(None, console=False)


async def test_session_methods(raw: RawConnect, gateway: RunningGateway) -> None:
    wire = await Wire.open(raw)
    alpha, beta, stale = "agent:main:alpha", "agent:main:beta", "agent:main:stale"
    await chat_turn(wire, alpha, "Tell me about pelicans\nand their beaks")
    await chat_turn(wire, beta, "Plain question")
    store = gateway.services.store
    assert store is not None
    await asyncio.to_thread(store.update, stale, {"updatedAt": int(time.time() * 1000) - 3 * 3600_000})

    listing = await wire.ok("sessions.list")
    assert {"ts", "path", "count", "defaults", "sessions"} <= set(listing)
    assert listing["defaults"] == {"modelProvider": "fake", "model": "fake-1", "contextTokens": 32000}
    for row in listing["sessions"]:
        validate("SessionRow", row)
    assert [r["key"] for r in listing["sessions"]] == [beta, alpha, stale] and listing["count"] == 3
    row = listing["sessions"][1]
    assert {"key", "kind", "updatedAt", "sessionId", "inputTokens", "outputTokens", "totalTokens",
            "modelProvider", "model"} <= set(row)
    assert (row["kind"], row["modelProvider"], row["model"]) == ("direct", "fake", "fake-1")
    assert row["totalTokens"] > 0

    async def keys(**params: Any) -> list[str]:
        return [r["key"] for r in (await wire.ok("sessions.list", params))["sessions"]]

    assert await keys(limit=1) == [beta]
    assert await keys(activeMinutes=60) == [beta, alpha]
    assert await keys(search="pelicans") == [alpha]
    rows = (await wire.ok("sessions.list", {"includeLastMessage": True, "includeDerivedTitles": True}))["sessions"]
    by_key = {r["key"]: r for r in rows}
    assert by_key[alpha]["lastMessagePreview"] == REPLY
    assert by_key[alpha]["derivedTitle"] == "Tell me about pelicans"

    patched = await wire.ok("sessions.patch", {"key": alpha, "label": "Birds"})
    assert {"ok", "path", "key", "entry"} <= set(patched) and patched["ok"] is True
    assert patched["key"] == alpha and patched["entry"]["label"] == "Birds"
    labelled = (await wire.ok("sessions.list", {"label": "Birds"}))["sessions"]
    assert [(r["key"], r["label"]) for r in labelled] == [(alpha, "Birds")]
    cleared = await wire.ok("sessions.patch", {"key": alpha, "label": None})
    assert "label" not in cleared["entry"]
    assert await keys(label="Birds") == []
    model = await wire.ok("sessions.patch", {"key": alpha, "model": "fake/fake-1"})
    assert (model["entry"]["providerOverride"], model["entry"]["modelOverride"]) == ("fake", "fake-1")
    default = await wire.ok("sessions.patch", {"key": alpha, "model": None})
    assert "modelOverride" not in default["entry"] and "providerOverride" not in default["entry"]

    preview = await wire.ok("sessions.preview", {"keys": [alpha, "agent:main:none"]})
    assert set(preview) >= {"ts", "previews"}
    first, missing = preview["previews"]
    assert first["key"] == alpha and [(i["role"], i["text"]) for i in first["items"]][-1] == ("assistant", REPLY)
    assert first["items"][0]["role"] == "user" and first["items"][0]["text"].startswith("Tell me about pelicans")
    assert missing == {**missing, "key": "agent:main:none", "items": []}

    history = await wire.ok("chat.history", {"sessionKey": alpha})
    assert {"sessionKey", "sessionId", "messages", "thinkingLevel"} <= set(history)
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]
    last = await wire.ok("chat.history", {"sessionKey": alpha, "limit": 1})
    assert [m["content"][0]["text"] for m in last["messages"]] == [REPLY]
    assert len((await wire.ok("chat.history", {"sessionKey": alpha, "limit": 1000}))["messages"]) == 2
    for bad in (0, 1001):
        error = await wire.error("chat.history", {"sessionKey": alpha, "limit": bad}, check_params=False)
        assert error["code"] == "INVALID_REQUEST" and error["message"].startswith("invalid chat.history params")

    injected = await wire.ok("chat.inject", {"sessionKey": alpha, "message": "A note", "label": "memo"})
    assert injected["ok"] is True and isinstance(injected["messageId"], str) and injected["messageId"]
    after = await wire.ok("chat.history", {"sessionKey": alpha})
    assert len(after["messages"]) == 3 and "A note" in after["messages"][-1]["content"][0]["text"]

    reset = await wire.ok("sessions.reset", {"key": alpha})
    assert {"ok", "key", "entry"} <= set(reset) and reset["ok"] is True and reset["key"] == alpha
    assert reset["entry"]["sessionId"] != history["sessionId"]
    fresh = await wire.ok("chat.history", {"sessionKey": alpha})
    assert fresh["sessionId"] == reset["entry"]["sessionId"] and fresh["messages"] == []

    beta_id = next(r["sessionId"] for r in listing["sessions"] if r["key"] == beta)
    transcript = gateway.state / "agents" / "main" / "sessions" / f"{beta_id}.jsonl"
    assert transcript.exists()
    deleted = await wire.ok("sessions.delete", {"key": beta})
    assert deleted["ok"] is True and deleted["deleted"] is True and deleted["key"] == beta
    (archived,) = deleted["archived"]
    assert re.fullmatch(re.escape(str(transcript)) + r"\.deleted\.\S+", archived), archived
    assert Path(archived).exists() and not transcript.exists()
    assert beta not in await keys()
    main = await wire.error("sessions.delete", {"key": "agent:main:main"})
    assert main["code"] == "INVALID_REQUEST" and "main session" in main["message"]

    reasons = [(p["sessionKey"], p["reason"]) for p in wire.events("sessions.changed")]
    assert {(alpha, "patch"), (alpha, "reset"), (beta, "delete")} <= set(reasons)
    wire.check()


async def test_chat_history_default_limit_is_200(raw: RawConnect) -> None:
    wire = await Wire.open(raw)
    key = "agent:main:long"
    for n in range(201):
        await wire.ok("chat.inject", {"sessionKey": key, "message": f"note {n}"})
    messages = (await wire.ok("chat.history", {"sessionKey": key}))["messages"]
    assert len(messages) == 200
    assert [m["content"][0]["text"] for m in (messages[0], messages[-1])] == ["note 1", "note 200"]
    wire.check()


async def test_chat_send_abort_and_events(raw: RawConnect, fake_model: FakeModelServer) -> None:
    fake_model.behavior.update({"chunks": 100, "delay": 0.05})
    wire = await Wire.open(raw)
    key, run_id = "agent:main:slow", str(uuid.uuid4())
    send = {"sessionKey": key, "message": "long story", "idempotencyKey": run_id}
    assert await wire.ok("chat.send", send) == {"runId": run_id, "status": "started"}
    assert await wire.ok("chat.send", send) == {"runId": run_id, "status": "in_flight"}
    await wire.wait_event("chat", lambda p: p["runId"] == run_id and p["state"] == "delta")
    aborted = await wire.ok("chat.abort", {"sessionKey": key, "runId": run_id})
    assert aborted == {"ok": True, "aborted": True, "runIds": [run_id]}
    assert (await wait_turn(wire, run_id))["state"] == "aborted"
    assert await wire.ok("chat.abort", {"sessionKey": key}) == {"ok": True, "aborted": False, "runIds": []}
    chat = [p for p in wire.events("chat") if p["runId"] == run_id]
    assert [p["state"] for p in chat if p["state"] == "status"] and chat[-1]["state"] == "aborted"
    assert all(p["state"] != "delta" for p in chat[: next(i for i, p in enumerate(chat) if p["state"] == "delta")])
    seqs = [p["seq"] for p in chat]
    assert seqs == sorted(seqs)
    agent = [p for p in wire.events("agent") if p["runId"] == run_id]
    assert agent[0]["stream"] == "lifecycle" and agent[0]["data"]["phase"] == "start"
    assert [p["seq"] for p in agent] == list(range(1, len(agent) + 1))
    wire.check()


async def test_agent_answers_twice_then_agent_wait(raw: RawConnect) -> None:
    wire = await Wire.open(raw)
    accepted, done = await wire.call("agent", {"message": "hi", "idempotencyKey": "run-agent-1",
                                               "sessionKey": "agent:main:agent-method"}, answers=2)
    assert accepted["id"] == done["id"] and accepted["ok"] and done["ok"]
    first = accepted["payload"]
    assert (first["runId"], first["status"]) == ("run-agent-1", "accepted") and isinstance(first["acceptedAt"], int)
    final = done["payload"]
    assert (final["runId"], final["status"], final["summary"]) == ("run-agent-1", "ok", "completed")
    assert final["result"]["payloads"][0]["text"] == REPLY
    meta = final["result"]["meta"]
    assert isinstance(meta["durationMs"], int) and isinstance(meta["agentMeta"]["usage"], dict)
    waited = await wire.ok("agent.wait", {"runId": "run-agent-1", "timeoutMs": 1000})
    assert (waited["runId"], waited["status"]) == ("run-agent-1", "ok")
    assert waited["startedAt"] <= waited["endedAt"]
    never = await wire.ok("agent.wait", {"runId": "no-such-run", "timeoutMs": 50})
    assert never["status"] == "timeout"
    wire.check()


async def test_config_patch(raw: RawConnect) -> None:
    wire = await Wire.open(raw)
    old = await Wire.open(raw, min_protocol=3, max_protocol=3)
    before = await wire.ok("config.get")
    patch = '{"session": {"reset": {"mode": "idle", "idleMinutes": 240}}}'
    missing = await wire.error("config.patch", {"raw": patch})
    assert missing == {**missing, "code": "INVALID_REQUEST",
                       "message": "config base hash required; re-run config.get and retry"}
    stale = await wire.error("config.patch", {"raw": patch, "baseHash": "0" * 64})
    assert stale["message"] == "config changed since last load; re-run config.get and retry"
    result = await wire.ok("config.patch", {"raw": patch, "baseHash": before["hash"], "note": "conformance"})
    assert result["ok"] is True
    after = await wire.ok("config.get")
    assert after["hash"] != before["hash"] and after["config"]["session"]["reset"]["idleMinutes"] == 240
    changed = await wire.wait_event("config.changed", lambda p: True)
    assert set(changed) == {"path", "hash", "ts"}
    assert (changed["path"], changed["hash"]) == (after["path"], after["hash"])
    again = await wire.error("config.patch", {"raw": patch, "baseHash": before["hash"]})
    assert again["message"] == "config changed since last load; re-run config.get and retry"
    await old.ok("health")  # a round trip: anything published before it has arrived
    assert old.events("config.changed") == []
    wire.check()
    old.check()


RemoteConnect = Callable[[DeviceIdentity], Awaitable[dict[str, Any]]]


@pytest.fixture
def remote_connect(raw: RawConnect, monkeypatch: pytest.MonkeyPatch) -> RemoteConnect:
    """Connect a device as if from a non-loopback address (new devices there need approval).
    The peer is classified as remote by patching is_loopback_address for that one connection:
    the only way to get a non-loopback peer in a test; the wire is unchanged."""
    local = gateway_server.is_loopback_address
    remote = {"on": False}
    monkeypatch.setattr(gateway_server, "is_loopback_address", lambda host: not remote["on"] and local(host))

    async def _connect(device: DeviceIdentity) -> dict[str, Any]:
        remote["on"] = True
        sock = await raw()
        challenge = (await sock.recv())["payload"]
        frame = connect_frame(client_id="gateway-client", mode="ui", scopes=["operator.read"])
        signed = build_auth_payload("v2", device.device_id, "gateway-client", "ui", "operator", ["operator.read"],
                                    challenge["ts"], TOKEN, challenge["nonce"])
        frame["params"]["device"] = {"id": device.device_id, "publicKey": device.public_key_b64url,
                                     "signature": device.sign(signed), "signedAt": challenge["ts"],
                                     "nonce": challenge["nonce"]}
        await sock.send(frame)
        res = await sock.recv_res(frame["id"])
        remote["on"] = False
        validate("ResponseFrame", res)
        if not res["ok"]:
            assert res["error"]["code"] == "NOT_PAIRED" and res["error"]["details"]["code"] == "PAIRING_REQUIRED"
            assert await sock.closed() == 1008
        return res

    return _connect


async def test_device_pairing_methods(raw: RawConnect, remote_connect: RemoteConnect) -> None:
    admin = await Wire.open(raw)
    approved, rejected = DeviceIdentity.generate(), DeviceIdentity.generate()
    first = (await remote_connect(approved))["error"]["details"]
    assert first["deviceId"] == approved.device_id and first["requestedScopes"] == ["operator.read"]
    second = (await remote_connect(rejected))["error"]["details"]
    listing = await admin.ok("device.pair.list")
    pending = {r["requestId"]: r["deviceId"] for r in listing["pending"]}
    assert pending == {first["requestId"]: approved.device_id, second["requestId"]: rejected.device_id}

    await admin.ok("device.pair.approve", {"requestId": first["requestId"]})
    await admin.ok("device.pair.reject", {"requestId": second["requestId"]})
    listing = await admin.ok("device.pair.list")
    assert listing["pending"] == []
    assert [d["deviceId"] for d in listing["paired"]] == [approved.device_id]
    hello = await remote_connect(approved)
    assert hello["ok"] and hello["payload"]["auth"]["scopes"] == ["operator.read"]
    assert hello["payload"]["auth"]["deviceToken"] not in str(await admin.ok("device.pair.list"))
    assert not (await remote_connect(rejected))["ok"]
    unknown = await admin.error("device.pair.approve", {"requestId": "no-such-request"})
    assert unknown["code"] == "INVALID_REQUEST"
    admin.check()


async def test_pairing_events_reach_operators(raw: RawConnect, remote_connect: RemoteConnect) -> None:
    """hello-ok announces device.pair.requested/resolved (as the real gateways do): they must come."""
    admin = await Wire.open(raw)
    assert {"device.pair.requested", "device.pair.resolved"} <= set(admin.hello["features"]["events"])
    device = DeviceIdentity.generate()
    request_id = (await remote_connect(device))["error"]["details"]["requestId"]
    requested = await admin.wait_event("device.pair.requested", lambda p: p["requestId"] == request_id, 3)
    validate("DevicePairRequestedEvent", requested)
    assert requested["deviceId"] == device.device_id
    await admin.ok("device.pair.approve", {"requestId": request_id})
    resolved = await admin.wait_event("device.pair.resolved", lambda p: p["requestId"] == request_id, 3)
    validate("DevicePairResolvedEvent", resolved)
    assert (resolved["deviceId"], resolved["decision"]) == (device.device_id, "approved")
    admin.check()


async def test_scope_rules(raw: RawConnect) -> None:
    reader = await Wire.open(raw, client_id="gateway-client", mode="ui", scopes=["operator.read"],
                             device=DeviceIdentity.generate())
    assert reader.hello["auth"]["scopes"] == ["operator.read"]
    await reader.ok("sessions.list")
    await reader.ok("config.get")
    await reader.ok("chat.history", {"sessionKey": "agent:main:main"})
    config = await reader.ok("config.get")
    assert_forbidden(await reader.error("config.patch", {"raw": "{}", "baseHash": config["hash"]}), "operator.admin")
    for method, params, scope in [
        ("chat.send", {"sessionKey": "agent:main:x", "message": "hi", "idempotencyKey": "k1"}, "operator.write"),
        ("chat.abort", {"sessionKey": "agent:main:x"}, "operator.write"),
        ("agent", {"message": "hi", "idempotencyKey": "k2"}, "operator.write"),
        ("sessions.patch", {"key": "agent:main:x", "label": "L"}, "operator.write"),
        ("sessions.reset", {"key": "agent:main:x"}, "operator.admin"),
        ("sessions.delete", {"key": "agent:main:x"}, "operator.admin"),
        ("chat.inject", {"sessionKey": "agent:main:x", "message": "m"}, "operator.admin"),
        ("device.pair.list", {}, "operator.pairing"),
    ]:
        assert_forbidden(await reader.error(method, params), scope)
    writer = await Wire.open(raw, client_id="gateway-client", mode="ui", scopes=["operator.write"],
                             device=DeviceIdentity.generate())
    await writer.ok("chat.history", {"sessionKey": "agent:main:main"})  # write implies read
    await writer.ok("sessions.patch", {"key": "agent:main:w", "label": "L"})
    assert_forbidden(await writer.error("sessions.patch", {"key": "agent:main:w", "thinkingLevel": "high"}),
                     "operator.admin")
    reader.check()
    writer.check()


@pytest.fixture
def fast_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway_server, "TICK_INTERVAL_MS", 100)


async def test_tick_and_shutdown(fast_ticks: None, raw: RawConnect, gateway: RunningGateway) -> None:
    wire = await Wire.open(raw)
    assert wire.hello["policy"]["tickIntervalMs"] == 100
    await wire.wait_event("tick", lambda p: True, timeout=5)
    server = gateway.services.gateway
    assert server is not None
    stopping = asyncio.create_task(server.stop())
    assert await wire.sock.closed() == 1012
    await stopping
    assert wire.events("shutdown") == [{"reason": "gateway stopping"}]
    wire.check()
