"""The UI while the endpoint pool fails over to a server gateway, against two real gateways.

The desktop's embedded gateway is "local"; a second real gateway is configured as the remote
"server" (token in the keyring). Stopping the local gateway makes the pool switch: the chat
window's banner says which gateway is in use and why (Details asks for the health window), the
tray is in remote mode with the reason in its tooltip and a switch message, and the health view
lists both endpoints with state, latency, last check and last error. A reply streaming when the
local gateway stops is carried over and finishes instead of failing; one no gateway can take
over ends with the error card. Turns copied into the local history from a remote show "via".
Screenshots: chat-remote-banner.png (+ -zh_CN, -dark), health-view-remote.png.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from molt_desktop.client.failover import PoolStatus
from molt_desktop.config.secrets import set_secret
from molt_desktop.ui.chat_window import ChatWindow
from molt_desktop.ui.health_view import HealthView
from molt_desktop.ui.i18n import UiLanguage
from molt_desktop.ui import style
from molt_desktop.ui.style import make_palette
from molt_desktop.ui.tray import TrayIcon
from tests.ui.conftest import TOKEN, Desktop, RemoteGateway, StartRemote, save_screenshot, wait_signal, wait_until
from tests.ui.test_chat_window import expect, replies, settled


@pytest.fixture
async def window(desktop: Desktop) -> AsyncIterator[ChatWindow]:
    chat = ChatWindow(desktop.bridge, desktop.actions)
    chat.resize(1000, 640)
    chat.show()
    opened = await expect(chat.sessionOpened)
    chat.new_chat()
    await opened
    await settled(chat)
    yield chat
    await settled(chat)
    chat.close()
    chat.deleteLater()
    await asyncio.sleep(0)


async def add_server(desktop: Desktop, remote: RemoteGateway) -> None:
    """Configure `remote` as the remote "server" (token in the keyring) and wait until the pool finds it up."""
    await asyncio.to_thread(set_secret, "remote.server.token", TOKEN)
    config = await desktop.bridge.call("config.get", {})
    patch = {"remotes": [{"id": "server", "url": remote.url, "token": "keyring:remote.server.token"}],
             "failover": {"probeIntervalSeconds": 0.5, "recoverAfter": 1}}
    await desktop.bridge.call("config.patch", {"raw": json.dumps(patch), "baseHash": config["hash"]})
    await wait_until(lambda: any(h.id == "server" and h.state == "up" for h in desktop.bridge.endpoint_health()),
                     timeout=20, what="the server gateway to be up")


async def stop_local(desktop: Desktop) -> Any:
    """Stop the embedded gateway; returns the SwitchEvent that follows."""
    switched = asyncio.ensure_future(wait_signal(desktop.bridge.switched, 20, check=lambda e: e.to_id == "server"))
    await asyncio.sleep(0)
    assert desktop.services.gateway is not None
    await desktop.services.gateway.stop()
    (event,) = await switched
    return event


async def test_banner_tray_and_health_follow_the_switch(desktop: Desktop, window: ChatWindow, qtbot: QtBot,
                                                        start_remote: StartRemote, english: UiLanguage,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    remote = await start_remote("server")
    tray = TrayIcon(desktop.bridge, desktop.actions)
    health = HealthView(desktop.bridge, desktop.actions)
    qtbot.addWidget(health)
    health.show()
    banner = window.banner
    assert not banner.isVisibleTo(window)  # on the local gateway: no banner
    await add_server(desktop, remote)
    await wait_until(lambda: len(health.endpoint_rows()) == 2 and health.endpoint_rows()[1][1] == "Up",
                     what="both endpoints in the health view")
    local_row, server_row = health.endpoint_rows()
    assert local_row[0] == "Local gateway (in use)" and local_row[1] == "Up"
    assert server_row[0] == "server" and server_row[2].endswith(" ms") and server_row[3] != "never"

    event = await stop_local(desktop)
    assert (event.from_kind, event.to_kind, event.reason) == ("local", "remote", "unreachable")
    await wait_until(lambda: desktop.bridge.status.connected and desktop.bridge.status.kind == "remote",
                     what="the pool on the server gateway")
    expected = f"Using the server gateway “server” ({remote.url}): the local gateway is unreachable."
    await wait_until(lambda: banner.isVisibleTo(window) and banner.text == expected,
                     what=f"the banner; it says {banner.text!r}")
    opened: list[bool] = []
    desktop.actions.openHealth.connect(lambda: opened.append(True))
    banner.details_button.click()
    assert opened == [True]

    # The tray: remote mode, the reason in the tooltip, and a message about the switch.
    await wait_until(lambda: tray.state == "remote", what="the tray in remote mode")
    assert tray.tooltip() == "molt-desktop — Using the server gateway “server”: the local gateway is unreachable."
    assert tray.last_balloon == ("Switched to the server gateway",
                                 "Using the server gateway “server”: the local gateway is unreachable.")

    # The health view: local down with its error, the server in use.
    await wait_until(lambda: health.endpoint_rows()[0][1] == "Down", what="local down in the health view")
    local_row, server_row = health.endpoint_rows()
    assert local_row[4] != "—" and server_row[0] == "server (in use)"
    assert health.text("remote", "active") == tray.reason
    health.resize(620, 640)
    save_screenshot(health, "health-view-remote")

    # A reply through the server gateway works.
    finished = await expect(window.replyFinished)
    window.input.setPlainText("Hello from the train")
    window.send()
    assert (await finished)[1] == "final"
    assert replies(window)[-1].markdown() == desktop.fake.behavior.full_text()
    await settled(window)
    save_screenshot(window, "chat-remote-banner")

    english.apply("zh_CN")
    await wait_until(lambda: window.new_chat_button.text() not in ("", "New chat"), what="the window in Chinese")
    assert banner.isVisibleTo(window) and banner.text  # retranslated in place
    save_screenshot(window, "chat-remote-banner-zh_CN")
    english.apply("en")
    await wait_until(lambda: banner.details_button.text() == "Details", what="the banner in English")

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    # The system turns dark (offscreen has no colour scheme of its own: style.is_dark says so).
    dark = {"on": True}
    monkeypatch.setattr(style, "is_dark", lambda app=None: dark["on"])
    app.setPalette(make_palette(True))
    try:
        await wait_until(lambda: banner._dark is True, what="the banner's dark colours")
        save_screenshot(window, "chat-remote-banner-dark")
    finally:
        dark["on"] = False
        app.setPalette(light)
    await wait_until(lambda: banner._dark is False, what="the banner's light colours")

    # Back on the local gateway (as the pool reports it), the banner goes away.
    desktop.bridge._on_status(PoolStatus("local", "local", f"ws://127.0.0.1:{desktop.port}", "connected"))
    assert not banner.isVisibleTo(window)
    await settled(window)


async def test_a_streaming_reply_moves_to_the_server_gateway(desktop: Desktop, window: ChatWindow,
                                                              start_remote: StartRemote) -> None:
    remote = await start_remote("server")
    await add_server(desktop, remote)
    desktop.fake.behavior.chunks = 40
    desktop.fake.behavior.delay = 0.05  # about two seconds of streaming
    finished = await expect(window.replyFinished)
    window.input.setPlainText("Tell me something long")
    window.send()
    await wait_until(lambda: replies(window) and replies(window)[-1].body.length() > 0, what="the first text")
    await stop_local(desktop)
    run_id, state = await asyncio.wait_for(finished, 30)
    assert state == "final"
    assert window.conversation.errors() == []  # the link drop did not fail the reply
    [reply] = replies(window)  # shown once, not twice
    assert reply.run_id == run_id and reply.markdown() == desktop.fake.behavior.full_text()
    assert not reply.status_label.isVisible()
    await settled(window)


async def test_a_status_drop_keeps_the_reply_and_unavailable_shows_the_error_card(
        desktop: Desktop, window: ChatWindow) -> None:
    desktop.fake.behavior.chunks = 200
    desktop.fake.behavior.delay = 0.05
    finished = await expect(window.replyFinished)
    window.input.setPlainText("Tell me a long story")
    window.send()
    await wait_until(lambda: replies(window) and replies(window)[-1].body.length() > 0, what="the first text")
    [reply] = replies(window)
    url = f"ws://127.0.0.1:{desktop.port}"
    # The pool reports the link down (it carries the reply over): the reply waits, it does not fail.
    desktop.bridge._on_status(PoolStatus("local", "local", url, "disconnected", error="connection closed (1006)"))
    assert reply.streaming and reply.status_label.text() == "Reconnecting…"
    assert window.conversation.errors() == [] and window.streaming
    desktop.bridge._on_status(PoolStatus("local", "local", url, "connected", connected_at=time.time()))
    assert reply.status_label.text() in ("", "Thinking…") or not reply.status_label.isVisible()

    # The next gateway starts the same run again: its first delta carries the text from the start.
    key = window.current_key
    desktop.bridge._on_event("chat", {"runId": reply.run_id, "sessionKey": key, "state": "delta", "seq": 1,
                                      "deltaText": "Once",
                                      "message": {"role": "assistant", "content": [{"type": "text", "text": "Once"}]}})
    assert reply.markdown() == "Once" and window.conversation.errors() == []

    # A reply no gateway could take over ends as an error card with Retry.
    desktop.bridge._on_event("chat", {"runId": reply.run_id, "sessionKey": key, "state": "error",
                                      "errorMessage": "no gateway took the reply over",
                                      "errorKind": "unavailable"})
    assert (await finished)[1] == "error"
    [card] = window.conversation.errors()
    assert card.next_step == "retry" and card.message_label.text().startswith("No gateway could finish this reply")
    assert card.message_label.toolTip() == "no gateway took the reply over"
    await desktop.bridge.call("chat.abort", {"sessionKey": key})
    await wait_until(lambda: desktop.fake.requests[-1].disconnected or desktop.fake.requests[-1].done_at,
                     what="the model request to end")
    await settled(window)


async def test_turns_from_a_remote_show_where_they_were_made(desktop: Desktop, window: ChatWindow) -> None:
    key = window.current_key or ""
    origin = {"endpointId": "server", "kind": "remote", "url": "wss://gw.example.com:18789"}
    run_id = str(uuid.uuid4())
    now = int(time.time() * 1000)
    await desktop.bridge.call("molt.chat.append", {"sessionKey": key, "runId": run_id, "origin": origin, "messages": [
        {"role": "user", "content": "What did I ask on the train?", "timestamp": now},
        {"role": "assistant", "content": [{"type": "text", "text": "About failover."}], "timestamp": now + 1}]})
    window.reload()
    await wait_until(lambda: len(window.conversation.messages()) == 2, what="the appended turn")
    await settled(window)
    user, assistant = window.conversation.messages()
    for message in (user, assistant):
        assert message.origin_label.isVisibleTo(window) and message.origin_label.text() == "via server"
        assert "wss://gw.example.com:18789" in message.origin_label.toolTip()
    finished = await expect(window.replyFinished)
    window.input.setPlainText("And now, at home?")
    window.send()
    assert (await finished)[1] == "final"
    assert not replies(window)[-1].origin_label.isVisibleTo(window)  # answered here: no note
    save_screenshot(window, "chat-via-remote")
    await settled(window)
