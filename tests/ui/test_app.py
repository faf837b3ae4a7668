"""The desktop app's lifetime, in-process on the test's qasync loop with a real gateway.

Start-up (services, windows, no tray offscreen), the port-in-use dialog, switching the language
from the tray's request, single-instance hand-over, and Quit in order (clients see `shutdown`
and close 1012, the store is flushed).
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QLabel

from molt_desktop.client.connection import ClientOptions, GatewayConnection
from molt_desktop.ui import qt_app
from molt_desktop.ui.qt_app import DesktopApp, SingleInstance
from tests.fakes.common import FakeModelServer
from tests.gateway.conftest import TOKEN, write_config
from tests.ui.conftest import wait_signal, wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _start(app: DesktopApp) -> asyncio.Task[int]:
    task = asyncio.ensure_future(app.run())
    await wait_until(lambda: app.bridge is not None and app.bridge.status.connected or task.done(), 20,
                     "the app to connect to its gateway")
    assert not task.done(), task.result()
    return task


async def test_start_chat_and_quit_in_order(state_home: Path, fake_model: FakeModelServer, qapp: QApplication) -> None:
    port = _free_port()
    write_config(state_home, fake_model, port=port)
    app = DesktopApp(qapp, state_home)
    task = await _start(app)
    assert app.services is not None and app.services.port == port
    # Offscreen there is no system tray: the chat window opens and says why it stays open.
    assert app.tray is None and app.chat is not None and app.chat.isVisible()
    notice = app.chat.findChild(QLabel, "noTrayNotice")
    assert notice is not None and "No system tray" in notice.text()
    events: list[tuple[str, dict[str, Any]]] = []
    client = GatewayConnection(ClientOptions(url=f"ws://127.0.0.1:{port}", token=TOKEN),
                               on_event=lambda e, p: events.append((e, p)))
    await client.connect()
    reply = await app.bridge.call("chat.send", {"sessionKey": "agent:main:quit-test", "message": "hi",
                                                "idempotencyKey": str(uuid.uuid4())})
    assert reply["status"] == "started"
    await wait_until(lambda: any(e == "chat" and p.get("state") == "final" for e, p in events))
    app.actions.quit.emit()
    assert await asyncio.wait_for(task, 20) == 0
    await asyncio.wait_for(client.closed.wait(), 5)
    assert ("shutdown" in [e for e, _ in events]) and client.close_code == 1012
    sessions = json.loads((state_home / "agents" / "main" / "sessions" / "sessions.json").read_text("utf-8"))
    transcript = state_home / "agents" / "main" / "sessions" / f"{sessions['agent:main:quit-test']['sessionId']}.jsonl"
    assert "Hello from the fake model" in transcript.read_text("utf-8").splitlines()[-1]
    await client.close()


async def test_port_in_use_asks_for_another(state_home: Path, fake_model: FakeModelServer, qapp: QApplication,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    busy = taken.getsockname()[1]
    write_config(state_home, fake_model, port=busy)
    other = _free_port()
    asked: list[tuple[str, int]] = []

    async def pick(message: str, current: int, parent: Any = None) -> int:
        asked.append((message, current))
        return other

    monkeypatch.setattr(qt_app, "ask_other_port", pick)
    app = DesktopApp(qapp, state_home)
    task = await _start(app)
    try:
        assert asked and asked[0][1] == busy and str(busy) in asked[0][0]
        assert app.services is not None and app.services.port == other
        saved = json.loads((state_home / "moltbot.json").read_text("utf-8"))
        assert saved["gateway"]["port"] == other and saved["gateway"]["auth"]["token"] == TOKEN
    finally:
        app.request_quit()
        assert await asyncio.wait_for(task, 20) == 0
        taken.close()


async def test_port_in_use_and_the_user_gives_up(state_home: Path, fake_model: FakeModelServer,
                                                 qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        write_config(state_home, fake_model, port=taken.getsockname()[1])
        before = (state_home / "moltbot.json").read_bytes()

        async def give_up(message: str, current: int, parent: Any = None) -> None:
            return None

        monkeypatch.setattr(qt_app, "ask_other_port", give_up)
        assert await asyncio.wait_for(DesktopApp(qapp, state_home).run(), 20) == 1
        assert (state_home / "moltbot.json").read_bytes() == before


async def test_language_request_switches_live_and_is_saved(state_home: Path, fake_model: FakeModelServer,
                                                           qapp: QApplication) -> None:
    write_config(state_home, fake_model, port=_free_port())
    app = DesktopApp(qapp, state_home)
    task = await _start(app)
    try:
        app.actions.setLanguage.emit("zh_CN")
        assert app.language.current == "zh_CN"
        await wait_until(lambda: json.loads((state_home / "moltbot.json").read_text("utf-8"))
                         .get("ui", {}).get("language") == "zh_CN", what="ui.language saved")
        assert qt_app.tr("Quit") == "退出"
    finally:
        app.language.apply("en")  # the next tests read English
        app.request_quit()
        assert await asyncio.wait_for(task, 20) == 0


async def test_a_second_launch_hands_over(state_home: Path) -> None:
    first = SingleInstance(state_home)
    assert first.acquire() and first.listen()
    second = SingleInstance(state_home)
    try:
        assert not second.acquire()
        shown = asyncio.ensure_future(wait_signal(first.showRequested, 5))
        await asyncio.sleep(0)
        assert second.forward(2)
        await shown
    finally:
        first.release()
    third = SingleInstance(state_home)
    assert third.acquire()  # released: the next launch is the app again
    third.release()
