"""The desktop sink against a real D-Bus session bus and a notification server on it.

The server (dbus_notifications.py) records every Notify call, so each test asserts what a
notification daemon would have been asked to show: the title and body, the urgency, the action.
Without a server on the bus, or without a bus, the app's fallback is used or the sink says why.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from molt_desktop import i18n
from molt_desktop.config.schema import DesktopAlertConfig
from molt_desktop.i18n import _
from molt_desktop.monitor.model import Alert, AlertNotice, SinkError
from molt_desktop.monitor.sinks.desktop import DesktopSink
from tests.monitor import dbus_notifications
from tests.monitor.dbus_notifications import NotificationServer

# The private bus and its notification server (fixtures of dbus_notifications.py).
session_bus = dbus_notifications.session_bus
notification_server = dbus_notifications.notification_server



@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    i18n.set_language("en")
    yield
    i18n.set_language("en")


def alert(severity: str = "critical", title: str = "Remote gateway server is down",
          body: str = "The remote gateway server (wss://10.0.0.5:18789) has not answered since 10:02.\n"
                      "Last error: connection refused.\nCheck that the server is running.") -> Alert:
    now = time.time()
    return Alert(key="remote_down:server", rule="remote_down", subject="server", severity=severity,  # type: ignore[arg-type]
                 state="firing", since=now - 60, fired_at=now, title=title, body=body)


class Fallback:
    def __init__(self, shows: bool = True) -> None:
        self.shows = shows
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, title: str, body: str, severity: str) -> bool:
        self.calls.append((title, body, severity))
        return self.shows


def on_bus(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)


async def test_fire_notice_reaches_the_notification_server(notification_server: NotificationServer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    on_bus(monkeypatch, notification_server.address)
    fallback = Fallback()
    sink = DesktopSink(DesktopAlertConfig(enabled=True), fallback)
    assert sink.name == "desktop" and sink.enabled
    fired = alert()
    await sink.send(AlertNotice("fire", fired, host="laptop"))
    assert len(notification_server.calls) == 1
    call = notification_server.calls[0]
    assert call.summary == fired.title
    assert call.body == fired.body
    assert call.app_name == "molt-desktop"
    assert call.hints["urgency"] == 2  # critical
    assert call.id == 1
    assert fallback.calls == []  # delivered natively: the app's balloon is not needed


async def test_warning_is_normal_urgency_and_ids_increase(notification_server: NotificationServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    on_bus(monkeypatch, notification_server.address)
    sink = DesktopSink(DesktopAlertConfig())
    await sink.send(AlertNotice("fire", alert("warning", title="CPU use is high")))
    await sink.send(AlertNotice("resolve", alert("critical", title="Remote gateway “server” is back up")))
    first, second = notification_server.calls
    assert first.summary == "CPU use is high" and first.hints["urgency"] == 1
    assert second.summary == "Remote gateway “server” is back up"
    assert second.hints["urgency"] == 0  # good news is never shown as critical
    assert (first.id, second.id) == (1, 2)


async def test_chinese_texts_arrive_unchanged(notification_server: NotificationServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    on_bus(monkeypatch, notification_server.address)
    i18n.set_language("zh_CN")
    title = _("Using the {name} gateway: the {previous} gateway is unreachable").format(name="server",
                                                                                       previous="local")
    body = _("Provider {name} at {url} is not reachable: {error}.").format(
        name="openai", url="https://api.openai.com/v1", error="超时")
    assert title == "正在使用server网关：local网关无法连接"  # the catalog's translation, not the English source
    sink = DesktopSink(DesktopAlertConfig())
    await sink.send(AlertNotice("fire", alert("critical", title=title, body=body)))
    call = notification_server.calls[0]
    assert call.summary == title
    assert call.body == "无法连接提供商 openai（https://api.openai.com/v1）：超时。"
    assert call.hints["urgency"] == 2


async def test_click_on_the_notice_calls_on_click(notification_server: NotificationServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    on_bus(monkeypatch, notification_server.address)
    clicked = asyncio.Event()
    sink = DesktopSink(DesktopAlertConfig(), on_click=clicked.set)
    try:
        await sink.send(AlertNotice("fire", alert()))
        call = notification_server.calls[0]
        assert call.actions == ["default", ""]
        notification_server.click(call.id + 100)  # someone else's notice: not ours to open
        notification_server.click(call.id)
        await asyncio.wait_for(clicked.wait(), 10)
        # A sink built after a config change gets the clicks on its own notices.
        rebuilt_clicked = asyncio.Event()
        rebuilt = DesktopSink(DesktopAlertConfig(), on_click=rebuilt_clicked.set)
        await rebuilt.send(AlertNotice("fire", alert("warning", title="again")))
        assert [c.summary for c in notification_server.calls] == [call.summary, "again"]
        notification_server.click(notification_server.calls[1].id)
        await asyncio.wait_for(rebuilt_clicked.wait(), 10)
    finally:
        await sink.close()


async def test_no_notification_server_uses_the_fallback(session_bus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    on_bus(monkeypatch, session_bus)
    fallback = Fallback()
    sink = DesktopSink(DesktopAlertConfig(), fallback)
    fired = alert("warning")
    await sink.send(AlertNotice("fire", fired))
    assert fallback.calls == [(fired.title, fired.body, "warning")]


async def test_no_notification_server_and_no_fallback_is_a_sink_error(session_bus: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    on_bus(monkeypatch, session_bus)
    sink = DesktopSink(DesktopAlertConfig())
    with pytest.raises(SinkError, match="No notification service on this desktop") as caught:
        await sink.send(AlertNotice("fire", alert()))
    assert "org.freedesktop.Notifications" in str(caught.value)


async def test_fallback_that_shows_nothing_is_a_sink_error(session_bus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    on_bus(monkeypatch, session_bus)
    fallback = Fallback(shows=False)
    sink = DesktopSink(DesktopAlertConfig(), fallback)
    with pytest.raises(SinkError, match="could not show the alert either"):
        await sink.send(AlertNotice("test", alert()))
    assert len(fallback.calls) == 1


async def test_no_session_bus_at_all_uses_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    fallback = Fallback()
    sink = DesktopSink(DesktopAlertConfig(), fallback)
    await sink.send(AlertNotice("fire", alert()))
    assert fallback.calls == [(alert().title, alert().body, "critical")]
    with pytest.raises(SinkError, match="no D-Bus session bus"):
        await DesktopSink(DesktopAlertConfig()).send(AlertNotice("fire", alert()))


async def test_a_bus_address_nobody_listens_on(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    on_bus(monkeypatch, f"unix:path={tmp_path}/no-bus-here")
    with pytest.raises(SinkError, match="not reachable"):
        await DesktopSink(DesktopAlertConfig()).send(AlertNotice("fire", alert()))
    fallback = Fallback()
    await DesktopSink(DesktopAlertConfig(), fallback).send(AlertNotice("fire", alert()))
    assert len(fallback.calls) == 1


def test_enabled_follows_the_config() -> None:
    assert DesktopSink(DesktopAlertConfig(enabled=True)).enabled
    assert not DesktopSink(DesktopAlertConfig(enabled=False)).enabled


async def test_plyer_failure_on_windows_and_macos_uses_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    import plyer

    def refuse(**_kwargs: object) -> None:
        raise NotImplementedError("No usable implementation found!")

    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setattr(plyer.notification, "notify", refuse)
    fallback = Fallback()
    await DesktopSink(DesktopAlertConfig(), fallback).send(AlertNotice("fire", alert("warning")))
    assert fallback.calls == [(alert().title, alert().body, "warning")]
    with pytest.raises(SinkError, match=r"No notification service on this desktop \(No usable implementation"):
        await DesktopSink(DesktopAlertConfig()).send(AlertNotice("fire", alert()))
