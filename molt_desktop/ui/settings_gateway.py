"""The Gateway page: port, who may connect, the gateway token.

The gateway token is shown masked, can be copied, and regenerated: a new random token goes to
the keyring as `gateway.token`, the config points at it (`keyring:gateway.token`) at once, and
this app reconnects with it; other clients must be given the new token. Port and listening
address are saved with the dialog and take effect after a restart.

The Remote gateways page is settings_remotes.py.
"""

from __future__ import annotations

import asyncio
import secrets as random_tokens
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QMessageBox,
                               QPushButton, QSpinBox, QToolButton, QWidget)

from molt_desktop.config.schema import GatewayAuthConfig, GatewayConfig
from molt_desktop.config.secrets import GATEWAY_TOKEN_NAME, KEYRING_PREFIX, get_secret, keyring_name, set_secret
from molt_desktop.ui.bridge import GatewayBridge, describe_error
from molt_desktop.ui.dialogs import show_dialog
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.settings_common import (ERROR_COLOR, OK_COLOR, SettingsPage, warning_label)
from molt_desktop.ui.settings_store import ConfigDraft
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
