"""Building blocks of the settings pages: the page base class, form rows with help and errors,
and the masked secret field.

A `SettingsPage` shows one group of settings. The dialog calls `load(draft)` with a fresh
ConfigDraft after every read, `collect(draft)` before saving (the page writes what it shows and
adds its own input problems with `draft.add_issue`), and `show_issues(issues)` with the problems
the schema or the gateway found. A `FieldRow` is one labelled input with the schema description
of its setting as help text and tooltip, and an error line under it.

The config draft, presets and saving live in settings_store.py; the pages in settings_*.py.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QScrollArea, QSizePolicy, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)

from molt_desktop.config.secrets import SecretStoreUnavailable, get_secret, keyring_name
from molt_desktop.ui.bridge import GatewayBridge
from molt_desktop.ui.i18n import tr
from molt_desktop.config.schema import MoltConfig
from molt_desktop.ui.settings_store import ConfigDraft, Issue, ProbeResult, describe, is_redacted, section_model

ERROR_COLOR = "#cf222e"
WARNING_COLOR = "#9a6700"
OK_COLOR = "#1a7f37"


def help_html(text: str) -> str:
    """A schema description as rich text: `code` spans in a monospace font."""
    escaped = html.escape(text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def text_label(name: str) -> QLabel:
    """A wrapped, selectable plain-text label (results, fingerprints, errors people may copy)."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def error_label() -> QLabel:
    label = text_label("fieldError")
    label.setStyleSheet(f"color: {ERROR_COLOR};")
    label.hide()
    return label


class FieldRow:
    """A label, an input, the schema's help text and an error line, added to a QFormLayout."""

    def __init__(self, form: QFormLayout, widget: QWidget, model: type[BaseModel] | None, field: str,
                 label: Callable[[], str]) -> None:
        self.widget = widget
        self.model = model
        self.field = field
        self._label_text = label
        self.label = QLabel()
        self.label.setBuddy(widget)
        self.help = QLabel()
        self.help.setProperty("muted", True)
        self.help.setWordWrap(True)
        self.help.setTextFormat(Qt.TextFormat.RichText)
        font = self.help.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        self.help.setFont(font)
        self.error = error_label()
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        column.addWidget(self.help)
        column.addWidget(self.error)
        form.addRow(self.label, box)
        self.retranslate()

    def retranslate(self) -> None:
        self.label.setText(self._label_text())
        text = describe(self.model, self.field) if self.model is not None else ""
        self.help.setText(help_html(text))
        self.help.setVisible(bool(text))
        self.widget.setToolTip(text)

    def set_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))


class SecretField(QWidget):
    """A masked input for an API key, token or password, with a Show toggle.

    `load(configured)` takes the config value: a `keyring:<name>` reference is looked up (in a
    worker thread) and shown masked; a redacted value or `${VAR}` cannot be shown and is kept
    unless the user types a new one. `changed()` says whether to store `text()`.
    """

    edited = Signal()

    def __init__(self, bridge: GatewayBridge | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.configured: str | None = None
        self.loaded: str | None = None  # what the keyring held when the field was loaded
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setClearButtonEnabled(True)
        self.edit.textEdited.connect(lambda _t: self.edited.emit())
        self.toggle = QToolButton()
        self.toggle.setCheckable(True)
        self.toggle.toggled.connect(self._toggled)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.toggle)
        self.retranslate()

    def load(self, configured: Any, *, keep_text: str | None = None) -> None:
        self.configured = configured if isinstance(configured, str) and configured else None
        self.loaded = None
        self.edit.setText(keep_text or "")
        self._placeholder()
        name = keyring_name(self.configured)
        if name and keep_text is None and self.bridge is not None:
            self.bridge.spawn(asyncio.to_thread(get_secret, name), on_result=self._loaded)

    def load_state(self, state: tuple[str | None, str | None, str]) -> None:
        """Restore what `state()` returned (the providers list keeps one per provider)."""
        self.configured, self.loaded, text = state
        self.edit.setText(text)
        self._placeholder()

    def state(self) -> tuple[str | None, str | None, str]:
        return self.configured, self.loaded, self.edit.text()

    def _loaded(self, value: str | None) -> None:
        if value and not self.edit.text():
            self.loaded = value
            self.edit.setText(value)
        self._placeholder()

    def _placeholder(self) -> None:
        configured = self.configured
        if keyring_name(configured) and not self.loaded:
            text = tr("Stored in the keyring; type a new value to replace it")
        elif is_redacted(configured):
            text = tr("Saved in the config file; type a new value to move it to the keyring")
        elif configured and configured.startswith("${"):
            text = tr("Read from the environment variable {name}").format(name=configured.strip("${}"))
        else:
            text = tr("Not set")
        self.edit.setPlaceholderText(text)

    def text(self) -> str:
        return self.edit.text().strip()

    def changed(self) -> bool:
        text = self.text()
        if self.loaded is not None:
            return text != self.loaded  # cleared: the secret is removed
        return bool(text)

    def value_for_test(self) -> str | None:
        """The secret to try a request with: what is typed, else what the keyring holds."""
        return self.text() or self.loaded or None

    def _toggled(self, shown: bool) -> None:
        self.edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.retranslate()

    def retranslate(self) -> None:
        self.toggle.setText(tr("Hide") if self.toggle.isChecked() else tr("Show"))
        self.toggle.setToolTip(tr("Show or hide the secret"))
        self._placeholder()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


def collect_secret(draft: ConfigDraft, secret: SecretField, path: str | tuple[str | int, ...], name: str) -> None:
    """Write a secret field into the draft: a new value to the keyring, a cleared one removed."""
    if not secret.changed():
        return
    value = secret.text()
    if value:
        draft.add_secret(path, name, value)
    else:
        draft.set_raw(path, None)


class SettingsPage(QWidget):
    """One page of the settings dialog (see the module docstring for the protocol)."""

    page_id = ""
    icon_name = "settings"
    changed = Signal()  # something the other pages show changed (providers -> model choices)

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.rows: dict[str, FieldRow] = {}
        self.bound: dict[str, QWidget] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel()
        self.heading.setObjectName("settingsHeading")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setWeight(font.Weight.DemiBold)
        self.heading.setFont(font)
        self.heading.setContentsMargins(16, 12, 16, 4)
        outer.addWidget(self.heading)
        self.page_error = error_label()
        self.page_error.setContentsMargins(16, 0, 16, 0)
        outer.addWidget(self.page_error)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.body = QWidget()
        self.body.setObjectName("settingsBody")
        self.layout_ = QVBoxLayout(self.body)
        self.layout_.setContentsMargins(16, 8, 16, 16)
        self.layout_.setSpacing(12)
        scroll.setWidget(self.body)
        outer.addWidget(scroll, 1)

    def form(self, parent: QWidget | None = None) -> QFormLayout:
        form = QFormLayout(parent) if parent is not None else QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setVerticalSpacing(10)
        return form

    def add_row(self, form: QFormLayout, path: str, widget: QWidget, model: type[BaseModel] | None, field: str,
                label: Callable[[], str]) -> FieldRow:
        widget.setSizePolicy(QSizePolicy.Policy.Expanding, widget.sizePolicy().verticalPolicy())
        row = FieldRow(form, widget, model, field, label)
        self.rows[path] = row
        return row

    def bind(self, form: QFormLayout, path: str, widget: QWidget, label: Callable[[], str]) -> FieldRow:
        """A row whose widget shows the setting at `path` as it is (see load_bound/collect_bound)."""
        section, _dot, name = path.rpartition(".")
        row = self.add_row(form, path, widget, section_model(section) if section else MoltConfig, name, label)
        self.bound[path] = widget
        return row

    def load_bound(self, draft: ConfigDraft) -> None:
        for path, widget in self.bound.items():
            value = draft.effective(path)
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QDoubleSpinBox):
                widget.setValue(float(value or 0))
            elif isinstance(widget, QSpinBox):
                widget.setValue(int(value or widget.minimum()))
            elif isinstance(widget, QComboBox):
                index = widget.findData(value)
                widget.setCurrentIndex(index if index >= 0 else 0)
            elif isinstance(widget, QLineEdit):
                widget.setText(", ".join(value) if isinstance(value, list) else str(value or ""))

    def collect_bound(self, draft: ConfigDraft) -> None:
        for path, widget in self.bound.items():
            value: Any
            if isinstance(widget, QCheckBox):
                value = widget.isChecked()
            elif isinstance(widget, QDoubleSpinBox):
                value = round(widget.value(), 4)
            elif isinstance(widget, QSpinBox):
                # A spin box whose minimum shows a special text ("Default") stands for "not set".
                value = None if widget.specialValueText() and widget.value() == widget.minimum() else widget.value()
            elif isinstance(widget, QComboBox):
                value = widget.currentData()
            elif isinstance(widget, QLineEdit):
                text = widget.text().strip()
                if isinstance(draft.effective(path), list) or widget.property("listValue"):
                    value = [part.strip() for part in text.split(",") if part.strip()]
                else:
                    value = text or None
            else:
                continue
            draft.set(path, value)

    def title(self) -> str:
        raise NotImplementedError

    def load(self, draft: ConfigDraft) -> None:
        raise NotImplementedError

    def collect(self, draft: ConfigDraft) -> None:
        raise NotImplementedError

    def clear_issues(self) -> None:
        for row in self.rows.values():
            row.set_error("")
        self.page_error.hide()

    def show_issues(self, issues: list[Issue]) -> None:
        """Errors next to their fields; the rest at the top of the page."""
        loose: list[str] = []
        for issue in issues:
            row = self.rows.get(issue.path)
            if row is not None:
                row.set_error(issue.message)
            else:
                loose.append(f"{issue.path}: {issue.message}" if issue.path else issue.message)
        self.page_error.setText("\n".join(loose))
        self.page_error.setVisible(bool(loose))

    def retranslate(self) -> None:
        self.heading.setText(self.title())
        for row in self.rows.values():
            row.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


def warning_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet(f"color: {WARNING_COLOR};")
    return label


def api_label(api: str) -> str:
    if api == "anthropic-messages":
        return tr("Anthropic Messages API")
    return tr("OpenAI-compatible (chat completions)")


def key_changed(state: tuple[str | None, str | None, str]) -> bool:
    _configured, loaded, text = state
    return text.strip() != loaded if loaded is not None else bool(text.strip())


def describe_probe(result: ProbeResult) -> tuple[bool, str]:
    """(ok, text) for the outcome of a provider Test."""
    if result.ok:
        return True, tr("OK, answered in {ms} ms").format(ms=result.elapsed_ms)
    summaries = {
        "auth": tr("The provider refused the API key."),
        "network": tr("The provider cannot be reached. Check the base URL and the network."),
        "timeout": tr("The provider did not answer in time."),
        "rate_limit": tr("The provider is rate limiting requests; the key and URL work."),
        "overloaded": tr("The provider is overloaded right now; the key and URL work."),
        "not_configured": tr("The provider settings are incomplete."),
        "bad_request": tr("The provider rejected the request. Check the API kind and the model id."),
        "server": tr("The provider had an internal error. Try again later."),
    }
    summary = summaries.get(result.kind, tr("The test request failed."))
    return False, f"{summary}\n{result.detail}" if result.detail else summary


class EntryListMixin:
    """For a page that edits a list of entries (providers, remote gateways): the list widget
    beside the editor, kept in step with `entries`. The page gives `_list_item(entry)`,
    `_show(entry | None)` (fill the editor) and `_store_current()` (editor back into its entry)."""

    list: QListWidget
    entries: list[Any]
    current: Any
    _showing: bool

    def _list_item(self, entry: Any) -> QListWidgetItem:
        raise NotImplementedError

    def _show(self, entry: Any) -> None:
        raise NotImplementedError

    def _store_current(self) -> None:
        raise NotImplementedError

    def _refresh_list(self, select: Any) -> None:
        self._showing = True  # rebuilding the list must not store or show anything
        self.list.clear()
        for entry in self.entries:
            self.list.addItem(self._list_item(entry))
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


def keyring_refused(exc: SecretStoreUnavailable) -> str:
    """Why a save with a secret in it did nothing."""
    return tr("Nothing was saved: the system keyring cannot store secrets, and secrets are never "
              "written into the config file.\n{detail}").format(detail=exc)

