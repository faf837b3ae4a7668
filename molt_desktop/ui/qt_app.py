"""The desktop app: Qt on a qasync loop, the services of app.py, the tray and the windows.

`run_desktop(state)` is what `molt-desktop` runs when there is a display:
1. one instance per state dir (a QLockFile; a second launch asks the first, over a
   QLocalSocket, to open its chat window, and exits 0);
2. the language from `ui.language`, then the services (config -> store -> agent -> gateway on
   `gateway.port` -> endpoint pool); a port taken by something else asks for another port;
3. the tray icon first (it is what "started" means to the user), then the chat window unless
   `ui.startMinimized`; without a system tray the chat window stays open and says why;
4. Quit stops everything in reverse (the gateway sends `shutdown` and closes 1012, the store
   is flushed) before the loop ends.
`DesktopApp` owns the windows and connects the `DesktopActions` requests to them. The windows
only talk to the gateway, through the bridge.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel, QSystemTrayIcon, QWidget  # noqa: E402

from molt_desktop.app import PortInUseError, Services, StartupError  # noqa: E402
from molt_desktop.config.load import ConfigError  # noqa: E402
from molt_desktop.config.manager import ConfigPatchError  # noqa: E402
from molt_desktop.logs import get_logger  # noqa: E402
from molt_desktop.ui.actions import DesktopActions  # noqa: E402
from molt_desktop.ui.bridge import GatewayBridge  # noqa: E402
from molt_desktop.ui.dialogs import ask_other_port, show_error  # noqa: E402
from molt_desktop.ui.i18n import UiLanguage, tr  # noqa: E402
from molt_desktop.ui.resources import icon  # noqa: E402
from molt_desktop.ui.single_instance import SingleInstance  # noqa: E402

log = get_logger("ui")

EXIT_OK, EXIT_FAIL = 0, 1


class DesktopApp(QObject):
    """The windows, the tray and their wiring; `run()` lasts until Quit."""

    def __init__(self, qapp: QApplication, state: Path, instance: SingleInstance | None = None) -> None:
        super().__init__()
        self.qapp = qapp
        self.state = state
        self.instance = instance
        self.actions = DesktopActions(self)
        self.language = UiLanguage()
        self.services: Services | None = None
        self.bridge: GatewayBridge | None = None
        self.tray: Any = None
        self.alerts: Any = None  # AlertsBridge: the monitor's alerts for the tray, Health and Settings
        self.sync: Any = None  # SyncBridge: the session sync for the tray, Health, Settings and the session list
        self.chat: Any = None
        self.settings: Any = None
        self.health: Any = None
        self.first_run: Any = None
        self.started_at = time.monotonic()
        self._quit = asyncio.Event()
        self._closing_for_real = False
        if instance is not None:  # `molt-desktop --quit` (the installer, before an upgrade)
            instance.quitRequested.connect(self.request_quit)

    @property
    def tray_available(self) -> bool:
        return self.tray is not None and QSystemTrayIcon.isSystemTrayAvailable()

    # --- lifetime --------------------------------------------------------------------------

    async def run(self) -> int:
        services = await self._start_services()
        if services is None:
            return EXIT_FAIL
        self.services = services
        assert services.pool is not None
        self.bridge = GatewayBridge(services.pool, self)
        self._build()
        log.info("desktop ready in %.2f s: gateway on 127.0.0.1:%d", time.monotonic() - self.started_at,
                 services.port)
        self._check_first_run()
        await self._quit.wait()
        await self._shutdown()
        return EXIT_OK

    def request_quit(self) -> None:
        self._quit.set()

    async def _start_services(self) -> Services | None:
        while True:
            try:
                services = Services(self.state, with_client=True)
            except ConfigError as exc:
                await show_error(tr("molt-desktop cannot start"),
                                 tr("The settings file has an error:\n\n{error}\n\nFix the file, then start "
                                    "molt-desktop again.").format(error=exc))
                return None
            self.language.apply(services.config.current.config.ui.language)
            try:
                await services.start()
                return services
            except PortInUseError as exc:
                await services.stop()
                port = await ask_other_port(str(exc), exc.port)
                if port is None or not self._save_port(services, port):
                    return None
            except (StartupError, ConfigError) as exc:
                await services.stop()
                await show_error(tr("molt-desktop cannot start"), str(exc))
                return None

    def _save_port(self, services: Services, port: int) -> bool:
        config = services.config
        try:
            config.patch(f'{{"gateway": {{"port": {int(port)}}}}}', config.get_payload().get("hash"),
                         note="port chosen at start-up")
        except ConfigPatchError as exc:
            log.error("cannot save the new gateway port: %s", exc)
            return False
        return True

    async def _shutdown(self) -> None:
        log.info("quitting")
        self._closing_for_real = True
        for window in (self.first_run, self.settings, self.health, self.chat):
            if window is not None:
                window.close()
        if self.tray is not None:
            self.tray.hide()
        if self.alerts is not None:
            self.alerts.close()
        if self.sync is not None:
            self.sync.close()
        if self.bridge is not None:
            await self.bridge.close()
        if self.services is not None:
            await self.services.stop()
        if self.instance is not None:
            self.instance.release()
        log.info("stopped")

    # --- building the UI -------------------------------------------------------------------

    def _build(self) -> None:
        from molt_desktop.ui.style import apply_style
        from molt_desktop.ui.tray import TrayIcon

        assert self.bridge is not None
        apply_style(self.qapp)
        self.qapp.setWindowIcon(icon("molt-desktop"))
        a = self.actions
        a.openChat.connect(self.open_chat)
        a.toggleChat.connect(self.toggle_chat)
        a.newChat.connect(self.new_chat)
        a.openSettings.connect(self.open_settings)
        a.openHealth.connect(self.open_health)
        a.setLanguage.connect(self.set_language)
        a.syncNow.connect(self.sync_now)
        a.quit.connect(self.request_quit)
        self.bridge.configChanged.connect(lambda _payload: self._config_changed())
        if self.instance is not None:
            self.instance.showRequested.connect(lambda: self.open_chat(""))
        monitor = self.services.monitor if self.services is not None else None
        if monitor is not None:
            from molt_desktop.ui.alerts_bridge import AlertsBridge

            self.alerts = AlertsBridge(monitor.manager, self.bridge)
            # Native notifications first; the tray's own message when the desktop has none.
            monitor.set_desktop_fallback(lambda t, b, s: self.tray is not None and bool(self.tray.notify(t, b, s)),
                                         on_click=self.actions.openHealth.emit)
        from molt_desktop.ui.sync_bridge import SyncBridge

        services = self.services
        self.sync = SyncBridge(getattr(services, "sync", None), self.state,
                               services.fork_synced if services is not None else None, self.bridge)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = TrayIcon(self.bridge, self.actions, self)
            self.tray.show()
            log.info("tray icon shown")
        else:
            log.warning("no system tray: the chat window stays open")
        cfg = self._ui_config()
        if self.tray is None or not cfg.startMinimized:
            self.open_chat("")

    def _ui_config(self) -> Any:
        assert self.services is not None
        return self.services.config.current.config.ui

    def _chat_window(self) -> Any:
        if self.chat is None:
            from molt_desktop.ui.chat_window import ChatWindow

            assert self.bridge is not None
            self.chat = ChatWindow(self.bridge, self.actions)
            self.chat.installEventFilter(self)
            if self.tray is None:
                notice = QLabel(tr("No system tray was found, so this window stays open: closing it quits "
                                   "molt-desktop."))
                notice.setObjectName("noTrayNotice")
                notice.setWordWrap(True)
                self.chat.statusBar().addPermanentWidget(notice, 1)
        return self.chat

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.chat and event.type() == QEvent.Type.Close and not self._closing_for_real:
            if self.tray_available and self._ui_config().closeToTray:
                event.ignore()
                self.chat.hide()
                log.info("chat window hidden (close to tray)")
                return True
            log.info("chat window closed: quitting")
            self.request_quit()
        return False

    # --- what the actions ask for ----------------------------------------------------------

    def open_chat(self, key: str = "") -> None:
        window = self._chat_window()
        if key:
            window.open_session(key)
        _raise(window)
        log.info("chat window shown")

    def toggle_chat(self) -> None:
        window = self._chat_window()
        if window.isVisible() and not window.isMinimized():
            window.hide()
            log.info("chat window hidden")
        else:
            self.open_chat("")

    def new_chat(self) -> None:
        window = self._chat_window()
        window.new_chat()
        _raise(window)

    def open_settings(self, page: str = "") -> None:
        if self.settings is None:
            from molt_desktop.ui.settings_dialog import SettingsDialog

            assert self.bridge is not None
            self.settings = SettingsDialog(self.bridge, self.actions, state_dir=self.state)
            self.settings.finished.connect(self._settings_closed)
        if page:
            self.settings.show_page(page)
        _raise(self.settings)

    def _settings_closed(self, _code: int) -> None:
        if self.settings is not None:
            self.settings.deleteLater()
            self.settings = None

    def open_health(self) -> None:
        if self.health is None:
            from molt_desktop.ui.health_view import HealthView

            assert self.bridge is not None
            self.health = HealthView(self.bridge, self.actions)
        _raise(self.health)

    def sync_now(self) -> None:
        """Tray, Health: one sync now; the outcome as a tray message (the log without a tray)."""
        if self.sync is None or self.bridge is None:
            return
        parent = self.settings or self.health or self.chat
        self.bridge.spawn(self.sync.run_now(self._sync_said, parent))

    def _sync_said(self, title: str, text: str, level: str) -> None:
        severity = {"error": "critical", "warning": "warning"}.get(level, "info")
        if self.tray is None or not self.tray.notify(title, text, severity):
            log.info("sync: %s", text)

    def set_language(self, lang: str) -> None:
        """Switch now, and remember it in `ui.language` (through the gateway, like any setting)."""
        applied = self.language.apply(lang)
        log.info("language %s (%s)", applied, lang)
        if self.services is not None and self._ui_config().language != lang and self.bridge is not None:
            self.bridge.spawn(self._save_language(lang),
                              on_error=lambda exc: log.warning("cannot save the language: %s", exc))

    async def _save_language(self, lang: str) -> None:
        assert self.bridge is not None
        current = await self.bridge.call("config.get")
        await self.bridge.call("config.patch", {"raw": f'{{"ui": {{"language": "{lang}"}}}}',
                                                "baseHash": current.get("hash")})

    def _config_changed(self) -> None:
        """A saved setting (any client, or a file edit): apply what the app itself uses."""
        lang = self._ui_config().language
        if self.language.current != self.language.apply(lang):
            log.info("language %s from the settings", self.language.current)

    def _check_first_run(self) -> None:
        from molt_desktop.ui.first_run import FirstRunDialog, needs_first_run

        assert self.bridge is not None
        bridge = self.bridge

        def decide(needed: bool) -> None:
            if needed and self.first_run is None:
                self.first_run = FirstRunDialog(bridge, self.chat if self.chat is not None else None)
                self.first_run.finished.connect(self._first_run_closed)
                self.first_run.open()
                log.info("first-run dialog shown")

        bridge.spawn(needs_first_run(bridge), on_result=decide,
                     on_error=lambda exc: log.warning("cannot check the providers: %s", exc))

    def _first_run_closed(self, _code: int) -> None:
        self.first_run = None


def _raise(window: QWidget) -> None:
    if window.isMinimized():
        window.showNormal()
    window.show()
    if QApplication.platformName() != "offscreen":  # nothing to raise there (and Qt warns)
        window.raise_()
        window.activateWindow()


def _create_qapp(argv: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QApplication.setApplicationName("molt-desktop")
    QApplication.setOrganizationName("molt-desktop")
    QApplication.setApplicationDisplayName("Molt Desktop")
    QApplication.setDesktopFileName("molt-desktop")
    app = QApplication(argv)
    app.setQuitOnLastWindowClosed(False)  # a tray app lives on with no window open
    return app


class GuiThreadCollector(QObject):
    """Python's cyclic garbage collector, run only on the GUI thread.

    Automatic collection runs in whatever thread allocates at that moment, which here includes
    the asyncio.to_thread workers; a Qt object in a reference cycle collected there is destroyed
    off its thread (Qt warns, and timers or sockets may crash). So automatic collection is off,
    and this timer collects the generations that are due, on the GUI thread.
    """

    def __init__(self, interval_ms: int = 500) -> None:
        super().__init__()
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()


def _route_signals(app: DesktopApp, loop: asyncio.AbstractEventLoop) -> QTimer:
    """SIGINT/SIGTERM quit cleanly; a timer lets Python run its signal handlers under Qt."""
    def handler(_signum: int, _frame: Any) -> None:
        loop.call_soon_threadsafe(app.request_quit)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    timer = QTimer()
    timer.start(250)
    timer.timeout.connect(lambda: None)
    return timer


def run_desktop(state: Path, argv: list[str] | None = None) -> int:
    import qasync

    qapp = _create_qapp(argv or sys.argv[:1])
    instance = SingleInstance(state)
    if not instance.acquire():
        if instance.forward():
            print(tr("molt-desktop is already running: its chat window is open now."), file=sys.stderr)
            return EXIT_OK
        print(tr("Another molt-desktop is running with this state folder ({path}) but does not answer. "
                 "Quit it (or end its process), then start again.").format(path=state), file=sys.stderr)
        return EXIT_FAIL
    instance.listen()
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    app = DesktopApp(qapp, state, instance)
    keep = _route_signals(app, loop)
    collector = GuiThreadCollector()
    try:
        with loop:
            return loop.run_until_complete(app.run())
    finally:
        collector.stop()
        keep.stop()
        instance.release()


__all__ = ["DesktopApp", "SingleInstance", "run_desktop"]  # SingleInstance: ui/single_instance.py
