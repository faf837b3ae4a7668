"""The bridge turns the endpoint pool's events and status into Qt signals, on a real gateway."""

from __future__ import annotations

import uuid

from molt_desktop.client.connection import GatewayCallError, GatewayUnreachable
from molt_desktop.ui.bridge import NEXT_RETRY, NEXT_SETTINGS, describe_error
from tests.ui.conftest import Desktop, wait_signal, wait_until


async def test_call_and_streamed_chat_events(desktop: Desktop) -> None:
    health = await desktop.bridge.call("health")
    assert health["ok"] is True
    finals: list[dict] = []
    runs: list[int] = []
    desktop.bridge.chatEvent.connect(lambda p: finals.append(p) if p.get("state") == "final" else None)
    desktop.bridge.activeRunsChanged.connect(runs.append)
    key = "agent:main:ui-bridge"
    await desktop.bridge.call("chat.send", {"sessionKey": key, "message": "hi",
                                            "idempotencyKey": str(uuid.uuid4())})
    await wait_until(lambda: finals, what="a final chat event")
    assert finals[0]["message"]["content"][0]["text"].startswith("Hello from the fake model")
    assert runs[0] == 1 and runs[-1] == 0
    assert desktop.bridge.active_runs == 0


async def test_status_follows_the_link(desktop: Desktop) -> None:
    assert desktop.bridge.status.connected
    pool = desktop.services.pool
    assert pool is not None
    down = wait_signal(desktop.bridge.statusChanged, check=lambda s: s.state == "disconnected")
    await pool.reconnect()
    await down
    await wait_until(lambda: desktop.bridge.status.connected, what="reconnect")


def test_errors_say_what_to_do() -> None:
    assert describe_error(GatewayUnreachable("refused")).next_step == NEXT_RETRY
    assert describe_error(GatewayCallError("UNAUTHORIZED", "unauthorized")).next_step == NEXT_SETTINGS
    auth = describe_error({"errorKind": "unknown", "errorMessage": "401 from fake",
                           "errorDetail": {"failoverReason": "auth"}})
    assert auth.next_step == NEXT_SETTINGS and "401 from fake" in auth.message
    assert describe_error({"errorKind": "rate_limit", "errorMessage": "slow down"}).next_step == NEXT_RETRY
