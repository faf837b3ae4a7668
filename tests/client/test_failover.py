"""The endpoint pool with two real embedded gateways, "local" and "remote", each with its own fake model.

A reply in flight when the local gateway stops completes through the remote with the same runId,
once; the remote is seeded with the recent local turns; the pool switches back when local
recovers and brings the remote's turns into the local transcript; a failing local model provider
moves chats to the remote; a stopped remote is marked down.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.app import GatewayOptions, Services
from molt_desktop.client.connection import ClientOptions
from molt_desktop.client.failover import Endpoint, EndpointPool, FailoverSettings, SwitchEvent
from molt_desktop.client.pool_continuity import RemoteTurnJournal
from molt_desktop.protocol.device import DeviceIdentity
from tests.fakes.common import FakeModelServer
from tests.gateway.conftest import TOKEN, write_config

SETTINGS = FailoverSettings(probe_interval=0.3, fail_after=2, recover_after=2, seed_turns=3, carry_timeout=20)
LOCAL_TEXT = "Local answer: the quick brown fox jumps over the lazy dog."
REMOTE_TEXT = "Remote answer: the quick brown fox jumps over the lazy dog."


@dataclass
class Side:
    state: Path
    fake: FakeModelServer
    services: Services | None = None
    port: int = 0

    async def start(self) -> None:
        self.services = Services(self.state, GatewayOptions(port=self.port))
        await self.services.start()
        self.port = self.services.port

    async def stop(self) -> None:
        if self.services is not None:
            await self.services.stop()
            self.services = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def transcript_messages(self, key: str) -> list[dict[str, Any]]:
        assert self.services is not None and self.services.store is not None
        return list(self.services.store.history(key, None).messages)


@dataclass
class Pair:
    local: Side
    remote: Side
    pool: EndpointPool
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    switches: list[SwitchEvent] = field(default_factory=list)

    def chat_events(self, run_id: str) -> list[dict[str, Any]]:
        return [p for e, p in self.events if e == "chat" and p.get("runId") == run_id]


async def until(predicate: Any, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async with FakeModelServer("openai") as local_fake, FakeModelServer("openai") as remote_fake:
        local_fake.behavior.text, remote_fake.behavior.text = LOCAL_TEXT, REMOTE_TEXT
        sides = []
        for name, fake in (("local", local_fake), ("remote", remote_fake)):
            state = tmp_path / name
            state.mkdir()
            write_config(state, fake)
            side = Side(state, fake)
            await side.start()
            sides.append(side)
        local, remote = sides
        device = DeviceIdentity.generate()

        def options(side: Side) -> Any:
            return lambda: ClientOptions(url=side.url, token=TOKEN, device=device, client_id="gateway-client",
                                         mode="ui")

        journal = RemoteTurnJournal.load(tmp_path / "client" / "remote-turns.json")
        pool = EndpointPool([Endpoint("local", "local", options(local)), Endpoint("server", "remote", options(remote))],
                            settings=SETTINGS, journal=journal)
        result = Pair(local, remote, pool)
        pool.subscribe_events(lambda e, p: result.events.append((e, p)))
        pool.subscribe_switch(result.switches.append)
        await pool.start()
        try:
            await until(lambda: all(h.state == "up" for h in pool.endpoint_health()))
            yield result
        finally:
            await pool.stop()
            for side in sides:
                await side.stop()


async def test_a_reply_in_flight_moves_to_the_remote_once(pair: Pair) -> None:
    assert pair.pool.status.kind == "local"
    pair.local.fake.behavior.chunks, pair.local.fake.behavior.delay = 40, 0.05
    key = "agent:main:moving"
    streamed: list[str] = []
    task = asyncio.create_task(pair.pool.chat(key, "Tell me about foxes", on_delta=streamed.append))
    await until(lambda: any(p.get("state") == "delta" for e, p in pair.events if e == "chat"))
    await pair.local.stop()
    result = await asyncio.wait_for(task, 30)

    assert result.state == "final" and result.text == REMOTE_TEXT
    assert result.endpoint is not None and result.endpoint.id == "server"
    finals = [p for p in pair.chat_events(result.run_id) if p.get("state") == "final"]
    assert len(finals) == 1 and not [p for p in pair.chat_events(result.run_id) if p.get("state") == "error"]
    assert pair.switches and pair.switches[-1].to_id == "server" and pair.switches[-1].reason == "unreachable"
    assert "server" in pair.switches[-1].message and "local" in pair.switches[-1].message
    assert pair.pool.status.kind == "remote" and pair.pool.status.reason == pair.switches[-1].message
    # The remote got the message once, under the same run.
    users = [m for m in pair.remote.transcript_messages(key) if m["role"] == "user"]
    assert [m["content"][0]["text"] for m in users] == ["Tell me about foxes"]
    assert "".join(streamed).endswith(REMOTE_TEXT)


async def test_the_remote_is_seeded_with_recent_local_turns(pair: Pair) -> None:
    key = "agent:main:seeded"
    first = await pair.pool.chat(key, "My cat is called Mochi.")
    assert first.state == "final" and first.endpoint is not None and first.endpoint.id == "local"
    await pair.local.stop()
    await until(lambda: pair.pool.status.kind == "remote" and pair.pool.status.connected)
    second = await pair.pool.chat(key, "What is my cat called?")
    assert second.state == "final" and second.endpoint is not None and second.endpoint.id == "server"

    remote = pair.remote.transcript_messages(key)
    injected = [m for m in remote if m.get("stopReason") == "injected"]
    assert len(injected) == 1
    assert "My cat is called Mochi." in injected[0]["content"][0]["text"]
    assert LOCAL_TEXT in injected[0]["content"][0]["text"]
    # And the model on the remote saw it.
    last_request = pair.remote.fake.requests[-1]
    assert "Mochi" in json.dumps(last_request.body, ensure_ascii=False)


async def test_switch_back_brings_the_remote_turns_home(pair: Pair) -> None:
    key = "agent:main:roundtrip"
    await pair.local.stop()
    await until(lambda: pair.pool.status.kind == "remote" and pair.pool.status.connected)
    answered = await pair.pool.chat(key, "Asked while local was away")
    assert answered.endpoint is not None and answered.endpoint.id == "server"
    assert [t.run_id for t in pair.pool.journal.turns] == [answered.run_id]
    turn = pair.pool.journal.turns[0]
    assert json.loads(pair.pool.journal.path.read_text())["turns"][0]["run_id"] == answered.run_id  # type: ignore[union-attr]

    await pair.local.start()
    await until(lambda: pair.pool.status.kind == "local" and pair.pool.status.connected)
    assert pair.switches[-1].reason == "recovered" and pair.switches[-1].to_id == "local"
    await until(lambda: not pair.pool.journal.turns)
    local = pair.local.transcript_messages(key)
    assert [m["role"] for m in local] == ["user", "assistant"]
    assert local[1]["content"][0]["text"] == REMOTE_TEXT
    assert all(m["origin"]["endpointId"] == "server" and m["origin"]["runId"] == answered.run_id for m in local)
    # Doing it again changes nothing.
    pair.pool.journal.add(turn)
    assert await pair.pool.reconcile_now() == 1
    assert len(pair.local.transcript_messages(key)) == 2 and not pair.pool.journal.turns


async def test_a_failing_local_provider_moves_chats_to_the_remote(pair: Pair) -> None:
    pair.local.fake.behavior.fail_status, pair.local.fake.behavior.fail_times = 401, -1
    key = "agent:main:provider"
    first = await pair.pool.chat(key, "one")
    assert first.state == "error" and first.endpoint is not None and first.endpoint.id == "local"
    second = await pair.pool.chat(key, "two")  # the second failure in a row moves it
    assert second.state == "final" and second.text == REMOTE_TEXT
    assert second.endpoint is not None and second.endpoint.id == "server"
    assert pair.switches[-1].reason == "provider"
    assert [h.provider_failing for h in pair.pool.endpoint_health()] == [True, False]
    assert [p["state"] for p in pair.chat_events(second.run_id) if p["state"] in ("final", "error")] == ["final"]


async def test_a_stopped_remote_is_marked_down_and_up_again(pair: Pair) -> None:
    health: list[Any] = []
    pair.pool.subscribe_health(health.append)
    port = pair.remote.port
    await pair.remote.stop()
    await until(lambda: pair.pool.endpoint_health()[1].state == "down")
    assert pair.pool.status.kind == "local" and not pair.switches
    assert any(h.id == "server" and h.state == "down" for h in health)
    pair.remote.port = port
    await pair.remote.start()
    await until(lambda: pair.pool.endpoint_health()[1].state == "up")


async def test_no_gateway_left_ends_the_reply_with_a_clear_error(pair: Pair, tmp_path: Path) -> None:
    pair.pool.settings = dataclasses.replace(pair.pool.settings, carry_timeout=1.0)
    pair.local.fake.behavior.chunks, pair.local.fake.behavior.delay = 40, 0.05
    task = asyncio.create_task(pair.pool.chat("agent:main:lost", "hello"))
    await until(lambda: any(p.get("state") == "delta" for e, p in pair.events if e == "chat"))
    await pair.remote.stop()
    await pair.local.stop()
    result = await asyncio.wait_for(task, 30)
    assert result.state == "error" and result.error and "lost" in result.error
    errors = [p for p in pair.chat_events(result.run_id) if p.get("state") == "error"]
    assert len(errors) == 1 and errors[0]["errorKind"] == "unavailable"


async def test_remotes_added_and_removed_while_running(pair: Pair) -> None:
    local, remote = pair.pool.endpoints
    pair.pool.set_endpoints([local])
    await until(lambda: [h.id for h in pair.pool.endpoint_health()] == ["local"])
    pair.pool.set_endpoints([local, remote])
    await until(lambda: [(h.id, h.state) for h in pair.pool.endpoint_health()] == [("local", "up"), ("server", "up")])
    await pair.local.stop()
    await until(lambda: pair.pool.status.kind == "remote" and pair.pool.status.connected)
