"""The chat window's composer: the message box, its attached images and its buttons.

`Composer` holds the AttachmentStrip, the Attach button, the ChatInput and the Send / Stop
buttons (only one of them shows: Stop while a reply streams, `set_streaming()`). It asks the
window to send or stop through its signals, and takes images from the file chooser, a paste
or a drop.

Not here: what sending means (chat_window.py), the input box and attachments themselves
(chat_input.py).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QVBoxLayout, QWidget

from molt_desktop.ui.chat_input import AttachmentStrip, ChatInput, choose_images
from molt_desktop.ui.chat_messages import chat_icon
from molt_desktop.ui.i18n import tr


class Composer(QWidget):
    """Signals: `sendRequested()` (Enter or Send), `stopRequested()` (Stop)."""

    sendRequested = Signal()
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatComposer")
        box = QVBoxLayout(self)
        box.setContentsMargins(16, 8, 16, 12)
        box.setSpacing(6)
        self.attachments = AttachmentStrip()
        box.addWidget(self.attachments)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.attach_button = QToolButton()
        self.attach_button.setObjectName("attachButton")
        self.attach_button.setIcon(chat_icon("attach"))
        self.attach_button.setAutoRaise(True)
        self.attach_button.clicked.connect(self.choose_images)
        row.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.input = ChatInput()
        self.input.submitted.connect(self.sendRequested)
        self.input.imagesAttached.connect(self.attachments.add)
        row.addWidget(self.input, 1)
        self.send_button = QToolButton()
        self.send_button.setObjectName("sendButton")
        self.send_button.setIcon(chat_icon("send"))
        self.send_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.send_button.clicked.connect(self.sendRequested)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.stop_button = QToolButton()
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setIcon(chat_icon("stop"))
        self.stop_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.stop_button.clicked.connect(self.stopRequested)
        self.stop_button.hide()
        row.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignBottom)
        box.addLayout(row)
        self.retranslate()

    def set_streaming(self, streaming: bool) -> None:
        """Stop (enabled) while a reply streams, Send otherwise."""
        self.stop_button.setVisible(streaming)
        self.stop_button.setEnabled(True)
        self.send_button.setVisible(not streaming)

    def choose_images(self) -> None:
        choose_images(self.window(), self.attachments.add)

    def retranslate(self) -> None:
        self.attach_button.setToolTip(tr("Attach an image (you can also paste or drop one)"))
        self.send_button.setText(tr("Send"))
        self.send_button.setToolTip(tr("Send (Enter)"))
        self.stop_button.setText(tr("Stop"))
        self.stop_button.setToolTip(tr("Stop the reply (Esc)"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
