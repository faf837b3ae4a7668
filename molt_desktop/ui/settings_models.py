"""The Default model page: `agents.defaults.model.primary` and its ordered fallbacks.

The choices are the models of the providers as the Providers page shows them right now, so a
provider added a moment ago can be picked before saving. A typed `provider/modelId` that no
provider lists is allowed (Ollama models pulled later), as long as its provider exists.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QListWidget, QPushButton, QVBoxLayout, QWidget

from molt_desktop.config.schema import ModelSelection
from molt_desktop.ui.bridge import GatewayBridge
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.settings_common import SettingsPage
from molt_desktop.ui.settings_providers import ProvidersPage
from molt_desktop.ui.settings_store import ConfigDraft

PRIMARY = "agents.defaults.model.primary"
FALLBACKS = "agents.defaults.model.fallbacks"


class ModelsPage(SettingsPage):
    page_id = "models"
    icon_name = "send"

    def __init__(self, bridge: GatewayBridge, providers: ProvidersPage, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent)
        self.providers = providers
        form = self.form()
        self.primary = QComboBox()
        self.primary.setObjectName("primaryModel")
        self.primary.setEditable(True)
        self.add_row(form, PRIMARY, self.primary, ModelSelection, "primary", lambda: tr("Default model"))
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.fallbacks = QListWidget()
        self.fallbacks.setObjectName("fallbackModels")
        self.fallbacks.setMaximumHeight(160)
        column.addWidget(self.fallbacks)
        row = QHBoxLayout()
        self.fallback_choice = QComboBox()
        self.fallback_choice.setObjectName("fallbackChoice")
        self.fallback_choice.setEditable(True)
        self.add_button = QPushButton()
        self.add_button.clicked.connect(self.add_fallback)
        self.remove_button = QPushButton()
        self.remove_button.clicked.connect(self.remove_fallback)
        self.up_button = QPushButton()
        self.up_button.clicked.connect(lambda: self.move_fallback(-1))
        self.down_button = QPushButton()
        self.down_button.clicked.connect(lambda: self.move_fallback(1))
        row.addWidget(self.fallback_choice, 1)
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            row.addWidget(button)
        column.addLayout(row)
        self.add_row(form, FALLBACKS, box, ModelSelection, "fallbacks", lambda: tr("Fallbacks"))
        self.layout_.addLayout(form)
        self.layout_.addStretch(1)
        providers.changed.connect(self.refresh_choices)
        self.retranslate()

    def title(self) -> str:
        return tr("Default model")

    def refresh_choices(self) -> None:
        choices = self.providers.choices()
        for combo in (self.primary, self.fallback_choice):
            text = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(choices)
            combo.setEditText(text)
            combo.blockSignals(False)
        if not self.primary.currentText() and choices:
            self.primary.setEditText(choices[0])

    def load(self, draft: ConfigDraft) -> None:
        self.refresh_choices()
        self.primary.setEditText(str(draft.effective(PRIMARY) or ""))
        self.fallbacks.clear()
        self.fallbacks.addItems([str(f) for f in draft.effective(FALLBACKS) or []])
        if not self.primary.currentText():
            self.refresh_choices()

    def fallback_list(self) -> list[str]:
        return [self.fallbacks.item(i).text() for i in range(self.fallbacks.count())]

    def add_fallback(self) -> None:
        ref = self.fallback_choice.currentText().strip()
        if ref and ref not in self.fallback_list():
            self.fallbacks.addItem(ref)

    def remove_fallback(self) -> None:
        row = self.fallbacks.currentRow()
        if row >= 0:
            self.fallbacks.takeItem(row)

    def move_fallback(self, step: int) -> None:
        row = self.fallbacks.currentRow()
        target = row + step
        if row >= 0 and 0 <= target < self.fallbacks.count():
            item = self.fallbacks.takeItem(row)
            self.fallbacks.insertItem(target, item)
            self.fallbacks.setCurrentRow(target)

    def collect(self, draft: ConfigDraft) -> None:
        names = {entry.name for entry in self.providers.entries}
        primary = self.primary.currentText().strip()
        fallbacks = self.fallback_list()
        for path, ref in [(PRIMARY, primary)] + [(f"{FALLBACKS}[{i}]", f) for i, f in enumerate(fallbacks)]:
            if not ref:
                continue
            provider, sep, model = ref.partition("/")
            if not sep or not provider or not model:
                draft.add_issue(path if path == PRIMARY else FALLBACKS,
                                tr("Write the model as provider/modelId, e.g. {example}.").format(
                                    example="deepseek/deepseek-chat"))
            elif provider not in names:
                draft.add_issue(path if path == PRIMARY else FALLBACKS,
                                tr("There is no provider named {name}. Add it on the Providers page.").format(
                                    name=provider))
        draft.set(PRIMARY, primary or None)
        draft.set(FALLBACKS, fallbacks)

    def retranslate(self) -> None:
        super().retranslate()
        self.add_button.setText(tr("Add"))
        self.remove_button.setText(tr("Remove"))
        self.up_button.setText(tr("Up"))
        self.down_button.setText(tr("Down"))
