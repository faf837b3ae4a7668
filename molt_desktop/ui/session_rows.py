"""The pieces of the session list: how a row is painted, relative times, and the notice bar.

What lives here: `relative_time()` ("5 min ago"), `RowDelegate` (two lines per session: title
with a pin mark, then when it was last active; the rename editor sits on the title line) and
`NoticeBar` (a dismissable message under the list with an optional action such as Retry or
Open Settings). What does not: loading and changing sessions (session_list.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDateTime, QLocale, QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QWidget,
)

from molt_desktop.ui.bridge import NEXT_RETRY, NEXT_SETTINGS, describe_error
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.style import themed_icon

KEY_ROLE = Qt.ItemDataRole.UserRole
ERROR_COLOR = "#cf222e"


def relative_time(ms: Any, now: float | None = None) -> str:
    """"just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", else the date."""
    if not isinstance(ms, (int, float)) or isinstance(ms, bool) or ms <= 0:
        return ""
    now = time.time() if now is None else now
    seconds = max(0.0, round(now * 1000 - ms) / 1000)  # whole ms: float noise must not turn 5 min into 4
    if seconds < 60:
        return tr("just now")
    if seconds < 3600:
        return tr("%n min ago", None, int(seconds // 60))
    if seconds < 86400:
        return tr("%n h ago", None, int(seconds // 3600))
    if seconds < 2 * 86400:
        return tr("yesterday")
    if seconds < 7 * 86400:
        return tr("%n days ago", None, int(seconds // 86400))
    return QLocale().toString(QDateTime.fromMSecsSinceEpoch(int(ms)).date(), QLocale.FormatType.ShortFormat)


class RowDelegate(QStyledItemDelegate):
    """Two lines per session: the title (with a pin mark) and, muted, when it was last active."""

    def __init__(self, owner: Any) -> None:
        super().__init__(owner)
        self._owner = owner

    def _lines(self, option: QStyleOptionViewItem) -> tuple[QRect, QRect]:
        fm = option.fontMetrics
        r = option.rect.adjusted(10, 6, -10, -6)
        title = QRect(r.left(), r.top(), r.width(), fm.height())
        return title, QRect(r.left(), title.bottom() + 3, r.width(), fm.height())

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802 - Qt's name
        return QSize(160, option.fontMetrics.height() * 2 + 15)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        row = self._owner.row(index.data(KEY_ROLE)) or {}
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorGroup.Active if opt.state & QStyle.StateFlag.State_Active else QPalette.ColorGroup.Inactive
        main = opt.palette.color(group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = main if selected else opt.palette.color(group, QPalette.ColorRole.PlaceholderText)
        title_rect, time_rect = self._lines(opt)
        painter.save()
        if row.get("pinned"):
            size = opt.fontMetrics.height()
            themed_icon("pin").paint(painter, QRect(title_rect.right() - size + 1, title_rect.top(), size, size))
            title_rect.setRight(title_rect.right() - size - 4)
        font = QFont(opt.font)
        font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(font)
        painter.setPen(main)
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, title_rect.width()))
        painter.setFont(opt.font)
        painter.setPen(muted)
        painter.drawText(time_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         relative_time(row.get("updatedAt")))
        painter.restore()

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> None:  # noqa: N802 - Qt's name
        title_rect, _ = self._lines(option)
        editor.setGeometry(title_rect.adjusted(-4, -3, 4, 3))


class NoticeBar(QWidget):
    """One message at a time: an error (red) or information, an optional action button, and ×."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QPushButton()
        self.action.clicked.connect(self._clicked)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 4, 4, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.action, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self._on_action: Callable[[], Any] | None = None
        self.hide()
        self.retranslate()

    @property
    def on_action(self) -> Callable[[], Any] | None:
        return self._on_action

    def show_message(self, text: str, *, error: bool = False, detail: str = "", action: str = "",
                     on_action: Callable[[], Any] | None = None) -> None:
        self.label.setText(text)
        self.label.setToolTip(detail)
        self.label.setStyleSheet(f"color: {ERROR_COLOR};" if error else "")
        self._on_action = on_action
        self.action.setText(action)
        self.action.setVisible(bool(action))
        self.show()

    def show_error(self, error: Any, *, retry: Callable[[], Any] | None = None,
                   open_settings: Callable[[], Any] | None = None) -> None:
        """A failed call as a readable message with its next step (Retry, Open Settings)."""
        problem = describe_error(error)
        if problem.next_step == NEXT_SETTINGS and open_settings is not None:
            self.show_message(problem.message, error=True, detail=problem.detail, action=tr("Open Settings"),
                              on_action=open_settings)
        elif problem.next_step == NEXT_RETRY and retry is not None:
            self.show_message(problem.message, error=True, detail=problem.detail, action=tr("Retry"), on_action=retry)
        else:
            self.show_message(problem.message, error=True, detail=problem.detail)

    def text(self) -> str:
        return self.label.text() if not self.isHidden() else ""

    def dismiss(self) -> None:
        self._on_action = None
        self.hide()

    def _clicked(self) -> None:
        action = self._on_action
        self.dismiss()
        if action is not None:
            action()

    def retranslate(self) -> None:
        self.close_button.setToolTip(tr("Dismiss"))
