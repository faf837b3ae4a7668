"""The Test button of an alert channel on Settings > Alerts, and its answer.

`ChannelTest(channel, bridge)` is a row with a Test button and a line that says "Delivered" or why
not. A click saves nothing: it asks the app's health monitor (`AlertsBridge.test(channel)`) to send
a test alert through the channel as the saved settings configure it. `update_from(draft)` reads
the saved config: a channel that is off (or, for e-mail and webhooks, not set up) cannot be tested
and the line says what to do first. Without a health monitor in the app the row says so.

Not here: the form of the Alerts page (settings_sync_alerts.py), the sending (monitor/).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from molt_desktop.logs import get_logger
from molt_desktop.ui.alerts_bridge import AlertsBridge
from molt_desktop.ui.bridge import GatewayBridge, describe_error
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.settings_common import ERROR_COLOR, OK_COLOR
from molt_desktop.ui.settings_store import ConfigDraft

log = get_logger("ui")


def channel_ready(channel: str, draft: ConfigDraft) -> bool:
    """Whether the saved config has the channel on and set up (as its sink's `enabled` says)."""
    section = f"alerts.{channel}"
    enabled = draft.effective(f"{section}.enabled")
    if channel == "desktop":
        return enabled is not False  # on unless turned off
    if not enabled:
        return False
    if channel == "email":
        return bool(draft.effective(f"{section}.smtp")) and bool(draft.effective(f"{section}.to"))
    return bool(draft.effective(f"{section}.url"))


def _off_hint(channel: str) -> str:
    return {
        "desktop": tr("Turn on desktop notifications and save, then test them."),
        "email": tr("Turn on e-mail alerts, enter the SMTP server and a recipient, and save, then test them."),
        "webhook": tr("Turn on the webhook, enter its URL, and save, then test it."),
    }.get(channel, "")


class ChannelTest(QWidget):
    def __init__(self, channel: str, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.channel = channel
        self.bridge = bridge
        self.alerts = AlertsBridge.of(bridge)
        self.ready = False
        self.running = False
        self._result: tuple[str, str] | None = None  # (kind "ok" | "error" | "hint", text) of the last answer
        self.setObjectName(f"alertsTest-{channel}")
        # The answer goes under the button: a long error wraps over the row's full width.
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        row = QHBoxLayout()
        self.button = QPushButton()
        self.button.setObjectName(f"alertsTestButton-{channel}")
        self.button.clicked.connect(self.run)
        self.result = QLabel()
        self.result.setObjectName(f"alertsTestResult-{channel}")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row.addWidget(self.button)
        row.addStretch(1)
        column.addLayout(row)
        column.addWidget(self.result)
        column.addStretch(1)  # spare height below the answer, not between it and the button
        self.retranslate()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.button.setText(tr("Sending…") if self.running else tr("Test"))
        self.button.setToolTip(tr("Sends a test alert with the saved settings; nothing is saved."))
        self._show()

    def update_from(self, draft: ConfigDraft) -> None:
        self.ready = channel_ready(self.channel, draft)
        if not self.ready or (self._result is not None and self._result[0] == "hint"):
            self._result = None  # an answer about settings that are no longer saved
        self._show()

    def text(self) -> str:
        return self.result.text()

    def run(self) -> None:
        if self.alerts is None or not self.ready or self.running:
            return
        self.running = True
        self._result = None
        self.retranslate()
        log.info("alert channel %s: test", self.channel)
        self.bridge.spawn(self.alerts.test(self.channel), on_result=self._done, on_error=self._failed)

    def _done(self, error: Any) -> None:
        self.running = False
        if error is None:
            self._result = ("ok", "")
        elif error == "disabled":
            self._result = ("hint", "")
        else:
            self._result = ("error", str(error))
        log.info("alert channel %s test: %s", self.channel, "delivered" if error is None else error)
        self.retranslate()

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self._result = ("error", describe_error(exc).message)
        log.warning("alert channel %s test failed: %s", self.channel, exc)
        self.retranslate()

    def _show(self) -> None:
        available = self.alerts is not None and self.ready
        self.button.setEnabled(available and not self.running)
        color = ""
        if self.alerts is None:
            text = tr("Tests need the desktop app's health monitor, which is not running.")
        elif self.running:
            text = tr("Sending a test alert…")
        elif self._result is not None and self._result[0] == "ok":
            text, color = tr("Delivered"), OK_COLOR
        elif self._result is not None and self._result[0] == "error":
            text, color = tr("Not delivered: {error}").format(error=self._result[1]), ERROR_COLOR
        elif not self.ready or (self._result is not None and self._result[0] == "hint"):
            text = _off_hint(self.channel)
        else:
            text = ""
        self.result.setText(text)
        self.result.setStyleSheet(f"color: {color};" if color else "")
        self.result.setProperty("muted", not color)


__all__ = ["ChannelTest", "channel_ready"]
