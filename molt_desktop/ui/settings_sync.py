"""The Sync page (`sync`): where the sessions are copied to, a Test of those settings, and Sync now.

The fields follow the connection kind: SFTP (server, port, user, key file or password, folder on
the server), SMB (server, port, share, user, password, folder inside the share) or a folder
already mounted on this computer (only the folder). The password goes to the keyring
(`sync.password`); the config holds the `keyring:` reference. Test connects with what the page
shows, saved or not (sync/settings.py `test_settings`), and shows the device folders found there
and the server's SSH host key fingerprint. Sync now and the last-sync line appear when the app
runs a sync service (ui/sync_bridge.py).

Not here: connecting and syncing (sync/), the Alerts page (settings_sync_alerts.py).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLineEdit,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from molt_desktop.config.schema import SyncConfig
from molt_desktop.config.secrets import keyring_name
from molt_desktop.logs import register_secret
from molt_desktop.ui.bridge import GatewayBridge
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.settings_common import (ERROR_COLOR, OK_COLOR, SecretField, SettingsPage, collect_secret,
                                             text_label)
from molt_desktop.ui.settings_store import ConfigDraft
from molt_desktop.ui.sync_bridge import SyncBridge, last_sync_line

BACKENDS = ("sftp", "smb", "folder")
# The rows each connection kind shows (the others are hidden, their values kept).
ROWS = {
    "sftp": ("sync.host", "sync.port", "sync.username", "sync.keyFile", "sync.password"),
    "smb": ("sync.host", "sync.port", "sync.share", "sync.username", "sync.password"),
    "folder": (),
}
CONNECTION_ROWS = ("sync.host", "sync.port", "sync.share", "sync.username", "sync.keyFile", "sync.password")
MAX_FOLDERS_SHOWN = 20


class SyncPage(SettingsPage):
    page_id = "sync"
    icon_name = "sync"

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None, *, state_dir: Path | None = None) -> None:
        super().__init__(bridge, parent)
        self.sync = SyncBridge.of(bridge)
        self.state_dir = state_dir or (self.sync.state_dir if self.sync is not None else None)
        self.form_ = form = self.form()
        self.enabled = QCheckBox()
        self.enabled.setObjectName("syncEnabled")
        self.bind(form, "sync.enabled", self.enabled, lambda: tr("Sync sessions"))
        self.backend = QComboBox()
        self.backend.setObjectName("syncBackend")
        for kind in BACKENDS:
            self.backend.addItem("", kind)
        self.backend.currentIndexChanged.connect(lambda _i: self._backend_changed())
        self.bind(form, "sync.backend", self.backend, lambda: tr("Connection"))
        self.host = QLineEdit()
        self.host.setObjectName("syncHost")
        self.host.setPlaceholderText("backup.example.com")
        self.bind(form, "sync.host", self.host, lambda: tr("Server"))
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setGroupSeparatorShown(False)
        self.bind(form, "sync.port", self.port, lambda: tr("Port"))
        self.share = QLineEdit()
        self.share.setObjectName("syncShare")
        self.share.setPlaceholderText("backup")
        self.bind(form, "sync.share", self.share, lambda: tr("Share"))
        self.username = QLineEdit()
        self.username.setObjectName("syncUser")
        self.bind(form, "sync.username", self.username, lambda: tr("User name"))
        key_box, self.key_file, self.browse = _with_button()
        self.key_file.setPlaceholderText("~/.ssh/id_ed25519")
        self.browse.clicked.connect(self._browse_key)
        self.bound["sync.keyFile"] = self.key_file
        self.add_row(form, "sync.keyFile", key_box, SyncConfig, "keyFile", lambda: tr("SSH key file"))
        self.password = SecretField(bridge)
        self.password.setObjectName("syncPassword")
        self.add_row(form, "sync.password", self.password, SyncConfig, "password", lambda: tr("Password"))
        path_box, self.path, self.browse_path = _with_button()
        self.path.setObjectName("syncPath")
        self.browse_path.clicked.connect(self._browse_folder)
        self.bound["sync.path"] = self.path
        self.add_row(form, "sync.path", path_box, SyncConfig, "path", self._path_label)
        self.device = QLineEdit()
        self.device.setObjectName("syncDevice")
        self.device.setPlaceholderText(socket.gethostname())
        self.bind(form, "sync.deviceName", self.device, lambda: tr("This computer's name"))
        self.interval = QSpinBox()
        self.interval.setRange(10, 7 * 24 * 3600)
        self.interval.setSingleStep(60)
        self.bind(form, "sync.intervalSeconds", self.interval, lambda: tr("Interval (seconds)"))
        self.watch = QCheckBox()
        self.bind(form, "sync.watch", self.watch, lambda: tr("Sync on change"))
        self.layout_.addLayout(form)
        self.layout_.addWidget(self._actions())
        self.layout_.addStretch(1)
        if self.sync is not None:
            self.sync.statusChanged.connect(self._status_changed)
            self.sync.runningChanged.connect(lambda _r: self._show_status())
        self._backend_changed()
        self.retranslate()

    def _actions(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.test_button = QPushButton()
        self.test_button.setObjectName("syncTest")
        self.test_button.clicked.connect(self.start_test)
        self.sync_button = QPushButton()
        self.sync_button.setObjectName("syncNow")
        self.sync_button.clicked.connect(self.start_sync_now)
        row.addWidget(self.test_button)
        row.addWidget(self.sync_button)
        row.addStretch(1)
        column.addLayout(row)
        self.test_result = text_label("syncTestResult")
        self.fingerprint = text_label("syncFingerprint")
        self.last_sync = text_label("syncLastSync")
        self.last_sync.setProperty("muted", True)
        for label in (self.test_result, self.fingerprint, self.last_sync):
            column.addWidget(label)
        self.test_result.hide()
        self.fingerprint.hide()
        self.sync_button.setVisible(self.sync is not None and self.sync.available)
        self.last_sync.setVisible(self.sync is not None and self.sync.available)
        return box

    def title(self) -> str:
        return tr("Sync")

    # --- load / collect -----------------------------------------------------------------------

    def load(self, draft: ConfigDraft) -> None:
        self.load_bound(draft)
        self.password.load(draft.raw("sync.password"))
        self._backend_changed()
        self._show_status()

    def collect(self, draft: ConfigDraft) -> None:
        self.collect_bound(draft)
        collect_secret(draft, self.password, "sync.password", "sync.password")
        if not self.enabled.isChecked():
            return
        kind = self.kind()
        if kind in ("sftp", "smb") and not self.host.text().strip():
            draft.add_issue("sync.host", tr("Enter the server to sync with, or turn sync off."))
        if kind == "smb" and not self.share.text().strip():
            draft.add_issue("sync.share", tr("Enter the name of the share on the server."))
        if kind == "folder" and not self.path.text().strip():
            draft.add_issue("sync.path", tr("Choose the mounted folder to sync with."))

    def kind(self) -> str:
        return str(self.backend.currentData() or "sftp")

    def draft_config(self) -> SyncConfig:
        """The settings as the page shows them, saved or not (what Test connects with)."""
        password: str | None = self.password.value_for_test()
        configured = self.password.configured
        if password is None and keyring_name(configured):
            password = configured  # still in the keyring: test_settings reads it
        elif password is None and configured and configured.startswith("${"):
            password = configured
        if password and not keyring_name(password):
            register_secret(password)

        def text(edit: QLineEdit) -> str | None:
            return edit.text().strip() or None

        return SyncConfig(enabled=True, backend=self.kind(), host=text(self.host),  # type: ignore[arg-type]
                          port=self.port.value() or None, share=text(self.share), username=text(self.username),
                          keyFile=text(self.key_file), password=password, path=text(self.path),
                          deviceName=text(self.device), intervalSeconds=self.interval.value(),
                          watch=self.watch.isChecked())

    # --- Test ---------------------------------------------------------------------------------

    def start_test(self) -> Any:
        self.test_button.setEnabled(False)
        self._say_test(None, tr("Connecting…"))
        self.fingerprint.hide()
        return self.bridge.spawn(self.run_test(), on_error=self._test_crashed)

    async def run_test(self) -> Any:
        from molt_desktop.sync.settings import test_settings

        try:
            result = await test_settings(self._state_dir(), self.draft_config())
        finally:
            self.test_button.setEnabled(True)
        self.show_test(result)
        return result

    def show_test(self, result: Any) -> None:
        if result.ok:
            folders = sorted(e.name for e in result.entries if e.is_dir and not e.name.startswith("."))
            if folders:
                shown = "\n".join(f"  {name}" for name in folders[:MAX_FOLDERS_SHOWN])
                more = len(folders) - MAX_FOLDERS_SHOWN
                if more > 0:
                    shown += "\n  " + tr("… and {count} more").format(count=more)
                text = tr("Connected. Device folders there:") + "\n" + shown
            else:
                text = tr("Connected. The folder has no device folders yet: the first sync creates this "
                          "computer's.")
            self._say_test(True, text)
        else:
            self._say_test(False, tr("The test failed: {error}").format(error=result.message))
        if result.fingerprint:
            self.fingerprint.setText(tr("Server host key: {fingerprint}").format(fingerprint=result.fingerprint))
            self.fingerprint.show()

    def _test_crashed(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self._say_test(False, tr("The test failed: {error}").format(error=exc))

    def _say_test(self, ok: bool | None, text: str) -> None:
        color = OK_COLOR if ok else ERROR_COLOR if ok is False else ""
        self.test_result.setStyleSheet(f"color: {color};" if color else "")
        self.test_result.setText(text)
        self.test_result.show()

    def _state_dir(self) -> Path:
        if self.state_dir is not None:
            return self.state_dir
        from molt_desktop import paths

        return paths.state_dir()

    # --- Sync now -----------------------------------------------------------------------------

    def start_sync_now(self) -> Any:
        if self.sync is None:
            return None

        def say(_title: str, text: str, level: str) -> None:
            self._say_test(level != "error", text)

        return self.bridge.spawn(self.sync.run_now(say, self))

    def _status_changed(self, _status: Any) -> None:
        self._show_status()

    def _show_status(self) -> None:
        if self.sync is None or not self.sync.available:
            return
        status = self.sync.status()
        self.last_sync.setText(last_sync_line(status))
        if status is not None and status.fingerprint and self.kind() == "sftp":  # SSH host keys only
            if self.fingerprint.isHidden():
                self.fingerprint.setText(tr("Server host key: {fingerprint}").format(fingerprint=status.fingerprint))
                self.fingerprint.show()
        self.sync_button.setEnabled(bool(status is not None and status.enabled) and not self.sync.running)
        self.sync_button.setToolTip("" if status is not None and status.enabled else
                                    tr("Turn sync on and save the settings first."))

    # --- looks --------------------------------------------------------------------------------

    def _backend_changed(self) -> None:
        shown = ROWS.get(self.kind(), ())
        for path in CONNECTION_ROWS:
            self.form_.setRowVisible(self.rows[path].label, path in shown)
        self.browse_path.setVisible(self.kind() == "folder")
        if self.kind() != "sftp":
            self.fingerprint.hide()
        self.path.setPlaceholderText({"sftp": "/opt/moltbot-backup", "smb": "molt/sessions"}.get(
            self.kind(), tr("e.g. /mnt/backup/molt")))
        self.port.setSpecialValueText(tr("Default ({port})").format(port=445 if self.kind() == "smb" else 22))
        self.rows["sync.path"].retranslate()
        self._show_status()

    def _path_label(self) -> str:
        return {"sftp": tr("Folder on the server"), "smb": tr("Folder inside the share")}.get(
            self.kind(), tr("Mounted folder"))

    def _browse_key(self) -> None:
        dialog = QFileDialog(self, tr("Choose the SSH private key"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.key_file.setText)
        dialog.open()

    def _browse_folder(self) -> None:
        dialog = QFileDialog(self, tr("Choose the mounted folder"))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.path.setText)
        dialog.open()

    def retranslate(self) -> None:
        super().retranslate()
        names = {"sftp": tr("SFTP (SSH)"), "smb": tr("SMB (Windows share)"), "folder": tr("Mounted folder")}
        for index in range(self.backend.count()):
            self.backend.setItemText(index, names[str(self.backend.itemData(index))])
        self.browse.setText(tr("Browse…"))
        self.browse_path.setText(tr("Browse…"))
        self.test_button.setText(tr("Test connection"))
        self.test_button.setToolTip(tr("Connect with the settings shown (saved or not) and list the folder"))
        self.sync_button.setText(tr("Sync now"))
        self._backend_changed()
        self._show_status()


def _with_button() -> tuple[QWidget, QLineEdit, QPushButton]:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    edit = QLineEdit()
    button = QPushButton()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return box, edit, button


__all__ = ["SyncPage"]
