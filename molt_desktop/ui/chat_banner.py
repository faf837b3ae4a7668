"""The chat window's remote banner: a slim bar above the conversation while a server gateway answers.

`RemoteBanner(bridge, actions)` follows `bridge.statusChanged` and `bridge.switched` by itself:
it is shown while the pool's active endpoint is a remote one ("Using the server gateway
“server” (wss://…): the local gateway is unreachable.") and hidden on the local gateway. Its
Details link asks the app for the health window (`actions.openHealth`). Colours come from the
light or dark palette (style.is_dark) and follow a live switch.

Not here: the wording (switch_words.py), the rest of the chat window (chat_window.py).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from molt_desktop.ui.actions import DesktopActions
from molt_desktop.ui.bridge import GatewayBridge
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.switch_words import remote_sentence, status_reason

# (background, border, text, link) of the bar: a calm blue-grey "information" tone, readable in both.
LIGHT = ("#eef4ff", "#b6cdf5", "#1f2d46", "#0b57d0")
DARK = ("#1c2736", "#34507a", "#dbe6f7", "#8ab4f8")


class RemoteBanner(QFrame):
    def __init__(self, bridge: GatewayBridge, actions: DesktopActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.actions = actions
        self._status: Any = bridge.status
        self._dark: bool | None = None
        self.setObjectName("remoteBanner")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 6, 10, 6)
        row.setSpacing(8)
        self.icon_label = QLabel()
        self.icon_label.setObjectName("remoteBannerIcon")
        self.text_label = QLabel()
        self.text_label.setObjectName("remoteBannerText")
        self.text_label.setWordWrap(True)
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.details_button = QToolButton()
        self.details_button.setObjectName("remoteBannerDetails")
        self.details_button.setAutoRaise(True)
        self.details_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.details_button.clicked.connect(self.actions.openHealth.emit)
        row.addWidget(self.icon_label, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.text_label, 1)
        row.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignVCenter)
        bridge.statusChanged.connect(self.show_status)
        bridge.switched.connect(self._switched)
        self._apply_colors()
        app = QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.retranslate()
        self.show_status(bridge.status)

    @property
    def text(self) -> str:
        return self.text_label.text()

    def show_status(self, status: Any) -> None:
        """Show the bar for a remote endpoint (with the reason of the switch that led there), else hide it."""
        self._status = status
        remote = getattr(status, "kind", None) == "remote"
        if remote:
            code, words = status_reason(status, self.bridge.last_switch)
            name = str(getattr(status, "endpoint_id", "") or "")
            url = str(getattr(status, "url", "") or "")
            self.text_label.setText(remote_sentence(name, url, code, words))
            error = getattr(status, "error", None)
            self.text_label.setToolTip(tr("Not connected: {error}").format(error=error)
                                       if not getattr(status, "connected", True) and error else "")
        self.setVisible(remote)

    def _switched(self, _event: Any) -> None:
        self.show_status(self._status)

    def retranslate(self) -> None:
        self.details_button.setText(tr("Details"))
        self.details_button.setToolTip(tr("Show the health of every gateway"))
        if getattr(self._status, "kind", None) == "remote":
            self.show_status(self._status)

    def _apply_colors(self) -> None:
        from molt_desktop.ui.style import is_dark, themed_icon

        dark = is_dark()
        if dark == self._dark:
            return  # a stylesheet change sends PaletteChange too; only a light/dark switch matters
        self._dark = dark
        background, border, text, link = DARK if dark else LIGHT
        self.setStyleSheet(
            f"QFrame#remoteBanner {{ background: {background}; border: none; border-bottom: 1px solid {border}; }}"
            f"QLabel#remoteBannerText {{ color: {text}; background: transparent; }}"
            f"QToolButton#remoteBannerDetails {{ color: {link}; text-decoration: underline; border: none;"
            f" background: transparent; padding: 2px 4px; }}"
            f"QToolButton#remoteBannerDetails:hover {{ color: {text}; }}")
        self.icon_label.setPixmap(themed_icon("tray-remote").pixmap(18, 18))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        # Once its stylesheet is polished, a widget no longer hears of a new application palette;
        # the application itself always does.
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            self._apply_colors()
        return False


__all__ = ["RemoteBanner"]
