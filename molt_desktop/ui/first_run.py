"""The first-run dialog: pick a model provider, paste its key, choose a model, and chat.

The app shows `FirstRunDialog(bridge)` when `await needs_first_run(bridge)` says that no
provider with a usable model is configured. It saves like the Providers page of the settings
(the key to the keyring as `models.<name>.apiKey`, the provider and `agents.defaults.model.primary`
with one `config.patch`), has the same Test button, and can be skipped (nothing is written).

Not here: the full provider editor (settings_providers.py), presets and saving (settings_store.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLayout,
                               QLineEdit,
                               QPushButton, QVBoxLayout, QWidget)

from molt_desktop.config.secrets import SecretStoreUnavailable
from molt_desktop.ui.bridge import GatewayBridge, describe_error
from molt_desktop.ui.dialogs import show_dialog
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.resources import icon
from molt_desktop.ui.settings_common import ERROR_COLOR, OK_COLOR, SecretField, describe_probe, keyring_refused
from molt_desktop.ui.settings_store import (PRESETS, ConfigDraft, InvalidConfig, ProbeResult, StaleConfig,
                                           check_http_url, get_in, preset, probe_provider, unique_name)
from molt_desktop.ui.style import themed_icon

CUSTOM = "custom"


async def needs_first_run(bridge: GatewayBridge) -> bool:
    """True when no configured provider offers a model the default could use."""
    payload = await bridge.call("config.get")
    config = payload.get("config") if isinstance(payload, dict) else None
    providers = get_in(config, "models.providers")
    if not isinstance(providers, dict) or not providers:
        return True
    primary = get_in(config, "agents.defaults.model.primary")
    if isinstance(primary, str) and primary.partition("/")[0] in providers and "/" in primary:
        return False
    return not any(isinstance(p, dict) and p.get("models") for p in providers.values())


class FirstRunDialog(QDialog):
    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.pending: asyncio.Task[Any] | None = None
        self.setObjectName("firstRunDialog")
        self.setWindowIcon(icon("molt-desktop"))
        root = QVBoxLayout(self)
        # A fixed minimum instead of the layout's: the result text changes while the dialog is
        # open, and a minimum that follows it would resize the window under the user's hands.
        root.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumSize(560, 420)
        self.resize(600, 460)
        root.setContentsMargins(20, 18, 20, 14)
        root.setSpacing(12)
        self.heading = QLabel()
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setWeight(font.Weight.DemiBold)
        self.heading.setFont(font)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.intro.setProperty("muted", True)
        root.addWidget(self.heading)
        root.addWidget(self.intro)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.preset = QComboBox()
        self.preset.setObjectName("firstRunPreset")
        for item in PRESETS:
            self.preset.addItem(item.label, item.id)
        self.preset.addItem("", CUSTOM)
        self.preset.currentIndexChanged.connect(lambda _i: self._preset_chosen())
        self.base_url = QLineEdit()
        self.base_url.setObjectName("firstRunBaseUrl")
        self.key = SecretField(bridge)
        self.key.setObjectName("firstRunKey")
        self.key_link = QLabel()
        self.key_link.setOpenExternalLinks(True)
        self.key_link.setProperty("muted", True)
        self.model = QComboBox()
        self.model.setObjectName("firstRunModel")
        self.model.setEditable(True)
        self.labels = [QLabel() for _ in range(4)]
        form.addRow(self.labels[0], self.preset)
        form.addRow(self.labels[1], self.base_url)
        form.addRow(self.labels[2], self.key)
        form.addRow("", self.key_link)
        form.addRow(self.labels[3], self.model)
        root.addLayout(form)

        test_row = QHBoxLayout()
        self.test_button = QPushButton(themed_icon("refresh"), "")
        self.test_button.setObjectName("firstRunTest")
        self.test_button.clicked.connect(self.run_test)
        self.result = QLabel()
        self.result.setObjectName("firstRunResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.result, 1)
        root.addLayout(test_row)
        root.addStretch(1)

        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton("", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("firstRunSave")
        self.save_button.setDefault(True)
        self.skip_button = self.buttons.addButton("", QDialogButtonBox.ButtonRole.RejectRole)
        self.skip_button.setObjectName("firstRunSkip")
        self.save_button.clicked.connect(self._start_save)
        self.skip_button.clicked.connect(self.reject)
        root.addWidget(self.buttons)
        self.retranslate()
        self._preset_chosen()

    def choose_preset(self, preset_id: str) -> None:
        self.preset.setCurrentIndex(max(0, self.preset.findData(preset_id)))

    def _preset_chosen(self) -> None:
        chosen = preset(str(self.preset.currentData()))
        self.base_url.setText(chosen.base_url if chosen else "")
        self.model.clear()
        if chosen:
            self.model.addItems([str(m["id"]) for m in chosen.models])
        self.key.setEnabled(chosen is None or chosen.needs_key)
        self.key_link.clear()
        self._preset_link_text()
        self.result.clear()

    def _values(self) -> tuple[str, str, str, str, str | None] | None:
        """(provider name, api, base URL, model id, key), or None after saying what is missing."""
        chosen = preset(str(self.preset.currentData()))
        url = self.base_url.text().strip()
        model = self.model.currentText().strip()
        key = self.key.text() or None
        if not check_http_url(url):
            self._say(False, tr("Enter an http:// or https:// base URL."))
            return None
        if not model:
            self._say(False, tr("Enter the model id to use."))
            return None
        if (chosen is None or chosen.needs_key) and not key:
            self._say(False, tr("Paste the API key of the provider."))
            return None
        api = chosen.api if chosen else "openai-completions"
        return (chosen.id if chosen else CUSTOM), api, url, model, key

    def run_test(self) -> None:
        values = self._values()
        if values is None:
            return
        _name, api, url, model, key = values
        self._say(None, tr("Testing {model}…").format(model=model))
        self.test_button.setEnabled(False)
        self.pending = self.bridge.spawn(
            probe_provider(url, api, key, model), on_result=self._tested,
            on_error=lambda exc: self._tested(ProbeResult(False, 0, "unknown", str(exc))))

    def _tested(self, result: ProbeResult) -> None:
        self.test_button.setEnabled(True)
        ok, text = describe_probe(result)
        self._say(ok, text)

    def _start_save(self) -> None:
        def done(saved: bool) -> None:
            if saved:
                self.accept()

        self.pending = self.bridge.spawn(self.save(), on_result=done,
                                         on_error=lambda exc: self._say(False, describe_error(exc).message))

    async def save(self) -> bool:
        """Save the provider, its key and the default model. True when saved."""
        values = self._values()
        if values is None:
            return False
        base_name, api, url, model, key = values
        self.save_button.setEnabled(False)
        try:
            payload = await self.bridge.call("config.get")
            draft = ConfigDraft(payload)
            existing = draft.raw("models.providers")
            name = unique_name(base_name, set(existing) if isinstance(existing, dict) else set())
            chosen = preset(base_name)
            models = [dict(m) for m in chosen.models] if chosen else []
            if model not in [m["id"] for m in models]:
                models.insert(0, {"id": model, "name": model})
            draft.set_raw(("models", "providers", name), {"baseUrl": url, "api": api, "models": models})
            if key:
                draft.add_secret(("models", "providers", name, "apiKey"), f"models.{name}.apiKey", key)
            draft.set_raw(("agents", "defaults", "model", "primary"), f"{name}/{model}")
            issues = draft.validate()
            if issues:
                self._say(False, "\n".join(f"{i.path}: {i.message}" for i in issues))
                return False
            self._say(None, tr("Saving…"))
            await draft.save(self.bridge.call)
        except SecretStoreUnavailable as exc:
            self._say(False, keyring_refused(exc))
            return False
        except StaleConfig:
            self._say(False, tr("The settings changed meanwhile. Press Save again."))
            return False
        except InvalidConfig as exc:
            self._say(False, "\n".join(f"{i.path}: {i.message}" for i in exc.issues))
            return False
        finally:
            self.save_button.setEnabled(True)
        self._say(True, tr("Saved. You can chat now."))
        return True

    def _say(self, ok: bool | None, text: str) -> None:
        color = OK_COLOR if ok else ERROR_COLOR if ok is False else ""
        self.result.setStyleSheet(f"color: {color};" if color else "")
        self.result.setText(text)

    async def ask(self) -> bool:
        """Show the dialog and wait; True when a provider was saved."""
        return await show_dialog(self) == QDialog.DialogCode.Accepted

    def retranslate(self) -> None:
        self.setWindowTitle(tr("Welcome to molt-desktop"))
        self.heading.setText(tr("Connect a model provider"))
        self.intro.setText(tr("Chats are answered by a model provider. Pick yours, paste its API key and choose a "
                              "model. The key is kept in the system keyring. You can change all of this later in "
                              "Settings."))
        for label, text in zip(self.labels, (tr("Provider"), tr("Base URL"), tr("API key"), tr("Model")),
                               strict=True):
            label.setText(text)
        self.preset.setItemText(self.preset.findData(CUSTOM), tr("Other OpenAI-compatible provider"))
        self.test_button.setText(tr("Test"))
        self.save_button.setText(tr("Save"))
        self.skip_button.setText(tr("Skip"))
        self._preset_link_text()

    def _preset_link_text(self) -> None:
        chosen = preset(str(self.preset.currentData()))
        if chosen and chosen.needs_key and chosen.key_url:
            text = tr("Where do I get a key?")
            self.key_link.setText(f'<a href="{chosen.key_url}">{text}</a>')

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
