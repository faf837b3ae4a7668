"""The tray icon's logic offscreen, against the real embedded gateway.

Offscreen there is no system tray to show it in, but the QSystemTrayIcon, its menu, tooltip and
state all work: the menu's entries and what each asks for, recent chats from real sessions,
the gateway info, and the state following gateway health (ok -> working during a slow streamed
reply -> ok; degraded for a broken config file, no provider, a provider refusing our key; down
when the gateway stops). tests/ui/test_tray_xvfb.py shows the same on a real display.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QSystemTrayIcon

from molt_desktop.ui.actions import DesktopActions
from molt_desktop.ui.tray import TrayIcon
from tests.ui.conftest import Desktop, save_screenshot, wait_signal, wait_until

MENU = ["Open chat", "Recent chats", "New chat", "Gateway status", "Sync now", "Health…", "Settings…",
        "Language", "Quit molt-desktop"]


def record(actions: DesktopActions) -> list[tuple[str, tuple[Any, ...]]]:
    seen: list[tuple[str, tuple[Any, ...]]] = []
    for name in ("openChat", "toggleChat", "newChat", "openSettings", "openHealth", "syncNow", "setLanguage",
                 "quit"):
        getattr(actions, name).connect(lambda *args, name=name: seen.append((name, args)))
    return seen


def entries(tray: TrayIcon) -> list[QAction]:
    return [a for a in tray.menu().actions() if not a.isSeparator()]


def by_text(tray: TrayIcon, text: str) -> QAction:
    return next(a for a in entries(tray) if a.text() == text)


async def send(desktop: Desktop, key: str, message: str) -> dict[str, Any]:
    return await desktop.bridge.call("chat.send", {"sessionKey": key, "message": message,
                                                   "idempotencyKey": str(uuid.uuid4())})


async def chat(desktop: Desktop, key: str, message: str, final: str = "final") -> None:
    done = asyncio.ensure_future(wait_signal(desktop.bridge.chatEvent, 20,
                                             check=lambda p: p.get("sessionKey") == key
                                             and p.get("state") == final))
    await asyncio.sleep(0)
    await send(desktop, key, message)
    await done


async def test_menu_entries_in_order_and_what_they_ask_for(desktop: Desktop) -> None:
    tray = TrayIcon(desktop.bridge, desktop.actions)
    seen = record(desktop.actions)
    await wait_until(lambda: tray.state == "ok", what="the tray to say ok")
    assert [a.text() for a in entries(tray)] == MENU
    assert not QSystemTrayIcon.isSystemTrayAvailable()  # offscreen: logic only
    assert tray.tooltip().startswith("molt-desktop — Ready: The local gateway is running at 127.0.0.1:")

    by_text(tray, "Open chat").trigger()
    by_text(tray, "New chat").trigger()
    by_text(tray, "Health…").trigger()
    by_text(tray, "Settings…").trigger()
    by_text(tray, "Quit molt-desktop").trigger()
    assert seen == [("openChat", ("",)), ("newChat", ()), ("openHealth", ()), ("openSettings", ("",)),
                    ("quit", ())]

    sync = by_text(tray, "Sync now")
    assert not sync.isEnabled()
    tray.set_sync_available(True)
    assert sync.isEnabled()
    seen.clear()
    sync.trigger()
    assert seen == [("syncNow", ())]

    # A left click asks for the chat window; a right click only opens the menu.
    seen.clear()
    tray.tray.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    tray.tray.activated.emit(QSystemTrayIcon.ActivationReason.Context)
    assert seen == [("toggleChat", ())]

    # Language: Auto + each language in its own name, one checked, a choice asks for it.
    languages = tray.language_menu.actions()
    assert [a.text() for a in languages] == ["Automatic (system)", "English", "简体中文", "日本語"]
    await wait_until(lambda: tray.language_actions["auto"].isChecked())
    seen.clear()
    tray.language_actions["ja"].trigger()
    assert seen == [("setLanguage", ("ja",))]
    assert tray.language_actions["ja"].isChecked() and not tray.language_actions["auto"].isChecked()
    # Saving the language elsewhere (settings, another client) moves the check.
    current = await desktop.bridge.call("config.get", {})
    await desktop.bridge.call("config.patch", {"raw": '{"ui": {"language": "zh_CN"}}', "baseHash": current["hash"]})
    await wait_until(lambda: tray.language_actions["zh_CN"].isChecked(), what="the language check to follow")

    # Gateway status: where the gateway is and for how long it has been up, current when the menu opens.
    tray.menu().aboutToShow.emit()
    info = [a.text() for a in tray.gateway_menu.actions()]
    assert info[0] == "Local gateway (on this computer)"
    assert info[1] == f"Address: ws://127.0.0.1:{desktop.port}"
    assert info[2] == "Up for less than a minute"
    assert not any(a.isEnabled() for a in tray.gateway_menu.actions())
    tray.menu().aboutToHide.emit()

    tray.menu().adjustSize()
    save_screenshot(tray.menu(), "tray-menu-offscreen")


async def test_recent_chats_fill_from_real_sessions(desktop: Desktop) -> None:
    tray = TrayIcon(desktop.bridge, desktop.actions)
    seen = record(desktop.actions)
    await wait_until(lambda: tray.state == "ok")
    recent = tray.recent_menu.actions()
    assert [a.text() for a in recent] == ["No chats yet"] and not recent[0].isEnabled()
    keys = [f"agent:main:desktop-tray{i}" for i in range(7)]
    for index, key in enumerate(keys):
        await chat(desktop, key, f"Topic number {index}\nwith a second line")
    # The five newest, newest first, titled by their first message (sessions.changed refreshes them).
    want = [f"Topic number {i}" for i in (6, 5, 4, 3, 2)]
    await wait_until(lambda: [a.text() for a in tray.recent_menu.actions()] == want, 10,
                     f"recent chats {want}, have {[a.text() for a in tray.recent_menu.actions()]}")
    assert tray.recent_keys() == [keys[i] for i in (6, 5, 4, 3, 2)]
    tray.recent_menu.actions()[1].trigger()
    assert seen == [("openChat", (keys[5],))]
    # A label set on a session is its name in the menu.
    await desktop.bridge.call("sessions.patch", {"key": keys[4], "label": "Groceries"})
    await wait_until(lambda: "Groceries" in [a.text() for a in tray.recent_menu.actions()], 10)


async def test_state_follows_a_streamed_reply_and_the_gateway_stopping(desktop: Desktop) -> None:
    tray = TrayIcon(desktop.bridge, desktop.actions)
    changes: list[tuple[str, str]] = []
    tray.stateChanged.connect(lambda state, reason: changes.append((state, reason)))
    await wait_until(lambda: tray.state == "ok")
    desktop.fake.behavior.chunks = 20
    desktop.fake.behavior.delay = 0.05  # about a second of streaming
    working = asyncio.ensure_future(wait_signal(tray.stateChanged, 10, check=lambda s, _r: s == "working"))
    await asyncio.sleep(0)
    await send(desktop, "agent:main:desktop-slow", "take your time")
    state, reason = await working
    assert reason == "A reply is streaming."
    assert tray.tooltip() == f"molt-desktop — Replying: {reason}"
    await wait_signal(tray.stateChanged, 10, check=lambda s, _r: s == "ok")
    assert [c[0] for c in changes] == ["working", "ok"]

    # The gateway stops: the link drops and the icon says so (the pool keeps retrying).
    assert desktop.services.gateway is not None
    down = asyncio.ensure_future(wait_signal(tray.stateChanged, 10, check=lambda s, _r: s == "down"))
    await asyncio.sleep(0)
    await desktop.services.gateway.stop()
    state, reason = await down
    assert "Cannot reach the gateway" in reason or "connection closed" in reason, reason
    assert tray.tooltip().startswith("molt-desktop — Gateway not reachable: ")
    assert desktop.bridge.status.url and desktop.bridge.status.url.split("://")[1] in tray.tooltip() \
        or "connection closed" in tray.tooltip()
    tray.menu().aboutToShow.emit()
    assert tray.gateway_menu.actions()[2].text().startswith("Not connected: ")


async def test_degraded_while_the_config_file_is_broken(desktop: Desktop) -> None:
    tray = TrayIcon(desktop.bridge, desktop.actions)
    await wait_until(lambda: tray.state == "ok")
    path = desktop.state / "moltbot.json"
    good = path.read_text("utf-8")
    path.write_text(good.replace('"gateway"', '"gateway" :: oops', 1), "utf-8")
    state, reason = await wait_signal(tray.stateChanged, 15, check=lambda s, _r: s == "degraded")
    assert reason.startswith("The settings file has an error"), reason
    assert tray.tooltip().startswith("molt-desktop — Needs attention: The settings file has an error")
    path.write_text(good, "utf-8")
    await wait_signal(tray.stateChanged, 15, check=lambda s, _r: s == "ok")


async def test_degraded_without_a_provider(desktop: Desktop) -> None:
    tray = TrayIcon(desktop.bridge, desktop.actions)
    await wait_until(lambda: tray.state == "ok")
    current = await desktop.bridge.call("config.get", {})
    await desktop.bridge.call("config.patch", {"raw": json.dumps({"models": {"providers": None},
                                                                  "agents": {"defaults": {"model": None}}}),
                                               "baseHash": current["hash"]})
    state, reason = await wait_signal(tray.stateChanged, 10, check=lambda s, _r: s == "degraded")
    assert reason == "No model provider is set up, so chats cannot get replies."
    assert tray.tooltip() == f"molt-desktop — Needs attention: {reason}"


async def test_degraded_while_the_provider_refuses_our_key(desktop: Desktop) -> None:
    tray = TrayIcon(desktop.bridge, desktop.actions)
    await wait_until(lambda: tray.state == "ok")
    desktop.fake.behavior.fail_status = 401
    desktop.fake.behavior.fail_times = -1
    await chat(desktop, "agent:main:desktop-auth", "hello?", final="error")
    await wait_until(lambda: tray.state == "degraded", what="degraded after a 401")
    assert "Open Settings" in tray.reason, tray.reason
    # Fixed (e.g. a new key): the next reply succeeds and the warning goes.
    desktop.fake.behavior.fail_status = None
    desktop.fake.behavior.fail_times = 0
    await chat(desktop, "agent:main:desktop-auth", "and now?")
    await wait_until(lambda: tray.state == "ok", what="ok after a good reply")
