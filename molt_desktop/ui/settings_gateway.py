"""The Gateway page (port, who may connect, the gateway token) and the Remote gateways page.

The gateway token is shown masked, can be copied, and regenerated: a new random token goes to
the keyring as `gateway.token`, the config points at it (`keyring:gateway.token`) at once, and
this app reconnects with it; other clients must be given the new token. Port and listening
address are saved with the dialog and take effect after a restart.

Remote gateways (`remotes`) are edited as a list; their tokens go to the keyring as
`remote.<id>.token`.
"""

from __future__ import annotations

import asyncio
import copy
import re
import secrets as random_tokens
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QMessageBox,
                               QPushButton, QSpinBox, QToolButton, QWidget)

from molt_desktop.config.schema import GatewayAuthConfig, GatewayConfig, MoltConfig, RemoteConfig
from molt_desktop.config.secrets import GATEWAY_TOKEN_NAME, KEYRING_PREFIX, get_secret, keyring_name, set_secret
from molt_desktop.ui.bridge import GatewayBridge, describe_error
from molt_desktop.ui.dialogs import show_dialog
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.settings_common import (ERROR_COLOR, OK_COLOR, SecretField, SettingsPage, key_changed,
                                             warning_label)
from molt_desktop.ui.settings_store import ConfigDraft, Issue, describe
from molt_desktop.ui.style import themed_icon

LOOPBACK_BINDS = ("loopback", "auto", "tailnet", "127.0.0.1", "::1")


class GatewayPage(SettingsPage):
    page_id = "gateway"
    icon_name = "health"
    tokenRegenerated = Signal()

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent)
        self.auth_mode = "token"
        form = self.form()
        self.port = QSpinBox()
        self.port.setObjectName("gatewayPort")
        self.port.setRange(1, 65535)
        self.port.setGroupSeparatorShown(False)
        self.add_row(form, "gateway.port", self.port, GatewayConfig, "port", lambda: tr("Port"))
        self.bind = QComboBox()
        self.bind.setObjectName("gatewayBind")
        self.bind.addItem("", "loopback")
        self.bind.addItem("", "lan")
        self.bind.currentIndexChanged.connect(lambda _i: self._update_warning())
        self.add_row(form, "gateway.bind", self.bind, GatewayConfig, "bind", lambda: tr("Who can connect"))
        self.lan_warning = warning_label()
        self.lan_warning.setObjectName("lanWarning")
        form.addRow("", self.lan_warning)

        token_box = QWidget()
        row = QHBoxLayout(token_box)
        row.setContentsMargins(0, 0, 0, 0)
        self.token = QLineEdit()
        self.token.setObjectName("gatewayToken")
        self.token.setReadOnly(True)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_token = QToolButton()
        self.show_token.setCheckable(True)
        self.show_token.toggled.connect(self._token_shown)
        self.copy_token = QPushButton(themed_icon("copy"), "")
        self.copy_token.setObjectName("copyToken")
        self.copy_token.clicked.connect(self.copy)
        self.regenerate_button = QPushButton(themed_icon("refresh"), "")
        self.regenerate_button.setObjectName("regenerateToken")
        self.regenerate_button.clicked.connect(lambda: self.bridge.spawn(self.regenerate()))
        row.addWidget(self.token, 1)
        for widget in (self.show_token, self.copy_token, self.regenerate_button):
            row.addWidget(widget)
        self.add_row(form, "gateway.auth.token", token_box, GatewayAuthConfig, "token", lambda: tr("Gateway token"))
        self.token_status = QLabel()
        self.token_status.setObjectName("tokenStatus")
        self.token_status.setWordWrap(True)
        form.addRow("", self.token_status)
        self.layout_.addLayout(form)
        self.restart_note = QLabel()
        self.restart_note.setWordWrap(True)
        self.restart_note.setProperty("muted", True)
        self.layout_.addWidget(self.restart_note)
        self.layout_.addStretch(1)
        self.retranslate()

    def title(self) -> str:
        return tr("Gateway")

    def load(self, draft: ConfigDraft) -> None:
        self.port.setValue(int(draft.effective("gateway.port") or 18789))
        bind = str(draft.effective("gateway.bind") or "loopback")
        while self.bind.count() > 2:
            self.bind.removeItem(2)
        if self.bind.findData(bind) < 0:
            self.bind.addItem(bind, bind)  # an address or keyword set in the file: kept as it is
        self.bind.setCurrentIndex(self.bind.findData(bind))
        self.auth_mode = str(draft.effective("gateway.auth.mode") or "token")
        self.token.clear()
        self.bridge.spawn(self._read_token(draft.raw("gateway.auth.token")), on_result=self._token_read)
        self._update_warning()

    async def _read_token(self, configured: Any) -> str | None:
        name = keyring_name(configured)
        if name:
            return await asyncio.to_thread(get_secret, name)
        endpoint = self.bridge.pool.active
        if endpoint.kind == "local":  # the token this app connects with is the one in force
            options = await asyncio.to_thread(endpoint.options)
            return options.token
        return None

    def _token_read(self, token: str | None) -> None:
        self.token.setText(token or "")
        self.token.setPlaceholderText("" if token else tr("Not available here"))
        self.copy_token.setEnabled(bool(token))

    def collect(self, draft: ConfigDraft) -> None:
        draft.set("gateway.port", self.port.value())
        bind = str(self.bind.currentData())
        draft.set("gateway.bind", bind)
        if bind not in LOOPBACK_BINDS and self.auth_mode == "none":
            draft.add_issue("gateway.bind", tr("Other computers may only connect with a token or password: set "
                                               "gateway.auth.mode to token first."))

    def _update_warning(self) -> None:
        lan = str(self.bind.currentData()) not in LOOPBACK_BINDS
        self.lan_warning.setText(tr("Anyone on your network can reach the gateway at this port. They still need "
                                    "the gateway token; keep it secret, and prefer a trusted network."))
        self.lan_warning.setVisible(lan)

    def _token_shown(self, shown: bool) -> None:
        self.token.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.retranslate()

    def copy(self) -> None:
        if self.token.text():
            QGuiApplication.clipboard().setText(self.token.text())
            self._status(True, tr("The token is on the clipboard."))

    async def confirm_regenerate(self) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Regenerate the gateway token?"),
                          tr("A new random token replaces the current one at once. Every other client of this "
                             "gateway (other computers, the openclaw CLI, scripts) must be given the new token."),
                          QMessageBox.StandardButton.Cancel, self)
        regenerate = box.addButton(tr("Regenerate"), QMessageBox.ButtonRole.AcceptRole)
        await show_dialog(box)
        return box.clickedButton() is regenerate

    async def regenerate(self) -> None:
        if not await self.confirm_regenerate():
            return
        token = random_tokens.token_urlsafe(32)
        try:
            await asyncio.to_thread(set_secret, GATEWAY_TOKEN_NAME, token)
        except Exception as exc:  # SecretStoreUnavailable says what to do instead
            self._status(False, tr("The new token was not saved: {error}").format(error=exc))
            return
        reference = KEYRING_PREFIX + GATEWAY_TOKEN_NAME
        try:
            current = await self.bridge.call("config.get")
            auth = ((current.get("parsed") or {}).get("gateway") or {}).get("auth") or {}
            if auth.get("token") != reference or auth.get("mode", "token") != "token":
                await self.bridge.call("config.patch", {
                    "raw": '{"gateway": {"auth": {"mode": "token", "token": "%s"}}}' % reference,
                    "baseHash": current.get("hash"), "note": "gateway token regenerated"})
            self.auth_mode = "token"
            await self.bridge.pool.reconnect()
        except Exception as exc:
            self._status(False, describe_error(exc).message)
            return
        self._token_read(token)
        self._status(True, tr("New token saved. Other clients of this gateway need the new token now."))
        self.tokenRegenerated.emit()

    def _status(self, ok: bool, text: str) -> None:
        self.token_status.setStyleSheet(f"color: {OK_COLOR if ok else ERROR_COLOR};")
        self.token_status.setText(text)

    def retranslate(self) -> None:
        super().retranslate()
        self.bind.setItemText(0, tr("Only this computer (loopback)"))
        self.bind.setItemText(1, tr("Other computers on the network (LAN)"))
        self.show_token.setText(tr("Hide") if self.show_token.isChecked() else tr("Show"))
        self.copy_token.setText(tr("Copy"))
        self.regenerate_button.setText(tr("Regenerate"))
        self.restart_note.setText(tr("Changes of the port or of who can connect take effect after molt-desktop "
                                     "restarts."))
        self._update_warning()


@dataclass
class RemoteEntry:
    raw: dict[str, Any]
    token: tuple[str | None, str | None, str] = (None, None, "")
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.raw.get("id") or "")


_REMOTE_ISSUE = re.compile(r"^remotes\[(\d+)\](?:\.(\w+))?")


class RemotesPage(SettingsPage):
    page_id = "remotes"
    icon_name = "tray-remote"

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent)
        self.entries: list[RemoteEntry] = []
        self.current: RemoteEntry | None = None
        self._showing = False
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.intro.setProperty("muted", True)
        self.layout_.addWidget(self.intro)
        self.list = QListWidget()
        self.list.setObjectName("remoteList")
        self.list.setMaximumHeight(140)
        self.list.currentRowChanged.connect(self._select)
        self.layout_.addWidget(self.list)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(themed_icon("new-chat"), "")
        self.add_button.setObjectName("addRemote")
        self.add_button.clicked.connect(self.add_remote)
        self.remove_button = QPushButton(themed_icon("delete"), "")
        self.remove_button.clicked.connect(self.remove_current)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        self.layout_.addLayout(buttons)
        self.editor = QWidget()
        form = self.form(self.editor)
        form.setContentsMargins(0, 0, 0, 0)
        self.id_edit = QLineEdit()
        self.id_edit.setObjectName("remoteId")
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("remoteUrl")
        self.url_edit.setPlaceholderText("wss://gw.example.com:18789")
        self.token_field = SecretField(bridge)
        self.token_field.setObjectName("remoteToken")
        self.fingerprint = QLineEdit()
        self.fingerprint.setObjectName("remoteFingerprint")
        self.fingerprint.setPlaceholderText("sha256:…")
        self.add_row(form, "id", self.id_edit, RemoteConfig, "id", lambda: tr("Name"))
        self.add_row(form, "url", self.url_edit, RemoteConfig, "url", lambda: tr("URL"))
        self.add_row(form, "token", self.token_field, RemoteConfig, "token", lambda: tr("Token"))
        self.add_row(form, "tlsFingerprint", self.fingerprint, RemoteConfig, "tlsFingerprint",
                     lambda: tr("TLS fingerprint"))
        self.id_edit.editingFinished.connect(lambda: self._refresh_list(self.current))
        self.layout_.addWidget(self.editor)
        self.layout_.addStretch(1)
        self.retranslate()
        self._show(None)

    def title(self) -> str:
        return tr("Remote gateways")

    def load(self, draft: ConfigDraft) -> None:
        remotes = draft.raw("remotes")
        self.entries = [RemoteEntry(copy.deepcopy(r), (r.get("token") if isinstance(r.get("token"), str) else None,
                                                       None, ""))
                        for r in (remotes if isinstance(remotes, list) else []) if isinstance(r, dict)]
        for entry in self.entries:
            name = keyring_name(entry.token[0])
            if name:
                self.bridge.spawn(asyncio.to_thread(get_secret, name),
                                  on_result=lambda value, entry=entry: self._secret_loaded(entry, value))
        self._refresh_list(self.entries[0] if self.entries else None)

    def _secret_loaded(self, entry: RemoteEntry, value: str | None) -> None:
        if value and not entry.token[2]:
            entry.token = (entry.token[0], value, value)
            if entry is self.current:
                self.token_field.load_state(entry.token)

    def add_remote(self) -> RemoteEntry:
        self._store_current()
        taken = {e.id for e in self.entries}
        name = "server" if "server" not in taken else next(f"server-{i}" for i in range(2, 999)
                                                           if f"server-{i}" not in taken)
        entry = RemoteEntry({"id": name, "url": ""})
        self.entries.append(entry)
        self._refresh_list(entry)
        self.url_edit.setFocus()
        return entry

    def remove_current(self) -> None:
        if self.current is not None:
            self.entries.remove(self.current)
            self.current = None
            self._refresh_list(self.entries[0] if self.entries else None)

    def collect(self, draft: ConfigDraft) -> None:
        self._store_current()
        remotes: list[dict[str, Any]] = []
        for index, entry in enumerate(self.entries):
            entry.errors = {}
            remote = copy.deepcopy(entry.raw)
            if not entry.id:
                entry.errors["id"] = tr("Give the remote gateway a name.")
            url = str(remote.get("url") or "")
            if not url.lower().startswith(("ws://", "wss://")):
                entry.errors["url"] = tr("Enter a ws:// or wss:// address, e.g. {example}.").format(
                    example="wss://gw.example.com:18789")
            if key_changed(entry.token):
                text = entry.token[2].strip()
                if text:
                    remote["token"] = draft.secret_ref(f"remote.{entry.id}.token", text)
                else:
                    remote.pop("token", None)
            for key, message in entry.errors.items():
                draft.add_issue(f"remotes[{index}].{key}", message)
            remotes.append(remote)
        if remotes != (draft.raw("remotes") or []):
            draft.set_raw(("remotes",), remotes)

    def show_issues(self, issues: list[Issue]) -> None:
        loose: list[Issue] = []
        first: RemoteEntry | None = None
        for issue in issues:
            match = _REMOTE_ISSUE.match(issue.path)
            if match and int(match.group(1)) < len(self.entries):
                entry = self.entries[int(match.group(1))]
                entry.errors.setdefault(match.group(2) or "id", issue.message)
                first = first or entry
            else:
                loose.append(issue)
        super().show_issues(loose)
        if first is not None:
            self._refresh_list(first)

    def clear_issues(self) -> None:
        super().clear_issues()
        for entry in self.entries:
            entry.errors = {}

    def _store_current(self) -> None:
        entry = self.current
        if entry is None or self._showing:
            return
        entry.raw["id"] = self.id_edit.text().strip()
        entry.raw["url"] = self.url_edit.text().strip()
        fingerprint = self.fingerprint.text().strip()
        if fingerprint:
            entry.raw["tlsFingerprint"] = fingerprint
        else:
            entry.raw.pop("tlsFingerprint", None)
        entry.token = self.token_field.state()

    def _refresh_list(self, select: RemoteEntry | None) -> None:
        self._store_current()
        self._showing = True
        self.list.clear()
        for entry in self.entries:
            item = QListWidgetItem(themed_icon("error") if entry.errors else themed_icon("tray-remote"),
                                   f"{entry.id}  —  {entry.raw.get('url') or ''}")
            self.list.addItem(item)
        self._showing = False
        self.current = None
        if select is not None and select in self.entries:
            self.list.setCurrentRow(self.entries.index(select))
        else:
            self._show(None)

    def _select(self, row: int) -> None:
        if not self._showing:
            self._store_current()
            self._show(self.entries[row] if 0 <= row < len(self.entries) else None)

    def _show(self, entry: RemoteEntry | None) -> None:
        self._showing = True
        self.current = entry
        self.editor.setEnabled(entry is not None)
        self.remove_button.setEnabled(entry is not None)
        shown = entry or RemoteEntry({})
        self.id_edit.setText(shown.id)
        self.url_edit.setText(str(shown.raw.get("url") or ""))
        self.fingerprint.setText(str(shown.raw.get("tlsFingerprint") or ""))
        self.token_field.load_state(shown.token)
        for key, row in self.rows.items():
            row.set_error(shown.errors.get(key, ""))
        self._showing = False

    def retranslate(self) -> None:
        super().retranslate()
        self.intro.setText(describe(MoltConfig, "remotes"))
        self.add_button.setText(tr("Add"))
        self.remove_button.setText(tr("Remove"))

