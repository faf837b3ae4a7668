"""The session list's "Other devices" section, and the read-only viewer of one synced session.

`SyncedSection(sync, actions)` sits under the session list: a header that folds it open and
shut, then the other devices' sessions (sync/synced.py, as the last pull left them) grouped by
device name, newest first. They are never changed here. Opening one (double click or Enter)
shows its messages read-only in a `SyncedViewer`, whose "Continue here" copies it into a new
local session (it records where it came from) and asks the app to open that in the chat window.
The section reads the synced folder again when a sync brings files (SyncBridge.syncedChanged),
and hides itself while no other device has any session.

Not here: the local session list (session_list.py), reading and forking (sync/synced.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QPushButton, QToolButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from molt_desktop.logs import get_logger
from molt_desktop.sync.synced import SyncedSession
from molt_desktop.ui.actions import DesktopActions
from molt_desktop.ui.chat_messages import ConversationView
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.resources import icon
from molt_desktop.ui.session_rows import ERROR_COLOR, relative_time
from molt_desktop.ui.style import themed_icon
from molt_desktop.ui.sync_bridge import SyncBridge

log = get_logger("ui")

SESSION_ROLE = Qt.ItemDataRole.UserRole
DEVICE_ROLE = Qt.ItemDataRole.UserRole + 1


class SyncedSection(QWidget):
    """Signals: `loaded(count)` after each read of the synced folder."""

    loaded = Signal(int)

    def __init__(self, sync: SyncBridge, actions: DesktopActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sync = sync
        self.actions = actions
        self.sessions: list[SyncedSession] = []
        self.viewers: list[SyncedViewer] = []
        self._loading: asyncio.Task[Any] | None = None
        self._again = False
        self.setObjectName("syncedSection")
        self.header = QToolButton()
        self.header.setObjectName("syncedHeader")
        self.header.setCheckable(True)
        self.header.setChecked(True)
        self.header.setAutoRaise(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setArrowType(Qt.ArrowType.DownArrow)
        self.header.toggled.connect(self._folded)
        self.tree = QTreeWidget()
        self.tree.setObjectName("syncedTree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.itemActivated.connect(self._activated)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, self.tree.header().ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, self.tree.header().ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(self.tree)
        self.setVisible(False)
        sync.syncedChanged.connect(self.refresh)
        self.retranslate()
        self.refresh()

    # --- loading ------------------------------------------------------------------------------

    def refresh(self) -> asyncio.Task[Any]:
        """Read the synced folder again (overlapping calls are merged into one more)."""
        if self._loading is not None and not self._loading.done():
            self._again = True
            return self._loading
        self._loading = asyncio.ensure_future(self._load_loop())
        return self._loading

    async def _load_loop(self) -> None:
        while True:
            self._again = False
            try:
                sessions = await self.sync.synced()
            except Exception as exc:  # the synced folder is a copy: its trouble never breaks the list
                log.warning("cannot read the synced sessions: %s", exc)
                sessions = []
            self.show_sessions(sessions)
            if not self._again:
                return

    def show_sessions(self, sessions: list[SyncedSession]) -> None:
        self.sessions = sessions
        folded = {self.tree.topLevelItem(i).data(0, DEVICE_ROLE) for i in range(self.tree.topLevelItemCount())
                  if not self.tree.topLevelItem(i).isExpanded()}
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for session in sessions:  # newest first, so devices come in the order of their latest session
            group = groups.get(session.device_name)
            if group is None:
                group = groups[session.device_name] = QTreeWidgetItem(self.tree, [session.device_name, ""])
                group.setData(0, DEVICE_ROLE, session.device_name)
                group.setIcon(0, themed_icon("sync"))
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                group.setFirstColumnSpanned(True)
            item = QTreeWidgetItem(group, [session.title, relative_time(session.updated_at)])
            item.setData(0, SESSION_ROLE, session)
            item.setToolTip(0, tr("{title}\nfrom {device} — open to read it, or continue it here").format(
                title=session.title, device=session.device_name))
        for name, group in groups.items():
            group.setExpanded(name not in folded)
            group.setText(0, tr("{device} (%n)", None, group.childCount()).format(device=name))
        self.setVisible(bool(sessions))
        self._retitle()
        self._fit()
        self.loaded.emit(len(sessions))

    def rows(self) -> list[tuple[str, list[str]]]:
        """(device, titles) in display order (what a reader sees)."""
        return [(self.tree.topLevelItem(i).text(0),
                 [self.tree.topLevelItem(i).child(j).text(0) for j in range(self.tree.topLevelItem(i).childCount())])
                for i in range(self.tree.topLevelItemCount())]

    # --- opening ------------------------------------------------------------------------------

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        session = item.data(0, SESSION_ROLE)
        if isinstance(session, SyncedSession):
            self.open(session)

    def open(self, session: SyncedSession) -> SyncedViewer:
        viewer = SyncedViewer(self.sync, self.actions, session)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.destroyed.connect(lambda _o=None, v=viewer: self.viewers.remove(v) if v in self.viewers else None)
        self.viewers.append(viewer)
        viewer.show()
        if QApplication.platformName() != "offscreen":  # nothing to raise there (and Qt warns)
            viewer.raise_()
            viewer.activateWindow()
        return viewer

    # --- looks --------------------------------------------------------------------------------

    def _folded(self, shown: bool) -> None:
        self.tree.setVisible(shown)
        self.header.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _fit(self) -> None:
        """As tall as its rows, up to a third of the sidebar's usual height (then it scrolls)."""
        rows = sum(1 + (g.childCount() if g.isExpanded() else 0)
                   for g in (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())))
        height = max(1, rows) * max(18, self.tree.sizeHintForRow(0)) + 6
        self.tree.setFixedHeight(min(height, 220))

    def _retitle(self) -> None:
        self.header.setText(tr("Other devices (%n)", None, len(self.sessions)))
        self.header.setToolTip(tr("Sessions of your other computers, copied here by sync. They are read-only; "
                                  "open one to read it or continue it here."))

    def retranslate(self) -> None:
        self._retitle()
        if self.sessions:
            self.show_sessions(self.sessions)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class SyncedViewer(QWidget):
    """One synced session, read-only, with "Continue here". Signal `continued(new key)`."""

    continued = Signal(str)
    historyShown = Signal(int)

    def __init__(self, sync: SyncBridge, actions: DesktopActions, session: SyncedSession,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sync = sync
        self.actions = actions
        self.session = session
        self.setObjectName("syncedViewer")
        self.setWindowIcon(icon("molt-desktop"))
        self.resize(720, 640)
        self.title = QLabel()
        self.title.setObjectName("syncedTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setWeight(font.Weight.DemiBold)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.origin = QLabel()
        self.origin.setProperty("muted", True)
        self.origin.setWordWrap(True)
        self.continue_button = QPushButton(themed_icon("new-chat"), "")
        self.continue_button.setObjectName("syncedContinue")
        self.continue_button.clicked.connect(self.start_continue)
        self.error = QLabel()
        self.error.setObjectName("syncedError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.conversation = ConversationView()
        top = QHBoxLayout()
        heading = QVBoxLayout()
        heading.addWidget(self.title)
        heading.addWidget(self.origin)
        top.addLayout(heading, 1)
        top.addWidget(self.continue_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        # A fixed minimum: the messages arrive after the window is shown and must not resize it.
        layout.setSizeConstraint(QVBoxLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumSize(420, 320)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.conversation, 1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.retranslate()
        self._spawn(self._load())

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _load(self) -> None:
        try:
            messages = await self.sync.history(self.session)
        except Exception as exc:
            self.show_error(str(exc))
            self.historyShown.emit(-1)
            return
        self.conversation.load(messages)
        self.origin.setText(self._origin_text(len(messages)))
        self.historyShown.emit(len(messages))

    def start_continue(self) -> asyncio.Task[Any]:
        self.continue_button.setEnabled(False)
        return self._spawn(self.continue_here())

    async def continue_here(self) -> str | None:
        """Fork into a new local session and open it in the chat window; None when that failed."""
        try:
            key = await self.sync.fork(self.session)
        except Exception as exc:
            self.show_error(tr("This session cannot be continued here: {error}").format(error=exc))
            self.continue_button.setEnabled(True)
            return None
        self.continued.emit(key)
        self.actions.openChat.emit(key)
        self.close()
        return key

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def error_text(self) -> str:
        return self.error.text() if not self.error.isHidden() else ""

    def _origin_text(self, count: int | None = None) -> str:
        when = relative_time(self.session.updated_at)
        text = tr("From {device}, last active {when}. Read-only: continue it here to reply.").format(
            device=self.session.device_name, when=when or tr("unknown"))
        if count is not None:
            text += " " + tr("%n message(s).", None, count)
        return text

    def retranslate(self) -> None:
        self.setWindowTitle(tr("{title} — from {device}").format(title=self.session.title,
                                                                 device=self.session.device_name))
        self.title.setText(self.session.title)
        self.origin.setText(self._origin_text())
        self.continue_button.setText(tr("Continue here"))
        self.continue_button.setToolTip(tr("Copy this conversation into a new chat on this computer and go on "
                                           "there; the original stays as it is."))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


__all__ = ["SyncedSection", "SyncedViewer"]
