"""The sync service, seen from Qt: its status as signals, "Sync now" with its questions, synced sessions.

`SyncBridge(service, state_dir, fork, parent)` subscribes to the SyncService (sync/service.py;
None when the app runs without one: then sync is simply unavailable) and re-emits its SyncStatus
as `statusChanged(status)`; `syncedChanged()` follows a run that received files, so the other
devices' sessions are read again. The app creates it with the GatewayBridge as its parent, so the
tray, the health view, the settings and the session list find it with `SyncBridge.of(bridge)`.

`run_now(say, parent)` is the one "Sync now" of the tray, Settings and Health: it runs
`sync_now()`, asks before a run that would archive most files on the server (and runs again with
the confirmation), and tells the outcome through `say(title, text, level)`. `fork(session)`
continues a synced session here through the app's services (Services.fork_synced), which announce
the new session to the gateway's clients.
Also here: the words for a status (state, last sync, last run), shared by those windows.

Not here: the service (sync/service.py), the synced files (sync/synced.py), the widgets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from molt_desktop.logs import get_logger
from molt_desktop.sync.synced import SyncedSession, list_synced, synced_history
from molt_desktop.ui.dialogs import show_dialog
from molt_desktop.ui.health_monitor import format_duration
from molt_desktop.ui.i18n import tr

log = get_logger("ui")

Say = Callable[[str, str, str], None]  # (title, text, level "info" | "warning" | "error")


class SyncBridge(QObject):
    statusChanged = Signal(object)  # SyncStatus
    syncedChanged = Signal()  # a run brought files: the synced sessions may have changed
    runningChanged = Signal(bool)  # a "Sync now" of this bridge started or ended

    def __init__(self, service: Any, state_dir: Path,
                 fork: Callable[[SyncedSession], Awaitable[str]] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncBridge")
        self.service = service
        self.state_dir = Path(state_dir)
        self._fork = fork
        self.running = False
        self._last_attempt: float | None = None
        self._unsubscribe: Callable[[], None] | None = None
        if service is not None:
            self._unsubscribe = service.subscribe(self._on_status)
            self._last_attempt = getattr(service.status, "last_attempt_at", None)

    @classmethod
    def of(cls, bridge: QObject | None) -> SyncBridge | None:
        if bridge is None:
            return None
        found = bridge.findChild(cls, "syncBridge")
        return found if isinstance(found, cls) else None

    # --- state --------------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """A sync service runs in this app (it may still be turned off in the settings)."""
        return self.service is not None

    def status(self) -> Any:
        return self.service.status if self.service is not None else None

    @property
    def enabled(self) -> bool:
        status = self.status()
        return bool(status is not None and status.enabled)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_status(self, status: Any) -> None:
        self.statusChanged.emit(status)
        attempt = getattr(status, "last_attempt_at", None)
        if attempt != self._last_attempt:
            self._last_attempt = attempt
            report = getattr(status, "last_report", None) or {}
            if report.get("filesReceived"):
                self.syncedChanged.emit()

    # --- Sync now -----------------------------------------------------------------------------

    async def run_now(self, say: Say, parent: QWidget | None = None) -> bool:
        """One push and one pull; True when it completed. Never raises (the outcome goes to `say`)."""
        if self.service is None or self.running:
            return False
        from molt_desktop.sync.engine import SyncLocked, SyncNeedsConfirmation

        title = tr("Sync")
        self._set_running(True)
        try:
            try:
                report = await self.service.sync_now()
            except SyncNeedsConfirmation as exc:
                if not await self.confirm_mass_archive(exc.archive_count, exc.remote_count, parent):
                    say(title, tr("Sync stopped: nothing was archived on the server."), "warning")
                    return False
                report = await self.service.sync_now(confirm_mass_delete=True)
        except SyncLocked as exc:
            say(title, tr("Another sync is running right now; try again in a moment.\n{detail}").format(detail=exc),
                "info")
            return False
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # SyncBackendError, SyncDisabled and the rest: their messages are for people
            log.info("sync now failed: %s", exc)
            say(title, tr("Sync failed: {error}").format(error=exc), "error")
            return False
        finally:
            self._set_running(False)
        say(title, report_words(report.as_json()), "warning" if report.errors else "info")
        if report.files_received:
            self.syncedChanged.emit()
        return True

    async def confirm_mass_archive(self, archive_count: int, remote_count: int, parent: QWidget | None) -> bool:
        """Ask before archiving most of this device's files on the server (tests replace this)."""
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Sync"),
                          tr("This sync would archive {count} of the {total} files of this computer on the "
                             "server.").format(count=archive_count, total=remote_count),
                          QMessageBox.StandardButton.Cancel, parent)
        box.setInformativeText(tr("That happens when many sessions were deleted here, or when this computer's "
                                  "sessions folder was replaced. Archived files are renamed on the server, not "
                                  "destroyed."))
        go = box.addButton(tr("Archive and sync"), QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        await show_dialog(box)
        return box.clickedButton() is go

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.runningChanged.emit(running)

    # --- synced sessions ----------------------------------------------------------------------

    async def synced(self) -> list[SyncedSession]:
        return await asyncio.to_thread(list_synced, self.state_dir)

    async def history(self, session: SyncedSession) -> list[dict[str, Any]]:
        return await asyncio.to_thread(synced_history, self.state_dir, session)

    async def fork(self, session: SyncedSession) -> str:
        if self._fork is None:
            raise RuntimeError(tr("Sessions cannot be continued here without the local session store."))
        return await self._fork(session)


# --- words ---------------------------------------------------------------------------------------


def format_bytes(count: int) -> str:
    if count < 1024:
        return tr("{n} B").format(n=count)
    if count < 1024 * 1024:
        return tr("{n} KB").format(n=f"{count / 1024:.1f}")
    return tr("{n} MB").format(n=f"{count / (1024 * 1024):.1f}")


def report_words(report: dict[str, Any] | None) -> str:
    if not report:
        return "—"
    text = tr("Sent {files} files ({size}), received {rfiles} files ({rsize}).").format(
        files=int(report.get("filesSent") or 0), size=format_bytes(int(report.get("bytesSent") or 0)),
        rfiles=int(report.get("filesReceived") or 0), rsize=format_bytes(int(report.get("bytesReceived") or 0)))
    errors = [str(e) for e in report.get("errors") or []]
    if errors:
        text += "\n" + tr("%n file(s) had problems:", None, len(errors)) + "\n" + "\n".join(errors[:5])
    return text


def state_words(state: str) -> str:
    return {
        "off": tr("Off"),
        "idle": tr("Up to date"),
        "running": tr("Syncing…"),
        "waiting": tr("Waiting to retry"),
        "needs_confirmation": tr("Waiting for your confirmation"),
        "error": tr("Failed"),
    }.get(state, state)


def age_words(at: float | None, now: float | None = None) -> str:
    """"never", else the time and how long ago."""
    from molt_desktop.ui.health_view import format_time

    if not at:
        return tr("never")
    age_ms = max(0, int(((now if now is not None else time.time()) - at) * 1000))
    return tr("{time} ({age} ago)").format(time=format_time(at), age=format_duration(age_ms))


def next_words(at: float | None, now: float | None = None) -> str:
    from molt_desktop.ui.health_view import format_time

    if not at:
        return "—"
    wait_ms = max(0, int((at - (now if now is not None else time.time())) * 1000))
    return tr("{time} (in {wait})").format(time=format_time(at), wait=format_duration(wait_ms))


def last_sync_line(status: Any) -> str:
    """One line for Settings and the tray: off, or when the last good sync was and what is wrong."""
    if status is None:
        return tr("Sync is not available in this app.")
    if not status.enabled:
        return tr("Sync is off.")
    line = tr("Last sync: {when}").format(when=age_words(status.last_good_at))
    if status.state == "needs_confirmation" and status.pending:
        line += " — " + tr("waiting for your confirmation to archive {count} files").format(count=status.pending[0])
    elif status.last_error and status.state in ("waiting", "error"):
        line += " — " + tr("last error: {error}").format(error=status.last_error)
    return line


__all__ = ["SyncBridge", "age_words", "format_bytes", "last_sync_line", "next_words", "report_words",
           "state_words"]
