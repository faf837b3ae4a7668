"""The tray icon: the gateway's state at a glance, and the app's menu.

`TrayIcon(bridge, actions)` owns a QSystemTrayIcon. Its state is one of
- "down": the endpoint pool is not connected (the reason is the link error),
- "working": a reply is streaming (bridge.activeRunsChanged),
- "degraded": connected, but something keeps chats from working (health_monitor.py: no provider,
  an invalid config edit, a store that cannot be written, a provider that refuses our key),
- "remote": connected to a remote gateway (the tooltip says which and why, from the pool's last
  SwitchEvent: "Using the server gateway “server”: the local gateway is unreachable."),
- "ok": connected to the local gateway and nothing wrong;
combined with the worst firing alert of the health monitor (alerts_bridge.py): a critical alert
shows the "down" look, a warning the "degraded" one, whichever of the two states is worse wins and
the tooltip then gives the alert's title. Each state has its icon (resources/icons/tray-<state>.svg) and a tooltip saying which and why. Every
change is logged (`tray state <state>: <reason>`) and emitted as `stateChanged(state, reason)`.
A switch between gateways (bridge.switched) also shows a tray message, when there is a tray to
show it in; so do desktop notifications when the platform's own service is missing (`notify`,
the desktop sink's fallback), and clicking a message opens the health view. "Sync now" is enabled
while session sync is on (sync_bridge.py); the app runs it and reports here (`notify`). A left click asks for the chat window (actions.toggleChat); the menu asks for everything else
through `DesktopActions`. The app decides what a request does (qt_app.py).

Not here: the health checks themselves (health_monitor.py), the windows.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QRect, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from molt_desktop.client.failover import PoolStatus
from molt_desktop.logs import get_logger
from molt_desktop.ui.actions import DesktopActions
from molt_desktop.ui.alerts_bridge import AlertsBridge
from molt_desktop.ui.bridge import GatewayBridge
from molt_desktop.ui.health_monitor import HealthMonitor, format_duration
from molt_desktop.ui.i18n import language_name, tr
from molt_desktop.ui.resources import icon
from molt_desktop.ui.style import themed_icon
from molt_desktop.ui.switch_words import remote_reason, status_reason, switch_balloon
from molt_desktop.ui.sync_bridge import SyncBridge, last_sync_line

log = get_logger("ui")

STATES = ("ok", "working", "degraded", "down", "remote")
RECENT_SESSIONS = 5
LANGUAGE_CHOICES = ("auto", "en", "zh_CN", "ja")
# How bad each state looks; an alert's state replaces the gateway's only when it is worse.
STATE_RANK = {"ok": 0, "working": 0, "remote": 1, "degraded": 2, "down": 3}
ALERT_STATES = {"critical": "down", "warning": "degraded"}


def state_words(state: str) -> str:
    """The state as the tooltip and the health view say it."""
    return {
        "ok": tr("Ready"),
        "working": tr("Replying"),
        "degraded": tr("Needs attention"),
        "down": tr("Gateway not reachable"),
        "remote": tr("Using a remote gateway"),
    }.get(state, state)


def session_title(row: dict[str, Any]) -> str:
    title = row.get("displayName") or row.get("label") or row.get("derivedTitle") or row.get("key") or ""
    title = " ".join(str(title).split())
    return title if len(title) <= 48 else title[:47] + "…"


class TrayIcon(QObject):
    stateChanged = Signal(str, str)  # (state, reason in the UI language)

    def __init__(self, bridge: GatewayBridge, actions: DesktopActions, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.actions = actions
        self.monitor = HealthMonitor.of(bridge)
        self._state = ""
        self._reason = ""
        self._language = "auto"
        self._recent: list[dict[str, Any]] = []
        self._sync_available = False
        self.last_balloon: tuple[str, str] | None = None  # (title, text) of the last message shown
        self.alerts: AlertsBridge | None = None
        self._alert_severity = ""  # the severity of the alert the state shows, "" when none
        self.tray = QSystemTrayIcon(self)
        self._menu = QMenu()
        self._menu.setObjectName("trayMenu")
        self._build_menu()
        self.tray.setContextMenu(self._menu)
        self.tray.activated.connect(self._activated)
        self.tray.messageClicked.connect(self._message_clicked)
        self._menu.installEventFilter(self)
        self._menu.aboutToShow.connect(self._update_gateway_info)
        self._menu.aboutToShow.connect(self._log_menu)

        self._recent_timer = QTimer(self)  # a burst of sessions.changed makes one sessions.list
        self._recent_timer.setSingleShot(True)
        self._recent_timer.setInterval(300)
        self._recent_timer.timeout.connect(self.refresh_recent)
        self._uptime_timer = QTimer(self)  # keeps the uptime current while the menu is open
        self._uptime_timer.setInterval(1000)
        self._uptime_timer.timeout.connect(self._update_gateway_info)
        self._menu.aboutToShow.connect(self._uptime_timer.start)
        self._menu.aboutToHide.connect(self._uptime_timer.stop)

        bridge.statusChanged.connect(self._on_status)
        bridge.switched.connect(self._on_switch)
        bridge.activeRunsChanged.connect(lambda _n: self._update())
        bridge.sessionsChanged.connect(lambda _p: self._recent_timer.start())
        bridge.configChanged.connect(lambda _p: self._load_language())
        self.monitor.changed.connect(self._update)
        self.set_alerts(AlertsBridge.of(bridge))
        self.sync: Any = None
        self.set_sync(SyncBridge.of(bridge))
        self.retranslate()
        self._update()
        if bridge.status.connected:
            self.refresh_recent()
            self._load_language()

    # --- what the app uses -----------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def reason(self) -> str:
        return self._reason

    def menu(self) -> QMenu:
        return self._menu

    def tooltip(self) -> str:
        return self.tray.toolTip()

    def show(self) -> None:
        self.tray.show()
        self._geometry_tries = 0
        QTimer.singleShot(200, self._log_geometry)

    def hide(self) -> None:
        self.tray.hide()

    def isVisible(self) -> bool:  # noqa: N802 - Qt's spelling, like the widgets
        return self.tray.isVisible()

    def geometry(self) -> QRect:
        return self.tray.geometry()

    def set_sync_available(self, available: bool) -> None:
        self._sync_available = bool(available)
        self.act_sync.setEnabled(self._sync_available)

    def set_sync(self, sync: SyncBridge | None) -> None:
        """Follow the session sync (ui/sync_bridge.py): "Sync now" works while sync is on and idle."""
        self.sync = sync
        if sync is not None:
            sync.statusChanged.connect(self._sync_changed)
            sync.runningChanged.connect(self._sync_changed)
        self._sync_changed()

    def _sync_changed(self, *_args: Any) -> None:
        sync = self.sync
        self.set_sync_available(sync is not None and sync.enabled and not sync.running)
        self.act_sync.setToolTip(last_sync_line(sync.status()) if sync is not None and sync.available else "")

    def set_alerts(self, alerts: AlertsBridge | None) -> None:
        """Follow the health monitor's alerts (the app's AlertsBridge; None: the gateway alone)."""
        if self.alerts is not None:
            self.alerts.changed.disconnect(self._update)
        self.alerts = alerts
        if alerts is not None:
            alerts.changed.connect(self._update)
        self._update()

    def notify(self, title: str, body: str, severity: str = "info") -> bool:
        """Show an alert as a tray message; False when there is no tray to show it in."""
        if not (self.tray.isVisible() and QSystemTrayIcon.supportsMessages()):
            return False
        self.last_balloon = (title, body)
        self.show_message(title, body, {"critical": "error", "warning": "warning"}.get(severity, "info"))
        return True

    def show_message(self, title: str, text: str, level: str = "info") -> None:
        kind = {"warning": QSystemTrayIcon.MessageIcon.Warning, "error": QSystemTrayIcon.MessageIcon.Critical}
        self.tray.showMessage(title, text, kind.get(level, QSystemTrayIcon.MessageIcon.Information))

    # --- the menu ---------------------------------------------------------------------------

    def _build_menu(self) -> None:
        m = self._menu
        a = self.actions
        self.act_open = m.addAction("")
        self.act_open.triggered.connect(lambda: a.openChat.emit(""))
        self.recent_menu = m.addMenu("")
        self.recent_menu.setObjectName("recentMenu")
        self.act_new = m.addAction("")
        self.act_new.triggered.connect(a.newChat.emit)
        m.addSeparator()
        self.gateway_menu = m.addMenu(icon("tray-ok"), "")
        self.gateway_menu.setObjectName("gatewayMenu")
        self.gateway_menu.aboutToShow.connect(self._update_gateway_info)
        self.act_gw_kind = self.gateway_menu.addAction("")
        self.act_gw_address = self.gateway_menu.addAction("")
        self.act_gw_uptime = self.gateway_menu.addAction("")
        for info in (self.act_gw_kind, self.act_gw_address, self.act_gw_uptime):
            info.setEnabled(False)
        self.act_sync = m.addAction("")
        self.act_sync.setEnabled(False)
        self.act_sync.triggered.connect(a.syncNow.emit)
        self.act_health = m.addAction("")
        self.act_health.triggered.connect(a.openHealth.emit)
        m.addSeparator()
        self.act_settings = m.addAction("")
        self.act_settings.triggered.connect(lambda: a.openSettings.emit(""))
        self.language_menu = m.addMenu("")
        self.language_menu.setObjectName("languageMenu")
        self.language_group = QActionGroup(self)
        self.language_group.setExclusive(True)
        self.language_actions: dict[str, QAction] = {}
        for lang in LANGUAGE_CHOICES:
            act = self.language_menu.addAction("")
            act.setCheckable(True)
            act.setData(lang)
            act.setChecked(lang == self._language)
            self.language_group.addAction(act)
            act.triggered.connect(lambda _checked=False, lang=lang: self._choose_language(lang))
            self.language_actions[lang] = act
        m.addSeparator()
        self.act_quit = m.addAction("")
        self.act_quit.triggered.connect(a.quit.emit)
        self._fill_recent()
        self._apply_icons()

    def _apply_icons(self) -> None:
        """Monochrome icons in the palette's text colour (again after a light/dark switch)."""
        for item, name in ((self.act_open, "chat"), (self.recent_menu, "chat"), (self.act_new, "new-chat"),
                           (self.act_sync, "sync"), (self.act_health, "health"), (self.act_settings, "settings"),
                           (self.language_menu, "language"), (self.act_quit, "quit")):
            item.setIcon(themed_icon(name))

    def retranslate(self) -> None:
        self.act_open.setText(tr("Open chat"))
        self.recent_menu.setTitle(tr("Recent chats"))
        self.act_new.setText(tr("New chat"))
        self.gateway_menu.setTitle(tr("Gateway status"))
        self.act_sync.setText(tr("Sync now"))
        self.act_health.setText(tr("Health…"))
        self.act_settings.setText(tr("Settings…"))
        self.language_menu.setTitle(tr("Language"))
        for lang, act in self.language_actions.items():
            act.setText(tr("Automatic (system)") if lang == "auto" else language_name(lang))
        self.act_quit.setText(tr("Quit molt-desktop"))
        self._fill_recent()
        self._update_gateway_info()
        self._apply_state(self._state, self._reason, force_tooltip=True)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        # The tray is not a widget; its menu is, and receives LanguageChange for it.
        if watched is self._menu and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif watched is self._menu and event.type() == QEvent.Type.PaletteChange:
            self._apply_icons()
        return False

    def refresh_recent(self) -> None:
        if not self.bridge.status.connected:
            return
        self.bridge.spawn(self.bridge.call("sessions.list", {"limit": RECENT_SESSIONS, "includeDerivedTitles": True}),
                          on_result=self._recent_loaded,
                          on_error=lambda exc: log.info("tray: cannot list recent chats: %s", exc))

    def recent_keys(self) -> list[str]:
        return [str(row.get("key")) for row in self._recent]

    def _recent_loaded(self, payload: Any) -> None:
        rows = payload.get("sessions") if isinstance(payload, dict) else None
        self._recent = [r for r in rows or [] if isinstance(r, dict) and r.get("key")][:RECENT_SESSIONS]
        self._fill_recent()

    def _fill_recent(self) -> None:
        menu = self.recent_menu
        menu.clear()
        if not self._recent:
            empty = menu.addAction(tr("No chats yet"))
            empty.setEnabled(False)
            return
        for row in self._recent:
            key = str(row["key"])
            act = menu.addAction(session_title(row))
            act.setData(key)
            act.setToolTip(key)
            act.triggered.connect(lambda _checked=False, key=key: self.actions.openChat.emit(key))

    def _choose_language(self, lang: str) -> None:
        self._language = lang
        self.language_actions[lang].setChecked(True)
        self.actions.setLanguage.emit(lang)

    def _load_language(self) -> None:
        if not self.bridge.status.connected:
            return

        def loaded(payload: Any) -> None:
            config = payload.get("config") if isinstance(payload, dict) else None
            ui = config.get("ui") if isinstance(config, dict) else None
            lang = ui.get("language") if isinstance(ui, dict) else None
            self._language = lang if lang in LANGUAGE_CHOICES else "auto"
            self.language_actions[self._language].setChecked(True)

        self.bridge.spawn(self.bridge.call("config.get", {}), on_result=loaded,
                          on_error=lambda exc: log.info("tray: cannot read the language setting: %s", exc))

    def _update_gateway_info(self) -> None:
        status = self.bridge.status
        if status.kind == "remote":
            self.act_gw_kind.setText(tr("Remote gateway ({name})").format(name=status.endpoint_id or ""))
        else:
            self.act_gw_kind.setText(tr("Local gateway (on this computer)"))
        self.act_gw_address.setText(tr("Address: {address}").format(address=status.url or tr("unknown")))
        if status.connected:
            uptime = self.monitor.uptime_ms()
            text = format_duration(uptime) if uptime is not None else tr("unknown")
            self.act_gw_uptime.setText(tr("Up for {duration}").format(duration=text))
        else:
            self.act_gw_uptime.setText(tr("Not connected: {error}").format(
                error=status.error or tr("connecting…")))
        self.gateway_menu.setIcon(icon(f"tray-{self._state or 'down'}"))

    # --- state ------------------------------------------------------------------------------

    def _on_status(self, status: PoolStatus) -> None:
        self._update()
        if status.connected:
            self.refresh_recent()
            self._load_language()

    def _on_switch(self, event: Any) -> None:
        self._update()
        balloon = switch_balloon(event)
        if balloon is None:
            return
        self.last_balloon = balloon
        # Only a tray that is shown can show a message (none offscreen, none without a tray area).
        if self.tray.isVisible() and QSystemTrayIcon.supportsMessages():
            title, text = balloon
            self.show_message(title, text, "warning" if getattr(event, "to_kind", None) == "remote" else "info")

    def compute_state(self) -> tuple[str, str]:
        """The gateway's state, or the worst firing alert's when that looks worse."""
        state, reason = self.gateway_state()
        self._alert_severity = ""
        alert = self.alerts.worst() if self.alerts is not None else None
        alert_state = ALERT_STATES.get(str(getattr(alert, "severity", "")))
        if alert is not None and alert_state is not None and STATE_RANK[alert_state] > STATE_RANK.get(state, 0):
            self._alert_severity = str(alert.severity)
            return alert_state, str(alert.title or alert.key)
        return state, reason

    def gateway_state(self) -> tuple[str, str]:
        status = self.bridge.status
        if not status.connected:
            if status.state == "stopped":
                return "down", tr("The gateway has stopped.")
            if status.error:
                return "down", tr("Cannot reach the gateway at {address} ({error}). Retrying.").format(
                    address=_address(status.url), error=status.error)
            return "down", tr("Connecting to the gateway…")
        runs = self.bridge.active_runs
        if runs > 0:
            if runs == 1:
                return "working", tr("A reply is streaming.")
            return "working", tr("{count} replies are streaming.").format(count=runs)
        problems = self.monitor.problems()
        if problems:
            return "degraded", problems[0].text
        if status.kind == "remote":
            code, words = status_reason(status, self.bridge.last_switch)
            return "remote", remote_reason(str(status.endpoint_id or ""), code, words)
        return "ok", tr("The local gateway is running at {address}.").format(address=_address(status.url))

    def _update(self) -> None:
        state, reason = self.compute_state()
        self._apply_state(state, reason)

    def _apply_state(self, state: str, reason: str, *, force_tooltip: bool = False) -> None:
        if not state:
            return
        changed = (state, reason) != (self._state, self._reason)
        if state != self._state:
            self.tray.setIcon(tray_icon(state))
            self.gateway_menu.setIcon(tray_icon(state))
        self._state, self._reason = state, reason
        if changed or force_tooltip:
            if self._alert_severity == "critical":
                self.tray.setToolTip(tr("molt-desktop — Critical alert: {title}").format(title=reason))
            elif self._alert_severity:
                self.tray.setToolTip(tr("molt-desktop — Warning: {title}").format(title=reason))
            elif state == "remote":  # the reason already says it all ("Using the server gateway …")
                self.tray.setToolTip(tr("molt-desktop — {reason}").format(reason=reason))
            else:
                self.tray.setToolTip(tr("molt-desktop — {state}: {reason}").format(state=state_words(state),
                                                                                reason=reason))
        if changed:
            log.info("tray state %s: %s", state, reason)
            self.stateChanged.emit(state, reason)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            log.info("tray icon clicked")
            self.actions.toggleChat.emit()

    def _message_clicked(self) -> None:
        log.info("tray message clicked")
        self.actions.openHealth.emit()

    def _log_menu(self) -> None:
        entries = [a.text() for a in self._menu.actions() if not a.isSeparator()]
        log.debug("tray menu opened: %s", " | ".join(entries))

    def _log_geometry(self) -> None:
        """Where the icon landed (tests on a real display click it there)."""
        rect = self.tray.geometry()
        if rect.isEmpty() and self._geometry_tries < 25:
            self._geometry_tries += 1
            QTimer.singleShot(200, self._log_geometry)
            return
        log.info("tray icon geometry %d,%d %dx%d", rect.x(), rect.y(), rect.width(), rect.height())


def tray_icon(state: str) -> QIcon:
    return icon(f"tray-{state if state in STATES else 'down'}")


def _address(url: str | None) -> str:
    if not url:
        return tr("unknown")
    return url.split("://", 1)[-1].rstrip("/")


__all__ = ["STATES", "TrayIcon", "session_title", "state_words", "tray_icon"]
