"""The app's verbs as Qt signals: what the tray, menus and windows ask the app to do.

Widgets emit these; `qt_app.DesktopApp` connects them to the windows it owns. A widget under
test is given a bare `DesktopActions` and the test checks which request it made.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class DesktopActions(QObject):
    openChat = Signal(str)  # a session key; "" opens the window on the current session
    toggleChat = Signal()
    newChat = Signal()
    openSettings = Signal(str)  # a settings page id ("providers", "gateway", ...); "" for the first
    openHealth = Signal()
    syncNow = Signal()
    setLanguage = Signal(str)  # "auto", "en", "zh_CN", "ja"
    quit = Signal()
