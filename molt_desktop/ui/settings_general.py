"""The General page: language, start at login, start minimised, close to tray, and where secrets go.

The language is applied live by the app after saving (`actions.setLanguage`); start at login is
applied by the dialog after saving (autostart.py). The keyring line tells the user whether
secrets can be stored on this computer at all.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QWidget

from molt_desktop.autostart import autostart_enabled
from molt_desktop.config.secrets import KeyringStatus, keyring_status
from molt_desktop.logs import get_logger
from molt_desktop.ui.bridge import GatewayBridge
from molt_desktop.ui.i18n import LANGUAGES, language_name, tr
from molt_desktop.ui.settings_common import WARNING_COLOR, SettingsPage
from molt_desktop.ui.settings_store import ConfigDraft

log = get_logger("ui")


class GeneralPage(SettingsPage):
    page_id = "general"
    icon_name = "settings"

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent)
        self.keyring: KeyringStatus | None = None
        form = self.form()
        self.language = QComboBox()
        self.language.setObjectName("language")
        self.language.addItem("", "auto")
        for lang in LANGUAGES:
            self.language.addItem(language_name(lang), lang)
        self.bind(form, "ui.language", self.language, lambda: tr("Language"))
        self.autostart = QCheckBox()
        self.autostart.setObjectName("autostart")
        self.bind(form, "ui.autostart", self.autostart, lambda: tr("Start at login"))
        self.start_minimized = QCheckBox()
        self.start_minimized.setObjectName("startMinimized")
        self.bind(form, "ui.startMinimized", self.start_minimized, lambda: tr("Start minimised"))
        self.close_to_tray = QCheckBox()
        self.close_to_tray.setObjectName("closeToTray")
        self.bind(form, "ui.closeToTray", self.close_to_tray, lambda: tr("Close to tray"))
        self.keyring_label = QLabel()
        self.keyring_label.setObjectName("keyringStatus")
        self.keyring_label.setWordWrap(True)
        self.keyring_label.setProperty("muted", True)
        self.secrets_title = QLabel()
        form.addRow(self.secrets_title, self.keyring_label)
        self.layout_.addLayout(form)
        self.layout_.addStretch(1)
        self.retranslate()
        bridge.spawn(asyncio.to_thread(keyring_status), on_result=self._keyring_checked)

    def title(self) -> str:
        return tr("General")

    def load(self, draft: ConfigDraft) -> None:
        self.load_bound(draft)
        # The login item itself is the truth: the installer may have made it (its "start at login"
        # box) before the config said so. Saving then writes what the box shows.
        try:
            if autostart_enabled():
                self.autostart.setChecked(True)
        except OSError as exc:
            log.debug("cannot read the login item: %s", exc)

    def collect(self, draft: ConfigDraft) -> None:
        self.collect_bound(draft)

    def _keyring_checked(self, status: KeyringStatus) -> None:
        self.keyring = status
        self.retranslate()

    def retranslate(self) -> None:
        super().retranslate()
        self.language.setItemText(0, tr("Automatic (system language)"))
        self.secrets_title.setText(tr("Secrets"))
        status = self.keyring
        if status is None:
            self.keyring_label.setText(tr("Checking the system keyring…"))
        elif status.available and status.secure:
            self.keyring_label.setText(tr("API keys, tokens and passwords are kept in the system keyring "
                                          "({backend}).").format(backend=status.backend))
        elif status.available:
            self.keyring_label.setText(tr("Secrets are kept by {backend}, which stores them unencrypted on "
                                          "disk.").format(backend=status.backend))
        else:
            self.keyring_label.setStyleSheet(f"color: {WARNING_COLOR};")
            self.keyring_label.setText(tr("No system keyring is available, so API keys, tokens and passwords "
                                          "cannot be saved. Start GNOME Keyring or KWallet (or another Secret "
                                          "Service) and open the settings again."))
