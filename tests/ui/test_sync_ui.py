"""Session sync in the desktop UI: Settings > Sync, the tray's Sync now, the Health view's Sync
section and the session list's "Other devices", over the real embedded gateway.

The sync service is a fake meeting the service contract (status, subscribe, sync_now); what it
reports is set by the tests. Settings' Test runs the real `test_settings` (a mounted-folder
backend and a real sshd for the host key). The synced sessions are real files: another state
dir's sessions pushed by SyncEngine over a LocalFolderBackend and pulled into the app's state.
Screenshots: settings-sync*.png, health-sync*.png, sessions-other-devices*.png.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QSystemTrayIcon

from molt_desktop.sessions.store import SessionStore
from molt_desktop.sync.backend import SyncBackendError
from molt_desktop.sync.engine import SyncEngine, SyncLocked, SyncNeedsConfirmation, SyncReport
from molt_desktop.sync.local import LocalFolderBackend
from molt_desktop.ui.health_view import HealthView
from molt_desktop.ui.i18n import UiLanguage
from molt_desktop.ui.session_list import SessionListWidget
from molt_desktop.ui.settings_dialog import SettingsDialog
from molt_desktop.ui.sync_bridge import SyncBridge
from molt_desktop.ui.tray import TrayIcon
from tests.sync.sshd import sshd_server
from tests.ui.conftest import Desktop, save_screenshot, wait_signal, wait_until

A_ID = "aaaaaaaa11112222"


@dataclass
class Status:
    """SyncStatus as the service contract describes it."""

    enabled: bool = False
    state: str = "off"
    last_good_at: float | None = None
    last_attempt_at: float | None = None
    last_error: str | None = None
    next_run_at: float | None = None
    last_report: dict[str, Any] | None = None
    fingerprint: str | None = None
    pending: tuple[int, int] | None = None
    interval: float = 600.0


class FakeSync:
    def __init__(self) -> None:
        self._status = Status()
        self.subscribers: list[Callable[[Any], None]] = []
        self.calls: list[bool] = []
        self.results: list[SyncReport | BaseException] = []

    @property
    def status(self) -> Status:
        return self._status

    def subscribe(self, cb: Callable[[Any], None]) -> Callable[[], None]:
        self.subscribers.append(cb)
        return lambda: self.subscribers.remove(cb)

    def set(self, **changes: Any) -> None:
        self._status = replace(self._status, **changes)
        for cb in list(self.subscribers):
            cb(self._status)

    async def sync_now(self, confirm_mass_delete: bool = False) -> SyncReport:
        self.calls.append(confirm_mass_delete)
        await asyncio.sleep(0)
        result = self.results.pop(0)
        if isinstance(result, BaseException):
            raise result
        return result


@pytest.fixture
def fake(desktop: Desktop) -> Iterator[FakeSync]:
    service = FakeSync()
    sync = SyncBridge(service, desktop.state, desktop.services.fork_synced, desktop.bridge)
    yield service
    sync.close()
    sync.deleteLater()


def _chat(store: SessionStore, key: str, question: str, answer: str) -> None:
    store.ensure(key, provider="fake", model="m1", model_api="openai-completions", context_tokens=8000)
    store.append_messages(key, [
        {"role": "user", "content": [{"type": "text", "text": question}], "timestamp": 1},
        {"role": "assistant", "content": [{"type": "text", "text": answer}], "api": "openai-completions",
         "provider": "fake", "model": "m1", "stopReason": "stop", "timestamp": 2},
    ])


async def _other_device(tmp_path: Path, desktop: Desktop, name: str, sessions: list[tuple[str, str, str]]) -> None:
    """Sessions written on another computer, pushed to a shared folder and pulled into the app's state."""
    other = tmp_path / f"device-{name}"
    store = SessionStore(other)
    for key, question, answer in sessions:
        _chat(store, key, question, answer)
    store.close()
    backend = LocalFolderBackend(tmp_path / "share")
    (tmp_path / "share").mkdir(exist_ok=True)
    await SyncEngine(other, backend, name, (name[0] * 8) + "11112222").push()
    await SyncEngine(desktop.state, backend, "this-pc", "cccccccc33334444").pull()


# --- Settings > Sync ----------------------------------------------------------------------------


async def test_settings_sync_fields_follow_the_backend_and_test_lists_the_device_folders(
        desktop: Desktop, fake: FakeSync, tmp_path: Path) -> None:
    mounted = tmp_path / "mounted"
    for folder in ("laptop-aaaaaaaa", "desk-bbbbbbbb", ".hidden"):
        (mounted / folder).mkdir(parents=True)
    fake.set(enabled=True, state="idle", last_good_at=time.time() - 300, fingerprint="SHA256:abcDEF123")
    dialog = SettingsDialog(desktop.bridge, desktop.actions, state_dir=desktop.state)
    dialog.show()
    dialog.show_page("sync")
    page: Any = dialog.pages["sync"]
    await wait_until(lambda: dialog.ok_button.isEnabled(), what="config loaded")

    def shown(path: str) -> bool:
        return page.form_.isRowVisible(page.rows[path].label)  # type: ignore[no-any-return]

    assert page.kind() == "sftp"
    assert [shown(p) for p in ("sync.host", "sync.keyFile", "sync.share")] == [True, True, False]
    page.backend.setCurrentIndex(page.backend.findData("smb"))
    assert shown("sync.share") and not shown("sync.keyFile") and shown("sync.password")
    assert page.rows["sync.path"].label.text() == "Folder inside the share"
    assert page.port.specialValueText() == "Default (445)"
    page.enabled.setChecked(True)
    assert not await dialog.save()  # SMB without server and share: refused, next to the fields
    assert page.rows["sync.host"].error.text() and page.rows["sync.share"].error.text()

    page.backend.setCurrentIndex(page.backend.findData("folder"))
    assert not any(shown(p) for p in ("sync.host", "sync.port", "sync.username", "sync.password", "sync.share"))
    assert page.browse_path.isVisible() and page.rows["sync.path"].label.text() == "Mounted folder"
    page.path.setText(str(mounted))
    page.device.setText("this-pc")
    result = await page.run_test()
    assert result.ok, result.message
    text = page.test_result.text()
    assert "laptop-aaaaaaaa" in text and "desk-bbbbbbbb" in text and ".hidden" not in text
    assert "Last sync:" in page.last_sync.text() and "ago" in page.last_sync.text()
    assert page.fingerprint.isHidden()  # a mounted folder has no host key
    assert await dialog.save()  # a valid folder setup saves
    page.backend.setCurrentIndex(page.backend.findData("sftp"))
    assert page.fingerprint.isVisible() and page.fingerprint.text() == "Server host key: SHA256:abcDEF123"
    page.backend.setCurrentIndex(page.backend.findData("folder"))
    save_screenshot(dialog, "settings-sync")
    saved = desktop.services.config.current.config.sync
    assert (saved.backend, saved.path, saved.deviceName, saved.enabled) == ("folder", str(mounted), "this-pc", True)

    language = UiLanguage()
    language.apply("zh_CN")
    try:
        await wait_until(lambda: dialog.windowTitle() != "Settings", what="retranslated")
        save_screenshot(dialog, "settings-sync-zh_CN")
    finally:
        language.apply("en")
    dialog.close()
    dialog.deleteLater()


async def test_settings_test_reports_errors_and_the_ssh_host_key(desktop: Desktop, fake: FakeSync,
                                                                 tmp_path: Path) -> None:
    dialog = SettingsDialog(desktop.bridge, desktop.actions, state_dir=desktop.state)
    page: Any = dialog.pages["sync"]
    await wait_until(lambda: dialog.ok_button.isEnabled(), what="config loaded")
    page.backend.setCurrentIndex(page.backend.findData("folder"))
    page.path.setText(str(tmp_path / "not-mounted"))
    result = await page.run_test()
    assert not result.ok and page.test_result.text().startswith("The test failed:")

    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "laptop-aaaaaaaa").mkdir()
    with sshd_server(tmp_path / "sshd") as sshd:
        page.backend.setCurrentIndex(page.backend.findData("sftp"))
        page.host.setText(sshd.host)
        page.port.setValue(sshd.port)
        page.username.setText(sshd.user)
        page.key_file.setText(str(sshd.client_key))
        page.path.setText(str(remote))
        result = await page.run_test()
    assert result.ok, result.message
    assert "laptop-aaaaaaaa" in page.test_result.text()
    assert page.fingerprint.text().startswith("Server host key: SHA256:")
    dialog.close()
    dialog.deleteLater()


async def test_settings_sync_now_shows_what_was_sent(desktop: Desktop, fake: FakeSync) -> None:
    dialog = SettingsDialog(desktop.bridge, desktop.actions, state_dir=desktop.state)
    page: Any = dialog.pages["sync"]
    await wait_until(lambda: dialog.ok_button.isEnabled(), what="config loaded")
    assert not page.sync_button.isEnabled() and page.last_sync.text() == "Sync is off."
    fake.set(enabled=True, state="idle")
    assert page.sync_button.isEnabled() and page.last_sync.text() == "Last sync: never"
    fake.results.append(SyncReport(files_sent=2, bytes_sent=2048, files_received=1, bytes_received=300))
    await page.start_sync_now()
    assert fake.calls == [False]
    assert page.test_result.text() == "Sent 2 files (2.0 KB), received 1 files (300 B)."
    dialog.close()
    dialog.deleteLater()


# --- tray ---------------------------------------------------------------------------------------


async def test_tray_sync_now_follows_the_status_and_asks_before_a_mass_archive(desktop: Desktop,
                                                                               fake: FakeSync) -> None:
    tray = TrayIcon(desktop.bridge, desktop.actions)
    sync = SyncBridge.of(desktop.bridge)
    assert sync is not None
    assert not tray.act_sync.isEnabled()
    fake.set(enabled=True, state="idle")
    assert tray.act_sync.isEnabled()
    said: list[tuple[str, str]] = []

    def say(_title: str, text: str, level: str) -> None:
        said.append((level, text))

    asked: list[tuple[int, int]] = []

    async def confirm(count: int, total: int, _parent: Any) -> bool:
        asked.append((count, total))
        return True

    sync.confirm_mass_archive = confirm  # type: ignore[method-assign]
    fake.results += [SyncNeedsConfirmation(30, 40), SyncReport(files_sent=1, bytes_sent=10)]
    waiter = wait_signal(tray.act_sync.changed, check=lambda: not tray.act_sync.isEnabled())
    task = asyncio.ensure_future(sync.run_now(say))
    await waiter  # disabled while it runs
    assert await task
    assert asked == [(30, 40)] and fake.calls == [False, True]
    assert said[-1] == ("info", "Sent 1 files (10 B), received 0 files (0 B).")
    assert tray.act_sync.isEnabled()

    async def refuse(count: int, total: int, _parent: Any) -> bool:
        return False

    sync.confirm_mass_archive = refuse  # type: ignore[method-assign]
    fake.results += [SyncNeedsConfirmation(30, 40)]
    assert not await sync.run_now(say)
    assert said[-1][0] == "warning" and "nothing was archived" in said[-1][1]
    fake.results += [SyncBackendError("Cannot reach backup.example.com:22: connection refused")]
    assert not await sync.run_now(say)
    assert said[-1] == ("error", "Sync failed: Cannot reach backup.example.com:22: connection refused")
    fake.results += [SyncLocked({"host": "desk", "pid": 42})]
    assert not await sync.run_now(say)
    assert said[-1][0] == "info" and "Another sync is running" in said[-1][1]

    # The app's Sync now (tray menu): the outcome as a tray message when there is a tray to show it.
    fake.set(enabled=False, state="off")
    assert not tray.act_sync.isEnabled()
    tray.hide()
    tray.deleteLater()
    assert QSystemTrayIcon is not None


# --- Health -------------------------------------------------------------------------------------


async def test_health_view_sync_section_is_live(desktop: Desktop, fake: FakeSync) -> None:
    view = HealthView(desktop.bridge, desktop.actions)
    view.show()
    section = view.sync_section
    assert section is not None
    assert section.text("state") == "Off — turn it on in the Sync settings."
    now = time.time()
    fake.set(enabled=True, state="waiting", last_good_at=now - 3 * 3600, last_attempt_at=now - 30,
             last_error="Cannot reach backup.example.com:22: connection refused", next_run_at=now + 40,
             last_report={"filesSent": 3, "bytesSent": 5 * 1024 * 1024, "filesReceived": 0, "bytesReceived": 0,
                          "errors": []},
             fingerprint="SHA256:q8mHh0Jx3m5e6cS1Vb0PzqkO0mB3Zk2yq3Wmq3xA7eU")
    assert section.text("state") == "Waiting to retry"
    assert "(3 h 0 min ago)" in section.text("last_good")
    assert "connection refused" in section.text("error")
    assert section.text("next").endswith("(in less than a minute)")
    assert section.text("report") == "Sent 3 files (5.0 MB), received 0 files (0 B)."
    assert section.text("fingerprint").startswith("SHA256:q8m")
    assert section.sync_button.isEnabled()
    requested: list[str] = []
    desktop.actions.openSettings.connect(requested.append)
    synced: list[bool] = []
    desktop.actions.syncNow.connect(lambda: synced.append(True))
    section.settings_button.click()
    section.sync_button.click()
    assert requested == ["sync"] and synced == [True]
    await wait_until(lambda: view.isVisible())
    view.sync_section.parentWidget().parentWidget().parentWidget().ensureWidgetVisible(section)  # type: ignore[union-attr]
    await asyncio.sleep(0.2)  # the wrapped error line gets its height
    save_screenshot(view, "health-sync")

    fake.set(state="needs_confirmation", pending=(30, 40), last_error=None)
    assert "would archive 30 of the 40 files" in section.text("state")
    assert section.text("error") == "None"
    fake.set(state="idle", pending=None, last_good_at=time.time(), next_run_at=time.time() + 600)
    assert section.text("state") == "Up to date"
    assert "(less than a minute ago)" in section.text("last_good")

    language = UiLanguage()
    language.apply("zh_CN")
    try:
        await wait_until(lambda: view.windowTitle() != "molt-desktop — Health", what="retranslated")
        fake.set(state="waiting", last_error="Cannot reach backup.example.com:22: connection refused")
        await asyncio.sleep(0.2)
        save_screenshot(view, "health-sync-zh_CN")
    finally:
        language.apply("en")
    view.close()
    view.deleteLater()


async def test_health_view_without_a_sync_service_has_no_sync_section(desktop: Desktop, tmp_path: Path) -> None:
    sync = SyncBridge(None, desktop.state, None, desktop.bridge)
    try:
        view = HealthView(desktop.bridge, desktop.actions)
        assert view.sync_section is None
        tray = TrayIcon(desktop.bridge, desktop.actions)
        assert not tray.act_sync.isEnabled()
        assert not await sync.run_now(lambda *_a: None)
        tray.deleteLater()
        view.deleteLater()
    finally:
        sync.close()
        sync.deleteLater()


# --- Other devices --------------------------------------------------------------------------------


async def test_other_devices_listed_read_only_and_continued_here(desktop: Desktop, fake: FakeSync,
                                                                 tmp_path: Path) -> None:
    await _other_device(tmp_path, desktop, "laptop", [
        ("agent:main:desktop-11111111", "How do I bake bread?", "Flour, water, salt, yeast."),
        ("agent:main:desktop-22222222", "旅行计划：京都三天", "第一天：清水寺。"),
    ])
    await _other_device(tmp_path, desktop, "office-pc", [
        ("agent:main:main", "Summarise the meeting", "Three decisions were made."),
    ])
    widget = SessionListWidget(desktop.bridge, desktop.actions)
    widget.resize(300, 620)
    widget.show()
    section = widget.synced
    assert section is not None
    await wait_until(lambda: section.sessions, what="synced sessions listed")
    rows = dict(section.rows())
    assert rows["laptop (2)"] == ["旅行计划：京都三天", "How do I bake bread?"]
    assert rows["office-pc (1)"] == ["Summarise the meeting"]
    assert section.header.text() == "Other devices (3)" and section.isVisible()
    save_screenshot(widget, "sessions-other-devices")

    section.header.click()  # folds
    assert section.tree.isHidden()
    section.header.click()
    assert not section.tree.isHidden()

    bread = next(s for s in section.sessions if s.title == "How do I bake bread?")
    viewer = section.open(bread)
    shown = await wait_signal(viewer.historyShown)
    assert shown == (2,)
    assert [m.role for m in viewer.conversation.messages()] == ["user", "assistant"]  # type: ignore[attr-defined]
    assert "From laptop" in viewer.origin.text() and "2 message(s)." in viewer.origin.text()
    save_screenshot(viewer, "synced-viewer")
    opened: list[str] = []
    desktop.actions.openChat.connect(opened.append)
    key = await viewer.start_continue()
    assert key is not None and opened == [key]
    history = await desktop.bridge.call("chat.history", {"sessionKey": key})
    assert [m["content"][0]["text"] for m in history["messages"]] == ["How do I bake bread?",
                                                                      "Flour, water, salt, yeast."]
    # The gateway announces the new session (sessions.changed): the list shows it by itself.
    await wait_until(lambda: widget.row(key) is not None, what="the continued session in the list")
    row = widget.row(key)
    assert row is not None and row.get("label") == "How do I bake bread? (from laptop)"

    # A pull that brings files (the service's status says so) refreshes the section.
    await _other_device(tmp_path, desktop, "laptop", [
        ("agent:main:desktop-11111111", "How do I bake bread?", "Flour, water, salt, yeast."),
        ("agent:main:desktop-22222222", "旅行计划：京都三天", "第一天：清水寺。"),
        ("agent:main:desktop-55555555", "New on the laptop", "Indeed."),
    ])
    loaded = wait_signal(section.loaded)
    fake.set(last_attempt_at=time.time(), last_report={"filesSent": 0, "bytesSent": 0, "filesReceived": 2,
                                                       "bytesReceived": 900, "errors": []})
    assert await loaded == (4,)
    assert "New on the laptop" in dict(section.rows())["laptop (3)"]

    language = UiLanguage()
    language.apply("zh_CN")
    try:
        await wait_until(lambda: widget.new_button.text() != "New chat", what="retranslated")
        save_screenshot(widget, "sessions-other-devices-zh_CN")
    finally:
        language.apply("en")
    widget.close()
    widget.deleteLater()


async def test_continuing_a_session_that_vanished_says_so(desktop: Desktop, fake: FakeSync, tmp_path: Path) -> None:
    await _other_device(tmp_path, desktop, "laptop", [
        ("agent:main:desktop-11111111", "Plan the trip", "Day 1: Kyoto."),
    ])
    sync = SyncBridge.of(desktop.bridge)
    assert sync is not None
    widget = SessionListWidget(desktop.bridge, desktop.actions)
    section = widget.synced
    assert section is not None
    await wait_until(lambda: section.sessions, what="synced sessions listed")
    viewer = section.open(section.sessions[0])
    await wait_signal(viewer.historyShown)
    import shutil

    shutil.rmtree(desktop.state / "synced")
    assert await viewer.start_continue() is None
    assert "no longer in the synced sessions" in viewer.error_text()
    assert viewer.continue_button.isEnabled()
    viewer.close()
    await section.refresh()
    assert section.sessions == [] and section.isHidden()
    widget.deleteLater()
