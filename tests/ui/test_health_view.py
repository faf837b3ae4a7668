"""The health window against the real embedded gateway: what it shows and when it updates.

Gateway (local, address, uptime, version, last check, last error), provider (default model,
readiness, the last chat error: a provider answering 401 shows up there with its time), remotes
(none configured), the Settings buttons, Refresh and the periodic refresh while visible, and a
broken config file in the readiness line. Screenshots: health-view.png, health-view-error.png.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from PySide6.QtCore import Qt

from molt_desktop.ui.health_monitor import HealthMonitor
from molt_desktop.ui.health_view import HealthView
from molt_desktop.ui.tray import TrayIcon
from tests.ui.conftest import Desktop, save_screenshot, wait_signal, wait_until


async def settle(desktop: Desktop) -> None:
    """No call in flight: qtbot closes the widgets after the test, outside the running loop."""
    await wait_until(lambda: not desktop.bridge._tasks, what="the view's calls to finish")


async def test_shows_gateway_provider_and_remotes(desktop: Desktop, qtbot: Any) -> None:
    view = HealthView(desktop.bridge, desktop.actions)
    qtbot.addWidget(view)
    view.show()
    await wait_until(lambda: view.text("gateway", "checked") != "never" and view.text("remote", "remotes") != "—",
                     what="the first check")
    assert view.windowTitle() == "molt-desktop — Health"
    assert view.text("gateway", "kind") == "Local gateway (on this computer)"
    assert view.text("gateway", "address") == f"ws://127.0.0.1:{desktop.port}"
    assert view.text("gateway", "state").startswith("Connected since ")
    assert view.text("gateway", "uptime") == "less than a minute"
    assert view.text("gateway", "version") not in ("", "—")
    assert view.text("gateway", "error") == "None"
    assert view.text("provider", "model") == "fake/fake-1"
    assert view.text("provider", "ready") == "Ready"
    assert view.text("provider", "chat_error") == "None"
    assert view.text("remote", "active") == "Local gateway (on this computer)"
    assert view.text("remote", "remotes") == "No remote gateway configured."
    assert view.summary.text() == "Ready: Chats can get replies."
    # Error texts can be selected and copied.
    label = view.fields[("provider", "chat_error")]
    assert label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse

    # Refreshes every few seconds while visible, on demand, and not while hidden.
    assert view.timer.isActive()
    monitor = HealthMonitor.of(desktop.bridge)
    before = monitor.last_check
    await asyncio.sleep(0.02)
    view.refresh_button.click()
    await wait_until(lambda: monitor.last_check != before, what="Refresh to check again")
    view.hide()
    assert not view.timer.isActive()
    view.show()
    save_screenshot(view, "health-view")

    seen: list[str] = []
    desktop.actions.openSettings.connect(seen.append)
    for section in ("gateway", "provider", "remote"):
        view.settings_buttons[section].click()
    assert seen == ["gateway", "providers", "remotes"]
    await settle(desktop)


async def test_a_provider_error_is_the_last_error(desktop: Desktop, qtbot: Any) -> None:
    # The monitor exists from the start (the tray creates it), so the view opened later still
    # shows an error that happened before it was opened.
    tray = TrayIcon(desktop.bridge, desktop.actions)
    await wait_until(lambda: tray.state == "ok")
    desktop.fake.behavior.fail_status = 401
    desktop.fake.behavior.fail_times = -1
    key = "agent:main:desktop-health"
    error = asyncio.ensure_future(wait_signal(desktop.bridge.chatEvent, 20,
                                              check=lambda p: p.get("state") == "error"))
    await asyncio.sleep(0)
    await desktop.bridge.call("chat.send", {"sessionKey": key, "message": "hello", "idempotencyKey": str(uuid.uuid4())})
    (payload,) = await error

    view = HealthView(desktop.bridge, desktop.actions)
    qtbot.addWidget(view)
    view.show()
    await wait_until(lambda: view.text("remote", "remotes") != "—")
    text = view.text("provider", "chat_error")
    assert "The model provider cannot answer" in text and "Open Settings" in text, text
    assert f"Chat: {key}" in text
    assert text[:2].isdigit() and " — " in text  # starts with the time it happened
    assert view.summary.text().startswith("Needs attention: The model provider cannot answer")
    save_screenshot(view, "health-view-error")
    await settle(desktop)


async def test_a_broken_config_file_shows_in_readiness(desktop: Desktop, qtbot: Any) -> None:
    view = HealthView(desktop.bridge, desktop.actions)
    qtbot.addWidget(view)
    view.show()
    await wait_until(lambda: view.text("provider", "ready") == "Ready")
    path = desktop.state / "moltbot.json"
    path.write_text(path.read_text("utf-8").replace("{", "{ oops", 1), "utf-8")
    await wait_until(lambda: view.text("provider", "ready").startswith("The settings file has an error"), 15,
                     "the broken file to show")
    assert view.summary.text().startswith("Needs attention: The settings file has an error")
    await settle(desktop)
