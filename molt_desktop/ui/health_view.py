"""The health window: gateway, model provider, remote gateways and alerts, with their last errors.

`HealthView(bridge, actions)` shows what health_monitor.py knows (the last `status`, the last
chat error, the link state, the probe results of every endpoint of the pool: state, latency,
last check, last error, live as probes report) and what `config.get` says about remotes. It refreshes on demand
(Refresh), every few seconds while it is visible, and whenever the monitor learns something.
Error texts are selectable so people can copy them into a report. Buttons ask the app to open
Settings at the page that fixes each part. Notifications about failures link here. When the app
runs the health monitor (an AlertsBridge on the bridge), the firing alerts, their recent history
and the notification channels follow (health_alerts.py); when it runs session sync (a SyncBridge),
the Sync section (health_sync.py).

Not here: the checks (health_monitor.py), the tray (tray.py).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QDateTime, QEvent, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QHideEvent, QShowEvent
from PySide6.QtWidgets import (QAbstractItemView, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QLayout, QPushButton, QScrollArea, QSizePolicy, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from molt_desktop.logs import get_logger
from molt_desktop.ui.actions import DesktopActions
from molt_desktop.ui.alerts_bridge import AlertsBridge
from molt_desktop.ui.bridge import GatewayBridge, describe_error
from molt_desktop.ui.health_monitor import HealthMonitor, format_duration
from molt_desktop.ui.health_sync import SyncSection, value_row
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.resources import icon
from molt_desktop.ui.style import themed_icon
from molt_desktop.ui.switch_words import remote_reason, status_reason
from molt_desktop.ui.sync_bridge import SyncBridge

log = get_logger("ui")

REFRESH_MS = 5000

# (section, field) in display order; the labels are set in retranslate().
FIELDS = {
    "gateway": ("kind", "address", "state", "uptime", "version", "checked", "error"),
    "provider": ("model", "ready", "chat_error"),
    "remote": ("active", "remotes"),
}


def format_time(at: float | None) -> str:
    if not at:
        return tr("never")
    moment = QDateTime.fromMSecsSinceEpoch(int(at * 1000))
    if moment.date() == QDateTime.currentDateTime().date():
        return moment.toString("HH:mm:ss")
    return moment.toString("yyyy-MM-dd HH:mm")


class HealthView(QWidget):
    def __init__(self, bridge: GatewayBridge, actions: DesktopActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.actions = actions
        self.monitor = HealthMonitor.of(bridge)
        self.remotes: list[dict[str, Any]] | None = None
        self.remotes_error = ""
        self.setObjectName("healthView")
        self.setWindowIcon(icon("health"))
        self.resize(560, 620)

        root = QVBoxLayout(self)
        # A fixed minimum instead of the layout's: texts change while the window is open, and a
        # minimum that follows them would resize the window under the user's hands.
        root.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumSize(440, 420)
        root.setContentsMargins(16, 16, 16, 16)
        root.setSpacing(10)
        header = QHBoxLayout()
        self.state_icon = QLabel()
        self.state_icon.setFixedSize(32, 32)
        self.summary = QLabel()
        self.summary.setObjectName("healthSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.refresh_button = QPushButton(themed_icon("refresh"), "")
        self.refresh_button.setObjectName("healthRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        header.addWidget(self.state_icon)
        header.addWidget(self.summary, 1)
        header.addWidget(self.refresh_button)
        root.addLayout(header)
        # The sections scroll under the header: with alerts and channels they outgrow small screens.
        scroll = QScrollArea()
        scroll.setObjectName("healthScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("healthBody")
        content = QVBoxLayout(body)
        content.setContentsMargins(0, 0, 0, 0)
        content.setSpacing(10)
        scroll.setWidget(body)
        root.addWidget(scroll, 1)

        self.groups: dict[str, QGroupBox] = {}
        self.names: dict[tuple[str, str], QLabel] = {}
        self.fields: dict[tuple[str, str], QLabel] = {}
        self.settings_buttons: dict[str, QPushButton] = {}
        pages = {"gateway": "gateway", "provider": "providers", "remote": "remotes"}
        for section, names in FIELDS.items():
            group = QGroupBox()
            group.setObjectName(f"health-{section}")
            form = QFormLayout(group)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            for name in names:
                self.names[(section, name)], self.fields[(section, name)] = value_row(
                    form, f"health-{section}-{name}")
            button = QPushButton(themed_icon("settings"), "")
            button.setObjectName(f"health-{section}-settings")
            page = pages[section]
            button.clicked.connect(lambda _checked=False, page=page: self.actions.openSettings.emit(page))
            row = QHBoxLayout()
            row.addStretch(1)
            row.addWidget(button)
            form.addRow(row)
            self.settings_buttons[section] = button
            self.groups[section] = group
            content.addWidget(group)
        self.alerts_section: Any = None
        self.channels_section: Any = None
        alerts = AlertsBridge.of(bridge)
        if alerts is not None:
            from molt_desktop.ui.health_alerts import AlertsSection

            self.alerts_section = AlertsSection(alerts, actions)
            self.channels_section = self.alerts_section.channels
            alerts.changed.connect(self.update_view)
            content.addWidget(self.alerts_section)
            content.addWidget(self.channels_section)
            self.resize(600, 760)
        self.sync_section: Any = None
        sync = SyncBridge.of(bridge)
        if sync is not None and sync.available:
            self.sync_section = SyncSection(sync, actions)
            content.addWidget(self.sync_section)
        content.addStretch(1)
        self.endpoint_table = _endpoint_table()
        remote_form = self.groups["remote"].layout()
        assert isinstance(remote_form, QFormLayout)
        remote_form.insertRow(len(FIELDS["remote"]), self.endpoint_table)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.monitor.changed.connect(self.update_view)
        # Bound methods, not lambdas: Qt drops the connections when the view is deleted.
        bridge.statusChanged.connect(self._status_changed)
        bridge.configChanged.connect(self._config_changed)
        self.retranslate()
        self.refresh()

    # --- Qt -----------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.Type.PaletteChange:
            self._apply_icons()
        super().changeEvent(event)

    def _apply_icons(self) -> None:
        self.refresh_button.setIcon(themed_icon("refresh"))
        for button in self.settings_buttons.values():
            button.setIcon(themed_icon("settings"))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        self.timer.start()
        self.refresh()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        self.timer.stop()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.timer.stop()
        super().closeEvent(event)

    # --- content ------------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.setWindowTitle(tr("molt-desktop — Health"))
        self.refresh_button.setText(tr("Refresh"))
        self.groups["gateway"].setTitle(tr("Gateway"))
        self.groups["provider"].setTitle(tr("Model provider"))
        self.groups["remote"].setTitle(tr("Remote gateways"))
        names = {
            ("gateway", "kind"): tr("Gateway in use"), ("gateway", "address"): tr("Address"),
            ("gateway", "state"): tr("Connection"), ("gateway", "uptime"): tr("Uptime"),
            ("gateway", "version"): tr("Version"), ("gateway", "checked"): tr("Last check"),
            ("gateway", "error"): tr("Last error"),
            ("provider", "model"): tr("Default model"), ("provider", "ready"): tr("Readiness"),
            ("provider", "chat_error"): tr("Last chat error"),
            ("remote", "active"): tr("Active gateway"), ("remote", "remotes"): tr("Configured remotes"),
        }
        for key, text in names.items():
            self.names[key].setText(text)
        self.settings_buttons["gateway"].setText(tr("Gateway settings…"))
        self.settings_buttons["provider"].setText(tr("Provider settings…"))
        self.settings_buttons["remote"].setText(tr("Remote settings…"))
        self.endpoint_table.setHeaderLabels([tr("Gateway"), tr("State"), tr("Latency"), tr("Last check"),
                                             tr("Last error")])
        self.update_view()

    def refresh(self) -> None:
        """Ask the gateway again (status, remotes); the view updates when the answers arrive."""
        self.monitor.refresh()
        self._load_remotes()
        self.update_view()
        if self.alerts_section is not None:
            self.alerts_section.update_view()

    def _status_changed(self, _status: Any) -> None:
        self.update_view()

    def _config_changed(self, _payload: Any) -> None:
        self._load_remotes()

    def _load_remotes(self) -> None:
        if not self.bridge.status.connected:
            return

        def loaded(payload: Any) -> None:
            config = payload.get("config") if isinstance(payload, dict) else None
            remotes = config.get("remotes") if isinstance(config, dict) else None
            self.remotes = [r for r in remotes or [] if isinstance(r, dict)]
            self.remotes_error = ""
            self.update_view()

        def failed(exc: BaseException) -> None:
            self.remotes_error = describe_error(exc).message
            self.update_view()

        self.bridge.spawn(self.bridge.call("config.get", {}), on_result=loaded, on_error=failed)

    def text(self, section: str, name: str) -> str:
        return self.fields[(section, name)].text()

    def _set(self, section: str, name: str, text: str) -> None:
        self.fields[(section, name)].setText(text)

    def update_view(self) -> None:
        monitor = self.monitor
        status = self.bridge.status
        payload = monitor.status_payload or {}
        problems = monitor.problems()
        # Summary line, with the tray's words for the state.
        from molt_desktop.ui.tray import ALERT_STATES, STATE_RANK, state_words

        if not status.connected:
            state = "down"
            why = status.error or tr("Connecting to the gateway…")
        elif problems:
            state, why = "degraded", problems[0].text
        else:
            state = "remote" if status.kind == "remote" else "ok"
            why = tr("Chats can get replies.")
        summary = tr("{state}: {reason}").format(state=state_words(state), reason=why)
        alerts = AlertsBridge.of(self.bridge)
        worst = alerts.worst() if alerts is not None else None
        alert_state = ALERT_STATES.get(str(getattr(worst, "severity", "")))
        if worst is not None and alert_state is not None and STATE_RANK[alert_state] > STATE_RANK.get(state, 0):
            state = alert_state  # as the tray shows it: the worse of the two
            summary = (tr("Critical alert: {title}") if worst.severity == "critical"
                       else tr("Warning: {title}")).format(title=worst.title or worst.key)
        self.state_icon.setPixmap(icon(f"tray-{state}").pixmap(32, 32))
        self.summary.setText(summary)
        self.summary.setProperty("state", state)

        # Gateway
        self._set("gateway", "kind", tr("Remote gateway ({name})").format(name=status.endpoint_id or "")
                  if status.kind == "remote" else tr("Local gateway (on this computer)"))
        self._set("gateway", "address", status.url or tr("unknown"))
        if status.connected:
            since = format_time(status.connected_at)
            self._set("gateway", "state", tr("Connected since {time}").format(time=since))
        elif status.state == "connecting":
            self._set("gateway", "state", tr("Connecting…"))
        else:
            self._set("gateway", "state", tr("Not connected"))
        uptime = monitor.uptime_ms()
        self._set("gateway", "uptime", format_duration(uptime) if uptime is not None else "—")
        self._set("gateway", "version", str(payload.get("version") or "—"))
        self._set("gateway", "checked", format_time(monitor.last_check))
        errors: list[tuple[float, str]] = []
        if monitor.last_link_error is not None:
            text, at = monitor.last_link_error
            errors.append((at, tr("Connection lost: {error}").format(error=text)))
        if monitor.last_check_error is not None:
            text, at = monitor.last_check_error
            errors.append((at, text))
        if errors:
            at, text = max(errors)
            self._set("gateway", "error", tr("{time} — {error}").format(time=format_time(at), error=text))
        else:
            self._set("gateway", "error", tr("None"))

        # Provider
        self._set("provider", "model", monitor.default_model() or tr("none configured"))
        gateway_problems = [p for p in problems if p.kind != "chat"]
        if not payload:
            self._set("provider", "ready", tr("not checked yet"))
        elif gateway_problems:
            self._set("provider", "ready", "\n".join(p.text for p in gateway_problems))
        else:
            self._set("provider", "ready", tr("Ready"))
        failure = monitor.last_chat_error
        if failure is None:
            self._set("provider", "chat_error", tr("None"))
        else:
            lines = [tr("{time} — {error}").format(time=format_time(failure.at), error=failure.error.message)]
            if failure.error.detail and failure.error.detail not in failure.error.message:
                lines.append(failure.error.detail)
            if failure.session_key:
                lines.append(tr("Chat: {key}").format(key=failure.session_key))
            self._set("provider", "chat_error", "\n".join(lines))

        # Remotes
        if status.kind == "remote":
            code, words = status_reason(status, self.bridge.last_switch)
            self._set("remote", "active", remote_reason(str(status.endpoint_id or ""), code, words))
        else:
            self._set("remote", "active", tr("Local gateway (on this computer)"))
        self._show_endpoints()
        if self.remotes_error:
            self._set("remote", "remotes", self.remotes_error)
        elif self.remotes is None:
            self._set("remote", "remotes", "—")
        elif not self.remotes:
            self._set("remote", "remotes", tr("No remote gateway configured."))
        else:
            self._set("remote", "remotes", "\n".join(f"{r.get('id', '')} — {r.get('url', '')}" for r in self.remotes))

    def endpoint_rows(self) -> list[list[str]]:
        """The endpoint table's texts, row by row (what a reader sees)."""
        table = self.endpoint_table
        return [[table.topLevelItem(r).text(c) for c in range(table.columnCount())]
                for r in range(table.topLevelItemCount())]

    def _show_endpoints(self) -> None:
        endpoints = self.monitor.endpoint_health()
        table = self.endpoint_table
        table.setVisible(bool(endpoints))
        active = self.bridge.status.endpoint_id
        while table.topLevelItemCount() > len(endpoints):
            table.takeTopLevelItem(table.topLevelItemCount() - 1)
        for row, health in enumerate(endpoints):
            item = table.topLevelItem(row) or QTreeWidgetItem(table)
            name = tr("Local gateway") if getattr(health, "kind", "") == "local" else str(health.id)
            if health.id == active:
                name = tr("{name} (in use)").format(name=name)
            state = str(getattr(health, "state", "unknown"))
            latency = getattr(health, "latency_ms", None)
            error = str(getattr(health, "last_error", None) or "")
            texts = [name, _state_text(state),
                     tr("{ms} ms").format(ms=round(latency)) if isinstance(latency, (int, float)) else "—",
                     format_time(getattr(health, "checked_at", None)), error or "—"]
            for column, text in enumerate(texts):
                item.setText(column, text)
                item.setToolTip(column, f"{health.id} — {getattr(health, 'url', '')}" if column == 0 else text)
            item.setIcon(1, icon({"up": "ok", "down": "error"}.get(state, "info")))
            font = item.font(0)
            font.setBold(health.id == active)
            item.setFont(0, font)
        table.setFixedHeight(table.header().height() + max(1, len(endpoints)) * table.sizeHintForRow(0) + 6
                             if endpoints else 0)


def _state_text(state: str) -> str:
    return {"up": tr("Up"), "down": tr("Down")}.get(state, tr("Not checked yet"))


def _endpoint_table() -> QTreeWidget:
    table = QTreeWidget()
    table.setObjectName("health-endpoints")
    table.setColumnCount(5)
    table.setRootIsDecorated(False)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    header = table.header()
    header.setStretchLastSection(True)
    for column in range(4):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return table


__all__ = ["HealthView", "format_time"]
