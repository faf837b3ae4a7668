"""molt_desktop's gateway client against the real OpenClaw gateways (npm `openclaw`) as the remote:
2026.9.6 (protocol 4) and 2026.1.29 (protocol 3), each with the fake OpenAI model as its provider.

Connecting as client "gateway-client", mode "ui", with the shared token and an Ed25519 device:

- hello-ok says protocol 4 (9.6) or 3 (1.29). On loopback the device is paired silently and
  hello-ok carries `auth.deviceToken`. 9.6 answers `connect` with a retryable
  `UNAVAILABLE "gateway starting; retry shortly"` (details `{reason: "startup-sidecars"}`) for a
  second or two after it already sends `connect.challenge`; a client must retry that.
- `chat.send {sessionKey, message, idempotencyKey}` answers `{runId: <idempotencyKey>, status:
  "started"}`; `chat` events follow with cumulative text (`message.content[0].text` holds the
  whole reply so far; 9.6 adds `deltaText`, `agentId` and `state: "status"` events with a `phase`
  before the first delta), then one `state: "final"` with the whole message. Every operator
  connection receives them, not only the sender's. 1.29 sends deltas at most every 150 ms, so the
  last delta may lack the reply's tail: only the final event is sure to hold the whole text.
- The same idempotencyKey again (the pool's re-send after a switch relies on this), on the same or
  another connection, any session key: while the run goes on -> `{runId, status: "in_flight"}`;
  after it ended -> `{runId, status: "ok"}` (the cached result); neither starts a second run nor
  writes a second user message. 1.29 broadcasts the final event a moment before it records the
  run as done, so a re-send right after the final may still get "in_flight". 1.29 also caches a
  failed run: the same key then answers the cached error (`status: "error"`, UNAVAILABLE) for
  those 5 minutes instead of running again (server-methods/chat.js). With a *different* message under the same key, 9.6 refuses:
  INVALID_REQUEST "This message ID was already used for different input. ..." details
  `{reason: "chat-request-conflict"}`; 1.29 answers `in_flight` as for the same message. Both
  keep the keys in memory for 5 minutes (DEDUPE_TTL_MS), so a re-send after that or after a
  gateway restart is a new run.
- `chat.inject {sessionKey, message, label?}` needs operator.admin (our client asks for it by
  default); it is missing from `hello.features.methods` on both versions yet works:
  `{ok: true, messageId}`. It appends an assistant message `[{type:"text", text}]` ("[label]\\n\\n"
  before the text with a label): 1.29 stopReason "injected"; 9.6 stopReason "stop", provider
  "openclaw", model "gateway-injected", api "openai-responses". Without operator.admin: 9.6
  FORBIDDEN "missing scope: operator.admin" details `{code: "MISSING_SCOPE", missingScope,
  requiredScopes}`; 1.29 INVALID_REQUEST "missing scope: operator.admin" without details. A
  session that does not exist yet: INVALID_REQUEST "session not found" on both. 9.6 injects into a
  new session once `sessions.patch {key}` (or `sessions.create {key}`) made it; 1.29's
  `sessions.patch {key}` makes the entry but inject then says "transcript file not found" (and it
  has no sessions.create), so a 1.29 session can only be seeded after its first chat.send.
- `chat.history {sessionKey}`: 1.29 `{sessionKey, sessionId, messages, thinkingLevel}`, the user
  message's content a list of `{type:"text"}` parts and no idempotencyKey; 9.6 adds `pendingInputs,
  deltaCursor, hasMore, totalMessages, defaults, sessionInfo`, the user message's content is a
  string and it carries `idempotencyKey: "<key>:user"`; the assistant message carries
  `__openclaw.runId` = the key. Both: assistant `{role, content:[{type:"text", text}], api:
  "openai-completions", provider, model, usage, stopReason: "stop", timestamp}`.

Pairing from a non-loopback address (the client connects to a private address of this machine,
so the gateway sees that address as the peer, not 127.0.0.1): a new device gets NOT_PAIRED —
9.6 "pairing required: device is not approved yet" with details `{code: "PAIRING_REQUIRED",
reason: "not-paired", requestId, deviceId, requestedRole, requestedScopes, remediationHint}`; 1.29
"pairing required" with details `{requestId}` only. `openclaw devices approve <requestId> --url
ws://127.0.0.1:<port> --token <token> --json` approves it on both versions (1.29 takes `--token`
here, unlike its `gateway call`) and prints `{requestId, device: {deviceId, clientId, clientMode,
remoteIp, tokens, ...}}`; approving again exits 1 ("No pending device request matches ..." on
9.6). The next connect gets hello-ok with `auth.deviceToken`; with only that device token (no
shared token) the connect after it succeeds (9.6 reports `auth.method: "device-token"`), while the
same device with no credential at all gets "unauthorized: gateway token missing". Without a device
identity 9.6 lets the shared token in from a remote address but grants no scopes (`auth.scopes: []`).

Failover: the app's endpoint pool (`build_pool`) with our `molt-desktop gateway` as local and the
real gateway as the remote; the local gateway is killed (SIGKILL) mid-reply, and the reply
completes once through the remote under the pool's idempotencyKey.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.client.connection import (
    ClientOptions,
    GatewayCallError,
    GatewayConnection,
    GatewayForbidden,
    GatewayPairingRequired,
)
from molt_desktop.client.failover import SwitchEvent, build_pool
from molt_desktop.client.identity import DeviceTokenStore, load_device_identity
from molt_desktop.config.manager import ConfigManager
from molt_desktop.protocol.device import DeviceIdentity
from tests.e2e.interop.helpers import (
    MOLT_CONFIG,
    V_CURRENT,
    V_FILE_ERA,
    VERSIONS,
    FakeModel,
    HostAddress,
    MoltGateway,
    OpenClawCli,
    RealGateway,
    free_port,
    message_text,
    non_loopback_address,
    run_fake_model,
)

pytestmark = [pytest.mark.interop, pytest.mark.slow]

TOKEN = "molt-remote-interop-7c41d2"
REPLY = "The remote gateway answers: forty-two apples, counted twice and written once."
LOCAL_REPLY = "The local gateway answers slowly, one small piece after another, until it is cut off."
PROTOCOL = {V_CURRENT: 4, V_FILE_ERA: 3}
FAILOVER = {"probeIntervalSeconds": 0.3, "failAfter": 2, "recoverAfter": 2, "switchBack": True, "seedTurns": 3}
READ_WRITE = ["operator.read", "operator.write"]
# Upper bounds for waiting on a real gateway (not assertions about speed).
CONNECT_WITHIN = 90.0
REPLY_WITHIN = 120.0


@pytest.fixture(scope="module")
def fake_model() -> Iterator[FakeModel]:
    # Slow enough chunks that a run is still going when the duplicate chat.send arrives.
    with run_fake_model("--text", REPLY, "--delay", "0.15") as fake:
        yield fake


@pytest.fixture(scope="module")
def host_address() -> Iterator[HostAddress]:
    with non_loopback_address() as address:
        yield address


@pytest.fixture(scope="module", params=VERSIONS)
def remote(request: pytest.FixtureRequest, real_openclaw_gateway: Callable[..., AbstractContextManager[RealGateway]],
           fake_model: FakeModel, host_address: HostAddress,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealGateway]:
    """The real gateway of one version, listening on all addresses (loopback and `host_address`)."""
    version: str = request.param
    state = tmp_path_factory.mktemp(f"remote-{version}") / "state"
    with real_openclaw_gateway(state, free_port(), TOKEN, version, model_base_url=fake_model.base_url,
                               bind="lan") as gateway:
        yield gateway


# ---- helpers ---------------------------------------------------------------------------------


class Events:
    """The events one connection received, and waiting for a run's final `chat` event."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []
        self._changed = asyncio.Event()

    def __call__(self, event: str, payload: dict[str, Any]) -> None:
        self.items.append((event, payload))
        self._changed.set()

    def chat(self, run_id: str) -> list[dict[str, Any]]:
        return [p for e, p in self.items if e == "chat" and p.get("runId") == run_id]

    def finals(self, run_id: str) -> list[dict[str, Any]]:
        return [p for p in self.chat(run_id) if p.get("state") in ("final", "error", "aborted")]

    async def final(self, run_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + REPLY_WITHIN
        while not self.finals(run_id):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no final chat event for {run_id}; got {self.chat(run_id)}"
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return self.finals(run_id)[0]


def options(url: str, device: DeviceIdentity | None, *, token: str | None = TOKEN,
            scopes: list[str] | None = None, device_tokens: DeviceTokenStore | None = None) -> ClientOptions:
    opts = ClientOptions(url=url, token=token, device=device, client_id="gateway-client", mode="ui",
                         device_tokens=device_tokens)
    if scopes is not None:
        opts.scopes = list(scopes)
    return opts


async def connect(opts: ClientOptions, events: Events | None = None) -> GatewayConnection:
    """Connect, retrying while the gateway says it is still starting (9.6: retryable UNAVAILABLE)."""
    deadline = time.monotonic() + CONNECT_WITHIN
    while True:
        conn = GatewayConnection(opts, events)
        try:
            await conn.connect()
            return conn
        except GatewayCallError as exc:
            if not (exc.code == "UNAVAILABLE" and exc.retryable) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.25)


@contextlib.asynccontextmanager
async def connected(opts: ClientOptions, events: Events | None = None) -> AsyncIterator[GatewayConnection]:
    conn = await connect(opts, events)
    try:
        yield conn
    finally:
        await conn.close()


def new_key(prefix: str) -> tuple[str, str]:
    """A fresh session key and idempotency key."""
    return f"agent:main:{prefix}-{uuid.uuid4().hex[:8]}", f"idem-{uuid.uuid4()}"


async def chat_turn(conn: GatewayConnection, events: Events, session_key: str, text: str) -> dict[str, Any]:
    idem = f"idem-{uuid.uuid4()}"
    sent = await conn.call("chat.send", {"sessionKey": session_key, "message": text, "idempotencyKey": idem})
    assert sent == {"runId": idem, "status": "started"}
    final = await events.final(idem)
    assert final["state"] == "final", final
    return final


async def resend_until_settled(conn: GatewayConnection, params: dict[str, Any]) -> list[Any]:
    """Re-send a finished run's chat.send until the gateway answers something but "in_flight"
    (1.29 broadcasts the final event before it records the run as done); all the answers."""
    answers: list[Any] = []
    deadline = time.monotonic() + REPLY_WITHIN
    while True:
        answers.append(await conn.call("chat.send", params))
        if answers[-1].get("status") != "in_flight" or time.monotonic() > deadline:
            return answers
        await asyncio.sleep(0.05)


# ---- connect, health, chat, duplicate idempotency keys -----------------------------------------


async def test_hello_health_and_one_chat_reply_per_idempotency_key(remote: RealGateway) -> None:
    events, others = Events(), Events()
    key, idem = new_key("remote-chat")
    async with connected(options(remote.url, DeviceIdentity.generate()), events) as conn, \
            connected(options(remote.url, DeviceIdentity.generate()), others) as other:
        hello = conn.hello
        assert hello["type"] == "hello-ok"
        assert hello["protocol"] == PROTOCOL[remote.version] == conn.protocol
        assert hello["auth"]["role"] == "operator"
        assert {"operator.read", "operator.write", "operator.admin"} <= set(hello["auth"]["scopes"])
        assert isinstance(hello["auth"]["deviceToken"], str) and hello["auth"]["deviceToken"]  # paired on loopback
        assert isinstance(hello["policy"]["tickIntervalMs"], int)

        health = await conn.call("health")
        assert health["ok"] is True
        assert health["defaultAgentId"] == "main"
        assert [agent["agentId"] for agent in health["agents"]] == ["main"]

        params = {"sessionKey": key, "message": "how many apples?", "idempotencyKey": idem}
        assert await conn.call("chat.send", params) == {"runId": idem, "status": "started"}
        # The same key while the run goes on, from this connection and from another device.
        assert await conn.call("chat.send", params) == {"runId": idem, "status": "in_flight"}
        assert await other.call("chat.send", params) == {"runId": idem, "status": "in_flight"}
        changed = dict(params, message="a different text under the same key")
        if remote.version == V_CURRENT:
            with pytest.raises(GatewayCallError) as conflict:
                await other.call("chat.send", changed)
            assert conflict.value.code == "INVALID_REQUEST"
            assert conflict.value.details == {"reason": "chat-request-conflict"}
            assert "already used for different input" in conflict.value.message
        else:
            assert await other.call("chat.send", changed) == {"runId": idem, "status": "in_flight"}

        final = await events.final(idem)
        assert final["state"] == "final", final
        assert message_text(final["message"]) == REPLY
        deltas = [p for p in events.chat(idem) if p.get("state") == "delta"]
        assert deltas, events.chat(idem)
        texts = [message_text(delta["message"]) for delta in deltas]
        for before, after in itertools.pairwise(texts):  # cumulative: each holds the reply so far
            assert after.startswith(before)
        assert REPLY.startswith(texts[-1])  # 1.29 throttles deltas: the last may trail the final
        assert message_text((await others.final(idem))["message"]) == REPLY  # every operator sees it

        # After the run: the cached result, for the same key in any session; no second run.
        answers = await resend_until_settled(conn, params)
        assert answers[-1] == {"runId": idem, "status": "ok"}
        assert all(a == {"runId": idem, "status": "in_flight"} for a in answers[:-1]), answers
        assert await other.call("chat.send", dict(params, sessionKey=key + "-elsewhere")) == {
            "runId": idem, "status": "ok"}
        # Runs of one session are serialized: had a duplicate started one, it would come before this turn.
        await chat_turn(conn, events, key, "and one more?")
        history = await conn.call("chat.history", {"sessionKey": key})
        assert [(m["role"], message_text(m)) for m in history["messages"]] == [
            ("user", "how many apples?"), ("assistant", REPLY), ("user", "and one more?"), ("assistant", REPLY)]
        assert len(events.finals(idem)) == 1
        missing = await conn.call("chat.history", {"sessionKey": key + "-elsewhere"})
        assert missing["messages"] == []


# ---- chat.inject and chat.history --------------------------------------------------------------


async def test_chat_inject_needs_admin_and_history_shapes(remote: RealGateway) -> None:
    events = Events()
    key, _ = new_key("remote-inject")
    async with connected(options(remote.url, DeviceIdentity.generate()), events) as admin, \
            connected(options(remote.url, DeviceIdentity.generate(), scopes=READ_WRITE)) as writer:
        assert "chat.inject" not in admin.hello["features"]["methods"]  # not advertised, yet served
        assert {"chat.send", "chat.history", "health"} <= set(admin.hello["features"]["methods"])
        assert sorted(writer.hello["auth"]["scopes"]) == READ_WRITE

        with pytest.raises(GatewayCallError) as no_session:
            await admin.call("chat.inject", {"sessionKey": key, "message": "too early"})
        assert (no_session.value.code, no_session.value.message) == ("INVALID_REQUEST", "session not found")

        final = await chat_turn(admin, events, key, "count the apples")
        run_id = final["runId"]

        injected = await admin.call("chat.inject", {"sessionKey": key, "message": "a note from the desktop"})
        assert injected["ok"] is True and isinstance(injected["messageId"], str) and injected["messageId"]
        labelled = await admin.call("chat.inject", {"sessionKey": key, "message": "seeded", "label": "context"})
        assert labelled["ok"] is True

        with pytest.raises(GatewayCallError) as refused:
            await writer.call("chat.inject", {"sessionKey": key, "message": "not allowed"})
        if remote.version == V_CURRENT:
            assert isinstance(refused.value, GatewayForbidden)
            assert refused.value.code == "FORBIDDEN"
            assert refused.value.details == {"code": "MISSING_SCOPE", "missingScope": "operator.admin",
                                             "requiredScopes": ["operator.admin"]}
        else:
            assert refused.value.code == "INVALID_REQUEST"
            assert refused.value.details is None
        assert refused.value.message == "missing scope: operator.admin"

        history = await writer.call("chat.history", {"sessionKey": key})  # operator.read is enough
    assert history["sessionKey"] == key
    assert isinstance(history["sessionId"], str)
    messages = history["messages"]
    assert [(m["role"], message_text(m)) for m in messages] == [
        ("user", "count the apples"), ("assistant", REPLY), ("assistant", "a note from the desktop"),
        ("assistant", "[context]\n\nseeded")]
    user, reply, note, _ = messages
    assert isinstance(user["timestamp"], int)
    assert reply["content"] == [{"type": "text", "text": REPLY}]
    assert (reply["api"], reply["provider"], reply["model"], reply["stopReason"]) == (
        "openai-completions", "fake", "fake-1", "stop")
    assert {"input", "output", "totalTokens"} <= set(reply["usage"])
    assert note["content"] == [{"type": "text", "text": "a note from the desktop"}]
    if remote.version == V_CURRENT:
        assert {"pendingInputs", "deltaCursor", "hasMore", "totalMessages", "defaults", "sessionInfo"} <= set(history)
        assert history["totalMessages"] == 4
        assert user["content"] == "count the apples"  # a plain string on 9.6
        assert user["idempotencyKey"] == f"{run_id}:user"
        assert reply["__openclaw"]["runId"] == run_id
        assert (note["stopReason"], note["provider"], note["model"]) == ("stop", "openclaw", "gateway-injected")
    else:
        assert set(history) == {"sessionKey", "sessionId", "messages", "thinkingLevel"}
        assert user["content"] == [{"type": "text", "text": "count the apples"}]
        assert "idempotencyKey" not in user
        assert note["stopReason"] == "injected"


# ---- pairing from a non-loopback address -------------------------------------------------------


def approve_with_openclaw(cli: OpenClawCli, gateway: RealGateway, request_id: str) -> Any:
    """`openclaw devices approve <id> --url ws://127.0.0.1:P --token T --json` (same on both versions)."""
    result = cli.run("devices", "approve", request_id, "--url", gateway.url, "--token", TOKEN, "--json")
    assert result.code == 0, f"exit {result.code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.data


async def test_pairing_required_from_a_non_loopback_address_then_approved_with_the_openclaw_cli(
        remote: RealGateway, host_address: HostAddress, openclaw_cli: Callable[[str], OpenClawCli],
        tmp_path: Path) -> None:
    url = f"ws://{host_address.address}:{remote.port}"
    device = DeviceIdentity.generate()
    store = DeviceTokenStore(tmp_path / "client-state")
    cli = openclaw_cli(remote.version)

    with pytest.raises(GatewayPairingRequired) as pending:
        await connect(options(url, device, device_tokens=store))
    error = pending.value
    assert error.code == "NOT_PAIRED"
    request_id = error.request_id
    assert isinstance(request_id, str) and request_id
    assert error.approve_commands == [f"openclaw devices approve {request_id}",
                                      f"molt-desktop devices approve {request_id}"]
    if remote.version == V_CURRENT:
        assert error.detail_code == "PAIRING_REQUIRED"
        assert error.device_id == device.device_id
        assert error.details is not None and error.details["reason"] == "not-paired"
    else:
        assert error.details == {"requestId": request_id}  # 1.29: no details.code
    assert store.get(url, device.device_id, "operator") is None

    listed = cli.run("devices", "list", "--url", remote.url, "--token", TOKEN, "--json")
    assert listed.code == 0, listed.stderr
    pending_request = {p["requestId"]: p for p in listed.data["pending"]}[request_id]
    assert pending_request["deviceId"] == device.device_id
    assert (pending_request["clientId"], pending_request["clientMode"]) == ("gateway-client", "ui")
    assert pending_request["remoteIp"] == host_address.address

    approved = await asyncio.to_thread(approve_with_openclaw, cli, remote, request_id)
    assert approved["requestId"] == request_id
    assert approved["device"]["deviceId"] == device.device_id
    assert approved["device"]["remoteIp"] == host_address.address
    again = await asyncio.to_thread(cli.run, "devices", "approve", request_id, "--url", remote.url,
                                    "--token", TOKEN, "--json")
    assert again.code == 1  # nothing pending under that id any more

    async with connected(options(url, device, device_tokens=store)) as conn:
        auth = conn.hello["auth"]
        assert conn.protocol == PROTOCOL[remote.version]
        assert auth["role"] == "operator"
        assert isinstance(auth["deviceToken"], str) and auth["deviceToken"]
        assert (await conn.call("health"))["ok"] is True
    issued = store.get(url, device.device_id, "operator")
    assert issued == auth["deviceToken"]

    # The next connect presents only the device token (no shared token configured) and is let in.
    async with connected(options(url, device, token=None, device_tokens=store)) as reused:
        assert reused.hello["auth"]["role"] == "operator"
        if remote.version == V_CURRENT:
            assert reused.hello["auth"]["method"] == "device-token"
        assert (await reused.call("health"))["ok"] is True
    # Without it the same device has no credential at all.
    with pytest.raises(GatewayCallError) as bare:
        await connect(options(url, device, token=None))
    assert "gateway token missing" in bare.value.message

    # Another new device from that address still waits for approval.
    with pytest.raises(GatewayPairingRequired) as other:
        await connect(options(url, DeviceIdentity.generate()))
    assert other.value.request_id not in (None, request_id)


# ---- failover: our gateway as local, the real OpenClaw as remote -------------------------------


async def wait_for(predicate: Callable[[], Any], what: str, within: float = REPLY_WITHIN) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.02)


async def test_local_gateway_killed_mid_reply_the_reply_completes_once_on_the_real_remote(
        remote: RealGateway, molt_gateway: Callable[..., AbstractContextManager[MoltGateway]],
        tmp_path: Path) -> None:
    """The app's pool (build_pool from the local config, `remotes` = this real gateway): the local
    `molt-desktop gateway` streams slowly and is killed with SIGKILL mid-reply; `pool.chat` gets
    the real remote's reply, once, and the remote holds one user message and one reply."""
    state = tmp_path / "local"
    state.mkdir()
    (state / MOLT_CONFIG).write_text(json.dumps({
        "remotes": [{"id": "server", "url": remote.url, "token": TOKEN}], "failover": FAILOVER}))
    key, _ = new_key("failover")
    with run_fake_model("--text", LOCAL_REPLY, "--chunks", "80", "--delay", "0.05") as local_model, \
            molt_gateway(state, TOKEN, model_base_url=local_model.base_url) as local:
        device_tokens = DeviceTokenStore(state)

        def local_options() -> ClientOptions:
            # The local gateway listens on a port of its own choosing (--port 0), not gateway.port.
            return ClientOptions(url=local.url, token=TOKEN, device=load_device_identity(state),
                                 client_id="gateway-client", mode="ui", device_tokens=device_tokens)

        manager = ConfigManager(state / MOLT_CONFIG)
        pool = build_pool(state, manager, local_options=local_options)
        events: list[tuple[str, dict[str, Any]]] = []
        switches: list[SwitchEvent] = []
        pool.subscribe_events(lambda e, p: events.append((e, p)))
        pool.subscribe_switch(switches.append)
        await pool.start()
        try:
            await wait_for(lambda: all(h.state == "up" for h in pool.endpoint_health()), "both gateways up",
                           CONNECT_WITHIN)
            assert pool.status.kind == "local"
            assert [(h.id, h.kind) for h in pool.endpoint_health()] == [("local", "local"), ("server", "remote")]

            task = asyncio.create_task(pool.chat(key, "tell me about the apples"))
            await wait_for(lambda: any(e == "chat" and p.get("state") == "delta" for e, p in events),
                           "the local reply to stream")
            streamed = [message_text(p["message"]) for e, p in events if e == "chat" and p.get("state") == "delta"]
            assert all(LOCAL_REPLY.startswith(t) for t in streamed) and streamed[-1] != LOCAL_REPLY
            os.killpg(local.process.pid, signal.SIGKILL)
            result = await asyncio.wait_for(task, REPLY_WITHIN)
        finally:
            await pool.stop()
            await manager.stop()
        local_requests = local_model.stats()["count"]

    assert result.state == "final", result
    assert result.text == REPLY
    assert result.endpoint is not None and (result.endpoint.id, result.endpoint.kind) == ("server", "remote")
    finals = [p for e, p in events if e == "chat" and p.get("runId") == result.run_id and p.get("state") == "final"]
    assert len(finals) == 1 and message_text(finals[0]["message"]) == REPLY
    assert switches and (switches[-1].to_id, switches[-1].reason) == ("server", "unreachable")
    assert local_requests == 1  # the local model was asked once, and cut off

    async with connected(options(remote.url, DeviceIdentity.generate())) as conn:
        history = await conn.call("chat.history", {"sessionKey": key})
    assert [(m["role"], message_text(m)) for m in history["messages"]] == [
        ("user", "tell me about the apples"), ("assistant", REPLY)]
    if remote.version == V_CURRENT:  # the remote ran it under the pool's own idempotencyKey
        assert history["messages"][0]["idempotencyKey"] == f"{result.run_id}:user"
        assert history["messages"][1]["__openclaw"]["runId"] == result.run_id
