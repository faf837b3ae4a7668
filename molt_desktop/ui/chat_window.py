"""The chat window: the session list on the left, the open conversation on the right.

`ChatWindow(bridge, actions)` talks to the gateway only through `bridge.call`: chat.history to
load a session, chat.send (with image attachments) and chat.abort, models.list and
sessions.patch for the per-session model, sessions.list for the session's token usage. Replies
are drawn from `bridge.chatEvent` payloads of the open session (routed by sessionKey), so a
reply started elsewhere (another window, the CLI) streams here too. A failed reply shows what
happened and its next step: Retry sends the last message again, Open Settings asks the app
for the Providers page (`actions.openSettings`).

Pieces live beside it: chat_messages.py (bubbles, error cards, the scrolling view),
chat_composer.py (the message box with its buttons), chat_input.py (message box, attachments),
chat_header.py (title, usage, model picker), chat_banner.py (the bar shown while a server
gateway answers), markdown_view.py (incremental Markdown).
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QLayout,
    QMainWindow,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from molt_desktop.logs import get_logger
from molt_desktop.ui.actions import DesktopActions
from molt_desktop.ui.bridge import GatewayBridge, UserError, describe_error
from molt_desktop.ui.chat_banner import RemoteBanner
from molt_desktop.ui.chat_header import SessionHeader, model_ref
from molt_desktop.ui.chat_composer import Composer
from molt_desktop.ui.chat_input import ImageAttachment, attachments_from_mime, has_images
from molt_desktop.ui.chat_messages import (
    ConversationView,
    ErrorCard,
    MessageWidget,
    chat_icon,
    message_text,
)
from molt_desktop.ui.i18n import tr

log = get_logger("ui")

HISTORY_LIMIT = 200
NEW_CHAT_PREFIX = "agent:main:desktop-"


def new_session_key() -> str:
    return f"{NEW_CHAT_PREFIX}{uuid.uuid4().hex[:8]}"


class ChatWindow(QMainWindow):
    """Signals: `sessionOpened(key)` once a session's history is shown, `replyFinished(runId,
    state)` when a reply of the open session ends (final, error or aborted)."""

    sessionOpened = Signal(str)
    replyFinished = Signal(str, str)

    def __init__(self, bridge: GatewayBridge, actions: DesktopActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.actions = actions
        self._key: str | None = None
        self._run_id: str | None = None
        self._last_user: tuple[str, list[ImageAttachment]] | None = None
        self._generation = 0
        # A message sent before the opened session's history has arrived waits for it: loading
        # the history replaces the view, which would drop the new message's bubble.
        self._history_ready = True
        self._queued: tuple[str, list[Any]] | None = None
        self.setObjectName("chatWindow")
        self.resize(1040, 720)
        self.setAcceptDrops(True)
        self._build()
        self._info_timer = QTimer(self)
        self._info_timer.setSingleShot(True)
        self._info_timer.setInterval(250)
        self._info_timer.timeout.connect(self.refresh_session_info)
        bridge.chatEvent.connect(self._on_chat_event)
        bridge.sessionsChanged.connect(self._on_sessions_changed)
        bridge.configChanged.connect(lambda _p: self._load_models())
        bridge.statusChanged.connect(self._on_status)
        self.retranslate()
        self._load_models()
        self._open_latest()

    # -- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        sidebar = QWidget()
        sidebar.setObjectName("chatSidebar")
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(8, 8, 4, 8)
        side.setSpacing(6)
        self.new_chat_button = QToolButton()
        self.new_chat_button.setObjectName("newChatButton")
        self.new_chat_button.setIcon(chat_icon("new-chat"))
        self.new_chat_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.new_chat_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.new_chat_button.clicked.connect(self.new_chat)
        side.addWidget(self.new_chat_button)
        self.session_list = self._make_session_list(sidebar)
        if self.session_list is not None:
            self.new_chat_button.hide()  # the session list has its own New chat button
            side.setContentsMargins(0, 0, 0, 0)
            side.addWidget(self.session_list, 1)
        else:
            side.addStretch(1)
        splitter.addWidget(sidebar)

        pane = QWidget()
        column = QVBoxLayout(pane)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.header = SessionHeader()
        self.header.modelChosen.connect(self._model_chosen)
        self.header.settingsRequested.connect(lambda: self.actions.openSettings.emit(""))
        # The header's widgets, by the names tests and the app use.
        self.title_label = self.header.title_label
        self.usage_label = self.header.usage_label
        self.model_picker = self.header.model_picker
        column.addWidget(self.header)
        column.addWidget(_line())
        self.banner = RemoteBanner(self.bridge, self.actions)  # while a server gateway answers
        column.addWidget(self.banner)

        self.conversation = ConversationView()
        column.addWidget(self.conversation, 1)
        column.addWidget(_line())

        self.composer = Composer()
        self.composer.sendRequested.connect(self.send)
        self.composer.stopRequested.connect(self.stop)
        # The composer's widgets, by the names tests and the app use.
        self.attachments = self.composer.attachments
        self.input = self.composer.input
        self.attach_button = self.composer.attach_button
        self.send_button = self.composer.send_button
        self.stop_button = self.composer.stop_button
        column.addWidget(self.composer)
        splitter.addWidget(pane)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 780])
        self.setCentralWidget(splitter)
        # The window's minimum size is set once: the growing input box and the bubbles must not
        # resize the window (or ask the platform to) while text arrives.
        self.layout().setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumSize(640, 420)

        self.new_chat_action = QAction(self)
        self.new_chat_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_chat_action.triggered.connect(self.new_chat)
        self.stop_action = QAction(self)
        self.stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.stop_action.triggered.connect(self.stop)
        self.addActions([self.new_chat_action, self.stop_action])

    def _make_session_list(self, parent: QWidget) -> QWidget | None:
        try:
            from molt_desktop.ui.session_list import SessionListWidget
        except ImportError as exc:
            log.warning("no session list in the chat window: %s", exc)
            return None
        widget = SessionListWidget(self.bridge, self.actions, parent)
        widget.sessionActivated.connect(self.open_session)
        deleted = getattr(widget, "sessionDeleted", None)
        if deleted is not None:
            deleted.connect(self._session_deleted)
        return widget

    def retranslate(self) -> None:
        self.new_chat_button.setText(tr("New chat"))
        self.new_chat_button.setToolTip(tr("Start a new chat (Ctrl+N)"))
        self._show_title()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    # -- sessions ------------------------------------------------------------------------------
    @property
    def current_key(self) -> str | None:
        return self._key

    @property
    def streaming(self) -> bool:
        return self._run_id is not None

    def open_session(self, key: str) -> None:
        if not key or key == self._key:
            return
        self._key = key
        self._generation += 1
        self._last_user = None
        self._history_ready = False
        self._queued = None
        self._set_run(None)
        self.conversation.clear()
        self.header.reset()
        self._show_title()
        self._select_in_list(key)
        generation = self._generation
        self.bridge.spawn(self.bridge.call("chat.history", {"sessionKey": key, "limit": HISTORY_LIMIT}),
                          on_result=lambda r: self._history_loaded(generation, r),
                          on_error=lambda e: self._history_failed(generation, key, e))

    def new_chat(self) -> None:
        self.open_session(new_session_key())
        self.input.setFocus()

    def reload(self) -> None:
        key, self._key = self._key, None
        if key:
            self.open_session(key)

    def refresh_session_info(self) -> None:
        """Usage, model and title of the open session, from sessions.list."""
        key = self._key
        if key is None:
            return
        self.bridge.spawn(self.bridge.call("sessions.list", {}), on_result=lambda r: self._info_loaded(key, r))

    def _open_latest(self) -> None:
        def loaded(result: Any) -> None:
            if self._key is not None:
                return  # something was opened meanwhile
            rows = result.get("sessions") if isinstance(result, dict) else None
            self.open_session(str(rows[0]["key"]) if rows else new_session_key())

        self.bridge.spawn(self.bridge.call("sessions.list", {"limit": 1}), on_result=loaded,
                          on_error=lambda _e: self._key is None and self.new_chat())

    def _history_loaded(self, generation: int, result: Any) -> None:
        if generation != self._generation:
            return
        messages = result.get("messages") if isinstance(result, dict) else None
        messages = [m for m in messages or [] if isinstance(m, dict)]
        self.conversation.load(messages)
        for message in messages:
            if message.get("role") == "assistant" and isinstance(message.get("usage"), dict):
                self.header.add_usage(message["usage"])
        self._show_title()
        self.refresh_session_info()
        if self._key:
            self.sessionOpened.emit(self._key)
        self._history_arrived()

    def _history_failed(self, generation: int, key: str, error: BaseException) -> None:
        if generation == self._generation:
            self._show_error(describe_error(error), retry=self.reload)
            self._history_arrived()

    def _history_arrived(self) -> None:
        self._history_ready = True
        queued, self._queued = self._queued, None
        if queued is not None:
            self._send_now(*queued)

    def _info_loaded(self, key: str, result: Any) -> None:
        if key != self._key or not isinstance(result, dict):
            return
        row = next((r for r in result.get("sessions") or [] if isinstance(r, dict) and r.get("key") == key), None)
        self.header.set_session(row, result.get("defaults"))
        self._show_title()

    def _on_sessions_changed(self, payload: Any) -> None:
        if isinstance(payload, dict) and payload.get("sessionKey") == self._key:
            self._info_timer.start()

    def _session_deleted(self, key: str) -> None:
        if key == self._key:
            self.new_chat()

    def _select_in_list(self, key: str) -> None:
        if self.session_list is not None:
            self.session_list.select(key)  # type: ignore[attr-defined]

    # -- sending, stopping, retrying -------------------------------------------------------
    def send(self) -> None:
        """Send what the input box holds (and the attached images)."""
        text = self.input.text()
        images = self.attachments.attachments()
        if (not text.strip() and not images) or self.streaming or self._queued is not None:
            return
        if self._key is None:
            self.open_session(new_session_key())
        self.input.clear()
        self.attachments.clear()
        if not self._history_ready:
            self._queued = (text, images)
            return
        self._send_now(text, images)

    def _send_now(self, text: str, images: list[Any]) -> None:
        self.conversation.remove_errors()
        self.conversation.add_message("user", text, [image.data for image in images])
        self.conversation.scroll_to_bottom()
        self._show_title()
        self._last_user = (text, images)
        self._start_run(text, images)

    def retry(self) -> None:
        """Send the last user message again (after a failed reply)."""
        if self.streaming:
            return
        self.conversation.remove_errors()
        last = self._last_user
        if last is None:
            users = [m for m in self.conversation.messages() if m.role == "user"]
            if not users:
                return
            last = (users[-1].markdown(), [])
        self._start_run(*last)

    def stop(self) -> None:
        """Ask the gateway to stop the streaming reply (chat.abort)."""
        if self._key is None or self._run_id is None:
            return
        self.stop_button.setEnabled(False)
        self.bridge.spawn(self.bridge.call("chat.abort", {"sessionKey": self._key, "runId": self._run_id}),
                          on_error=self._abort_failed)

    def _start_run(self, text: str, images: list[ImageAttachment]) -> None:
        key = self._key
        assert key is not None
        run_id = str(uuid.uuid4())
        self.conversation.begin_reply(run_id)
        self._set_run(run_id)
        params: dict[str, Any] = {"sessionKey": key, "message": text, "idempotencyKey": run_id}
        if images:
            params["attachments"] = [image.to_param() for image in images]
        self.bridge.spawn(self.bridge.call("chat.send", params),
                          on_error=lambda e: self._send_failed(key, run_id, e))

    def _send_failed(self, key: str, run_id: str, error: BaseException) -> None:
        if key != self._key:
            return
        reply = self.conversation.reply(run_id)
        if reply is not None:
            self.conversation.remove(reply)
        self._end_run(run_id, "error")
        self._show_error(describe_error(error), retry=self.retry)

    def _abort_failed(self, error: BaseException) -> None:
        self.stop_button.setEnabled(True)
        self._show_error(describe_error(error), retry=self.stop)

    def _set_run(self, run_id: str | None) -> None:
        self._run_id = run_id
        streaming = run_id is not None
        self.composer.set_streaming(streaming)

    def _end_run(self, run_id: str, state: str) -> None:
        if self._run_id == run_id:
            self._set_run(None)
        self.replyFinished.emit(run_id, state)

    # -- what the gateway streams ----------------------------------------------------------
    def _on_chat_event(self, payload: Any) -> None:
        if not isinstance(payload, dict) or payload.get("sessionKey") != self._key:
            return
        state = payload.get("state")
        run_id = str(payload.get("runId") or "")
        reply = self.conversation.reply(run_id)
        message = payload.get("message") if isinstance(payload.get("message"), dict) else None
        if state in ("status", "delta") and reply is None:
            reply = self.conversation.begin_reply(run_id)  # a reply started elsewhere
            self._set_run(run_id)
            if state == "delta" and message is not None:
                reply.set_text(message_text(message))
                return
        if state == "status" and reply is not None:
            if reply.streaming and not reply.markdown():
                reply.set_status(str(payload.get("phase") or "thinking"))
        elif state == "delta" and reply is not None:
            self._delta(reply, payload, message)
        elif state == "final":
            self._final(reply, payload, message)
            self._end_run(run_id, "final")
        elif state == "error":
            if reply is not None:
                reply.mark_failed()
                if not reply.markdown().strip():
                    self.conversation.remove(reply)
            self._end_run(run_id, "error")
            self._show_error(describe_error(payload), retry=self.retry)
        elif state == "aborted":
            text = message_text(message) if message is not None else None
            if reply is None and text:
                reply = self.conversation.add_message("assistant", "")
            if reply is not None:
                reply.mark_stopped(text)
            self._end_run(run_id, "aborted")

    @staticmethod
    def _delta(reply: MessageWidget, payload: dict[str, Any], message: dict[str, Any] | None) -> None:
        delta = payload.get("deltaText")
        if isinstance(delta, str):
            # Cheap consistency check: the cumulative text must be exactly one delta longer.
            full = message_text(message) if message is not None else None
            if full is None or len(full) == reply.body.length() + len(delta):
                reply.append(delta)
                return
            reply.set_text(full)
        elif message is not None:
            reply.set_text(message_text(message))

    def _final(self, reply: MessageWidget | None, payload: dict[str, Any], message: dict[str, Any] | None) -> None:
        text = message_text(message) if message is not None else None
        if reply is None:
            if not text:
                return
            reply = self.conversation.add_message("assistant", "")
        model = model_ref(message.get("provider"), message.get("model")) if message is not None else ""
        usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
        reply.finish(text, model, usage)
        self.header.add_usage(usage)
        self._info_timer.start()
        if self._key:
            self._select_in_list(self._key)

    def _on_status(self, status: Any) -> None:
        # The pool carries a reply in flight over to the next gateway (same runId, its deltas
        # restart with the cumulative text); one it cannot carry ends with an `error` event.
        reply = self.conversation.reply(self._run_id) if self._run_id is not None else None
        if reply is None or not reply.streaming:
            return
        if not getattr(status, "connected", True):
            reply.set_status("reconnecting")
        elif reply.status == "reconnecting":
            reply.set_status("" if reply.markdown() else "thinking")

    def _show_error(self, error: UserError, retry: Any) -> ErrorCard:
        card = self.conversation.add_error(error)
        card.retryRequested.connect(lambda: (self.conversation.remove(card), retry()))
        card.settingsRequested.connect(lambda: self.actions.openSettings.emit("providers"))
        return card

    # -- model and usage -------------------------------------------------------------------
    def _load_models(self) -> None:
        self.bridge.spawn(self.bridge.call("models.list", {}), on_result=self._models_loaded,
                          on_error=lambda e: log.warning("models.list failed: %s", e))

    def _models_loaded(self, result: Any) -> None:
        models = result.get("models") if isinstance(result, dict) else None
        self.header.set_models(list(models or []))

    def _model_chosen(self, ref: str) -> None:
        key = self._key
        if key is None:
            return
        self.header.choose_locally(ref)

        def failed(error: BaseException) -> None:
            self._show_error(describe_error(error), retry=lambda: self._model_chosen(ref))
            self.refresh_session_info()

        self.bridge.spawn(self.bridge.call("sessions.patch", {"key": key, "model": ref}),
                          on_result=lambda _r: self.refresh_session_info(), on_error=failed)

    def session_cost(self) -> float | None:
        return self.header.session_cost()

    def _show_title(self) -> None:
        users = [m for m in self.conversation.messages() if m.role == "user" and m.markdown().strip()]
        self.header.fallback_title = users[0].markdown().strip().splitlines()[0][:60] if users else ""
        self.header.show_all()
        self.title_label.setToolTip(self._key or "")
        self.setWindowTitle(tr("{title} — molt-desktop").format(title=self.header.title()))

    # -- images ----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if has_images(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        found = attachments_from_mime(event.mimeData())
        if found:
            self.attachments.add(found)
            event.acceptProposedAction()


def _line() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Plain)
    line.setStyleSheet("color: palette(midlight);")
    return line
