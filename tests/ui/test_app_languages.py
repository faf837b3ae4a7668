"""The windows in Simplified Chinese and Japanese: switched live, CJK rendered (screenshots).

Every window is built in English, then the language changes under it (as the tray's Language
menu does): the visible texts must change without rebuilding the window, and the screenshots
(.cache/screenshots/*-zh_CN.png, *-ja.png) show the CJK text.
"""

from __future__ import annotations

import uuid

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from molt_desktop.ui.chat_window import ChatWindow
from molt_desktop.ui.i18n import UiLanguage
from molt_desktop.ui.settings_dialog import SettingsDialog
from molt_desktop.ui.tray import TrayIcon
from tests.ui.conftest import Desktop, save_screenshot, wait_signal, wait_until


def _texts(widget: QWidget) -> set[str]:
    found = {w.text() for w in widget.findChildren(QLabel) + widget.findChildren(QAbstractButton) if w.text()}
    return found | {widget.windowTitle()}


def _has_cjk(texts: set[str]) -> bool:
    return any("\u3040" <= ch <= "\u9fff" for text in texts for ch in text)


def _ink(path: str) -> int:
    """How many pixels of the screenshot are not the background colour (text was drawn)."""
    from PySide6.QtGui import QImage

    image = QImage(path)
    background = QColor(image.pixel(image.width() - 2, image.height() - 2))
    return sum(1 for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)
               if QColor(image.pixel(x, y)) != background)


async def test_chat_window_switches_language_live(desktop: Desktop, english: UiLanguage, qtbot) -> None:
    window = ChatWindow(desktop.bridge, desktop.actions)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    key = f"agent:main:desktop-{uuid.uuid4().hex[:8]}"
    desktop.fake.behavior.text = "你好！这是一个**中文**回复。日本語も表示できます。"
    opened = wait_signal(window.sessionOpened, 10, check=lambda opened_key: opened_key == key)
    window.open_session(key)
    await opened
    finished = wait_signal(window.replyFinished, 20)
    window.input.setPlainText("请用中文介绍一下你自己。")
    window.send()
    assert (await finished)[1] == "final"
    await wait_until(lambda: window.session_list.rows(), what="the session in the list")
    await wait_until(lambda: not window.usage_label.text().startswith("0 "), what="the session's usage")
    before = _texts(window)
    english.apply("zh_CN")  # Qt posts LanguageChange: the windows change on the next loop turn
    zh = await wait_until(lambda: _texts(window) != before and _texts(window), what="Chinese texts")
    assert _has_cjk(zh - before)
    path = save_screenshot(window, "chat-zh_CN")
    assert _ink(str(path)) > 2000
    english.apply("ja")
    ja = await wait_until(lambda: _texts(window) != zh and _texts(window), what="Japanese texts")
    assert _has_cjk(ja)
    save_screenshot(window, "chat-ja")
    english.apply("en")
    try:
        await wait_until(lambda: _texts(window) == before, what="English again")
    except AssertionError:
        raise AssertionError(f"differs: {sorted(_texts(window) ^ before)}") from None


async def test_settings_and_tray_menu_in_chinese_and_japanese(desktop: Desktop, english: UiLanguage, qtbot) -> None:
    dialog = SettingsDialog(desktop.bridge, desktop.actions)
    qtbot.addWidget(dialog)
    dialog.resize(900, 640)
    dialog.show()
    await dialog.reload()
    before = _texts(dialog)
    tray = TrayIcon(desktop.bridge, desktop.actions)
    menu_before = [a.text() for a in tray.menu().actions() if a.text()]
    english.apply("zh_CN")
    await wait_until(lambda: _has_cjk(_texts(dialog) - before), what="Chinese settings")
    dialog.show_page("providers")
    save_screenshot(dialog, "settings-providers-zh_CN")
    dialog.show_page("general")
    save_screenshot(dialog, "settings-general-zh_CN")
    menu_zh = await wait_until(lambda: _has_cjk({a.text() for a in tray.menu().actions()})
                               and [a.text() for a in tray.menu().actions() if a.text()], what="Chinese tray menu")
    assert len(menu_zh) == len(menu_before)
    zh = _texts(dialog)
    english.apply("ja")
    await wait_until(lambda: _texts(dialog) != zh, what="Japanese settings")
    dialog.show_page("providers")
    save_screenshot(dialog, "settings-providers-ja")
    english.apply("en")
    await wait_until(lambda: _texts(dialog) == before, what="English settings again")
    tray.hide()
