"""The chat window's sidebar: the session list with search, rename, pin, delete, export and import.

What lives here: `SessionListWidget` (search box, New chat, the list: pinned sessions first, then
newest first). Everything goes over the protocol through the
bridge: `sessions.list` (with `search`, `includeDerivedTitles`), `sessions.patch` (label, pinned),
`sessions.delete` (the transcript is archived by the gateway, not destroyed), `chat.history` for
exports. Live updates come from `sessions.changed` and chat `final` events, coalesced.
What does not: row painting and the notice bar (session_rows.py), file formats and titles
(session_export.py), the file dialogs and the import / export flows (session_files.py), the
other devices' synced sessions under the list (session_synced.py), the conversation (chat_window.py).

Titles: a label or displayName comes with every row; the first user message ("derived title")
costs the gateway a transcript read, so it is asked for only for rows that have no title yet
(`includeDerivedTitles` with a `limit` reaching the last such row) and kept per sessionId.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from molt_desktop.ui.bridge import TERMINAL_CHAT_STATES
from molt_desktop.ui.dialogs import show_dialog
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.session_export import TitleCache, row_title
from molt_desktop.ui.session_files import SessionFiles
from molt_desktop.ui.session_rows import KEY_ROLE, NoticeBar, RowDelegate
from molt_desktop.ui.session_synced import SyncedSection
from molt_desktop.ui.style import themed_icon
from molt_desktop.ui.sync_bridge import SyncBridge

SEARCH_DEBOUNCE_MS = 250
LIVE_COALESCE_MS = 200
TITLE_FETCH_LIMIT = 300  # rows deeper than this without a label show their key's name
MAIN_SESSION_KEY = "agent:main:main"


class SessionListWidget(QWidget):
    sessionActivated = Signal(str)
    sessionDeleted = Signal(str)

    def __init__(self, bridge: Any, actions: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.actions = actions
        self._rows: dict[str, dict[str, Any]] = {}  # key -> sessions.list row, as shown
        self._titles = TitleCache()
        self._query = ""
        self._generation = 0  # a list answer older than the last request is dropped
        self._refreshing: asyncio.Task[Any] | None = None
        self._again = False
        self._pending_select: str | None = None
        self._changes: dict[str, dict[str, Any]] = {}
        self._rows_waiting: list[dict[str, Any]] | None = None  # a list update held back during a rename
        self._filling = False
        self.files = SessionFiles(self)

        self.new_button = QPushButton(themed_icon("new-chat"), "")
        self.new_button.clicked.connect(self.actions.newChat.emit)
        self.menu_button = QToolButton()
        self.menu_button.setIcon(themed_icon("import"))
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setMenu(QMenu(self.menu_button))
        self.menu_button.menu().aboutToShow.connect(lambda: self.files.fill_tools_menu(self.menu_button.menu()))
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.search.addAction(themed_icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(self._search_typed)
        self.list = QListWidget()
        self.list.setItemDelegate(RowDelegate(self))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setUniformItemSizes(True)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self.files.context_menu)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemChanged.connect(self._item_edited)
        self.list.installEventFilter(self)
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setProperty("muted", True)
        self.notice = NoticeBar()

        top = QHBoxLayout()
        top.addWidget(self.new_button, 1)
        top.addWidget(self.menu_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        # Rows and notices come and go: a shown top-level list (in tests) must not keep resizing its
        # minimum; inside the chat window's splitter this setting has no effect.
        layout.setSizeConstraint(QVBoxLayout.SizeConstraint.SetNoConstraint)
        layout.addLayout(top)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.notice)
        self.empty.hide()
        sync = SyncBridge.of(bridge)
        self.synced = SyncedSection(sync, actions, self) if sync is not None else None  # other devices'
        if self.synced is not None:
            layout.addWidget(self.synced)

        self._search_timer = self._timer(SEARCH_DEBOUNCE_MS, self.refresh)
        self._live_timer = self._timer(LIVE_COALESCE_MS, self._apply_changes)
        self._clock = QTimer(self)  # relative times age
        self._clock.timeout.connect(self.list.viewport().update)
        self._clock.start(60_000)
        self.menu_actions = self._make_actions()
        bridge.sessionsChanged.connect(self._session_changed)
        bridge.chatEvent.connect(self._chat_event)
        bridge.statusChanged.connect(self._status_changed)
        self.retranslate()
        if bridge.status.connected:
            self.refresh()

    def _timer(self, ms: int, slot: Any) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    def _make_actions(self) -> dict[str, QAction]:
        made: dict[str, QAction] = {}
        for name, keys, slot in [
            ("rename", QKeySequence(Qt.Key.Key_F2), self._rename_current),
            ("pin", QKeySequence(), lambda: self._spawn(self.set_pinned(self.selected_keys(), True))),
            ("unpin", QKeySequence(), lambda: self._spawn(self.set_pinned(self.selected_keys(), False))),
            ("delete", QKeySequence(QKeySequence.StandardKey.Delete), lambda: self._spawn(self.delete(self.selected_keys()))),
        ]:
            action = QAction(self)
            action.setShortcut(keys)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.list.addAction(action)
            made[name] = action
        made["rename"].setIcon(themed_icon("chat"))
        made["pin"].setIcon(themed_icon("pin"))
        made["delete"].setIcon(themed_icon("delete"))
        return made

    # --- what tests and the chat window use ---------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """The rows shown, in display order (pinned first, then newest first)."""
        return [self._rows[k] for k in self._keys_in_view() if k in self._rows]

    def row(self, key: str | None) -> dict[str, Any] | None:
        return self._rows.get(key) if key else None

    def current_key(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(KEY_ROLE)) if item is not None else None

    def selected_keys(self) -> list[str]:
        keys = [str(i.data(KEY_ROLE)) for i in self.list.selectedItems()]
        if not keys and self.current_key():
            keys = [self.current_key() or ""]
        order = self._keys_in_view()
        return sorted(keys, key=lambda k: order.index(k) if k in order else len(order))

    def select(self, key: str) -> None:
        """Make `key` the current row without emitting sessionActivated (the caller opened it);
        a key not listed yet is selected when it appears."""
        self._pending_select = key
        self._restore_selection([key], key)

    def refresh(self) -> asyncio.Task[Any]:
        """Reload the list (or re-run the search); overlapping calls are merged into one more."""
        self._search_timer.stop()
        if self._refreshing is not None and not self._refreshing.done():
            self._again = True
            return self._refreshing
        self._refreshing = self._spawn(self._refresh_loop())
        return self._refreshing

    def notice_text(self) -> str:
        """The message under the list ("" when none is shown)."""
        return self.notice.text()

    # --- loading ------------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        return self.bridge.spawn(coro, on_error=lambda exc: self.show_error(exc))

    async def _refresh_loop(self) -> None:
        while True:
            self._again = False
            await self._load()
            if not self._again:
                return

    async def _load(self) -> None:
        self._generation += 1
        generation, query = self._generation, self._query
        params: dict[str, Any] = {"search": query, "includeDerivedTitles": True} if query else {}
        try:
            listing = await self.bridge.call("sessions.list", params)
        except Exception as exc:
            if generation == self._generation:
                self.show_error(exc, retry=self.refresh)
            return
        rows = [r for r in listing.get("sessions") or [] if isinstance(r, dict) and r.get("key")]
        self._titles.remember(rows)
        if generation != self._generation:
            return
        self._show(rows)
        if self.notice.on_action == self.refresh:
            self.notice.dismiss()  # the failure it offered to retry is over
        missing = [i for i, r in enumerate(rows) if self._titles.wanted(r)]
        if missing and not query and missing[0] < TITLE_FETCH_LIMIT:
            self._titles.asked(rows[:TITLE_FETCH_LIMIT])
            try:
                titled = await self.bridge.call("sessions.list", {"includeDerivedTitles": True,
                                                                  "limit": min(missing[-1] + 1, TITLE_FETCH_LIMIT)})
            except Exception:
                return  # the rows are shown; their names stay the keys' until the next refresh
            self._titles.remember(titled.get("sessions") or [])
            if generation == self._generation:
                self._show(list(self._rows.values()))

    def _show(self, rows: list[dict[str, Any]]) -> None:
        """Show `rows` (any order) keeping the selection, the current row and the scroll position."""
        if self.list.state() == QAbstractItemView.State.EditingState:
            self._live_timer.start()  # never pull the row away under an open rename editor
            self._rows_waiting = rows
            return
        ordered = sorted((self._titles.apply(r) for r in rows),
                         key=lambda r: (not r.get("pinned"), -(r.get("updatedAt") or 0)))
        selected = [str(i.data(KEY_ROLE)) for i in self.list.selectedItems()]
        current = self.current_key()
        scroll = self.list.verticalScrollBar().value()
        self._filling = True
        self.list.blockSignals(True)
        try:
            self._rows = {r["key"]: r for r in ordered}
            self.list.clear()
            for row in ordered:
                item = QListWidgetItem(row_title(row))
                item.setData(KEY_ROLE, row["key"])
                item.setToolTip(row["key"])
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.list.addItem(item)
        finally:
            self.list.blockSignals(False)
            self._filling = False
        pending = self._pending_select if self._pending_select in self._rows else None
        self._restore_selection([pending] if pending else selected, pending or current)
        self.list.verticalScrollBar().setValue(scroll)
        self._show_empty_hint()

    def _restore_selection(self, keys: list[str], current: str | None) -> None:
        self._filling = True
        self.list.blockSignals(True)
        try:
            self.list.clearSelection()
            for index in range(self.list.count()):
                item = self.list.item(index)
                key = item.data(KEY_ROLE)
                if key == current:
                    self.list.setCurrentItem(item, QItemSelectionModel.SelectionFlag.NoUpdate)
                    if key == self._pending_select:
                        self._pending_select = None
                item.setSelected(key in keys)
        finally:
            self.list.blockSignals(False)
            self._filling = False
        self.list.viewport().update()

    def _keys_in_view(self) -> list[str]:
        return [str(self.list.item(i).data(KEY_ROLE)) for i in range(self.list.count())]

    def _show_empty_hint(self) -> None:
        empty = self.list.count() == 0
        self.empty.setText(tr("No session matches “{query}”.").format(query=self._query) if self._query
                           else tr("No chats yet. Start one with New chat."))
        self.empty.setVisible(empty)
        self.list.setVisible(not empty)

    # --- live updates -------------------------------------------------------------------------

    def _session_changed(self, payload: Any) -> None:
        if isinstance(payload, dict) and payload.get("sessionKey"):
            self._changes[str(payload["sessionKey"])] = payload
            if not self._live_timer.isActive():
                self._live_timer.start()

    def _chat_event(self, payload: Any) -> None:
        # A gateway without sessions.changed (protocol 3) still moves the session up after a turn.
        if isinstance(payload, dict) and payload.get("state") in TERMINAL_CHAT_STATES:
            self._changes.setdefault(str(payload.get("sessionKey") or ""), {})
            if not self._live_timer.isActive():
                self._live_timer.start()

    def _status_changed(self, status: Any) -> None:
        if status.connected:
            self.refresh()

    def _apply_changes(self) -> None:
        waiting = self._rows_waiting
        if waiting is not None:
            self._rows_waiting = None
            self._show(waiting)
        changes, self._changes = self._changes, {}
        if not changes:
            return
        rows = dict(self._rows)
        unknown = False
        for key, payload in changes.items():
            session = payload.get("session")
            if payload.get("reason") == "delete":
                rows.pop(key, None)
            elif key in rows and isinstance(session, dict):
                rows[key] = {**rows[key], **session, "key": key}
            else:
                unknown = True  # a new session, or only a chat event: ask the gateway
        if unknown:
            self.refresh()
        else:
            self._show(list(rows.values()))

    # --- search, selection, editing -----------------------------------------------------------

    def _search_typed(self, text: str) -> None:
        self._query = text.strip()
        self._generation += 1  # an answer for the previous text is no longer wanted
        if self._query:
            self._search_timer.start()
        else:
            self.refresh()  # cleared: the full list at once

    def _selection_changed(self) -> None:
        if self._filling:
            return
        keys = [str(i.data(KEY_ROLE)) for i in self.list.selectedItems()]
        if len(keys) == 1:
            self.sessionActivated.emit(keys[0])

    def _rename_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _item_edited(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        key = str(item.data(KEY_ROLE))
        row = self._rows.get(key) or {}
        text = item.text().strip()
        if text != row_title(row):
            self._spawn(self.rename(key, text))

    async def rename(self, key: str, label: str) -> bool:
        """Set the session's label (an empty label clears it); False when the gateway refused."""
        try:
            result = await self.bridge.call("sessions.patch", {"key": key, "label": label.strip() or None})
        except Exception as exc:
            self.show_error(exc)
            self._show(list(self._rows.values()))  # puts the old title back
            return False
        self._merge(key, result.get("entry"))
        return True

    async def set_pinned(self, keys: list[str], pinned: bool) -> bool:
        ok = True
        for key in keys:
            try:
                result = await self.bridge.call("sessions.patch", {"key": key, "pinned": pinned})
            except Exception as exc:
                self.show_error(exc)
                ok = False
                break
            self._merge(key, result.get("entry"))
        return ok

    def _merge(self, key: str, entry: Any) -> None:
        if key in self._rows and isinstance(entry, dict):
            row = {**self._rows[key], **entry, "key": key}
            for name in ("label", "pinned"):
                if name not in entry:
                    row.pop(name, None)
            rows = dict(self._rows)
            rows[key] = row
            self._show(list(rows.values()))

    # --- delete -------------------------------------------------------------------------------

    def main_key(self) -> str:
        hello = self.bridge.status.hello if isinstance(self.bridge.status.hello, dict) else {}
        defaults = (hello.get("snapshot") or {}).get("sessionDefaults") or {}
        return str(defaults.get("mainSessionKey") or MAIN_SESSION_KEY)

    async def confirm_delete(self, rows: list[dict[str, Any]]) -> bool:
        """Ask before deleting (tests replace this method)."""
        if len(rows) == 1:
            text = tr("Delete “{title}”?").format(title=row_title(rows[0]))
        else:
            text = tr("Delete %n sessions?", None, len(rows))
        box = QMessageBox(QMessageBox.Icon.Question, tr("Delete sessions"), text,
                          QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText(tr("It disappears from the list. Its transcript is archived in the sessions folder "
                                  "(renamed to end in “.deleted”), not destroyed.") if len(rows) == 1 else
                               tr("They disappear from the list. Their transcripts are archived in the sessions "
                                  "folder (renamed to end in “.deleted”), not destroyed."))
        delete = box.addButton(tr("Delete"), QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        await show_dialog(box)
        return box.clickedButton() is delete

    async def delete(self, keys: list[str]) -> list[str]:
        """Delete after confirmation; returns the keys deleted. The main session is kept."""
        main = self.main_key()
        if main in keys:
            keys = [k for k in keys if k != main]
            self.show_notice(tr("The main session cannot be deleted. You can rename or export it instead."))
        rows = [self._rows.get(k) or {"key": k} for k in keys]
        if not rows or not await self.confirm_delete(rows):
            return []
        done: list[str] = []
        for key in keys:
            try:
                await self.bridge.call("sessions.delete", {"key": key, "deleteTranscript": True})
            except Exception as exc:
                if "main session" in str(exc):
                    self.show_notice(tr("The main session cannot be deleted. You can rename or export it instead."))
                else:
                    self.show_error(exc)
                continue
            done.append(key)
        if done:
            self._show([r for k, r in self._rows.items() if k not in done])
            for key in done:
                self.sessionDeleted.emit(key)
        return done

    # --- notices ------------------------------------------------------------------------------

    def show_notice(self, text: str, *, error: bool = False) -> None:
        self.notice.show_message(text, error=error)

    def show_error(self, error: BaseException, retry: Any = None) -> None:
        self.notice.show_error(error, retry=retry, open_settings=lambda: self.actions.openSettings.emit(""))

    # --- Qt plumbing --------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        # The actions' shortcuts need an active window; keys typed into the list itself (and
        # synthetic ones in tests) arrive here instead.
        if watched is self.list and event.type() == QEvent.Type.KeyPress and self.current_key() \
                and self.list.state() != QAbstractItemView.State.EditingState:
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.sessionActivated.emit(self.current_key() or "")
                return True
            if event.key() == Qt.Key.Key_Delete:
                self.menu_actions["delete"].trigger()
                return True
            if event.key() == Qt.Key.Key_F2:
                self._rename_current()
                return True
        return super().eventFilter(watched, event)

    def retranslate(self) -> None:
        self.new_button.setText(tr("New chat"))
        self.menu_button.setToolTip(tr("Import and export"))
        self.search.setPlaceholderText(tr("Search chats"))
        self.menu_actions["rename"].setText(tr("Rename"))
        self.menu_actions["pin"].setText(tr("Pin to top"))
        self.menu_actions["unpin"].setText(tr("Unpin"))
        self.menu_actions["delete"].setText(tr("Delete…"))
        self.notice.retranslate()
        self._show_empty_hint()
        self.list.viewport().update()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
