"""A conversation kept whole when the app's endpoint pool moves it from our local gateway to the
real OpenClaw gateway (npm `openclaw` 2026.9.6, protocol 4, and 2026.1.29, protocol 3) and back.

The app's pool (`build_pool` from the local config: the local `molt-desktop gateway` on
`gateway.port`, `remotes` = the real gateway) has a first turn answered locally; then the local
gateway is killed (SIGKILL) and the next turn goes to the real remote:

- Seeding: the model behind the remote must be given the earlier local turn ahead of the
  question. On both versions the pool's note goes before the user's words in the message itself,
  as `chat.inject` cannot do it there: 1.29 cannot inject before a session's first chat.send, and
  9.6 takes the injection but never gives it to its model. Facts of the real gateways this
  meets: 9.6 never replays an injected message to its model (provider "openclaw" + model
  "gateway-injected" marks a transcript-only message, `isTranscriptOnlyOpenClawAssistantMessage`);
  1.29 turns every run of whitespace in a chat.send message into one space, in its transcript and
  for its model.
- Reconciliation: our gateway is started again on the same port and state dir; the pool switches
  back ("recovered") and brings the remote turn home with `molt.chat.append`: the local
  transcript ends with the user's own words (not the note) and the remote's reply as the remote's
  chat.history holds it, both marked with their origin, and nothing is there twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.client.connection import (
    ClientOptions,
    GatewayCallError,
    GatewayConnection,
)
from molt_desktop.client.failover import (
    ChatResult,
    EndpointPool,
    SwitchEvent,
    build_pool,
)
from molt_desktop.config.manager import ConfigManager
from molt_desktop.protocol.device import DeviceIdentity
from molt_desktop.sessions.store import SessionStore
from tests.e2e.interop.helpers import (
    MOLT_CONFIG,
    V_CURRENT,
    VERSIONS,
    FakeModel,
    MoltGateway,
    RealGateway,
    free_port,
    message_text,
    run_fake_model,
    run_molt_gateway,
)

pytestmark = [pytest.mark.interop, pytest.mark.slow]

TOKEN = "molt-continuity-interop-5e90b3"
FIRST = "My cat is called Mochi."
QUESTION = "What is my cat called?"
LOCAL_REPLY = "Mochi is a lovely name for a cat; I will keep it in mind."
REMOTE_REPLY = "Your cat is called Mochi, as you told me before."
FAILOVER = {"probeIntervalSeconds": 0.3, "failAfter": 2, "recoverAfter": 2, "switchBack": True, "seedTurns": 3}
# Upper bounds for waiting on real gateways (not assertions about speed).
CONNECT_WITHIN = 90.0
REPLY_WITHIN = 120.0


@pytest.fixture(scope="module")
def remote_model() -> Iterator[FakeModel]:
    """The model behind the real remote gateway; tests read what it was sent (GET /_requests)."""
    with run_fake_model("--text", REMOTE_REPLY) as fake:
        yield fake


@pytest.fixture(scope="module", params=VERSIONS)
def remote(request: pytest.FixtureRequest, real_openclaw_gateway: Callable[..., AbstractContextManager[RealGateway]],
           remote_model: FakeModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealGateway]:
    version: str = request.param
    state = tmp_path_factory.mktemp(f"continuity-remote-{version}") / "state"
    with real_openclaw_gateway(state, free_port(), TOKEN, version, model_base_url=remote_model.base_url) as gateway:
        yield gateway


# ---- helpers ---------------------------------------------------------------------------------


async def wait_for(predicate: Callable[[], Any], what: str, within: float = REPLY_WITHIN) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.02)


async def remote_history(remote: RealGateway, session_key: str) -> list[dict[str, Any]]:
    """The remote's chat.history of `session_key`, read on a connection of its own (a new device)."""
    opts = ClientOptions(url=remote.url, token=TOKEN, device=DeviceIdentity.generate(), client_id="gateway-client",
                         mode="ui")
    deadline = time.monotonic() + CONNECT_WITHIN
    while True:
        conn = GatewayConnection(opts)
        try:
            await conn.connect()
            break
        except GatewayCallError as exc:  # 9.6: "gateway starting; retry shortly" for a moment
            if not (exc.code == "UNAVAILABLE" and exc.retryable) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.25)
    try:
        history = await conn.call("chat.history", {"sessionKey": session_key})
    finally:
        await conn.close()
    return list(history["messages"])


def squeeze(text: str) -> str:
    """`text` with every run of whitespace made one space."""
    return " ".join(text.split())


def model_calls_with(model: FakeModel, text: str) -> list[list[dict[str, Any]]]:
    """The `messages` of every chat-completions request to `model` with a user message holding
    `text` (9.6 wraps it in a header and the runtime line, and adds a user message of its own)."""
    found = []
    for record in model.requests():
        body = record.get("body")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            continue
        if any(isinstance(m, dict) and m.get("role") == "user" and text in message_text(m) for m in body["messages"]):
            found.append(body["messages"])
    return found


def roles_and_texts(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(str(m.get("role")), message_text(m)) for m in messages]


@dataclass
class Scenario:
    """One conversation: the first turn answered by our local gateway, which is then killed."""

    remote: RealGateway
    state: Path
    port: int
    key: str
    pool: EndpointPool
    local_model: FakeModel
    local: MoltGateway
    stack: contextlib.ExitStack
    switches: list[SwitchEvent] = field(default_factory=list)
    first: ChatResult | None = None

    def start_local_again(self) -> MoltGateway:
        """Our gateway again, on the same port and state dir (where the pool's local endpoint points)."""
        self.local = self.stack.enter_context(
            run_molt_gateway(self.state, TOKEN, model_base_url=self.local_model.base_url, port=self.port))
        assert self.local.port == self.port
        return self.local

    async def kill_local(self) -> None:
        """SIGKILL the local gateway's process group and wait until the pool uses the remote."""
        os.killpg(self.local.process.pid, signal.SIGKILL)
        await wait_for(lambda: any(s.to_id == "server" for s in self.switches), "the switch to the remote",
                       CONNECT_WITHIN)


@contextlib.asynccontextmanager
async def first_turn_local_then_killed(remote: RealGateway, remote_model: FakeModel,
                                       tmp_path: Path) -> AsyncIterator[Scenario]:
    state = tmp_path / "local"
    state.mkdir()
    port = free_port()
    (state / MOLT_CONFIG).write_text(json.dumps({
        "gateway": {"port": port},
        "remotes": [{"id": "server", "url": remote.url, "token": TOKEN}], "failover": FAILOVER}))
    key = f"agent:main:continuity-{uuid.uuid4().hex[:8]}"
    remote_model.reset_requests()
    with contextlib.ExitStack() as stack:
        local_model = stack.enter_context(run_fake_model("--text", LOCAL_REPLY))
        # Started first: it writes the local token into the config the pool reads.
        local = stack.enter_context(run_molt_gateway(state, TOKEN, model_base_url=local_model.base_url, port=port))
        manager = ConfigManager(state / MOLT_CONFIG)
        try:
            # The pool as the app builds it: the local endpoint from gateway.port and the local token.
            pool = build_pool(state, manager)
            scenario = Scenario(remote, state, port, key, pool, local_model, local, stack)
            pool.subscribe_switch(scenario.switches.append)
            await pool.start()
            try:
                await wait_for(lambda: all(h.state == "up" for h in pool.endpoint_health()), "both gateways up",
                               CONNECT_WITHIN)
                assert pool.status.kind == "local"
                scenario.first = await pool.chat(key, FIRST, timeout=REPLY_WITHIN)
                assert scenario.first.state == "final", scenario.first
                assert scenario.first.text == LOCAL_REPLY
                assert scenario.first.endpoint is not None and scenario.first.endpoint.kind == "local"
                await scenario.kill_local()
                yield scenario
            finally:
                await pool.stop()
        finally:
            await manager.stop()


# ---- seeding ---------------------------------------------------------------------------------


async def test_a_conversation_moved_to_the_real_remote_brings_its_earlier_local_turn(
        remote: RealGateway, remote_model: FakeModel, tmp_path: Path) -> None:
    async with first_turn_local_then_killed(remote, remote_model, tmp_path) as scenario:
        pool, key = scenario.pool, scenario.key
        assert (scenario.switches[-1].to_id, scenario.switches[-1].reason) == ("server", "unreachable")
        answer = await pool.chat(key, QUESTION, timeout=REPLY_WITHIN)
        history = await remote_history(remote, key)
        journal = [(t.endpoint_id, t.session_key, t.run_id, t.user_text) for t in pool.journal.turns]
        local_requests = scenario.local_model.stats()["count"]

    assert answer.state == "final", answer
    assert answer.text == REMOTE_REPLY
    assert answer.endpoint is not None and (answer.endpoint.id, answer.endpoint.kind) == ("server", "remote")
    assert journal == [("server", key, answer.run_id, QUESTION)]  # the user's own words, not the note
    assert local_requests == 1  # the question never reached the local model

    # The note travels before the question in the message itself: 9.6 keeps injected notes out of
    # its model's context, and 1.29 cannot inject into a new session. 1.29 also collapses every run
    # of whitespace in a chat.send message to one space, "\n\n---\n\n" included.
    assert [m["role"] for m in history] == ["user", "assistant"], roles_and_texts(history)
    user, reply = history
    text = message_text(user)
    assert f"User: {FIRST}" in text and f"Assistant: {LOCAL_REPLY}" in text
    assert squeeze(text).endswith(" --- " + QUESTION), text
    if remote.version == V_CURRENT:
        assert user["idempotencyKey"] == f"{answer.run_id}:user"
    else:
        assert text.startswith("Earlier in this conversation")
    assert message_text(reply) == REMOTE_REPLY

    # What the model behind the real remote was asked: the earlier local turn, then the question.
    calls = model_calls_with(remote_model, QUESTION)
    assert len(calls) == 1, [r.get("body") for r in remote_model.requests()]
    seen = squeeze("\n".join(f"{m.get('role')}: {message_text(m)}" for m in calls[0]))
    chat = [(m.get("role"), message_text(m)) for m in calls[0] if m.get("role") != "system"]
    assert FIRST in seen and LOCAL_REPLY in seen, f"the remote's model was not given the earlier turn: {chat}"
    assert seen.index(FIRST) < seen.index(LOCAL_REPLY) < seen.index(QUESTION), seen


# ---- reconciliation --------------------------------------------------------------------------


async def test_turns_made_on_the_real_remote_come_home_when_the_local_gateway_is_back(
        remote: RealGateway, remote_model: FakeModel, tmp_path: Path) -> None:
    async with first_turn_local_then_killed(remote, remote_model, tmp_path) as scenario:
        pool, key = scenario.pool, scenario.key
        answer = await pool.chat(key, QUESTION, timeout=REPLY_WITHIN)
        assert answer.state == "final" and answer.text == REMOTE_REPLY, answer
        assert answer.endpoint is not None and answer.endpoint.id == "server"
        assert [t.run_id for t in pool.journal.turns] == [answer.run_id]
        switched = len(scenario.switches)

        scenario.start_local_again()
        await wait_for(lambda: any(s.to_id == "local" for s in scenario.switches[switched:]),
                       "the switch back to the local gateway", CONNECT_WITHIN)
        await wait_for(lambda: not pool.journal.turns, "the remote turn to come home")
        back = next(s for s in scenario.switches[switched:] if s.to_id == "local")
        served = await pool.call("chat.history", {"sessionKey": key})
        assert pool.status.kind == "local"
        local_requests = scenario.local_model.stats()["count"]
    store = SessionStore(scenario.state)
    try:
        messages = store.history(key, None).messages
    finally:
        store.close()

    assert (back.from_id, back.reason) == ("server", "recovered")
    assert roles_and_texts(messages) == [
        ("user", FIRST), ("assistant", LOCAL_REPLY), ("user", QUESTION), ("assistant", REMOTE_REPLY)]
    origin = {"endpointId": "server", "kind": "remote", "url": remote.url, "runId": answer.run_id}
    assert [m.get("origin") for m in messages] == [None, None, origin, origin]
    reply = messages[-1]
    # Taken from the remote's chat.history (the journal's copy of the final event lacks these).
    assert (reply.get("provider"), reply.get("model"), reply.get("stopReason")) == ("fake", "fake-1", "stop"), reply
    # The local gateway serves the same transcript, and the local model answered only the first turn.
    assert roles_and_texts(served["messages"]) == roles_and_texts(messages)
    assert [m.get("origin") for m in served["messages"]] == [None, None, origin, origin]
    assert local_requests == 1
    journal_file = json.loads((scenario.state / "failover" / "remote-turns.json").read_text())
    assert journal_file["turns"] == []
