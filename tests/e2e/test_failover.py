"""Failover between two real gateway processes: `molt-desktop gateway` as "local" and as "remote".

The client is the app's endpoint pool, built from the local state dir's config exactly as the
desktop app and `molt-desktop chat` build it (`build_pool`). Each gateway has its own fake model
process, so where a reply came from shows in its text. The local gateway is killed with SIGKILL
or frozen with SIGSTOP in the middle of a reply; the reply must complete through the remote,
once, and come home to the local transcript when local is back.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.client.failover import EndpointPool, SwitchEvent, build_pool
from molt_desktop.config.manager import ConfigManager
from molt_desktop.sessions.store import SessionStore
from tests.e2e.conftest import (
    TOKEN,
    FakeProcess,
    GatewayProcess,
    Processes,
    async_wait_until,
    free_port,
    write_config,
)

LOCAL_TEXT = "Local gateway reply about the harbour, the boats and the evening light over the water."
REMOTE_TEXT = "Remote gateway reply about the harbour, the boats and the evening light over the water."
FAILOVER = {"probeIntervalSeconds": 0.3, "failAfter": 2, "recoverAfter": 2, "switchBack": True, "seedTurns": 3}

pytestmark = pytest.mark.slow


@dataclass
class Cluster:
    procs: Processes
    local_home: Path
    remote_home: Path
    local_fake: FakeProcess
    remote_fake: FakeProcess
    local_port: int
    local: GatewayProcess
    remote: GatewayProcess
    pool: EndpointPool
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    switches: list[SwitchEvent] = field(default_factory=list)

    def start_local(self) -> None:
        self.local = self.procs.gateway(self.local_home, port=self.local_port)

    def finals(self, run_id: str) -> list[dict[str, Any]]:
        return [p for e, p in self.events if e == "chat" and p.get("runId") == run_id and p.get("state") == "final"]

    def deltas_seen(self) -> bool:
        return any(e == "chat" and p.get("state") == "delta" for e, p in self.events)


def transcript(home: Path, key: str) -> list[dict[str, Any]]:
    store = SessionStore(home)
    try:
        return list(store.history(key, None).messages)
    finally:
        store.close()


@pytest.fixture
async def cluster(procs: Processes, tmp_path: Path) -> AsyncIterator[Cluster]:
    local_fake = procs.fake(text=LOCAL_TEXT, chunks=60, delay=0.04)
    remote_fake = procs.fake(text=REMOTE_TEXT)
    remote_home, local_home = tmp_path / "remote", tmp_path / "local"
    write_config(remote_home, {"remotefake": remote_fake.base_url})
    remote = procs.gateway(remote_home)
    local_port = free_port()
    write_config(local_home, {"localfake": local_fake.base_url}, port=local_port,
                 extra={"remotes": [{"id": "server", "url": remote.url, "token": TOKEN}], "failover": FAILOVER})
    local = procs.gateway(local_home, port=local_port)
    manager = ConfigManager(local_home / "moltbot.json")
    pool = build_pool(local_home, manager)
    result = Cluster(procs, local_home, remote_home, local_fake, remote_fake, local_port, local, remote, pool)
    pool.subscribe_events(lambda e, p: result.events.append((e, p)))
    pool.subscribe_switch(result.switches.append)
    await pool.start()
    try:
        await async_wait_until(lambda: all(h.state == "up" for h in pool.endpoint_health()), 30, "both gateways up")
        assert pool.status.kind == "local"
        yield result
    finally:
        await pool.stop()
        await manager.stop()


async def test_kill9_mid_reply_completes_on_the_remote_and_comes_home(cluster: Cluster) -> None:
    key = "agent:main:harbour"
    task = asyncio.create_task(cluster.pool.chat(key, "Describe the harbour"))
    await async_wait_until(cluster.deltas_seen, 20, "the local reply to stream")
    cluster.local.kill9()
    result = await asyncio.wait_for(task, 60)

    assert result.state == "final" and result.text == REMOTE_TEXT
    assert result.endpoint is not None and result.endpoint.id == "server"
    assert len(cluster.finals(result.run_id)) == 1
    assert cluster.switches[-1].to_id == "server" and cluster.switches[-1].reason == "unreachable"
    remote_users = [m for m in transcript(cluster.remote_home, key) if m["role"] == "user"]
    assert len(remote_users) == 1

    # Local comes back on its port: the pool returns to it and copies the remote's turn home.
    cluster.start_local()
    await async_wait_until(lambda: cluster.pool.status.kind == "local" and cluster.pool.status.connected, 30,
                           "the switch back to local")
    assert cluster.switches[-1].reason == "recovered"
    await async_wait_until(lambda: not cluster.pool.journal.turns, 30, "the remote turn to come home")
    local = transcript(cluster.local_home, key)
    assert [m["role"] for m in local] == ["user", "assistant"], local
    assert local[0]["content"][0]["text"] == "Describe the harbour"
    assert local[1]["content"][0]["text"] == REMOTE_TEXT
    assert local[1]["origin"]["endpointId"] == "server" and local[1]["origin"]["runId"] == result.run_id

    # And the next message is answered locally again.
    again = await cluster.pool.chat(key, "And now?")
    assert again.endpoint is not None and again.endpoint.id == "local" and again.text == LOCAL_TEXT


async def test_a_hung_local_gateway_is_found_by_probes(cluster: Cluster) -> None:
    key = "agent:main:frozen"
    task = asyncio.create_task(cluster.pool.chat(key, "Describe the harbour"))
    await async_wait_until(cluster.deltas_seen, 20, "the local reply to stream")
    os.kill(cluster.local.pid, signal.SIGSTOP)
    try:
        result = await asyncio.wait_for(task, 60)
        local_health = cluster.pool.endpoint_health()[0]
    finally:
        os.kill(cluster.local.pid, signal.SIGCONT)
    assert result.state == "final" and result.text == REMOTE_TEXT
    assert result.endpoint is not None and result.endpoint.id == "server"
    assert len(cluster.finals(result.run_id)) == 1
    assert local_health.state == "down" and "no answer" in (local_health.last_error or "")
    assert cluster.switches[-1].reason == "unresponsive"


async def test_a_stopped_remote_is_marked_down_and_chats_stay_local(cluster: Cluster) -> None:
    remote_port = cluster.remote.port
    cluster.remote.kill9()
    await async_wait_until(lambda: cluster.pool.endpoint_health()[1].state == "down", 10, "the remote marked down")
    assert cluster.pool.status.kind == "local" and not cluster.switches
    cluster.local_fake.control(chunks=2, delay=0)
    result = await cluster.pool.chat("agent:main:main", "still here?")
    assert result.endpoint is not None and result.endpoint.id == "local"
    cluster.remote = cluster.procs.gateway(cluster.remote_home, port=remote_port)
    await async_wait_until(lambda: cluster.pool.endpoint_health()[1].state == "up", 30, "the remote up again")
