"""The gateway on a disk that fills up: runs end in a clear error, nothing already stored is lost,
the gateway keeps serving, and turns work again once there is room."""

from __future__ import annotations

import uuid
from pathlib import Path

from molt_desktop.app import GatewayOptions, Services
from molt_desktop.client.connection import ClientOptions, GatewayConnection
from tests.fakes.common import FakeModelServer
from tests.gateway.conftest import TOKEN, write_config
from tests.gateway.test_chat import REPLY, wait_state
from tests.unit.test_full_disk import _fill, small_disk  # noqa: F401  (fixture)


async def test_chat_on_a_full_disk(small_disk: Path, fake_model: FakeModelServer) -> None:  # noqa: F811
    state = small_disk / "state"
    state.mkdir()
    write_config(state, fake_model)
    services = Services(state, GatewayOptions(port=0))
    await services.start()
    events: list[tuple[str, dict]] = []  # type: ignore[type-arg]
    conn = GatewayConnection(ClientOptions(url=f"ws://127.0.0.1:{services.port}", token=TOKEN),
                             lambda e, p: events.append((e, p)))
    try:
        await conn.connect()
        key = "agent:main:disk"
        first = str(uuid.uuid4())
        await conn.call("chat.send", {"sessionKey": key, "message": "first", "idempotencyKey": first})
        assert (await wait_state(events, first))["state"] == "final"

        filler = _fill(small_disk)
        failed = str(uuid.uuid4())
        await conn.call("chat.send", {"sessionKey": key, "message": "x" * 4000, "idempotencyKey": failed})
        terminal = await wait_state(events, failed)
        assert terminal["state"] == "error"
        assert "save" in terminal["errorMessage"].lower() or "space" in terminal["errorMessage"].lower()
        assert (await conn.call("health", {}))["ok"] is True

        history = await conn.call("chat.history", {"sessionKey": key})
        assert [m["content"][0]["text"] for m in history["messages"]][:2] == ["first", REPLY]

        filler.unlink()
        again = str(uuid.uuid4())
        await conn.call("chat.send", {"sessionKey": key, "message": "again", "idempotencyKey": again})
        assert (await wait_state(events, again))["state"] == "final"
        texts = [m["content"][0]["text"] for m in (await conn.call("chat.history", {"sessionKey": key}))["messages"]]
        assert texts[:2] == ["first", REPLY] and texts[-2:] == ["again", REPLY]
    finally:
        await conn.close()
        await services.stop()
