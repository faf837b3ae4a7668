"""The Providers page: model providers (add from a preset, edit, remove), their keys and models,
and a Test button that sends one tiny real request.

Each provider is `models.providers.<name>` of the config: kind (`api`), base URL, API key (kept
in the keyring as `models.<name>.apiKey`; the config holds the reference) and its models. The
page keeps one `ProviderEntry` per provider while the dialog is open and writes them back whole
in `collect()`; keys of the provider object the page does not show (headers, cost, ...) are kept.

Not here: the default model and fallbacks (settings_models.py), presets and the request itself
(settings_store.py).
"""

from __future__ import annotations

import asyncio
import copy
import re
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QMenu, QPushButton, QSplitter,
                               QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from molt_desktop.config.schema import ModelsConfig, ProviderConfig
from molt_desktop.config.secrets import get_secret, keyring_name
from molt_desktop.ui.bridge import GatewayBridge
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.settings_common import (ERROR_COLOR, OK_COLOR, EntryListMixin, SecretField, SettingsPage,
                                            api_label, describe_probe, error_label, key_changed)
from molt_desktop.ui.settings_store import (PRESETS, PROVIDER_NAME, ConfigDraft, Issue, ProbeResult, check_http_url,
                                           describe, is_redacted, preset, probe_provider, unique_name)
from molt_desktop.ui.style import themed_icon

MODEL_COLUMNS = ("id", "name", "contextWindow", "maxTokens")
_ISSUE_PATH = re.compile(r"^models\.providers\.([A-Za-z0-9_-]+)(?:\.(\w+))?")


@dataclass
class ProviderEntry:
    name: str
    original_name: str | None  # None: added in this dialog
    raw: dict[str, Any]  # the provider object from the file (secrets redacted)
    base_url: str = ""
    api: str = "openai-completions"
    models: list[dict[str, Any]] = field(default_factory=list)
    key: tuple[str | None, str | None, str] = (None, None, "")  # SecretField.state()
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, name: str, raw: dict[str, Any]) -> ProviderEntry:
        models = [copy.deepcopy(m) for m in raw.get("models") or [] if isinstance(m, dict)]
        api_key = raw.get("apiKey") if isinstance(raw.get("apiKey"), str) else None
        return cls(name, name, copy.deepcopy(raw), str(raw.get("baseUrl") or ""),
                   str(raw.get("api") or "openai-completions"), models, (api_key, None, ""))


class ProvidersPage(EntryListMixin, SettingsPage):
    page_id = "providers"
    icon_name = "chat"

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent)
        self.entries: list[ProviderEntry] = []
        self.current: ProviderEntry | None = None
        self.test_task: asyncio.Task[Any] | None = None
        self._showing = False

        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.intro.setProperty("muted", True)
        self.layout_.addWidget(self.intro)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setObjectName("providerList")
        self.list.currentRowChanged.connect(self._select)
        left_box.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.add_button = QToolButton()
        self.add_button.setObjectName("addProvider")
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(self.add_button)
        self.add_button.setMenu(self.add_menu)
        self.remove_button = QPushButton(themed_icon("delete"), "")
        self.remove_button.setObjectName("removeProvider")
        self.remove_button.clicked.connect(self.remove_current)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        left_box.addLayout(buttons)
        splitter.addWidget(left)

        self.editor = QWidget()
        editor_box = QVBoxLayout(self.editor)
        editor_box.setContentsMargins(8, 0, 0, 0)
        form = self.form()
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("providerName")
        self.api_combo = QComboBox()
        self.api_combo.setObjectName("providerApi")
        for api in ("anthropic-messages", "openai-completions"):
            self.api_combo.addItem("", api)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("providerBaseUrl")
        self.key_field = SecretField(bridge)
        self.key_field.setObjectName("providerApiKey")
        self.add_row(form, "name", self.name_edit, ModelsConfig, "providers", lambda: tr("Name"))
        self.add_row(form, "api", self.api_combo, ProviderConfig, "api", lambda: tr("Kind"))
        self.add_row(form, "baseUrl", self.url_edit, ProviderConfig, "baseUrl", lambda: tr("Base URL"))
        self.add_row(form, "apiKey", self.key_field, ProviderConfig, "apiKey", lambda: tr("API key"))
        editor_box.addLayout(form)
        self.name_edit.editingFinished.connect(self._name_edited)

        self.models_group = QGroupBox()
        models_box = QVBoxLayout(self.models_group)
        self.models_table = QTableWidget(0, len(MODEL_COLUMNS))
        self.models_table.setObjectName("providerModels")
        self.models_table.verticalHeader().hide()
        self.models_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.models_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.models_table.setMinimumHeight(90)
        self.models_table.setMaximumHeight(140)
        self.models_table.itemChanged.connect(lambda _item: self._models_edited())
        models_box.addWidget(self.models_table)
        self.models_error = error_label()
        models_box.addWidget(self.models_error)
        model_buttons = QHBoxLayout()
        self.add_model_button = QPushButton()
        self.add_model_button.clicked.connect(self.add_model_row)
        self.remove_model_button = QPushButton()
        self.remove_model_button.clicked.connect(self.remove_model_row)
        model_buttons.addWidget(self.add_model_button)
        model_buttons.addWidget(self.remove_model_button)
        model_buttons.addStretch(1)
        models_box.addLayout(model_buttons)
        editor_box.addWidget(self.models_group)

        test_row = QHBoxLayout()
        self.test_label = QLabel()
        test_row.addWidget(self.test_label)
        self.test_model = QComboBox()
        self.test_model.setObjectName("providerTestModel")
        self.test_button = QPushButton(themed_icon("refresh"), "")
        self.test_button.setObjectName("providerTest")
        self.test_button.clicked.connect(self.run_test)
        test_row.addWidget(self.test_model, 1)
        test_row.addWidget(self.test_button)
        editor_box.addLayout(test_row)
        self.test_result = QLabel()
        self.test_result.setObjectName("providerTestResult")
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        editor_box.addWidget(self.test_result)
        editor_box.addStretch(1)
        splitter.addWidget(self.editor)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([180, 520])
        self.layout_.addWidget(splitter, 1)
        self.empty_hint = QLabel()
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setProperty("muted", True)
        self.layout_.addWidget(self.empty_hint)
        for widget in (self.url_edit, self.name_edit):
            widget.textEdited.connect(lambda _t: self.changed.emit())
        self.api_combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.retranslate()
        self._show(None)

    def title(self) -> str:
        return tr("Providers")

    # --- loading and saving -------------------------------------------------------------------

    def load(self, draft: ConfigDraft) -> None:
        keep = self.current.name if self.current is not None else None
        providers = draft.raw("models.providers")
        self.entries = [ProviderEntry.from_config(name, raw) for name, raw in (providers or {}).items()
                        if isinstance(raw, dict)]
        for entry in self.entries:
            self._load_secret(entry)
        self._refresh_list(next((e for e in self.entries if e.name == keep), None)
                           or (self.entries[0] if self.entries else None))
        self.changed.emit()

    def _load_secret(self, entry: ProviderEntry) -> None:
        name = keyring_name(entry.key[0])
        if name is None:
            return

        def loaded(value: str | None) -> None:
            configured, _loaded, text = entry.key
            if value and not text:
                entry.key = (configured, value, value)
                if entry is self.current:
                    self.key_field.load_state(entry.key)

        self.bridge.spawn(asyncio.to_thread(get_secret, name), on_result=loaded)

    def collect(self, draft: ConfigDraft) -> None:
        self._store_current()
        names: set[str] = set()
        for entry in self.entries:
            entry.errors = {}
            where = f"models.providers.{entry.name}"
            if not PROVIDER_NAME.match(entry.name):
                entry.errors["name"] = tr("Use letters, digits, - and _ only (it becomes part of provider/model).")
            elif entry.name in names:
                entry.errors["name"] = tr("Another provider already has this name.")
            names.add(entry.name)
            if not check_http_url(entry.base_url):
                entry.errors["baseUrl"] = tr("Enter an http:// or https:// address, e.g. {example}.").format(
                    example="https://api.deepseek.com")
            if any(not str(m.get("id") or "").strip() for m in entry.models):
                entry.errors["models"] = tr("Every model needs an id.")
            if entry.original_name not in (None, entry.name) and is_redacted(entry.key[0]) and not entry.key[2]:
                entry.errors["apiKey"] = tr("Type the API key again: a key saved in the config file cannot move "
                                            "to a new provider name.")
            for key, message in entry.errors.items():
                draft.add_issue(f"{where}.{key}" if key != "name" else where, message)
        kept = {entry.original_name for entry in self.entries if entry.original_name == entry.name}
        for original in (draft.raw("models.providers") or {}):
            if original not in kept:
                draft.set_raw(("models", "providers", original), None)
        for entry in self.entries:
            provider = copy.deepcopy(entry.raw) if entry.original_name == entry.name else {
                k: v for k, v in entry.raw.items() if k != "apiKey" or not is_redacted(v)}
            provider["baseUrl"] = entry.base_url.strip()
            provider["api"] = entry.api
            provider["models"] = copy.deepcopy(entry.models)
            draft.set_raw(("models", "providers", entry.name), provider)
            if key_changed(entry.key):
                text = entry.key[2].strip()
                if text:
                    draft.add_secret(("models", "providers", entry.name, "apiKey"), f"models.{entry.name}.apiKey",
                                     text)
                else:
                    draft.set_raw(("models", "providers", entry.name, "apiKey"), None)

    def show_issues(self, issues: list[Issue]) -> None:
        loose: list[Issue] = []
        first: ProviderEntry | None = None
        for issue in issues:
            match = _ISSUE_PATH.match(issue.path)
            entry = next((e for e in self.entries if match and e.name == match.group(1)), None)
            if entry is None:
                loose.append(issue)
                continue
            key = match.group(2) if match and match.group(2) in ("baseUrl", "apiKey", "api", "models") else "name"
            entry.errors.setdefault(key, issue.message)
            first = first or entry
        super().show_issues(loose)
        if first is not None:
            self._refresh_list(first)

    def clear_issues(self) -> None:
        super().clear_issues()
        for entry in self.entries:
            entry.errors = {}
        self.models_error.hide()

    # --- editing --------------------------------------------------------------------------------

    def add_from_preset(self, preset_id: str | None) -> ProviderEntry:
        """A new provider from a preset (None: an empty OpenAI-compatible one), selected."""
        self._store_current()
        chosen = preset(preset_id) if preset_id else None
        name = unique_name(chosen.id if chosen else "custom", {e.name for e in self.entries})
        entry = ProviderEntry(name, None, {}, chosen.base_url if chosen else "",
                              chosen.api if chosen else "openai-completions",
                              [dict(m) for m in chosen.models] if chosen else [])
        self.entries.append(entry)
        self._refresh_list(entry)
        self.changed.emit()
        if not chosen or chosen.needs_key:
            self.key_field.edit.setFocus()
        return entry

    def remove_current(self) -> None:
        if self.current is None:
            return
        index = self.entries.index(self.current)
        self.entries.remove(self.current)
        self.current = None
        self._refresh_list(self.entries[min(index, len(self.entries) - 1)] if self.entries else None)
        self.changed.emit()

    def add_model_row(self) -> None:
        row = self.models_table.rowCount()
        self.models_table.insertRow(row)
        for column in range(len(MODEL_COLUMNS)):
            self.models_table.setItem(row, column, QTableWidgetItem(""))
        self.models_table.setCurrentCell(row, 0)
        self.models_table.editItem(self.models_table.item(row, 0))

    def remove_model_row(self) -> None:
        row = self.models_table.currentRow()
        if row >= 0:
            self.models_table.removeRow(row)
            self._models_edited()

    def choices(self) -> list[str]:
        """Every `provider/modelId` the providers on this page offer (for the model pickers)."""
        self._store_current()
        return [f"{e.name}/{m['id']}" for e in self.entries for m in e.models if str(m.get("id") or "").strip()]

    def _name_edited(self) -> None:
        if self.current is not None and self.name_edit.text().strip() != self.current.name:
            self._store_current()
            self._refresh_list(self.current)
            self.changed.emit()

    def _models_edited(self) -> None:
        if self._showing or self.current is None:
            return
        self._store_current()
        self._fill_test_models()
        self.changed.emit()

    def _store_current(self) -> None:
        entry = self.current
        if entry is None or self._showing:
            return
        entry.name = self.name_edit.text().strip()
        entry.api = str(self.api_combo.currentData())
        entry.base_url = self.url_edit.text().strip()
        entry.key = self.key_field.state()
        models: list[dict[str, Any]] = []
        for row in range(self.models_table.rowCount()):
            item = self.models_table.item(row, 0)
            model = copy.deepcopy(item.data(Qt.ItemDataRole.UserRole) or {}) if item is not None else {}
            for column, key in enumerate(MODEL_COLUMNS):
                cell = self.models_table.item(row, column)
                text = cell.text().strip() if cell is not None else ""
                if key in ("contextWindow", "maxTokens"):
                    digits = text.replace(",", "").replace("_", "")
                    if digits.isdigit() and int(digits) > 0:
                        model[key] = int(digits)
                    else:
                        model.pop(key, None)
                elif text:
                    model[key] = text
                else:
                    model.pop(key, None)
            models.append(model)
        entry.models = models

    def _list_item(self, entry: ProviderEntry) -> QListWidgetItem:
        item = QListWidgetItem(themed_icon("error") if entry.errors else themed_icon("chat"), entry.name)
        item.setToolTip(entry.base_url)
        return item

    def _show(self, entry: ProviderEntry | None) -> None:
        self._showing = True
        self.current = entry
        self.editor.setEnabled(entry is not None)
        self.remove_button.setEnabled(entry is not None)
        self.empty_hint.setVisible(not self.entries)
        entry = entry or ProviderEntry("", None, {})
        self.name_edit.setText(entry.name)
        self.api_combo.setCurrentIndex(max(0, self.api_combo.findData(entry.api)))
        self.url_edit.setText(entry.base_url)
        self.key_field.load_state(entry.key)
        self.models_table.setRowCount(0)
        for model in entry.models:
            row = self.models_table.rowCount()
            self.models_table.insertRow(row)
            for column, key in enumerate(MODEL_COLUMNS):
                value = model.get(key)
                item = QTableWidgetItem("" if value is None else str(value))
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, copy.deepcopy(model))
                self.models_table.setItem(row, column, item)
        for key in ("name", "baseUrl", "apiKey", "api"):
            self.rows[key].set_error(entry.errors.get(key, ""))
        self.models_error.setText(entry.errors.get("models", ""))
        self.models_error.setVisible("models" in entry.errors)
        self.test_result.clear()
        self._showing = False
        self._fill_test_models()

    def _fill_test_models(self) -> None:
        current = self.test_model.currentText()
        self.test_model.clear()
        if self.current is not None:
            for model in self.current.models:
                if str(model.get("id") or "").strip():
                    self.test_model.addItem(str(model["id"]))
        index = self.test_model.findText(current)
        self.test_model.setCurrentIndex(max(index, 0))
        self.test_button.setEnabled(self.test_model.count() > 0)

    # --- the Test button --------------------------------------------------------------------

    def run_test(self) -> None:
        self._store_current()
        entry = self.current
        if entry is None:
            return
        model_id = self.test_model.currentText().strip()
        key = self.key_field.value_for_test()
        if not check_http_url(entry.base_url):
            self._show_test(False, tr("Enter an http:// or https:// base URL first."))
            return
        if not key and is_redacted(entry.key[0]):
            self._show_test(False, tr("The saved key cannot be read back from the config file. Type it to test."))
            return
        self._show_test(None, tr("Testing {model}…").format(model=model_id))
        self.test_button.setEnabled(False)
        headers = entry.raw.get("headers") if isinstance(entry.raw.get("headers"), dict) else None
        self.test_task = self.bridge.spawn(
            probe_provider(entry.base_url, entry.api, key, model_id, headers=headers),
            on_result=self._tested, on_error=lambda exc: self._tested(ProbeResult(False, 0, "unknown", str(exc))))

    def _tested(self, result: ProbeResult) -> None:
        self.test_button.setEnabled(self.test_model.count() > 0)
        ok, text = describe_probe(result)
        self._show_test(ok, text)

    def _show_test(self, ok: bool | None, text: str) -> None:
        color = {True: OK_COLOR, False: ERROR_COLOR}.get(ok)  # type: ignore[arg-type]
        self.test_result.setStyleSheet(f"color: {color};" if color else "")
        self.test_result.setText(text)

    def retranslate(self) -> None:
        super().retranslate()
        self.intro.setText(tr("Model providers answer the chats. Add one from a preset, paste its API key, "
                              "and press Test. Keys are kept in the system keyring, never in the config file."))
        self.empty_hint.setText(tr("No provider yet: use Add to pick one."))
        self.add_button.setText(tr("Add"))
        self.add_button.setIcon(themed_icon("new-chat"))
        self.remove_button.setText(tr("Remove"))
        self.add_menu.clear()
        for item in PRESETS:
            action = QAction(item.label, self.add_menu)
            action.setObjectName(f"preset-{item.id}")
            action.triggered.connect(lambda _checked=False, pid=item.id: self.add_from_preset(pid))
            self.add_menu.addAction(action)
        self.add_menu.addSeparator()
        custom = QAction(tr("Other OpenAI-compatible provider"), self.add_menu)
        custom.triggered.connect(lambda _checked=False: self.add_from_preset(None))
        self.add_menu.addAction(custom)
        for index in range(self.api_combo.count()):
            self.api_combo.setItemText(index, api_label(str(self.api_combo.itemData(index))))
        self.models_group.setTitle(tr("Models"))
        self.models_group.setToolTip(describe(ProviderConfig, "models"))
        self.models_table.setHorizontalHeaderLabels([tr("Model id"), tr("Display name"), tr("Context window"),
                                                     tr("Max output tokens")])
        self.add_model_button.setText(tr("Add model"))
        self.remove_model_button.setText(tr("Remove model"))
        self.test_label.setText(tr("Test with model:"))
        self.test_button.setText(tr("Test"))
        self.test_button.setToolTip(tr("Send one tiny request with this URL, key and model"))
