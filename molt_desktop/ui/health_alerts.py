"""The health view's alert sections: what is firing, what happened lately, and where alerts go.

`AlertsSection(alerts, actions)` is a QGroupBox "Alerts" with the firing alerts (severity, title,
since when), the recent history (from the manager's `alerts.jsonl`, newest first), and
`ChannelsSection` "Notification channels": each sink (desktop, e-mail, webhook) with its state
(off, not used yet, working, failing) and its last error, updated live as deliveries are tried
(`AlertsBridge.changed`). The alert texts come translated from the monitor; the words around them
are the UI's. A button opens Settings > Alerts.

Not here: the rest of the health view (health_view.py), the alert states (monitor/alerts.py).
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QAbstractItemView, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from molt_desktop.monitor.model import SEVERITY_ORDER
from molt_desktop.ui.actions import DesktopActions
from molt_desktop.ui.alerts_bridge import AlertsBridge
from molt_desktop.ui.health_monitor import format_duration
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.resources import icon
from molt_desktop.ui.style import themed_icon

HISTORY_ROWS = 8
SEVERITY_ICONS = {"critical": "error", "warning": "warning", "info": "info"}


def severity_words(severity: str) -> str:
    return {"critical": tr("Critical"), "warning": tr("Warning"), "info": tr("Info")}.get(severity, severity)


def kind_words(kind: str) -> str:
    return {"fire": tr("Fired"), "resolve": tr("Resolved"), "repeat": tr("Still firing"),
            "test": tr("Test")}.get(kind, kind)


def channel_words(name: str) -> str:
    return {"desktop": tr("Desktop notifications"), "email": tr("E-mail"), "webhook": tr("Webhook"),
            "tray": tr("Tray icon")}.get(name, name)


def channel_state(status: Any) -> str:
    """A channel as people say it: off, not used yet, working, failing."""
    if not getattr(status, "enabled", False):
        return tr("Off")
    ok = getattr(status, "ok", None)
    if ok is None:
        return tr("Not used yet")
    if ok:
        return tr("Working")
    failures = int(getattr(status, "failures", 0) or 0)
    if failures > 1:
        return tr("Failing ({count} times in a row)").format(count=failures)
    return tr("Failing")


def _format_time(at: float | None) -> str:
    from molt_desktop.ui.health_view import format_time  # the view's time format, one way for all rows

    return format_time(at)


def _table(name: str, columns: int) -> QTreeWidget:
    table = QTreeWidget()
    table.setObjectName(name)
    table.setColumnCount(columns)
    table.setRootIsDecorated(False)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setWordWrap(True)
    header = table.header()
    header.setStretchLastSection(True)
    for column in range(columns - 1):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return table


def _fill(table: QTreeWidget, rows: list[tuple[list[str], str]]) -> None:
    """Rows of (texts, icon name for the first column), the table as tall as its rows."""
    while table.topLevelItemCount() > len(rows):
        table.takeTopLevelItem(table.topLevelItemCount() - 1)
    for index, (texts, icon_name) in enumerate(rows):
        item = table.topLevelItem(index) or QTreeWidgetItem(table)
        for column, text in enumerate(texts):
            item.setText(column, text)
            item.setToolTip(column, text)
        item.setIcon(0, icon(icon_name) if icon_name else icon("info"))
    table.setVisible(bool(rows))
    if rows:
        table.setFixedHeight(table.header().height() + len(rows) * table.sizeHintForRow(0) + 6)


def _rows_text(table: QTreeWidget) -> list[list[str]]:
    return [[table.topLevelItem(r).text(c) for c in range(table.columnCount())]
            for r in range(table.topLevelItemCount())]


class AlertsSection(QGroupBox):
    def __init__(self, alerts: AlertsBridge, actions: DesktopActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.alerts = alerts
        self.actions = actions
        self.setObjectName("health-alerts")
        layout = QVBoxLayout(self)
        self.firing_empty = QLabel()
        self.firing_empty.setObjectName("health-alerts-none")
        self.firing_table = _table("health-alerts-firing", 3)
        self.history_label = QLabel()
        self.history_label.setProperty("muted", True)
        self.history_empty = QLabel()
        self.history_empty.setObjectName("health-alerts-no-history")
        self.history_empty.setProperty("muted", True)
        self.history_table = _table("health-alerts-history", 3)
        for widget in (self.firing_empty, self.firing_table, self.history_label, self.history_empty,
                       self.history_table):
            layout.addWidget(widget)
        self.channels = ChannelsSection(alerts, actions)
        alerts.changed.connect(self.update_view)
        self.retranslate()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setTitle(tr("Alerts"))
        self.firing_empty.setText(tr("No alert is firing."))
        self.history_label.setText(tr("Recent alerts"))
        self.history_empty.setText(tr("No alerts so far."))
        self.firing_table.setHeaderLabels([tr("Severity"), tr("Since"), tr("Alert")])
        self.history_table.setHeaderLabels([tr("Time"), tr("Event"), tr("Alert")])
        self.update_view()

    def firing_rows(self) -> list[list[str]]:
        return _rows_text(self.firing_table)

    def history_rows(self) -> list[list[str]]:
        return _rows_text(self.history_table)

    def update_view(self) -> None:
        now = time.time()
        firing = sorted(self.alerts.firing(), key=lambda a: (-SEVERITY_ORDER.get(str(a.severity), 0), a.since or 0.0))
        rows = []
        for alert in firing:
            since = alert.fired_at or alert.since
            when = tr("{time} ({duration})").format(time=_format_time(since),
                                                   duration=format_duration(max(0.0, now - since) * 1000))
            rows.append(([severity_words(str(alert.severity)), when, str(alert.title or alert.key)],
                         SEVERITY_ICONS.get(str(alert.severity), "info")))
        _fill(self.firing_table, rows)
        for row, alert in enumerate(firing):  # the body says what to check: a hover shows it
            item = self.firing_table.topLevelItem(row)
            item.setToolTip(2, str(alert.body or alert.title))
        self.firing_empty.setVisible(not firing)

        history = []
        for entry in reversed(self.alerts.history(HISTORY_ROWS)):
            kind = str(entry.get("kind") or entry.get("event") or "")
            severity = str(entry.get("severity") or "info")
            at = entry.get("at") or entry.get("time") or entry.get("ts")
            title = str(entry.get("title") or entry.get("key") or "")
            if kind == "sink_error":  # a channel that could not deliver that alert
                words = tr("Not delivered ({channel})").format(channel=channel_words(str(entry.get("sink") or "")))
                symbol = "error"
            else:
                words = kind_words(kind)
                symbol = "ok" if kind == "resolve" else SEVERITY_ICONS.get(severity, "info")
            history.append(([_format_time(float(at) if isinstance(at, (int, float)) else None), words, title],
                             symbol))
        history = history[:HISTORY_ROWS]
        _fill(self.history_table, history)
        self.history_empty.setVisible(not history)
        self.channels.update_view()


class ChannelsSection(QGroupBox):
    """Each notification channel with its state and last error."""

    def __init__(self, alerts: AlertsBridge, actions: DesktopActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.alerts = alerts
        self.setObjectName("health-channels")
        layout = QVBoxLayout(self)
        self.table = _table("health-channels-table", 4)
        layout.addWidget(self.table)
        # The table cuts long errors; they are said in full (and can be copied) under it.
        self.errors = QLabel()
        self.errors.setObjectName("health-channels-errors")
        self.errors.setWordWrap(True)
        self.errors.setTextFormat(Qt.TextFormat.PlainText)
        self.errors.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.errors.setStyleSheet("color: #cf222e;")
        layout.addWidget(self.errors)
        self.settings_button = QPushButton(themed_icon("settings"), "")
        self.settings_button.setObjectName("health-alerts-settings")
        self.settings_button.clicked.connect(lambda: actions.openSettings.emit("alerts"))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.settings_button)
        layout.addLayout(row)
        alerts.sinkStatus.connect(lambda _status: self.update_view())
        self.retranslate()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.Type.PaletteChange:
            self.settings_button.setIcon(themed_icon("settings"))
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setTitle(tr("Notification channels"))
        self.settings_button.setText(tr("Alert settings…"))
        self.table.setHeaderLabels([tr("Channel"), tr("State"), tr("Last attempt"), tr("Last error")])
        self.update_view()

    def rows(self) -> list[list[str]]:
        return _rows_text(self.table)

    def update_view(self) -> None:
        rows = []
        failing = []
        for status in self.alerts.sink_status():
            enabled = bool(getattr(status, "enabled", False))
            ok = getattr(status, "ok", None)
            error = str(getattr(status, "last_error", None) or "")
            if ok is False and error:
                failing.append(tr("{channel}: {error}").format(channel=channel_words(str(status.name)), error=error))
            attempt = getattr(status, "last_attempt_at", None)
            rows.append(([channel_words(str(status.name)), channel_state(status),
                          _format_time(attempt) if attempt else "—", error or "—"],
                         "info" if not enabled or ok is None else ("ok" if ok else "error")))
        _fill(self.table, rows)
        self.errors.setText("\n".join(failing))
        self.errors.setVisible(bool(failing))


__all__ = ["AlertsSection", "ChannelsSection", "channel_state", "channel_words", "kind_words", "severity_words"]
