"""Alerts in the desktop UI: the tray, the health view and Settings > Alerts, with a real AlertManager.

The manager runs the default rules on observations the tests make (a clock the tests move, so a
"for" duration passes without waiting) and delivers through real sinks: the desktop sink to a
notification server on a private D-Bus session bus, the e-mail sink to a port nobody listens on
(a failing channel), the webhook sink switched off. The widgets get it through the AlertsBridge
on the real gateway's bridge, as in the app. Screenshots: health-alerts.png, health-alerts-zh_CN.png,
settings-alerts-test.png.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from molt_desktop import i18n
from molt_desktop.config.schema import DesktopAlertConfig, EmailAlertConfig, MoltConfig, WebhookAlertConfig
from molt_desktop.monitor.alerts import AlertManager
from molt_desktop.monitor.model import Observation
from molt_desktop.monitor.rules import default_rules
from molt_desktop.monitor.sinks.desktop import DesktopSink
from molt_desktop.monitor.sinks.email import EmailSink
from molt_desktop.monitor.sinks.webhook import WebhookSink
from molt_desktop.ui.alerts_bridge import AlertsBridge
from molt_desktop.ui.health_view import HealthView
from molt_desktop.ui.i18n import UiLanguage
from molt_desktop.ui.settings_dialog import SettingsDialog
from molt_desktop.ui.settings_sync_alerts import AlertsPage
from molt_desktop.ui.tray import TrayIcon
from tests.monitor import dbus_notifications
from tests.monitor.dbus_notifications import NotificationServer
from tests.ui.conftest import Desktop, save_screenshot, wait_until

# The private bus and its notification server (fixtures of dbus_notifications.py).
session_bus = dbus_notifications.session_bus
notification_server = dbus_notifications.notification_server


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Clock:
    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Alerts:
    manager: AlertManager
    bridge: AlertsBridge
    clock: Clock
    server: NotificationServer
    smtp: str


@pytest.fixture
async def alerts(desktop: Desktop, notification_server: NotificationServer, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Alerts]:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", notification_server.address)
    smtp = f"127.0.0.1:{closed_port()}"
    clock = Clock()
    sinks = [DesktopSink(DesktopAlertConfig(enabled=True), on_click=desktop.actions.openHealth.emit),
             EmailSink(EmailAlertConfig.model_validate({"enabled": True, "smtp": smtp, "from": "molt@example.com",
                                                        "to": ["ops@example.com"]}), timeout=5),
             WebhookSink(WebhookAlertConfig(enabled=False))]
    manager = AlertManager(default_rules(MoltConfig()), sinks, history_path=tmp_path / "alerts.jsonl",
                           host="laptop", clock=clock)
    bridge = AlertsBridge(manager, desktop.bridge)  # as the app attaches it
    try:
        yield Alerts(manager, bridge, clock, notification_server, smtp)
    finally:
        bridge.close()
        await manager.stop()
        await sinks[0].close()  # type: ignore[attr-defined]


def gateway_down(alerts: Alerts) -> None:
    """The local gateway stops answering for longer than the rule's 30 s."""
    alerts.manager.observe(Observation("gateway.local", "local", ok=False, detail="connection refused",
                                       at=alerts.clock.now))
    alerts.clock.now += 31
    alerts.manager.tick()


def gateway_back(alerts: Alerts) -> None:
    alerts.clock.now += 5
    alerts.manager.observe(Observation("gateway.local", "local", ok=True, at=alerts.clock.now))


async def test_tray_follows_the_worst_firing_alert(desktop: Desktop, alerts: Alerts, qtbot: QtBot) -> None:
    tray = TrayIcon(desktop.bridge, desktop.actions)
    assert tray.alerts is alerts.bridge
    await wait_until(lambda: tray.state == "ok", what="the tray to be ready")
    assert AlertsBridge.of(desktop.bridge) is alerts.bridge

    # A warning: "degraded" (worse than ok).
    alerts.manager.observe(Observation("remote.server", "server", ok=False, detail="connection refused",
                                       at=alerts.clock.now))
    alerts.clock.now += 61
    alerts.manager.tick()
    warning = alerts.manager.worst()
    assert warning is not None and warning.severity == "warning"
    assert tray.state == "degraded"
    assert tray.tooltip() == f"molt-desktop — Warning: {warning.title}"

    # A critical alert as well: the "down" look, and its title in the tooltip.
    states: list[tuple[str, str]] = []
    tray.stateChanged.connect(lambda state, reason: states.append((state, reason)))
    gateway_down(alerts)
    critical = alerts.manager.worst()
    assert critical is not None and critical.rule == "gateway_down"
    assert tray.state == "down"
    assert tray.reason == critical.title
    assert tray.tooltip() == f"molt-desktop — Critical alert: {critical.title}"
    assert states == [("down", critical.title)]

    # The notification went out (desktop) with the same words.
    await wait_until(lambda: any(c.summary == critical.title for c in alerts.server.calls), what="the notification")
    call = next(c for c in alerts.server.calls if c.summary == critical.title)
    assert call.hints["urgency"] == 2 and call.body == critical.body

    # Resolved: back to the warning, then to what the gateway says.
    gateway_back(alerts)
    assert tray.state == "degraded"
    alerts.clock.now += 1
    alerts.manager.observe(Observation("remote.server", "server", ok=True, at=alerts.clock.now))
    assert tray.state == "ok"
    assert tray.tooltip().startswith("molt-desktop — Ready: The local gateway is running at")
    tray.hide()


async def test_a_click_on_a_notification_opens_health(desktop: Desktop, alerts: Alerts, qtbot: QtBot) -> None:
    tray = TrayIcon(desktop.bridge, desktop.actions)
    opened: list[bool] = []
    desktop.actions.openHealth.connect(lambda: opened.append(True))
    tray.tray.messageClicked.emit()  # the Qt fallback's balloon
    assert opened == [True]
    gateway_down(alerts)  # the D-Bus notification
    await wait_until(lambda: alerts.server.calls, what="the notification")
    alerts.server.click(alerts.server.calls[0].id)
    await wait_until(lambda: len(opened) == 2, what="the click to open Health")
    # Offscreen there is no tray to draw a message in: the fallback says so instead of pretending.
    assert tray.notify("title", "body", "critical") is False
    tray.hide()


async def test_health_view_lists_alerts_history_and_channels(desktop: Desktop, alerts: Alerts,
                                                             qtbot: QtBot) -> None:
    view = HealthView(desktop.bridge, desktop.actions)
    qtbot.addWidget(view)
    view.resize(640, 1250)
    view.show()
    section = view.alerts_section
    assert section is not None
    assert section.firing_rows() == [] and section.firing_empty.isVisible()
    assert [row[:2] for row in view.channels_section.rows()] == [
        ["Desktop notifications", "Not used yet"], ["E-mail", "Not used yet"], ["Webhook", "Off"]]

    gateway_down(alerts)
    critical = alerts.manager.worst()
    assert critical is not None
    rows = section.firing_rows()
    assert len(rows) == 1
    assert rows[0][0] == "Critical" and rows[0][2] == critical.title
    assert "(less than a minute)" in rows[0][1]
    assert not section.firing_empty.isVisible()
    await wait_until(lambda: [r[1] for r in view.channels_section.rows()][:2] == ["Working", "Failing"],
                     what="both deliveries to end")
    email = view.channels_section.rows()[1]
    assert email[0] == "E-mail"
    error = alerts.manager.sink_status()[1].last_error
    assert error and email[3] == error
    assert alerts.smtp in error  # says which server failed
    assert view.channels_section.errors.text() == f"E-mail: {error}"  # in full, under the table
    history = section.history_rows()
    assert [row[1] for row in history][:2] == ["Not delivered (E-mail)", "Fired"]
    assert history[1][2] == critical.title

    # Resolved: nothing firing, and the resolve is the newest history line.
    gateway_back(alerts)
    assert section.firing_rows() == []
    assert section.history_rows()[0][1:] == ["Resolved", alerts.manager.history(1)[0]["title"]]
    alerts.clock.now += 700  # after the refire window: it fires again at once (no hold-down)
    gateway_down(alerts)
    assert section.firing_rows()[0][2] == critical.title
    assert view.summary.text() == f"Critical alert: {critical.title}"
    await alerts.manager.flush()
    await wait_until(lambda: view.channels_section.rows()[1][1] == "Failing (3 times in a row)",
                     what="the second failure")
    save_screenshot(view, "health-alerts")

    # In Chinese: the UI's words translated, the alert's own texts as the monitor wrote them.
    language = UiLanguage()
    i18n.set_language("zh_CN")
    try:
        language.apply("zh_CN")
        gateway_back(alerts)
        alerts.clock.now += 700  # after the refire window: no hold-down
        gateway_down(alerts)
        await alerts.manager.flush()
        assert section.title() == "告警"
        zh = alerts.manager.worst()
        assert zh is not None and section.firing_rows()[0][2] == zh.title
        save_screenshot(view, "health-alerts-zh_CN")
    finally:
        language.apply("en")
        i18n.set_language("en")


async def test_no_monitor_no_alert_sections(desktop: Desktop, qtbot: QtBot) -> None:
    view = HealthView(desktop.bridge, desktop.actions)
    qtbot.addWidget(view)
    assert view.alerts_section is None
    tray = TrayIcon(desktop.bridge, desktop.actions)
    assert tray.alerts is None
    tray.hide()


async def enable_email(desktop: Desktop, smtp: str) -> None:
    config = await desktop.bridge.call("config.get", {})
    patch = {"alerts": {"email": {"enabled": True, "smtp": smtp, "from": "molt@example.com", "to": ["ops@example.com"]}}}
    await desktop.bridge.call("config.patch", {"raw": json.dumps(patch), "baseHash": config["hash"]})


async def test_settings_test_buttons(desktop: Desktop, alerts: Alerts, qtbot: QtBot) -> None:
    await enable_email(desktop, alerts.smtp)
    dialog = SettingsDialog(desktop.bridge, desktop.actions)
    qtbot.addWidget(dialog)
    dialog.show()
    await wait_until(lambda: dialog.payload is not None and dialog.ok_button.isEnabled(), what="config loaded")
    dialog.show_page("alerts")
    page = dialog.pages["alerts"]
    assert isinstance(page, AlertsPage)
    tests = page.tests
    before = (desktop.state / "moltbot.json").read_text(encoding="utf-8")

    # The webhook is off in the saved settings: no test, and the hint says what to do.
    assert not tests["webhook"].button.isEnabled()
    assert tests["webhook"].text() == "Turn on the webhook, enter its URL, and save, then test it."

    # Desktop: delivered to the notification server.
    assert tests["desktop"].button.isEnabled()
    tests["desktop"].button.click()
    await wait_until(lambda: tests["desktop"].text() == "Delivered", what="the desktop test")
    test_call = alerts.server.calls[-1]
    assert test_call.summary == "Test alert from molt-desktop on laptop"

    # E-mail: the server is not there; the line says why, in the sink's words.
    tests["email"].button.click()
    assert tests["email"].text() == "Sending a test alert…" and not tests["email"].button.isEnabled()
    await wait_until(lambda: tests["email"].text().startswith("Not delivered: "), what="the e-mail test")
    error = alerts.manager.sink_status()[1].last_error
    assert error and tests["email"].text() == f"Not delivered: {error}"
    assert tests["email"].button.isEnabled()

    # Testing saved nothing, and the page has nothing to save either.
    assert (desktop.state / "moltbot.json").read_text(encoding="utf-8") == before
    save_screenshot(dialog, "settings-alerts-test")
    # Turning the desktop channel off (saved) disables its button.
    page.desktop.setChecked(False)
    assert await dialog.save()
    await wait_until(lambda: not tests["desktop"].button.isEnabled(), what="the reload after saving")
    assert tests["desktop"].text() == "Turn on desktop notifications and save, then test them."
    dialog.close()
    await wait_until(lambda: not desktop.bridge._tasks, what="the dialog's calls to finish")


async def test_settings_without_a_monitor_say_so(desktop: Desktop, qtbot: QtBot) -> None:
    page = AlertsPage(desktop.bridge)
    qtbot.addWidget(page)
    for test in page.tests.values():
        assert not test.button.isEnabled()
        assert test.text() == "Tests need the desktop app's health monitor, which is not running."
