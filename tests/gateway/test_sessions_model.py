"""sessions.patch {model}: the session's next run uses the chosen model; null goes back to the default."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

from molt_desktop.app import GatewayOptions, Services
from molt_desktop.client.connection import ClientOptions, GatewayConnection
from tests.fakes.common import FakeModelServer
from tests.gateway.conftest import TOKEN, write_config


async def test_a_session_model_override_is_what_answers(state_home: Path, fake_model: FakeModelServer) -> None:
    config = write_config(state_home, fake_model)
    models = config["models"]["providers"]["fake"]["models"]
    models.append({**models[0], "id": "fake-2", "name": "Fake Two"})
    (state_home / "moltbot.json").write_text(json.dumps(config), encoding="utf-8")
    services = Services(state_home, GatewayOptions(port=0))
    await services.start()
    events: list[tuple[str, dict]] = []
    conn = GatewayConnection(ClientOptions(url=f"ws://127.0.0.1:{services.port}", token=TOKEN),
                             lambda e, p: events.append((e, p)))
    key = "agent:main:override"

    async def turn() -> str:
        run = str(uuid.uuid4())
        await conn.call("chat.send", {"sessionKey": key, "message": "hi", "idempotencyKey": run})
        for _ in range(1000):
            if any(e == "chat" and p.get("runId") == run and p.get("state") == "final" for e, p in events):
                return str(fake_model.requests[-1].model)
            await asyncio.sleep(0.01)
        raise AssertionError("no final reply")

    try:
        await conn.connect()
        assert await turn() == "fake-1"
        patched = await conn.call("sessions.patch", {"key": key, "model": "fake/fake-2"})
        assert (patched["entry"]["providerOverride"], patched["entry"]["modelOverride"]) == ("fake", "fake-2")
        assert await turn() == "fake-2"
        row = next(r for r in (await conn.call("sessions.list", {}))["sessions"] if r["key"] == key)
        assert (row["modelOverride"], row["model"]) == ("fake-2", "fake-2")
        cleared = await conn.call("sessions.patch", {"key": key, "model": None})
        assert "modelOverride" not in cleared["entry"]
        assert await turn() == "fake-1"
    finally:
        await conn.close()
        await services.stop()
