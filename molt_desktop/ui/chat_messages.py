"""The conversation of the chat window: message bubbles, error cards, and the scrolling list.

`MessageWidget` is one message: a header (who, which model, token usage, a status such as
"Thinking…" or "Stopped", a Copy button) over a `MarkdownView` body, plus image thumbnails.
`ErrorCard` shows a failed reply in words a person can act on, with the button for its next
step (Retry or Open Settings). `ConversationView` stacks them in a scroll area that follows
the newest text while the reader is at the bottom.

Not here: talking to the gateway (chat_window.py), Markdown rendering (markdown_view.py).
"""

from __future__ import annotations

import base64
import re
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QGuiApplication, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from molt_desktop.ui.bridge import NEXT_RETRY, NEXT_SETTINGS, UserError
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.markdown_view import MarkdownView

_MESSAGE_ID = re.compile(r"\n?\[message_id: [^\]\n]*\]\s*$")
THUMBNAIL = 72

STYLESHEET = """
QFrame#userMessage { background: palette(alternate-base); border: 1px solid palette(midlight);
    border-radius: 12px; }
QFrame#assistantMessage { background: transparent; border: none; }
QFrame#chatError { border: 1px solid #d1242f; border-radius: 10px; background: rgba(209, 36, 47, 0.07); }
QLabel#messageRole { font-weight: 600; }
QLabel#messageMeta, QLabel#messageStatus, QLabel#messageOrigin { color: palette(placeholder-text); }
QLabel#messageOrigin { font-style: italic; }
QWidget#conversationContent { background: palette(base); }
"""


def chat_icon(name: str) -> QIcon:
    """An icon of resources/icons/ drawn in the palette's text colour when the style offers it."""
    try:
        from molt_desktop.ui.style import themed_icon
    except ImportError:  # the style module is optional for these widgets
        from molt_desktop.ui.resources import icon

        return icon(name)
    return themed_icon(name)


def message_text(message: dict[str, Any]) -> str:
    """The text of a history/event message (content is a string or a list of blocks)."""
    content = message.get("content")
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        text = "\n".join(str(b.get("text") or "") for b in content
                         if isinstance(b, dict) and b.get("type") == "text")
    else:
        text = str(message.get("text") or "")
    if message.get("role") == "user":
        text = _MESSAGE_ID.sub("", text)  # the gateway's own suffix on stored user messages
    return text


def message_images(message: dict[str, Any]) -> list[bytes]:
    content = message.get("content")
    images: list[bytes] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "image" and isinstance(block.get("data"), str):
                try:
                    images.append(base64.b64decode(block["data"]))
                except ValueError:
                    continue
    return images


def usage_cost(usage: Any) -> float:
    cost = usage.get("cost") if isinstance(usage, dict) else None
    total = cost.get("total") if isinstance(cost, dict) else None
    return float(total) if isinstance(total, (int, float)) else 0.0


def thumbnail(data: bytes, size: int = THUMBNAIL) -> QPixmap:
    image = QImage.fromData(data)
    if image.isNull():
        return QPixmap()
    return QPixmap.fromImage(image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))


class MessageWidget(QFrame):
    """One message. Assistant messages stream through `append()`/`set_text()` and end with
    `finish()`, `mark_stopped()` or `mark_failed()`."""

    def __init__(self, role: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.run_id = ""
        self.model = ""
        self.usage: dict[str, Any] = {}
        self.origin: dict[str, Any] | None = None  # where a turn copied into the local history was made
        self.streaming = False
        self.stopped = False
        self._status = ""
        self.setObjectName("userMessage" if role == "user" else "assistantMessage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8) if role == "user" else layout.setContentsMargins(4, 6, 4, 6)
        layout.setSpacing(4)
        header = QHBoxLayout()
        header.setSpacing(8)
        self.role_label = QLabel()
        self.role_label.setObjectName("messageRole")
        self.meta_label = QLabel()
        self.meta_label.setObjectName("messageMeta")
        self.status_label = QLabel()
        self.status_label.setObjectName("messageStatus")
        self.status_label.hide()
        self.origin_label = QLabel()
        self.origin_label.setObjectName("messageOrigin")
        self.origin_label.hide()
        self.copy_button = QToolButton()
        self.copy_button.setObjectName("copyMessageButton")
        self.copy_button.setIcon(chat_icon("copy"))
        self.copy_button.setAutoRaise(True)
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        header.addWidget(self.role_label)
        header.addWidget(self.meta_label)
        header.addWidget(self.status_label)
        header.addWidget(self.origin_label)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        layout.addLayout(header)
        self.images = QHBoxLayout()
        self.images.setSpacing(6)
        self.images.addStretch(1)
        layout.addLayout(self.images)
        self.body = MarkdownView(self)
        self.body.setObjectName("messageBody")
        layout.addWidget(self.body)
        self.retranslate()

    # -- content ---------------------------------------------------------------------------------
    def set_content(self, text: str, images: list[bytes] | None = None) -> None:
        if self.role == "user":
            self.body.set_plain(text)
            # A short message gets a small bubble: as wide as its longest line (it wraps beyond).
            metrics = self.body.fontMetrics()
            longest = max((metrics.horizontalAdvance(line) for line in text.splitlines()), default=0)
            margins = self.layout().contentsMargins()
            self.setMaximumWidth(max(160, longest + margins.left() + margins.right() + 24))
        else:
            self.body.set_markdown(text)
        self.body.setVisible(bool(text) or self.role != "user")
        for data in images or []:
            label = QLabel()
            label.setPixmap(thumbnail(data))
            label.setObjectName("messageImage")
            self.images.insertWidget(self.images.count() - 1, label)

    def markdown(self) -> str:
        return self.body.markdown()

    def append(self, delta: str) -> None:
        if self._status:
            self.set_status("")
        self.body.append(delta)

    def set_text(self, text: str) -> None:
        if self._status and text:
            self.set_status("")
        self.body.set_text(text)

    def finish(self, text: str | None, model: str = "", usage: dict[str, Any] | None = None) -> None:
        self.streaming = False
        self.set_status("")
        self.body.finish(text)
        self.set_meta(model, usage)

    def mark_stopped(self, text: str | None) -> None:
        self.streaming = False
        self.stopped = True
        self.body.finish(text if text else None)
        self.set_status("stopped")

    def mark_failed(self) -> None:
        self.streaming = False
        self.set_status("")
        self.body.finish()

    def set_meta(self, model: str, usage: dict[str, Any] | None) -> None:
        self.model = model
        self.usage = dict(usage or {})
        self._show_meta()

    def set_origin(self, origin: Any) -> None:
        """`origin` of a history message ({endpointId, kind, url, runId}): a turn made on another gateway."""
        self.origin = origin if isinstance(origin, dict) and origin.get("endpointId") else None
        self._show_origin()

    @property
    def status(self) -> str:
        return self._status

    def set_status(self, status: str) -> None:
        """"" (none), "thinking", "preparing_context", "starting_model", "reconnecting" or "stopped"."""
        self._status = status
        self._show_status()

    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self.markdown())

    # -- text --------------------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.role_label.setText(tr("You") if self.role == "user" else tr("Assistant"))
        self.copy_button.setToolTip(tr("Copy this message as Markdown"))
        self._show_meta()
        self._show_status()
        self._show_origin()

    def _show_origin(self) -> None:
        origin = self.origin
        if origin is None:
            self.origin_label.hide()
            return
        name = str(origin.get("endpointId"))
        self.origin_label.setText(tr("via {name}").format(name=name))
        self.origin_label.setToolTip(tr("Made on the gateway “{name}” ({url}) and copied into this computer's "
                                        "history.").format(name=name, url=str(origin.get("url") or "?")))
        self.origin_label.show()

    def _show_meta(self) -> None:
        parts = []
        if self.model:
            parts.append(self.model)
        usage = self.usage
        if usage.get("input") is not None or usage.get("output") is not None:
            parts.append(tr("{input} in · {output} out").format(input=usage.get("input", 0),
                                                                 output=usage.get("output", 0)))
        self.meta_label.setText(" · ".join(str(p) for p in parts))

    def _show_status(self) -> None:
        texts = {
            "thinking": tr("Thinking…"),
            "preparing_context": tr("Preparing the conversation…"),
            "starting_model": tr("Waiting for the model…"),
            "reconnecting": tr("Reconnecting…"),
            "stopped": tr("Stopped"),
        }
        text = texts.get(self._status, "")
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()


class ErrorCard(QFrame):
    """A failed reply or call: the readable message and the button for its next step."""

    retryRequested = Signal()
    settingsRequested = Signal()

    def __init__(self, error: UserError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error = error
        self.setObjectName("chatError")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(10)
        mark = QLabel()
        mark.setPixmap(chat_icon("error").pixmap(20, 20))
        mark.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(mark)
        self.message_label = QLabel(error.message)
        self.message_label.setObjectName("errorMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if error.detail and error.detail not in error.message:
            self.message_label.setToolTip(error.detail)
        layout.addWidget(self.message_label, 1)
        self.action_button = QPushButton()
        self.action_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        if error.next_step == NEXT_RETRY:
            self.action_button.setObjectName("retryButton")
            self.action_button.setIcon(chat_icon("retry"))
            self.action_button.clicked.connect(self.retryRequested)
        elif error.next_step == NEXT_SETTINGS:
            self.action_button.setObjectName("settingsButton")
            self.action_button.setIcon(chat_icon("settings"))
            self.action_button.clicked.connect(self.settingsRequested)
        else:
            self.action_button.hide()
        layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.retranslate()

    @property
    def next_step(self) -> str:
        return self.error.next_step

    def retranslate(self) -> None:
        if self.error.next_step == NEXT_RETRY:
            self.action_button.setText(tr("Retry"))
        elif self.error.next_step == NEXT_SETTINGS:
            self.action_button.setText(tr("Open Settings"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()


class ConversationView(QScrollArea):
    """The messages of the open session, newest at the bottom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversation")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget()
        content.setObjectName("conversationContent")
        content.setStyleSheet(STYLESHEET)
        self._layout = QVBoxLayout(content)
        self._layout.setContentsMargins(20, 16, 20, 16)
        self._layout.setSpacing(14)
        self._layout.addStretch(1)
        self.setWidget(content)
        self._follow = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)
        self._replies: dict[str, MessageWidget] = {}

    # -- reading -------------------------------------------------------------------------------
    def items(self) -> list[QWidget]:
        out = []
        for index in range(self._layout.count()):
            item = self._layout.itemAt(index)
            widget = item.widget() if item is not None else None
            if widget is not None:
                out.append(getattr(widget, "bubble", widget))
        return out

    def messages(self) -> list[MessageWidget]:
        return [w for w in self.items() if isinstance(w, MessageWidget)]

    def errors(self) -> list[ErrorCard]:
        return [w for w in self.items() if isinstance(w, ErrorCard)]

    def reply(self, run_id: str) -> MessageWidget | None:
        return self._replies.get(run_id)

    def streaming_reply(self) -> MessageWidget | None:
        return next((m for m in reversed(self.messages()) if m.streaming), None)

    # -- changing ------------------------------------------------------------------------------
    def clear(self) -> None:
        self._replies.clear()
        while self._layout.count() > 1:
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self._follow = True

    def load(self, messages: list[dict[str, Any]]) -> None:
        """Show a chat.history message list (user and assistant messages only)."""
        self.setUpdatesEnabled(False)
        try:
            self.clear()
            for message in messages:
                role = message.get("role")
                if role not in ("user", "assistant"):
                    continue
                text = message_text(message)
                images = message_images(message) if role == "user" else []
                if not text.strip() and not images:
                    continue
                widget = self.add_message(str(role), text, images)
                widget.set_origin(message.get("origin"))
                if role == "assistant":
                    model = message.get("model")
                    widget.set_meta(str(model) if model else "", message.get("usage"))
        finally:
            self.setUpdatesEnabled(True)
        self.scroll_to_bottom()

    def add_message(self, role: str, text: str, images: list[bytes] | None = None) -> MessageWidget:
        widget = MessageWidget(role)
        widget.set_content(text, images)
        self._add(widget, right=role == "user")
        return widget

    def begin_reply(self, run_id: str, status: str = "thinking") -> MessageWidget:
        widget = MessageWidget("assistant")
        widget.run_id = run_id
        widget.streaming = True
        widget.set_status(status)
        self._replies[run_id] = widget
        self._follow = True
        self._add(widget)
        return widget

    def add_error(self, error: UserError) -> ErrorCard:
        card = ErrorCard(error)
        self._follow = True
        self._add(card)
        return card

    def remove(self, widget: QWidget) -> None:
        for index in range(self._layout.count()):
            item = self._layout.itemAt(index)
            holder = item.widget() if item is not None else None
            if holder is not None and getattr(holder, "bubble", holder) is widget:
                self._layout.takeAt(index)
                holder.deleteLater()
                break
        for run_id, reply in list(self._replies.items()):
            if reply is widget:
                del self._replies[run_id]

    def remove_errors(self) -> None:
        for card in self.errors():
            self.remove(card)

    def _add(self, widget: QWidget, right: bool = False) -> None:
        holder: QWidget = widget
        if right:
            # The user's bubbles keep to the right, at most ~80% of the width.
            holder = QWidget()
            row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            row.addStretch(1)
            row.addWidget(widget, 4)
            holder.bubble = widget  # type: ignore[attr-defined]
        self._layout.insertWidget(self._layout.count() - 1, holder)

    # -- following the newest text ---------------------------------------------------------
    def scroll_to_bottom(self) -> None:
        self._follow = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 24

    def _range_changed(self, _low: int, high: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(high)
