"""The Settings dialog: a page list on the left, the pages on the right, OK / Apply / Cancel.

`SettingsDialog(bridge, actions)` reads the config with `config.get` and saves with
`config.patch` (only the changed keys, with the base hash), like any gateway client. Saving
validates first: each page's own checks, then the merged config against the pydantic schema;
problems are shown next to their fields and nothing is sent. Secrets go to the keyring before
the patch; without a keyring nothing is saved and the user is told why. When someone else
changed the config meanwhile (stale base hash), the dialog re-reads it and says so.
After a save it asks the app to switch the language (`actions.setLanguage`) and applies start
at login (autostart.py).

Pages: settings_providers.py, settings_models.py, settings_gateway.py, settings_remotes.py,
settings_sync.py, settings_sync_alerts.py, settings_general.py; the draft and saving: settings_store.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QStackedWidget, QVBoxLayout, QWidget)

from molt_desktop.autostart import set_autostart
from molt_desktop.config.secrets import SecretStoreUnavailable
from molt_desktop.logs import get_logger
from molt_desktop.ui.actions import DesktopActions
from molt_desktop.ui.bridge import GatewayBridge, describe_error
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.resources import icon
from molt_desktop.ui.settings_common import ERROR_COLOR, OK_COLOR, SettingsPage, keyring_refused
from molt_desktop.ui.settings_gateway import GatewayPage
from molt_desktop.ui.settings_remotes import RemotesPage
from molt_desktop.ui.settings_general import GeneralPage
from molt_desktop.ui.settings_models import ModelsPage
from molt_desktop.ui.settings_providers import ProvidersPage
from molt_desktop.ui.settings_store import ConfigDraft, InvalidConfig, Issue, StaleConfig, page_for
from molt_desktop.ui.settings_sync import SyncPage
from molt_desktop.ui.settings_sync_alerts import AlertsPage
from molt_desktop.ui.style import themed_icon

log = get_logger("ui")

PAGE_IDS = ("providers", "models", "gateway", "remotes", "sync", "alerts", "general")


class SettingsDialog(QDialog):
    def __init__(self, bridge: GatewayBridge, actions: DesktopActions, parent: QWidget | None = None, *,
                 state_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.actions = actions
        self.payload: dict[str, Any] | None = None
        self.pending: asyncio.Task[Any] | None = None
        self.setObjectName("settingsDialog")
        self.setWindowIcon(icon("settings"))
        self.resize(920, 680)
        self.setMinimumSize(720, 480)

        providers = ProvidersPage(bridge)
        gateway = GatewayPage(bridge)
        self.pages: dict[str, SettingsPage] = {
            "providers": providers, "models": ModelsPage(bridge, providers), "gateway": gateway,
            "remotes": RemotesPage(bridge, state_dir=state_dir), "sync": SyncPage(bridge, state_dir=state_dir), "alerts": AlertsPage(bridge),
            "general": GeneralPage(bridge),
        }
        gateway.tokenRegenerated.connect(lambda: self.bridge.spawn(self._refresh_base()))

        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 12)
        body = QHBoxLayout()
        body.setSpacing(0)
        self.nav = QListWidget()
        self.nav.setObjectName("settingsNav")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setFixedWidth(190)
        self.nav.setSpacing(2)
        # Item padding needs a stylesheet, and a styled item must also say how it looks selected.
        self.nav.setStyleSheet(
            "QListWidget#settingsNav { padding: 8px 6px; border: none; border-right: 1px solid palette(mid); outline: 0; }"
            "QListWidget#settingsNav::item { padding: 6px 8px; border-radius: 6px; color: palette(text); }"
            "QListWidget#settingsNav::item:selected { background: palette(highlight);"
            " color: palette(highlighted-text); }")
        self.stack = QStackedWidget()
        for page_id, page in self.pages.items():
            item = QListWidgetItem(themed_icon(page.icon_name), "")
            item.setData(Qt.ItemDataRole.UserRole, page_id)
            self.nav.addItem(item)
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        root.addLayout(body, 1)

        bottom = QHBoxLayout()
        bottom.setContentsMargins(16, 8, 16, 0)
        self.status = QLabel()
        self.status.setObjectName("settingsStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Apply
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button.clicked.connect(lambda: self._start_save(close=True))
        self.apply_button.clicked.connect(lambda: self._start_save(close=False))
        self.cancel_button.clicked.connect(self.reject)
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.buttons)
        root.addLayout(bottom)
        self.nav.setCurrentRow(0)
        self.retranslate()
        self._set_busy(True)
        self.pending = self.bridge.spawn(self.reload(), on_error=self._load_failed)

    # --- public ---------------------------------------------------------------------------------

    def show_page(self, page_id: str) -> None:
        if page_id in self.pages:
            self.nav.setCurrentRow(list(self.pages).index(page_id))

    def current_page(self) -> str:
        return list(self.pages)[self.stack.currentIndex()]

    async def reload(self) -> None:
        """Read the config and show it on every page."""
        payload = await self.bridge.call("config.get")
        self.payload = payload
        draft = ConfigDraft(payload)
        for page in self.pages.values():
            page.clear_issues()
            page.load(draft)
        self._mark_pages(set())
        self._set_busy(False)
        if not payload.get("valid", True):
            issues = [Issue(str(i.get("path") or ""), str(i.get("message") or ""))
                      for i in payload.get("issues") or [] if isinstance(i, dict)]
            self.show_issues(issues)
            self._say(False, tr("The config file has errors; saving is refused until they are fixed in the file "
                                "({path}).").format(path=payload.get("path") or ""))

    async def save(self) -> bool:
        """Validate and save what the pages show. True when saved (or nothing had changed)."""
        if self.payload is None:
            return False
        self._set_busy(True)
        try:
            return await self._save(self.payload)
        finally:
            self._set_busy(False)

    def show_issues(self, issues: list[Issue]) -> None:
        """Each issue next to its field on its page; the first page with an issue is shown."""
        by_page: dict[str, list[Issue]] = {page_id: [] for page_id in self.pages}
        loose: list[str] = []
        for issue in issues:
            page_id = page_for(issue.path)
            if page_id in by_page:
                by_page[page_id].append(issue)
            else:
                loose.append(f"{issue.path}: {issue.message}" if issue.path else issue.message)
        for page_id, page in self.pages.items():
            page.clear_issues()
            if by_page[page_id]:
                page.show_issues(by_page[page_id])
        failing = {page_id for page_id, found in by_page.items() if found}
        self._mark_pages(failing)
        if failing and self.current_page() not in failing:
            self.show_page(next(p for p in self.pages if p in failing))
        self._say(False, "\n".join([tr("Nothing was saved. Fix the marked settings, then save again."), *loose]))

    # --- saving ---------------------------------------------------------------------------------

    def _start_save(self, close: bool) -> None:
        def done(saved: bool) -> None:
            if saved and close:
                self.accept()

        self.pending = self.bridge.spawn(self.save(), on_result=done,
                                         on_error=lambda exc: self._say(False, describe_error(exc).message))

    async def _save(self, payload: dict[str, Any]) -> bool:
        draft = ConfigDraft(payload)
        for page in self.pages.values():
            page.clear_issues()
            page.collect(draft)
        issues = draft.issues or draft.validate()
        if issues:
            self.show_issues(issues)
            return False
        self._mark_pages(set())
        if not draft.changed():
            self._say(True, tr("Nothing to save: no setting was changed."))
            return True
        patch = draft.patch()
        self._say(None, tr("Saving…"))
        try:
            await draft.save(self.bridge.call)
        except SecretStoreUnavailable as exc:
            self._say(False, keyring_refused(exc))
            return False
        except StaleConfig:
            await self.reload()
            self._say(False, tr("The settings were changed elsewhere while this window was open. They have been "
                                "loaded again: check them and save again."))
            return False
        except InvalidConfig as exc:
            self.show_issues(exc.issues)
            return False
        except Exception as exc:
            self._say(False, describe_error(exc).message)
            return False
        log.info("settings saved (%s)", ", ".join(sorted(patch)) or "secrets only")
        problems = await self._apply_app_settings(patch.get("ui") if isinstance(patch.get("ui"), dict) else {})
        await self.reload()
        self._say(not problems, "\n".join([tr("Saved."), *problems]))
        return True

    async def _apply_app_settings(self, ui: dict[str, Any]) -> list[str]:
        """What the app itself does with a saved setting: the language now, the login item."""
        problems: list[str] = []
        if "language" in ui:
            self.actions.setLanguage.emit(str(ui["language"] or "auto"))
        if "autostart" in ui:
            try:
                await asyncio.to_thread(set_autostart, bool(ui["autostart"]))
            except OSError as exc:
                problems.append(tr("Start at login could not be changed: {error}").format(error=exc))
        return problems

    async def _refresh_base(self) -> None:
        """After a change saved outside Save (a new gateway token): compare against the new file."""
        self.payload = await self.bridge.call("config.get")

    # --- looks ----------------------------------------------------------------------------------

    def _load_failed(self, exc: BaseException) -> None:
        error = describe_error(exc)
        self._say(False, tr("The settings cannot be read: {error}").format(error=error.message))
        self.cancel_button.setEnabled(True)

    def _set_busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy)
        self.apply_button.setEnabled(not busy)

    def _mark_pages(self, failing: set[str]) -> None:
        for row, (page_id, page) in enumerate(self.pages.items()):
            item = self.nav.item(row)
            item.setIcon(themed_icon("error") if page_id in failing else themed_icon(page.icon_name))

    def _say(self, ok: bool | None, text: str) -> None:
        color = OK_COLOR if ok else ERROR_COLOR if ok is False else ""
        self.status.setStyleSheet(f"color: {color};" if color else "")
        self.status.setText(text)

    def retranslate(self) -> None:
        self.setWindowTitle(tr("Settings"))
        for row, page in enumerate(self.pages.values()):
            self.nav.item(row).setText(page.title())
        self.ok_button.setText(tr("OK"))
        self.apply_button.setText(tr("Apply"))
        self.cancel_button.setText(tr("Cancel"))
        self.ok_button.setToolTip(tr("Check and save the settings, then close"))
        self.apply_button.setToolTip(tr("Check and save the settings"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
