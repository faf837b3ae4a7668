"""The chat window's header: the session's title, its token usage and cost, the model picker.

`SessionHeader` only shows what it is given (the sessions.list row and defaults, the
models.list result, the usage of replies) and says which model the user picked
(`modelChosen(ref)`); the window makes the gateway calls.
Not here: gateway calls (chat_window.py).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QLocale, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from molt_desktop.ui.chat_messages import chat_icon, usage_cost
from molt_desktop.ui.i18n import tr

COST_FIELDS = ("estimatedCostUsd", "costUsd", "cost")  # what gateways put on a session row


def model_ref(provider: Any, model: Any) -> str:
    if not model:
        return ""
    return f"{provider}/{model}" if provider and "/" not in str(model) else str(model)


class SessionHeader(QWidget):
    modelChosen = Signal(str)  # "provider/model", picked by the user
    settingsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatHeader")
        self.row: dict[str, Any] = {}
        self.defaults: dict[str, Any] = {}
        self.models: list[dict[str, Any]] = []
        self.fallback_title = ""
        self._cost = 0.0
        self._cost_known = False
        top = QHBoxLayout(self)
        top.setContentsMargins(16, 8, 10, 8)
        top.setSpacing(10)
        self.title_label = QLabel()
        self.title_label.setObjectName("chatTitle")
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setWeight(font.Weight.DemiBold)
        self.title_label.setFont(font)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top.addWidget(self.title_label, 1)
        self.usage_label = QLabel()
        self.usage_label.setObjectName("usageLabel")
        self.usage_label.setProperty("muted", True)
        top.addWidget(self.usage_label)
        self.model_picker = QComboBox()
        self.model_picker.setObjectName("modelPicker")
        self.model_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_picker.activated.connect(self._picked)
        top.addWidget(self.model_picker)
        self.settings_button = QToolButton()
        self.settings_button.setObjectName("settingsButton")
        self.settings_button.setIcon(chat_icon("settings"))
        self.settings_button.setAutoRaise(True)
        self.settings_button.clicked.connect(self.settingsRequested)
        top.addWidget(self.settings_button)
        self.retranslate()

    # -- what the window tells it ----------------------------------------------------------
    def reset(self) -> None:
        self.row, self._cost, self._cost_known, self.fallback_title = {}, 0.0, False, ""
        self.show_all()

    def set_session(self, row: dict[str, Any] | None, defaults: dict[str, Any] | None) -> None:
        self.row = dict(row or {})
        self.defaults = dict(defaults or {})
        self.show_all()

    def set_models(self, models: list[dict[str, Any]]) -> None:
        self.models = [m for m in models if isinstance(m, dict) and m.get("id")]
        self._show_model()

    def add_usage(self, usage: Any) -> None:
        """A reply's usage: its cost counts when the session row has no cost of its own."""
        cost = usage.get("cost") if isinstance(usage, dict) else None
        if isinstance(cost, dict) and isinstance(cost.get("total"), (int, float)):
            self._cost += usage_cost(usage)
            self._cost_known = True
            self._show_usage()

    def choose_locally(self, ref: str) -> None:
        """Show `ref` as the session's model until sessions.list says otherwise."""
        provider, _, model = ref.rpartition("/")
        self.row = {**self.row, "providerOverride": None, "modelOverride": None,
                    "modelProvider": provider or None, "model": model}

    # -- reading -------------------------------------------------------------------------------
    def current_model(self) -> str:
        row, defaults = self.row, self.defaults
        return (model_ref(row.get("providerOverride"), row.get("modelOverride"))
                or model_ref(row.get("modelProvider"), row.get("model"))
                or model_ref(defaults.get("modelProvider"), defaults.get("model")))

    def session_cost(self) -> float | None:
        """The session's cost in USD: the gateway's figure, else the sum over its replies."""
        for name in COST_FIELDS:
            value = self.row.get(name)
            if isinstance(value, (int, float)):
                return float(value)
        return self._cost if self._cost_known else None

    def title(self) -> str:
        row = self.row
        return str(row.get("label") or row.get("displayName") or row.get("derivedTitle")
                   or self.fallback_title or tr("New chat"))

    # -- showing ---------------------------------------------------------------------------------
    def show_all(self) -> None:
        self.title_label.setText(self.title())
        self._show_usage()
        self._show_model()

    def retranslate(self) -> None:
        self.settings_button.setToolTip(tr("Settings"))
        self.model_picker.setToolTip(tr("The model that answers in this chat"))
        self.title_label.setText(self.title())
        self._show_usage()

    def _show_usage(self) -> None:
        row = self.row
        inputs, outputs = int(row.get("inputTokens") or 0), int(row.get("outputTokens") or 0)
        total = row.get("totalTokens")
        if not isinstance(total, int) or total < inputs + outputs:
            total = inputs + outputs
        locale = QLocale()
        tokens = locale.toString(int(total))
        cost = self.session_cost()
        if cost is None:
            text = tr("{tokens} tokens").format(tokens=tokens)
        else:
            text = tr("{tokens} tokens · ${cost}").format(tokens=tokens,
                                                         cost=f"{cost:.4f}" if cost < 1 else f"{cost:.2f}")
        self.usage_label.setText(text)
        self.usage_label.setToolTip(tr("Input tokens: {input}\nOutput tokens: {output}").format(
            input=locale.toString(inputs), output=locale.toString(outputs)))

    def _show_model(self) -> None:
        picker = self.model_picker
        picker.blockSignals(True)
        picker.clear()
        for model in self.models:
            ref = model_ref(model.get("provider"), model.get("id"))
            name = str(model.get("name") or model.get("id"))
            picker.addItem(f"{name} ({ref})" if name != ref else ref, ref)
        current = self.current_model()
        if current and picker.findData(current) < 0:
            picker.addItem(current, current)
        picker.setCurrentIndex(max(picker.findData(current), 0))
        picker.setEnabled(picker.count() > 0)
        picker.blockSignals(False)

    def _picked(self, index: int) -> None:
        ref = self.model_picker.itemData(index)
        if ref and ref != self.current_model():
            self.modelChosen.emit(str(ref))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
