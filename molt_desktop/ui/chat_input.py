"""Where the user writes: the message box and the images attached to the next message.

`ChatInput` is a QPlainTextEdit where Enter sends and Shift+Enter starts a new line. While an
input method is composing (Chinese pinyin, Japanese kana-kanji: the preedit string is not
empty) Enter belongs to the input method and never sends. Pasting or dropping an image (image
data, or a local image file) attaches it instead of inserting text: `imagesAttached` carries
`ImageAttachment`s, which `AttachmentStrip` shows as removable thumbnail chips.

Not here: sending (chat_window.py).
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QMimeData,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QImage, QInputMethodEvent, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QWidget,
)

from molt_desktop.ui.chat_messages import chat_icon, thumbnail
from molt_desktop.ui.i18n import tr

MAX_IMAGE_BYTES = 5_000_000  # what the gateway accepts per attachment, decoded
MAX_IMAGE_SIDE = 2048  # larger images are scaled down before sending
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


@dataclass
class ImageAttachment:
    data: bytes
    mime: str
    name: str

    def to_param(self) -> dict[str, str]:
        """The chat.send attachment (OpenClaw's ChatSendParams shape)."""
        return {"type": "image", "mimeType": self.mime, "fileName": self.name,
                "content": base64.b64encode(self.data).decode("ascii")}


def _encode(image: QImage, fmt: str) -> bytes:
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, fmt, 90 if fmt == "JPEG" else -1)
    buffer.close()
    return bytes(array.data())


def attachment_from_image(image: QImage, name: str = "pasted-image.png") -> ImageAttachment | None:
    """A pasted image as PNG; a big one scaled down (and as JPEG if PNG stays too large)."""
    if image.isNull():
        return None
    if max(image.width(), image.height()) > MAX_IMAGE_SIDE:
        image = image.scaled(MAX_IMAGE_SIDE, MAX_IMAGE_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    data = _encode(image, "PNG")
    if len(data) <= MAX_IMAGE_BYTES:
        return ImageAttachment(data, "image/png", name)
    jpeg = _encode(image.convertToFormat(QImage.Format.Format_RGB32), "JPEG")
    return ImageAttachment(jpeg, "image/jpeg", Path(name).with_suffix(".jpg").name)


def attachment_from_file(path: Path) -> ImageAttachment | None:
    """A local image file as it is, or re-encoded when it is too big; None if not an image."""
    mime = mimetypes.guess_type(path.name)[0] or ""
    if mime not in IMAGE_TYPES:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    image = QImage.fromData(data)
    if image.isNull():
        return None
    if len(data) <= MAX_IMAGE_BYTES and max(image.width(), image.height()) <= MAX_IMAGE_SIDE:
        return ImageAttachment(data, mime, path.name)
    return attachment_from_image(image, path.with_suffix(".png").name)


def attachments_from_mime(source: QMimeData) -> list[ImageAttachment]:
    """The images in a paste or drop: local image files first, else image data."""
    found: list[ImageAttachment] = []
    if source.hasUrls():
        for url in source.urls():
            if url.isLocalFile():
                attachment = attachment_from_file(Path(url.toLocalFile()))
                if attachment is not None:
                    found.append(attachment)
    if not found and source.hasImage():
        image = source.imageData()
        if isinstance(image, QPixmap):
            image = image.toImage()
        if isinstance(image, QImage):
            attachment = attachment_from_image(image)
            if attachment is not None:
                found.append(attachment)
    return found


def choose_images(parent: QWidget, chosen: Callable[[list[ImageAttachment]], None]) -> QFileDialog:
    """A file dialog (not blocking) for images; `chosen` gets the ones that could be read."""
    dialog = QFileDialog(parent, tr("Attach images"))
    dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
    dialog.setNameFilter(tr("Images (*.png *.jpg *.jpeg *.gif *.webp)"))

    def selected(paths: list[str]) -> None:
        found = [a for a in (attachment_from_file(Path(p)) for p in paths) if a is not None]
        if found:
            chosen(found)

    dialog.filesSelected.connect(selected)
    dialog.open()
    return dialog


def has_images(source: QMimeData) -> bool:
    if source.hasImage():
        return True
    return source.hasUrls() and any(
        url.isLocalFile() and (mimetypes.guess_type(url.toLocalFile())[0] or "") in IMAGE_TYPES
        for url in source.urls())


class ChatInput(QPlainTextEdit):
    """The message box. `submitted` on Enter (not while composing), `imagesAttached(list)` on
    pasted or dropped images."""

    submitted = Signal()
    imagesAttached = Signal(list)

    MIN_LINES = 2
    MAX_LINES = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatInput")
        self.setTabChangesFocus(True)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, True)
        self._preedit = ""
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self.retranslate()
        self._fit_height()

    @property
    def composing(self) -> bool:
        """An input method composition is in progress (its preedit text is not empty)."""
        return bool(self._preedit)

    def text(self) -> str:
        return self.toPlainText()

    def retranslate(self) -> None:
        self.setPlaceholderText(tr("Write a message… (Enter sends, Shift+Enter adds a line)"))

    # -- keys and input methods ----------------------------------------------------------------
    def inputMethodEvent(self, event: QInputMethodEvent) -> None:  # noqa: N802 - Qt's name
        self._preedit = event.preeditString()
        super().inputMethodEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.composing:
                # The input method confirms its candidate with Enter; the text arrives as its
                # commit string. Neither send nor break the line here.
                event.accept()
                return
            modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if modifiers == Qt.KeyboardModifier.ShiftModifier:
                # A new paragraph, not the line separator QPlainTextEdit gives Shift+Enter.
                self.textCursor().insertText("\n")
                self.ensureCursorVisible()
                return
            if modifiers == Qt.KeyboardModifier.NoModifier:
                event.accept()
                self.submitted.emit()
                return
        super().keyPressEvent(event)

    # -- images ----------------------------------------------------------------------------------
    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802 - Qt's name
        return has_images(source) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt's name
        if has_images(source):
            images = attachments_from_mime(source)
            if images:
                self.imagesAttached.emit(images)
                return
        super().insertFromMimeData(source)

    def _fit_height(self, _size: object = None) -> None:
        line = self.fontMetrics().lineSpacing()
        lines = max(self.MIN_LINES, min(self.MAX_LINES, int(self.document().size().height())))
        margins = self.contentsMargins()
        frame = int(self.document().documentMargin() * 2) + margins.top() + margins.bottom() + 10
        self.setFixedHeight(lines * line + frame)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()


class AttachmentChip(QFrame):
    removeRequested = Signal(object)

    def __init__(self, attachment: ImageAttachment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.attachment = attachment
        self.setObjectName("attachmentChip")
        self.setStyleSheet("QFrame#attachmentChip { border: 1px solid palette(mid); border-radius: 6px; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 2, 4)
        layout.setSpacing(2)
        picture = QLabel()
        picture.setPixmap(thumbnail(attachment.data, 40))
        picture.setToolTip(attachment.name)
        layout.addWidget(picture)
        self.remove_button = QToolButton()
        self.remove_button.setObjectName("removeAttachmentButton")
        self.remove_button.setIcon(chat_icon("delete"))
        self.remove_button.setIconSize(QSize(14, 14))
        self.remove_button.setAutoRaise(True)
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        self.retranslate()

    def retranslate(self) -> None:
        self.remove_button.setToolTip(tr("Remove this image"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()


class AttachmentStrip(QWidget):
    """The images that go with the next message; hidden while there are none."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentStrip")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._layout.addStretch(1)
        self.hide()

    def chips(self) -> list[AttachmentChip]:
        out = []
        for index in range(self._layout.count()):
            item = self._layout.itemAt(index)
            widget = item.widget() if item is not None else None
            if isinstance(widget, AttachmentChip):
                out.append(widget)
        return out

    def attachments(self) -> list[ImageAttachment]:
        return [chip.attachment for chip in self.chips()]

    def add(self, attachments: list[ImageAttachment]) -> None:
        for attachment in attachments:
            chip = AttachmentChip(attachment)
            chip.removeRequested.connect(self._remove)
            self._layout.insertWidget(self._layout.count() - 1, chip)
        self.setVisible(bool(self.chips()))
        self.changed.emit()

    def clear(self) -> None:
        for chip in self.chips():
            self._layout.removeWidget(chip)
            chip.deleteLater()
        self.hide()
        self.changed.emit()

    def _remove(self, chip: AttachmentChip) -> None:
        self._layout.removeWidget(chip)
        chip.deleteLater()
        self.setVisible(bool(self.chips()))
        self.changed.emit()
