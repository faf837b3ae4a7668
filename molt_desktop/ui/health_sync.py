"""The Sync section of the health window: is the session sync working, and since when not.

`SyncSection(sync, actions)` shows the SyncStatus of the app's SyncBridge (ui/sync_bridge.py):
state, the last good sync and its age, the last error, the next attempt, what the last run sent
and received, and the server's host key. It updates on every status the service reports and
ages its times on a timer; Sync now and Sync settings… sit under it.

Not here: the rest of the health window (health_view.py), syncing (sync/service.py).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from molt_desktop.ui.actions import DesktopActions
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.style import themed_icon
from molt_desktop.ui.sync_bridge import SyncBridge, age_words, next_words, report_words, state_words

FIELDS = ("state", "last_good", "error", "next", "report", "fingerprint")
AGE_MS = 30_000


def value_row(form: QFormLayout, object_name: str) -> tuple[QLabel, QLabel]:
    """A Health row: a muted name and a wrapped, selectable value (shared by every Health section)."""
    label = QLabel()
    label.setProperty("muted", True)
    value = QLabel()
    value.setObjectName(object_name)
    value.setWordWrap(True)
    value.setTextFormat(Qt.TextFormat.PlainText)
    value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    value.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    form.addRow(label, value)
    return label, value


class SyncSection(QGroupBox):
    def __init__(self, sync: SyncBridge, actions: DesktopActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sync = sync
        self.actions = actions
        self.setObjectName("health-sync")
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.names: dict[str, QLabel] = {}
        self.fields: dict[str, QLabel] = {}
        for name in FIELDS:
            self.names[name], self.fields[name] = value_row(form, f"health-sync-{name}")
        self.sync_button = QPushButton(themed_icon("sync"), "")
        self.sync_button.setObjectName("health-sync-now")
        self.sync_button.clicked.connect(self.actions.syncNow.emit)
        self.settings_button = QPushButton(themed_icon("settings"), "")
        self.settings_button.setObjectName("health-sync-settings")
        self.settings_button.clicked.connect(lambda: self.actions.openSettings.emit("sync"))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.sync_button)
        row.addWidget(self.settings_button)
        form.addRow(row)
        self.timer = QTimer(self)  # "5 min ago" ages while the window is open
        self.timer.setInterval(AGE_MS)
        self.timer.timeout.connect(self.update_view)
        self.timer.start()
        sync.statusChanged.connect(self._status_changed)
        sync.runningChanged.connect(self._running_changed)
        self.retranslate()

    def text(self, name: str) -> str:
        return self.fields[name].text()

    def _status_changed(self, _status: Any) -> None:
        self.update_view()

    def _running_changed(self, _running: bool) -> None:
        self.update_view()

    def update_view(self) -> None:
        status = self.sync.status()
        fields = self.fields
        if status is None:
            fields["state"].setText(tr("Sync is not available in this app."))
            for name in FIELDS[1:]:
                fields[name].setText("—")
            self.sync_button.setEnabled(False)
            return
        if not status.enabled:
            fields["state"].setText(tr("Off — turn it on in the Sync settings."))
        elif status.state == "needs_confirmation" and status.pending:
            fields["state"].setText(tr("{state}: the next sync would archive {count} of the {total} files of this "
                                       "computer on the server. Use Sync now to confirm.").format(
                state=state_words(status.state), count=status.pending[0], total=status.pending[1]))
        else:
            fields["state"].setText(state_words(status.state))
        fields["last_good"].setText(age_words(status.last_good_at))
        if status.last_error:
            when = age_words(status.last_attempt_at) if status.last_attempt_at else ""
            fields["error"].setText(tr("{time} — {error}").format(time=when, error=status.last_error) if when
                                    else status.last_error)
        else:
            fields["error"].setText(tr("None"))
        fields["next"].setText(next_words(status.next_run_at) if status.enabled else "—")
        fields["report"].setText(report_words(status.last_report))
        fields["fingerprint"].setText(status.fingerprint or "—")
        self.sync_button.setEnabled(bool(status.enabled) and not self.sync.running)

    def retranslate(self) -> None:
        self.setTitle(tr("Session sync"))
        names = {"state": tr("State"), "last_good": tr("Last good sync"), "error": tr("Last error"),
                 "next": tr("Next sync"), "report": tr("Last run"), "fingerprint": tr("Server host key")}
        for name, text in names.items():
            self.names[name].setText(text)
        self.sync_button.setText(tr("Sync now"))
        self.settings_button.setText(tr("Sync settings…"))
        self.update_view()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.Type.PaletteChange:
            self.sync_button.setIcon(themed_icon("sync"))
            self.settings_button.setIcon(themed_icon("settings"))
        super().changeEvent(event)


__all__ = ["SyncSection"]
