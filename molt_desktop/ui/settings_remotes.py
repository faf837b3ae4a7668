"""The Remote gateways page of the settings: the list of remotes, their editor, and the Test.

Remote gateways (`remotes`) are edited as a list: a name (id), the ws:// or wss:// URL, the
token (kept in the keyring as `remote.<id>.token`, the config holds `keyring:remote.<id>.token`)
and an optional pinned TLS fingerprint. The Test under the editor connects with what the editor
shows (settings_remote_test.py) and walks the user through pairing when the server asks for it.

Not here: the Gateway page (settings_gateway.py), the connect itself (remote_probe.py).
"""

from __future__ import annotations

import asyncio
import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton, QWidget

from molt_desktop import paths
from molt_desktop.config.schema import MoltConfig, RemoteConfig
from molt_desktop.config.secrets import get_secret, keyring_name
from molt_desktop.ui.bridge import GatewayBridge
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.settings_common import EntryListMixin, SecretField, SettingsPage, key_changed
from molt_desktop.ui.settings_remote_test import RemoteTarget, RemoteTestPanel
from molt_desktop.ui.settings_store import ConfigDraft, Issue, describe
from molt_desktop.ui.style import themed_icon


def token_name(remote_id: str) -> str:
    """The keyring entry of a remote's token."""
    return f"remote.{remote_id}.token"


@dataclass
class RemoteEntry:
    raw: dict[str, Any]
    token: tuple[str | None, str | None, str] = (None, None, "")
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.raw.get("id") or "")


_REMOTE_ISSUE = re.compile(r"^remotes\[(\d+)\](?:\.(\w+))?")


class RemotesPage(EntryListMixin, SettingsPage):
    page_id = "remotes"
    icon_name = "tray-remote"

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None, *, state_dir: Path | None = None) -> None:
        super().__init__(bridge, parent)
        self.state_dir = state_dir  # whose device identity the Test connects with (None: the default)
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
        self.url_edit.editingFinished.connect(lambda: self._refresh_list(self.current))
        self.test_panel = RemoteTestPanel(bridge, self.test_target, lambda: self.state_dir or paths.state_dir())
        self.test_panel.trustFingerprint.connect(self.trust_fingerprint)
        form.addRow("", self.test_panel)
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
            configured, loaded, typed = entry.token
            if key_changed(entry.token):
                text = typed.strip()
                if text:
                    remote["token"] = draft.secret_ref(token_name(entry.id), text)
                else:
                    remote.pop("token", None)
            elif entry.id and loaded and keyring_name(configured) not in (None, token_name(entry.id)):
                # A renamed remote keeps its token under its new name.
                remote["token"] = draft.secret_ref(token_name(entry.id), loaded)
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

    def _list_item(self, entry: RemoteEntry) -> QListWidgetItem:
        return QListWidgetItem(themed_icon("error") if entry.errors else themed_icon("tray-remote"),
                               f"{entry.id}  —  {entry.raw.get('url') or ''}")

    def test_target(self) -> RemoteTarget:
        """What the Test connects with: the editor's values as they are now (saved or not)."""
        password = self.current.raw.get("password") if self.current is not None else None
        fingerprint = self.fingerprint.text().strip()
        return RemoteTarget(self.url_edit.text().strip(), self.token_field.value_for_test(),
                            password if isinstance(password, str) and not password.startswith("keyring:") else None,
                            fingerprint or None)

    def trust_fingerprint(self, fingerprint: str) -> None:
        """Pin the server's certificate (the user confirmed it) and test again."""
        self.fingerprint.setText(fingerprint)
        self._store_current()
        self._refresh_list(self.current)
        self.test_panel.run()

    def _show(self, entry: RemoteEntry | None) -> None:
        if entry is not self.current or entry is None:
            self.test_panel.reset()
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

